"""创建张量的工厂函数：zeros / ones / full / arange / eye / rand / randn / randint ……

Floating factories default to float32; random ones use the library generator (``manual_seed``).
"""
import numpy as np

from . import backend
from .random import rng_of
from .tensor import Tensor, _constructor_args, tensor   # noqa: F401  (tg.tensor: dtype from the data)


def _shape(size, kw=None, op="factory"):
    """zeros(2, 3), zeros((2, 3)), zeros([2, 3]) and zeros(size=(2, 3)) are all the same."""
    if kw is not None:
        if size:
            raise TypeError(f"{op}: got the size both as positional arguments {size} and as size={kw}")
        size = (kw,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if hasattr(s, "__index__") and not isinstance(s, bool):
            out.append(int(s.__index__()))
        else:
            raise TypeError(f"{op}: size must be ints, got {type(s).__name__} {s!r}")
    if any(n < 0 for n in out):
        raise RuntimeError(f"{op}: trying to create a tensor with negative dimension: {tuple(out)}")
    return tuple(out)


def _new(arr, dtype, device, requires_grad, extra=None, op=None):
    if extra:
        raise TypeError(f"{op}() got an unexpected keyword argument {next(iter(extra))!r}")
    dtype = backend.normalize_dtype(dtype)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return Tensor(arr, dtype=dtype, device=device or "cpu", requires_grad=requires_grad)




def zeros(*size, dtype=None, device=None, requires_grad=False, **kw):
    return _new(np.zeros(_shape(size, kw.pop("size", None), "zeros"),
                         backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT),
                dtype, device, requires_grad, kw, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False, **kw):
    return _new(np.ones(_shape(size, kw.pop("size", None), "ones"),
                        backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT),
                dtype, device, requires_grad, kw, "ones")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    dt = backend.normalize_dtype(dtype)
    if dt is None:
        dt = np.dtype("int64") if isinstance(fill_value, (int, np.integer)) and not isinstance(fill_value, bool) \
            else np.dtype("bool") if isinstance(fill_value, bool) else backend.DEFAULT_FLOAT
    return _new(np.full(tuple(size), fill_value, dt), dt, device, requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    arr = np.arange(start, end, step)
    if dtype is None and arr.dtype.kind == "f":
        dtype = backend.DEFAULT_FLOAT
    return _new(arr, dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return _new(np.linspace(start, end, steps), dtype or backend.DEFAULT_FLOAT, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _new(np.eye(n, m), dtype or backend.DEFAULT_FLOAT, device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw):
    """均匀分布 U[0, 1)."""
    dt = backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT
    shape = _shape(size, kw.pop("size", None), "rand")
    return _new(rng_of(generator).random(shape, dtype=np.float64).astype(dt), dt, device, requires_grad,
                kw, "rand")


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw):
    """标准正态分布 N(0, 1)."""
    dt = backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT
    shape = _shape(size, kw.pop("size", None), "randn")
    return _new(rng_of(generator).standard_normal(shape).astype(dt), dt, device, requires_grad, kw, "randn")


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """[low, high) 上的均匀整数（默认 int64）：randint(10, (3,)) 或 randint(0, 10, (3,))。"""
    if size is None and isinstance(high, (tuple, list)):     # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    return _new(rng_of(generator).integers(low, high, size=_shape((size,), None, "randint")),
                dtype or "int64", device, requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False):
    return _new(rng_of(generator).permutation(n), dtype or "int64", device, requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    return rand(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    return randn(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


# ---------------------------------------------------------------------- 旧式构造函数 tg.FloatTensor(...)
class _LegacyTensorType(type):
    """``tg.FloatTensor`` 这一类"张量类型"（PyTorch 的旧写法）：

    * ``FloatTensor([1, 2])``：数据，转成这个类型的 dtype（``LongTensor([1.7])`` 截断成 1）；
    * ``FloatTensor(2, 3)`` / ``FloatTensor(tg.Size([2, 3]))``：这个形状的张量（PyTorch 不初始化，这里填 0）；
    * ``FloatTensor()``：形状 (0,) 的空张量；``FloatTensor(t)``：t 本身（dtype 必须相同）；
    * ``isinstance(x, tg.FloatTensor)``：x 是 CPU 上的 float32 张量时为 True。

    和 PyTorch 一样只接受关键字参数 ``device``（只能是 CPU）；dtype/requires_grad 请用 ``tg.tensor``。"""

    def __call__(cls, *args, device=None, **kwargs):
        if kwargs:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {next(iter(kwargs))!r}: the "
                            "legacy constructor takes only device=; use tg.tensor(data, dtype=..., "
                            "requires_grad=...) instead")
        if device is not None and backend.normalize_device(device) != "cpu":
            raise RuntimeError(f"{cls.__name__}: legacy constructor expects device type: cpu but device "
                               f"type: {backend.normalize_device(device).type} was passed")
        if len(args) == 1 and isinstance(args[0], Tensor):
            t = args[0]
            if t.dtype != cls.dtype or t.device != "cpu":
                raise TypeError(f"{cls.__name__}(tensor): expected a cpu tensor of dtype {cls.dtype}, got "
                                f"dtype {t.dtype} on {t.device} (convert it with .to({cls.dtype}))")
            return t                                   # PyTorch 返回共享内存的别名；这里就是它本身
        data, _ = _constructor_args(args, cls.dtype)
        return tensor(np.asarray(data, dtype=cls.dtype), dtype=cls.dtype)

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and obj.device == "cpu"

    def __repr__(cls):
        return f"<class 'tinygrad_zh.{cls.__name__}'>"


def _legacy(name, dtype):
    return _LegacyTensorType(name, (), {"dtype": np.dtype(dtype), "is_cuda": False, "__module__": __name__,
                                        "__doc__": f"Legacy constructor: a {dtype} tensor (PyTorch's torch.{name})."})


FloatTensor = _legacy("FloatTensor", "float32")
DoubleTensor = _legacy("DoubleTensor", "float64")
HalfTensor = _legacy("HalfTensor", "float16")
LongTensor = _legacy("LongTensor", "int64")
IntTensor = _legacy("IntTensor", "int32")
ShortTensor = _legacy("ShortTensor", "int16")
CharTensor = _legacy("CharTensor", "int8")
ByteTensor = _legacy("ByteTensor", "uint8")
BoolTensor = _legacy("BoolTensor", "bool")

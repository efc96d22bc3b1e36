"""Tensor：数据 (NumPy/CuPy 数组) + 梯度 + 指向产生它的运算节点 (grad_fn)。

在链式法则里，Tensor 是计算图的"边"：``_ctx`` 指向产生它的节点（叶子张量为 None），``backward`` 顺着
这些指针往回走，把梯度累加到叶子的 ``.grad``。本文件只做记账和运算符的转发（``x + y`` 变成
``Add.apply(x, y)``）；每个运算的数学在 ``ops/``，链式法则本身在 ``autograd.py``。

English: everything here is bookkeeping and operator sugar; the maths of every op lives in ``ops/`` and the
chain rule in ``autograd.py``.
"""
import numbers

import numpy as np

from . import autograd, backend, inplace, printing
from . import return_types
from .size import Size, as_size
from .autograd import Function
from .backend import normalize_device, normalize_dtype
from .random import rng_of
from .ops import elementwise as E, reduce as R, shape as S, index as I, matmul as M, softmax as SM
from .errors import TensorError


def _convert(data, dtype, device):
    """Python/NumPy/CuPy 数据 -> ``device`` 上的数组，按 tinygrad_zh 的 dtype 规则（浮点默认 float32）。"""
    if isinstance(data, Tensor):
        data = data.array
    if not isinstance(getattr(data, "dtype", None), np.dtype):   # 不是 NumPy/CuPy 数组或标量：
        data = np.asarray(data)                       # Python 数字或嵌套 list，只转换一次
    if data.dtype.kind not in "biuf":                 # 字符串、bytes、对象、复数、日期：在这里拒绝
        what = {"U": "str", "S": "bytes", "O": "Python object", "c": "complex"}.get(data.dtype.kind, "non-numeric")
        vals = data.reshape(-1).tolist()
        bad = next((v for v in vals if not isinstance(v, (bool, int, float))), vals[0]) if vals else None
        first = f", e.g. {bad!r}" if vals else ""
        raise TypeError(f"Tensor: cannot make a tensor from {what} data (NumPy dtype {data.dtype}{first}): "
                        f"expected numbers (bool, int, float), nested lists of them or a numeric array")
    src = backend.device_of(data)
    xp = backend.get_xp(device)
    if src != device:
        data = backend.to_device(data, device)
    if dtype is None:
        arr = xp.asarray(data)
        if arr.dtype.kind == "f" and arr.dtype != backend.DEFAULT_FLOAT:
            arr = arr.astype(backend.DEFAULT_FLOAT)   # 浮点默认 float32
        return arr
    return xp.asarray(data, dtype=dtype)


def _constructor_args(args, dtype):
    """``Tensor(*args)`` 的位置参数 -> (data, dtype)：Python 整数（或一个 ``tg.Size``）是形状，Python 的
    list/tuple 是总取浮点类型的数据，其他（数组、NumPy 标量、Tensor、float、bool）是数据、保持它的 dtype。"""
    if len(args) == 1:
        a = args[0]
        if isinstance(a, (list, tuple)) and not isinstance(a, Size):
            return a, (backend.DEFAULT_FLOAT if dtype is None else dtype)
        if type(a) is not int and not isinstance(a, Size):     # bool、NumPy 整数是数据，不是形状
            return a, dtype
        sizes = tuple(a) if isinstance(a, Size) else (a,)
    elif not args:
        sizes = (0,)
    else:
        bad = next((a for a in args if type(a) is not int), None)
        if bad is not None:
            raise TypeError(f"Tensor(): got {len(args)} positional arguments, so they are sizes and must be "
                            f"Python ints, but one is {type(bad).__name__} {bad!r} (to make a tensor from "
                            f"data pass one list, Tensor([1, 2]), or use tg.tensor(data))")
        sizes = args
    if any(n < 0 for n in sizes):
        raise RuntimeError(f"Tensor(): trying to create a tensor with negative dimension: {list(sizes)}")
    dt = normalize_dtype(dtype) or backend.DEFAULT_FLOAT
    return np.zeros(sizes, dt), dt           # PyTorch 不初始化这块内存；我们填 0


def tensor(data, dtype=None, device=None, requires_grad=False):
    """``tg.tensor(data)``（PyTorch 的 ``torch.tensor``）：按数据推断 dtype（Python 整数 -> int64，浮点 ->
    float32，bool -> bool；``tensor(3)`` 是 0 维张量）。库内部从 Python 数据建张量也用它，因为
    ``Tensor(3)`` 是形状、``Tensor([1, 2])`` 总是 float32（PyTorch 的规则）。"""
    t = object.__new__(Tensor)
    t._init(data, dtype, device, requires_grad)
    return t


def _norm_axes(dim, ndim):
    """dim 可以是 None、整数或元组（允许负数）-> 排好序的非负轴元组。"""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dimensions")
        out.append(d % ndim if ndim else 0)
    if ndim == 0:
        return ()
    return tuple(sorted(set(out)))


def _alias(op, dim, axis, keepdim=False, keepdims=None):
    """PyTorch 的 ``dim``/``keepdim`` 与 NumPy 的 ``axis``/``keepdims`` 两种写法都接受。"""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}: got both dim={dim!r} and axis={axis!r}; pass one of them")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, bool(keepdim)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def promote_types(a, b):
    """PyTorch 的类型提升（两个张量）：类别高的（bool < 整数 < 浮点）决定结果；同一类别时，
    有维度的张量优先于 0 维张量，最后才按 NumPy 取更宽的类型。float32 张量 ** int64 张量 -> float32。"""
    ca, cb = _CATEGORY.get(a.dtype.kind, 3), _CATEGORY.get(b.dtype.kind, 3)
    if ca != cb:
        return a.dtype if ca > cb else b.dtype
    if (a.ndim == 0) != (b.ndim == 0):
        return b.dtype if a.ndim == 0 else a.dtype
    return np.result_type(a.dtype, b.dtype)


def _dim1(dim, ndim, op):
    if not -max(ndim, 1) <= dim < max(ndim, 1):     # 0 维张量也接受 dim 0 和 -1（与 PyTorch 相同）
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimensions")
    return dim % max(ndim, 1)


class Tensor:
    """n 维数组 + 自动求导。``Tensor(data)`` 或 ``Tensor(2, 3)``（PyTorch 的规则，见 ``__init__``）；
    按数据推断 dtype 用 ``tg.tensor(data, dtype=None, device=None, requires_grad=False)``."""
    __slots__ = ("array", "grad", "_requires_grad", "_ctx", "_out_idx", "_retains_grad", "device",
                 "_version", "_view_of", "_consumers", "__weakref__")
    __array_priority__ = 1000    # 让 ndarray + Tensor 调用 Tensor.__radd__，而不是由 NumPy 处理

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        """PyTorch 的 ``torch.Tensor(...)`` 构造方式：

        * ``Tensor([1, 2])``：Python 的 list/tuple 数据总是默认的浮点类型 float32（整数列表也是）；
        * ``Tensor(2, 3)``、``Tensor(tg.Size([2, 3]))``：这个形状的 float32 张量（PyTorch 不初始化，这里填 0）；
        * ``Tensor()``：形状 (0,) 的空 float32 张量；
        * NumPy/CuPy 数组、NumPy 标量、Tensor、Python float/bool：保持数据的 dtype（浮点默认 float32）。

        要按数据推断 dtype（``[1, 2]`` -> int64，``3`` -> 0 维张量），用 ``tg.tensor(data)``。
        ``dtype=``/``requires_grad=`` 是我们的扩展（PyTorch 的 ``Tensor(...)`` 不接受它们）。"""
        data, dtype = _constructor_args(args, dtype)
        self._init(data, dtype, device, requires_grad)

    def _init(self, data, dtype, device, requires_grad):
        """按数据建张量（``tg.tensor`` 的规则）；``Tensor(...)`` 先用 ``_constructor_args`` 解释位置参数。"""
        if device is None:
            device = data.device if isinstance(data, Tensor) else \
                backend.device_of(data) if hasattr(data, "dtype") else "cpu"
        device = normalize_device(device)
        self.array = _convert(data, normalize_dtype(dtype), device)
        self.device = device
        self.grad = None
        self._ctx, self._out_idx, self._retains_grad = None, 0, False
        self._version, self._view_of, self._consumers = [0], None, None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, arr, device, ctx, idx):
        """运算内部用的快速构造函数（不做任何转换）。Fast constructor used by ops."""
        if isinstance(arr, np.generic):   # NumPy 的 0 维结果是标量：转回 ndarray
            arr = np.asarray(arr)
        t = object.__new__(Tensor)
        t.array, t.device, t.grad = arr, device, None
        t._ctx, t._out_idx, t._retains_grad = ctx, idx, False
        t._version, t._view_of, t._consumers = [0], None, None
        t._requires_grad = ctx is not None
        return t

    # ------------------------------------------------------------------ .data 与底层数组
    # ``t.array`` 是底层的 NumPy/CuPy 数组；``t.data`` 和 PyTorch 一样是一个共享这块内存、但不在计算图里
    # 的 Tensor（对它的原地修改不会被版本号记录，也不会被求导）。
    @property
    def data(self):
        """与本张量共享内存、但不在计算图里的 Tensor（即 PyTorch 的 ``.data``）。"""
        return Tensor._make(self.array, self.device, None, 0)

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            if value.device != self.device:
                raise RuntimeError(f".data = ...: the new value is on {value.device} but the tensor "
                                   f"is on {self.device}")
            value = value.array
        elif not hasattr(value, "dtype"):
            raise TypeError(f".data = ...: expected a Tensor, got {type(value).__name__}")
        if self.requires_grad and value.dtype.kind != "f":
            raise RuntimeError(f".data = ...: a tensor that requires grad must stay floating point, "
                               f"got dtype {value.dtype}")
        self.array = value

    # ------------------------------------------------------------------ 属性
    @property
    def shape(self):
        """``tg.Size``：整数元组，打印成 ``torch.Size([2, 3])``（与 PyTorch 相同）。"""
        return as_size(self.array.shape)

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def size_(self):
        return self.array.size

    def size(self, dim=None):
        """size() -> ``tg.Size``（显示为 ``torch.Size([2, 3])``，与 PyTorch 相同）；size(dim) -> 那一维的大小。"""
        return as_size(self.array.shape) if dim is None else self.shape[dim]

    def numel(self):
        return int(self.array.size)

    nelement = numel

    def dim(self):
        return self.array.ndim

    def element_size(self):
        return self.array.itemsize

    @property
    def is_cuda(self):
        return self.device == "cuda"

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

    def get_device(self):
        """GPU 的编号（这里只有 0 号 GPU）；CPU 张量返回 -1（与 PyTorch 相同）。"""
        return -1 if self.device == "cpu" else 0

    @property
    def itemsize(self):
        return self.array.itemsize

    @property
    def nbytes(self):
        return self.array.nbytes

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def _xp(self):
        return backend.get_xp(self.device)

    @property
    def T(self):
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):
        """最后两维转置（一批矩阵各自转置）。"""
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                               f"{self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def requires_grad(self):
        """是否需要梯度。只有浮点张量可以设为 True；非叶子张量不能设为 False（用 detach()）。"""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, flag=True):
        if flag and self.array.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, got dtype {self.dtype}")
        if self._ctx is not None and not flag:
            raise RuntimeError("requires_grad_(False) only works on leaf tensors; use detach()")
        self._requires_grad = bool(flag)
        return self

    def retain_grad(self):
        """让非叶子张量也保留 ``.grad``（与 PyTorch 相同）。"""
        self._retains_grad = True
        return self

    # ------------------------------------------------------------------ 转换
    def numpy(self):
        """NumPy 数组（在 CPU 上共享同一块内存；在 GPU 上是拷贝）。与 PyTorch 不同，需要梯度的张量
        不必先 ``detach()``：只是读取数值，不会改变计算图。"""
        return self.array if self.device == "cpu" else backend.to_host(self.array)

    def __array__(self, dtype=None, copy=None):
        if self.device != "cpu":
            raise TypeError("can't convert a cuda tensor to NumPy implicitly: call .cpu() or .numpy() first")
        return self.array if dtype is None else self.array.astype(dtype)

    def item(self):
        if self.array.size != 1:
            raise TensorError(f"item(): only one element tensors can be converted to Python scalars, "
                             f"got shape {self.shape}")
        return backend.to_host(self.array).reshape(()).item()    # 只传输一次（顺带执行推迟的检查）

    def tolist(self):
        return self.numpy().tolist()

    def detach(self):
        """同一份数据，但从计算图上断开（不再有 grad_fn，不需要梯度）。"""
        t = Tensor._make(self.array, self.device, None, 0)
        t._version, t._view_of = self._version, self if self._view_of is None else self._view_of    # 同一块内存，共用版本号
        return t

    def detach_(self):
        """原地断开：self 变成不需要梯度的叶子。"""
        if self._view_of is not None and self._ctx is not None:
            raise RuntimeError("detach_(): can't detach a view in place; use detach()")
        self._ctx, self._out_idx, self.requires_grad = None, 0, False
        return self

    def clone(self):
        return E.Add.apply(self, Tensor._make(self._xp.zeros((), self.dtype), self.device, None, 0)) \
            if self.requires_grad else Tensor._make(self.array.copy(), self.device, None, 0)

    def to(self, *args, **kwargs):
        """换设备或 dtype：to(device)、to(dtype) 或 to(device, dtype)。"""
        device, dtype = backend.parse_to_args(args, kwargs)
        out = self
        if dtype is not None:
            dt = normalize_dtype(dtype)
            if dt != out.dtype:
                # 整数/布尔结果不可导（与 PyTorch 相同）：不记录，requires_grad 为 False
                out = E.Cast.apply(out, dtype=dt) if out.requires_grad and dt.kind == "f" else \
                    Tensor._make(out.array.astype(dt), out.device, None, 0)
        if device is not None:
            device = normalize_device(device)
            if device != out.device:
                if out.requires_grad:      # 换设备也在计算图里：梯度会拷回原来的设备（叶子张量的 grad 也在那里）
                    out = E.ToDevice.apply(out, device=device)
                    out.device = device
                else:
                    out = Tensor._make(backend.to_device(out.array, device), device, None, 0)
        if out is self and kwargs.get("copy"):           # to(..., copy=True)：总是返回新的一块内存
            out = self.clone()
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        """搬到 GPU：``cuda()``、``cuda(0)``、``cuda("cuda:0")``、``cuda(device=0)``（只有一块 GPU：序号 0）。"""
        if device is not None and backend.Device(device).type != "cuda":
            raise TensorError(f"cuda(): expected a CUDA device, got {device!r}")
        return self.to("cuda" if device is None else device)

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def long(self):
        return self.to(backend.int64)

    def int(self):
        return self.to(backend.int32)

    def bool(self):
        return self.to(backend.bool_)

    def type(self, dtype=None):
        """type() -> 类型名（如 'torch.FloatTensor'）；type(dtype)、type(tg.FloatTensor)、
        type('torch.FloatTensor') -> 转换（写成 'torch.cuda.FloatTensor' 时同时搬到 GPU）。"""
        names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}
        if dtype is None:
            return ("torch.cuda." if self.device == "cuda" else "torch.") + names.get(str(self.dtype),
                                                                                   str(self.dtype))
        if isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), np.dtype):
            return self.to(dtype.dtype)                # tg.FloatTensor 等旧式类型
        if isinstance(dtype, str) and dtype.startswith("torch."):
            kind, _, name = dtype[len("torch."):].rpartition(".")
            dt = next((k for k, v in names.items() if v == name), None)
            if dt is None or kind not in ("", "cuda"):
                raise TensorError(f"type(): invalid type {dtype!r} (expected e.g. 'torch.FloatTensor')")
            return self.to("cuda" if kind else "cpu", dt)
        return self.to(dtype)

    def half(self):
        return self.to(backend.float16)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return Tensor(self._xp.zeros(size, normalize_dtype(dtype) or self.dtype), device=device or self.device,
                      requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return Tensor(self._xp.ones(size, normalize_dtype(dtype) or self.dtype), device=device or self.device,
                      requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return Tensor(self._xp.full(tuple(size), fill_value, normalize_dtype(dtype) or self.dtype),
                      device=device or self.device, requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter 里显示张量：数值、梯度和计算图（见 viz.py）。"""
        from . import viz
        return viz.tensor_mimebundle(self, include, exclude)

    def __format__(self, spec):
        """f"{t:.4f}"：0 维张量按 Python 数字格式化（与 PyTorch 相同）；其他张量只接受空格式。"""
        if self.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string {spec!r} for a tensor of shape {self.shape}: "
                            "only 0-d tensors take a number format (use t.item() or t.tolist())")
        return repr(self)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        """与 PyTorch 相同的显示方式（见 printing.py；tg.set_printoptions 可以改）。"""
        return printing.tensor_repr(self.numpy(), self.dtype, self.device,
                                    None if self._ctx is None else type(self._ctx).__name__,
                                    self.requires_grad)

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.array.size} elements is ambiguous")
        return bool(self.array)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.kind not in "iu":
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    # ------------------------------------------------------------------ 自动求导
    def backward(self, gradient=None, retain_graph=False):
        """反向传播：计算 self 对所有叶子张量的梯度并累加到它们的 ``.grad``。"""
        autograd.backward(self, gradient, retain_graph)

    # ------------------------------------------------------------------ 原地运算（规则见 inplace.py）
    def add_(self, other, *, alpha=1):
        if alpha != 1:
            other = other * alpha
        return inplace.binary(self, "add_", other, lambda x: x + other)

    def sub_(self, other, *, alpha=1):
        if alpha != 1:
            other = other * alpha
        return inplace.binary(self, "sub_", other, lambda x: x - other)

    def mul_(self, other):
        return inplace.binary(self, "mul_", other, lambda x: x * other)

    def div_(self, other):
        if self.dtype.kind != "f":
            raise RuntimeError(f"div_: result type float32 can't be cast to the desired output type "
                               f"{self.dtype}")
        return inplace.binary(self, "div_", other, lambda x: x / other)

    def floor_divide_(self, o): return inplace.update(self, "floor_divide_", lambda x: x // o, (o,))
    def remainder_(self, o): return inplace.update(self, "remainder_", lambda x: x % o, (o,))
    def fmod_(self, o): return inplace.update(self, "fmod_", lambda x: x.fmod(o), (o,))
    def __ifloordiv__(self, o): return self.floor_divide_(o)
    def __imod__(self, o): return self.remainder_(o)

    def __iadd__(self, o): return self.add_(o)
    def __isub__(self, o): return self.sub_(o)
    def __imul__(self, o): return self.mul_(o)
    def __itruediv__(self, o): return self.div_(o)
    def __ipow__(self, o): return self.pow_(o)

    def pow_(self, p): return inplace.update(self, "pow_", lambda x: x ** p, (p,))
    def neg_(self): return inplace.update(self, "neg_", lambda x: -x)
    def exp_(self): return inplace.update(self, "exp_", lambda x: x.exp())
    def log_(self): return inplace.update(self, "log_", lambda x: x.log())
    def sqrt_(self): return inplace.update(self, "sqrt_", lambda x: x.sqrt())
    def abs_(self): return inplace.update(self, "abs_", lambda x: x.abs())
    def sin_(self): return inplace.update(self, "sin_", lambda x: x.sin())
    def cos_(self): return inplace.update(self, "cos_", lambda x: x.cos())
    def tanh_(self): return inplace.update(self, "tanh_", lambda x: x.tanh())
    def sigmoid_(self): return inplace.update(self, "sigmoid_", lambda x: x.sigmoid())
    def relu_(self): return inplace.update(self, "relu_", lambda x: x.relu())

    def clamp_(self, min=None, max=None):
        return inplace.update(self, "clamp_", lambda x: x.clamp(min, max))

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        return inplace.update(self, "masked_fill_", lambda x: x.masked_fill(mask, value), (value,))

    def zero_(self):
        return inplace.fill(self, "zero_", 0)

    def fill_(self, value):
        return inplace.fill(self, "fill_", value)

    def _random_fill(self, name, draw):
        if self.dtype.kind != "f":
            raise RuntimeError(f"{name}: expected a floating point tensor, got dtype {self.dtype}")
        arr = draw(self.shape).astype(self.dtype)
        return inplace.fill(self, name, backend.to_device(arr, self.device))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """原地填入 N(mean, std²) 的随机数。"""
        return self._random_fill("normal_", lambda s: rng_of(generator).normal(mean, std, s))

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """原地填入 U[a, b) 的随机数。"""
        return self._random_fill("uniform_", lambda s: rng_of(generator).uniform(a, b, s))

    def bernoulli_(self, p=0.5, *, generator=None):
        return self._random_fill("bernoulli_", lambda s: (rng_of(generator).random(s) < p))

    def copy_(self, src, non_blocking=False):
        """把 src 的值拷进 self（广播、换 dtype、换设备都可以），self 还是原来那块内存。"""
        if not isinstance(src, Tensor):
            src = tensor(src, device=self.device)
        if inplace._must_record(self, "copy_", (src,)):
            return inplace.update(self, "copy_", lambda x: x * 0 + src.to(self.device, self.dtype), (src,))
        arr = backend.to_device(src.array, self.device)
        try:
            out = self._xp.broadcast_to(arr, self.shape)
        except ValueError:
            raise RuntimeError(f"copy_: the source of shape {src.shape} can't be broadcast to the "
                               f"destination's shape {self.shape}") from None
        return inplace.fill(self, "copy_", out.astype(self.dtype, copy=False))

    # ------------------------------------------------------------------ 辅助函数
    def _lift(self, other):
        """Python 标量 / 数组 -> Tensor（标量取 self 的 dtype，避免 float64 悄悄混进来）。"""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (bool, numbers.Number)):
            if self.dtype.kind == "f":
                dt = self.dtype
            elif isinstance(other, bool):
                dt = self.dtype
            elif isinstance(other, numbers.Integral):
                dt = self.dtype if self.dtype.kind in "iu" else np.dtype("int64")
            else:
                dt = backend.DEFAULT_FLOAT
            return Tensor._make(backend.scalar_array(other, dt, self.device), self.device, None, 0)
        return tensor(other, device=self.device)

    def _binary(self, op, other, reverse=False, **kwargs):
        if (type(other) is float or type(other) is int) and self.array.dtype.kind == "f":
            # 最常见的情况（x * 0.5、x + 1）走捷径：标量直接取张量的 dtype
            other = Tensor._make(backend.scalar_array(other, self.array.dtype, self.device), self.device, None, 0)
            return op.apply(other, self, **kwargs) if reverse else op.apply(self, other, **kwargs)
        scalar = isinstance(other, numbers.Number)
        other = self._lift(other)
        a, b = (other, self) if reverse else (self, other)
        if a.dtype != b.dtype:
            # Python 标量只决定类别（整数张量 * 0.5 -> float32，而不是 float64）
            dt = other.dtype if scalar else promote_types(a, b)
            if dt.kind != "f" and op in (E.Div,):
                dt = backend.DEFAULT_FLOAT
            a, b = a.to(dt), b.to(dt)
        elif op is E.Div and a.dtype.kind != "f":
            a, b = a.to(backend.DEFAULT_FLOAT), b.to(backend.DEFAULT_FLOAT)
        return op.apply(a, b, **kwargs)

    # ------------------------------------------------------------------ 算术运算
    def __add__(self, o): return self._binary(E.Add, o)
    def __radd__(self, o): return self._binary(E.Add, o, True)
    def __sub__(self, o): return self._binary(E.Sub, o)
    def __rsub__(self, o): return self._binary(E.Sub, o, True)
    def __mul__(self, o): return self._binary(E.Mul, o)
    def __rmul__(self, o): return self._binary(E.Mul, o, True)
    def __truediv__(self, o): return self._binary(E.Div, o)
    def __rtruediv__(self, o): return self._binary(E.Div, o, True)
    def __neg__(self): return E.Neg.apply(self)
    def __matmul__(self, o): return self.matmul(o)
    def __rmatmul__(self, o): return self._lift(o).matmul(self)

    def __pow__(self, p):
        if isinstance(p, numbers.Number) and not isinstance(p, bool):
            x = self if self.dtype.kind == "f" or isinstance(p, numbers.Integral) else self.to(backend.DEFAULT_FLOAT)
            return E.PowScalar.apply(x, p=p)
        return self._binary(E.Pow, p)

    def __rpow__(self, base):
        return self._binary(E.Pow, base, True)

    # 取整除法与取余（与 PyTorch 相同：整数 // 整数还是整数；整数除以 0 报错；浮点数除以 0 得到 inf / nan）
    def __floordiv__(self, o): return self._binary(E.FloorDivide, o)
    def __rfloordiv__(self, o): return self._binary(E.FloorDivide, o, True)
    def __mod__(self, o): return self._binary(E.Remainder, o)
    def __rmod__(self, o): return self._binary(E.Remainder, o, True)

    def floor_divide(self, other):
        """⌊a/b⌋（向下取整），同 ``a // b``。和 PyTorch 一样没有导数：反向传播经过它会报错。"""
        return self._binary(E.FloorDivide, other)

    def remainder(self, other):
        """Python 的取余 a - b·⌊a/b⌋，符号跟除数相同：-7 % 3 = 2。"""
        return self._binary(E.Remainder, other)

    def fmod(self, other):
        """C 语言的取余 a - b·trunc(a/b)，符号跟被除数相同：fmod(-7, 3) = -1。"""
        return self._binary(E.Fmod, other)

    def div(self, other, *, rounding_mode=None):
        """a / b；``rounding_mode="trunc"`` 向 0 取整，``"floor"`` 向下取整（结果 dtype 同输入，梯度为 0）。"""
        if rounding_mode is None:
            return self._binary(E.Div, other)
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"{rounding_mode!r}")
        return self._binary(E.DivRounding, other, mode=rounding_mode)

    divide = div

    def true_divide(self, other):
        return self._binary(E.Div, other)

    add = __add__
    sub = __sub__
    mul = __mul__
    pow = __pow__

    def neg(self):
        return E.Neg.apply(self)

    def matmul(self, other):
        other = self._lift(other)
        a, b = self, other
        if a.dtype != b.dtype:
            raise RuntimeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} and "
                               f"{b.dtype} (convert one with .float() / .double() / .to(dtype))")
        return M.MatMul.apply(a, b)

    # 比较运算：结果是不需要梯度的 bool 张量
    def _cmp(self, o, f):
        o = self._lift(o)
        return Tensor._make(f(self.array, o.array), self.device, None, 0)

    def __eq__(self, o): return self._cmp(o, lambda a, b: a == b)
    def __ne__(self, o): return self._cmp(o, lambda a, b: a != b)
    def __lt__(self, o): return self._cmp(o, lambda a, b: a < b)
    def __le__(self, o): return self._cmp(o, lambda a, b: a <= b)
    def __gt__(self, o): return self._cmp(o, lambda a, b: a > b)
    def __ge__(self, o): return self._cmp(o, lambda a, b: a >= b)
    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def __invert__(self):
        return Tensor._make(~self.array, self.device, None, 0)

    def __and__(self, o):
        return self._cmp(o, lambda a, b: a & b)

    def __or__(self, o):
        return self._cmp(o, lambda a, b: a | b)

    # ------------------------------------------------------------------ 逐元素运算
    def exp(self): return E.Exp.apply(self._floating("exp"))
    def sin(self): return E.Sin.apply(self._floating("sin"))
    def cos(self): return E.Cos.apply(self._floating("cos"))
    def square(self): return self * self
    def rsqrt(self): return self.sqrt().reciprocal()
    def reciprocal(self): return 1.0 / self

    def _floating(self, op):
        """整数 / 布尔输入先变成默认浮点类型（与 PyTorch 相同：torch.exp(int 张量) 是 float32）。"""
        return self if self.dtype.kind == "f" else self.to(backend.DEFAULT_FLOAT)
    def log(self): return E.Log.apply(self._floating("log"))
    def sqrt(self): return E.Sqrt.apply(self._floating("sqrt"))
    def abs(self): return E.Abs.apply(self)
    def tanh(self): return E.Tanh.apply(self._floating("tanh"))
    def sigmoid(self): return E.Sigmoid.apply(self._floating("sigmoid"))
    def relu(self): return E.ReLU.apply(self)
    def gelu(self): return E.GELU.apply(self)

    def leaky_relu(self, negative_slope=0.01):
        return E.LeakyReLU.apply(self, slope=negative_slope)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise TensorError("clamp: at least one of min and max must be given")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            # 张量边界（逐元素）：写成 where。越界的位置取边界、梯度给边界，其余位置梯度给 x（与 PyTorch 相同）
            out = self
            if min is not None:
                out = where(out < min, min, out)
            if max is not None:
                out = where(out > max, max, out)
            return out
        x = self
        if x.dtype.kind != "f" and any(isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral)
                                       for v in (min, max)):
            x = x.to(backend.DEFAULT_FLOAT)         # 整数张量、浮点边界：结果是浮点数（与 PyTorch 相同）
        return E.Clamp.apply(x, lo=min, hi=max)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def log1p(self): return E.Log1p.apply(self._floating("log1p"))
    def expm1(self): return E.Expm1.apply(self._floating("expm1"))

    def maximum(self, other): return self._binary(E.Maximum, other)
    def minimum(self, other): return self._binary(E.Minimum, other)

    def where(self, condition, other):
        """PyTorch 的方法写法：``x.where(cond, y)`` 等于 ``where(cond, x, y)``。"""
        return where(condition, self, other)

    # ------------------------------------------------------------------ 归约
    def sum(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("sum", dim, axis, keepdim, keepdims)
        x = self if dtype is None else self.to(dtype)
        dt = x.array.dtype
        if dt.kind != "f" and dt.kind in "biu" and dt != backend.int64 and dtype is None:
            x = x.to(backend.int64)                 # 与 PyTorch 相同：bool/整数张量的和是 int64
        return R.Sum.apply(x, axes=_norm_axes(dim, x.ndim), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("mean", dim, axis, keepdim, keepdims)
        x = self if dtype is None else self.to(dtype)
        if x.dtype.kind != "f":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                               f"floating point or complex dtype. Got: {x.dtype}")
        return R.Mean.apply(x, axes=_norm_axes(dim, x.ndim), keepdim=keepdim)

    def _maxmin(self, dim, keepdim, mode):
        if dim is None:
            if self.array.size == 0:
                raise RuntimeError(f"{mode}(): cannot reduce an empty tensor")
            return R.Max.apply(self, axes=_norm_axes(None, self.ndim), keepdim=False, mode=mode)
        if isinstance(dim, Tensor):
            return self._binary(E.Maximum if mode == "max" else E.Minimum, dim)
        d = _dim1(dim, self.ndim, mode)
        if self.ndim == 0:                          # 只有一个元素：最值就是它自己，下标为 0
            values, indices = self.reshape(1)._maxmin(0, False, mode)
            return getattr(return_types, mode)(values.reshape(()), indices.reshape(()))
        values = R.MaxIndex.apply(self, dim=d, keepdim=keepdim, mode=mode)
        indices = R.ArgMax.apply(self, dim=d, keepdim=keepdim, mode=mode)
        return getattr(return_types, mode)(values, indices)     # 具名元组：r.values、r.indices，也能拆开

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """max() -> 全局最大值；max(dim) -> (values, indices)；max(other) -> 逐元素最大，与 PyTorch 相同。"""
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("max", dim, axis, keepdim, keepdims)
        return self._maxmin(dim, keepdim, "max")

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("min", dim, axis, keepdim, keepdims)
        return self._maxmin(dim, keepdim, "min")

    def median(self, dim=None, keepdim=False):
        """中位数：排序后第 (n-1)//2 个（n 为偶数时取较低的那个），有 NaN 时为 NaN。

        median() -> 0 维张量（梯度平分给等于中位数的元素，见 ops/median.py）；median(dim) -> 具名元组
        (values, indices)，梯度只回到被选中的下标。与 PyTorch 相同。"""
        from .ops.median import Median
        if self.dtype.kind == "b":
            raise NotImplementedError("median: not implemented for bool tensors (convert with .int() or .float())")
        if dim is None:
            if keepdim:
                raise TypeError("median(): keepdim=True needs a dim (median() reduces all elements)")
            if self.array.size == 0 and self.dtype.kind != "f":
                raise RuntimeError(f"median(): the median of an empty {self.dtype} tensor is undefined")
            return Median.apply(self)
        return return_types.median(*self._order_statistic("median", dim, None, keepdim))

    def kthvalue(self, k, dim=-1, keepdim=False):
        """沿 dim 第 k 小的值（k 从 1 数起）和它的下标：(values, indices)；NaN 比任何数都大（排在最后）。
        梯度只回到被选中的那个元素（与 PyTorch 相同）。"""
        if isinstance(k, bool) or not isinstance(k, numbers.Integral):
            raise TypeError(f"kthvalue(): argument 'k' must be int, not {type(k).__name__}")
        if self.dtype.kind == "b":
            raise NotImplementedError("kthvalue: not implemented for bool tensors (convert with .int() or .float())")
        return return_types.kthvalue(*self._order_statistic("kthvalue", dim, int(k), keepdim))

    def _order_statistic(self, op, dim, k, keepdim):
        """沿 dim 排序后取第 k 个（k 从 1 数起；k=None 时取中位数），返回 (values, indices)。"""
        d = _dim1(dim, self.ndim, op)
        x = self.reshape(1) if self.ndim == 0 else self  # 0 维张量当作只有一个元素
        n, xp = x.shape[d], self._xp
        if n == 0:
            raise IndexError(f"{op}(): expected reduction dim {d} to have non-zero size (input shape {self.shape})")
        if k is not None and not 1 <= k <= n:
            raise RuntimeError(f"{op}(): selected number k={k} out of range for dimension {d} of size {n} "
                               f"(input shape {self.shape}); k must be in [1, {n}]")
        order = xp.argsort(x.array, axis=d, kind="stable")        # NaN 排在最后
        pos = (n - 1) // 2 if k is None else k - 1
        idx = xp.take(order, xp.arange(pos, pos + 1), axis=d)      # 保留第 d 维（长度 1），好给 gather 用
        if k is None and x.dtype.kind == "f":                      # 中位数：有 NaN 的行取第一个 NaN
            nan = xp.isnan(x.array)
            idx = xp.where(nan.any(axis=d, keepdims=True), xp.argmax(nan, axis=d, keepdims=True), idx)
        idx = Tensor._make(idx.astype(xp.int64), self.device, None, 0)
        values = x.gather(d, idx)
        if self.ndim == 0:
            return values.reshape(()), idx.reshape(())
        return (values, idx) if keepdim else (values.squeeze(d), idx.squeeze(d))

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("amax", dim, axis, keepdim, keepdims)
        return R.Max.apply(self, axes=_norm_axes(dim, self.ndim), keepdim=keepdim, mode="max")

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("amin", dim, axis, keepdim, keepdims)
        return R.Max.apply(self, axes=_norm_axes(dim, self.ndim), keepdim=keepdim, mode="min")

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("argmax", dim, axis, keepdim, keepdims)
        return R.ArgMax.apply(self, dim=None if dim is None else _dim1(dim, self.ndim, "argmax"),
                              keepdim=keepdim, mode="max")

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("argmin", dim, axis, keepdim, keepdims)
        return R.ArgMax.apply(self, dim=None if dim is None else _dim1(dim, self.ndim, "argmin"),
                              keepdim=keepdim, mode="min")

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("logsumexp", dim, axis, keepdim, keepdims)   # dim=None：对所有维
        return R.LogSumExp.apply(self, axes=_norm_axes(dim, self.ndim), keepdim=keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """方差；correction=1（默认，无偏）除以 N-1，correction=0 除以 N。"""
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("var", dim, axis, keepdim, keepdims)
        if isinstance(dim, bool):              # PyTorch 的旧写法 var(unbiased)
            dim, unbiased = None, dim
        if unbiased is not None and correction is not None:
            raise TypeError("var: pass either unbiased or correction, not both")
        c = (1 if unbiased is None or unbiased else 0) if correction is None else correction
        return R.Var.apply(self, axes=_norm_axes(dim, self.ndim), correction=c, keepdim=keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
        """标准差（一个节点 ops/reduce.py 的 Std：整行相同时梯度为 0，与 PyTorch 相同）。"""
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("std", dim, axis, keepdim, keepdims)
        if isinstance(dim, bool):
            dim, unbiased = None, dim
        if unbiased is not None and correction is not None:
            raise TypeError("std: pass either unbiased or correction, not both")
        c = (1 if unbiased is None or unbiased else 0) if correction is None else correction
        return R.Std.apply(self, axes=_norm_axes(dim, self.ndim), correction=c, keepdim=keepdim)

    def softmax(self, dim=None, dtype=None, *, axis=None):
        dim, _ = _alias("softmax", dim, axis)
        x = self if dtype is None else self.to(dtype)
        if dim is None:
            raise TypeError("softmax() missing required argument 'dim'")
        return SM.Softmax.apply(x, dim=_dim1(dim, x.ndim, "softmax"))

    def log_softmax(self, dim=None, dtype=None, *, axis=None):
        dim, _ = _alias("log_softmax", dim, axis)
        x = self if dtype is None else self.to(dtype)
        if dim is None:
            raise TypeError("log_softmax() missing required argument 'dim'")
        return SM.LogSoftmax.apply(x, dim=_dim1(dim, x.ndim, "log_softmax"))

    def prod(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
        """连乘，写成 exp(Σ log|x|) 加上符号会在 0 处出错，所以这里逐个相乘（组合已有运算，梯度自动得到）。"""
        if axis is not None or keepdims is not None:
            dim, keepdim = _alias("prod", dim, axis, keepdim, keepdims)
        x = self if dtype is None else self.to(dtype)
        if dtype is None and x.dtype.kind in "biu" and x.dtype != backend.int64:
            x = x.to(backend.int64)                 # 与 sum 相同：整数 / 布尔的连乘是 int64
        if dim is None:
            x = x.reshape(-1)
            dim = 0
        d = _dim1(dim, x.ndim, "prod")
        out = None
        for piece in x.split(1, d):
            out = piece if out is None else out * piece
        if out is None:
            out = x.sum(d, keepdim=True) * 0 + 1
        return out if keepdim else out.squeeze(d)

    def cumsum(self, dim=None, dtype=None, *, axis=None):
        """累加：out[i] = x[0] + … + x[i]（沿 dim）。整数 / 布尔张量的结果是 int64（与 PyTorch 相同）。"""
        return self._cumulative("cumsum", R.CumSum, dim, dtype, axis)

    def cumprod(self, dim=None, dtype=None, *, axis=None):
        """累乘：out[i] = x[0] · … · x[i]（沿 dim）。整数 / 布尔张量的结果是 int64。"""
        return self._cumulative("cumprod", R.CumProd, dim, dtype, axis)

    def _cumulative(self, op, fn, dim, dtype, axis):
        dim, _ = _alias(op, dim, axis)
        if dim is None:
            raise TypeError(f"{op}() missing required argument 'dim' (or axis)")
        x = self if dtype is None else self.to(dtype)
        if dtype is None and x.dtype.kind in "biu" and x.dtype != backend.int64:
            x = x.to(backend.int64)                 # 与 PyTorch 相同：整数 / 布尔的累加、累乘是 int64
        d = _dim1(dim, x.ndim, op)
        if x.ndim == 0:                             # 0 维：dim 0 / -1 都可以，结果就是它自己
            return fn.apply(x.reshape(1), dim=0).reshape(())
        return fn.apply(x, dim=d)

    def norm(self, p="fro", dim=None, keepdim=False):
        """向量 2-范数 √(Σx²)（p=2 或 'fro'）或 1-范数 Σ|x|。"""
        if p in ("fro", 2, 2.0):
            return R.Norm.apply(self, axes=_norm_axes(dim, self.ndim), keepdim=keepdim)
        if p in (1, 1.0):
            return self.abs().sum(dim, keepdim=keepdim)
        raise NotImplementedError(f"norm: p={p!r} is not supported (use 1, 2 or 'fro')")

    # ------------------------------------------------------------------ 形状
    def reshape(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        if shape == self.shape or (len(shape) == self.ndim and -1 in shape and all(
                a == b or a == -1 for a, b in zip(shape, self.shape)) and shape.count(-1) == 1):
            return self                  # 形状不变：不必新建计算图节点
        return S.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _dim1(start_dim, self.ndim, "flatten"), _dim1(end_dim, self.ndim, "flatten")
        return self.reshape(self.shape[:s] + (-1,) + self.shape[e + 1:])

    def permute(self, *dims):
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise TensorError(f"permute: dims {dims} are not a permutation of the {self.ndim} dims of "
                             f"a tensor of shape {self.shape}")
        return S.Permute.apply(self, dims=tuple(d % self.ndim for d in dims))

    def transpose(self, dim0, dim1):
        dims = list(range(self.ndim))
        a, b = _dim1(dim0, self.ndim, "transpose"), _dim1(dim1, self.ndim, "transpose")
        if self.ndim == 0:
            return self
        dims[a], dims[b] = dims[b], dims[a]
        return S.Permute.apply(self, dims=tuple(dims))

    def t(self):
        return self.transpose(0, 1) if self.ndim == 2 else self

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = _norm_axes(dim, self.ndim)
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1)))

    def unsqueeze(self, dim):
        d = dim if dim >= 0 else dim + self.ndim + 1
        if not 0 <= d <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim} is out of range for a tensor with {self.ndim} dims")
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        lead = len(shape) - self.ndim
        if lead < 0:
            raise TensorError(f"expand: target shape {shape} has fewer dims than the tensor {self.shape}")
        full = tuple(self.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
        for i, n in enumerate(self.shape):
            if n != 1 and n != full[i + lead]:
                raise TensorError(f"expand: cannot expand shape {self.shape} to {shape} "
                                 f"(dim {i} has size {n}, which is not 1)")
        return S.Expand.apply(self, shape=full)

    def expand_as(self, other):
        return self.expand(other.shape)

    def split(self, split_size_or_sections, dim=0):
        d = _dim1(dim, self.ndim, "split")
        n = self.shape[d]
        if isinstance(split_size_or_sections, numbers.Integral):
            step = split_size_or_sections
            if step <= 0:
                raise TensorError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, n - s) for s in range(0, n, step)]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise TensorError(f"split: sections {sizes} sum to {sum(sizes)}, but dim {dim} has size {n}")
        out, start = [], 0
        for k in sizes:
            idx = (slice(None),) * d + (slice(start, start + k),)
            out.append(self[idx])
            start += k
        return tuple(out)

    def chunk(self, chunks, dim=0):
        n = self.shape[_dim1(dim, self.ndim, "chunk")]
        return self.split(-(-n // chunks), dim)

    def __getitem__(self, key):
        key = _index_key(key, self)
        return I.GetItem.apply(self, key=key)

    def __setitem__(self, key, value):
        """x[key] = v：原地写入（规则见 inplace.py）；记录计算图时是 SetItem 节点。"""
        key = _index_key(key, self)
        if isinstance(value, (list, tuple)):
            value = self._xp.asarray(value)
        if getattr(value, "ndim", 0) and value.shape[0] == 1:
            value = _drop_leading_ones(value)        # PyTorch 的规则：值开头大小为 1 的维先去掉
        if inplace._must_record(self, "index assignment x[...] = v", (value,)):
            v = self._lift(value)
            _check_setitem_shape(self.array, key, v.shape)
            inplace.update(self, "index assignment x[...] = v",
                           lambda x: I.SetItem.apply(x, v.to(x.dtype), key=key), (value,))
            return
        if isinstance(value, Tensor):
            if value.device != self.device:
                raise RuntimeError(f"index assignment: the value is on {value.device} but the tensor "
                                   f"is on {self.device}")
            value = value.array
        if not getattr(self.array.flags, "writeable", True):
            raise RuntimeError("index assignment: the tensor's memory is read-only (an expand()ed "
                               "view or a shared buffer); clone() it first")
        try:
            self.array[key] = value
        except ValueError:
            if hasattr(value, "shape"):
                _check_setitem_shape(self.array, key, value.shape)
            raise
        self._version[0] += 1

    def contiguous(self):
        return self

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def repeat(self, *sizes):
        """沿各维重复（像 np.tile）：写成 expand + reshape，梯度由它们自动求和回去。"""
        sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
        if len(sizes) < self.ndim:
            raise RuntimeError(f"repeat: number of repeat dims {len(sizes)} can not be smaller than the "
                               f"number of dimensions of the tensor {self.ndim}")
        x = self.reshape((1,) * (len(sizes) - self.ndim) + self.shape)
        inter, full = [], []
        for r, n in zip(sizes, x.shape):
            inter += [1, n]
            full += [r, n]
        return x.reshape(tuple(inter)).expand(tuple(full)).reshape(
            tuple(r * n for r, n in zip(sizes, x.shape)))

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """每个元素连续重复 repeats 次：[1, 2] -> [1, 1, 2, 2]（repeat 是整块重复：[1, 2, 1, 2]）。

        ``dim=None`` 先摊平。``repeats`` 是整数，或每个元素一个次数的整数张量。整数时写成
        unsqueeze + expand + reshape，张量时写成 index_select，梯度都由这些运算自动求和回去。"""
        x = self.reshape(-1) if dim is None or self.ndim == 0 else self
        d = 0 if dim is None else _dim1(dim, x.ndim, "repeat_interleave")
        n = x.shape[d]
        if isinstance(repeats, Tensor) and repeats.numel() == 1 and repeats.dtype.kind in "iu":
            repeats = int(repeats.item())           # 一个元素的张量：对所有元素用同一个次数
        if isinstance(repeats, numbers.Integral) and not isinstance(repeats, bool):
            if repeats < 0:
                raise RuntimeError(f"repeat_interleave: repeats must be non-negative, got {repeats}")
            wide = x.shape[:d + 1] + (repeats,) + x.shape[d + 1:]
            out = x.unsqueeze(d + 1).expand(wide).reshape(x.shape[:d] + (n * repeats,) + x.shape[d + 1:])
        else:
            reps = repeats.numpy() if isinstance(repeats, Tensor) else np.asarray(repeats)
            if reps.dtype.kind not in "iu" or reps.ndim != 1:
                raise RuntimeError(f"repeat_interleave: repeats must be an int or a 1-D integer tensor, got "
                                   f"dtype {reps.dtype} and shape {reps.shape}")
            if len(reps) != n:
                raise RuntimeError(f"repeat_interleave: repeats must have the same size as input along dim, "
                                   f"but got repeats.size(0) = {len(reps)} and input.size({d}) = {n}")
            if (reps < 0).any():
                raise RuntimeError("repeat_interleave: repeats must be non-negative")
            idx = Tensor(np.repeat(np.arange(n), reps), device=self.device)
            out = x.index_select(d, idx)
        if output_size is not None and output_size != out.shape[d]:
            raise RuntimeError(f"repeat_interleave: output_size={output_size} but the result has "
                               f"{out.shape[d]} elements along dim {d}")
        return out

    def flip(self, *dims_, dims=None):
        """沿 dims 倒序，例如 flip(0) 把行的顺序倒过来。返回拷贝（与 PyTorch 相同）。"""
        if (dims is None) == (not dims_):
            raise TypeError("flip() takes the dims to flip, e.g. x.flip(0) or x.flip(dims=(0, 1)), exactly once")
        dims = dims_ if dims is None else dims
        dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else \
            (dims,) if isinstance(dims, numbers.Integral) else tuple(dims)
        axes = [_dim1(d, self.ndim, "flip") for d in dims]
        for a in axes:
            if axes.count(a) > 1:
                raise RuntimeError(f"flip: dim {a} appears multiple times in the list of dims {dims}")
        return S.Flip.apply(self, dims=tuple(axes) if self.ndim else ())

    def _triangle(self, op, upper, diagonal):
        if self.ndim < 2:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape {self.shape}")
        return S.Triangle.apply(self, upper=upper, diagonal=int(diagonal))

    def triu(self, diagonal=0):
        """上三角：保留最后两维中 j - i ≥ diagonal 的元素，其余置 0。"""
        return self._triangle("triu", True, diagonal)

    def tril(self, diagonal=0):
        """下三角：保留最后两维中 j - i ≤ diagonal 的元素，其余置 0。"""
        return self._triangle("tril", False, diagonal)

    def index_select(self, dim, index):
        d = _dim1(dim, self.ndim, "index_select")
        return self[(slice(None),) * d + (index,)]

    def masked_fill(self, mask, value):
        """mask 为真的位置换成 value（其余位置梯度照常传回）。"""
        mask = mask if isinstance(mask, Tensor) else tensor(mask, device=self.device)
        if mask.dtype.kind != "b":
            raise RuntimeError(f"masked_fill: expected a bool mask, got dtype {mask.dtype}")
        return where(mask, self._lift(value).to(self.dtype), self)

    def _index_arg(self, op, dim, index):
        if not isinstance(index, Tensor) or index.dtype.kind not in "iu":
            raise RuntimeError(f"{op}: index must be an int64 tensor, got "
                               f"{index.dtype if isinstance(index, Tensor) else type(index).__name__}")
        d = _dim1(dim, self.ndim, op)
        if index.ndim != self.ndim:
            raise RuntimeError(f"{op}: index tensor must have the same number of dimensions as the input "
                               f"tensor (index {index.shape}, input {self.shape})")
        for i, (a, b) in enumerate(zip(index.shape, self.shape)):
            if i != d and a > b:
                raise RuntimeError(f"{op}: size of index {index.shape} does not fit the input {self.shape} "
                                   f"in dim {i}")
        if index.array.size:
            lo, hi = int(index.array.min()), int(index.array.max())
            if lo < 0 or hi >= self.shape[d]:
                raise RuntimeError(f"{op}: index {hi if hi >= self.shape[d] else lo} is out of bounds for "
                                   f"dimension {d} with size {self.shape[d]}")
        return d

    def gather(self, dim, index):
        """out[i][j] = x[i][index[i][j]]（dim=1）：沿 dim 取值。"""
        d = self._index_arg("gather", dim, index)
        return I.Gather.apply(self, index, dim=d)

    def scatter_add(self, dim, index, src):
        """out = x 的拷贝，再沿 dim 把 src 加到 index 指的位置（重复的位置累加）。"""
        d = self._index_arg("scatter_add", dim, index)
        src = self._lift(src)
        if src.ndim != index.ndim or any(a > b for a, b in zip(index.shape, src.shape)):
            raise RuntimeError(f"scatter_add: src {src.shape} must have index's {index.shape} number of "
                               "dimensions and be at least as large in every dim")
        return I.ScatterAdd.apply(self, index, src.to(self.dtype), dim=d)

    def scatter_add_(self, dim, index, src):
        return inplace.update(self, "scatter_add_", lambda x: x.scatter_add(dim, index, src), (src,))

    def all(self, dim=None, keepdim=False):
        return Tensor._make(self._xp.asarray(self.array.astype(bool).all(axis=dim, keepdims=keepdim)),
                            self.device, None, 0)

    def any(self, dim=None, keepdim=False):
        return Tensor._make(self._xp.asarray(self.array.astype(bool).any(axis=dim, keepdims=keepdim)),
                            self.device, None, 0)

    def equal(self, other):
        return self.shape == other.shape and bool((self.array == other.array).all())

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return bool(self._xp.allclose(self.array, self._lift(other).array, rtol=rtol, atol=atol,
                                      equal_nan=equal_nan))

    def isnan(self):
        return Tensor._make(self._xp.isnan(self.array), self.device, None, 0)

    def isfinite(self):
        return Tensor._make(self._xp.isfinite(self.array), self.device, None, 0)

    # 台阶函数：输出需要梯度（与 PyTorch 相同），但梯度处处为 0
    def sign(self):
        return E.Step.apply(self, name="sign")

    def floor(self):
        return E.Step.apply(self, name="floor")

    def ceil(self):
        return E.Step.apply(self, name="ceil")

    def trunc(self):
        return E.Step.apply(self, name="trunc")

    def round(self, decimals=0):
        if decimals:
            scale = 10.0 ** decimals
            return (self * scale).round() / scale
        return E.Step.apply(self, name="round")

    def topk(self, k, dim=-1, largest=True, sorted=True):
        d = _dim1(dim, self.ndim, "topk")
        order = self._xp.argsort(-self.array if largest else self.array, axis=d, kind="stable")
        idx = Tensor._make(self._xp.take(order, self._xp.arange(k), axis=d), self.device, None, 0)
        return return_types.topk(self.gather(d, idx), idx)

    def sort(self, dim=-1, descending=False, stable=False):
        d = _dim1(dim, self.ndim, "sort")
        order = self._xp.argsort(-self.array if descending else self.array, axis=d, kind="stable")
        idx = Tensor._make(order, self.device, None, 0)
        return return_types.sort(self.gather(d, idx), idx)

    def argsort(self, dim=-1, descending=False, stable=False):
        return self.sort(dim, descending, stable)[1]

    def nonzero(self, *, as_tuple=False):
        """非零元素的下标：形状 (非零个数, ndim) 的 int64 张量；as_tuple=True 时每一维一个 1 维张量。不可导。"""
        xp = self._xp
        flat = self.array.reshape(1) if self.ndim == 0 else self.array    # 0 维张量当作只有一个元素
        idx = [Tensor._make(i.astype(np.int64), self.device, None, 0) for i in xp.nonzero(flat)]
        if as_tuple:
            return tuple(idx)
        if self.ndim == 0:
            return Tensor._make(xp.zeros((idx[0].shape[0], 0), np.int64), self.device, None, 0)
        return Tensor._make(xp.stack([i.array for i in idx], axis=1), self.device, None, 0)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """去重后的元素（从小到大排好序，sorted=False 也一样，与 PyTorch 的 CPU 实现相同）；可以再返回每个元素
        在结果里的下标（inverse，形状同输入）和每个值出现的次数（counts）。不可导；每个 NaN 单独算一个值。"""
        if dim is not None:
            raise NotImplementedError(f"unique: dim={dim} is not supported (only dim=None, which looks at all "
                                      "elements)")
        host = backend.to_host(self.array).reshape(-1)     # 结果的长度取决于数据：在主机上算
        values, inverse, counts = np.unique(host, return_inverse=True, return_counts=True, equal_nan=False)
        out = [Tensor(values, dtype=values.dtype, device=self.device)]
        if return_inverse:
            out.append(Tensor(inverse.reshape(self.shape).astype(np.int64), device=self.device))
        if return_counts:
            out.append(Tensor(counts.astype(np.int64), device=self.device))
        return out[0] if len(out) == 1 else tuple(out)

    def type_as(self, other):
        return self.to(other.dtype)


def _drop_leading_ones(v):
    """``x[key] = v``：v 开头大小为 1 的维去掉（与 PyTorch 相同），所以形状 (1, 1) 的值可以写进一个标量位置。
    v 是 Tensor 时 reshape 记进计算图，梯度的形状仍是 v 的形状。"""
    shape, k = v.shape, 0
    while k < len(shape) and shape[k] == 1:
        k += 1
    return v.reshape(tuple(shape[k:]))


def _check_setitem_shape(arr, key, vshape):
    """值的形状（去掉开头的 1 之后）必须能广播到 ``arr[key]`` 的形状，否则报一个说明两个形状的错误。"""
    target = tuple(arr[key].shape)
    vshape = tuple(vshape)
    ok = len(vshape) <= len(target) and all(
        v == 1 or v == t for v, t in zip(reversed(vshape), reversed(target)))
    if not ok:
        raise RuntimeError(f"index assignment x[...] = v: the value of shape {vshape} can't be broadcast to "
                           f"the shape {target} of the indexed part (only leading size-1 dims of the value "
                           "are dropped, as in PyTorch)")


def _index_key(key, t):
    """把下标里的 Tensor / list 拆成数组，让 NumPy（或 CuPy）能直接用。"""
    def conv(k):
        if isinstance(k, Tensor):
            if k.device != t.device:
                raise RuntimeError(f"index: index tensor is on {k.device} but the tensor is on {t.device}")
            return k.array
        if isinstance(k, list):
            arr = t._xp.asarray(k)
            if arr.size == 0 and arr.dtype.kind == "f":       # x[[]]：空列表是空的整数下标（与 PyTorch 相同）
                arr = arr.astype(np.int64)
            if arr.dtype.kind == "f":
                raise IndexError(f"index: tensors used as indices must be integer or bool, got {arr.dtype}")
            return arr
        if isinstance(k, np.ndarray) and t.device != "cpu":
            return t._xp.asarray(k)
        return k
    return tuple(conv(k) for k in key) if isinstance(key, tuple) else conv(key)


autograd._Tensor = Tensor      # 告诉 autograd：Function.apply 用 Tensor._make 包装结果


# ---------------------------------------------------------------------- 模块级函数（tg.where 等）
def where(condition, x, y):
    """where(cond, x, y): 逐元素选择，cond 为真取 x，否则取 y。"""
    ref = x if isinstance(x, Tensor) else y if isinstance(y, Tensor) else None
    if ref is None:
        ref = tensor(x)
    cond = condition if isinstance(condition, Tensor) else tensor(condition, device=ref.device)
    if cond.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    xt, yt = ref._lift(x), ref._lift(y)
    if xt.dtype != yt.dtype:
        dt = promote_types(xt, yt)
        xt, yt = xt.to(dt), yt.to(dt)
    return E.Where.apply(cond, xt, yt)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise TensorError("cat: expected a non-empty list of tensors")
    return S.Cat.apply(*tensors, dim=_dim1(dim, tensors[0].ndim, "cat"))


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise TensorError("stack: expected a non-empty list of tensors")
    nd = tensors[0].ndim + 1
    if not -nd <= dim < nd:
        raise IndexError(f"stack: dim {dim} is out of range for {nd} dims")
    return S.Stack.apply(*tensors, dim=dim % nd)


def maximum(a, b):
    return a.maximum(b)


def minimum(a, b):
    return a.minimum(b)

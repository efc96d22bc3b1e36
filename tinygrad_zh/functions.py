"""``tg.exp(x)``、``tg.matmul(a, b)``、``tg.sum(x, dim=1)`` ……：Tensor 方法的函数写法（PyTorch 两种都有）。

Every function here forwards to the Tensor method of the same name (so there is one implementation
of each op, in ``tensor.py`` / ``ops/``); non-Tensor inputs are converted first. A few functions with
no method of the same name (``mm``, ``normal``, ``multinomial``, ``from_numpy`` ...) are written out.
"""
import numbers

import numpy as np

from . import backend
from .random import rng_of
from .tensor import Tensor


def _t(x, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, list, tuple, np.ndarray, np.generic)):
        return Tensor(x)
    raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(x).__name__}")


def _method(name):
    def fn(input, *args, **kwargs):
        return getattr(_t(input, name), name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``tg.{name}(x, ...)`` == ``x.{name}(...)``."
    return fn


_METHODS = (
    "abs", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu", "square", "neg",
    "reciprocal", "sign", "floor", "ceil", "trunc", "round", "isnan", "isfinite",
    "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp", "var", "std",
    "prod", "cumsum", "norm", "all", "any",
    "softmax", "log_softmax", "clamp", "clip", "pow",
    "reshape", "flatten", "permute", "transpose", "t", "squeeze", "unsqueeze", "split", "chunk",
    "gather", "scatter_add", "index_select", "masked_fill", "numel", "topk", "sort", "argsort",
    "matmul", "add", "sub", "mul", "div", "eq", "ne", "lt", "le", "gt", "ge", "equal", "allclose",
    "detach", "clone",
)
for _name in _METHODS:
    globals()[_name] = _method(_name)
del _name

subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg   # noqa: F821  NumPy-style names


def mm(input, mat2):
    """二维矩阵乘法（只接受 2 维，和 PyTorch 一样；其他形状用 matmul）。"""
    a, b = _t(input, "mm"), _t(mat2, "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {a.shape} and {b.shape} (use matmul)")
    return a.matmul(b)


def bmm(input, mat2):
    a, b = _t(input, "bmm"), _t(mat2, "bmm")
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: expected 3-D tensors with the same batch size, got {a.shape} and {b.shape}")
    return a.matmul(b)


def mv(input, vec):
    a, v = _t(input, "mv"), _t(vec, "mv")
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a 2-D matrix and a 1-D vector, got {a.shape} and {v.shape}")
    return a.matmul(v)


def dot(input, other):
    a, b = _t(input, "dot"), _t(other, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: expected 1-D tensors, got {a.shape} and {b.shape}")
    return a.matmul(b)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def from_numpy(ndarray):
    """和 PyTorch 一样：**共享内存、保留 dtype**（float64 仍是 float64，不同于 tg.tensor 的 float32 默认）。"""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(ndarray).__name__}")
    if ndarray.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: can't convert an array of dtype {ndarray.dtype}; the only "
                        "supported types are: float64, float32, float16, int64, int32, int16, int8, "
                        "uint8, and bool")
    return Tensor._make(ndarray, backend.normalize_device("cpu"), None, 0)


def as_tensor(data, dtype=None, device=None):
    """已经是张量（同 dtype、同设备）就原样返回，NumPy 数组尽量共享内存，其他数据拷贝一份。"""
    if isinstance(data, Tensor):
        return data.to(device or data.device, dtype or data.dtype)
    if isinstance(data, np.ndarray) and (device is None or str(device) == "cpu") and \
            (dtype is None or backend.normalize_dtype(dtype) == data.dtype) and data.dtype.kind in "biuf":
        return from_numpy(data)
    return Tensor(data, dtype=dtype, device=device)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """N(mean, std²) 的随机数：normal(0, 1, size=(n, d))，或 mean/std 为张量时逐元素抽样。"""
    rng = rng_of(generator)
    if size is None:
        m = mean.array if isinstance(mean, Tensor) else np.asarray(mean)
        s = std.array if isinstance(std, Tensor) else np.asarray(std)
        if isinstance(mean, Tensor) or isinstance(std, Tensor):
            shape = np.broadcast_shapes(np.shape(m), np.shape(s))
            arr = rng.normal(0.0, 1.0, shape) * backend.to_device(s, "cpu") + backend.to_device(m, "cpu")
        else:
            raise TypeError("normal(): pass size=(...) when mean and std are numbers")
    else:
        shape = tuple(size) if isinstance(size, (tuple, list)) else (int(size),)
        arr = rng.normal(float(mean), float(std), shape)
    dt = backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT
    return Tensor(arr.astype(dt), dtype=dt, device=device, requires_grad=requires_grad)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """按 input 每行给出的（未归一化）权重抽取下标。"""
    p = _t(input, "multinomial")
    probs = np.asarray(backend.to_device(p.array, "cpu"), dtype=np.float64)
    if probs.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {p.shape}")
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or element < 0")
    rows = probs.reshape(-1, probs.shape[-1])
    rng = rng_of(generator)
    out = []
    for r in rows:
        total = r.sum()
        if total <= 0:
            raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and num_samples > np.count_nonzero(r):
            raise RuntimeError(f"multinomial: cannot sample n_sample={num_samples} > prob_dist.size(-1)="
                               f"{np.count_nonzero(r)} nonzero categories without replacement")
        out.append(rng.choice(len(r), size=num_samples, replace=replacement, p=r / total))
    arr = np.asarray(out, dtype=np.int64).reshape(probs.shape[:-1] + (num_samples,))
    return Tensor(arr, device=p.device)


def bernoulli(input, p=None, *, generator=None):
    x = _t(input, "bernoulli")
    prob = x.array if p is None else p
    draw = rng_of(generator).random(x.shape) < backend.to_device(np.asarray(prob) if p is not None else prob, "cpu")
    return Tensor(draw.astype(x.dtype), device=x.device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """PyTorch 的 empty 内容未定义；这里给 0（可复现，免得读到上一次的垃圾值）。"""
    from .factories import zeros
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    from .factories import zeros_like
    return zeros_like(t, dtype=dtype, device=device, requires_grad=requires_grad)


def get_default_dtype():
    return backend.DEFAULT_FLOAT


def set_default_dtype(dtype):
    dt = backend.normalize_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default "
                        f"type, got {dt}")
    backend.DEFAULT_FLOAT = dt


def numel(input):
    return _t(input, "numel").numel()


__all__ = list(_METHODS) + ["subtract", "multiply", "divide", "true_divide", "negative", "mm", "bmm", "mv",
                            "dot", "is_tensor", "from_numpy", "as_tensor", "normal", "multinomial",
                            "bernoulli", "empty", "empty_like", "get_default_dtype", "set_default_dtype",
                            "numel"]

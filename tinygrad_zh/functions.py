"""``tg.exp(x)``、``tg.matmul(a, b)``、``tg.sum(x, dim=1)`` ……：Tensor 方法的函数写法（PyTorch 两种都有）。

Every function here forwards to the Tensor method of the same name (so there is one implementation
of each op, in ``tensor.py`` / ``ops/``); non-Tensor inputs are converted first. A few functions with
no method of the same name (``mm``, ``normal``, ``multinomial``, ``from_numpy`` ...) are written out.
"""
import builtins
import functools
import numbers

import numpy as np

from . import backend, inplace
from .ops.einsum import Einsum
from .factories import arange, zeros, zeros_like
from .random import rng_of
from .tensor import Tensor, cat as _cat, stack as _stack, tensor


def _t(x, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, list, tuple, np.ndarray, np.generic)):
        return tensor(x)                # dtype 按数据推断（Tensor(3) 是形状为 (3,) 的张量）
    raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(x).__name__}")


def _method(name):
    def fn(input, *args, out=None, **kwargs):
        x = _t(input, name)
        result = getattr(x, name)(*args, **kwargs)
        return result if out is None else inplace.write_out(out, result, name, (x,) + args)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``tg.{name}(x, ..., out=None)`` == ``x.{name}(...)``（``out=``：结果写进这个张量）。"
    return fn


def _with_out(f):
    """给写出来的函数（mm、cat ……）加上 PyTorch 的 ``out=`` 参数（见 ``inplace.write_out``）。"""
    @functools.wraps(f)
    def fn(*args, out=None, **kwargs):
        result = f(*args, **kwargs)
        if out is None:
            return result
        inputs = tuple(a for x in args for a in (x if isinstance(x, (list, tuple)) else (x,)))
        return inplace.write_out(out, result, f.__name__, inputs)
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
    "log1p", "expm1", "clamp_min", "clamp_max", "cumprod", "flip", "triu", "tril", "nonzero", "unique",
    "floor_divide", "remainder", "fmod", "true_divide", "is_floating_point", "get_device",
    "median", "kthvalue",
)
for _name in _METHODS:
    globals()[_name] = _method(_name)
del _name

subtract, multiply, divide, negative = sub, mul, div, neg   # noqa: F821  NumPy-style names（divide 也接受 rounding_mode）


@_with_out
def mm(input, mat2):
    """二维矩阵乘法（只接受 2 维，和 PyTorch 一样；其他形状用 matmul）。"""
    a, b = _t(input, "mm"), _t(mat2, "mm")
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got shapes {a.shape} and {b.shape} (use matmul)")
    return a.matmul(b)


@_with_out
def bmm(input, mat2):
    a, b = _t(input, "bmm"), _t(mat2, "bmm")
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: expected 3-D tensors with the same batch size, got {a.shape} and {b.shape}")
    return a.matmul(b)


@_with_out
def mv(input, vec):
    a, v = _t(input, "mv"), _t(vec, "mv")
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"mv: expected a 2-D matrix and a 1-D vector, got {a.shape} and {v.shape}")
    return a.matmul(v)


@_with_out
def dot(input, other):
    a, b = _t(input, "dot"), _t(other, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"dot: expected 1-D tensors, got {a.shape} and {b.shape}")
    return a.matmul(b)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """``repeat_interleave(x, repeats, dim)``；只给一个整数张量时，它就是次数：repeat_interleave(tensor([2, 3]))
    = [0, 0, 1, 1, 1]（与 PyTorch 相同）。"""
    x = _t(input, "repeat_interleave")
    if repeats is None:
        if x.ndim != 1 or x.dtype.kind not in "iu":
            raise RuntimeError(f"repeat_interleave(repeats): repeats must be a 1-D integer tensor, got dtype "
                               f"{x.dtype} and shape {x.shape}")
        return arange(x.shape[0], device=x.device).repeat_interleave(x, 0, output_size=output_size)
    return x.repeat_interleave(repeats, dim, output_size=output_size)


@_with_out
def hstack(tensors):
    """水平拼接：1 维张量首尾相接（沿第 0 维），其他的沿第 1 维（列）拼接；0 维张量当作 1 维。"""
    ts = [_t(x, "hstack") for x in tensors]
    if not ts:
        raise RuntimeError("hstack expects a non-empty TensorList")
    ts = [x.reshape(1) if x.ndim == 0 else x for x in ts]
    return _cat(ts, 0 if builtins.all(x.ndim == 1 for x in ts) else 1)    # 本模块的 all 是 tg.all


@_with_out
def vstack(tensors):
    """竖直拼接（沿第 0 维，按行）：0 维和 1 维张量先变成一行 (1, n)。"""
    ts = [_t(x, "vstack") for x in tensors]
    if not ts:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return _cat([x.reshape(1, -1) if x.ndim < 2 else x for x in ts], 0)


def einsum(*args):
    """爱因斯坦求和：``einsum("ij,jk->ik", a, b)`` 是矩阵乘法，``einsum("ii", a)`` 是迹（规则见 ops/einsum.py）。

    Also ``einsum(eq, [a, b])`` and the sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    if not args:
        raise TypeError("einsum(): missing the equation")
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _einsum_sublists(args)
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    ts = [_t(x, "einsum") for x in operands]
    if len({x.dtype for x in ts}) > 1:
        raise RuntimeError(f"einsum(): expected all operands to have the same dtype, got "
                           f"{[str(x.dtype) for x in ts]} (convert them with .float() or .double())")
    return Einsum.apply(*ts, equation=equation)


def _einsum_sublists(args):
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) -> ("ab,bc->ac", (a, b))：整数下标换成字母，Ellipsis 换成 ...。"""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def sub(labels):
        out = ""
        for k in labels:
            if k is Ellipsis:
                out += "..."
            elif isinstance(k, numbers.Integral) and 0 <= k < len(letters):
                out += letters[k]
            else:
                raise RuntimeError(f"einsum(): subscript {k!r} in a sublist must be an int in [0, 52) or ...")
        return out
    operands, terms = args[0::2], args[1::2]
    out = None
    if len(args) % 2:                       # 最后多出来的一个是输出的下标
        operands, out = operands[:-1], args[-1]
    return ",".join(sub(t) for t in terms) + ("" if out is None else "->" + sub(out)), operands


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
    return tensor(data, dtype=dtype, device=device)


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
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False):
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


cat = _with_out(_cat)           # torch.cat(tensors, dim, out=...)
stack = _with_out(_stack)
concat = concatenate = cat      # PyTorch 的别名


__all__ = list(_METHODS) + ["subtract", "multiply", "divide", "negative", "mm", "bmm", "mv",
                            "repeat_interleave", "hstack", "vstack", "einsum",
                            "dot", "is_tensor", "from_numpy", "as_tensor", "normal", "multinomial",
                            "bernoulli", "empty", "empty_like", "get_default_dtype", "set_default_dtype",
                            "numel", "cat", "stack", "concat", "concatenate"]

"""tg.nn.functional：层与损失的函数形式（无状态，参数由调用者传入），与 torch.nn.functional 同名同参数。

The modules in ``tg.nn`` are thin wrappers that keep their parameters and call these functions.
Each function checks its arguments (shapes, dtypes) with a clear message and then calls one fused
op from ``tinygrad_zh/ops`` where there is one (linear, layer_norm, batch_norm, every loss).

Usage::

    import tinygrad_zh.nn.functional as F
    loss = F.cross_entropy(model(x), y)
"""
import math
import numbers
import warnings
from operator import index as operator_index

import numpy as np

from .. import backend
from ..ops import index as _index
from ..ops import loss as _loss
from ..ops import matmul as _matmul
from ..ops import norm as _norm
from ..ops import softmax as _softmax
from ..random import generator
from ..tensor import Tensor, cat, tensor
from ..errors import TensorError


# ---------------------------------------------------------------------- helpers
def _as_tensor(x, op, name="input"):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple, numbers.Number)) or hasattr(x, "__cuda_array_interface__"):
        return tensor(x)          # tensor(): Python 数据按值推断 dtype（Tensor(3) 会是形状）
    raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _const(w, ref, op, name="weight"):
    """An optional constant weight (Tensor / array) as a raw array of ``ref``'s dtype and device."""
    if w is None:
        return None
    arr = w.array if isinstance(w, Tensor) else np.asarray(w)
    if isinstance(w, Tensor) and w.device != ref.device:
        raise RuntimeError(f"{op}: {name} is on {w.device} but the input is on {ref.device}")
    arr = backend.to_device(arr, ref.device)
    return arr.astype(ref.dtype, copy=False)


def _same_dtype(op, **tensors):
    items = [(k, t) for k, t in tensors.items() if t is not None]
    first = items[0][1].array.dtype
    if any(t.array.dtype != first for _, t in items):
        desc = ", ".join(f"{k}: {t.dtype}" for k, t in items)
        raise TypeError(f"{op}: expected all tensors to have the same dtype, got {desc} "
                        "(convert with .float() / .double(), or model.to(dtype))")


def _implicit_dim(ndim, op):
    warnings.warn(f"{op}: implicit dimension choice is deprecated; pass dim= explicitly", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


# ---------------------------------------------------------------------- linear / activations
def linear(input, weight, bias=None):
    """y = x Wᵀ + b（一个融合节点）。x: (…, in), W: (out, in), b: (out,)."""
    input = _as_tensor(input, "linear")
    dt = input.array.dtype
    if weight.array.dtype != dt or (bias is not None and bias.array.dtype != dt):
        _same_dtype("linear", input=input, weight=weight, bias=bias)      # raises, naming the dtypes
    if weight.ndim != 2:
        raise TensorError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise TensorError(f"linear: bias shape {bias.shape} does not match weight shape {weight.shape}: "
                         f"expected ({weight.shape[0]},)")
    if input.ndim == 0:
        raise TensorError("linear: input must be at least 1-D, got a 0-d tensor")
    if bias is None:
        return _matmul.Linear.apply(input, weight)
    return _matmul.Linear.apply(input, weight, bias)


def _inplace(input, name, compute):
    """``inplace=True``: write ``compute(input)`` into ``input`` itself and return it (PyTorch's rules:
    recorded in the graph when gradients flow, an error for a leaf that requires grad)."""
    from .. import inplace as _ip
    return _ip.update(input, name, compute)


def relu(input, inplace=False):
    """max(x, 0). ``inplace=True`` overwrites ``input`` and returns it."""
    input = _as_tensor(input, "relu")
    return input.relu_() if inplace else input.relu()


def sigmoid(input):
    return _as_tensor(input, "sigmoid").sigmoid()


def tanh(input):
    return _as_tensor(input, "tanh").tanh()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x (x > 0), negative_slope·x (x ≤ 0). ``inplace=True`` overwrites ``input``."""
    input = _as_tensor(input, "leaky_relu")
    if inplace:
        return _inplace(input, "leaky_relu_", lambda x: x.leaky_relu(negative_slope))
    return input.leaky_relu(negative_slope)


def gelu(input, approximate="none"):
    """GELU(x) = x·Φ(x)；approximate="tanh" 用 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) 近似。"""
    input = _as_tensor(input, "gelu")
    if approximate == "none":
        return input.gelu()
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2.0 / math.pi)
        return input * 0.5 * (inner.tanh() + 1)
    raise TensorError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace=False):
    """SiLU / Swish: x·σ(x). ``inplace=True`` overwrites ``input``."""
    input = _as_tensor(input, "silu")
    if inplace:
        return _inplace(input, "silu_", lambda x: x * x.sigmoid())
    return input * input.sigmoid()


def elu(input, alpha=1.0, inplace=False):
    """ELU: x (x > 0), α(eˣ − 1) (x ≤ 0). 写成 relu(x) + α(e^{min(x, 0)} − 1)：大的 x 也不会溢出。"""
    input = _as_tensor(input, "elu")

    def f(x):
        return x.relu() + (x.clamp(max=0).exp() - 1) * alpha
    return _inplace(input, "elu_", f) if inplace else f(input)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """SELU = scale·ELU(x, α)，α ≈ 1.6733，scale ≈ 1.0507（让激活保持零均值、单位方差的常数）。"""
    input = _as_tensor(input, "selu")

    def f(x):
        return elu(x, _SELU_ALPHA) * _SELU_SCALE
    return _inplace(input, "selu_", f) if inplace else f(input)


def softplus(input, beta=1.0, threshold=20.0):
    """Softplus: log(1 + e^{βx})/β（平滑的 ReLU）；βx > threshold 时直接取 x（与 PyTorch 相同）。

    Computed as (max(βx, 0) + log1p(e^{−|βx|}))/β, which never overflows; the gradient is σ(βx)."""
    from ..ops.elementwise import Softplus
    return Softplus.apply(_as_tensor(input, "softplus"), beta=float(beta), threshold=float(threshold))


def logsigmoid(input):
    """log σ(x) = −softplus(−x) = min(x, 0) − log(1 + e^{−|x|})（对数概率，用在二分类 / 负采样损失里）。

    One node (``ops/logsigmoid.py``): nothing overflows (x = ±1e4 is fine), x very negative gives
    ≈ x instead of log 0 = −inf, and the gradient σ(−x) keeps its precision for large x."""
    from ..ops.logsigmoid import LogSigmoid
    input = _as_tensor(input, "logsigmoid")
    if input.dtype.kind != "f":
        raise TypeError(f"logsigmoid: expected a floating point input, got dtype {input.dtype}")
    return LogSigmoid.apply(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """把 x 截断到 [min_val, max_val]（区间外梯度为 0）。"""
    if min_val > max_val:
        raise TensorError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    from ..ops.elementwise import Hardtanh
    input = _as_tensor(input, "hardtanh")

    def f(x):
        return Hardtanh.apply(x, lo=float(min_val), hi=float(max_val))
    return _inplace(input, "hardtanh_", f) if inplace else f(input)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def prelu(input, weight):
    """PReLU: x (x > 0), a·x (x ≤ 0)，a 是可学习的参数（一个，或每个通道一个：沿第 1 维广播）。"""
    input = _as_tensor(input, "prelu")
    if weight.ndim != 1 or (weight.shape[0] != 1 and (input.ndim < 1 or
                                                      input.shape[1 if input.ndim >= 2 else 0] != weight.shape[0])):
        raise TensorError(f"prelu: weight of shape {weight.shape} must have 1 element or one per channel (dim 1) "
                         f"of the input of shape {input.shape}")
    a = weight
    if weight.shape[0] != 1 and input.ndim >= 2:
        a = weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    return input.relu() + a * input.clamp(max=0)


def softmax(input, dim=None, dtype=None):
    input = _as_tensor(input, "softmax")
    if dtype is not None:
        input = input.to(dtype)
    return input.softmax(_implicit_dim(input.ndim, "softmax") if dim is None else dim)


def log_softmax(input, dim=None, dtype=None):
    input = _as_tensor(input, "log_softmax")
    if dtype is not None:
        input = input.to(dtype)
    return input.log_softmax(_implicit_dim(input.ndim, "log_softmax") if dim is None else dim)


def dropout(input, p=0.5, training=True, inplace=False):
    """训练时以概率 p 把元素置 0，其余乘 1/(1-p)（期望不变）；评估时原样返回。

    The mask comes from the library generator, so ``tg.manual_seed`` makes it reproducible."""
    input = _as_tensor(input, "dropout")
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise TensorError(f"dropout: probability p must be between 0 and 1, got {p!r}")
    if not training or p == 0:
        return input
    if input.dtype.kind != "f":
        raise TypeError(f"dropout: expected a floating point input, got dtype {input.dtype}")
    if p == 1:
        mask = Tensor._make(input._xp.zeros((), input.dtype), input.device, None, 0)
    else:
        keep = generator().random(input.shape, dtype=np.float32) >= np.float32(p)
        mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
        mask = Tensor._make(backend.to_device(mask, input.device), input.device, None, 0)
    return _inplace(input, "dropout_", lambda x: x * mask) if inplace else input * mask


def _channel_dropout(input, p, training, inplace, op, feature_ndim):
    """Zero whole channels: the mask has shape (N, C, 1, …), one draw per (sample, channel)."""
    input = _as_tensor(input, op)
    if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise TensorError(f"{op}: probability p must be between 0 and 1, got {p!r}")
    nd = input.ndim
    if nd == feature_ndim + 1:            # unbatched (C, *spatial)
        mask_shape = input.shape[:1] + (1,) * feature_ndim
    elif nd == feature_ndim + 2:
        mask_shape = input.shape[:2] + (1,) * feature_ndim
    elif op == "dropout2d" and nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                      "dim. Use dropout1d for that.", stacklevel=3)
        mask_shape = input.shape[:2] + (1,)
    else:
        want = " or ".join(f"{d}-D" for d in (feature_ndim + 1, feature_ndim + 2))
        raise TensorError(f"{op}: expected a {want} input (channels, then {feature_ndim} spatial dims), got "
                         f"shape {input.shape}")
    if not training or p == 0:
        return input
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got dtype {input.dtype}")
    keep = generator().random(mask_shape, dtype=np.float32) >= np.float32(p)
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = Tensor._make(backend.to_device(keep.astype(input.dtype) * input.dtype.type(scale), input.device),
                        input.device, None, 0)
    return _inplace(input, op + "_", lambda x: x * mask) if inplace else input * mask


def dropout1d(input, p=0.5, training=True, inplace=False):
    """通道级 dropout：(N, C, L) 或 (C, L) 中整条通道一起置 0（其余乘 1/(1-p)）。"""
    return _channel_dropout(input, p, training, inplace, "dropout1d", 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """通道级 dropout：(N, C, H, W) 或 (C, H, W) 中整张特征图一起置 0（相邻像素高度相关时比逐元素 dropout 有效）。"""
    return _channel_dropout(input, p, training, inplace, "dropout2d", 2)


# ---------------------------------------------------------------------- vector norms, similarity, padding
def _vector_norm(x, p, dim, op):
    """‖x‖_p 沿 ``dim``（keepdim=True）：p = 2 用 Norm 节点，1 是 Σ|x|，inf 是 max|x|，其余 (Σ|x|ᵖ)^{1/p}。

    For a general p the zeros are masked so that a zero vector (or a zero element when p < 1) gets
    a gradient of 0 instead of ∞ · 0 = NaN (PyTorch does the same)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or p <= 0:
        raise TensorError(f"{op}: p must be a positive number (or inf), got {p!r}")
    if p == 2:
        return x.norm(2, dim, keepdim=True)
    a = x.abs()
    if p == 1:
        return a.sum(dim, keepdim=True)
    if p == math.inf:
        return a.amax(dim, keepdim=True)
    zero = a == 0
    a_pow = (a.where(~zero, 1.0) ** p).where(~zero, 0.0)          # 0 处不求 0ᵖ 的导数
    s = a_pow.sum(dim, keepdim=True)
    s_zero = s == 0
    return (s.where(~s_zero, 1.0) ** (1.0 / p)).where(~s_zero, 0.0)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """沿 ``dim`` 把每个向量缩放到 p-范数为 1：x / max(‖x‖_p, eps)（eps 防止除以 0）。"""
    if out is not None:
        raise NotImplementedError("normalize: out= is not supported; use the returned tensor")
    input = _as_tensor(input, "normalize")
    if input.dtype.kind != "f":
        raise TypeError(f"normalize: expected a floating point input, got dtype {input.dtype}")
    return input / _vector_norm(input, p, dim, "normalize").clamp(min=eps)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """余弦相似度 Σ(x₁·x₂) / (‖x₁‖·‖x₂‖) 沿 ``dim``（两个输入先广播到同一形状）；范数小于 eps 时按 eps 算。

    As in PyTorch, eps only changes the value of a tiny norm, not its gradient (the clamp is not
    differentiated): the gradient is that of x / ‖x‖ with the norm's value raised to eps."""
    x1, x2 = _as_tensor(x1, "cosine_similarity", "x1"), _as_tensor(x2, "cosine_similarity", "x2")
    try:
        shape = tuple(np.broadcast_shapes(x1.shape, x2.shape))
    except ValueError:
        raise TensorError(f"cosine_similarity: x1 of shape {x1.shape} and x2 of shape {x2.shape} do not "
                         "broadcast to a common shape") from None
    if not shape:
        raise TensorError("cosine_similarity: inputs must have at least one dim, got 0-d tensors")
    for name, x in (("x1", x1), ("x2", x2)):
        if x.dtype.kind != "f":
            raise TypeError(f"cosine_similarity: expected a floating point {name}, got dtype {x.dtype}")

    def unit(x):
        n = x.expand(shape).norm(2, dim, keepdim=True)
        lift = n.detach().clamp(min=eps) - n.detach()      # 常数：把过小的范数抬到 eps，不参与求导
        return x / (n + lift)
    return (unit(x1) * unit(x2)).sum(dim)


def pad(input, pad, mode="constant", value=None):
    """填充：``pad`` 从最后一维往前，每维两个数 (左, 右)，如 (1, 1, 2, 0) = 最后一维左右各补 1、倒数第二维上面补 2。

    mode: "constant"（补 ``value``，默认 0；负数表示裁掉）、"reflect"（以边缘为镜面反射）、"replicate"
    （重复边缘元素）、"circular"（首尾相接）。后三种只填充最后 1–3 维，输入要多 1 或 2 维（批、通道），
    与 PyTorch 相同。"""
    from ..ops.pad import MODES, Pad
    input = _as_tensor(input, "pad")
    try:
        pad = tuple(int(operator_index(v)) for v in pad)
    except TypeError:
        raise TypeError(f"pad: pad must be a sequence of ints, got {pad!r}") from None
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {len(pad)} values {pad}")
    k, nd = len(pad) // 2, input.ndim
    if k > nd:
        raise RuntimeError(f"pad: padding length should be less than or equal to two times the input "
                           f"dimension, but got padding length {len(pad)} and input of shape {input.shape}")
    if mode not in MODES:
        raise NotImplementedError(f"pad: padding mode {mode!r} is not supported (use one of {MODES})")
    pads = [(0, 0)] * nd
    for i in range(k):                              # pad[0:2] 属于最后一维，pad[2:4] 属于倒数第二维……
        pads[nd - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    for d, (lo, hi) in enumerate(pads):
        if input.shape[d] + lo + hi < 0:
            raise RuntimeError(f"pad: padding ({lo}, {hi}) at dim {d} of the input of shape {input.shape} "
                               f"gives a negative size {input.shape[d] + lo + hi}")
    if mode != "constant":
        if value is not None and value != 0:
            raise RuntimeError(f"pad: padding mode {mode!r} doesn't take a value argument (got value={value})")
        if k == 0 or k > 3 or nd not in (k + 1, k + 2):
            raise NotImplementedError(
                f"pad: mode {mode!r} with {len(pad)} padding values pads the last {k} dims of a {k + 1}-D or "
                f"{k + 2}-D input (batch / channel dims first), got an input of shape {input.shape}; "
                "supported: 2 values for 2-D/3-D, 4 for 3-D/4-D, 6 for 4-D/5-D inputs")
        for d in range(nd - k, nd):
            n, (lo, hi) = input.shape[d], pads[d]
            if mode == "reflect" and (abs(lo) >= n or abs(hi) >= n):
                raise RuntimeError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the size {n} of "
                                   f"dim {d} of the input of shape {input.shape}")
            if mode == "circular" and (abs(lo) > n or abs(hi) > n or n - max(-lo, 0) - max(-hi, 0) <= 0):
                raise RuntimeError(f"pad: circular padding ({lo}, {hi}) wraps around more than once: dim {d} "
                                   f"of the input of shape {input.shape} has size {n}")
            if mode == "replicate" and n == 0 and (lo > 0 or hi > 0):
                raise RuntimeError(f"pad: replicate padding of the empty dim {d} of the input of shape "
                                   f"{input.shape}: there is no edge element to repeat")
    return Pad.apply(input, pads=tuple(pads), mode=mode, value=0 if value is None else value)


# ---------------------------------------------------------------------- embedding
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """按下标取 weight 的行：out[..., :] = weight[input[...]]（重复的下标在反向时梯度相加）。

    ``padding_idx``: that row receives no gradient. ``max_norm``: rows that are looked up and whose
    ``norm_type``-norm exceeds it are rescaled to ``max_norm`` first (this changes ``weight``)."""
    if scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: scale_grad_by_freq and sparse gradients are not supported")
    idx = input if isinstance(input, Tensor) else Tensor(np.asarray(input), device=weight.device)
    if weight.ndim != 2:
        raise TensorError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got {weight.shape}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor (int64), got dtype {idx.dtype}")
    n = weight.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise TensorError(f"embedding: padding_idx {padding_idx} must be within num_embeddings ({n})")
        padding_idx = padding_idx % n
    if max_norm is not None:
        _embedding_renorm(weight, idx, max_norm, norm_type)
    return _index.Embedding.apply(weight, idx, padding_idx=padding_idx)


def _embedding_renorm(weight, idx, max_norm, norm_type):
    xp = weight._xp
    rows = xp.unique(idx.array.reshape(-1))
    if rows.size and (int(rows.min()) < 0 or int(rows.max()) >= weight.shape[0]):
        return                                          # the op raises the clear error
    w = weight.array
    norms = (xp.abs(w[rows]) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    big = norms > max_norm
    if bool(big.any()):
        new = w.copy()                                  # out of place: saved graph arrays stay intact
        scale = (max_norm / (norms[big] + 1e-7)).astype(w.dtype)
        new[rows[big]] = w[rows[big]] * scale[:, None]
        weight.array = new


def one_hot(tensor, num_classes=-1):
    """类别下标 -> 独热编码：out[..., k] = 1 当且仅当 tensor[...] == k（int64，形状多出最后一维 C）。

    ``num_classes=-1`` takes C = max(tensor) + 1. Raises for non-integer input, negative classes and
    classes >= num_classes (PyTorch's rules). The result is an integer tensor (no gradient): convert
    it with ``.float()`` to feed a layer."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot: expected a Tensor of class indices, got {type(tensor).__name__}")
    if tensor.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensors of an integer type (int64), got "
                           f"dtype {tensor.dtype}")
    if not isinstance(num_classes, numbers.Integral) or isinstance(num_classes, bool):
        raise TypeError(f"one_hot: num_classes must be an int, got {num_classes!r}")
    xp, idx = tensor._xp, tensor.array
    if idx.size and int(idx.min()) < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {int(idx.min())}")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("one_hot: can not infer the total number of classes from an empty tensor "
                               "(pass num_classes)")
        num_classes = int(idx.max()) + 1
    elif num_classes < 0 or (idx.size and int(idx.max()) >= num_classes):
        raise RuntimeError(f"one_hot: class values must be smaller than num_classes={num_classes}, got "
                           f"a maximum of {int(idx.max()) if idx.size else None}")
    out = (idx[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._make(out, tensor.device, None, 0)


# ---------------------------------------------------------------------- normalisation
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """对最后 len(normalized_shape) 维做归一化：(x − μ)/√(σ² + ε)·γ + β（一个融合节点）。"""
    input = _as_tensor(input, "layer_norm")
    ns = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if len(ns) == 0 or len(ns) > input.ndim or input.shape[input.ndim - len(ns):] != ns:
        raise TensorError(f"layer_norm: input of shape {input.shape} does not end with the normalized "
                         f"shape {ns}")
    _same_dtype("layer_norm", input=input, weight=weight, bias=bias)
    params = [p for p in (weight, bias) if p is not None]
    return _norm.LayerNorm.apply(input, *params, n_axes=len(ns), eps=eps, has_weight=weight is not None,
                                 has_bias=bias is not None)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1,
               eps=1e-5):
    """批归一化，输入 (N, C, *)：每个通道在批与空间维上归一化。

    training=True: use the batch statistics and, when running_mean / running_var are given, update
    them (out of place): ``r ← (1 − momentum)·r + momentum·batch_stat`` (the variance uses the
    unbiased batch estimate). training=False: use running_mean / running_var."""
    input = _as_tensor(input, "batch_norm")
    if input.ndim < 2:
        raise TensorError(f"batch_norm: expected an input of shape (N, C, *), got {input.shape}")
    _same_dtype("batch_norm", input=input, weight=weight, bias=bias)
    c = input.shape[1]
    if training:
        count = input.numel() // max(c, 1)
        if count <= 1:
            raise TensorError(f"batch_norm: expected more than 1 value per channel when training, got "
                             f"input of shape {input.shape}")
        axes = (0,) + tuple(range(2, input.ndim))
        mean, var = _norm.moments(input.array, axes)
        mean, var = mean.reshape(c), var.reshape(c)
        m = float(momentum)
        if running_mean is not None:
            rm = running_mean.array
            running_mean.array = (rm * (1 - m) + mean.astype(rm.dtype) * m).astype(rm.dtype)
        if running_var is not None:
            rv = running_var.array
            unbiased = var.astype(rv.dtype) * (count / (count - 1))
            running_var.array = (rv * (1 - m) + unbiased * m).astype(rv.dtype)
    else:
        if running_mean is None or running_var is None:
            raise TensorError("batch_norm: running_mean and running_var are required when training=False")
        for name, r in (("running_mean", running_mean), ("running_var", running_var)):
            if r.shape != (c,):
                raise TensorError(f"batch_norm: {name} of shape {r.shape} does not match the {c} channels "
                                 f"of the input of shape {input.shape}")
        mean = running_mean.array.astype(input.dtype, copy=False)
        var = running_var.array.astype(input.dtype, copy=False)
    params = []
    if weight is not None or bias is not None:
        from ..factories import ones, zeros
        w = weight if weight is not None else ones(c, dtype=input.dtype, device=input.device)
        b = bias if bias is not None else zeros(c, dtype=input.dtype, device=input.device)
        params = [w, b]
    return _norm.BatchNorm.apply(input, *params, mean=mean, var=var, eps=eps, batch_stats=training)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """组归一化，输入 (N, C, *)：通道分成 num_groups 组，每个样本的每一组（组内通道 × 空间）各自归一化，
    再乘 γ、加 β（每个通道一个）。与批大小无关。

    Group normalisation: (N, C, *) is viewed as (N, num_groups, rest) and each row is normalised
    with the layer-norm op (biased variance), then the per-channel affine γ·x̂ + β is applied."""
    input = _as_tensor(input, "group_norm")
    if input.ndim < 2:
        raise TensorError(f"group_norm: expected an input of at least 2 dimensions (N, C, *), got shape "
                         f"{input.shape}")
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral) or num_groups < 1:
        raise TensorError(f"group_norm: num_groups must be a positive int, got {num_groups!r}")
    N, C = input.shape[0], input.shape[1]
    if C % num_groups:
        raise TensorError(f"group_norm: expected the number of channels in input to be divisible by "
                         f"num_groups, got input of shape {input.shape} and num_groups={num_groups}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (C,):
            raise TensorError(f"group_norm: expected {name} to be a vector of size equal to the number of "
                             f"channels in input ({C}), got {name} of shape {p.shape} and input of shape "
                             f"{input.shape}")
    _same_dtype("group_norm", input=input, weight=weight, bias=bias)
    x = input.reshape(N, num_groups, -1)
    y = layer_norm(x, x.shape[-1], eps=eps).reshape(input.shape)    # 每组内：(x − μ)/√(σ² + ε)
    per_channel = (C,) + (1,) * (input.ndim - 2)                    # γ、β 沿通道广播
    if weight is not None:
        y = y * weight.reshape(per_channel)
    if bias is not None:
        y = y + bias.reshape(per_channel)
    return y


# ---------------------------------------------------------------------- losses
def _check_pair(input, target, op, float_target=True):
    input = _as_tensor(input, op)
    target = _as_tensor(target, op, "target")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got dtype {input.dtype}")
    if float_target and target.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point target of dtype {input.dtype}, got dtype "
                        f"{target.dtype} (convert with target.float())")
    if target.shape != input.shape:
        raise TensorError(f"{op}: target shape {target.shape} does not match input shape {input.shape} "
                         "(they must be equal; broadcasting here is almost always a bug)")
    if target.dtype != input.dtype:
        target = target.to(input.dtype)
    return input, target


def mse_loss(input, target, reduction="mean"):
    """均方误差 reduce((x − y)²)."""
    _loss.check_reduction(reduction, "mse_loss")
    input, target = _check_pair(input, target, "mse_loss")
    return _loss.MSELoss.apply(input, target, reduction=reduction)


def l1_loss(input, target, reduction="mean"):
    """平均绝对误差 reduce(|x − y|)."""
    _loss.check_reduction(reduction, "l1_loss")
    input, target = _check_pair(input, target, "l1_loss")
    return _loss.L1Loss.apply(input, target, reduction=reduction)


def _legacy_args(size_average, reduce, op):
    if size_average is not None or reduce is not None:
        raise TensorError(f"{op}: size_average and reduce are deprecated; use reduction='mean' / 'sum' / 'none'")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber 损失：|x − y| < δ 时 ½(x − y)²，否则 δ(|x − y| − ½δ)（小误差像 MSE，大误差像 L1）。

    ``weight``: optional per-element weights of the input's shape, applied before the reduction."""
    _loss.check_reduction(reduction, "huber_loss")
    if not delta > 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta, got delta={delta}")
    input, target = _check_pair(input, target, "huber_loss")
    if weight is not None and tuple(weight.shape) != input.shape:
        raise TensorError(f"huber_loss: weight of shape {tuple(weight.shape)} must have the same shape as the "
                         f"input {input.shape}")
    return _loss.HuberLoss.apply(input, target, weight=_const(weight, input, "huber_loss"), delta=float(delta),
                                 reduction=reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Smooth L1：|x − y| < β 时 ½(x − y)²/β，否则 |x − y| − ½β（= Huber 损失 / β；β = 0 时就是 L1 损失）。"""
    _legacy_args(size_average, reduce, "smooth_l1_loss")
    _loss.check_reduction(reduction, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got beta={beta}")
    input, target = _check_pair(input, target, "smooth_l1_loss")
    if beta == 0:
        return _loss.L1Loss.apply(input, target, reduction=reduction)
    return _loss.SmoothL1Loss.apply(input, target, beta=float(beta), reduction=reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL 散度 KL(target ‖ exp(input))：input 是对数概率（log_softmax 的输出），target 是概率
    （``log_target=True`` 时是对数概率）。逐元素 target·(log target − input)。

    ``reduction="batchmean"`` (sum / batch size) is the mathematical KL divergence; "mean" divides by
    the number of elements, and warns as PyTorch does."""
    _legacy_args(size_average, reduce, "kl_div")
    if reduction not in ("none", "batchmean", "sum", "mean"):
        raise TensorError(f"kl_div: reduction must be one of ('none', 'batchmean', 'sum', 'mean'), got {reduction!r}")
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by the number of elements (batch size "
                      "times support size), not by the batch size alone; reduction='batchmean' gives the "
                      "KL divergence as defined in mathematics", UserWarning, stacklevel=2)
    input, target = _check_pair(input, target, "kl_div")
    return _loss.KLDivLoss.apply(input, target, reduction=reduction, log_target=bool(log_target))


def _classes_last(input, target, op):
    """(C,) / (N, C) / (N, C, d1, ...) logits with matching integer targets -> (M, C), (M,) and the
    shape of an unreduced loss."""
    if input.ndim == 0:
        raise TensorError(f"{op}: input must have a class dimension, got a 0-d tensor")
    if input.ndim == 1:
        expected = ()
    else:
        expected = (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise TensorError(f"{op}: target shape {target.shape} does not match input shape {input.shape}: "
                         f"expected class indices of shape {expected} (input is (N, C) or (N, C, d1, ...))")
    if input.ndim == 2:                         # already (N, C) and (N,): no reshape nodes
        return input, target, expected
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if input.ndim == 1:
        return input.reshape(-1, c), target.reshape(-1), expected
    perm = (0,) + tuple(range(2, input.ndim)) + (1,)
    return input.permute(perm).reshape(-1, c), target.reshape(-1), expected


def _check_class_target(target, op):
    target = _as_tensor(target, op, "target")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold integer class indices (int64), got dtype {target.dtype} "
                        "(convert with target.long())")
    return target


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """负对数似然：input 是对数概率 (N, C)（或 (N, C, d1, ...)），target 是类别下标。"""
    _loss.check_reduction(reduction, "nll_loss")
    input = _as_tensor(input, "nll_loss")
    target = _check_class_target(target, "nll_loss")
    x, t, out_shape = _classes_last(input, target, "nll_loss")
    loss = _loss.NLLLoss.apply(x, t, weight=_const(weight, x, "nll_loss"), ignore_index=ignore_index,
                               reduction=reduction)
    return loss.reshape(out_shape) if reduction == "none" else loss


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """交叉熵 = log_softmax + NLL（logits，不要先做 softmax）。

    target: integer class indices of shape (N,) (or (N, d1, ...) for input (N, C, d1, ...)), or
    class probabilities of the input's shape. Without ``weight`` / ``label_smoothing`` this is a
    single fused, numerically stable op (logits of 1e4 are fine)."""
    _loss.check_reduction(reduction, "cross_entropy")
    input = _as_tensor(input, "cross_entropy")
    target = _as_tensor(target, "cross_entropy", "target")
    if input.dtype.kind != "f":
        raise TypeError(f"cross_entropy: expected floating point logits, got dtype {input.dtype}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise TensorError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if target.dtype.kind == "f":
        if target.shape != input.shape:
            raise TypeError(f"cross_entropy: target must hold integer class indices (int64), got dtype "
                            f"{target.dtype} of shape {target.shape} for input of shape {input.shape} "
                            "(convert with target.long(); float targets are only accepted as class "
                            "probabilities of the same shape as the input)")
        return _soft_cross_entropy(input, target.to(input.dtype), weight, reduction, label_smoothing)
    target = _check_class_target(target, "cross_entropy")
    x, t, out_shape = _classes_last(input, target, "cross_entropy")
    if weight is None and label_smoothing == 0:
        # mean：Σ / 有效行数，全部被忽略时损失 NaN、梯度 0（与 PyTorch 相同）
        fused = _loss.SoftmaxCrossEntropyMean if reduction == "mean" else _softmax.SoftmaxCrossEntropy
        loss = fused.apply(x, t, ignore_index=ignore_index, reduction=reduction)
    else:
        w = _const(weight, x, "cross_entropy")
        logp = x.log_softmax(1)
        loss = _loss.NLLLoss.apply(logp, t, weight=w, ignore_index=ignore_index, reduction=reduction)
        if label_smoothing > 0:
            loss = _smoothing(loss, logp, t, w, ignore_index, reduction, label_smoothing)
    return loss.reshape(out_shape) if reduction == "none" else loss


def _smoothing(nll, logp, t, w, ignore_index, reduction, eps):
    """标签平滑：目标分布 = (1 − ε)·onehot + ε/C，损失 = (1 − ε)·NLL + (ε/C)·Σ_c (−w_c logp_c)。"""
    n, c = logp.shape
    valid = (t.array != ignore_index)
    per_class = logp if w is None else logp * Tensor._make(w, logp.device, None, 0)
    mask = Tensor._make(valid.astype(logp.dtype), logp.device, None, 0)
    smooth = -per_class.sum(1) * mask
    if reduction == "mean":
        if w is None:
            denom = float(valid.sum())
        else:
            denom = float(w[logp._xp.where(valid, t.array, 0)][valid].sum())
        # 全部被忽略（denom = 0）：NLL 部分已是 NaN；这一项取 0 且梯度为 0，不用 0/0 把梯度变成 NaN
        smooth = smooth.sum() / denom if denom else smooth.sum() * 0.0
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - eps) + smooth * (eps / c)


def _soft_cross_entropy(input, target, weight, reduction, eps):
    """target = class probabilities: loss = −Σ_c w_c · t_c · log softmax(x)_c ("mean" averages over samples)."""
    dim = 0 if input.ndim == 1 else 1
    c = input.shape[dim]
    if eps > 0:
        target = target * (1 - eps) + eps / c
    logp = input.log_softmax(dim)
    prod = logp * target
    if weight is not None:
        w = _const(weight, input, "cross_entropy")
        shape = (c,) + (1,) * (input.ndim - dim - 1)
        prod = prod * Tensor._make(w.reshape(shape), input.device, None, 0)
    loss = -prod.sum(dim)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """二元交叉熵，input 是概率（已经过 sigmoid）：−[y log p + (1 − y) log(1 − p)]，log 截断到 ≥ −100。"""
    _loss.check_reduction(reduction, "binary_cross_entropy")
    input, target = _check_pair(input, target, "binary_cross_entropy")
    return _loss.BCELoss.apply(input, target, weight=_const(weight, input, "binary_cross_entropy"),
                               reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """sigmoid + 二元交叉熵的稳定融合形式（input 是 logits）。``pos_weight``: 正样本的权重，按最后一维广播。"""
    op = "binary_cross_entropy_with_logits"
    _loss.check_reduction(reduction, op)
    input, target = _check_pair(input, target, op)
    return _loss.BCEWithLogitsLoss.apply(input, target, weight=_const(weight, input, op),
                                         pos_weight=_const(pos_weight, input, op, "pos_weight"),
                                         reduction=reduction)


# ---------------------------------------------------------------------- conv / pool / lstm (ops/conv.py, ops/lstm.py)
def _forward_to(module, name):
    import importlib
    try:
        mod = importlib.import_module(f"..ops.{module}", __package__)
    except ImportError as e:
        raise NotImplementedError(f"{name}: tinygrad_zh/ops/{module}.py is not available ({e})") from None
    fn = getattr(mod, name, None)
    if fn is None:
        raise NotImplementedError(f"{name}: tinygrad_zh/ops/{module}.py defines no {name}()")
    return fn


def conv2d(*args, **kwargs):
    """2-D convolution (see ``tinygrad_zh/ops/conv.py``)."""
    return _forward_to("conv", "conv2d")(*args, **kwargs)


def max_pool2d(*args, **kwargs):
    """2-D max pooling (see ``tinygrad_zh/ops/conv.py``)."""
    return _forward_to("conv", "max_pool2d")(*args, **kwargs)


def avg_pool2d(*args, **kwargs):
    """2-D average pooling (see ``tinygrad_zh/ops/conv.py``)."""
    return _forward_to("conv", "avg_pool2d")(*args, **kwargs)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size (see ``tinygrad_zh/ops/conv.py``)."""
    return _forward_to("conv", "adaptive_avg_pool2d")(input, output_size)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size (see ``tinygrad_zh/ops/conv.py``)."""
    return _forward_to("conv", "adaptive_max_pool2d")(input, output_size, return_indices)


def conv1d(*args, **kwargs):
    """1-D convolution, a height-1 conv2d (see ``tinygrad_zh/ops/conv.py``)."""
    return _forward_to("conv", "conv1d")(*args, **kwargs)


def conv_transpose2d(*args, **kwargs):
    """2-D transposed convolution (see ``tinygrad_zh/ops/conv_transpose.py``)."""
    return _forward_to("conv_transpose", "conv_transpose2d")(*args, **kwargs)


def max_pool1d(*args, **kwargs):
    """1-D max pooling (see ``tinygrad_zh/ops/conv.py``)."""
    return _forward_to("conv", "max_pool1d")(*args, **kwargs)


def avg_pool1d(*args, **kwargs):
    """1-D average pooling (see ``tinygrad_zh/ops/conv.py``)."""
    return _forward_to("conv", "avg_pool1d")(*args, **kwargs)


def adaptive_avg_pool1d(input, output_size):
    """1-D average pooling to a fixed output size (see ``tinygrad_zh/ops/conv.py``)."""
    return _forward_to("conv", "adaptive_avg_pool1d")(input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """1-D max pooling to a fixed output size (see ``tinygrad_zh/ops/conv.py``)."""
    return _forward_to("conv", "adaptive_max_pool1d")(input, output_size, return_indices)


def lstm_cell(*args, **kwargs):
    """One fused LSTM step (see ``tinygrad_zh/ops/lstm.py``)."""
    return _forward_to("lstm", "lstm_cell")(*args, **kwargs)


# ---------------------------------------------------------------------- 注意力（数学见 nn/attention.py 的说明）
_NEG_INF = float("-inf")


class AttentionShapeError(RuntimeError, ValueError, AssertionError):
    """注意力的输入形状或类型不对。PyTorch 在这些地方有的抛 AssertionError、有的抛 RuntimeError，
    本库别处对形状错误抛 ValueError：这个类同时是三者，按哪一种捕获都行。

    Bad shapes / dtypes of attention inputs. PyTorch raises AssertionError for some of these checks
    and RuntimeError for others; this class is both (and a ValueError, like the rest of this library)."""


# ---------------------------------------------------------------------- 共用的小工具
def _check_tensor(op, name, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    return t


def _mask_is_bool(op, name, mask, query):
    """检查掩码类型：布尔，或与 query 同 dtype 的浮点。返回它是不是布尔掩码。"""
    _check_tensor(op, name, mask)
    if mask.dtype.kind == "b":
        return True
    if mask.dtype.kind != "f":
        raise AttentionShapeError(f"{op}: only bool and floating point {name} are supported, got dtype "
                                  f"{mask.dtype}")
    if mask.dtype != query.dtype:
        raise AttentionShapeError(f"{op}: a float {name} must have the query's dtype {query.dtype}, got "
                                  f"{mask.dtype} (convert it with .to(query.dtype))")
    return False


def _apply_mask(scores, mask, masked_when):
    """布尔掩码：``mask == masked_when`` 的位置换成 −∞；浮点掩码：直接加到分数上（可以对它求导）。"""
    if mask.dtype.kind == "b":
        return scores.masked_fill(mask if masked_when else ~mask, _NEG_INF)
    return scores + mask


def _causal_keep(L, S, ref):
    """左上角对齐的下三角：查询 i 只能看键 j ≤ i（(L, S) 的布尔张量，True = 保留）。"""
    return Tensor(np.tril(np.ones((L, S), dtype=bool)), device=ref.device)


def _softmax_rows(scores, zero_dead_rows):
    """对最后一维做 softmax。``zero_dead_rows``：整行都是 −∞（什么都看不见）时权重取 0，而不是
    0/0 = NaN（PyTorch 的 scaled_dot_product_attention 就这样做）。

    这种行先把分数换成 0 再做 softmax，最后把权重换回 0：这样前向没有 NaN，反向经过 where 时这一行
    的梯度是 0，也不会从 softmax 的反向里冒出 NaN。"""
    if not zero_dead_rows:
        return scores.softmax(-1)
    dead = (scores == _NEG_INF).all(-1, keepdim=True)
    if not dead.any().item():
        return scores.softmax(-1)
    return scores.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)


def _pad_last(mask):
    """在掩码最后一维末尾补一列"不遮住"（布尔 False / 浮点 0），给追加的键（bias_k、全零键）用。"""
    pad = Tensor(np.zeros(mask.shape[:-1] + (1,), dtype=mask.dtype), device=mask.device)
    return cat([mask, pad], dim=-1)


# ---------------------------------------------------------------------- 函数形式
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, *,
                                 scale=None, enable_gqa=False):
    """缩放点积注意力：softmax(Q Kᵀ · scale + M) V，scale 默认 1/√E。

    形状：query (…, L, E)，key (…, S, E)，value (…, S, E_v) → 输出 (…, L, E_v)；前面的批维按广播规则对齐。

    * ``attn_mask``：能广播成 (…, L, S)。布尔：**True = 参与注意力**，False 的位置被遮住；
      浮点：加到分数上。
    * ``is_causal=True``：用左上角对齐的因果掩码（查询 i 只看键 0..i）；不能再同时给 ``attn_mask``
      （与 PyTorch 的文档相同，报错）。
    * 一整行都被遮住时，这一行的输出为 0（不是 NaN），与 PyTorch 相同。
    * ``dropout_p``：以这个概率丢弃注意力权重（不看 training 标志：评估时请传 0，与 PyTorch 相同）。
    * ``enable_gqa=True``：分组查询注意力，key/value 的头数（倒数第 3 维）可以是 query 的约数，
      每个键值头被相邻的 Hq/Hk 个查询头共用。

    English: softmax(Q Kᵀ·scale + mask) V. Boolean ``attn_mask``: True = take part in attention.
    ``is_causal`` applies a top-left aligned causal mask (not together with ``attn_mask``). Fully masked
    rows give zeros, as in PyTorch."""
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check_tensor(op, name, t)
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise AttentionShapeError(f"{op}: query, key and value must be at least 2-D (…, seq, features), got "
                                  f"shapes {query.shape}, {key.shape} and {value.shape}")
    if not query.dtype == key.dtype == value.dtype:
        raise AttentionShapeError(f"{op}: query, key and value must have the same dtype, got {query.dtype}, "
                                  f"{key.dtype} and {value.dtype}")
    if query.dtype.kind != "f":
        raise TypeError(f"{op}: expected floating point inputs, got dtype {query.dtype}")
    if key.shape[-1] != query.shape[-1]:
        raise AttentionShapeError(f"{op}: query and key must have the same number of features (last dim), got "
                                  f"query {query.shape} and key {key.shape}")
    if key.shape[-2] != value.shape[-2]:
        raise AttentionShapeError(f"{op}: key and value must have the same sequence length (dim -2), got key "
                                  f"{key.shape} and value {value.shape}")
    if not isinstance(dropout_p, numbers.Real) or not 0 <= dropout_p <= 1:
        raise TensorError(f"{op}: dropout_p must be between 0 and 1, got {dropout_p!r}")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, numbers.Real)):
        raise TypeError(f"{op}: scale must be a number or None, got {type(scale).__name__}")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{op}: attn_mask and is_causal=True cannot both be given: is_causal builds the "
                           "causal mask itself; to combine the two, fold the causal mask into attn_mask")
    if enable_gqa:
        key, value = _repeat_kv_heads(op, query, key, value)
    L, S, E = query.shape[-2], key.shape[-2], query.shape[-1]
    batch = _broadcast(op, "batch dims of query, key and value", query.shape[:-2], key.shape[:-2],
                       value.shape[:-2])
    s = 1.0 / math.sqrt(E) if scale is None else float(scale)
    scores = query.matmul(key.transpose(-2, -1)) * s                      # (…, L, S)
    if is_causal:
        scores = _apply_mask(scores, _causal_keep(L, S, query), masked_when=False)
    if attn_mask is not None:
        _mask_is_bool(op, "attn_mask", attn_mask, query)
        want = batch + (L, S)
        if _broadcast(op, "attn_mask", attn_mask.shape, want) != want:
            raise AttentionShapeError(f"{op}: attn_mask of shape {attn_mask.shape} does not broadcast to the "
                                      f"attention weights' shape {want}")
        scores = _apply_mask(scores, attn_mask, masked_when=False)       # 布尔：True = 保留
    weights = _softmax_rows(scores, zero_dead_rows=True)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, True)
    return weights.matmul(value)


def _broadcast(op, what, *shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise AttentionShapeError(f"{op}: {what} do not broadcast: " + ", ".join(map(str, shapes))) from None


def _repeat_kv_heads(op, query, key, value):
    """GQA：把 key/value 的每个头重复 Hq/Hk 次（相邻重复，同 repeat_interleave），头数就和 query 一样了。"""
    if min(query.ndim, key.ndim, value.ndim) < 3:
        raise AttentionShapeError(f"{op}: enable_gqa needs a heads dim (…, heads, seq, features), got shapes "
                                  f"{query.shape}, {key.shape} and {value.shape}")
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hk == 0 or hv == 0 or hq % hk or hq % hv:
        raise AttentionShapeError(f"{op}: with enable_gqa the number of heads of key ({hk}) and value ({hv}) must "
                                  f"divide the number of heads of query ({hq})")

    def rep(t, r):
        if r == 1:
            return t
        lead, (h, n, d) = t.shape[:-3], t.shape[-3:]
        return t.unsqueeze(-3).expand(lead + (h, r, n, d)).reshape(lead + (h * r, n, d))

    return rep(key, hq // hk), rep(value, hq // hv)


# ---------------------------------------------------------------------------- interpolate / upsample
_INTERP_LINEAR = {"linear": 3, "bilinear": 4}                 # 插值模式 → 它要求的输入维数
_INTERP_OTHER = ("bicubic", "trilinear", "area", "nearest-exact")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """缩放（上采样 / 下采样）最后 1–2 个空间维：输入 (N, C, L) 或 (N, C, H, W)（nearest 也可以 (N, C, D, H, W)）。

    ``size``（输出的空间大小）与 ``scale_factor``（每维放大倍数，输出 = ⌊输入 · 倍数⌋）二选一。
    mode: "nearest"（取最近的元素）、"linear"（3-D）、"bilinear"（4-D）；``align_corners=True`` 让输入、
    输出的角点像素对齐（只有插值模式能用）。给了 scale_factor 而 ``recompute_scale_factor`` 不为 True 时，
    坐标换算用 1/scale_factor（与 PyTorch 相同），否则用 输入长/输出长。"""
    from ..ops.interpolate import Interpolate
    op = "interpolate"
    input = _as_tensor(input, op)
    modes = ("nearest",) + tuple(_INTERP_LINEAR) + _INTERP_OTHER
    if input.ndim not in (3, 4, 5) or mode not in modes:
        raise NotImplementedError(f"{op}: only 3-D, 4-D and 5-D inputs (N, C, spatial...) are supported for the "
                                  f"modes {' | '.join(modes)}; got a {input.ndim}-D input of shape "
                                  f"{input.shape} and mode {mode!r}")
    if align_corners is not None and mode not in ("linear", "bilinear", "bicubic", "trilinear"):
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating modes: "
                         f"linear | bilinear | bicubic | trilinear (got mode {mode!r})")
    dim, spatial = input.ndim - 2, tuple(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError(f"{op}: only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError(f"{op}: either size or scale_factor should be defined")
    if size is not None:
        sizes = tuple(size) if isinstance(size, (list, tuple)) else (size,) * dim
        if len(sizes) != dim:
            raise ValueError(f"{op}: input and output must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {list(spatial)} and output size of {size!r}. "
                             f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                             f"(o1, o2, ...,oK) format.")
        try:
            sizes = tuple(int(operator_index(s)) for s in sizes)
        except TypeError:
            raise TypeError(f"{op}: size must be an int or a sequence of ints, got {size!r}") from None
        scales = (None,) * dim
    else:
        scales = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * dim
        if len(scales) != dim:
            raise ValueError(f"{op}: input and scale_factor must have the same number of spatial dimensions, "
                             f"but got input with spatial dimensions of {list(spatial)} and scale_factor of "
                             f"shape {scale_factor!r}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                             f"format and scale_factor in (s1, s2, ...,sK) format.")
        if not all(isinstance(s, numbers.Real) and not isinstance(s, bool) for s in scales):
            raise TypeError(f"{op}: scale_factor must be a number or a sequence of numbers, got {scale_factor!r}")
        scales = tuple(float(s) for s in scales)
        sizes = tuple(math.floor(n * s) for n, s in zip(spatial, scales))     # 输出 = ⌊输入 · 倍数⌋
    if recompute_scale_factor and size is not None:
        raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor:
        scales = (None,) * dim                     # 坐标换算改用 输入长/输出长
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError(f"{op}: anti-alias option is restricted to bilinear and bicubic modes and requires a "
                         f"4-D tensor as input, got mode {mode!r} and a {input.ndim}-D input")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True (mode {mode!r}) is not supported; "
                                  "use antialias=False")
    if mode in _INTERP_OTHER:
        raise NotImplementedError(f"{op}: mode {mode!r} is not supported; supported modes: 'nearest', "
                                  "'linear' (3-D input), 'bilinear' (4-D input)")
    if mode in _INTERP_LINEAR and input.ndim != _INTERP_LINEAR[mode]:
        raise NotImplementedError(f"{op}: got {input.ndim}-D input of shape {input.shape}, but {mode} mode needs "
                                  f"{_INTERP_LINEAR[mode]}-D input")
    if min(spatial + sizes) <= 0:
        raise RuntimeError(f"{op}: input and output sizes should be greater than 0, but got input spatial size "
                           f"{spatial} and output size {sizes}")
    if input.dtype.kind != "f":
        raise NotImplementedError(f"{op}: mode {mode!r} needs a floating point input, got dtype {input.dtype}")
    return Interpolate.apply(input, sizes=sizes, scales=scales, mode=mode, align_corners=bool(align_corners))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """已弃用（与 PyTorch 相同）：请用 ``interpolate``；参数与结果都一样。"""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)

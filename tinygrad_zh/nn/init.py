"""参数初始化（与 torch.nn.init 同名同参数）：均匀、正态、常数、Xavier/Glorot、Kaiming/He、正交。

Every function fills the tensor in place (keeping its dtype and device), returns the tensor, and
records no graph (as in PyTorch, they run under ``no_grad``, so ``init.normal_(layer.weight)``
works on a Parameter). Random numbers come from the library generator (``tg.manual_seed`` makes
them reproducible), or from ``generator=`` when given; they are drawn on the CPU and then copied
to the device.

为什么要按 fan_in / fan_out 缩放？一层输出是 fan_in 个 "权重 × 输入" 之和，若每个权重方差为 v，
输出方差约为 fan_in · v · Var(输入)。取 v ∝ 1/fan_in 可让信号逐层传下去时既不爆炸也不消失。
"""
import math

import numpy as np

from .. import backend, inplace
from ..autograd import no_grad
from ..random import rng_of
from ..tensor import Tensor


def _fill(tensor, values, name="init", any_dtype=False):
    """Write ``values`` (a NumPy array or scalar) into ``tensor`` in place, keeping its dtype, without
    recording a graph (bumps the version counter like any in-place write). Random initialisations
    need a floating point tensor; constants (``any_dtype``) fit any dtype, as in PyTorch
    (``constant_(long_tensor, 2.7)`` writes 2)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor / Parameter, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f" and not any_dtype:
        raise TypeError(f"{name}: can only initialise floating point tensors, got dtype {tensor.dtype}")
    arr = np.asarray(values).astype(tensor.dtype, copy=False)
    with no_grad():
        inplace.fill(tensor, name, backend.to_device(arr, tensor.device) if arr.ndim else arr.item())
    return tensor


def calculate_gain(nonlinearity, param=None):
    """推荐的增益 gain：让该激活函数后方差保持不变所需的放大倍数。

    linear / conv / sigmoid: 1;  tanh: 5/3;  relu: √2;  leaky_relu(a): √(2 / (1 + a²));  selu: 3/4.
    """
    linear_like = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                   "conv_transpose2d", "conv_transpose3d", "sigmoid")
    if nonlinearity in linear_like:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """fan_in = 输入通道数 × 感受野大小，fan_out = 输出通道数 × 感受野大小（权重形状 (out, in, *k)）。"""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer than 2 "
                         f"dimensions (got shape {tensor.shape})")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """U(a, b)."""
    return _fill(tensor, rng_of(generator).uniform(a, b, size=tensor.shape), "uniform_")


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """N(mean, std²)."""
    return _fill(tensor, rng_of(generator).normal(mean, std, size=tensor.shape), "normal_")


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """N(mean, std²) truncated to [a, b]: values outside are redrawn (rejection sampling)."""
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    rng = rng_of(generator)
    out = rng.normal(mean, std, size=tensor.shape)
    bad = (out < a) | (out > b)
    for _ in range(1000):
        if not bad.any():
            break
        out[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, np.clip(out, a, b), "trunc_normal_")


def constant_(tensor, val):
    return _fill(tensor, val, "constant_", any_dtype=True)


def zeros_(tensor):
    return _fill(tensor, 0, "zeros_", any_dtype=True)


def ones_(tensor):
    return _fill(tensor, 1, "ones_", any_dtype=True)


def eye_(tensor):
    """2-D identity matrix (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape {tensor.shape}")
    return _fill(tensor, np.eye(*tensor.shape), "eye_", any_dtype=True)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Xavier/Glorot：std = gain·√(2 / (fan_in + fan_out))，均匀分布的边界为 √3·std。"""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """Kaiming/He：std = gain / √fan，均匀分布的边界为 √3·std。

    ``nn.Linear`` uses ``a=√5``: gain = √(2/6), so the bound becomes exactly 1/√fan_in."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """(Semi-)orthogonal matrix from the QR decomposition of a Gaussian matrix (rows × columns of the
    tensor flattened to 2-D), scaled by ``gain``: keeps the norm of a vector through the layer."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
                         f"{tensor.shape}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows if rows else 0
    flat = rng_of(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))                 # 让分布在正交矩阵上是均匀的
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape), "orthogonal_")


def empty_parameter(shape, dtype=None, device=None):
    """An uninitialised-looking (zero) Parameter of ``shape``; layers fill it with an init function."""
    from .parameter import Parameter
    dt = backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT
    if dt.kind != "f":
        raise TypeError(f"parameters must be floating point, got dtype {dt}")
    dev = backend.normalize_device(device)
    return Parameter(Tensor(backend.get_xp(dev).zeros(tuple(shape), dt), dtype=dt, device=dev))

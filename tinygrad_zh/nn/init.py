"""参数初始化（与 torch.nn.init 同名同参数）：均匀、正态、常数、Xavier/Glorot、Kaiming/He。

Every function fills ``tensor.array`` in place (keeping its dtype and device), returns the tensor,
and draws its random numbers from the library generator (``tg.manual_seed`` makes them
reproducible; they are drawn on the CPU and then copied to the device).

为什么要按 fan_in / fan_out 缩放？一层输出是 fan_in 个 "权重 × 输入" 之和，若每个权重方差为 v，
输出方差约为 fan_in · v · Var(输入)。取 v ∝ 1/fan_in 可让信号逐层传下去时既不爆炸也不消失。
"""
import math

import numpy as np

from .. import backend
from ..random import generator
from ..tensor import Tensor


def _fill(tensor, values):
    """Write ``values`` (a NumPy array or scalar) into ``tensor.array`` in place, keeping its dtype."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init: expected a Tensor / Parameter, got {type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"init: can only initialise floating point tensors, got dtype {tensor.dtype}")
    arr = np.asarray(values, dtype=tensor.dtype)
    tensor.array[...] = backend.to_device(arr, tensor.device) if arr.ndim else arr.item()
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


def uniform_(tensor, a=0.0, b=1.0):
    """U(a, b)."""
    return _fill(tensor, generator().uniform(a, b, size=tensor.shape))


def normal_(tensor, mean=0.0, std=1.0):
    """N(mean, std²)."""
    return _fill(tensor, generator().normal(mean, std, size=tensor.shape))


def constant_(tensor, val):
    return _fill(tensor, val)


def zeros_(tensor):
    return _fill(tensor, 0)


def ones_(tensor):
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0):
    """Xavier/Glorot：std = gain·√(2 / (fan_in + fan_out))，均匀分布的边界为 √3·std。"""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain=1.0):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    """Kaiming/He：std = gain / √fan，均匀分布的边界为 √3·std。

    ``nn.Linear`` uses ``a=√5``: gain = √(2/6), so the bound becomes exactly 1/√fan_in."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)


def empty_parameter(shape, dtype=None, device=None):
    """An uninitialised-looking (zero) Parameter of ``shape``; layers fill it with an init function."""
    from .parameter import Parameter
    dt = backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT
    if dt.kind != "f":
        raise TypeError(f"parameters must be floating point, got dtype {dt}")
    dev = backend.normalize_device(device)
    return Parameter(Tensor(backend.get_xp(dev).zeros(tuple(shape), dt), dtype=dt, device=dev))

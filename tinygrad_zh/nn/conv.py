"""卷积层与池化层：Conv2d、MaxPool2d、AvgPool2d（参数、形状与默认初始化同 torch.nn）。

计算本身在 ``ops/conv.py``：卷积 = im2col + 一次矩阵乘，反向 = 一次矩阵乘 (dW) + col2im (dx)。
"""
import math
import numbers

from ..ops import conv as _conv
from . import init
from .module import Module


def _pair(v, name, cls, allow_zero=False):
    if isinstance(v, numbers.Integral):
        v = (int(v), int(v))
    if not (isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(a, numbers.Integral) for a in v)):
        raise ValueError(f"{cls}: {name} must be an int or a pair of ints, got {v!r}")
    v = tuple(int(a) for a in v)
    if any(a < (0 if allow_zero else 1) for a in v):
        raise ValueError(f"{cls}: {name} must be {'non-negative' if allow_zero else 'positive'}, got {v}")
    return v


class Conv2d(Module):
    """二维卷积：(N, C_in, H, W) -> (N, C_out, H_out, W_out)，H_out = (H + 2p − k) // s + 1。

    ``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True)``; padding may
    also be ``"valid"`` or ``"same"``.  weight: (C_out, C_in, kh, kw).  Initialisation as in
    PyTorch: ``kaiming_uniform_(weight, a=√5)``, i.e. weight and bias ~ U(−1/√fan_in, 1/√fan_in)
    with fan_in = C_in·kh·kw."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, numbers.Integral) or v <= 0:
                raise ValueError(f"Conv2d: {arg} must be a positive int, got {v!r}")
        if dilation not in (1, (1, 1)) or groups != 1 or padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: only dilation=1, groups=1, padding_mode='zeros' are supported "
                                      f"(got dilation={dilation}, groups={groups}, padding_mode={padding_mode!r})")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = _pair(stride, "stride", "Conv2d")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
            if padding == "same" and (self.stride != (1, 1) or any(k % 2 == 0 for k in self.kernel_size)):
                raise ValueError(f"Conv2d: padding='same' needs stride 1 and an odd kernel, got stride "
                                 f"{self.stride} and kernel_size {self.kernel_size}")
            padding = (0, 0) if padding == "valid" else tuple(k // 2 for k in self.kernel_size)
        self.padding = _pair(padding, "padding", "Conv2d", allow_zero=True)
        self.weight = init.empty_parameter((self.out_channels, self.in_channels) + self.kernel_size, dtype, device)
        if bias:
            self.bias = init.empty_parameter((self.out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))       # = U(−1/√fan_in, 1/√fan_in)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.ndim in (3, 4) and input.shape[-3] != self.in_channels:
            raise ValueError(f"Conv2d: input has {input.shape[-3]} channels (shape {input.shape}), "
                             f"expected in_channels={self.in_channels}")
        return _conv.conv2d(input, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class _Pool(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _pair(kernel_size, "kernel_size", name)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", name)
        self.padding = _pair(padding, "padding", name, allow_zero=True)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: padding {self.padding} must be at most half of kernel_size "
                             f"{self.kernel_size}")

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool):
    """最大池化：每个 kh×kw 窗口取最大值（stride 默认等于 kernel_size；padding 处视为 −∞）。
    反向时梯度只流向窗口里的最大值（并列时取第一个）。"""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        if dilation not in (1, (1, 1)) or return_indices or ceil_mode:
            raise NotImplementedError("MaxPool2d: dilation, return_indices and ceil_mode are not supported")
        super().__init__(kernel_size, stride, padding)

    def forward(self, input):
        return _conv.max_pool2d(input, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool):
    """平均池化：每个窗口取平均（默认 padding 的 0 也计入平均，与 PyTorch 相同）。"""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        if ceil_mode:
            raise NotImplementedError("AvgPool2d: ceil_mode is not supported")
        super().__init__(kernel_size, stride, padding)
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override

    def forward(self, input):
        return _conv.avg_pool2d(input, self.kernel_size, self.stride, self.padding,
                                count_include_pad=self.count_include_pad, divisor_override=self.divisor_override)


__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d"]

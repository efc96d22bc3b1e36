"""卷积层与池化层：Conv2d、MaxPool2d、AvgPool2d、AdaptiveAvgPool2d、AdaptiveMaxPool2d
（参数、属性、repr、形状与默认初始化同 torch.nn）。

计算本身在 ``ops/conv.py``：卷积 = im2col + 一次矩阵乘，反向 = 一次矩阵乘 (dW) + col2im (dx)。

English: convolution and pooling layers with torch.nn's parameters, attributes, repr and default
initialisation; the maths (im2col + GEMM, col2im in backward) lives in ``ops/conv.py``.
"""
import math
import numbers

from ..ops import conv as _conv
from . import init
from .module import Module
from ..errors import TensorError


def _pair(v, name, cls, allow_zero=False):
    if isinstance(v, numbers.Integral):
        v = (int(v), int(v))
    if not (isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(a, numbers.Integral) for a in v)):
        raise TensorError(f"{cls}: {name} must be an int or a pair of ints, got {v!r}")
    v = tuple(int(a) for a in v)
    if any(a < (0 if allow_zero else 1) for a in v):
        raise TensorError(f"{cls}: {name} must be {'non-negative' if allow_zero else 'positive'}, got {v}")
    return v


class Conv2d(Module):
    """二维卷积：(N, C_in, H, W) -> (N, C_out, H_out, W_out)，H_out = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1。

    ``Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
    bias=True, padding_mode="zeros")``; padding may also be ``"valid"`` or ``"same"`` (stride 1).
    weight: (C_out, C_in/groups, kh, kw). ``groups=C_in`` is a depthwise convolution.
    Initialisation as in PyTorch: ``kaiming_uniform_(weight, a=√5)``, i.e. weight and bias ~
    U(−1/√fan_in, 1/√fan_in) with fan_in = C_in/groups·kh·kw."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        _check_channels("Conv2d", in_channels, out_channels, groups, padding_mode)
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = _pair(stride, "stride", "Conv2d")
        self.dilation = _pair(dilation, "dilation", "Conv2d")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise TensorError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise TensorError(f"Conv2d: padding='same' is not supported for strided convolutions "
                                 f"(stride {self.stride})")
            self.padding = padding                      # 与 PyTorch 相同：保留字符串
        else:
            self.padding = _pair(padding, "padding", "Conv2d", allow_zero=True)
        self.padding_mode = padding_mode
        self.weight = init.empty_parameter((self.out_channels, self.in_channels // self.groups) + self.kernel_size,
                                           dtype, device)
        if bias:
            self.bias = init.empty_parameter((self.out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))       # 即 U(−1/√fan_in, 1/√fan_in)，同 PyTorch
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        if input.ndim in (3, 4) and input.shape[-3] != self.in_channels:
            raise TensorError(f"Conv2d: input has {input.shape[-3]} channels (shape {input.shape}), "
                             f"expected in_channels={self.in_channels}")
        return _conv.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class _Pool(Module):
    """池化的选项按给定的样子保存（整数仍是整数，与 PyTorch 相同），并在这里检查。"""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        super().__init__()
        name = type(self).__name__
        k = _pair(kernel_size, "kernel_size", name)
        if stride is not None:
            _pair(stride, "stride", name)
        p = _pair(padding, "padding", name, allow_zero=True)
        d = _pair(dilation, "dilation", name)
        eff = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
        if any(2 * pi > ei for pi, ei in zip(p, eff)):
            raise TensorError(f"{name}: padding {padding} must be at most half of the (effective) kernel_size "
                             f"{kernel_size}")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, bool(ceil_mode)


class MaxPool2d(_Pool):
    """最大池化：每个 kh×kw 窗口取最大值（stride 默认等于 kernel_size；padding 处视为 −∞）。
    反向时梯度只流向窗口里的最大值（并列时取第一个）。

    ``dilation``: the window taps are d pixels apart. ``ceil_mode=True``: the output size is rounded
    up (a last, partial window at the bottom / right). ``return_indices=True``: also return the
    position row·W + col of each maximum."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode)
        self.dilation, self.return_indices = dilation, bool(return_indices)

    def forward(self, input):
        return _conv.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                                self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(_Pool):
    """平均池化：每个窗口取平均（默认 padding 的 0 也计入平均，与 PyTorch 相同）。

    ``ceil_mode=True`` rounds the output size up; the partial windows past the padding are averaged
    over the pixels they do cover. ``count_include_pad=False`` leaves the padding out of the count,
    ``divisor_override`` divides by a fixed number."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override

    def forward(self, input):
        return _conv.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """自适应平均池化：无论输入多大，输出都是 ``output_size``（(1, 1) 就是全局平均池化，NiN/ResNet 的结尾）。

    Window i along a dimension of size n covers [⌊i·n/m⌋, ⌈(i+1)·n/m⌉) (PyTorch's windows);
    ``None`` in ``output_size`` keeps that dimension."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return _conv.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """自适应最大池化：输出固定为 ``output_size``，每个窗口取最大值（窗口划分同 AdaptiveAvgPool2d）。"""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, bool(return_indices)

    def forward(self, input):
        return _conv.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


def _single(v, name, cls, allow_zero=False):
    """一维层的参数：整数或 1 元组 -> 1 元组（PyTorch 的 Conv1d 就这样保存）。"""
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TensorError(f"{cls}: {name} must be an int or a 1-tuple of one, got {v!r}")
    if v < (0 if allow_zero else 1):
        raise TensorError(f"{cls}: {name} must be {'non-negative' if allow_zero else 'positive'}, got {v}")
    return (int(v),)


def _check_channels(cls, in_channels, out_channels, groups, padding_mode):
    for arg, v in (("in_channels", in_channels), ("out_channels", out_channels), ("groups", groups)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise TensorError(f"{cls}: {arg} must be a positive int, got {v!r}")
    if in_channels % groups:
        raise TensorError(f"{cls}: in_channels must be divisible by groups (got {in_channels} and {groups})")
    if out_channels % groups:
        raise TensorError(f"{cls}: out_channels must be divisible by groups (got {out_channels} and {groups})")
    if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
        raise TensorError(f"{cls}: padding_mode must be one of 'zeros', 'reflect', 'replicate' or "
                          f"'circular', got {padding_mode!r}")
    if padding_mode != "zeros":
        raise NotImplementedError(f"{cls}: padding_mode={padding_mode!r} is not supported (only 'zeros')")


def _conv_repr(m):
    """PyTorch 的卷积层 repr：只列出不是默认值的选项（output_padding 排在 dilation 之后）。"""
    n = len(m.kernel_size)
    s = f"{m.in_channels}, {m.out_channels}, kernel_size={m.kernel_size}, stride={m.stride}"
    if m.padding != (0,) * n:
        s += f", padding={m.padding}"
    if m.dilation != (1,) * n:
        s += f", dilation={m.dilation}"
    if getattr(m, "output_padding", (0,) * n) != (0,) * n:
        s += f", output_padding={m.output_padding}"
    if m.groups != 1:
        s += f", groups={m.groups}"
    if m.bias is None:
        s += ", bias=False"
    return s


class Conv1d(Module):
    """一维卷积：(N, C_in, L) -> (N, C_out, L_out)，L_out = ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1（TextCNN 用它）。

    ``Conv1d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
    bias=True, padding_mode="zeros")``; padding may also be ``"valid"`` or ``"same"`` (stride 1).
    weight: (C_out, C_in/groups, k); the computation is a height-1 Conv2d. Initialisation as in
    PyTorch: weight and bias ~ U(−1/√fan_in, 1/√fan_in), fan_in = C_in/groups·k."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        _check_channels("Conv1d", in_channels, out_channels, groups, padding_mode)
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _single(kernel_size, "kernel_size", "Conv1d")
        self.stride = _single(stride, "stride", "Conv1d")
        self.dilation = _single(dilation, "dilation", "Conv1d")
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise TensorError(f"Conv1d: padding must be an int, 'valid' or 'same', got {padding!r}")
            if padding == "same" and self.stride != (1,):
                raise TensorError(f"Conv1d: padding='same' is not supported for strided convolutions "
                                  f"(stride {self.stride})")
            self.padding = padding
        else:
            self.padding = _single(padding, "padding", "Conv1d", allow_zero=True)
        self.padding_mode = padding_mode
        self.weight = init.empty_parameter((self.out_channels, self.in_channels // self.groups) + self.kernel_size,
                                           dtype, device)
        if bias:
            self.bias = init.empty_parameter((self.out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    reset_parameters = Conv2d.reset_parameters        # U(−1/√fan_in, 1/√fan_in)，同 PyTorch

    def forward(self, input):
        if input.ndim in (2, 3) and input.shape[-2] != self.in_channels:
            raise TensorError(f"Conv1d: input has {input.shape[-2]} channels (shape {input.shape}), "
                              f"expected in_channels={self.in_channels}")
        return _conv.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        return _conv_repr(self)


class ConvTranspose2d(Module):
    """二维转置卷积（"反卷积"，FCN 用它上采样）：(N, C_in, H, W) -> (N, C_out, H_out, W_out)，
    H_out = (H − 1)·s − 2p + d(k − 1) + output_padding + 1。

    ``ConvTranspose2d(in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
    groups=1, bias=True, dilation=1, padding_mode="zeros")``. weight: (C_in, C_out/groups, kh, kw)
    (note: in before out, as in PyTorch). Initialisation as in PyTorch, with fan_in computed from
    that weight shape (C_out/groups·kh·kw). ``forward(input, output_size=None)``: ``output_size``
    picks the output_padding that gives that size."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        _check_channels("ConvTranspose2d", in_channels, out_channels, groups, padding_mode)
        if isinstance(padding, str):
            raise TensorError(f"ConvTranspose2d: padding must be an int or a pair, got {padding!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = _pair(kernel_size, "kernel_size", "ConvTranspose2d")
        self.stride = _pair(stride, "stride", "ConvTranspose2d")
        self.padding = _pair(padding, "padding", "ConvTranspose2d", allow_zero=True)
        self.output_padding = _pair(output_padding, "output_padding", "ConvTranspose2d", allow_zero=True)
        self.dilation = _pair(dilation, "dilation", "ConvTranspose2d")
        self.padding_mode = padding_mode
        self.weight = init.empty_parameter((self.in_channels, self.out_channels // self.groups) + self.kernel_size,
                                           dtype, device)
        if bias:
            self.bias = init.empty_parameter((self.out_channels,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _output_padding(self, input, output_size):
        """``output_size`` ((H_out, W_out)，也可以带上 N、C) -> 需要的 output_padding。"""
        from ..ops.conv_transpose import conv_transpose_output_size
        size = tuple(int(v) for v in output_size)
        if len(size) == input.ndim:
            size = size[-2:]
        if len(size) != 2:
            raise TensorError(f"ConvTranspose2d: output_size must have 2 or {input.ndim} elements, got {output_size}")
        pads = []
        for n, want, k, s, p, d in zip(input.shape[-2:], size, self.kernel_size, self.stride, self.padding,
                                       self.dilation):
            lo = conv_transpose_output_size(n, k, s, p, 0, d)
            hi = lo + max(s, d) - 1
            if not lo <= want <= hi:
                raise TensorError(f"ConvTranspose2d: requested output_size {size} for input {input.shape}, but "
                                  f"each side must lie between the smallest and largest possible sizes "
                                  f"({lo} to {hi} here)")
            pads.append(want - lo)
        return tuple(pads)

    def forward(self, input, output_size=None):
        from ..ops.conv_transpose import conv_transpose2d
        if input.ndim in (3, 4) and input.shape[-3] != self.in_channels:
            raise TensorError(f"ConvTranspose2d: input has {input.shape[-3]} channels (shape {input.shape}), "
                              f"expected in_channels={self.in_channels}")
        op = self.output_padding if output_size is None else self._output_padding(input, output_size)
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                self.dilation)

    reset_parameters = Conv2d.reset_parameters        # fan_in 按权重形状 (C_in, C_out/groups, kh, kw) 算，同 PyTorch

    def extra_repr(self):
        return _conv_repr(self)


class MaxPool1d(Module):
    """一维最大池化：每个长度 k 的窗口取最大值（stride 默认等于 kernel_size）。选项按给定的样子保存
    （同 PyTorch）。``return_indices=True`` 时还返回每个最大值在 L 上的位置。"""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        _single(kernel_size, "kernel_size", "MaxPool1d")
        if stride is not None:
            _single(stride, "stride", "MaxPool1d")
        _single(padding, "padding", "MaxPool1d", allow_zero=True)
        _single(dilation, "dilation", "MaxPool1d")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, input):
        return _conv.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                                self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool1d(Module):
    """一维平均池化：每个长度 k 的窗口取平均（默认 padding 的 0 也计入平均，与 PyTorch 相同）。"""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size, "kernel_size", "AvgPool1d")
        self.stride = self.kernel_size if stride is None else _single(stride, "stride", "AvgPool1d")
        self.padding = _single(padding, "padding", "AvgPool1d", allow_zero=True)
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)

    def forward(self, input):
        return _conv.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool1d(Module):
    """一维自适应平均池化：(N, C, L) -> (N, C, output_size)；output_size=1 即对整个序列取平均。"""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    extra_repr = AdaptiveAvgPool2d.extra_repr

    def forward(self, input):
        return _conv.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool1d(Module):
    """一维自适应最大池化：(N, C, L) -> (N, C, output_size)；output_size=1 即"时间上的最大池化"（TextCNN）。"""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, bool(return_indices)

    extra_repr = AdaptiveMaxPool2d.extra_repr

    def forward(self, input):
        return _conv.adaptive_max_pool1d(input, self.output_size, self.return_indices)


__all__ = ["Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d"]

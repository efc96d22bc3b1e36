"""二维卷积与池化：im2col + 一次矩阵乘（GEMM），反向用一次矩阵乘求 dW、col2im 求 dx。

卷积 = 把每个输出位置"看到"的那块输入 (C·kh·kw 个数) 摊平成一列，再与摊平的卷积核做矩阵乘::

    cols  (C·kh·kw, N·Ho·Wo)      每一列是一个输出位置的感受野（im2col）
    W     (O, C·kh·kw)
    out = W · cols  (O, N·Ho·Wo)  → 看作 (N, O, Ho, Wo)

反向：out = W·cols 是普通矩阵乘，所以 dW = g·colsᵀ（一次 GEMM），dcols = Wᵀ·g；
dcols 再 "放回" 输入的位置并把重叠处相加（col2im），就是 dx。

布局选择（为了不做多余的复制）：cols 的列按 (n, oh, ow) 排，行按 (c, i, j) 排；im2col 的复制
最内层沿 ow 连续读取输入。GEMM 的结果在内存里是 (O, N, Ho, Wo)，返回的是它的转置 *视图*
（逻辑形状仍是 NCHW）；下一层的 ReLU、池化保持这个内存布局，反向时 g 转回 (O, N·Ho·Wo)
通常不需要复制。

im2col/col2im 没有对像素的 Python 循环：im2col 是 ``as_strided`` 视图上的一次复制，col2im 只对
kh·kw 个卷积核偏移循环（每次处理整块数组）。``im2col_arrays``、``col2im_arrays``、
``maxpool_forward_arrays``、``maxpool_backward_arrays``、``avgpool_*_arrays`` 是唯一的实现，
CUDA 内核要与它们的结果一致。
"""
from ..autograd import Function
from ..backend import array_module, device_of

_KERNELS = {}      # device -> {"im2col": fn, "col2im": fn, "maxpool_forward": fn, "maxpool_backward": fn}


def register_kernels(device, **fns):
    """Use device-specific versions (e.g. CUDA kernels) of the array helpers for arrays on ``device``.

    Accepted names: ``im2col``, ``col2im``, ``maxpool_forward``, ``maxpool_backward``; each must
    take the arguments of the matching ``*_arrays`` function below and return the same result."""
    known = {"im2col", "col2im", "maxpool_forward", "maxpool_backward"}
    bad = set(fns) - known
    if bad:
        raise ValueError(f"register_kernels: unknown kernel names {sorted(bad)}; expected some of {sorted(known)}")
    _KERNELS.setdefault(device, {}).update(fns)


def _impl(arr, name, default):
    table = _KERNELS.get(device_of(arr))
    return default if table is None else table.get(name, default)


def _pair(v, name, op, allow_zero=False):
    if isinstance(v, int):
        v = (v, v)
    v = tuple(int(a) for a in v)
    if len(v) != 2 or any(a < (0 if allow_zero else 1) for a in v):
        raise ValueError(f"{op}: {name} must be a {'non-negative' if allow_zero else 'positive'} int or "
                         f"a pair of them, got {v}")
    return v


def conv_output_size(H, W, kernel, stride, padding):
    """(Ho, Wo) = ((H + 2p - k) // s + 1, …) —— 每个方向能放下多少个窗口。"""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    return (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1


def _pad(x, padding, value=0):
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    xp = array_module(x)
    N, C, H, W = x.shape
    xpad = xp.full((N, C, H + 2 * ph, W + 2 * pw), value, x.dtype)
    xpad[:, :, ph:ph + H, pw:pw + W] = x
    return xpad


def _windows_at(xpad, i, j, out_hw, stride):
    """The (N, C, Ho, Wo) view of the input pixel at kernel offset (i, j) of every window."""
    (Ho, Wo), (sh, sw) = out_hw, stride
    return xpad[:, :, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw]


def im2col_arrays(x, kernel, stride=(1, 1), padding=(0, 0)):
    """x (N, C, H, W) -> cols (C·kh·kw, N·Ho·Wo).

    Row ``(c·kh + i)·kw + j`` / column ``(n·Ho + oh)·Wo + ow`` holds
    ``x_padded[n, c, oh·sh + i, ow·sw + j]`` (zero padding).  One strided view + one copy."""
    xp = array_module(x)
    N, C, H, W = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    Ho, Wo = conv_output_size(H, W, kernel, stride, padding)
    xpad = _pad(x, padding)
    s = xpad.strides
    # 6 维视图 (C, kh, kw, N, Ho, Wo)：不复制任何数据，只是换一种"看"输入的方式
    win = xp.lib.stride_tricks.as_strided(
        xpad, shape=(C, kh, kw, N, Ho, Wo),
        strides=(s[1], s[2], s[3], s[0], s[2] * sh, s[3] * sw))
    cols = xp.empty((C, kh, kw, N, Ho, Wo), x.dtype)
    cols[...] = win
    return cols.reshape(C * kh * kw, N * Ho * Wo)


def col2im_arrays(dcols, x_shape, kernel, stride=(1, 1), padding=(0, 0)):
    """The adjoint of ``im2col_arrays``: dcols (C·kh·kw, N·Ho·Wo) -> dx of shape x_shape.

    Every column entry is added back to the input pixel it was copied from (overlaps add up).
    Loops over the kh·kw kernel offsets only.  The result has logical shape (N, C, H, W)
    (its memory is (C, N, H, W))."""
    xp = array_module(dcols)
    N, C, H, W = x_shape
    (kh, kw), (ph, pw) = kernel, padding
    Ho, Wo = conv_output_size(H, W, kernel, stride, padding)
    d6 = dcols.reshape(C, kh, kw, N, Ho, Wo)
    dxp = xp.zeros((C, N, H + 2 * ph, W + 2 * pw), dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            _windows_at(dxp, i, j, (Ho, Wo), stride)[...] += d6[:, i, j]
    return dxp[:, :, ph:ph + H, pw:pw + W].transpose(1, 0, 2, 3)


class Conv2dFn(Function):
    """y = conv2d(x, W) + b.  x (N, C, H, W), W (O, C, kh, kw), b (O,) -> y (N, O, Ho, Wo).

    ``Conv2dFn.apply(x, w[, b], stride=1, padding=0)``."""

    def forward(self, x, w, b=None, stride=1, padding=0):
        stride, padding = _pair(stride, "stride", "conv2d"), _pair(padding, "padding", "conv2d", True)
        if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[1]:
            raise ValueError(f"conv2d: expected input (N, C, H, W) and weight (O, C, kh, kw) with the same "
                             f"C, got input {x.shape} and weight {w.shape}")
        if b is not None and b.shape != (w.shape[0],):
            raise ValueError(f"conv2d: bias must have shape ({w.shape[0]},), got {b.shape}")
        if x.dtype.kind != "f" or x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
            raise TypeError(f"conv2d: expected floating point input, weight and bias of one dtype, got "
                            f"{x.dtype}, {w.dtype}" + ("" if b is None else f", {b.dtype}"))
        N, C, H, W = x.shape
        O, _, kh, kw = w.shape
        Ho, Wo = conv_output_size(H, W, (kh, kw), stride, padding)
        if Ho < 1 or Wo < 1:
            raise ValueError(f"conv2d: kernel ({kh}, {kw}) is larger than the padded input "
                             f"({H + 2 * padding[0]}, {W + 2 * padding[1]}) (input {x.shape}, padding {padding})")
        cols = _impl(x, "im2col", im2col_arrays)(x, (kh, kw), stride, padding)
        y = w.reshape(O, -1) @ cols                       # 整个卷积 = 一次 GEMM
        if b is not None:
            y += b[:, None]
        self.cols = cols                                  # dW 需要它（needs_input_grad 在前向之后才设置）
        self.w, self.x_shape, self.stride, self.padding, self.has_b = w, x.shape, stride, padding, b is not None
        return y.reshape(O, N, Ho, Wo).transpose(1, 0, 2, 3)

    def backward(self, g):
        """y = W·cols + b:  ∂L/∂W = g·colsᵀ，∂L/∂b = Σ g（按输出通道），∂L/∂cols = Wᵀ·g，
        ∂L/∂x = col2im(∂L/∂cols) —— 一个输入像素出现在多个窗口里，它的梯度是这些位置之和。"""
        w = self.w
        O = w.shape[0]
        g2 = g.transpose(1, 0, 2, 3).reshape(O, -1)      # 内存本来就是 (O, N, Ho, Wo) 时不复制
        w2 = w.reshape(O, -1)
        dx = dw = db = None
        if self.needs_input_grad[0]:
            dx = _impl(g, "col2im", col2im_arrays)(w2.T @ g2, self.x_shape, w.shape[2:], self.stride,
                                                   self.padding)
        if self.needs_input_grad[1]:
            dw = (g2 @ self.cols.T).reshape(w.shape)
        if self.has_b and self.needs_input_grad[2]:
            db = g2.sum(axis=1)
        return (dx, dw, db) if self.has_b else (dx, dw)


# ----------------------------------------------------------------------------- pooling
def _pool_args(x, kernel, stride, padding, op):
    kernel = _pair(kernel, "kernel_size", op)
    stride = kernel if stride is None else _pair(stride, "stride", op)
    padding = _pair(padding, "padding", op, True)
    if x.ndim != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ValueError(f"{op}: padding {padding} must be at most half of kernel_size {kernel}")
    Ho, Wo = conv_output_size(x.shape[2], x.shape[3], kernel, stride, padding)
    if Ho < 1 or Wo < 1:
        raise ValueError(f"{op}: kernel {kernel} is larger than the padded input (input {x.shape}, "
                         f"padding {padding})")
    return kernel, stride, padding, (Ho, Wo)


def maxpool_forward_arrays(x, kernel, stride, padding=(0, 0)):
    """Max pooling. Returns (out (N, C, Ho, Wo), idx): ``idx`` holds, per output, the flat offset
    ``i·kw + j`` inside its window of the (first) maximum — backward routes the gradient there.

    Loops over the kh·kw kernel offsets with whole-array ops (a running maximum)."""
    xp = array_module(x)
    (kh, kw), (Ho, Wo) = kernel, conv_output_size(x.shape[2], x.shape[3], kernel, stride, padding)
    xpad = _pad(x, padding, -xp.inf)
    out = idx = None
    for i in range(kh):
        for j in range(kw):
            sl = _windows_at(xpad, i, j, (Ho, Wo), stride)
            if out is None:
                out = xp.empty_like(sl)                   # 与输入相同的内存布局
                out[...] = sl
                idx = xp.zeros(sl.shape, xp.int8 if kh * kw < 128 else xp.int32)
                continue
            better = sl > out                             # 严格大于：并列时保留第一个（同 PyTorch）
            xp.maximum(out, sl, out=out)
            xp.copyto(idx, i * kw + j, where=better)
    return out, idx


def maxpool_backward_arrays(g, idx, x_shape, kernel, stride, padding=(0, 0)):
    """Gradient of max pooling: each g goes to the input position its window's max came from."""
    xp = array_module(g)
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = g.shape[2], g.shape[3]
    dxp = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), g.dtype)
    overlap = sh < kh or sw < kw
    for i in range(kh):
        for j in range(kw):
            target = _windows_at(dxp, i, j, (Ho, Wo), stride)
            if overlap:
                target += g * (idx == i * kw + j)
            else:                                         # 窗口不重叠：每个像素只属于一个窗口
                xp.multiply(g, idx == i * kw + j, out=target)
    return dxp[:, :, ph:ph + H, pw:pw + W]


def _avg_scale(xp, x_shape, kernel, stride, padding, count_include_pad=True, divisor_override=None,
               dtype=None):
    """1 / (number of elements each window is divided by): a scalar, or an (Ho, Wo) array when
    padding is excluded from the count (windows at the border then hold fewer real pixels)."""
    (kh, kw), (ph, pw) = kernel, padding
    if divisor_override is not None:
        return dtype.type(1.0 / divisor_override)
    if count_include_pad or (ph == 0 and pw == 0):
        return dtype.type(1.0 / (kh * kw))
    H, W = x_shape[2], x_shape[3]
    Ho, Wo = conv_output_size(H, W, kernel, stride, padding)
    ones = xp.zeros((1, 1, H + 2 * ph, W + 2 * pw), dtype)
    ones[:, :, ph:ph + H, pw:pw + W] = 1
    count = sum(_windows_at(ones, i, j, (Ho, Wo), stride) for i in range(kh) for j in range(kw))
    return (1 / count[0, 0]).astype(dtype)


def avgpool_forward_arrays(x, kernel, stride, padding=(0, 0), count_include_pad=True,
                           divisor_override=None):
    """Average pooling.  By default (as in PyTorch) zero padding counts in the average;
    ``count_include_pad=False`` divides by the number of real pixels, ``divisor_override`` by a
    fixed number."""
    xp = array_module(x)
    (kh, kw), (Ho, Wo) = kernel, conv_output_size(x.shape[2], x.shape[3], kernel, stride, padding)
    xpad = _pad(x, padding, 0)
    out = None
    for i in range(kh):
        for j in range(kw):
            sl = _windows_at(xpad, i, j, (Ho, Wo), stride)
            if out is None:
                out = xp.empty_like(sl)
                out[...] = sl
            else:
                out += sl
    out *= _avg_scale(xp, x.shape, kernel, stride, padding, count_include_pad, divisor_override, x.dtype)
    return out


def avgpool_backward_arrays(g, x_shape, kernel, stride, padding=(0, 0), count_include_pad=True,
                            divisor_override=None):
    """Gradient of average pooling: every input of a window gets g / (window's divisor)."""
    xp = array_module(g)
    N, C, H, W = x_shape
    (kh, kw), (ph, pw) = kernel, padding
    Ho, Wo = g.shape[2], g.shape[3]
    gs = g * _avg_scale(xp, x_shape, kernel, stride, padding, count_include_pad, divisor_override, g.dtype)
    dxp = xp.zeros((N, C, H + 2 * ph, W + 2 * pw), g.dtype)
    for i in range(kh):
        for j in range(kw):
            _windows_at(dxp, i, j, (Ho, Wo), stride)[...] += gs
    return dxp[:, :, ph:ph + H, pw:pw + W]


class MaxPool2dFn(Function):
    """``MaxPool2dFn.apply(x, kernel_size=2, stride=None, padding=0)``: max over each window."""

    def forward(self, x, kernel_size=2, stride=None, padding=0):
        self.kernel, self.stride, self.padding, _ = _pool_args(x, kernel_size, stride, padding, "max_pool2d")
        out, self.idx = _impl(x, "maxpool_forward", maxpool_forward_arrays)(x, self.kernel, self.stride,
                                                                             self.padding)
        self.x_shape = x.shape
        return out

    def backward(self, g):
        """y = max(窗口):  ∂y/∂xₖ = 1 若 xₖ 是窗口里（第一个）最大值，否则 0 —— 梯度只流回"赢家"。"""
        return _impl(g, "maxpool_backward", maxpool_backward_arrays)(g, self.idx, self.x_shape, self.kernel,
                                                                    self.stride, self.padding)


class AvgPool2dFn(Function):
    """``AvgPool2dFn.apply(x, kernel_size=2, stride=None, padding=0)``: mean over each window."""

    def forward(self, x, kernel_size=2, stride=None, padding=0, count_include_pad=True,
                divisor_override=None):
        self.kernel, self.stride, self.padding, _ = _pool_args(x, kernel_size, stride, padding, "avg_pool2d")
        if x.dtype.kind != "f":
            raise TypeError(f"avg_pool2d: expected a floating point input, got {x.dtype}")
        if divisor_override is not None and divisor_override <= 0:
            raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
        self.x_shape, self.opts = x.shape, (count_include_pad, divisor_override)
        return avgpool_forward_arrays(x, self.kernel, self.stride, self.padding, *self.opts)

    def backward(self, g):
        """y = (1/n) Σ 窗口（n = kh·kw）:  ∂y/∂xₖ = 1/n —— 每个窗口把梯度平均分给窗口里的每个输入。"""
        return avgpool_backward_arrays(g, self.x_shape, self.kernel, self.stride, self.padding, *self.opts)


# ----------------------------------------------------------------------------- Tensor-level functions
def _input4d(input, op):
    """(C, H, W) is treated as a batch of one, like PyTorch; returns (tensor, was_unbatched)."""
    from ..tensor import Tensor
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim == 3:
        return input.unsqueeze(0), True
    if input.ndim != 4:
        raise ValueError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    return input, False


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as in every DL framework) of (N, C, H, W) or (C, H, W).

    ``padding`` may be an int, a pair, ``"valid"`` (0) or ``"same"`` (stride 1, odd kernels)."""
    if dilation not in (1, (1, 1)) or groups != 1:
        raise NotImplementedError(f"conv2d: dilation={dilation} and groups={groups} are not supported "
                                  "(only dilation=1, groups=1)")
    x, unbatched = _input4d(input, "conv2d")
    if isinstance(padding, str):
        kh, kw = weight.shape[2:]
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if _pair(stride, "stride", "conv2d") != (1, 1) or kh % 2 == 0 or kw % 2 == 0:
                raise ValueError(f"conv2d: padding='same' needs stride 1 and an odd kernel, got stride "
                                 f"{stride} and kernel ({kh}, {kw})")
            padding = (kh // 2, kw // 2)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = Conv2dFn.apply(*args, stride=stride, padding=padding)
    return y.squeeze(0) if unbatched else y


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling of (N, C, H, W) or (C, H, W); stride defaults to kernel_size."""
    if dilation not in (1, (1, 1)) or ceil_mode or return_indices:
        raise NotImplementedError("max_pool2d: dilation, ceil_mode and return_indices are not supported")
    x, unbatched = _input4d(input, "max_pool2d")
    y = MaxPool2dFn.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)
    return y.squeeze(0) if unbatched else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling of (N, C, H, W) or (C, H, W); stride defaults to kernel_size."""
    if ceil_mode:
        raise NotImplementedError("avg_pool2d: ceil_mode is not supported")
    x, unbatched = _input4d(input, "avg_pool2d")
    y = AvgPool2dFn.apply(x, kernel_size=kernel_size, stride=stride, padding=padding,
                          count_include_pad=count_include_pad, divisor_override=divisor_override)
    return y.squeeze(0) if unbatched else y

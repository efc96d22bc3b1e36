"""二维卷积与池化：im2col + 一次矩阵乘（GEMM），反向用一次矩阵乘求 dW、col2im 求 dx。

卷积 = 把每个输出位置"看到"的那块输入 (C·kh·kw 个数) 摊平成一列，再与摊平的卷积核做矩阵乘::

    cols  (C·kh·kw, N·Ho·Wo)      每一列是一个输出位置的感受野（im2col）
    W     (O, C·kh·kw)
    out = W · cols  (O, N·Ho·Wo)  → 看作 (N, O, Ho, Wo)

反向：out = W·cols 是普通矩阵乘，所以 dW = g·colsᵀ（一次 GEMM），dcols = Wᵀ·g；
dcols 再 "放回" 输入的位置并把重叠处相加（col2im），就是 dx。

内存布局（NumPy 的逐元素运算/复制在最内层循环很短时很慢，所以布局决定速度）：

* ``im2col_arrays`` —— 通道在前（channels-first）：cols 行按 (c, i, j)、列按 (n, oh, ow) 排，
  复制时最内层沿 ow 连续读取。输入是普通 NCHW 内存（例如第一层的图像）时用它。
* ``im2col_nhwc_arrays`` —— 通道在后（channels-last）：colsᵀ (N·Ho·Wo, kh·kw·C)，最内层沿
  通道连续。输入内存已经是 NHWC（上一层卷积/池化的输出）时用它，卷积核相应地按 (O, kh, kw, C) 排。
* 两种情况下 GEMM 都按 yᵀ = colsᵀ·Wᵀ 计算，结果的内存是 (N, Ho, Wo, O)（NHWC），返回它的转置
  *视图*（逻辑形状仍是 NCHW）。之后的 ReLU、池化保持这个布局、沿通道连续读写；反向时
  gᵀ = (N·Ho·Wo, O) 通常不需要复制。

im2col/col2im 没有对像素的 Python 循环：im2col 是 ``as_strided`` 视图上的一次复制，col2im 只对
kh·kw 个卷积核偏移循环（每次处理整块数组）。``im2col_arrays``、``col2im_arrays``、
``maxpool_forward_arrays``、``maxpool_backward_arrays``、``avgpool_*_arrays`` 是参考实现，
CUDA 内核要与它们的结果一致（注册了 CUDA 内核的设备总是走通道在前的路径）。
"""
from ..autograd import Function
from ..backend import array_module, device_of, ones_vector

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
    Loops over the kh·kw kernel offsets only.  The result has logical shape (N, C, H, W); its
    memory follows dcols: (N, H, W, C) when dcols is the transposed view of an (N·Ho·Wo, C·kh·kw)
    array (what Conv2dFn passes), else (C, N, H, W), so the additions stream through memory."""
    xp = array_module(dcols)
    N, C, H, W = x_shape
    (kh, kw), (ph, pw) = kernel, padding
    Ho, Wo = conv_output_size(H, W, kernel, stride, padding)
    d6 = dcols.reshape(C, kh, kw, N, Ho, Wo)
    layout = (0, 2, 3, 1) if dcols.strides[0] < dcols.strides[1] else (1, 0, 2, 3)
    dxp = _zeros_in_layout(xp, (N, C, H + 2 * ph, W + 2 * pw), dcols.dtype, layout)
    for i in range(kh):
        for j in range(kw):
            _windows_at(dxp, i, j, (Ho, Wo), stride)[...] += d6[:, i, j].swapaxes(0, 1)
    return dxp[:, :, ph:ph + H, pw:pw + W]


def im2col_nhwc_arrays(x, kernel, stride=(1, 1), padding=(0, 0)):
    """Channels-last im2col: x (N, C, H, W) -> colsᵀ (N·Ho·Wo, kh·kw·C).

    Row ``(n·Ho + oh)·Wo + ow`` / column ``(i·kw + j)·C + c`` holds
    ``x_padded[n, c, oh·sh + i, ow·sw + j]``. Fast when x's memory is NHWC (the copy's innermost
    loop then runs over contiguous channels); the values are those of ``im2col_arrays`` with the
    rows reordered from (c, i, j) to (i, j, c) and transposed."""
    xp = array_module(x)
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = conv_output_size(H, W, kernel, stride, padding)
    xn = x.transpose(0, 2, 3, 1)                          # NHWC 视图（不复制）
    if ph or pw:
        xpad = xp.zeros((N, H + 2 * ph, W + 2 * pw, C), x.dtype)
        xpad[:, ph:ph + H, pw:pw + W] = xn
        xn = xpad
    s = xn.strides
    win = xp.lib.stride_tricks.as_strided(
        xn, shape=(N, Ho, Wo, kh, kw, C), strides=(s[0], s[1] * sh, s[2] * sw, s[1], s[2], s[3]))
    cols = xp.empty((N, Ho, Wo, kh, kw, C), x.dtype)
    cols[...] = win
    return cols.reshape(N * Ho * Wo, kh * kw * C)


def col2im_nhwc_arrays(dcols, x_shape, kernel, stride=(1, 1), padding=(0, 0)):
    """Adjoint of ``im2col_nhwc_arrays``: (N·Ho·Wo, kh·kw·C) -> dx (N, C, H, W) with NHWC memory."""
    xp = array_module(dcols)
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = conv_output_size(H, W, kernel, stride, padding)
    d6 = dcols.reshape(N, Ho, Wo, kh, kw, C)
    dxp = xp.zeros((N, H + 2 * ph, W + 2 * pw, C), dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw] += d6[:, :, :, i, j]
    return dxp[:, ph:ph + H, pw:pw + W].transpose(0, 3, 1, 2)


def _channels_last(x):
    """Use the channels-last path: x's memory is NHWC (channels innermost), C > 1, and no device
    kernels (which implement the channels-first layout) are registered for x's device."""
    return (x.shape[1] > 1 and abs(x.strides[1]) < abs(x.strides[3])
            and "im2col" not in _KERNELS.get(device_of(x), ()))


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
        self.channels_last = _channels_last(x)
        if self.channels_last:                            # colsᵀ (N·Ho·Wo, kh·kw·C)，卷积核也按 (kh, kw, C) 排
            cols_t = im2col_nhwc_arrays(x, (kh, kw), stride, padding)
            w2 = w.transpose(0, 2, 3, 1).reshape(O, -1)
        else:                                             # cols (C·kh·kw, N·Ho·Wo)
            cols_t = _impl(x, "im2col", im2col_arrays)(x, (kh, kw), stride, padding).T
            w2 = w.reshape(O, -1)
        # 整个卷积 = 一次 GEMM。按 yᵀ = colsᵀ·Wᵀ 来算：结果 (N·Ho·Wo, O) 的内存是 NHWC（通道在最内层），
        # 之后的 ReLU、池化沿通道连续地读写（比最内层只有 Wo 个数的 NCHW 快）；返回的是 NCHW 视图。
        y = cols_t @ w2.T
        if b is not None:
            y += b
        self.cols_t, self.w2 = cols_t, w2                 # dW 需要 cols（needs_input_grad 在前向之后才设置）
        self.w, self.x_shape, self.stride, self.padding, self.has_b = w, x.shape, stride, padding, b is not None
        return y.reshape(N, Ho, Wo, O).transpose(0, 3, 1, 2)

    def backward(self, g):
        """y = W·cols + b:  ∂L/∂W = g·colsᵀ，∂L/∂b = Σ g（按输出通道），∂L/∂cols = Wᵀ·g，
        ∂L/∂x = col2im(∂L/∂cols) —— 一个输入像素出现在多个窗口里，它的梯度是这些位置之和。"""
        w, w2 = self.w, self.w2
        O, C, kh, kw = w.shape
        gt = g.transpose(0, 2, 3, 1).reshape(-1, O)      # gᵀ (N·Ho·Wo, O)：内存本来是 NHWC 时不复制
        dx = dw = db = None
        if self.needs_input_grad[0]:                     # ∂L/∂cols = Wᵀ·g = (gᵀ·W)ᵀ
            if self.channels_last:
                dx = col2im_nhwc_arrays(gt @ w2, self.x_shape, (kh, kw), self.stride, self.padding)
            else:
                dx = _impl(g, "col2im", col2im_arrays)((gt @ w2).T, self.x_shape, (kh, kw), self.stride,
                                                       self.padding)
        if self.needs_input_grad[1]:
            dw = gt.T @ self.cols_t                      # (O, K)，K 的顺序与 w2 相同
            if self.channels_last:
                dw = array_module(g).ascontiguousarray(dw.reshape(O, kh, kw, C).transpose(0, 3, 1, 2))
            else:
                dw = dw.reshape(w.shape)
        if self.has_b and self.needs_input_grad[2]:
            db = ones_vector(gt, len(gt)) @ gt
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


def _axis_order(a):
    """Axes of ``a`` from the slowest to the fastest in memory (its layout, e.g. (1, 0, 2, 3) for an
    NCHW view of (C, N, H, W) memory such as Conv2dFn's output)."""
    return tuple(sorted(range(a.ndim), key=lambda d: -abs(a.strides[d])))


def _zeros_in_layout(xp, shape, dtype, order=None):
    """zeros(shape) whose memory follows the axis ``order`` (default: C order), returned as a view
    with the logical axis order: element-wise ops between arrays of one layout stream memory."""
    if order is None or tuple(order) == tuple(range(len(shape))):
        return xp.zeros(shape, dtype)
    buf = xp.zeros(tuple(shape[d] for d in order), dtype)
    inverse = [0] * len(order)
    for i, d in enumerate(order):
        inverse[d] = i
    return buf.transpose(inverse)


def _like(a, ref):
    """``a`` with the memory layout of ``ref`` (same logical shape): copied once when they differ.
    NumPy is several times slower on element-wise ops between arrays of different layouts."""
    if _axis_order(a) == _axis_order(ref):
        return a
    out = array_module(a).empty_like(ref, dtype=a.dtype)
    out[...] = a
    return out


def maxpool_forward_arrays(x, kernel, stride, padding=(0, 0)):
    """Max pooling. Returns (out (N, C, Ho, Wo), idx): ``idx`` holds, per output, the flat offset
    ``i·kw + j`` inside its window of the (first) maximum — backward routes the gradient there.

    Loops over the kh·kw kernel offsets with whole-array ops (a running maximum); the index is
    updated arithmetically (idx += better·(k − idx)), which is much faster than a masked copy."""
    xp = array_module(x)
    (kh, kw), (Ho, Wo) = kernel, conv_output_size(x.shape[2], x.shape[3], kernel, stride, padding)
    xpad = _pad(x, padding, -xp.inf)
    out = idx = better = step = None
    for i in range(kh):
        for j in range(kw):
            sl = _windows_at(xpad, i, j, (Ho, Wo), stride)
            if out is None:
                out = xp.empty_like(sl)                   # 与输入相同的内存布局
                out[...] = sl
                idx = xp.zeros_like(out, dtype=xp.int8 if kh * kw < 128 else xp.int32)
                better, step = xp.empty_like(out, dtype=bool), xp.empty_like(idx)
                continue
            xp.greater(sl, out, out=better)               # 严格大于：并列时保留第一个（同 PyTorch）
            xp.maximum(out, sl, out=out)
            xp.subtract(i * kw + j, idx, out=step)        # idx ← k where better, else unchanged
            step *= better
            idx += step
    return out, idx


def maxpool_backward_arrays(g, idx, x_shape, kernel, stride, padding=(0, 0), layout=None):
    """Gradient of max pooling: each g goes to the input position its window's max came from.

    ``layout``: optional memory axis order of the result (see ``_axis_order``); by default NCHW."""
    xp = array_module(g)
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = g.shape[2], g.shape[3]
    dxp = _zeros_in_layout(xp, (N, C, H + 2 * ph, W + 2 * pw), g.dtype, layout)
    g = _like(g, idx)
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
                            divisor_override=None, layout=None):
    """Gradient of average pooling: every input of a window gets g / (window's divisor).
    ``layout``: optional memory axis order of the result (see ``_axis_order``)."""
    xp = array_module(g)
    N, C, H, W = x_shape
    (kh, kw), (ph, pw) = kernel, padding
    Ho, Wo = g.shape[2], g.shape[3]
    dxp = _zeros_in_layout(xp, (N, C, H + 2 * ph, W + 2 * pw), g.dtype, layout)
    gs = _like(g, _windows_at(dxp, 0, 0, (Ho, Wo), stride))
    gs = gs * _avg_scale(xp, x_shape, kernel, stride, padding, count_include_pad, divisor_override, g.dtype)
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
        self.x_shape, self.layout = x.shape, _axis_order(x)
        return out

    def backward(self, g):
        """y = max(窗口):  ∂y/∂xₖ = 1 若 xₖ 是窗口里（第一个）最大值，否则 0 —— 梯度只流回"赢家"。"""
        kernel = _KERNELS.get(device_of(g), {}).get("maxpool_backward")
        if kernel is not None:
            return kernel(g, self.idx, self.x_shape, self.kernel, self.stride, self.padding)
        # dx 与输入 x 使用相同的内存布局：后面的 ReLU 反向、卷积反向都不必再复制
        return maxpool_backward_arrays(g, self.idx, self.x_shape, self.kernel, self.stride, self.padding,
                                       layout=self.layout)


class AvgPool2dFn(Function):
    """``AvgPool2dFn.apply(x, kernel_size=2, stride=None, padding=0)``: mean over each window."""

    def forward(self, x, kernel_size=2, stride=None, padding=0, count_include_pad=True,
                divisor_override=None):
        self.kernel, self.stride, self.padding, _ = _pool_args(x, kernel_size, stride, padding, "avg_pool2d")
        if x.dtype.kind != "f":
            raise TypeError(f"avg_pool2d: expected a floating point input, got {x.dtype}")
        if divisor_override is not None and divisor_override <= 0:
            raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
        self.x_shape, self.opts, self.layout = x.shape, (count_include_pad, divisor_override), _axis_order(x)
        return avgpool_forward_arrays(x, self.kernel, self.stride, self.padding, *self.opts)

    def backward(self, g):
        """y = (1/n) Σ 窗口（n = kh·kw）:  ∂y/∂xₖ = 1/n —— 每个窗口把梯度平均分给窗口里的每个输入。"""
        return avgpool_backward_arrays(g, self.x_shape, self.kernel, self.stride, self.padding, *self.opts,
                                       layout=self.layout)


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

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

English: 2-D convolution as im2col + one GEMM (backward: dW = g·colsᵀ, dx = col2im(Wᵀ·g)), max/avg and
adaptive pooling.  The ``*_arrays`` helpers are the reference implementation that CUDA kernels must match;
the GEMM writes NHWC memory and returns an NCHW view, so later element-wise ops stream through channels.
"""
from ..autograd import Function
from ..backend import array_module, device_of, ones_vector
from ..errors import TensorError

_KERNELS = {}      # 设备 -> {"im2col": fn, "col2im": fn, "maxpool_forward": fn, "maxpool_backward": fn}


def register_kernels(device, **fns):
    """让 ``device`` 上的数组改用设备专用的实现（例如 CUDA kernel）代替下面的数组函数。

    可用的名字：``im2col``、``col2im``、``maxpool_forward``、``maxpool_backward``；每个都必须接受对应的
    ``*_arrays`` 函数的参数，并返回相同的结果。
    Accepted names: ``im2col``, ``col2im``, ``maxpool_forward``, ``maxpool_backward``; each must
    take the arguments of the matching ``*_arrays`` function below and return the same result."""
    known = {"im2col", "col2im", "maxpool_forward", "maxpool_backward"}
    bad = set(fns) - known
    if bad:
        raise TensorError(f"register_kernels: unknown kernel names {sorted(bad)}; expected some of {sorted(known)}")
    _KERNELS.setdefault(device, {}).update(fns)


def _impl(arr, name, default):
    table = _KERNELS.get(device_of(arr))
    return default if table is None else table.get(name, default)


def _pair(v, name, op, allow_zero=False):
    if isinstance(v, int):
        v = (v, v)
    v = tuple(int(a) for a in v)
    if len(v) != 2 or any(a < (0 if allow_zero else 1) for a in v):
        raise TensorError(f"{op}: {name} must be a {'non-negative' if allow_zero else 'positive'} int or "
                         f"a pair of them, got {v}")
    return v


def conv_output_size(H, W, kernel, stride, padding, dilation=(1, 1)):
    """(Ho, Wo) = ((H + 2p - d(k-1) - 1) // s + 1, …) —— 每个方向能放下多少个窗口。

    有空洞（dilation）d 时，卷积核相邻两个采样点相隔 d 个像素，一个窗口跨 d(k-1)+1 个像素。"""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    return (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1


def _pad(x, padding, value=0, extra=(0, 0)):
    """x 四周各补 ``padding``，底部 / 右侧再多补 ``extra`` 行 / 列（``ceil_mode`` 池化和不对称的
    "same" 卷积需要多出来的这些）。"""
    (ph, pw), (eh, ew) = padding, extra
    if ph == 0 and pw == 0 and eh == 0 and ew == 0:
        return x
    xp = array_module(x)
    N, C, H, W = x.shape
    xpad = xp.full((N, C, H + 2 * ph + eh, W + 2 * pw + ew), value, x.dtype)
    xpad[:, :, ph:ph + H, pw:pw + W] = x
    return xpad


def _windows_at(xpad, i, j, out_hw, stride):
    """每个窗口里卷积核偏移 (i, j) 处的输入像素，合起来是一个 (N, C, Ho, Wo) 的视图（不复制）。"""
    (Ho, Wo), (sh, sw) = out_hw, stride
    return xpad[:, :, i:i + sh * (Ho - 1) + 1:sh, j:j + sw * (Wo - 1) + 1:sw]


def im2col_arrays(x, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """x (N, C, H, W) -> cols (C·kh·kw, N·Ho·Wo)：每一列是一个输出位置的感受野。

    第 ``(c·kh + i)·kw + j`` 行、第 ``(n·Ho + oh)·Wo + ow`` 列存的是 ``x_padded[n, c, oh·sh + i·dh, ow·sw + j·dw]``
    （补零）。做法：一个跨步视图加一次复制。
    Row ``(c·kh + i)·kw + j`` / column ``(n·Ho + oh)·Wo + ow`` holds
    ``x_padded[n, c, oh·sh + i·dh, ow·sw + j·dw]`` (zero padding).  One strided view + one copy."""
    xp = array_module(x)
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    Ho, Wo = conv_output_size(H, W, kernel, stride, padding, dilation)
    xpad = _pad(x, padding)
    s = xpad.strides
    # 6 维视图 (C, kh, kw, N, Ho, Wo)：不复制任何数据，只是换一种"看"输入的方式
    win = xp.lib.stride_tricks.as_strided(
        xpad, shape=(C, kh, kw, N, Ho, Wo),
        strides=(s[1], s[2] * dh, s[3] * dw, s[0], s[2] * sh, s[3] * sw))
    cols = xp.empty((C, kh, kw, N, Ho, Wo), x.dtype)
    cols[...] = win
    return cols.reshape(C * kh * kw, N * Ho * Wo)


def col2im_arrays(dcols, x_shape, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """``im2col_arrays`` 的伴随（转置）运算：dcols (C·kh·kw, N·Ho·Wo) -> 形状为 x_shape 的 dx。

    每一列的每个数加回它当初被复制出来的那个输入像素（窗口重叠处相加）。只对 kh·kw 个卷积核偏移循环。
    结果的内存布局跟随 dcols，这样加法是顺着内存连续进行的。
    Every column entry is added back to the input pixel it was copied from (overlaps add up).
    Loops over the kh·kw kernel offsets only.  The result has logical shape (N, C, H, W); its
    memory follows dcols: (N, H, W, C) when dcols is the transposed view of an (N·Ho·Wo, C·kh·kw)
    array (what Conv2dFn passes), else (C, N, H, W), so the additions stream through memory."""
    xp = array_module(dcols)
    N, C, H, W = x_shape
    (kh, kw), (ph, pw), (dh, dw) = kernel, padding, dilation
    Ho, Wo = conv_output_size(H, W, kernel, stride, padding, dilation)
    d6 = dcols.reshape(C, kh, kw, N, Ho, Wo)
    layout = (0, 2, 3, 1) if dcols.strides[0] < dcols.strides[1] else (1, 0, 2, 3)
    dxp = _zeros_in_layout(xp, (N, C, H + 2 * ph, W + 2 * pw), dcols.dtype, layout)
    for i in range(kh):
        for j in range(kw):
            _windows_at(dxp, i * dh, j * dw, (Ho, Wo), stride)[...] += d6[:, i, j].swapaxes(0, 1)
    return dxp[:, :, ph:ph + H, pw:pw + W]


def im2col_nhwc_arrays(x, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """通道在后的 im2col：x (N, C, H, W) -> colsᵀ (N·Ho·Wo, kh·kw·C)。

    x 的内存是 NHWC 时很快（复制的最内层循环沿连续的通道进行）；数值与 ``im2col_arrays`` 相同，只是行
    从 (c, i, j) 重排成 (i, j, c) 并转置。
    Row ``(n·Ho + oh)·Wo + ow`` / column ``(i·kw + j)·C + c`` holds
    ``x_padded[n, c, oh·sh + i·dh, ow·sw + j·dw]``. Fast when x's memory is NHWC (the copy's innermost
    loop then runs over contiguous channels); the values are those of ``im2col_arrays`` with the
    rows reordered from (c, i, j) to (i, j, c) and transposed."""
    xp = array_module(x)
    N, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho, Wo = conv_output_size(H, W, kernel, stride, padding, dilation)
    xn = x.transpose(0, 2, 3, 1)                          # NHWC 视图（不复制）
    if ph or pw:
        xpad = xp.zeros((N, H + 2 * ph, W + 2 * pw, C), x.dtype)
        xpad[:, ph:ph + H, pw:pw + W] = xn
        xn = xpad
    s = xn.strides
    win = xp.lib.stride_tricks.as_strided(
        xn, shape=(N, Ho, Wo, kh, kw, C), strides=(s[0], s[1] * sh, s[2] * sw, s[1] * dh, s[2] * dw, s[3]))
    cols = xp.empty((N, Ho, Wo, kh, kw, C), x.dtype)
    cols[...] = win
    return cols.reshape(N * Ho * Wo, kh * kw * C)


def col2im_nhwc_arrays(dcols, x_shape, kernel, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    """``im2col_nhwc_arrays`` 的伴随运算：(N·Ho·Wo, kh·kw·C) -> dx (N, C, H, W)，内存为 NHWC。"""
    xp = array_module(dcols)
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho, Wo = conv_output_size(H, W, kernel, stride, padding, dilation)
    d6 = dcols.reshape(N, Ho, Wo, kh, kw, C)
    dxp = xp.zeros((N, H + 2 * ph, W + 2 * pw, C), dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            a, b = i * dh, j * dw
            dxp[:, a:a + sh * (Ho - 1) + 1:sh, b:b + sw * (Wo - 1) + 1:sw] += d6[:, :, :, i, j]
    return dxp[:, ph:ph + H, pw:pw + W].transpose(0, 3, 1, 2)


def _channels_last(x):
    """是否走通道在后的路径：x 的内存是 NHWC（通道在最内层）、C > 1，并且 x 所在设备没有注册 kernel
    （设备 kernel 实现的是通道在前的布局）。"""
    return (x.shape[1] > 1 and abs(x.strides[1]) < abs(x.strides[3])
            and "im2col" not in _KERNELS.get(device_of(x), ()))


def _im2col(x, kernel, stride, padding, dilation):
    if dilation == (1, 1):                                # 设备内核（CUDA）只实现了 dilation = 1
        return _impl(x, "im2col", im2col_arrays)(x, kernel, stride, padding)
    return im2col_arrays(x, kernel, stride, padding, dilation)


def _col2im(dcols, x_shape, kernel, stride, padding, dilation):
    if dilation == (1, 1):
        return _impl(dcols, "col2im", col2im_arrays)(dcols, x_shape, kernel, stride, padding)
    return col2im_arrays(dcols, x_shape, kernel, stride, padding, dilation)


def _pad_end(x, extra, value):
    """在 x 的底部 / 右侧补上 ``extra`` = (行数, 列数)，保持 x 的内存布局。"""
    if extra == (0, 0):
        return x
    N, C, H, W = x.shape
    out = _zeros_in_layout(array_module(x), (N, C, H + extra[0], W + extra[1]), x.dtype, _axis_order(x))
    if value != 0:
        out[...] = value
    out[:, :, :H, :W] = x
    return out


class Conv2dFn(Function):
    """y = conv2d(x, W) + b.  x (N, C, H, W), W (O, C/groups, kh, kw), b (O,) -> y (N, O, Ho, Wo).

    ``dilation``：卷积核的采样点相隔 d 个像素。``groups``：通道分成 ``groups`` 块，输出的第 g 块只看输入的
    第 g 块（groups = C 即逐通道卷积）。``extra_padding``：只在底部 / 右侧补的零行 / 零列（偶数卷积核时
    PyTorch 不对称的 ``padding="same"``）。

    ``Conv2dFn.apply(x, w[, b], stride=1, padding=0, dilation=1, groups=1, extra_padding=(0, 0))``.
    ``dilation``: the kernel taps are d pixels apart. ``groups``: the channels are split into
    ``groups`` blocks, output block g only sees input block g (groups = C: depthwise convolution).
    ``extra_padding``: zero rows / columns added at the bottom / right only (PyTorch's asymmetric
    ``padding="same"`` for even kernels)."""

    def forward(self, x, w, b=None, stride=1, padding=0, dilation=1, groups=1, extra_padding=(0, 0)):
        stride, padding = _pair(stride, "stride", "conv2d"), _pair(padding, "padding", "conv2d", True)
        dilation, extra = _pair(dilation, "dilation", "conv2d"), _pair(extra_padding, "extra_padding", "conv2d", True)
        if not isinstance(groups, int) or groups < 1:
            raise TensorError(f"conv2d: groups must be a positive int, got {groups!r}")
        if x.ndim != 4 or w.ndim != 4:
            raise TensorError(f"conv2d: expected input (N, C, H, W) and weight (O, C/groups, kh, kw), got input "
                             f"{x.shape} and weight {w.shape}")
        if x.shape[1] != w.shape[1] * groups or w.shape[0] % groups:
            raise TensorError(f"conv2d: input {x.shape} and weight {w.shape} with groups={groups}: expected the "
                             f"input to have weight.shape[1]·groups = {w.shape[1] * groups} channels, got "
                             f"{x.shape[1]}" + (f"; out_channels {w.shape[0]} must be divisible by groups"
                                                if w.shape[0] % groups else ""))
        if b is not None and b.shape != (w.shape[0],):
            raise TensorError(f"conv2d: bias must have shape ({w.shape[0]},), got {b.shape}")
        if x.dtype.kind != "f" or x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
            raise TypeError(f"conv2d: expected floating point input, weight and bias of one dtype, got "
                            f"{x.dtype}, {w.dtype}" + ("" if b is None else f", {b.dtype}"))
        self.orig_shape = x.shape
        x = _pad_end(x, extra, 0)
        N, C, H, W = x.shape
        O, _, kh, kw = w.shape
        Ho, Wo = conv_output_size(H, W, (kh, kw), stride, padding, dilation)
        if Ho < 1 or Wo < 1:
            raise TensorError(f"conv2d: kernel ({kh}, {kw}) with dilation {dilation} is larger than the padded "
                             f"input ({H + 2 * padding[0]}, {W + 2 * padding[1]}) (input {self.orig_shape}, "
                             f"padding {padding})")
        self.w, self.x_shape, self.stride, self.padding, self.has_b = w, x.shape, stride, padding, b is not None
        self.dilation, self.groups = dilation, groups
        if groups > 1:
            return self._forward_groups(x, w, b, (Ho, Wo))
        self.channels_last = _channels_last(x)
        if self.channels_last:                            # colsᵀ (N·Ho·Wo, kh·kw·C)，卷积核也按 (kh, kw, C) 排
            cols_t = im2col_nhwc_arrays(x, (kh, kw), stride, padding, dilation)
            w2 = w.transpose(0, 2, 3, 1).reshape(O, -1)
        else:                                             # 通道在前：cols (C·kh·kw, N·Ho·Wo)，用时取转置
            cols_t = _im2col(x, (kh, kw), stride, padding, dilation).T
            w2 = w.reshape(O, -1)
        # 整个卷积 = 一次 GEMM。按 yᵀ = colsᵀ·Wᵀ 来算：结果 (N·Ho·Wo, O) 的内存是 NHWC（通道在最内层），
        # 之后的 ReLU、池化沿通道连续地读写（比最内层只有 Wo 个数的 NCHW 快）；返回的是 NCHW 视图。
        y = cols_t @ w2.T
        if b is not None:
            y += b
        self.cols_t, self.w2 = cols_t, w2                 # dW 需要 cols（needs_input_grad 在前向之后才设置）
        return y.reshape(N, Ho, Wo, O).transpose(0, 3, 1, 2)

    def _forward_groups(self, x, w, b, out_hw):
        """groups > 1：对各组做一次 *批量* GEMM。cols 的行按 (c, i, j) 排列，所以第 g 组（它的 C/groups 个
        通道）的行是连续的一块：cols → (G, C/G·kh·kw, M)。"""
        N, G, O = x.shape[0], self.groups, w.shape[0]
        cols = _im2col(x, w.shape[2:], self.stride, self.padding, self.dilation)      # 形状 (C·kh·kw, M)
        self.cols3 = cols.reshape(G, -1, cols.shape[1])
        self.w3 = w.reshape(G, O // G, -1)                                           # 形状 (G, O/G, C/G·kh·kw)
        y = (self.w3 @ self.cols3).reshape(O, -1)                                     # 形状 (O, M)
        if b is not None:
            y += b[:, None]
        return y.reshape(O, N, *out_hw).transpose(1, 0, 2, 3)                        # 内存是 (O, N, Ho, Wo)

    def backward(self, g):
        """y = W·cols + b:  ∂L/∂W = g·colsᵀ，∂L/∂b = Σ g（按输出通道），∂L/∂cols = Wᵀ·g，
        ∂L/∂x = col2im(∂L/∂cols) —— 一个输入像素出现在多个窗口里，它的梯度是这些位置之和
        （分组卷积时每组各自一次矩阵乘）。"""
        if self.groups > 1:
            dx, dw, db = self._backward_groups(g)
        else:
            dx, dw, db = self._backward_dense(g)
        if dx is not None and self.x_shape != self.orig_shape:      # 去掉只在底部/右侧补的那几行列
            dx = dx[:, :, :self.orig_shape[2], :self.orig_shape[3]]
        return (dx, dw, db) if self.has_b else (dx, dw)

    def _backward_dense(self, g):
        w, w2 = self.w, self.w2
        O, C, kh, kw = w.shape
        gt = g.transpose(0, 2, 3, 1).reshape(-1, O)      # gᵀ (N·Ho·Wo, O)：内存本来是 NHWC 时不复制
        dx = dw = db = None
        if self.needs_input_grad[0]:                     # 先求 ∂L/∂cols = Wᵀ·g = (gᵀ·W)ᵀ，再 col2im
            if self.channels_last:
                dx = col2im_nhwc_arrays(gt @ w2, self.x_shape, (kh, kw), self.stride, self.padding,
                                        self.dilation)
            else:
                dx = _col2im((gt @ w2).T, self.x_shape, (kh, kw), self.stride, self.padding, self.dilation)
        if self.needs_input_grad[1]:
            dw = gt.T @ self.cols_t                      # (O, K)，K 的顺序与 w2 相同
            if self.channels_last:
                dw = array_module(g).ascontiguousarray(dw.reshape(O, kh, kw, C).transpose(0, 3, 1, 2))
            else:
                dw = dw.reshape(w.shape)
        if self.has_b and self.needs_input_grad[2]:
            db = ones_vector(gt, len(gt)) @ gt
        return dx, dw, db

    def _backward_groups(self, g):
        G, O = self.groups, self.w.shape[0]
        g3 = g.transpose(1, 0, 2, 3).reshape(G, O // G, -1)         # 形状 (G, O/G, M)
        dx = dw = db = None
        if self.needs_input_grad[0]:
            dcols = (self.w3.transpose(0, 2, 1) @ g3).reshape(-1, g3.shape[2])   # 每组各自算 Wᵀ·g
            dx = _col2im(dcols, self.x_shape, self.w.shape[2:], self.stride, self.padding, self.dilation)
        if self.needs_input_grad[1]:
            dw = (g3 @ self.cols3.transpose(0, 2, 1)).reshape(self.w.shape)
        if self.has_b and self.needs_input_grad[2]:
            g2 = g3.reshape(O, -1)
            db = g2 @ ones_vector(g2, g2.shape[1])
        return dx, dw, db


# ----------------------------------------------------------------------------- 池化
def pool_output_size(size, kernel, stride, padding, dilation=1, ceil_mode=False):
    """池化后一个维度的长度（与 PyTorch 相同）：⌊(n + 2p − d(k−1) − 1)/s⌋ + 1（``ceil_mode`` 时取 ⌈…⌉）；
    ceil 模式下最后一个窗口的起点仍须落在输入或其左侧的补零里。"""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _pool_args(x, kernel, stride, padding, op, dilation=1, ceil_mode=False):
    """检查过的几何参数：(kernel, stride, padding, dilation, (Ho, Wo), extra)，其中 ``extra`` 是 ceil 模式的
    窗口超出补零后输入的行数 / 列数。"""
    kernel = _pair(kernel, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else _pair(stride, "stride", op)
    padding, dilation = _pair(padding, "padding", op, True), _pair(dilation, "dilation", op)
    if x.ndim != 4:
        raise TensorError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if padding[0] * 2 > eff[0] or padding[1] * 2 > eff[1]:
        raise TensorError(f"{op}: padding {padding} must be at most half of the (effective) kernel_size "
                         f"{kernel if dilation == (1, 1) else eff}")
    out = tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    if out[0] < 1 or out[1] < 1:
        raise TensorError(f"{op}: kernel {kernel} is larger than the padded input (input {x.shape}, "
                         f"padding {padding}, dilation {dilation}): calculated output size {out} is too small")
    extra = tuple(max(0, (o - 1) * s + e - (n + 2 * p))
                  for o, s, e, n, p in zip(out, stride, eff, x.shape[2:], padding))
    return kernel, stride, padding, dilation, out, extra


def _axis_order(a):
    """``a`` 的各轴按内存中从慢到快排列，即它的内存布局（例如 Conv2dFn 的输出是 (C, N, H, W) 内存上的
    NCHW 视图，得到 (1, 0, 2, 3)）。"""
    return tuple(sorted(range(a.ndim), key=lambda d: -abs(a.strides[d])))


def _zeros_in_layout(xp, shape, dtype, order=None):
    """全零数组，内存按轴顺序 ``order`` 排列（默认 C 顺序），以逻辑轴顺序的视图返回：同一布局的数组
    之间做逐元素运算时，内存是顺序读写的。"""
    if order is None or tuple(order) == tuple(range(len(shape))):
        return xp.zeros(shape, dtype)
    buf = xp.zeros(tuple(shape[d] for d in order), dtype)
    inverse = [0] * len(order)
    for i, d in enumerate(order):
        inverse[d] = i
    return buf.transpose(inverse)


def _like(a, ref):
    """让 ``a`` 采用 ``ref`` 的内存布局（逻辑形状相同）：布局不同时复制一次。布局不同的数组之间做逐元素
    运算，NumPy 要慢好几倍。"""
    if _axis_order(a) == _axis_order(ref):
        return a
    out = array_module(a).empty_like(ref, dtype=a.dtype)
    out[...] = a
    return out


def maxpool_forward_arrays(x, kernel, stride, padding=(0, 0), dilation=(1, 1), extra=(0, 0)):
    """最大池化。返回 (out, idx)：``idx`` 记下每个输出的（第一个）最大值在窗口里的偏移 ``i·kw + j``，
    反向时梯度就送到那里。只对 kh·kw 个卷积核偏移循环，每次处理整块数组（滚动最大值）；下标用算术方式
    更新（idx += better·(k − idx)），比带掩码的复制快得多。

    Max pooling. Returns (out (N, C, Ho, Wo), idx): ``idx`` holds, per output, the flat offset
    ``i·kw + j`` inside its window of the (first) maximum — backward routes the gradient there.

    ``dilation``: the window taps are d pixels apart; ``extra``: rows / columns of −∞ past the padded
    input (ceil mode). Loops over the kh·kw kernel offsets with whole-array ops (a running maximum);
    the index is updated arithmetically (idx += better·(k − idx)), much faster than a masked copy."""
    xp = array_module(x)
    (kh, kw), (dh, dw) = kernel, dilation
    Ho, Wo = conv_output_size(x.shape[2] + extra[0], x.shape[3] + extra[1], kernel, stride, padding, dilation)
    xpad = _pad(x, padding, -xp.inf, extra)
    out = idx = better = step = None
    for i in range(kh):
        for j in range(kw):
            sl = _windows_at(xpad, i * dh, j * dw, (Ho, Wo), stride)
            if out is None:
                out = xp.empty_like(sl)                   # 与输入相同的内存布局
                out[...] = sl
                idx = xp.zeros_like(out, dtype=xp.int8 if kh * kw < 128 else xp.int32)
                better, step = xp.empty_like(out, dtype=bool), xp.empty_like(idx)
                continue
            xp.greater(sl, out, out=better)               # 严格大于：并列时保留第一个（同 PyTorch）
            xp.maximum(out, sl, out=out)
            xp.subtract(i * kw + j, idx, out=step)        # 更大时 idx ← k，否则不变
            step *= better
            idx += step
    return out, idx


def maxpool_backward_arrays(g, idx, x_shape, kernel, stride, padding=(0, 0), layout=None, dilation=(1, 1),
                            extra=(0, 0)):
    """最大池化的梯度：每个 g 送回它所在窗口的最大值来自的那个输入位置。
    Gradient of max pooling: each g goes to the input position its window's max came from.

    ``layout``: optional memory axis order of the result (see ``_axis_order``); by default NCHW."""
    xp = array_module(g)
    N, C, H, W = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho, Wo = g.shape[2], g.shape[3]
    dxp = _zeros_in_layout(xp, (N, C, H + 2 * ph + extra[0], W + 2 * pw + extra[1]), g.dtype, layout)
    g = _like(g, idx)
    overlap = sh < dh * (kh - 1) + 1 or sw < dw * (kw - 1) + 1
    for i in range(kh):
        for j in range(kw):
            target = _windows_at(dxp, i * dh, j * dw, (Ho, Wo), stride)
            if overlap:
                target += g * (idx == i * kw + j)
            else:                                         # 窗口不重叠：每个像素只属于一个窗口
                xp.multiply(g, idx == i * kw + j, out=target)
    return dxp[:, :, ph:ph + H, pw:pw + W]


def maxpool_flat_indices(idx, x_shape, kernel, stride, padding=(0, 0), dilation=(1, 1)):
    """``return_indices`` 用：把窗口内偏移 ``idx`` 换成 PyTorch 的下标，即每个最大值在未补零输入的
    (N, C) 平面里的位置 ``row·W + col``（int64）。"""
    xp = array_module(idx)
    W = x_shape[3]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    Ho, Wo = idx.shape[2], idx.shape[3]
    k = idx.astype(xp.int64)
    rows = xp.arange(Ho).reshape(Ho, 1) * sh - ph + (k // kw) * dh
    cols = xp.arange(Wo).reshape(1, Wo) * sw - pw + (k % kw) * dw
    return rows * W + cols


def _avg_scale(xp, x_shape, kernel, stride, padding, count_include_pad=True, divisor_override=None,
               dtype=None, extra=(0, 0)):
    """1 / （每个窗口要除以的元素个数）：一个标量；边界上的窗口计入的像素较少时，是一个 (Ho, Wo) 数组。
    与 PyTorch 相同，``count_include_pad`` 把补的零计入，但永远不计 ceil 模式在补零之外多出的行 / 列。"""
    (kh, kw), (ph, pw) = kernel, padding
    if divisor_override is not None:
        return dtype.type(1.0 / divisor_override)
    if extra == (0, 0) and (count_include_pad or (ph == 0 and pw == 0)):
        return dtype.type(1.0 / (kh * kw))
    H, W = x_shape[2], x_shape[3]
    Ho, Wo = conv_output_size(H + extra[0], W + extra[1], kernel, stride, padding)
    counted = xp.zeros((1, 1, H + 2 * ph + extra[0], W + 2 * pw + extra[1]), dtype)
    if count_include_pad:
        counted[:, :, :H + 2 * ph, :W + 2 * pw] = 1
    else:
        counted[:, :, ph:ph + H, pw:pw + W] = 1
    count = sum(_windows_at(counted, i, j, (Ho, Wo), stride) for i in range(kh) for j in range(kw))
    return (1 / count[0, 0]).astype(dtype)


def avgpool_forward_arrays(x, kernel, stride, padding=(0, 0), count_include_pad=True,
                           divisor_override=None, extra=(0, 0)):
    """平均池化。默认（与 PyTorch 相同）补的零也计入平均；``count_include_pad=False`` 时除以真实像素数，
    ``divisor_override`` 时除以给定的数；``extra`` 是 ceil 模式在补零之外多出的行 / 列（从不计入）。"""
    xp = array_module(x)
    kh, kw = kernel
    Ho, Wo = conv_output_size(x.shape[2] + extra[0], x.shape[3] + extra[1], kernel, stride, padding)
    xpad = _pad(x, padding, 0, extra)
    out = None
    for i in range(kh):
        for j in range(kw):
            sl = _windows_at(xpad, i, j, (Ho, Wo), stride)
            if out is None:
                out = xp.empty_like(sl)
                out[...] = sl
            else:
                out += sl
    out *= _avg_scale(xp, x.shape, kernel, stride, padding, count_include_pad, divisor_override, x.dtype,
                      extra)
    return out


def avgpool_backward_arrays(g, x_shape, kernel, stride, padding=(0, 0), count_include_pad=True,
                            divisor_override=None, layout=None, extra=(0, 0)):
    """平均池化的梯度：窗口里的每个输入都得到 g / （该窗口的除数）。
    ``layout``：结果可选的内存轴顺序（见 ``_axis_order``）。"""
    xp = array_module(g)
    N, C, H, W = x_shape
    (kh, kw), (ph, pw) = kernel, padding
    Ho, Wo = g.shape[2], g.shape[3]
    dxp = _zeros_in_layout(xp, (N, C, H + 2 * ph + extra[0], W + 2 * pw + extra[1]), g.dtype, layout)
    gs = _like(g, _windows_at(dxp, 0, 0, (Ho, Wo), stride))
    gs = gs * _avg_scale(xp, x_shape, kernel, stride, padding, count_include_pad, divisor_override, g.dtype,
                         extra)
    for i in range(kh):
        for j in range(kw):
            _windows_at(dxp, i, j, (Ho, Wo), stride)[...] += gs
    return dxp[:, :, ph:ph + H, pw:pw + W]


class MaxPool2dFn(Function):
    """``MaxPool2dFn.apply(x, kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False)``：
    对每个窗口取最大值（几何规则与 PyTorch 相同，包括 ``ceil_mode`` 和 ``dilation``）。"""

    def forward(self, x, kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False):
        self.kernel, self.stride, self.padding, self.dilation, _, self.extra = _pool_args(
            x, kernel_size, stride, padding, "max_pool2d", dilation, ceil_mode)
        self.x_shape, self.layout = x.shape, _axis_order(x)
        # 设备内核（CUDA）只实现了普通的几何：dilation = 1、没有 ceil 模式多出来的行列
        self.plain = self.dilation == (1, 1) and self.extra == (0, 0)
        if self.plain:
            out, self.idx = _impl(x, "maxpool_forward", maxpool_forward_arrays)(x, self.kernel, self.stride,
                                                                                 self.padding)
        else:
            out, self.idx = maxpool_forward_arrays(x, self.kernel, self.stride, self.padding, self.dilation,
                                                   self.extra)
        return out

    def backward(self, g):
        """y = max(窗口):  ∂y/∂xₖ = 1 若 xₖ 是窗口里（第一个）最大值，否则 0 —— 梯度只流回"赢家"。"""
        kernel = _KERNELS.get(device_of(g), {}).get("maxpool_backward") if self.plain else None
        if kernel is not None:
            return kernel(g, self.idx, self.x_shape, self.kernel, self.stride, self.padding)
        # dx 与输入 x 使用相同的内存布局：后面的 ReLU 反向、卷积反向都不必再复制
        return maxpool_backward_arrays(g, self.idx, self.x_shape, self.kernel, self.stride, self.padding,
                                       layout=self.layout, dilation=self.dilation, extra=self.extra)


class MaxPool2dWithIndicesFn(MaxPool2dFn):
    """同时返回 PyTorch 风格下标的 MaxPool2dFn（``return_indices=True``）：(out, indices)。"""
    n_outputs = 2

    def forward(self, x, **kwargs):
        out = super().forward(x, **kwargs)
        return out, maxpool_flat_indices(self.idx, self.x_shape, self.kernel, self.stride, self.padding,
                                         self.dilation)

    def backward(self, g, g_indices=None):
        """与 MaxPool2dFn 相同：∂y/∂xₖ = 1 只对窗口里的最大值 —— 梯度只流回"赢家"；下标输出是整数，不传梯度。"""
        if g is None:
            return (None,)
        return super().backward(g)


class AvgPool2dFn(Function):
    """``AvgPool2dFn.apply(x, kernel_size=2, stride=None, padding=0, count_include_pad=True,
    divisor_override=None, ceil_mode=False)``：对每个窗口取平均。"""

    def forward(self, x, kernel_size=2, stride=None, padding=0, count_include_pad=True,
                divisor_override=None, ceil_mode=False):
        self.kernel, self.stride, self.padding, _, _, self.extra = _pool_args(
            x, kernel_size, stride, padding, "avg_pool2d", 1, ceil_mode)
        if x.dtype.kind != "f":
            raise TypeError(f"avg_pool2d: expected a floating point input, got {x.dtype}")
        if divisor_override is not None and divisor_override <= 0:
            raise TensorError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
        self.x_shape, self.opts, self.layout = x.shape, (count_include_pad, divisor_override), _axis_order(x)
        return avgpool_forward_arrays(x, self.kernel, self.stride, self.padding, *self.opts, extra=self.extra)

    def backward(self, g):
        """y = (1/n) Σ 窗口（n = kh·kw）:  ∂y/∂xₖ = 1/n —— 每个窗口把梯度平均分给窗口里的每个输入。"""
        return avgpool_backward_arrays(g, self.x_shape, self.kernel, self.stride, self.padding, *self.opts,
                                       layout=self.layout, extra=self.extra)


# ----------------------------------------------------------------------------- 自适应池化
def adaptive_windows(size, out):
    """PyTorch 的自适应窗口（一个维度上）：第 i 个窗口覆盖 [⌊i·n/m⌋, ⌈(i+1)·n/m⌉)。"""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _adaptive_size(x, output_size, op):
    if x.ndim != 4:
        raise TensorError(f"{op}: expected a 4-D input (N, C, H, W), got shape {x.shape}")
    out = (output_size, output_size) if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(out) != 2:
        raise TensorError(f"{op}: output_size must be an int or a pair, got {output_size!r}")
    out = tuple(x.shape[2 + k] if o is None else int(o) for k, o in enumerate(out))
    if min(out) < 1 or min(x.shape[2:]) < 1:
        raise TensorError(f"{op}: output_size {out} and the input's spatial size {x.shape[2:]} must be positive")
    return out


class AdaptiveAvgPool2dFn(Function):
    """``AdaptiveAvgPool2dFn.apply(x, output_size=(Ho, Wo))``：在 PyTorch 的自适应窗口上取平均。

    每个窗口都是矩形，所以平均可以按行、列分开做：对每个 (n, c) 切片，y = P_h · x · P_wᵀ，其中 P_h (Ho, H)
    的第 i 行在窗口 i 覆盖的那些行上取 1/窗口长度（两次小矩阵乘）。
    Each window is a rectangle, so the average is separable: y = P_h · x · P_wᵀ for every (n, c)
    slice, where row i of P_h (Ho, H) holds 1/len on the rows of window i (two small matrix products)."""

    def forward(self, x, output_size=1):
        Ho, Wo = _adaptive_size(x, output_size, "adaptive_avg_pool2d")
        if x.dtype.kind != "f":
            raise TypeError(f"adaptive_avg_pool2d: expected a floating point input, got {x.dtype}")
        xp = array_module(x)
        mats = []
        for size, out in ((x.shape[2], Ho), (x.shape[3], Wo)):
            P = xp.zeros((out, size), x.dtype)
            for i, (a, b) in enumerate(adaptive_windows(size, out)):
                P[i, a:b] = 1.0 / (b - a)
            mats.append(P)
        self.Ph, self.Pw = mats
        return self.Ph @ x @ self.Pw.T

    def backward(self, g):
        """y = P_h x P_wᵀ（每个 (n, c) 切片）:  ∂L/∂x = P_hᵀ g P_w —— 每个输入像素按 1/窗口大小
        收回它所在的每个窗口的梯度。"""
        return self.Ph.T @ g @ self.Pw


class AdaptiveMaxPool2dFn(Function):
    """``AdaptiveMaxPool2dFn.apply(x, output_size=(Ho, Wo))`` -> (out, indices)：在 PyTorch 的自适应窗口上
    取最大值；下标（int64）与 ``max_pool2d(return_indices=True)`` 给出的相同。"""
    n_outputs = 2

    def forward(self, x, output_size=1):
        Ho, Wo = _adaptive_size(x, output_size, "adaptive_max_pool2d")
        xp = array_module(x)
        N, C, H, W = x.shape
        out = xp.empty((N, C, Ho, Wo), x.dtype)
        idx = xp.empty((N, C, Ho, Wo), xp.int64)
        for i, (a, b) in enumerate(adaptive_windows(H, Ho)):
            for j, (c, d) in enumerate(adaptive_windows(W, Wo)):
                win = x[:, :, a:b, c:d].reshape(N, C, -1)
                k = win.argmax(axis=2)
                out[:, :, i, j] = xp.take_along_axis(win, k[..., None], axis=2)[..., 0]
                idx[:, :, i, j] = (a + k // (d - c)) * W + c + k % (d - c)
        self.idx, self.x_shape = idx, x.shape
        return out, idx

    def backward(self, g, g_indices=None):
        """y = max(窗口):  ∂y/∂xₖ = 1 只对窗口里的最大值 —— 各窗口的梯度加到各自最大值的位置上。"""
        if g is None:
            return (None,)
        xp = array_module(g)
        N, C, H, W = self.x_shape
        dx = xp.zeros((N, C, H * W), g.dtype)
        n = xp.arange(N).reshape(N, 1)
        c = xp.arange(C).reshape(1, C)
        for i in range(g.shape[2]):
            for j in range(g.shape[3]):
                dx[n, c, self.idx[:, :, i, j]] += g[:, :, i, j]      # 同一个窗口里下标不重复
        return dx.reshape(self.x_shape)


# ----------------------------------------------------------------------------- Tensor 层面的函数
def _input4d(input, op):
    """(C, H, W) 当作只有一个样本的 batch（与 PyTorch 相同）；返回 (张量, 原来是否没有 batch 维)。"""
    from ..tensor import Tensor
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim == 3:
        return input.unsqueeze(0), True
    if input.ndim != 4:
        raise TensorError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {input.shape}")
    return input, False


def same_padding(kernel, dilation):
    """PyTorch 的 ``padding="same"``（步长 1）：每个维度共补 d(k−1) 个零，两侧各一半，多出的一个补在
    底部 / 右侧。返回 (padding, extra_padding)。"""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple(t // 2 for t in total), tuple(t % 2 for t in total)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """对 (N, C, H, W) 或 (C, H, W) 做二维卷积（和所有深度学习框架一样，实际是互相关）。

    ``padding`` 可以是整数、二元组、``"valid"``（0）或 ``"same"``（步长 1；偶数卷积核在底部 / 右侧多补
    一个零，与 PyTorch 相同）。``dilation`` 拉开卷积核的采样点；``groups`` 把通道分成互不相干的几块。
    ``padding`` may be an int, a pair, ``"valid"`` (0) or ``"same"`` (stride 1; even kernels pad one
    more zero at the bottom / right, as in PyTorch). ``dilation`` spreads the kernel taps;
    ``groups`` splits the channels into independent blocks (weight (O, C/groups, kh, kw))."""
    x, unbatched = _input4d(input, "conv2d")
    extra = (0, 0)
    if isinstance(padding, str):
        if padding == "valid":
            padding = 0
        elif padding == "same":
            if _pair(stride, "stride", "conv2d") != (1, 1):
                raise TensorError(f"conv2d: padding='same' is not supported for strided convolutions "
                                 f"(stride {stride})")
            padding, extra = same_padding(weight.shape[2:], _pair(dilation, "dilation", "conv2d"))
        else:
            raise TensorError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = Conv2dFn.apply(*args, stride=stride, padding=padding, dilation=dilation, groups=groups,
                       extra_padding=extra)
    return y.squeeze(0) if unbatched else y


def _no_grad_indices(t):
    from ..tensor import Tensor
    return Tensor._make(t.array, t.device, None, 0)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """对 (N, C, H, W) 或 (C, H, W) 做二维最大池化；stride 默认等于 kernel_size。
    ``return_indices=True`` 时还返回每个最大值的位置（row·W + col，int64）。"""
    x, unbatched = _input4d(input, "max_pool2d")
    kw = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    if return_indices:
        y, idx = MaxPool2dWithIndicesFn.apply(x, **kw)
        idx = _no_grad_indices(idx)
        return (y.squeeze(0), idx.squeeze(0)) if unbatched else (y, idx)
    y = MaxPool2dFn.apply(x, **kw)
    return y.squeeze(0) if unbatched else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """对 (N, C, H, W) 或 (C, H, W) 做二维平均池化；stride 默认等于 kernel_size。"""
    x, unbatched = _input4d(input, "avg_pool2d")
    y = AvgPool2dFn.apply(x, kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode,
                          count_include_pad=count_include_pad, divisor_override=divisor_override)
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool2d(input, output_size):
    """不论输入多大，都平均池化到固定的输出尺寸 (N, C, Ho, Wo)（``output_size`` 里的 ``None`` 表示该维
    保持输入的大小）；(1, 1) 就是全局平均池化。"""
    x, unbatched = _input4d(input, "adaptive_avg_pool2d")
    y = AdaptiveAvgPool2dFn.apply(x, output_size=output_size)
    return y.squeeze(0) if unbatched else y


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """最大池化到固定的输出尺寸（见 ``adaptive_avg_pool2d``）。"""
    x, unbatched = _input4d(input, "adaptive_max_pool2d")
    y, idx = AdaptiveMaxPool2dFn.apply(x, output_size=output_size)
    idx = _no_grad_indices(idx)
    if unbatched:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return (y, idx) if return_indices else y


# ----------------------------------------------------------------------------- 一维：借用二维的实现
def _single(v, name, op, allow_zero=False):
    """一维的参数：整数或只含一个整数的元组 -> 该整数。"""
    if isinstance(v, (tuple, list)) and len(v) == 1:
        v = v[0]
    if isinstance(v, bool) or not isinstance(v, int) or v < (0 if allow_zero else 1):
        raise TensorError(f"{op}: {name} must be a {'non-negative' if allow_zero else 'positive'} int or a "
                          f"1-tuple of one, got {v!r}")
    return int(v)


def _input3d(input, op):
    """一维的输入 (N, C, L) 或 (C, L) -> 二维的 (N, C, 1, L)：加一个高度为 1 的维度（只是视图）。
    返回 (张量, 原来是否没有 batch 维)。"""
    from ..tensor import Tensor
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim == 2:
        return input.unsqueeze(0).unsqueeze(2), True
    if input.ndim != 3:
        raise TensorError(f"{op}: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape {input.shape}")
    return input.unsqueeze(2), False


def _output3d(y, unbatched):
    """二维结果 (N, C, 1, Lo) -> (N, C, Lo)，没有 batch 维时 -> (C, Lo)。"""
    y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """对 (N, C, L) 或 (C, L) 做一维卷积：看作高度为 1 的图像，卷积核 (O, C/groups, k) 看作 (O, C/groups, 1, k)，
    交给 ``conv2d``（反向也就是 Conv2dFn 的反向）。``padding`` 可以是整数、``"valid"`` 或 ``"same"``。
    1-D convolution as a height-1 2-D one: weight (O, C/groups, k) is viewed as (O, C/groups, 1, k)."""
    x, unbatched = _input3d(input, "conv1d")
    if weight.ndim != 3:
        raise TensorError(f"conv1d: expected weight (O, C/groups, k), got shape {weight.shape}")
    if not isinstance(groups, int) or groups < 1:
        raise TensorError(f"conv1d: groups must be a positive int, got {groups!r}")
    if x.shape[1] != weight.shape[1] * groups:
        raise TensorError(f"conv1d: weight of shape {weight.shape} with groups={groups} expects input "
                          f"{tuple(input.shape)} to have {weight.shape[1] * groups} channels, got {x.shape[1]}")
    stride, dilation = _single(stride, "stride", "conv1d"), _single(dilation, "dilation", "conv1d")
    if not isinstance(padding, str):
        padding = (0, _single(padding, "padding", "conv1d", True))
    y = conv2d(x, weight.unsqueeze(2), bias, (1, stride), padding, (1, dilation), groups)
    return _output3d(y, unbatched)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """对 (N, C, L) 或 (C, L) 做一维最大池化（窗口 (1, k) 的二维最大池化）；下标就是在 L 上的位置。"""
    x, unbatched = _input3d(input, "max_pool1d")
    k = _single(kernel_size, "kernel_size", "max_pool1d")
    s = k if stride is None or stride == () else _single(stride, "stride", "max_pool1d")
    p, d = _single(padding, "padding", "max_pool1d", True), _single(dilation, "dilation", "max_pool1d")
    out = max_pool2d(x, (1, k), (1, s), (0, p), (1, d), ceil_mode, return_indices)
    if return_indices:
        return _output3d(out[0], unbatched), _output3d(out[1], unbatched)
    return _output3d(out, unbatched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """对 (N, C, L) 或 (C, L) 做一维平均池化（窗口 (1, k) 的二维平均池化）。"""
    x, unbatched = _input3d(input, "avg_pool1d")
    k = _single(kernel_size, "kernel_size", "avg_pool1d")
    s = k if stride is None or stride == () else _single(stride, "stride", "avg_pool1d")
    p = _single(padding, "padding", "avg_pool1d", True)
    return _output3d(avg_pool2d(x, (1, k), (1, s), (0, p), ceil_mode, count_include_pad), unbatched)


def adaptive_avg_pool1d(input, output_size):
    """一维自适应平均池化：(N, C, L) -> (N, C, output_size)。"""
    x, unbatched = _input3d(input, "adaptive_avg_pool1d")
    o = _single(output_size, "output_size", "adaptive_avg_pool1d")
    return _output3d(adaptive_avg_pool2d(x, (1, o)), unbatched)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """一维自适应最大池化：(N, C, L) -> (N, C, output_size)；下标是在 L 上的位置。"""
    x, unbatched = _input3d(input, "adaptive_max_pool1d")
    o = _single(output_size, "output_size", "adaptive_max_pool1d")
    out = adaptive_max_pool2d(x, (1, o), return_indices)
    if return_indices:
        return _output3d(out[0], unbatched), _output3d(out[1], unbatched)
    return _output3d(out, unbatched)

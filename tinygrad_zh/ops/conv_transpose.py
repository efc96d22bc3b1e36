"""二维转置卷积（"反卷积"）：卷积对输入求梯度的那个运算，拿来当作一层的前向。

卷积（见 ``conv.py``）是 cols = im2col(x)，y = W·cols。它对输入的梯度是 dx = col2im(Wᵀ·g)。
转置卷积就把这一步当作前向：每个输入像素乘上整个卷积核，"盖章"到输出上，重叠处相加::

    x     (C_in, N·H·W)             输入，每一列是一个像素的所有通道
    W     (C_in, C_out·kh·kw)       权重 (C_in, C_out/groups, kh, kw) 摊平（groups = 1 时）
    cols = Wᵀ·x  (C_out·kh·kw, N·H·W)
    y    = col2im(cols)             (N, C_out, H_out, W_out)

H_out = (H − 1)·s − 2p + d(k − 1) + output_padding + 1：恰好是步长 s、补零 p 的卷积把 H_out 变回 H 的
那个大小（``output_padding`` < s 时几个 H_out 都行，用它选定一个）。

反向（前向是线性的，所以都是前向的"转置"）：∂L/∂x = W·im2col(g) —— 即对 g 做一次普通卷积；
∂L/∂W = x·im2col(g)ᵀ —— 输入与 g 的互相关；∂L/∂b = Σ g。

English: 2-D transposed convolution: the gradient of conv2d with respect to its input, used as a
forward pass (cols = Wᵀ·x, y = col2im(cols)).  Backward: dx = W·im2col(g) (an ordinary
convolution of g), dW = x·im2col(g)ᵀ, db = Σ g.  Weight (C_in, C_out/groups, kh, kw) as in PyTorch.
"""
from ..autograd import Function
from ..backend import array_module
from ..errors import TensorError
from .conv import _col2im, _im2col, _input4d, _pair


def conv_transpose_output_size(size, kernel, stride, padding, output_padding, dilation):
    """H_out = (H − 1)·s − 2p + d(k − 1) + output_padding + 1（一个维度）。"""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


class ConvTranspose2dFn(Function):
    """y = conv_transpose2d(x, W) + b.  x (N, C_in, H, W), W (C_in, C_out/groups, kh, kw), b (C_out,)
    -> y (N, C_out, H_out, W_out).

    ``ConvTranspose2dFn.apply(x, w[, b], stride=1, padding=0, output_padding=0, groups=1, dilation=1)``.
    ``groups``: input block g (C_in/groups channels) only writes output block g (C_out/groups channels)."""

    def forward(self, x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        op = "conv_transpose2d"
        stride, padding = _pair(stride, "stride", op), _pair(padding, "padding", op, True)
        output_padding, dilation = _pair(output_padding, "output_padding", op, True), _pair(dilation, "dilation", op)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise TensorError(f"{op}: groups must be a positive int, got {groups!r}")
        if x.ndim != 4 or w.ndim != 4:
            raise TensorError(f"{op}: expected input (N, C_in, H, W) and weight (C_in, C_out/groups, kh, kw), "
                              f"got input {x.shape} and weight {w.shape}")
        if x.shape[1] != w.shape[0] or w.shape[0] % groups:
            raise TensorError(f"{op}: weight of shape {w.shape} expects the input {x.shape} to have "
                              f"weight.shape[0] = {w.shape[0]} channels, got {x.shape[1]}"
                              + (f"; weight.shape[0] must be divisible by groups={groups}" if w.shape[0] % groups
                                 else ""))
        C_out = w.shape[1] * groups
        if b is not None and b.shape != (C_out,):
            raise TensorError(f"{op}: bias must have shape ({C_out},), got {b.shape}")
        if x.dtype.kind != "f" or x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
            raise TypeError(f"{op}: expected floating point input, weight and bias of one dtype, got "
                            f"{x.dtype}, {w.dtype}" + ("" if b is None else f", {b.dtype}"))
        if any(o >= s and o >= d for o, s, d in zip(output_padding, stride, dilation)):
            raise TensorError(f"{op}: output_padding {output_padding} must be smaller than either stride "
                              f"{stride} or dilation {dilation}")
        N, C_in, H, W = x.shape
        kh, kw = w.shape[2:]
        out_hw = tuple(conv_transpose_output_size(n, k, s, p, o, d) for n, k, s, p, o, d in
                       zip((H, W), (kh, kw), stride, padding, output_padding, dilation))
        if min(out_hw) < 1:
            raise TensorError(f"{op}: input {x.shape}, kernel ({kh}, {kw}), stride {stride}, padding {padding}, "
                              f"dilation {dilation}: calculated output size {out_hw} is too small")
        G = groups
        self.geom = ((kh, kw), stride, padding, dilation)
        self.y_shape, self.groups, self.has_b = (N, C_out) + out_hw, G, b is not None
        self.x_hw = (H, W)
        # x3 (G, C_in/G, N·H·W)：第 g 组的输入通道；w3 (G, C_in/G, C_out/G·kh·kw)
        self.x3 = x.transpose(1, 0, 2, 3).reshape(G, C_in // G, N * H * W)
        self.w3 = w.reshape(G, C_in // G, -1)
        cols = (self.w3.transpose(0, 2, 1) @ self.x3).reshape(C_out * kh * kw, N * H * W)   # cols = Wᵀ·x
        y = _col2im(cols, self.y_shape, *self.geom)       # 把每一列"盖章"回输出（重叠处相加）
        if b is not None:
            y = y + b.reshape(1, C_out, 1, 1)
        return y

    def backward(self, g):
        """y = col2im(Wᵀ·x) + b（线性）：∂L/∂x = W·im2col(g) —— g 的普通卷积；
        ∂L/∂W = x·im2col(g)ᵀ —— 输入与 g 的互相关；∂L/∂b = Σ g（对 N、H_out、W_out 求和）。"""
        G = self.groups
        C_in = self.x3.shape[1] * G
        N = g.shape[0]
        cols3 = _im2col(g, *self.geom).reshape(G, -1, self.x3.shape[2])   # (G, C_out/G·kh·kw, N·H·W)
        dx = dw = db = None
        if self.needs_input_grad[0]:
            dx3 = self.w3 @ cols3                                          # (G, C_in/G, N·H·W)
            H, W = self.x_hw
            dx = dx3.reshape(C_in, N, H, W).transpose(1, 0, 2, 3)
        if self.needs_input_grad[1]:
            dw = (self.x3 @ cols3.transpose(0, 2, 1)).reshape(C_in, -1, *self.geom[0])
        if self.has_b and self.needs_input_grad[2]:
            db = g.sum(axis=(0, 2, 3))
        return (dx, dw, db) if self.has_b else (dx, dw)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """对 (N, C_in, H, W) 或 (C_in, H, W) 做二维转置卷积（卷积对输入求梯度的那个运算）。

    weight (C_in, C_out/groups, kh, kw)；输出边长 (H − 1)·s − 2p + d(k − 1) + output_padding + 1。
    Weight (C_in, C_out/groups, kh, kw); output side (H − 1)·s − 2p + d(k − 1) + output_padding + 1."""
    x, unbatched = _input4d(input, "conv_transpose2d")
    if isinstance(padding, str):
        raise TensorError(f"conv_transpose2d: padding must be an int or a pair, got {padding!r}")
    args = (x, weight) if bias is None else (x, weight, bias)
    y = ConvTranspose2dFn.apply(*args, stride=stride, padding=padding, output_padding=output_padding,
                                groups=groups, dilation=dilation)
    return y.squeeze(0) if unbatched else y

"""练习 16：用 im2col 实现卷积

写 Conv2d：forward(x, w, b, stride=1, padding=0)
    x: (N, C, H, W) 图像，w: (O, C, k, k) 卷积核，b: (O,) 偏置
    输出 (N, O, OH, OW)，OH = (H + 2·padding − k) // stride + 1（OW 同理）
    out[n, o, i, j] = Σ_{c,p,q} x_pad[n, c, i·stride + p, j·stride + q] · w[o, c, p, q] + b[o]
（深度学习里的"卷积"是互相关：卷积核不翻转。）backward(G) 返回 (∂L/∂x, ∂L/∂w, ∂L/∂b)。

做法：
1. im2col(x_pad, k, stride)：把每个 k×k 窗口（所有通道）展开成一行，得到 (N·OH·OW, C·k·k) 的矩阵 cols。
   这样卷积 = cols @ w.reshape(O, C·k·k).T，再整理成 (N, O, OH, OW)。
2. 反向：先把 G 整理成 (N·OH·OW, O) 的矩阵 Gm，然后就是第 12 题的全连接层：
   dW = ?，db = ?，dcols = ?（按形状凑）。
3. col2im(dcols, ...)：im2col 的反向。每一行的梯度要回到它来自的窗口；窗口重叠时（stride < k）同一个
   像素出现在好几行里，梯度要怎样合并？最后去掉 padding。

检查：python -m tinygrad_zh.exercises check conv2d --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint conv2d      讲解：docs/06_conv_im2col.md
"""
import numpy as np

import tinygrad_zh as tg


def im2col(xp, k, stride):
    """xp: (N, C, Hp, Wp) 已补零的图像 -> (N·OH·OW, C·k·k)，每行一个窗口，列按 (c, p, q) 排列。"""
    # >>> 答案
    N, C, Hp, Wp = xp.shape
    OH, OW = (Hp - k) // stride + 1, (Wp - k) // stride + 1
    cols = np.empty((N, OH, OW, C, k, k), dtype=xp.dtype)
    for p in range(k):
        for q in range(k):
            patch = xp[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride]     # (N, C, OH, OW)
            cols[:, :, :, :, p, q] = patch.transpose(0, 2, 3, 1)
    return cols.reshape(N * OH * OW, C * k * k)
    # <<< 答案


def col2im(dcols, xp_shape, k, stride):
    """im2col 的反向：(N·OH·OW, C·k·k) -> (N, C, Hp, Wp)。"""
    # >>> 答案
    N, C, Hp, Wp = xp_shape
    OH, OW = (Hp - k) // stride + 1, (Wp - k) // stride + 1
    d = dcols.reshape(N, OH, OW, C, k, k)
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    for p in range(k):
        for q in range(k):
            dxp[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride] += d[:, :, :, :, p, q].transpose(0, 3, 1, 2)
    return dxp
    # <<< 答案


class Conv2d(tg.Function):
    def forward(self, x, w, b, stride=1, padding=0):
        # >>> 答案
        N, C, H, W = x.shape
        O, _, k, _ = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        OH, OW = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
        self.cols = im2col(xp, k, stride)
        self.w, self.xp_shape, self.k, self.stride, self.padding = w, xp.shape, k, stride, padding
        self.x_shape = x.shape
        out = self.cols @ w.reshape(O, -1).T + b                    # (N·OH·OW, O)
        return out.reshape(N, OH, OW, O).transpose(0, 3, 1, 2)
        # <<< 答案

    def backward(self, G):
        # >>> 答案
        N, O, OH, OW = G.shape
        Gm = G.transpose(0, 2, 3, 1).reshape(-1, O)               # (N·OH·OW, O)
        dw = (Gm.T @ self.cols).reshape(self.w.shape)
        db = Gm.sum(axis=0)
        dxp = col2im(Gm @ self.w.reshape(O, -1), self.xp_shape, self.k, self.stride)
        p, (_, _, H, W) = self.padding, self.x_shape
        return dxp[:, :, p:p + H, p:p + W], dw, db
        # <<< 答案

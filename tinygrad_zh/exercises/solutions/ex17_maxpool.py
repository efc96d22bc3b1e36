"""练习 17：最大池化

写 MaxPool2d：forward(x, kernel_size=2, stride=2)，x 形状 (N, C, H, W)，不补零。
    OH = (H − kernel_size) // stride + 1（OW 同理）
    out[n, c, i, j] = max_{p,q < kernel_size} x[n, c, i·stride + p, j·stride + q]
backward(G) 返回 ∂L/∂x（和 x 同形）。判题时 x 的元素两两不同（没有并列的最大值）。

- 一个窗口的最大值只由窗口里最大的那个元素决定：它的局部导数是多少？其余元素呢？
- forward 要记下什么，backward 才知道把 G 交给谁？
- stride < kernel_size 时窗口重叠：同一个元素可能是两个窗口的最大值，它的梯度是多少？

检查：python -m tinygrad_zh.exercises check maxpool --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint maxpool      讲解：docs/06_conv_im2col.md
"""
import numpy as np

import tinygrad_zh as tg


class MaxPool2d(tg.Function):
    def forward(self, x, kernel_size=2, stride=2):
        # >>> 答案
        N, C, H, W = x.shape
        k, s = kernel_size, stride
        OH, OW = (H - k) // s + 1, (W - k) // s + 1
        win = np.empty((N, C, OH, OW, k * k), dtype=x.dtype)
        for p in range(k):
            for q in range(k):
                win[..., p * k + q] = x[:, :, p:p + s * OH:s, q:q + s * OW:s]
        self.arg = win.argmax(axis=-1)                              # 每个窗口最大值的位置
        self.x_shape, self.k, self.s = x.shape, k, s
        return win.max(axis=-1)
        # <<< 答案

    def backward(self, G):
        # >>> 答案
        k, s = self.k, self.s
        dx = np.zeros(self.x_shape, dtype=G.dtype)
        OH, OW = G.shape[2:]
        for p in range(k):
            for q in range(k):
                dx[:, :, p:p + s * OH:s, q:q + s * OW:s] += G * (self.arg == p * k + q)
        return dx
        # <<< 答案

"""练习 12：全连接层 y = x Wᵀ + b

写 Linear：forward(x, W, b)，x 形状 (N, in)（N 个样本），W 形状 (out, in)（和 PyTorch 的 nn.Linear
一样），b 形状 (out,)，y 形状 (N, out)。backward(G) 里 G = ∂L/∂y，返回 (∂L/∂x, ∂L/∂W, ∂L/∂b)。

- x Wᵀ 是矩阵乘法（第 9 题）：按形状凑出 ∂L/∂x (N, in) 和 ∂L/∂W (out, in)。
- b 被广播到了每一行（第 2 题）：∂L/∂b 要怎样求和？

检查：python -m tinygrad_zh.exercises check linear --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint linear      讲解：docs/03_matmul_softmax_ce.md
"""
import numpy as np  # noqa: F401

import tinygrad_zh as tg


class Linear(tg.Function):
    def forward(self, x, W, b):
        # >>> 答案
        self.x, self.W = x, W
        return x @ W.T + b
        # <<< 答案

    def backward(self, G):
        # >>> 答案
        return G @ self.W, G.T @ self.x, G.sum(axis=0)
        # <<< 答案

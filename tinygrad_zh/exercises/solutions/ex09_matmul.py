"""练习 9：矩阵乘法 C = A B

写 MatMul：forward(A, B) 返回 A @ B，A 形状 (n, k)，B 形状 (k, m)，C 形状 (n, m)。
backward(G) 里 G = ∂L/∂C，形状 (n, m)，返回 (∂L/∂A, ∂L/∂B)。

- 写出一个元素：C[i, j] = Σₜ A[i, t] · B[t, j]。A[i, t] 影响了哪些 C[i, j]？每个的局部导数是多少？
  把它们加起来，写成矩阵乘法。
- 检查形状：∂L/∂A 必须是 (n, k)，∂L/∂B 必须是 (k, m)。手里有 G (n, m)、A (n, k)、B (k, m)，
  只有一种乘法（加转置）能凑出这两个形状。

检查：python -m tinygrad_zh.exercises check matmul --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint matmul      讲解：docs/03_matmul_softmax_ce.md
"""
import numpy as np  # noqa: F401

import tinygrad_zh as tg


class MatMul(tg.Function):
    def forward(self, A, B):
        # >>> 答案
        self.A, self.B = A, B
        return A @ B
        # <<< 答案

    def backward(self, G):
        # >>> 答案
        return G @ self.B.T, self.A.T @ G
        # <<< 答案

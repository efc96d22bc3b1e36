"""练习 2：广播的加法与乘法（unbroadcast）

写三样东西：函数 unbroadcast，运算 Add（z = a + b）和 Mul（z = a · b，逐元素）。

NumPy 的广播允许 a、b 形状不同，例如 (2, 3) + (3,)、(4, 1) · (1, 5)、(3,) + ()：短的形状在前面补维度，
长度为 1 的维度被"复制"成需要的长度。反向时 g = ∂L/∂z 和 z 同形，比输入大；而返回的梯度必须和输入
同形（引擎会检查）。

1. unbroadcast(grad, shape)：把和 z 同形的 grad 变回 shape。一个被复制了 k 份的元素，k 份都影响损失，
   它的梯度是这 k 个位置上梯度之 *和*。想一想：哪些维度要求和？求和时 keepdims 取什么？
2. Add：推导 ∂z/∂a、∂z/∂b，再用 unbroadcast。
3. Mul：推导 ∂z/∂a、∂z/∂b（forward 里要把什么存在 self 上？）。

tg.Function 的写法（和 tinygrad_zh/ops/elementwise.py 里的运算一样）：forward 收到 NumPy 数组，返回
NumPy 数组，把反向要用的东西存成 self 的属性；backward(g) 按输入的顺序返回每个输入的梯度（元组）。

检查：python -m tinygrad_zh.exercises check broadcast --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint broadcast      讲解：docs/02_broadcasting.md
"""
import numpy as np  # noqa: F401

import tinygrad_zh as tg


def unbroadcast(grad, shape):
    # >>> 答案
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape)
                                       if n == 1 and grad.shape[extra + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)
    # <<< 答案


class Add(tg.Function):
    def forward(self, a, b):
        # >>> 答案
        self.a_shape, self.b_shape = a.shape, b.shape
        return a + b
        # <<< 答案

    def backward(self, g):
        # >>> 答案
        return unbroadcast(g, self.a_shape), unbroadcast(g, self.b_shape)
        # <<< 答案


class Mul(tg.Function):
    def forward(self, a, b):
        # >>> 答案
        self.a, self.b = a, b
        return a * b
        # <<< 答案

    def backward(self, g):
        # >>> 答案
        return unbroadcast(g * self.b, self.a.shape), unbroadcast(g * self.a, self.b.shape)
        # <<< 答案

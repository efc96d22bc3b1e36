"""练习 6：sum 与 mean

写 Sum 和 Mean：forward(x, axis=None, keepdims=False) 和 np.sum / np.mean 的含义相同。
axis 可以是 None（全部求和）、一个整数（可以是负数）或整数元组。forward 要返回 NumPy 数组
（全部求和时是 0 维数组：np.asarray(...)）。

- 求和时每个输入元素对输出的导数是多少？所以 ∂L/∂x 是把 g "放回"输入的每个位置。
- keepdims=False 时，g 比 x 少了被求和的那些维度。怎样把 g 对齐到 x 的形状上？（直接 broadcast_to
  会把 g 对到错误的维度上：例如 x 形状 (3, 3)，axis=1 时 g 形状 (3,)。）
- mean 的每个元素对输出的贡献是多少？

检查：python -m tinygrad_zh.exercises check reductions --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint reductions      讲解：docs/02_broadcasting.md
"""
import numpy as np

import tinygrad_zh as tg


class Sum(tg.Function):
    def forward(self, x, axis=None, keepdims=False):
        raise NotImplementedError("在这里写你的代码")

    def backward(self, g):
        raise NotImplementedError("在这里写你的代码")


class Mean(tg.Function):
    def forward(self, x, axis=None, keepdims=False):
        raise NotImplementedError("在这里写你的代码")

    def backward(self, g):
        raise NotImplementedError("在这里写你的代码")

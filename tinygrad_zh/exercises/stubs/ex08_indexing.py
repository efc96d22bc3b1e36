"""练习 8：索引 y = x[index]

写 Index：forward(x, index) 返回 x[index]。index 可能是
  - 整数数组（可以有负数和 *重复*）：x[np.array([0, 0, 2])]
  - 切片：x[slice(1, None, 2)]
  - 二维时的元组：x[(rows, cols)] 或 x[(rows, slice(None))]

- 被取出的元素，梯度是 g 里对应位置的值；没被取出的元素，梯度是 0。
- 一个元素被取出了两次（重复的下标），它影响损失两次：梯度是多少？
- 小心：grad[index] += g 遇到重复下标时只加一次（NumPy 先读后写）。试一试 np.add.at。

检查：python -m tinygrad_zh.exercises check indexing --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint indexing      讲解：docs/02_broadcasting.md
"""
import numpy as np

import tinygrad_zh as tg


class Index(tg.Function):
    def forward(self, x, index):
        raise NotImplementedError("在这里写你的代码")

    def backward(self, g):
        raise NotImplementedError("在这里写你的代码")

"""练习 7：reshape 与 transpose

写 Reshape（forward(x, shape)，和 x.reshape(shape) 相同，shape 里可能有 -1）和
Transpose（forward(x, axes)，和 np.transpose(x, axes) 相同：输出的第 k 个轴是输入的第 axes[k] 个轴）。

- 这两个运算都不改变元素的值，只改变它们的排列：每个输出元素恰好来自一个输入元素，局部导数是 1。
- 所以反向只要把 g 的元素"排回"输入的位置。Reshape 怎么排回去？Transpose 呢？
  三维时试一试 axes = (1, 2, 0)：把 g 再按 axes 转一次，能回到输入的形状吗？

检查：python -m tinygrad_zh.exercises check shapes --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint shapes      讲解：docs/02_broadcasting.md
"""
import numpy as np

import tinygrad_zh as tg


class Reshape(tg.Function):
    def forward(self, x, shape):
        raise NotImplementedError("在这里写你的代码")

    def backward(self, g):
        raise NotImplementedError("在这里写你的代码")


class Transpose(tg.Function):
    def forward(self, x, axes):
        raise NotImplementedError("在这里写你的代码")

    def backward(self, g):
        raise NotImplementedError("在这里写你的代码")

"""练习 3：除法 z = a / b（带广播）

写 Div：forward(a, b) 返回 a / b，backward(g) 返回 (∂L/∂a, ∂L/∂b)。

- 推导 ∂z/∂a 和 ∂z/∂b。提示：把 a / b 写成 a · b⁻¹，b⁻¹ 对 b 的导数是什么？
- 链式法则：∂L/∂a = g · ∂z/∂a（逐元素），∂L/∂b 同理。
- a、b 可以广播：返回前用 unbroadcast 把梯度求和回输入的形状（第 2 题写过；这里用库里的版本）。
- 判题时 b 的值离 0 至少 0.5。

检查：python -m tinygrad_zh.exercises check div --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint div      讲解：docs/02_broadcasting.md
"""
import numpy as np  # noqa: F401

import tinygrad_zh as tg
from tinygrad_zh.ops.elementwise import unbroadcast


class Div(tg.Function):
    def forward(self, a, b):
        raise NotImplementedError("在这里写你的代码")

    def backward(self, g):
        raise NotImplementedError("在这里写你的代码")

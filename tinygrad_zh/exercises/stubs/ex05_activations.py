"""练习 5：sigmoid 与 tanh

写 Sigmoid（σ(x) = 1 / (1 + e⁻ˣ)）和 Tanh（tanh x），逐元素。

- 对 σ(x) 求导，把结果整理成只含 σ(x) 的式子；tanh 的导数也只含 tanh(x)。
- 所以 forward 存下 *输出*，backward 只用输出。
- 判题时 x 在 [−5, 5] 之间；想一想 x = −1000 时 1/(1+e⁻ˣ) 会怎样（σ(x) = (1 + tanh(x/2)) / 2 不会溢出）。

检查：python -m tinygrad_zh.exercises check activations --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint activations      讲解：docs/01_chain_rule.md
"""
import numpy as np

import tinygrad_zh as tg


class Sigmoid(tg.Function):
    def forward(self, x):
        raise NotImplementedError("在这里写你的代码")

    def backward(self, g):
        raise NotImplementedError("在这里写你的代码")


class Tanh(tg.Function):
    def forward(self, x):
        raise NotImplementedError("在这里写你的代码")

    def backward(self, g):
        raise NotImplementedError("在这里写你的代码")

"""练习 4：exp 与 log

写 Exp（z = eˣ）和 Log（z = ln x，判题时 x > 0），都是逐元素运算。

- 推导两个导数：(eˣ)' = ?，(ln x)' = ?
- 哪个导数可以直接用前向的 *输出* 表示？把它存下来，backward 就不必再算一次 exp。
- 只有一个输入时，backward 直接返回那个梯度（不用元组）。

检查：python -m tinygrad_zh.exercises check exp_log --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint exp_log      讲解：docs/01_chain_rule.md
"""
import numpy as np

import tinygrad_zh as tg


class Exp(tg.Function):
    def forward(self, x):
        # >>> 答案
        self.out = np.exp(x)
        return self.out
        # <<< 答案

    def backward(self, g):
        # >>> 答案
        return g * self.out
        # <<< 答案


class Log(tg.Function):
    def forward(self, x):
        # >>> 答案
        self.x = x
        return np.log(x)
        # <<< 答案

    def backward(self, g):
        # >>> 答案
        return g / self.x
        # <<< 答案

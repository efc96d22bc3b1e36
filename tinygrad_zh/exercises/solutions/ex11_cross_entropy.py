"""练习 11：softmax 交叉熵

写 SoftmaxCrossEntropy：forward(logits, target) 中 logits 形状 (N, C)，target 是 N 个整数类别
（0..C-1，作为关键字参数传入，不需要梯度）。返回 0 维数组

    L = −(1/N) Σᵢ log softmax(logitsᵢ)[targetᵢ]，   softmax(x)ⱼ = e^{xⱼ} / Σₖ e^{xₖ}

backward(g) 返回 ∂L/∂logits（只有 logits 一个张量输入，直接返回一个数组）。

- 数值稳定：判题时 logits 可能在 800 左右，e^800 会溢出成 inf。softmax(x) = softmax(x − c)
  对任何常数 c 成立，取 c 为每行的最大值。log softmax 写成 x − log Σ eˣ 的形式。
- 推导：log softmax(x)[y] = x_y − log Σₖ e^{xₖ}。对 xⱼ 求导，log-sum-exp 的导数是什么？
  结果可以用 softmax(x) 和 onehot(y) 表示。别忘了 1/N。

检查：python -m tinygrad_zh.exercises check cross_entropy --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint cross_entropy      讲解：docs/03_matmul_softmax_ce.md
"""
import numpy as np

import tinygrad_zh as tg


class SoftmaxCrossEntropy(tg.Function):
    def forward(self, logits, target):
        # >>> 答案
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        self.p = e / s
        self.target = np.asarray(target)
        n = len(self.target)
        logp = z - np.log(s)
        return np.asarray(-logp[np.arange(n), self.target].mean())
        # <<< 答案

    def backward(self, g):
        # >>> 答案
        n = len(self.target)
        grad = self.p.copy()
        grad[np.arange(n), self.target] -= 1
        return grad * (g / n)
        # <<< 答案

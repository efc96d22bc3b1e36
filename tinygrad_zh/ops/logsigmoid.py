"""log σ(x)：一个节点，正向和反向都不溢出，也不丢相对精度。

log σ(x) = −log(1 + e^{−x})。直接算 e^{−x} 在 x 很负时溢出；写成
min(x, 0) − log(1 + e^{−|x|}) 后 e^{−|x|} ≤ 1，永远安全。导数 σ(−x) 同样用 e^{−|x|} 表示：
x 很大时它是一个极小的正数（例如 x = 40 时约 4e-18），用 (1 + tanh(−x/2))/2 计算会因为相消变成 0。

English: forward as min(x, 0) − log1p(e^{−|x|}); backward σ(−x) from the same e^{−|x|}, so the tiny
gradient at large x keeps its relative precision (the tanh form of the sigmoid cancels to 0 there).
"""
from ..autograd import Function
from ..backend import array_module


class LogSigmoid(Function):
    """log σ(x) = −softplus(−x)，对很大的 |x| 也不溢出。"""

    def forward(self, a):
        xp = array_module(a)
        e = xp.exp(-xp.abs(a))                       # e^{−|x|} ∈ (0, 1]
        self.e, self.neg = e, a < 0
        return xp.minimum(a, 0) - xp.log1p(e)

    def backward(self, g):
        """z = log σ(x):  ∂z/∂x = 1 − σ(x) = σ(−x) = e^{−|x|}/(1 + e^{−|x|})（x ≥ 0），1/(1 + eˣ)（x < 0）
        —— x 很负时梯度 ≈ 1（z ≈ x），x 很大时梯度 ≈ e^{−x}，趋于 0 但不是 0。"""
        xp = array_module(g)
        e = self.e
        return g * xp.where(self.neg, 1 / (1 + e), e / (1 + e))

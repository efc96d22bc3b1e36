"""Adadelta：用"过去更新量的均方根 / 过去梯度的均方根"当每个参数自己的步长。"""
from ..backend import array_module
from .optimizer import Optimizer, check_hparam, check_torch_flags


class Adadelta(Optimizer):
    """Adadelta ``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
    capturable=False, maximize=False, differentiable=False)``.

    公式（第 t 步，g 为梯度，λ=weight_decay，ρ=rho；v、u 从 0 开始）::

        g ← g + λ·θ                          (L2 权重衰减)
        v ← ρ·v + (1-ρ)·g²                   梯度平方的滑动平均
        Δ ← √(u + ε) / √(v + ε) · g          这一步的更新量
        u ← ρ·u + (1-ρ)·Δ²                   更新量平方的滑动平均
        θ ← θ - lr·Δ

    一句话：分子 √(u+ε) 与 θ 的单位相同、分母 √(v+ε) 与 g 的单位相同，所以 Δ 天然有 θ 的"单位"，
    原论文因此不需要学习率（lr=1.0 即论文算法；pytorch/examples 的 MNIST 配合
    ``StepLR(step_size=1, gamma=0.7)`` 每个 epoch 把它缩小）。``maximize=True`` 时把 g 换成 -g。

    State per parameter (same names as PyTorch): ``step``, ``square_avg`` (v), ``acc_delta`` (u).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_torch_flags("Adadelta", foreach=foreach, capturable=capturable, differentiable=differentiable)
        lr = check_hparam("Adadelta", "lr", lr, label="learning rate")
        rho = check_hparam("Adadelta", "rho", rho, high=1.0)
        eps = check_hparam("Adadelta", "eps", eps)
        weight_decay = check_hparam("Adadelta", "weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=bool(maximize)))

    def _update(self, group):
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        wd, maximize = group["weight_decay"], group["maximize"]
        for p, g in self._grads(group):
            state = self.state.get(p)
            if not state:                       # buffers allocated once, like the parameter
                state = self.state[p] = {"step": 0, "square_avg": self._zeros_like(p),
                                         "acc_delta": self._zeros_like(p)}
            state["step"] += 1
            for theta, g, v, u in self._blocks(p.array, g, state["square_avg"], state["acc_delta"]):
                xp = array_module(theta)
                if maximize:                                                   # g = -g
                    g = xp.negative(g, out=self._scratch(theta, 0))
                if wd != 0:                                                    # g = g + λθ
                    g = xp.add(g, self._scaled(theta, wd, 1), out=self._scratch(theta, 0))
                v *= rho                                                       # v = ρv + (1-ρ)g²
                s = xp.multiply(g, g, out=self._scratch(theta, 1))
                s *= 1 - rho
                v += s
                std = xp.add(v, eps, out=self._scratch(theta, 1))              # √(v + ε)
                xp.sqrt(std, out=std)
                delta = xp.add(u, eps, out=self._scratch(theta, 2))            # Δ = √(u + ε)/√(v + ε)·g
                xp.sqrt(delta, out=delta)
                delta /= std
                delta *= g
                u *= rho                                                       # u = ρu + (1-ρ)Δ²
                s = xp.multiply(delta, delta, out=std)
                s *= 1 - rho
                u += s
                delta *= lr                                                    # θ = θ - lr·Δ
                theta -= delta

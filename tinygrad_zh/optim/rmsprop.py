"""RMSprop：用梯度平方的滑动平均给每个参数单独缩放步长。"""
from ..backend import array_module
from .optimizer import Optimizer, check_hparam, check_torch_flags


class RMSprop(Optimizer):
    """RMSprop ``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, maximize=False)``（位置参数顺序与 PyTorch 相同；``foreach``/``capturable`` 接受并忽略）.

    公式（g 为梯度，λ=weight_decay，μ=momentum）::

        g ← g + λ·θ                        (L2 权重衰减)
        v ← α·v + (1-α)·g²                 梯度平方的滑动平均
        ḡ ← α·ḡ + (1-α)·g                  (centered：梯度本身的滑动平均)
        d ← √(v - ḡ²) + ε   (centered)  或  √v + ε
        b ← μ·b + g/d,  θ ← θ - lr·b       (momentum > 0)
        θ ← θ - lr·g/d                     (momentum = 0)

    一句话：梯度一直很大的方向步子变小、很小的方向步子变大；centered 版用方差 v - ḡ² 代替
    二阶矩，相当于只按梯度的"波动"来缩放。
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, capturable=False, foreach=None, maximize=False, differentiable=False):
        check_torch_flags("RMSprop", foreach=foreach, capturable=capturable, differentiable=differentiable)
        lr = check_hparam("RMSprop", "lr", lr, label="learning rate")
        eps = check_hparam("RMSprop", "eps", eps)
        alpha = check_hparam("RMSprop", "alpha", alpha, high=1.0)
        momentum = check_hparam("RMSprop", "momentum", momentum)
        weight_decay = check_hparam("RMSprop", "weight_decay", weight_decay)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=bool(centered), maximize=bool(maximize)))

    def _update(self, group):
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        wd, mu, centered = group["weight_decay"], group["momentum"], group["centered"]
        for p, g in self._grads(group):
            theta, xp = p.array, array_module(p.array)
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0, "square_avg": self._zeros_like(p)}
            if mu > 0 and state.get("momentum_buffer") is None:
                state["momentum_buffer"] = self._zeros_like(p)
            if centered and state.get("grad_avg") is None:
                state["grad_avg"] = self._zeros_like(p)
            state["step"] += 1
            if group["maximize"]:
                g = xp.negative(g, out=self._scratch(theta, 0))
            if wd != 0:                                                    # g = g + λθ
                g = xp.add(g, self._scaled(theta, wd, 1), out=self._scratch(theta, 0))
            v = state["square_avg"]                                        # v = αv + (1-α)g²
            v *= alpha
            s = xp.multiply(g, g, out=self._scratch(theta, 1))
            s *= 1 - alpha
            v += s
            if centered:
                gbar = state["grad_avg"]                                   # ḡ = ḡ + (1-α)(g - ḡ)
                s = xp.subtract(g, gbar, out=s)
                s *= 1 - alpha
                gbar += s
                d = xp.multiply(gbar, gbar, out=s)                         # d = √(v - ḡ²) + ε
                xp.subtract(v, d, out=d)
                xp.sqrt(d, out=d)
            else:
                d = xp.sqrt(v, out=s)                                      # d = √v + ε
            d += eps
            if mu > 0:
                buf = state["momentum_buffer"]                             # b = μb + g/d
                buf *= mu
                buf += xp.divide(g, d, out=d)
                theta -= self._scaled(buf, lr, 1)                          # θ = θ - lr·b
            else:
                step = xp.divide(g, d, out=d)                              # θ = θ - lr·g/d
                step *= lr
                theta -= step

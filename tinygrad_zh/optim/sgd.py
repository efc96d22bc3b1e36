"""SGD：随机梯度下降（可选动量、Nesterov、权重衰减）。

``backward()`` 算出 ∂L/∂θ 之后，最简单的用法就是沿负梯度走一小步：θ ← θ - lr·g。``_update`` 的每一行
与类 docstring 里的公式一一对应。

English: stochastic gradient descent with optional momentum, Nesterov momentum and weight decay; each
line of ``_update`` matches a line of the formula in the class docstring.
"""
from ..backend import array_module
from .optimizer import Optimizer, check_hparam, check_torch_flags


class SGD(Optimizer):
    """随机梯度下降 ``SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False)``（PyTorch 的 ``foreach``/``fused`` 也接受，见 ``check_torch_flags``）.

    公式（第 t 步，g 为梯度，λ=weight_decay，μ=momentum，τ=dampening）::

        g ← g + λ·θ                      (L2 权重衰减：等价于损失加 λ/2·‖θ‖²)
        b ← g                 (t = 1)     动量缓冲第一次直接取梯度
        b ← μ·b + (1-τ)·g     (t > 1)     动量：把历史梯度做指数累积
        g ← g + μ·b  (nesterov)  或  g ← b
        θ ← θ - lr·g

    一句话：沿负梯度方向走一步；动量让更新方向"有惯性"，在峡谷形的损失面上不再来回震荡。
    ``maximize=True`` 时把 g 换成 -g（梯度上升）。
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False, fused=None):
        check_torch_flags("SGD", foreach=foreach, fused=fused, differentiable=differentiable)
        lr = check_hparam("SGD", "lr", lr, label="learning rate")     # PyTorch 2.x 起默认 1e-3
        momentum = check_hparam("SGD", "momentum", momentum)
        dampening = check_hparam("SGD", "dampening", dampening, low=-float("inf"))   # 任何数都行，同 PyTorch
        weight_decay = check_hparam("SGD", "weight_decay", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=bool(nesterov),
                                      maximize=bool(maximize)))

    def _update(self, group):
        lr, mu, tau = group["lr"], group["momentum"], group["dampening"]
        wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        for p, g in self._grads(group):
            buf, first = None, False
            if mu != 0:
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = array_module(p.array).empty_like(p.array)
                    first = True
            for theta, g, buf in self._blocks(p.array, g, buf):      # 大参数分块（见 Optimizer._blocks）
                xp = array_module(theta)
                # 在临时数组 0 里算 d = ±g + λθ（绝不写进 g：梯度数组可能被共享）
                d = g
                if maximize:
                    d = xp.negative(g, out=self._scratch(theta, 0))
                if wd != 0:
                    d = xp.add(d, self._scaled(theta, wd, 1), out=self._scratch(theta, 0))
                if mu != 0:
                    if first:
                        buf[...] = d                                     # 第一步：b₁ = g₁
                    else:
                        buf *= mu                                        # 动量：b = μ·b + (1-τ)·g
                        buf += d if tau == 0 else self._scaled(d, 1 - tau, 1)
                    if nesterov:                                         # Nesterov：用 g + μ·b
                        d = xp.add(d, self._scaled(buf, mu, 1), out=self._scratch(theta, 0))
                    else:
                        d = buf
                theta -= self._scaled(d, lr, 1)                          # 走一步：θ = θ - lr·g

"""Adagrad：把每个参数历史上所有梯度的平方加起来，步长按它的平方根缩小。"""
from ..backend import array_module
from .optimizer import Optimizer, check_hparam, check_torch_flags


class Adagrad(Optimizer):
    """Adagrad ``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None)``.

    公式（第 t 步，g 为梯度，λ=weight_decay，η=lr_decay；s 从 initial_accumulator_value 开始）::

        g ← g + λ·θ                          (L2 权重衰减)
        lr_t ← lr / (1 + (t-1)·η)            (可选的学习率衰减)
        s ← s + g²                           梯度平方的累加和（只增不减）
        θ ← θ - lr_t · g / (√s + ε)

    一句话：经常有大梯度的参数累计的 s 大、步子变小，很少被更新的参数（如稀有词的嵌入）步子保持
    较大；缺点是 s 只增不减，训练久了步长会趋于 0（RMSprop、Adadelta 改用滑动平均来解决）。
    ``maximize=True`` 时把 g 换成 -g。

    State per parameter (same names as PyTorch): ``step`` and ``sum`` (s).  Like PyTorch, the state
    of every parameter is created in the constructor (``sum`` filled with
    ``initial_accumulator_value``), so ``state_dict()`` lists all parameters even before the first
    step.  One deliberate difference: a parameter group's own ``initial_accumulator_value`` is used
    for its parameters (PyTorch always uses the constructor's value).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_torch_flags("Adagrad", foreach=foreach, fused=fused, differentiable=differentiable)
        lr = check_hparam("Adagrad", "lr", lr, label="learning rate")
        lr_decay = check_hparam("Adagrad", "lr_decay", lr_decay)
        weight_decay = check_hparam("Adagrad", "weight_decay", weight_decay)
        initial_accumulator_value = check_hparam("Adagrad", "initial_accumulator_value",
                                                 initial_accumulator_value)
        eps = check_hparam("Adagrad", "eps", eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      maximize=bool(maximize)))
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        xp = array_module(p.array)
        s = xp.full_like(p.array, group["initial_accumulator_value"])      # s₀ = initial_accumulator_value
        state = self.state[p] = {"step": 0, "sum": s}
        return state

    def _update(self, group):
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        wd, maximize = group["weight_decay"], group["maximize"]
        for p, g in self._grads(group):
            state = self.state.get(p)
            if not state:                       # a group added later, or a partial checkpoint
                state = self._init_state(p, group)
            state["step"] = t = state["step"] + 1
            clr = lr / (1 + (t - 1) * lr_decay)                                 # lr_t = lr/(1 + (t-1)η)
            for theta, g, s in self._blocks(p.array, g, state["sum"]):
                xp = array_module(theta)
                if maximize:                                                   # g = -g
                    g = xp.negative(g, out=self._scratch(theta, 0))
                if wd != 0:                                                    # g = g + λθ
                    g = xp.add(g, self._scaled(theta, wd, 1), out=self._scratch(theta, 0))
                sq = xp.multiply(g, g, out=self._scratch(theta, 1))            # s = s + g²
                s += sq
                d = xp.sqrt(s, out=sq)                                         # √s + ε
                d += eps
                step = xp.divide(g, d, out=d)                                  # θ = θ - lr_t·g/(√s + ε)
                step *= clr
                theta -= step

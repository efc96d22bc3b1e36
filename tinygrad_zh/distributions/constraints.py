"""约束：参数或样本允许取哪些值（``torch.distributions.constraints``）。

``constraint.check(value)`` 返回逐元素（或逐事件）的布尔张量；分布在 ``validate_args`` 打开时（默认）用它
检查参数（``Normal`` 的 scale > 0）和 ``log_prob`` 的参数（``Bernoulli`` 的取值只能是 0 或 1）。

English: each constraint's ``check(value)`` gives a bool tensor (one entry per element, or per event
for ``simplex``, ``multinomial`` and ``independent`` ones, whose ``event_dim`` is 1).
"""
from ..tensor import Tensor

__all__ = ["Constraint", "boolean", "greater_than", "independent", "integer_interval", "interval",
           "less_than", "multinomial", "positive", "real", "real_vector", "simplex", "unit_interval"]


def _show(bound):
    """约束里的边界怎么显示：只有一个元素的张量显示数值，其余显示形状（与 PyTorch 相同）。"""
    if isinstance(bound, Tensor):
        return repr(bound.item() if bound.numel() == 1 else bound.size())
    return repr(bound)


class Constraint:
    """约束的基类：``check(value)`` -> 布尔张量；``is_discrete`` 是否只取整数；``event_dim`` 一次检查几维。"""
    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__.lstrip("_") + "()"


class _Real(Constraint):
    """实数：不是 NaN 就行（±inf 也算，与 PyTorch 相同）。"""

    def check(self, value):
        return value == value


class _Boolean(Constraint):
    """只能是 0 或 1。"""
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _GreaterThan(Constraint):
    """严格大于 lower_bound（positive 就是 GreaterThan(0.)）。"""

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return value > self.lower_bound

    def __repr__(self):
        return f"GreaterThan(lower_bound={_show(self.lower_bound)})"


class _LessThan(Constraint):
    """严格小于 upper_bound。"""

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return value < self.upper_bound

    def __repr__(self):
        return f"LessThan(upper_bound={_show(self.upper_bound)})"


class _Interval(Constraint):
    """闭区间 [lower_bound, upper_bound]。"""

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        return (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self):
        return f"Interval(lower_bound={_show(self.lower_bound)}, upper_bound={_show(self.upper_bound)})"


class _IntegerInterval(Constraint):
    """[lower_bound, upper_bound] 里的整数（值可以是浮点类型，但必须是整数值）。"""
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        return (value % 1 == 0) & (value >= self.lower_bound) & (value <= self.upper_bound)

    def __repr__(self):
        return f"IntegerInterval(lower_bound={_show(self.lower_bound)}, upper_bound={_show(self.upper_bound)})"


class _Simplex(Constraint):
    """最后一维是一个概率向量：每个分量 ≥ 0，和为 1（允许 1e-6 的误差）。"""
    event_dim = 1

    def check(self, value):
        return (value >= 0).all(-1) & ((value.sum(-1) - 1).abs() < 1e-6)


class _Multinomial(Constraint):
    """多项分布的计数向量：每个分量 ≥ 0，总数不超过 upper_bound（试验次数）。"""
    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        return (value >= 0).all(-1) & (value.sum(-1) <= self.upper_bound)


class _Independent(Constraint):
    """把 base 约束的最后 ``reinterpreted_batch_ndims`` 维当成一个事件：这些维上全部满足才算满足。"""

    def __init__(self, base, reinterpreted_batch_ndims):
        self.base, self.ndims = base, reinterpreted_batch_ndims
        self.is_discrete, self.event_dim = base.is_discrete, base.event_dim + reinterpreted_batch_ndims

    def check(self, value):
        ok = self.base.check(value)
        for _ in range(self.ndims):
            ok = ok.all(-1)
        return ok

    def __repr__(self):
        return f"IndependentConstraint({self.base!r}, {self.ndims})"


real = _Real()
boolean = _Boolean()
positive = _GreaterThan(0.0)
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
real_vector = _Independent(real, 1)
greater_than = _GreaterThan
less_than = _LessThan
interval = _Interval
integer_interval = _IntegerInterval
multinomial = _Multinomial
independent = _Independent

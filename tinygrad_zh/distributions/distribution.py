"""所有概率分布的基类 ``Distribution``（PyTorch 的 ``torch.distributions.Distribution``）。

一个分布对象装着参数（例如正态分布的 loc、scale），能做几件事：

* ``sample(sample_shape)``：抽样，结果的形状是 ``sample_shape + batch_shape + event_shape``，不在计算图里；
* ``rsample(sample_shape)``：重参数化抽样（x = loc + scale·ε，ε 与参数无关），梯度能流回参数；
* ``log_prob(value)``：对数概率（质量或密度），可导——策略梯度、最大似然都靠它；
* ``entropy()``、``mean``、``variance``、``stddev``、``mode``：各自的公式，可导。

``batch_shape``：一次装了几组参数（例如 loc 的形状）；``event_shape``：一个样本本身的形状（多项分布的一个
样本是一个计数向量，event_shape = (类别数,)；正态分布的一个样本是一个数，event_shape = ()）。

``validate_args``（默认打开，与 PyTorch 相同）：参数不合法（scale ≤ 0、概率不在 [0, 1]）时构造就抛出
ValueError；``log_prob`` 的参数不在支撑集里（Bernoulli 的 0.5）也抛出 ValueError。
``Distribution.set_default_validate_args(False)`` 全局关掉，或者构造时传 ``validate_args=False``。
"""
from .. import autograd
from ..size import Size
from ..tensor import Tensor
from .utils import lazy_property


class Distribution:
    """概率分布的基类：子类设置 ``arg_constraints``、``support``，实现 ``log_prob`` 和（能做的话）``rsample``。"""
    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__
    arg_constraints = {}
    support = None

    @staticmethod
    def set_default_validate_args(value):
        """全局打开 / 关闭参数检查（默认打开）。"""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        if validate_args is not None:
            self._validate_args = bool(validate_args)
        if self._validate_args:
            self._check_parameters()

    def _check_parameters(self):
        for name, constraint in self.arg_constraints.items():
            if name not in self.__dict__ and isinstance(getattr(type(self), name, None), lazy_property):
                continue                    # probs / logits 里没给的那一个：不用检查（它由另一个算出来）
            value = getattr(self, name)
            if not bool(constraint.check(value).all()):
                raise ValueError(f"Expected parameter {name} (Tensor of shape {tuple(value.shape)}) of "
                                 f"distribution {self!r} to satisfy the constraint {constraint!r}, but found "
                                 f"invalid values:\n{value}")

    # ------------------------------------------------------------------ 形状
    @property
    def batch_shape(self):
        """参数的"批"形状：一个对象里装了几组独立的分布。"""
        return self._batch_shape

    @property
    def event_shape(self):
        """一个样本本身的形状（标量分布是 ()，多项分布是 (类别数,)）。"""
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()):
        """sample_shape + batch_shape + event_shape：sample(sample_shape) 的结果形状。"""
        if isinstance(sample_shape, Tensor) or not hasattr(sample_shape, "__iter__"):
            raise TypeError(f"{type(self).__name__}.sample: sample_shape must be a tuple or torch.Size such as "
                            f"(500,), got {type(sample_shape).__name__} {sample_shape!r}")
        return Size(sample_shape) + self._batch_shape + self._event_shape

    # ------------------------------------------------------------------ 抽样
    def sample(self, sample_shape=Size()):
        """抽样（不记录计算图）。默认做法：在 no_grad 下调用 rsample。"""
        with autograd.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """重参数化抽样：样本对参数可导。只有 has_rsample 为 True 的分布才有。"""
        raise NotImplementedError(f"{type(self).__name__} has no rsample (it is not reparameterizable; "
                                  "use sample(), or log_prob for a score-function gradient)")

    # ------------------------------------------------------------------ 公式
    def log_prob(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement log_prob")

    def cdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement cdf")

    def icdf(self, value):
        raise NotImplementedError(f"{type(self).__name__} does not implement icdf")

    def entropy(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement entropy")

    def perplexity(self):
        """困惑度 exp(H)：熵的指数。"""
        return self.entropy().exp()

    def enumerate_support(self, expand=True):
        raise NotImplementedError(f"{type(self).__name__} does not implement enumerate_support")

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self):
        """标准差 = √方差。"""
        return self.variance.sqrt()

    # ------------------------------------------------------------------ 检查 log_prob 的参数
    def _validate_sample(self, value):
        """value 必须是张量，形状能和 batch_shape + event_shape 广播，取值在支撑集里（validate_args 打开时）。"""
        if not isinstance(value, Tensor):
            raise ValueError(f"The value argument to log_prob must be a Tensor, got {type(value).__name__} "
                             f"(write tensor({value!r}))")
        n_event = len(self._event_shape)
        if tuple(value.shape[len(value.shape) - n_event:]) != tuple(self._event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: {tuple(value.shape)} vs "
                             f"{tuple(self._event_shape)}")
        expected = self._batch_shape + self._event_shape
        for got, want in zip(reversed(value.shape), reversed(expected)):
            if got != 1 and want != 1 and got != want:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {tuple(value.shape)} "
                                 f"vs {tuple(expected)}")
        if not bool(self.support.check(value).all()):
            raise ValueError(f"Expected value argument (Tensor of shape {tuple(value.shape)}) to be within the "
                             f"support ({self.support!r}) of the distribution {self!r}, but found invalid "
                             f"values:\n{value}")

    def __repr__(self):
        shown = []
        for name in self.arg_constraints:
            if name in self.__dict__:
                v = self.__dict__[name]
                shown.append(f"{name}: {v.item() if v.numel() == 1 else v.size()!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

"""连续均匀分布 U[low, high)。"""
import math

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, draw, nan_like

__all__ = ["Uniform"]


class Uniform(Distribution):
    """均匀分布 ``Uniform(low, high)``：在 [low, high) 上"每处一样可能"（要求 low < high）。

    概率密度::

        p(x) = 1/(high − low)      low ≤ x < high
        p(x) = 0                   其他地方（log p = −inf）

    一句话：区间里每一段等长的小区间概率相同。均值 (low + high)/2，方差 (high − low)²/12，
    熵 log(high − low)。``rsample`` 用 x = low + (high − low)·u（u ~ U[0, 1)），梯度能流回 low 和 high。
    """
    has_rsample = True

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    @property
    def support(self):
        return constraints.interval(self.low, self.high)

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return nan_like(self.low, self._batch_shape)     # 每一点都一样可能：没有众数

    @property
    def stddev(self):
        return (self.high - self.low) / math.sqrt(12)

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        """x = low + (high − low)·u：∂x/∂low = 1 − u，∂x/∂high = u。"""
        shape = self._extended_shape(sample_shape)
        u = draw(lambda rng, s: rng.random(s), shape, self.low)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low <= value) & (self.high > value)
        # 区间外 log 0 = −inf，区间内 log 1 = 0：一个常数（不用对 0 取 log，免得 NumPy 警告）
        outside = np.where(backend.to_host(inside.array), 0.0, -np.inf).astype(self.low.dtype)
        const = Tensor._make(backend.to_device(outside, self.low.device), self.low.device, None, 0)
        return const - (self.high - self.low).log()

    def cdf(self, value):
        """F(x) = (x − low)/(high − low)，夹到 [0, 1]。"""
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def icdf(self, value):
        """F⁻¹(q) = low + q·(high − low)。"""
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return (self.high - self.low).log()

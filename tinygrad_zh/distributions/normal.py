"""正态（高斯）分布 N(μ, σ²)。"""
import math

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, draw

__all__ = ["Normal"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Normal(Distribution):
    """正态分布 ``Normal(loc, scale)``：均值 μ = loc，标准差 σ = scale（> 0）。

    概率密度::

        p(x) = 1/(σ√(2π)) · exp(−(x − μ)² / (2σ²))
        log p(x) = −(x − μ)²/(2σ²) − log σ − ½·log(2π)

    一句话：数据围绕 μ 对称地散开，σ 越大越分散；大量独立小误差之和近似服从它（中心极限定理）。
    熵 H = ½ + ½·log(2π) + log σ。``rsample`` 用重参数化 x = μ + σ·ε（ε ~ N(0, 1)），梯度能流回 μ 和 σ。
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        """x = μ + σ·ε，ε ~ N(0, 1) 从库的生成器抽（与参数无关），所以 ∂x/∂μ = 1，∂x/∂σ = ε。"""
        shape = self._extended_shape(sample_shape)
        eps = draw(lambda rng, s: rng.standard_normal(s), shape, self.loc)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - _HALF_LOG_2PI

    def entropy(self):
        return 0.5 + _HALF_LOG_2PI + self.scale.log()

    def cdf(self, value):
        raise NotImplementedError("Normal.cdf needs erf, which tinygrad_zh does not have as a differentiable op yet")

    def icdf(self, value):
        raise NotImplementedError("Normal.icdf needs erfinv, which tinygrad_zh does not have as a differentiable op "
                                  "yet")

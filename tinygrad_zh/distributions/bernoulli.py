"""伯努利分布：一次抛硬币，1 的概率是 p。"""

from .. import autograd
from ..factories import arange
from ..nn.functional import logsigmoid
from ..tensor import where
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, draw, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """伯努利分布 ``Bernoulli(probs=None, logits=None)``：给 p（∈ [0, 1]）或 logit = log(p/(1−p)) 二者之一。

    概率质量::

        P(X = 1) = p,  P(X = 0) = 1 − p        即 P(x) = pˣ·(1 − p)^(1−x)，x ∈ {0, 1}
        log P(x) = x·log σ(ℓ) + (1 − x)·log σ(−ℓ)     （ℓ = logit，p = σ(ℓ)；等于 −BCEWithLogits(ℓ, x)）

    一句话：一次"成 / 败"的试验；均值 p，方差 p(1 − p)，熵 −p·log p − (1 − p)·log(1 − p)。
    样本是 0.0 / 1.0（与参数同一浮点类型），不可重参数化（没有 rsample）。
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
            self._param = self.probs
        else:
            (self.logits,) = broadcast_all(logits)
            self._param = self.logits
        super().__init__(self._param.shape, validate_args=validate_args)

    @lazy_property
    def logits(self):
        """ℓ = log p − log(1 − p)（p 先夹到 [eps, 1 − eps]）。"""
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        """p = σ(ℓ)。"""
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        """p > ½ 取 1，p < ½ 取 0，p = ½ 时两者一样可能：NaN。"""
        one = (self.probs > 0.5).to(self.probs.dtype)
        return where(self.probs == 0.5, float("nan"), one)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with autograd.no_grad():
            p = self.probs.expand(shape).numpy()
            return draw(lambda rng, s: rng.random(s) < p, shape, self._param)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.to(self.logits.dtype)
        return value * logsigmoid(self.logits) + (1 - value) * logsigmoid(-self.logits)

    def entropy(self):
        """H = −[p·log σ(ℓ) + (1 − p)·log σ(−ℓ)]。"""
        p, lg = self.probs, self.logits
        return -(p * logsigmoid(lg) + (1 - p) * logsigmoid(-lg))

    def enumerate_support(self, expand=True):
        """所有可能的取值 [0., 1.]，形状 (2,) + (1,)*len(batch_shape)（expand=True 时展开成 (2,) + batch_shape）。"""
        values = arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((2,) + tuple(self._batch_shape)) if expand else values

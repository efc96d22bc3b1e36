"""多项分布：做 n 次类别试验，数每个类别出现了几次。"""
import math

import numpy as np

from .. import autograd, backend
from ..factories import arange
from ..tensor import Tensor, where
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .utils import clamp_probs, draw

__all__ = ["Multinomial"]

_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _log_factorial(arr):
    """log(k!) = lgamma(k + 1)，逐元素（NumPy 没有 lgamma；k 是数据，不需要梯度）。"""
    return np.asarray(_lgamma(np.asarray(arr, np.float64) + 1), np.float64)


def _const(arr, like):
    return Tensor._make(backend.to_device(np.asarray(arr, like.dtype), like.device), like.device, None, 0)


class Multinomial(Distribution):
    """多项分布 ``Multinomial(total_count=1, probs=None, logits=None)``：n = total_count 次独立试验，
    每次按 probs（最后一维，不必归一化）落进 K 个类别之一；一个样本是长度 K 的计数向量（和为 n，浮点类型）。

    概率质量::

        P(x₁, …, x_K) = n! / (x₁!·…·x_K!) · p₁^x₁ ·…· p_K^x_K         （Σ xᵢ = n）
        log P = log n! − Σ log xᵢ! + Σ xᵢ·log pᵢ

    一句话：把同一个骰子掷 n 次，记下每面出现的次数（d2l 2.6 用它算掷骰子的频率）；n = 1 时样本就是
    one-hot 向量。均值 n·p，方差 n·p·(1 − p)（每个分量）。熵按定义求和：
    H = −log n! − n·Σ pᵢ log pᵢ + Σᵢ E[log xᵢ!]，xᵢ ~ Binomial(n, pᵢ)。
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if isinstance(total_count, bool) or not isinstance(total_count, (int, np.integer)):
            raise NotImplementedError(f"inhomogeneous total_count is not supported: total_count must be a Python "
                                      f"int, got {type(total_count).__name__}")
        if total_count < 0:
            raise ValueError(f"Multinomial: total_count must be >= 0, got {total_count}")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """每组参数独立地抽 n 次、数每个类别的次数（NumPy 生成器的 multinomial，概率用 float64 并归一化）。"""
        shape = self._extended_shape(sample_shape)
        k = self._event_shape[0]
        with autograd.no_grad():
            p = self.probs.numpy().astype(np.float64).reshape(-1, k)
        p /= p.sum(-1, keepdims=True)
        m = int(np.prod(shape[:len(shape) - len(self._batch_shape) - 1], dtype=np.int64))
        return draw(lambda rng, s: rng.multinomial(self.total_count, p, size=(m, p.shape[0])).reshape(s),
                    shape, self._categorical._param, self.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        if value.requires_grad:
            raise NotImplementedError("Multinomial.log_prob: no gradient with respect to value (its log xᵢ! term is "
                                      "computed as a constant); pass value.detach()")
        value = value.to(self.logits.dtype)
        shape = tuple(np.broadcast_shapes(value.shape, self.logits.shape))
        value, logits = value.expand(shape), self.logits.expand(shape)
        logits = where((value == 0) & (logits == float("-inf")), 0.0, logits)    # 0·log 0 = 0，不是 NaN
        v = value.numpy()
        coef = _log_factorial(v.sum(-1)) - _log_factorial(v).sum(-1)             # log n! − Σ log xᵢ!
        return (logits * value).sum(-1) + _const(coef, logits)

    def entropy(self):
        n = self.total_count
        p = clamp_probs(self.probs)
        # 每个分量 xᵢ ~ Binomial(n, pᵢ)：对 k = 0..n 求 P(xᵢ = k)·log k!，k 放在新的第 0 维
        k = arange(n + 1, dtype=p.dtype, device=p.device).reshape((-1,) + (1,) * p.ndim)
        log_binom = _const((_log_factorial(n) - _log_factorial(np.arange(n + 1)) -
                            _log_factorial(n - np.arange(n + 1))).reshape(k.shape), p)
        pmf = (log_binom + k * p.log() + (n - k) * (-p).log1p()).exp()
        expected_log_fact = (pmf * _const(_log_factorial(np.arange(n + 1)).reshape(k.shape), p)).sum(0).sum(-1)
        return n * self._categorical.entropy() - math.lgamma(n + 1) + expected_log_fact

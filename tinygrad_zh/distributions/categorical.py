"""类别分布：从 K 个类别里按概率抽一个下标。"""
import numpy as np

from .. import autograd
from ..factories import arange
from . import constraints
from .distribution import Distribution
from .utils import as_tensor_param, draw, lazy_property, logits_to_probs, nan_like, probs_to_logits

__all__ = ["Categorical"]


class Categorical(Distribution):
    """类别分布 ``Categorical(probs=None, logits=None)``：最后一维是 K 个类别，前面的维是 batch。

    ``probs`` 不必归一化（先除以最后一维的和，与 PyTorch 相同）；``logits`` 是未归一化的对数概率
    （先减去 logsumexp）。概率质量::

        P(X = k) = p_k = softmax(logits)_k,      log P(k) = logits_k − log Σⱼ exp(logits_j)

    一句话：掷一个 K 面、各面概率为 p_k 的骰子，结果是下标 k（int64）。熵 H = −Σ p_k·log p_k；
    强化学习的策略梯度用 ``-dist.log_prob(action) * reward``。均值和方差没有意义（NaN，与 PyTorch 相同）。
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            probs = as_tensor_param(probs, "probs")
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self._param = self.probs
        else:
            logits = as_tensor_param(logits, "logits")
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)    # 归一化：exp 之后和为 1
            self._param = self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    @lazy_property
    def logits(self):
        """log p（p 先夹到 [eps, 1 − eps]）。"""
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        """softmax(logits)。"""
        return logits_to_probs(self.logits)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return nan_like(self.probs, self._batch_shape)

    @property
    def variance(self):
        return nan_like(self.probs, self._batch_shape)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        """逆变换抽样：u ~ U[0, 1)，取累积概率第一个超过 u 的类别。"""
        shape = self._extended_shape(sample_shape)
        with autograd.no_grad():
            p = self.probs.numpy().astype(np.float64).reshape(-1, self._num_events)
        cdf = np.cumsum(p, axis=-1)
        cdf /= cdf[:, -1:]                              # 最后一个正好是 1，u < 1 总能落在某个类别里
        m = int(np.prod(shape[:len(shape) - len(self._batch_shape)], dtype=np.int64))

        def sampler(rng, _):
            u = rng.random((m, cdf.shape[0]))
            out = np.empty(u.shape, np.int64)
            step = max(1, (1 << 22) // max(1, cdf.size))      # 分块比较，免得一次占用太多内存
            for i in range(0, m, step):
                out[i:i + step] = (cdf <= u[i:i + step, :, None]).sum(-1)
            return out.reshape(shape)
        return draw(sampler, shape, self._param, np.int64)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        shape = tuple(np.broadcast_shapes(value.shape, self.logits.shape))
        index = value.expand(shape[:-1] + (1,))
        return self.logits.expand(shape).gather(-1, index).squeeze(-1)

    def entropy(self):
        """H = −Σ p_k·log p_k（log p 夹在最小浮点数以上，p = 0 的类别贡献 0 而不是 0·(−inf) = NaN）。"""
        logits = self.logits.clamp(min=float(np.finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        """所有类别 0..K−1，形状 (K,) + (1,)*len(batch_shape)（expand=True 时展开成 (K,) + batch_shape）。"""
        values = arange(self._num_events, dtype=np.int64, device=self._param.device)
        values = values.reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand((self._num_events,) + tuple(self._batch_shape)) if expand else values

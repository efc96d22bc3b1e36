"""采样器（sampler）：决定 DataLoader 每个 epoch 按什么顺序取样本的下标，与 torch.utils.data 的同名类相同。

* ``SequentialSampler(ds)``：0, 1, …, n-1；``RandomSampler(ds)``：每个 epoch 一个新的随机排列
  （``replacement=True``：有放回地抽 ``num_samples`` 个）；``SubsetRandomSampler(indices)``：只在给定下标里
  打乱；``WeightedRandomSampler(weights, n)``：按权重抽样（类别不平衡时常用）；
* ``BatchSampler(sampler, batch_size, drop_last)``：把下标每 ``batch_size`` 个一组，产出 list；
* ``DistributedSampler``：数据并行时每个 rank 拿互不相交的一份（见下文）。

Randomness comes from ``generator=`` (a ``tg.Generator``) or, when it is None, from the library
generator (``tg.manual_seed``).  Our samplers draw a whole epoch's order with one vectorised NumPy call
(``_index_array``); DataLoader slices that array instead of looping over Python ints, and any other
iterable of indices (your own sampler) works too, through plain iteration.

DistributedSampler：数据并行时把每个 epoch 的样本切成互不相交的 N 份，每个 rank 拿一份。

所有 rank 用同一个种子 ``(seed, epoch)`` 生成 **同一个** 随机排列，再按 rank 间隔取样::

    permutation  p0 p1 p2 p3 p4 p5 p6 p7 p8 p9 (p0 p1)    ← 10 个样本、4 个 rank：补 2 个凑成 12
    rank 0       p0          p4          p8
    rank 1          p1          p5          p9
    rank 2             p2          p6          p0
    rank 3                p3          p7          p1

所以每个 rank 每个 epoch 的样本数相同（all-reduce 要求每个 rank 走同样多的步），彼此不重叠（除了补齐的
那几个重复样本），合起来覆盖整个数据集。``drop_last=True`` 则丢掉尾巴而不是补齐。
每个 epoch 开始前调用 ``set_epoch(e)``（DataLoader 会自动调用），否则每个 epoch 的顺序都一样。
"""
import math
import numbers

import numpy as np

from ..random import rng_of


class Sampler:
    """采样器基类：子类实现 ``__iter__``（产出下标），通常也实现 ``__len__``。

    Base class of all samplers, as in PyTorch: a subclass yields dataset indices (or, for a batch
    sampler, lists of indices) from ``__iter__``.  Any iterable works as a DataLoader ``sampler``;
    subclassing is for readability.
    """

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class _ArraySampler(Sampler):
    """Our samplers: ``_index_array()`` draws the whole epoch's indices as one int64 array."""

    def _index_array(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def __iter__(self):
        return iter(self._index_array().tolist())


def is_array_sampler(sampler):
    """True for our samplers whose ``__iter__`` is not overridden: one ``_index_array()`` is the epoch."""
    return isinstance(sampler, _ArraySampler) and type(sampler).__iter__ is _ArraySampler.__iter__


def index_array(sampler):
    """The indices one pass over ``sampler`` yields, as an int64 array (one draw for our samplers,
    plain iteration for any other finite iterable, e.g. a subclass that overrides ``__iter__``)."""
    if is_array_sampler(sampler):
        return np.asarray(sampler._index_array(), dtype=np.int64)
    return np.fromiter((int(i) for i in sampler), dtype=np.int64)


def _check_positive_int(who, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{who}: {name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


def _check_bool(who, name, value, exc=TypeError):
    if not isinstance(value, (bool, np.bool_)):
        raise exc(f"{who}: {name} should be a boolean value, but got {name}={value!r}")
    return bool(value)


class SequentialSampler(_ArraySampler):
    """按顺序 0, 1, …, len(data_source)-1（DataLoader 在 ``shuffle=False`` 时用它）。"""

    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self):
        return len(self.data_source)


class RandomSampler(_ArraySampler):
    """随机顺序 ``RandomSampler(data_source, replacement=False, num_samples=None, generator=None)``.

    * ``replacement=False``: a fresh permutation of all indices every epoch; with ``num_samples`` >
      ``len(data_source)`` whole permutations are concatenated (the last one cut short).
    * ``replacement=True``: ``num_samples`` indices drawn uniformly with replacement (repeats possible).
    * ``generator``: a ``tg.Generator`` (e.g. ``tg.Generator().manual_seed(0)``) for a reproducible
      order that does not touch the library generator; None draws from the library generator.

    DataLoader uses ``RandomSampler(dataset, generator=generator)`` when ``shuffle=True``.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = _check_bool("RandomSampler", "replacement", replacement)
        self._num_samples = num_samples
        if num_samples is not None:
            _check_positive_int("RandomSampler", "num_samples", num_samples)
        rng_of(generator)                              # TypeError now for a wrong generator type
        self.generator = generator

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else int(self._num_samples)

    def _rng(self):
        return rng_of(self.generator)

    def _index_array(self):
        n, m, rng = len(self.data_source), self.num_samples, self._rng()
        if self.replacement:                           # 有放回：m 个均匀随机下标
            if n == 0:
                raise ValueError("RandomSampler: cannot draw samples from an empty data_source")
            return rng.integers(0, n, size=m, dtype=np.int64)
        if n == 0:
            return np.zeros(0, np.int64)
        full, rest = divmod(m, n)                      # 无放回：整轮排列 + 最后一轮的前 rest 个
        parts = [rng.permutation(n) for _ in range(full)]
        if rest:
            parts.append(rng.permutation(n)[:rest])
        return np.concatenate(parts).astype(np.int64, copy=False) if parts else np.zeros(0, np.int64)

    def __len__(self):
        return self.num_samples


class _EpochSeededRandomSampler(RandomSampler):
    """``DataLoader(..., shuffle=True, seed=s)``: epoch ``e`` uses ``np.random.default_rng((s, e))``,
    so epochs differ, a rerun repeats them, and the library generator is not consumed."""

    def __init__(self, data_source, seed):
        super().__init__(data_source)
        self.seed, self.epoch = int(seed), 0

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def _rng(self):
        return np.random.default_rng((self.seed, self.epoch))


class SubsetRandomSampler(_ArraySampler):
    """``SubsetRandomSampler(indices, generator=None)``：每个 epoch 把给定的下标随机打乱后产出
    （例如手工划分训练/验证集时，两个 DataLoader 共用一个数据集）。"""

    def __init__(self, indices, generator=None):
        self.indices = indices
        rng_of(generator)
        self.generator = generator

    def _index_array(self):
        idx = np.asarray(self.indices, dtype=np.int64).reshape(-1)
        return idx[rng_of(self.generator).permutation(len(idx))]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(_ArraySampler):
    """``WeightedRandomSampler(weights, num_samples, replacement=True, generator=None)``：下标 i 被抽中的
    概率正比于 ``weights[i]``（权重不必归一化）。

    Typical use: class balancing, ``weights[i] = 1 / count[label_i]``.  Without replacement no index
    repeats, so ``num_samples`` may not exceed the number of non-zero weights.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        self.num_samples = _check_positive_int("WeightedRandomSampler", "num_samples", num_samples)
        self.replacement = _check_bool("WeightedRandomSampler", "replacement", replacement, ValueError)
        w = np.asarray(getattr(weights, "array", weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence but given weights have "
                             f"shape {tuple(w.shape)}")
        if w.size == 0 or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("WeightedRandomSampler: weights must be finite, non-negative and not all zero, "
                             f"got {w.tolist() if w.size <= 10 else w}")
        if not self.replacement and self.num_samples > int((w > 0).sum()):
            raise ValueError(f"WeightedRandomSampler: cannot draw num_samples={self.num_samples} indices "
                             f"without replacement from {int((w > 0).sum())} non-zero weights")
        self.weights = w
        rng_of(generator)
        self.generator = generator

    def _index_array(self):
        p = self.weights / self.weights.sum()          # 归一化成概率
        return rng_of(self.generator).choice(len(p), size=self.num_samples, replace=self.replacement,
                                             p=p).astype(np.int64, copy=False)

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """``BatchSampler(sampler, batch_size, drop_last)``：把 ``sampler`` 的下标每 ``batch_size`` 个一组，
    产出 list（``drop_last=True`` 丢掉最后不满的一组）。

    ``list(BatchSampler(SequentialSampler(range(10)), 3, False))`` ->
    ``[[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]``.  DataLoader builds one from ``batch_size`` and
    ``drop_last``; pass your own as ``batch_sampler=`` to decide the batches yourself.
    """

    def __init__(self, sampler, batch_size, drop_last):
        self.batch_size = _check_positive_int("BatchSampler", "batch_size", batch_size)
        self.drop_last = _check_bool("BatchSampler", "drop_last", drop_last, ValueError)
        self.sampler = sampler

    def _batch_arrays(self):
        """This epoch's batches as int64 arrays (slices of one index array)."""
        order, bs = index_array(self.sampler), self.batch_size
        stop = (len(order) // bs) * bs if self.drop_last else len(order)
        return [order[i:i + bs] for i in range(0, stop, bs)]

    def __iter__(self):
        if is_array_sampler(self.sampler):
            for b in self._batch_arrays():
                yield b.tolist()
            return
        batch = []                                     # any iterable (possibly endless): stream it
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else (n + self.batch_size - 1) // self.batch_size


class DistributedSampler(_ArraySampler):
    """``DistributedSampler(dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False)``.

    * ``num_replicas`` / ``rank``: default to the process group's world size and rank
      (``tg.distributed.init_process_group`` must have been called then).
    * ``shuffle``: a new permutation every epoch, identical on every rank (seeded by ``(seed, epoch)``,
      independent of ``tg.manual_seed``); ``False`` keeps the dataset order.
    * ``drop_last``: drop the tail so the dataset splits evenly instead of padding it by repeating
      the first indices of the permutation.

    Iterating yields this rank's indices for the current epoch; ``len()`` is their number. Pass it to
    ``DataLoader(dataset, batch_size, sampler=sampler)`` (then leave ``shuffle=False``).
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: num_replicas/rank not given and the process group "
                                   "is not initialized; call tg.distributed.init_process_group() first or "
                                   "pass num_replicas= and rank= explicitly")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        for name, v in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"DistributedSampler: {name} must be an integer, got {v!r}")
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be >= 1, got {num_replicas}")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank {rank} is out of range for num_replicas="
                             f"{num_replicas} (expected 0 <= rank < {num_replicas})")
        if not hasattr(dataset, "__len__"):
            raise TypeError(f"DistributedSampler: dataset of type {type(dataset).__name__} has no __len__")
        self.dataset = dataset
        self.num_replicas, self.rank = int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last = bool(shuffle), int(seed), bool(drop_last)
        self.epoch = 0
        n = len(dataset)
        if self.drop_last:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        if self.num_samples == 0:
            raise ValueError(f"DistributedSampler: a dataset of {n} samples gives no sample per rank with "
                             f"num_replicas={self.num_replicas} and drop_last={self.drop_last}")

    def set_epoch(self, epoch):
        """Choose the epoch whose permutation the next iteration uses (call before every epoch)."""
        self.epoch = int(epoch)

    def indices(self):
        """This rank's indices for the current epoch, as an int64 array."""
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng((self.seed, self.epoch)).permutation(n)
        else:
            order = np.arange(n)
        if self.total_size > n:                                   # pad by wrapping around
            order = np.resize(order, self.total_size)             # np.resize repeats from the start
        else:
            order = order[:self.total_size]
        return order[self.rank::self.num_replicas].astype(np.int64, copy=False)

    def _index_array(self):
        return self.indices()

    def __len__(self):
        return self.num_samples

    def __repr__(self):
        return (f"DistributedSampler({len(self.dataset)} samples, rank {self.rank} of {self.num_replicas}, "
                f"{self.num_samples} per rank, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last})")

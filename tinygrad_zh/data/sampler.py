"""DistributedSampler：数据并行时把每个 epoch 的样本切成互不相交的 N 份，每个 rank 拿一份。

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


class DistributedSampler:
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

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples

    def __repr__(self):
        return (f"DistributedSampler({len(self.dataset)} samples, rank {self.rank} of {self.num_replicas}, "
                f"{self.num_samples} per rank, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last})")

"""DataLoader 的 "worker"（``num_workers > 0``）：在本进程里按 PyTorch worker 进程的规则依次模拟。

PyTorch starts ``num_workers`` processes; each gets a copy of the dataset, is seeded with
``base_seed + worker_id`` (``base_seed`` drawn once per epoch from the loader's generator), runs
``worker_init_fn(worker_id)`` and then fetches batches; batch ``k`` of a map-style dataset comes from
worker ``k % num_workers`` and the batches are returned in order.  For an IterableDataset every worker
iterates its own copy and the loader takes one batch from each worker in turn.

We reproduce exactly that schedule in the calling process, one batch at a time.  While a "worker"
fetches a batch, ``get_worker_info()`` describes it and the random generators (the library's
``tg.manual_seed`` one, NumPy's global ``np.random`` and Python's ``random``) are swapped for that
worker's own streams, seeded from ``base_seed + worker_id`` as in PyTorch; afterwards the caller's
generators are restored untouched.  So random augmentation inside ``__getitem__`` and sharding by
``get_worker_info()`` behave as with real worker processes, while nothing runs in parallel.
"""
import random as _pyrandom

import numpy as np

from ..random import Generator, default_generator

_current = None         # the WorkerInfo of the worker now fetching (None: main "process")


class WorkerInfo:
    """``get_worker_info()`` 的返回值：``id``（0 … num_workers-1）、``num_workers``、``seed``
    （这个 worker 的随机种子 base_seed + id）、``dataset``（它读的数据集）。只读。"""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__keys if k != "dataset")
        return f"WorkerInfo({items}, dataset={type(self.dataset).__name__})"


def get_worker_info():
    """在 worker 里（DataLoader 的 ``num_workers > 0`` 时 ``__getitem__`` / ``__iter__`` /
    ``worker_init_fn`` 内）返回当前 worker 的 ``WorkerInfo``；在主程序里返回 None。

    Typical use: an IterableDataset gives each worker its own part of the stream::

        info = get_worker_info()
        if info is None:
            return iter(range(self.start, self.end))
        per = math.ceil((self.end - self.start) / info.num_workers)
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.end)))
    """
    return _current


class Worker:
    """One emulated worker: its WorkerInfo and its own random streams."""

    def __init__(self, worker_id, num_workers, seed, dataset):
        self.info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        self._tg_rng = Generator().manual_seed(seed)._rng
        self._np_state = np.random.RandomState(seed % 2 ** 32).get_state()
        self._py_state = _pyrandom.Random(seed).getstate()

    def run(self, fn, *args, user_code=True):
        """``fn(*args)`` as this worker: its WorkerInfo and random streams active, the caller's restored.

        The library generator is swapped by reference (cheap).  NumPy's and Python's global streams
        must be copied in and out (about 0.4 ms together), so that is done only when ``fn`` runs user
        code (``__getitem__``, ``__iter__``, a ``collate_fn``, ``worker_init_fn``); the fast path of
        our own array datasets draws no random numbers and skips it."""
        global _current
        gen = default_generator
        saved = (_current, gen._seed, gen._rng)
        _current = self.info
        gen._seed, gen._rng = self.info.seed, self._tg_rng          # initial_seed() == the worker's seed
        if user_code:
            main_np, main_py = np.random.get_state(), _pyrandom.getstate()
            np.random.set_state(self._np_state)
            _pyrandom.setstate(self._py_state)
        try:
            return fn(*args)
        finally:
            self._tg_rng = gen._rng                                   # manual_seed() inside replaces it
            _current, gen._seed, gen._rng = saved
            if user_code:
                self._np_state, self._py_state = np.random.get_state(), _pyrandom.getstate()
                np.random.set_state(main_np)
                _pyrandom.setstate(main_py)


def start_workers(num_workers, base_seed, dataset, worker_init_fn):
    """Create the workers of one iterator and run ``worker_init_fn(worker_id)`` in each, in order."""
    workers = [Worker(w, num_workers, base_seed + w, dataset) for w in range(num_workers)]
    if worker_init_fn is not None:
        for w in workers:
            w.run(worker_init_fn, w.info.id)
    return workers

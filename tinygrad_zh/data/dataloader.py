"""DataLoader：把数据集切成小批量（mini-batch），可打乱、可丢弃最后不满的一批、可放到 GPU。

The constructor is PyTorch's (same arguments, order, defaults and checks), plus two keyword-only
extras of ours: ``seed=`` (reproducible shuffling independent of the library generator) and
``device=`` (put the batches on "cpu"/"cuda").

How a batch is made (map-style dataset):

* the **sampler** gives this epoch's indices (``SequentialSampler``, or ``RandomSampler`` when
  ``shuffle=True``, or yours) and the **batch sampler** groups them (``BatchSampler(sampler,
  batch_size, drop_last)``, or yours via ``batch_sampler=``);
* **fast path** — the dataset has ``get_batch(indices)`` (``TensorDataset``, ``ArrayDataset``, a
  ``Subset`` of one, or a plain ndarray/Tensor passed directly) and ``collate_fn`` is the default:
  each batch is one fancy index per array, no Python loop over samples;
* **generic path** — ``dataset.__getitems__(indices)`` if defined, else ``[dataset[i] for i in
  indices]``, then ``collate_fn`` (default: ``default_collate``).

An ``IterableDataset`` is read with ``iter(dataset)`` and consecutive samples are grouped.
``num_workers > 0`` is emulated in this process (see the DataLoader docstring and ``worker.py``).
"""
import collections.abc
import copy
import math
import multiprocessing
import numbers

import numpy as np

from .. import backend
from ..random import rng_of
from ..tensor import Tensor
from . import worker as _worker
from .dataset import ArrayDataset, Dataset, IterableDataset
from .sampler import (BatchSampler, RandomSampler, SequentialSampler, _EpochSeededRandomSampler,
                      is_array_sampler)

get_worker_info = _worker.get_worker_info
WorkerInfo = _worker.WorkerInfo


def _wrap(arr, device):
    """Raw array -> Tensor on ``device`` (no copy when it is already there)."""
    if device is None:
        device = backend.device_of(arr)
    return Tensor._make(backend.to_device(arr, device), device, None, 0)


def _policy(arr):
    """The library's dtype rule for data that did not choose a dtype: float64 -> float32."""
    if arr.dtype.kind == "f" and arr.dtype not in (backend.DEFAULT_FLOAT, backend.float16):
        return arr.astype(backend.DEFAULT_FLOAT)
    return arr


def _stack_arrays(items, device, keep_dtype):
    first = items[0]
    xp = backend.array_module(first)
    shapes = [tuple(a.shape) for a in items]
    for k, s in enumerate(shapes):
        if s != shapes[0]:
            raise RuntimeError(f"default_collate: stack expects each sample to be of equal size, but got "
                               f"{list(shapes[0])} at entry 0 and {list(s)} at entry {k}; pad the samples "
                               f"or pass a collate_fn")
    out = xp.stack(items)
    return _wrap(out if keep_dtype else _policy(out), device)


_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_string_array(a):
    return a.dtype.kind in "SUO"


def default_collate(batch, device=None):
    """把一个 batch 的样本列表拼成张量（与 PyTorch 的 ``default_collate`` 规则相同）。

    Rules, applied recursively to the first sample's type:

    * Tensor -> the samples stacked along a new dim 0 (their dtype kept);
    * NumPy array / NumPy scalar -> stacked into a Tensor;
    * Python int -> int64 Tensor; Python bool -> bool Tensor; Python float -> float32 Tensor;
    * str / bytes -> left as they are (the list of strings);
    * dict (any Mapping) -> same keys, each collated; namedtuple -> same namedtuple type;
    * tuple -> **list** of collated fields (PyTorch's rule: ``[(x, y), ...]`` -> ``[X, Y]``);
      list / other sequence -> same type; all samples must have the same length;
    * anything else -> TypeError.

    Intentional difference from PyTorch: floating data that did not choose its dtype follows the
    library rule float64 -> float32 (Python floats, float64 NumPy arrays and scalars; PyTorch gives
    float64).  To get float64 batches, make the samples float64 Tensors (e.g.
    ``tg.tensor(x, dtype=tg.float64)`` in ``__getitem__``): Tensors keep their dtype.
    ``device`` (ours): put the result on "cpu"/"cuda".
    """
    if len(batch) == 0:
        raise ValueError("default_collate: empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_arrays([s.array if isinstance(s, Tensor) else s for s in batch], device, True)
    if isinstance(elem, np.ndarray) or (hasattr(elem, "shape") and hasattr(elem, "dtype")
                                        and not isinstance(elem, np.generic)):
        if _is_string_array(elem):
            raise TypeError(_ERR.format(elem.dtype))
        return _stack_arrays([np.asarray(s) if isinstance(s, np.generic) else s for s in batch], device, False)
    if isinstance(elem, (np.bool_, np.number)):
        return _wrap(_policy(np.asarray(batch)), device)
    if isinstance(elem, float):
        return _wrap(np.asarray(batch, dtype=backend.DEFAULT_FLOAT), device)
    if isinstance(elem, bool):
        return _wrap(np.asarray(batch, dtype=np.bool_), device)
    if isinstance(elem, int):
        arr = np.asarray(batch)                       # [1, 2.5] -> float, as torch.tensor does
        return _wrap(_policy(arr) if arr.dtype.kind == "f" else arr.astype(np.int64, copy=False), device)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        fields = {k: default_collate([d[k] for d in batch], device) for k in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                out = copy.copy(elem)
                out.update(fields)
                return out
            return type(elem)(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):              # namedtuple
        return type(elem)(*(default_collate(s, device) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        n = len(elem)
        if any(len(s) != n for s in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size, got "
                               f"lengths {[len(s) for s in batch]}")
        fields = [default_collate(s, device) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                out = copy.copy(elem)
                for i, f in enumerate(fields):
                    out[i] = f
                return out
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data, device=None):
    """不组 batch 时（``batch_size=None``）的默认 collate_fn：把 NumPy 数组/标量变成 Tensor，
    递归进入 dict / namedtuple / tuple（变成 list）/ list，其余原样返回。

    Same rules as PyTorch's ``default_convert``, with the library dtype rule (float64 -> float32)."""
    if isinstance(data, Tensor):
        return data if device is None else _wrap(data.array, device)
    if isinstance(data, np.ndarray):
        return data if _is_string_array(data) else _wrap(_policy(data), device)
    if isinstance(data, (np.bool_, np.number)):
        return _wrap(_policy(np.asarray(data)), device)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        fields = {k: default_convert(data[k], device) for k in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                out = copy.copy(data)
                out.update(fields)
                return out
            return type(data)(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d, device) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d, device) for d in data]
    if isinstance(data, collections.abc.Sequence):
        fields = [default_convert(d, device) for d in data]
        try:
            if isinstance(data, collections.abc.MutableSequence):
                out = copy.copy(data)
                for i, f in enumerate(fields):
                    out[i] = f
                return out
            return type(data)(fields)
        except TypeError:
            return fields
    return data


def _is_array_like(x):
    return isinstance(x, Tensor) or (hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "ndim"))


class _InfiniteConstantSampler:
    """The sampler of an IterableDataset loader (PyTorch's too): None forever; the data comes from
    ``iter(dataset)``."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """按批迭代数据集（与 ``torch.utils.data.DataLoader`` 相同的参数与检查）。

    DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
               collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
               multiprocessing_context=None, generator=None, *, prefetch_factor=None,
               persistent_workers=False, pin_memory_device="", in_order=True, seed=None, device=None)

    * ``dataset``: 有 ``__len__``/``__getitem__`` 的数据集（含 Python list）、``IterableDataset``，或
      ndarray / Tensor（按第 0 维切，每批是一个 Tensor）。
    * ``batch_size``: 每批样本数；``None`` 表示不组批，每次产出一个样本（经 ``default_convert``）。
    * ``shuffle``: 每个 epoch（每次 ``iter(loader)``）一个新的随机顺序（``RandomSampler``）。
    * ``sampler`` / ``batch_sampler``: 自己决定下标顺序 / 分组（与 shuffle、batch_size 等互斥，规则同 PyTorch）。
    * ``collate_fn``: 把样本列表变成一个 batch（默认 ``default_collate``）。
    * ``drop_last``: 丢掉最后不满的一批。
    * ``generator``: ``tg.Generator()``，控制打乱（和 worker 的种子），例如
      ``DataLoader(ds, 64, shuffle=True, generator=tg.Generator().manual_seed(0))`` 每次运行顺序相同；
      None 用全局生成器（``tg.manual_seed``）。
    * ``seed`` (ours): epoch ``e`` shuffles with ``np.random.default_rng((seed, e))``; reproducible and
      independent of ``tg.manual_seed`` (cannot be combined with ``generator``).
    * ``device`` (ours): put batches on ``"cpu"`` or ``"cuda"`` (default: where the data lives).

    **num_workers > 0 —— 在本进程内模拟，不开子进程。** 结果与 PyTorch 的 worker 进程规则完全一致：
    第 k 个 batch 由 worker ``k % num_workers`` 取（IterableDataset：各 worker 轮流各出一批，读完的退出），
    batch 顺序与 ``num_workers=0`` 相同；每个 epoch 从 ``generator`` 抽一个 base_seed，worker w 的种子是
    base_seed + w；``worker_init_fn(w)`` 在 worker 启动时调用；取数据期间 ``get_worker_info()`` 返回该
    worker 的信息，全局随机数（``tg``、``np.random``、``random``）换成该 worker 自己的流，结束后恢复。
    好处：确定、可复现、没有 fork/pickle 的坑（Windows/macOS 上也不需要 ``if __name__ == "__main__"``）；
    代价：没有并行加速（我们的数据集多半已在内存里，快路径一次花式索引取一整批，并不需要）。
    ``prefetch_factor``、``timeout``、``multiprocessing_context``、``in_order`` 按 PyTorch 检查后接受，
    在本进程内没有作用；``persistent_workers=True`` 让 worker（种子流、``worker_init_fn`` 只调一次）跨
    epoch 保留。与真进程的一个区别：各 worker 共用同一个 dataset 对象（不是各自的拷贝）。

    **num_workers > 0 is emulated in this process, no subprocesses.**  The batches, their order, the
    per-worker seeds (``base_seed + worker_id``, one base seed per epoch drawn from ``generator``), the
    ``worker_init_fn`` calls, ``get_worker_info()`` and the per-worker random streams follow PyTorch's
    worker-process rules exactly, so code written for workers (IterableDataset sharding, random
    augmentation) gives the same batches in the same order as real workers would; nothing runs in
    parallel.  Unlike real processes, the workers share the one dataset object.

    **pin_memory**: accepted, and never changes a batch.  In PyTorch it puts CPU batches in
    page-locked memory so that copies to the GPU are faster and can be asynchronous; our batches
    are ordinary NumPy arrays (CuPy copies from ordinary memory).  To get batches on the GPU directly
    pass ``device="cuda"``.

    ``len(loader)`` is the number of batches per epoch; ``loader.dataset`` is the dataset.  Before
    each epoch a sampler with ``set_epoch`` (e.g. ``DistributedSampler``) gets the loader's epoch
    counter; ``loader.set_epoch(e)`` jumps to an epoch.
    """

    _frozen = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")
    __initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device="", in_order=True, seed=None, device=None):
        # ---------------------------------------------------------------- workers and their options
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral):
            raise TypeError(f"DataLoader: num_workers must be an int, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError("DataLoader: num_workers option should be non-negative; use num_workers=0 to "
                             f"disable multiprocessing (got {num_workers})")
        if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
            raise TypeError(f"DataLoader: timeout must be a number of seconds, got {timeout!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor "
                             "to None")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError(f"DataLoader: prefetch_factor option should be non-negative, got {prefetch_factor}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError("DataLoader: worker_init_fn must be callable (it is called as worker_init_fn(worker_id))")
        self.multiprocessing_context = self._check_context(multiprocessing_context, num_workers)

        # ---------------------------------------------------------------- dataset
        if _is_array_like(dataset) and not isinstance(dataset, Dataset):
            dataset = ArrayDataset(dataset)               # ndarray / cupy array / Tensor: its rows
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            if not hasattr(dataset, "__getitem__"):
                raise TypeError(f"DataLoader: dataset of type {type(dataset).__name__} needs __getitem__ (a "
                                f"map-style dataset) or must be an IterableDataset")
            if sampler is None and batch_sampler is None and not hasattr(dataset, "__len__"):
                raise TypeError(f"DataLoader: dataset of type {type(dataset).__name__} needs __len__ (or pass "
                                "a sampler)")

        # ---------------------------------------------------------------- sampling options
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle "
                             "(the sampler decides the order)")
        if sampler is not None and not hasattr(sampler, "__iter__"):
            raise TypeError(f"DataLoader: sampler must be an iterable of indices, got {type(sampler).__name__}")
        if batch_sampler is not None:
            if not hasattr(batch_sampler, "__iter__"):
                raise TypeError("DataLoader: batch_sampler must be an iterable of lists of indices, got "
                                f"{type(batch_sampler).__name__}")
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None:
            if drop_last:
                raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually "
                                 "exclusive with drop_last")
        elif isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size should be a positive integer value (or None), but got "
                             f"batch_size={batch_size!r}")
        if not isinstance(drop_last, (bool, np.bool_)):
            raise ValueError(f"DataLoader: drop_last should be a boolean value, but got drop_last={drop_last!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError("DataLoader: collate_fn must be callable")
        rng_of(generator)                                 # TypeError now for a wrong generator type
        if seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: pass either generator= or seed= (ours), not both")
            if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
                raise TypeError(f"DataLoader: seed must be an int, got {seed!r}")

        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = (RandomSampler(dataset, generator=generator) if seed is None
                           else _EpochSeededRandomSampler(dataset, seed))
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, int(batch_size), bool(drop_last))

        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.drop_last = bool(drop_last)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.shuffle = bool(shuffle)
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = bool(pin_memory)
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.in_order = in_order
        self.persistent_workers = bool(persistent_workers)
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.seed = seed
        self.device = None if device is None else backend.normalize_device(device)
        if self.device == "cuda":
            backend.require_cuda()
        self.epoch = 0
        self._dataset_kind = "iterable" if iterable else "map"
        self._workers = None                              # persistent workers
        self.__initialized = True

    @staticmethod
    def _check_context(ctx, num_workers):
        if ctx is None:
            return None
        if num_workers == 0:
            raise ValueError("DataLoader: multiprocessing_context can only be used with multi-process loading "
                             f"(num_workers > 0), but got num_workers={num_workers}")
        if isinstance(ctx, str):
            methods = multiprocessing.get_all_start_methods()
            if ctx not in methods:
                raise ValueError(f"DataLoader: multiprocessing_context option should specify a valid start "
                                 f"method in {methods!r}, but got multiprocessing_context={ctx!r}")
            return multiprocessing.get_context(ctx)
        if not isinstance(ctx, multiprocessing.context.BaseContext):
            raise TypeError("DataLoader: multiprocessing_context option should be a valid context object or a "
                            f"string specifying the start method, but got multiprocessing_context={ctx!r}")
        return ctx

    def __setattr__(self, attr, val):
        if self.__initialized and attr in self._frozen:
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, val)

    # ------------------------------------------------------------------ order
    def set_epoch(self, epoch):
        """Set the epoch number used by the next ``iter(loader)`` (for seeds and samplers)."""
        self.epoch = int(epoch)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self):
        if self._dataset_kind == "iterable":
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return len(self._index_sampler)

    def _index_batches(self, epoch):
        """This epoch's batches of indices (or single indices without auto-batching), drawn now."""
        for s in (self.sampler, self.batch_sampler):
            if s is not None and hasattr(s, "set_epoch"):
                s.set_epoch(epoch)
        bs = self.batch_sampler
        if bs is None:
            return iter(self.sampler)
        if type(bs).__iter__ is BatchSampler.__iter__ and is_array_sampler(bs.sampler):
            return iter(bs._batch_arrays())               # one vectorised draw, sliced
        return iter(bs)

    # ------------------------------------------------------------------ fetching
    def _collate(self, samples):
        if self.collate_fn is default_collate or self.collate_fn is default_convert:
            return self.collate_fn(samples, self.device)
        return self.collate_fn(samples)

    def _fast_path(self):
        return self._auto_collation and self.collate_fn is default_collate and hasattr(self.dataset, "get_batch")

    def _fetch_map(self, idx):
        ds = self.dataset
        if not self._auto_collation:
            return self._collate(ds[idx])
        if self._fast_path():
            out = ds.get_batch(np.asarray(idx, dtype=np.int64))      # one fancy index per array
            if isinstance(out, tuple):
                return [_wrap(a, self.device) for a in out]
            return _wrap(out, self.device)
        idx = idx.tolist() if isinstance(idx, np.ndarray) else list(idx)
        if callable(getattr(ds, "__getitems__", None)):
            samples = ds.__getitems__(idx)
        else:
            samples = [ds[i] for i in idx]
        return self._collate(samples)

    def _fetch_iterable(self, state):
        """Next batch from one stream ``state = [iterator, ended]``; StopIteration when it has none."""
        it = state[0]
        if not self._auto_collation:
            if state[1]:
                raise StopIteration
            try:
                return self._collate(next(it))
            except StopIteration:
                state[1] = True
                raise
        samples = []
        if not state[1]:
            for _ in range(self.batch_size):
                try:
                    samples.append(next(it))
                except StopIteration:
                    state[1] = True
                    break
        if not samples or (self.drop_last and len(samples) < self.batch_size):
            raise StopIteration
        return self._collate(samples)

    # ------------------------------------------------------------------ iteration
    def _get_workers(self):
        if self.persistent_workers and self._workers is not None:
            return self._workers
        base_seed = int(rng_of(self.generator).integers(0, 2 ** 62))
        workers = _worker.start_workers(self.num_workers, base_seed, self.dataset, self.worker_init_fn)
        if self.persistent_workers:
            self._workers = workers
        return workers

    def __iter__(self):
        if self.timeout != 0 and self.num_workers == 0:
            raise ValueError(f"DataLoader: timeout={self.timeout} needs num_workers > 0 (as in PyTorch, where "
                             "only worker processes can time out)")
        # the order is drawn here, when iter() is called, not lazily at the first batch
        epoch = self.epoch
        self.epoch += 1
        workers = self._get_workers() if self.num_workers > 0 else None
        if self._dataset_kind == "iterable":
            return _IterableIter(self, workers)
        return _MapIter(self, self._index_batches(epoch), workers)

    def __repr__(self):
        n = len(self.dataset) if hasattr(self.dataset, "__len__") and self._dataset_kind == "map" else "?"
        try:
            batches = len(self)
        except TypeError:
            batches = "?"
        return (f"DataLoader({type(self.dataset).__name__} of {n}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, num_workers={self.num_workers}, "
                f"batches={batches})")


class _MapIter:
    """One epoch over a map-style dataset; batch k is fetched by worker k % num_workers."""

    def __init__(self, loader, batches, workers):
        self._loader, self._batches, self._workers = loader, batches, workers
        self._k = 0

    def __iter__(self):
        return self

    def __next__(self):
        idx = next(self._batches)
        loader, workers = self._loader, self._workers
        k, self._k = self._k, self._k + 1
        if workers is None:
            return loader._fetch_map(idx)
        return workers[k % len(workers)].run(loader._fetch_map, idx, user_code=not loader._fast_path())

    def __len__(self):
        return len(self._loader)


class _IterableIter:
    """One epoch over an IterableDataset: one stream per worker, one batch from each in turn."""

    def __init__(self, loader, workers):
        self._loader = loader
        ds = loader.dataset
        if workers is None:
            self._streams = collections.deque([(None, [iter(ds), False])])
        else:
            self._streams = collections.deque((w, [w.run(iter, ds), False]) for w in workers)

    def __iter__(self):
        return self

    def __next__(self):
        fetch = self._loader._fetch_iterable
        while self._streams:
            w, state = self._streams[0]
            try:
                batch = fetch(state) if w is None else w.run(fetch, state)
            except StopIteration:
                self._streams.popleft()                   # this worker's stream is done
                continue
            self._streams.rotate(-1)
            return batch
        raise StopIteration

    def __len__(self):
        return len(self._loader)

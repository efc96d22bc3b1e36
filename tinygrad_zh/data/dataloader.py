"""DataLoader：把数据集切成小批量（mini-batch），可打乱、可丢弃最后不满的一批、可放到 GPU。

Two paths:

* **fast path** — the dataset has ``get_batch(indices)`` (``TensorDataset``, ``ArrayDataset``, a
  ``Subset`` of one, or a plain ndarray/Tensor passed directly): each batch is one fancy index per
  array, no Python loop over samples.
* **generic path** — any other dataset: ``[dataset[i] for i in batch]`` then ``collate_fn`` (default:
  ``default_collate``, which stacks arrays / numbers and recurses into tuples, lists and dicts).

Shuffling uses the library generator (``tg.manual_seed``) unless ``seed`` is given; then every epoch
uses a private ``np.random.Generator`` seeded with ``(seed, epoch)``, so epochs differ but a rerun
gives the same orders.  ``sampler`` replaces the built-in order with any iterable of indices that has
``__len__`` (and optionally ``set_epoch``, e.g. a distributed sampler).
"""
import math
import numbers

import numpy as np

from .. import backend
from ..random import generator
from ..tensor import Tensor
from .dataset import ArrayDataset


def _wrap(arr, device):
    """Raw array -> Tensor on ``device`` (no copy when it is already there)."""
    if device is None:
        device = backend.device_of(arr)
    return Tensor._make(backend.to_device(arr, device), device, None, 0)


def _stack_arrays(items, device):
    first = items[0]
    xp = backend.array_module(first)
    shapes = {tuple(a.shape) for a in items}
    if len(shapes) > 1:
        raise ValueError(f"default_collate: cannot stack samples of different shapes {sorted(shapes)}; "
                         f"pad them or pass a collate_fn")
    out = xp.stack(items)
    if out.dtype.kind == "f" and out.dtype not in (backend.DEFAULT_FLOAT, backend.float16):
        out = out.astype(backend.DEFAULT_FLOAT)       # same policy as Tensor(ndarray)
    return _wrap(out, device)


def default_collate(samples, device=None):
    """把一个 batch 的样本列表拼成张量。

    Rules (applied recursively): Tensors / arrays -> stacked along a new dim 0; Python/NumPy ints ->
    int64 Tensor; floats -> float32 Tensor; bools -> bool Tensor; tuples/lists -> tuple of collated
    fields; dicts -> dict of collated fields; strings and anything else -> a plain list.
    """
    if not samples:
        raise ValueError("default_collate: empty batch")
    first = samples[0]
    if isinstance(first, Tensor):
        return _stack_arrays([s.array if isinstance(s, Tensor) else s for s in samples], device)
    if hasattr(first, "shape") and hasattr(first, "dtype"):          # ndarray / cupy / numpy scalar
        if isinstance(first, np.generic):
            return _stack_arrays([np.asarray(s) for s in samples], device)
        return _stack_arrays(list(samples), device)
    if isinstance(first, (bool, np.bool_)):
        return _wrap(np.asarray(samples, dtype=np.bool_), device)
    if isinstance(first, numbers.Integral):
        return _wrap(np.asarray(samples, dtype=np.int64), device)
    if isinstance(first, numbers.Real):
        return _wrap(np.asarray(samples, dtype=backend.DEFAULT_FLOAT), device)
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples], device) for k in first}
    if isinstance(first, (tuple, list)):
        n = len(first)
        if any(len(s) != n for s in samples):
            raise ValueError("default_collate: samples are sequences of different lengths")
        return tuple(default_collate([s[j] for s in samples], device) for j in range(n))
    return list(samples)


class DataLoader:
    """按批迭代数据集。

    DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, collate_fn=None,
               sampler=None, device=None)

    * ``dataset``: a Dataset, or an ndarray / Tensor (then batches are single Tensors).
    * ``shuffle``: new random order every epoch (every ``iter(loader)``).
    * ``drop_last``: drop the last, smaller batch.
    * ``seed``: make shuffling reproducible, independent of ``tg.manual_seed``; epoch ``e`` uses
      ``np.random.default_rng((seed, e))``.
    * ``collate_fn``: turns a list of samples into a batch (forces the per-sample path).
    * ``sampler``: an iterable of indices with ``__len__`` (optional ``set_epoch(e)``); cannot be
      combined with ``shuffle=True``.  Before each epoch the loader calls ``sampler.set_epoch(e)``
      with its own epoch counter, so use ``loader.set_epoch(e)`` to jump to an epoch.
    * ``device``: put batches on ``"cpu"`` or ``"cuda"`` (default: where the data lives).

    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None, collate_fn=None,
                 sampler=None, device=None):
        if isinstance(dataset, Tensor) or (hasattr(dataset, "shape") and hasattr(dataset, "dtype")):
            dataset = ArrayDataset(dataset)
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset of type {type(dataset).__name__} needs __len__ and "
                            f"__getitem__")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if sampler is not None:
            if shuffle:
                raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive "
                                 "(the sampler decides the order)")
            if not hasattr(sampler, "__len__") or not hasattr(sampler, "__iter__"):
                raise TypeError("DataLoader: sampler must be an iterable of indices with __len__")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError("DataLoader: collate_fn must be callable")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self.collate_fn = collate_fn
        self.sampler = sampler
        self.device = None if device is None else backend.normalize_device(device)
        if self.device == "cuda":
            backend.require_cuda()
        self.epoch = 0

    # ------------------------------------------------------------------ order
    def set_epoch(self, epoch):
        """Set the epoch number used by the next ``iter(loader)`` (for seeds and samplers)."""
        self.epoch = int(epoch)

    def _num_samples(self):
        return len(self.sampler) if self.sampler is not None else len(self.dataset)

    def __len__(self):
        n = self._num_samples()
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self, epoch):
        """This epoch's sample indices as an int64 array."""
        if self.sampler is not None:
            if hasattr(self.sampler, "set_epoch"):
                self.sampler.set_epoch(epoch)
            return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n, dtype=np.int64)
        rng = generator() if self.seed is None else np.random.default_rng((int(self.seed), int(epoch)))
        return rng.permutation(n).astype(np.int64, copy=False)

    # ------------------------------------------------------------------ iteration
    def _batch(self, idx):
        ds = self.dataset
        if self.collate_fn is None and hasattr(ds, "get_batch"):
            out = ds.get_batch(idx)                       # one fancy index per array
            if isinstance(out, tuple):
                return tuple(_wrap(a, self.device) for a in out)
            return _wrap(out, self.device)
        samples = [ds[int(i)] for i in idx]
        if self.collate_fn is not None:
            return self.collate_fn(samples)
        return default_collate(samples, self.device)

    def __iter__(self):
        # the order is drawn here, when iter() is called, not lazily at the first batch
        epoch = self.epoch
        self.epoch += 1
        order = self._order(epoch)
        bs = self.batch_size
        stop = (len(order) // bs) * bs if self.drop_last else len(order)
        return (self._batch(order[start:start + bs]) for start in range(0, stop, bs))

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})")

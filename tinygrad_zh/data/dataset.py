"""数据集：``Dataset`` 约定 ``len(ds)`` 和 ``ds[i]``；``TensorDataset`` 把几份等长数组按第 0 维配对；
``IterableDataset`` 只约定 ``iter(ds)``（数据流，例如逐行读一个大文件）。

A map-style dataset is anything with ``__len__`` and ``__getitem__(i)``.  Datasets whose samples are rows of
arrays (``TensorDataset`` and ``Subset`` of one) also implement ``get_batch(indices)``, which picks a
whole batch with ONE fancy-indexing operation per array.  ``DataLoader`` uses that fast path and never
loops over samples in Python for them.
"""
import bisect
import math
import numbers
import warnings

import numpy as np

from .. import backend
from ..random import default_generator, generator, rng_of
from ..tensor import Tensor, tensor


class Dataset:
    """Base class: subclasses implement ``__len__`` and ``__getitem__(index)``.

    ``ds1 + ds2`` concatenates two datasets (a ``ConcatDataset``).
    """

    def __len__(self):
        # PyTorch's Dataset has no __len__ at all, so len() raises TypeError there too
        raise TypeError(f"{type(self).__name__} has no len(): a map-style Dataset must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """数据流式的数据集：子类实现 ``__iter__``，按顺序产出样本（没有下标，也就不能打乱）。

    Use it when samples come as a stream (lines of a huge file, a generator, a database cursor).
    ``DataLoader`` then reads ``iter(dataset)`` and groups consecutive samples into batches;
    ``shuffle``, ``sampler`` and ``batch_sampler`` are not allowed.  ``len()`` works only if the
    subclass defines ``__len__``.  With ``num_workers=W`` every worker iterates its own copy, so split
    the stream with ``get_worker_info()`` (see DataLoader) or each sample comes W times, as in PyTorch.
    ``ds1 + ds2`` chains two streams (a ``ChainDataset``).
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it, it has no [index]")

    def __len__(self):
        raise TypeError(f"{type(self).__name__} has no len(): an IterableDataset has a length only if it "
                        "defines __len__")

    def __add__(self, other):
        return ChainDataset([self, other])


def _as_array(x, i):
    """Tensor / ndarray / list -> array with the library dtype policy (floats default to float32)."""
    if isinstance(x, Tensor):
        return x.array
    if hasattr(x, "dtype") and hasattr(x, "shape"):          # numpy or cupy array: keep its device
        return x if x.dtype.kind != "f" or x.dtype == backend.DEFAULT_FLOAT or x.dtype == backend.float16 \
            else tensor(x).array   # float64 -> float32, like tg.tensor(x)
    try:
        return tensor(x).array
    except Exception as e:
        raise TypeError(f"TensorDataset: argument {i} of type {type(x).__name__} cannot be turned into an "
                        f"array ({e})") from None


def _check_indices(idx, n, who):
    """Validate an int index array against a length ``n`` (negative indices allowed, like Python)."""
    idx = np.asarray(idx)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{who}: indices must be integers, got dtype {idx.dtype}")
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)][0]
        raise IndexError(f"{who}: index {int(bad)} is out of range for a dataset of length {n}")
    return idx


def _take(arr, idx):
    """arr[idx] for an int index array, on arr's own device."""
    if backend.device_of(arr) == "cuda":
        idx = backend.to_device(idx, "cuda")
    return arr[idx]


class TensorDataset(Dataset):
    """几份第 0 维等长的数组（或 Tensor）：第 i 个样本是每份数组的第 i 行组成的 tuple。

    ``TensorDataset(x, y)``; ``ds[i] -> (Tensor x[i], Tensor y[i])``.  Floating inputs follow the
    library rule (float64 -> float32, as ``Tensor(x)`` does); integer arrays keep their dtype.
    ``get_batch(idx)`` returns the batch as a tuple of raw arrays picked with one fancy index each.
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays = tuple(_as_array(a, i) for i, a in enumerate(arrays))
        n = None
        for i, a in enumerate(self.arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is 0-d; every array needs a first (sample) "
                                 f"dimension")
            if n is None:
                n = a.shape[0]
            elif a.shape[0] != n:
                shapes = ", ".join(str(tuple(b.shape)) for b in self.arrays)
                raise ValueError(f"TensorDataset: all arrays must have the same length along dim 0, got "
                                 f"shapes {shapes}")
        self._n = int(n)

    @property
    def tensors(self):
        """The stored arrays wrapped as Tensors (no copy)."""
        return tuple(Tensor._make(a, backend.device_of(a), None, 0) for a in self.arrays)

    def __len__(self):
        return self._n

    def __getitem__(self, index):
        """``ds[i]`` -> tuple of one row per array; a slice / list / int array gives tuple of row blocks."""
        if isinstance(index, numbers.Integral):
            if not -self._n <= index < self._n:
                raise IndexError(f"TensorDataset: index {index} is out of range for length {self._n}")
            return tuple(Tensor._make(a[index], backend.device_of(a), None, 0) for a in self.arrays)
        if isinstance(index, slice):
            return tuple(Tensor._make(a[index], backend.device_of(a), None, 0) for a in self.arrays)
        if isinstance(index, Tensor):
            index = index.array
        try:
            idx = np.asarray(backend.to_device(index, "cpu") if hasattr(index, "dtype") else index)
        except Exception:
            idx = None
        if idx is None or idx.dtype.kind not in "iub":
            raise TypeError(f"TensorDataset indices must be integers, slices or integer arrays, got "
                            f"{type(index).__name__}")
        if idx.dtype.kind == "b":
            idx = np.flatnonzero(idx)
        idx = _check_indices(idx, self._n, "TensorDataset")
        return tuple(Tensor._make(_take(a, idx), backend.device_of(a), None, 0) for a in self.arrays)

    def get_batch(self, indices):
        """One fancy-index per array: ``(a[indices] for a in arrays)`` as a tuple of raw arrays."""
        idx = _check_indices(indices, self._n, "TensorDataset.get_batch")
        return tuple(_take(a, idx) for a in self.arrays)


class ArrayDataset(Dataset):
    """A single array (or Tensor) seen as a dataset of its rows; batches are ``a[indices]``.

    ``DataLoader(np_array)`` wraps the array in this automatically and yields single Tensors.
    """

    def __init__(self, array):
        self.array = _as_array(array, 0)
        if self.array.ndim == 0:
            raise ValueError("ArrayDataset: a 0-d array has no samples")

    def __len__(self):
        return int(self.array.shape[0])

    def __getitem__(self, index):
        return Tensor._make(self.array[index], backend.device_of(self.array), None, 0)

    def get_batch(self, indices):
        idx = _check_indices(indices, len(self), "ArrayDataset.get_batch")
        return _take(self.array, idx)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices`` (in that order).

    If the parent supports ``get_batch`` so does the subset: indices are composed, still one fancy
    index per array.
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = _check_indices(np.asarray(indices, dtype=np.int64).reshape(-1), len(dataset), "Subset")
        if hasattr(dataset, "get_batch"):
            self.get_batch = self._get_batch

    def __len__(self):
        return int(self.indices.shape[0])

    def __getitem__(self, index):
        if isinstance(index, list):                     # like PyTorch: a list of positions
            return self.dataset[[int(self.indices[i]) for i in index]]
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices):
        """Several samples at once (DataLoader's per-sample path): the parent's ``__getitems__`` if
        it has one, else one ``__getitem__`` per index."""
        real = [int(self.indices[i]) for i in indices]
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__(real)
        return [self.dataset[i] for i in real]

    def _get_batch(self, indices):
        idx = _check_indices(indices, len(self), "Subset.get_batch")
        return self.dataset.get_batch(self.indices[idx])


class ConcatDataset(Dataset):
    """Several map-style datasets one after another (``len`` is the sum); ``ds1 + ds2`` builds one.

    ``cumulative_sizes[k]`` is the total length of the first k+1 datasets (PyTorch's attribute)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (use ChainDataset)")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    @property
    def cumulative(self):
        return np.asarray(self.cumulative_sizes)

    def __len__(self):
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {n}")
        index %= n
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = 0 if k == 0 else int(self.cumulative_sizes[k - 1])
        return self.datasets[k][index - start]


class ChainDataset(IterableDataset):
    """几个 IterableDataset 首尾相接成一个数据流（``ds1 + ds2`` 对 IterableDataset 就是它）。"""

    def __init__(self, datasets):
        self.datasets = datasets

    def _check(self, d):
        if not isinstance(d, IterableDataset):
            raise TypeError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")
        return d

    def __iter__(self):
        for d in self.datasets:
            yield from self._check(d)

    def __len__(self):
        return sum(len(self._check(d)) for d in self.datasets)


class StackDataset(Dataset):
    """把几个等长数据集"并排"：``StackDataset(a, b)[i] == (a[i], b[i])``，
    ``StackDataset(image=a, text=b)[i] == {"image": a[i], "text": b[i]}``（多模态数据常用）。"""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: pass the datasets either positionally (tuple samples) or as "
                             "keywords (dict samples), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        self.datasets = args if args else kwargs
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            raise ValueError(f"StackDataset: size mismatch between datasets, lengths "
                             f"{[len(d) for d in parts]}")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


def _split_lengths(lengths, n, who):
    """PyTorch's rule: lengths that sum to 1 (within rounding, and not above 1) are fractions;
    each gets ⌊f·n⌋ samples and the remainder is handed out one by one from the first split.
    Otherwise they are sample counts and must add up to ``n``."""
    lengths = list(lengths)
    for i, x in enumerate(lengths):
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"{who}: lengths[{i}] must be an int or a float fraction, got {type(x).__name__}")
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        out = []
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise ValueError(f"{who}: fraction at index {i} is not between 0 and 1 (got {f})")
            out.append(int(math.floor(n * f)))
        for k in range(n - sum(out)):          # hand out the remainder round-robin
            out[k % len(out)] += 1
        for i, s in enumerate(out):
            if s == 0:
                warnings.warn(f"{who}: length of split at index {i} is 0; this might result in an empty "
                              "dataset", UserWarning, stacklevel=3)
        return out
    if not all(float(x).is_integer() and x >= 0 for x in lengths):
        raise ValueError(f"{who}: lengths {lengths} are neither non-negative sample counts nor fractions "
                         "that sum to 1")
    if sum(lengths) != n:
        raise ValueError(f"{who}: sum of input lengths {lengths} is {sum(lengths)}, which does not equal "
                         f"the length of the input dataset ({n})")
    return [int(x) for x in lengths]


def _rng(seed):
    return generator() if seed is None else np.random.default_rng(seed)


def random_split(dataset, lengths, generator=default_generator, *, seed=None):
    """随机划分：``random_split(ds, [0.8, 0.2])`` 或 ``random_split(ds, [800, 200])`` -> list of Subset.

    ``lengths``: sample counts that add up to ``len(dataset)``, or fractions that sum to 1 (each
    split gets ⌊f·n⌋ samples, the remainder goes one by one to the first splits; PyTorch's rule).
    ``generator``: a ``tg.Generator`` for a reproducible split, e.g.
    ``random_split(ds, [0.8, 0.2], generator=tg.Generator().manual_seed(42))``; by default the
    library generator (``tg.manual_seed``).  ``seed=`` (ours) uses a private NumPy generator instead.
    """
    if seed is not None and generator is not default_generator and generator is not None:
        raise ValueError("random_split: pass either generator= or seed=, not both")
    n = len(dataset)
    sizes = _split_lengths(lengths, n, "random_split")
    perm = _rng(seed).permutation(n) if seed is not None else rng_of(generator).permutation(n)
    out, start = [], 0
    for s in sizes:
        out.append(Subset(dataset, perm[start:start + s]))
        start += s
    return out


def split_arrays(*arrays, test_fraction=0.2, seed=None):
    """Shuffle rows of equal-length arrays and cut them into train/test parts.

    Returns ``(a_train, a_test, b_train, b_test, ...)``, like scikit-learn's ``train_test_split``.
    """
    if not arrays:
        raise ValueError("split_arrays needs at least one array")
    n = len(arrays[0])
    for a in arrays:
        if len(a) != n:
            raise ValueError(f"split_arrays: arrays differ in length: {[len(b) for b in arrays]}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"split_arrays: test_fraction must be in (0, 1), got {test_fraction}")
    perm = _rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    test, train = perm[:n_test], perm[n_test:]
    out = []
    for a in arrays:
        out += [a[train], a[test]]
    return tuple(out)

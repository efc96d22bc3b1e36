"""数据集：``Dataset`` 约定 ``len(ds)`` 和 ``ds[i]``；``TensorDataset`` 把几份等长数组按第 0 维配对。

A dataset is anything with ``__len__`` and ``__getitem__(i)``.  Datasets whose samples are rows of
arrays (``TensorDataset`` and ``Subset`` of one) also implement ``get_batch(indices)``, which picks a
whole batch with ONE fancy-indexing operation per array.  ``DataLoader`` uses that fast path and never
loops over samples in Python for them.
"""
import numbers

import numpy as np

from .. import backend
from ..random import generator
from ..tensor import Tensor


class Dataset:
    """Base class: subclasses implement ``__len__`` and ``__getitem__(index)``.

    ``ds1 + ds2`` concatenates two datasets (a ``ConcatDataset``).
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


def _as_array(x, i):
    """Tensor / ndarray / list -> array with the library dtype policy (floats default to float32)."""
    if isinstance(x, Tensor):
        return x.array
    if hasattr(x, "dtype") and hasattr(x, "shape"):          # numpy or cupy array: keep its device
        return x if x.dtype.kind != "f" or x.dtype == backend.DEFAULT_FLOAT or x.dtype == backend.float16 \
            else Tensor(x).array   # float64 -> float32, like Tensor(x)
    try:
        return Tensor(x).array
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
        if not isinstance(index, numbers.Integral):
            raise TypeError(f"TensorDataset indices must be integers, got {type(index).__name__} "
                            f"(use get_batch for many indices)")
        if not -self._n <= index < self._n:
            raise IndexError(f"TensorDataset: index {index} is out of range for length {self._n}")
        return tuple(Tensor._make(a[index], backend.device_of(a), None, 0) for a in self.arrays)

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
        return self.dataset[int(self.indices[index])]

    def _get_batch(self, indices):
        idx = _check_indices(indices, len(self), "Subset.get_batch")
        return self.dataset.get_batch(self.indices[idx])


class ConcatDataset(Dataset):
    """Several datasets one after another (``len`` is the sum)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset")
        self.cumulative = np.cumsum([len(d) for d in self.datasets])

    def __len__(self):
        return int(self.cumulative[-1])

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {n}")
        index %= n
        k = int(np.searchsorted(self.cumulative, index, side="right"))
        start = 0 if k == 0 else int(self.cumulative[k - 1])
        return self.datasets[k][index - start]


def _split_lengths(lengths, n, who):
    lengths = list(lengths)
    if all(isinstance(x, numbers.Integral) for x in lengths):
        if sum(lengths) != n:
            raise ValueError(f"{who}: lengths {lengths} sum to {sum(lengths)}, but the dataset has {n} samples")
        return [int(x) for x in lengths]
    fr = np.asarray(lengths, dtype=np.float64)
    if (fr < 0).any() or abs(fr.sum() - 1.0) > 1e-6:
        raise ValueError(f"{who}: fractions {lengths} must be non-negative and sum to 1")
    out = [int(np.floor(f * n)) for f in fr]
    for k in range(n - sum(out)):          # hand out the remainder round-robin
        out[k % len(out)] += 1
    return out


def _rng(seed):
    return generator() if seed is None else np.random.default_rng(seed)


def random_split(dataset, lengths, seed=None):
    """随机划分：``random_split(ds, [0.8, 0.2])`` 或 ``random_split(ds, [800, 200])`` -> list of Subset.

    Uses the library generator (``tg.manual_seed``) unless ``seed`` is given.
    """
    n = len(dataset)
    sizes = _split_lengths(lengths, n, "random_split")
    perm = _rng(seed).permutation(n)
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

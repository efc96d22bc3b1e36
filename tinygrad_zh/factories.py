"""创建张量的工厂函数：zeros / ones / full / arange / eye / rand / randn / randint ……

Floating factories default to float32; random ones use the library generator (``manual_seed``).
"""
import numpy as np

from . import backend
from .random import generator
from .tensor import Tensor


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(int(s) for s in size)


def _new(arr, dtype, device, requires_grad):
    dtype = backend.normalize_dtype(dtype)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    return Tensor(arr, dtype=dtype, device=device or "cpu", requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """Same as ``Tensor(...)`` (PyTorch's ``torch.tensor``)."""
    return Tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _new(np.zeros(_shape(size), backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT),
                dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _new(np.ones(_shape(size), backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT),
                dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    dt = backend.normalize_dtype(dtype)
    if dt is None:
        dt = np.dtype("int64") if isinstance(fill_value, (int, np.integer)) and not isinstance(fill_value, bool) \
            else np.dtype("bool") if isinstance(fill_value, bool) else backend.DEFAULT_FLOAT
    return _new(np.full(tuple(size), fill_value, dt), dt, device, requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    arr = np.arange(start, end, step)
    if dtype is None and arr.dtype.kind == "f":
        dtype = backend.DEFAULT_FLOAT
    return _new(arr, dtype, device, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    return _new(np.linspace(start, end, steps), dtype or backend.DEFAULT_FLOAT, device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _new(np.eye(n, m), dtype or backend.DEFAULT_FLOAT, device, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """均匀分布 U[0, 1)."""
    dt = backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT
    return _new(generator().random(_shape(size), dtype=np.float64).astype(dt), dt, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """标准正态分布 N(0, 1)."""
    dt = backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT
    return _new(generator().standard_normal(_shape(size)).astype(dt), dt, device, requires_grad)


def randint(low, high=None, size=(1,), dtype=None, device=None):
    """[low, high) 上的均匀整数（默认 int64）。"""
    if high is None:
        low, high = 0, low
    return _new(generator().integers(low, high, size=tuple(size)), dtype or "int64", device, False)


def randperm(n, device=None):
    return _new(generator().permutation(n), "int64", device, False)

"""CUDA 模拟器（仿 Numba 的 NUMBA_ENABLE_CUDASIM）：没有 GPU 也能跑 ``device="cuda"``。

CUDA simulator: with ``TINYGRAD_ZH_CUDASIM=1`` in the environment, ``tinygrad_zh`` uses
``tinygrad_zh.cuda.sim.cupy`` in place of CuPy, so device ``cuda`` works on a machine without a
GPU (CI). It is a *strict* stand-in for the part of CuPy the library uses:

* ``cupy``: an ``ndarray`` that wraps NumPy but behaves like CuPy where CuPy differs (see
  ``_array.py``: no implicit NumPy conversion, no NumPy arrays in operations, 0-d results, flags
  without ``writeable``, unhashable ``Device``, wrapped out-of-bounds indices, poisoned ``empty``),
  the routines used by the library (``_functions.py``), ``cupy.cuda`` (one device, streams,
  events, runtime queries; ``_runtime.py``), the memory pool, ``RawModule`` / ``RawKernel``;
* kernels: ``RawModule(code=...)`` compiles **our ``kernels/*.cu`` source itself** for the host
  (g++, through ``tgsim.h``: ``__global__``, ``threadIdx``..., ``__shared__``,
  ``__syncthreads``, atomics) and launches it with the grid and block that the GPU would get
  (``_compiler.py``);
* ``cupyx``: ``scatter_add``, ``scipy.special.erf``;
* counters of device-to-host syncs, host-to-device copies and kernel launches (``count()``).

``tinygrad_zh.cuda`` plugs the simulator into ``tinygrad_zh.backend`` (see ``cuda/__init__.py``);
nothing here imports the rest of the library.
"""
import sys
import types

from . import _array, _compiler, _functions, _runtime, _state
from ._state import count, totals

__all__ = ["cupy", "cupyx", "count", "totals", "enabled", "install_import_hooks"]

ENV = "TINYGRAD_ZH_CUDASIM"


def enabled():
    """True when the environment asks for the simulator (``TINYGRAD_ZH_CUDASIM=1``)."""
    import os
    return os.environ.get(ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _module(name, doc, attrs):
    m = types.ModuleType(name, doc)
    for k, v in attrs.items():
        setattr(m, k, v)
    return m


_cupy_attrs = {k: getattr(_functions, k) for k in _functions.__all__}
_cupy_attrs.update(
    ndarray=_array.ndarray, array=_array.array, asarray=_array.asarray, asnumpy=_array.asnumpy,
    empty=_array.empty, empty_like=_array.empty_like, zeros=_array.zeros, ones=_array.ones,
    cuda=_runtime.cuda, RawModule=_compiler.RawModule, RawKernel=_compiler.RawKernel,
    get_default_memory_pool=_runtime.get_default_memory_pool,
    get_default_pinned_memory_pool=_runtime.get_default_pinned_memory_pool,
    get_array_module=_functions.get_array_module, linalg=_functions.linalg, lib=_functions.lib,
    __version__="13.0.0+tinygrad_zh.cudasim", is_simulator=True,
)
cupy = _module("cupy", "CuPy stand-in of the tinygrad_zh CUDA simulator", _cupy_attrs)


def scatter_add(a, slices, value):
    """``cupyx.scatter_add``: a[slices] += value with repeated indices accumulated (atomics on the GPU)."""
    if type(a) is not _array.ndarray:
        raise TypeError(f"Unsupported type {type(a)}")
    a.scatter_add(slices, value)


def _erf(x, out=None):
    import math

    import numpy as np
    if type(x) is not _array.ndarray:
        raise TypeError(f"Unsupported type {type(x)}")
    a = x._a
    r = np.asarray(np.frompyfunc(math.erf, 1, 1)(a), dtype=a.dtype if a.dtype.kind == "f" else np.float64)
    if out is not None:
        out._a[...] = r
        return out
    return _array._wrap(r)


_special = _module("cupyx.scipy.special", "cupyx.scipy.special (simulator)", {"erf": _erf})
_scipy = _module("cupyx.scipy", "cupyx.scipy (simulator)", {"special": _special})
cupyx = _module("cupyx", "cupyx stand-in of the tinygrad_zh CUDA simulator",
                {"scatter_add": scatter_add, "scipy": _scipy,
                 "scatter_max": lambda a, s, v: a.scatter_max(s, v),
                 "scatter_min": lambda a, s, v: a.scatter_min(s, v)})


def install_import_hooks():
    """Make ``import cupyx`` (and ``cupyx.scipy.special``) give the simulator's, for library code
    that imports cupyx directly. Only called when the simulator is enabled; a real cupyx already
    imported is left alone."""
    if "cupyx" in sys.modules and sys.modules["cupyx"] is not cupyx:
        return False
    sys.modules["cupyx"] = cupyx
    sys.modules["cupyx.scipy"] = _scipy
    sys.modules["cupyx.scipy.special"] = _special
    return True


_ = (_state, totals)

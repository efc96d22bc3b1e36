"""加载并启动 CUDA kernel：源文件查找、编译缓存、dtype、连续性、grid/block —— 全部只在这一个文件里。

Every fused GPU function (``tinygrad_zh/cuda/fused.py``) ends in one call::

    launch(op, "lstm_cell.cu", "lstm_cell_fwd", dtype, [A, c_prev, h, ...], n=B * H)

and this module does the rest, the same way for every kernel:

1. **source**: ``kernels/<file>`` is found next to the installed package (``tinygrad_zh/kernels``,
   see setup.py) or in the repository's ``kernels/``; its ``#include "..."`` lines are expanded
   so that the string handed to NVRTC is self-contained (and CuPy's compile cache, which hashes
   the source string, sees header edits too);
2. **compile once**: ``cupy.RawModule`` per file, compiled at first use; functions are looked up
   per (file, kernel, dtype, device) and cached;
3. **dtype**: float32 -> ``<name>_f32``, float64 -> ``<name>_f64``; other dtypes are refused;
4. **arguments** follow the kernel ABI of ``kernels/common.cuh``: arrays become pointers to
   C-contiguous data (``cupy.ascontiguousarray``; integer arrays are cast to int64), Python ints
   become ``long long``, Python floats become the kernel's real type ``T``. Output buffers passed
   by the caller (``Out``/``InOut``) that are not contiguous are computed in a contiguous
   temporary and copied back;
5. **launch configuration**: element-wise kernels use a grid-stride loop over ``n`` items
   (``BLOCK`` threads per block, at most ``MAX_BLOCKS`` blocks); row kernels use one block of
   ``ROW_THREADS`` threads per row.

Importing this module does not need CuPy; calling ``launch`` without it raises
``backend.require_cuda()``'s error.
"""
import pathlib
import re

import numpy as np

from .. import backend

BLOCK = 256            # threads per block of element-wise kernels (grid-stride loop over n)
MAX_BLOCKS = 65535     # enough to fill any GPU; the grid-stride loop covers larger n
ROW_THREADS = 256      # threads per block of row kernels (power of two, = TG_ROW_THREADS)
SUFFIX = {np.dtype("float32"): "f32", np.dtype("float64"): "f64"}

_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([^"]+)"[ \t]*(?://.*)?$', re.M)
_PRAGMA_ONCE = re.compile(r"^[ \t]*#[ \t]*pragma[ \t]+once[ \t]*$", re.M)

_modules = {}          # file name -> cupy.RawModule
_functions = {}        # (file, kernel, suffix, device id) -> cupy.RawKernel


# ----------------------------------------------------------------------------- sources
def kernel_dirs():
    """Where kernel sources are looked for, in order: installed package, then repository."""
    pkg = pathlib.Path(__file__).resolve().parent.parent          # .../tinygrad_zh
    return [pkg / "kernels", pkg.parent / "kernels"]


def kernel_dir():
    """The first directory of ``kernel_dirs()`` that holds the kernel sources."""
    for d in kernel_dirs():
        if (d / "common.cuh").is_file():
            return d
    raise FileNotFoundError("tinygrad_zh.cuda: kernel sources not found; looked in " +
                            ", ".join(str(d) for d in kernel_dirs()) +
                            " (reinstall the package or run from a checkout)")


def kernel_source(filename, directory=None):
    """Text of ``kernels/<filename>`` with each local ``#include "x.cuh"`` replaced by that file
    (every header once; ``#pragma once`` lines dropped). ``<...>`` includes are left alone."""
    d = pathlib.Path(directory) if directory is not None else kernel_dir()
    seen = set()

    def expand(name):
        if name in seen:
            return f"// ({name} already included)"
        seen.add(name)
        path = d / name
        if not path.is_file():
            raise FileNotFoundError(f"tinygrad_zh.cuda: kernel source {path} not found")
        text = _PRAGMA_ONCE.sub("", path.read_text(encoding="utf-8"))
        body = _INCLUDE.sub(lambda m: expand(m.group(1)), text)
        return f"// ---- begin {name}\n{body}\n// ---- end {name}"

    return expand(filename) + "\n"


def compile_options():
    """Options given to NVRTC (the row kernels' block size is fixed at compile time)."""
    return (f"-DTG_ROW_THREADS={ROW_THREADS}",)


def module(filename):
    """The compiled ``cupy.RawModule`` of one kernel file (compiled at first use, then cached)."""
    mod = _modules.get(filename)
    if mod is None:
        cp = backend.require_cuda()
        mod = _modules[filename] = cp.RawModule(code=kernel_source(filename),
                                                options=compile_options())
    return mod


def kernel_suffix(op, dtype):
    """float32 -> 'f32', float64 -> 'f64'; anything else is a TypeError naming the op."""
    s = SUFFIX.get(np.dtype(dtype))
    if s is None:
        raise TypeError(f"{op}: the CUDA kernels support float32 and float64, got {np.dtype(dtype)}")
    return s


def get_kernel(filename, name, dtype, op=None):
    """The ``cupy.RawKernel`` ``<name>_<f32|f64>`` of ``kernels/<filename>`` for the current device."""
    cp = backend.require_cuda()
    suffix = kernel_suffix(op or name, dtype)
    key = (filename, name, suffix, cp.cuda.Device().id)
    fn = _functions.get(key)
    if fn is None:
        fn = _functions[key] = module(filename).get_function(f"{name}_{suffix}")
    return fn


# ----------------------------------------------------------------------------- arguments
class Out:
    """An output buffer supplied by the caller (only written by the kernel)."""
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array


class InOut(Out):
    """A buffer the kernel reads and updates in place (e.g. Adam's parameter and moments)."""
    __slots__ = ()


def _describe(arrays):
    return ", ".join(f"{k}: {type(a).__module__.split('.')[0]} {getattr(a, 'dtype', '?')} "
                     f"{tuple(getattr(a, 'shape', ()))}" for k, a in arrays.items())


def float_dtype(op, **arrays):
    """Check that every array is a CuPy array of one float dtype (float32 or float64); return it.

    ``None`` values are skipped. Errors name the op and every array's module, dtype and shape."""
    cp = backend.require_cuda()
    arrays = {k: a for k, a in arrays.items() if a is not None}
    bad = [k for k, a in arrays.items() if not isinstance(a, cp.ndarray)]
    if bad:
        raise TypeError(f"{op}: expected CuPy arrays (device 'cuda'), but {', '.join(bad)} "
                        f"{'is' if len(bad) == 1 else 'are'} not; got {_describe(arrays)}")
    dtypes = {a.dtype for a in arrays.values()}
    if len(dtypes) != 1 or next(iter(dtypes)) not in SUFFIX:
        raise TypeError(f"{op}: expected float32 or float64 arrays of one dtype, got {_describe(arrays)}")
    return next(iter(dtypes))


def _kernel_arg(op, a, real, cp, writeback):
    if isinstance(a, Out):
        arr = a.array
        if not isinstance(arr, cp.ndarray):
            raise TypeError(f"{op}: output buffers must be CuPy arrays, got {type(arr).__name__}")
        if arr.dtype.kind == "f" and arr.dtype != real:
            raise TypeError(f"{op}: output buffer has dtype {arr.dtype}, expected {np.dtype(real)}")
        if arr.flags.c_contiguous:
            return arr
        tmp = cp.ascontiguousarray(arr) if isinstance(a, InOut) else cp.empty(arr.shape, arr.dtype)
        writeback.append((arr, tmp))
        return tmp
    if isinstance(a, cp.ndarray):
        if a.dtype.kind == "f":
            if a.dtype != real:
                raise TypeError(f"{op}: array of dtype {a.dtype} passed to a {np.dtype(real)} kernel")
            return cp.ascontiguousarray(a)
        return cp.ascontiguousarray(a, dtype=np.int64)      # indices / targets: long long*
    if isinstance(a, (bool, int, np.integer)):
        return np.int64(a)
    if isinstance(a, (float, np.floating)):
        return real(a)
    raise TypeError(f"{op}: cannot pass a {type(a).__name__} to a CUDA kernel")


# ----------------------------------------------------------------------------- launch
def launch(op, filename, name, dtype, args, n=None, rows=None):
    """Run kernel ``<name>_<suffix>`` of ``kernels/<filename>``.

    Args:
        op: name used in error messages (the public function).
        dtype: float32 or float64; picks the kernel variant and the type of real scalars.
        args: kernel arguments in order: CuPy arrays (inputs), ``Out``/``InOut`` buffers,
            Python ints (-> long long) and floats (-> dtype).
        n: element-wise kernel: number of work items of the grid-stride loop, or
        rows: row kernel: number of rows (one block per row).
    """
    cp = backend.require_cuda()
    dtype = np.dtype(dtype)
    kern = get_kernel(filename, name, dtype, op)
    writeback = []
    kargs = tuple(_kernel_arg(op, a, dtype.type, cp, writeback) for a in args)
    if (n is None) == (rows is None):
        raise ValueError(f"{op}: launch needs exactly one of n (element-wise) or rows (row kernel)")
    if n is not None and n > 0:
        kern((min((n + BLOCK - 1) // BLOCK, MAX_BLOCKS),), (BLOCK,), kargs)
    elif rows is not None and rows > 0:
        kern((rows,), (ROW_THREADS,), kargs)
    for arr, tmp in writeback:
        arr[...] = tmp

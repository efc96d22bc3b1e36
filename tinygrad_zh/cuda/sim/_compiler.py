"""``cupy.RawModule`` / ``cupy.RawKernel`` of the simulator: the CUDA source is compiled for the host.

The source string (what NVRTC would get) is prefixed with ``#include "tgsim.h"`` (the device
built-ins, see that header) and compiled with g++ (``-x c++ -pthread``) into a shared library,
cached on disk by a hash of everything that goes into it. Every ``extern "C" __global__`` function
gets a launch entry point taking the grid, the block, the dynamic shared memory size and the
argument pointers (CUDA's ``kernelParams``), and a signature string used to check each argument
the way the GPU would need it (a float32 array for ``float*``, ``numpy.int64`` or a Python int for
``long long``, ...). Mismatches that CuPy would pass on silently (and the GPU would misread) are
errors here.

Cache: ``$TINYGRAD_ZH_CUDASIM_CACHE``, else ``$XDG_CACHE_HOME/tinygrad_zh/cudasim`` (default
``~/.cache/...``), else a directory in the system's temporary directory.
"""
import ctypes
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import threading

import numpy as np

from . import _state

HEADER = pathlib.Path(__file__).resolve().parent / "tgsim.h"
CXXFLAGS = ("-x", "c++", "-std=c++17", "-O2", "-pthread", "-fPIC", "-shared", "-fno-fast-math",
            "-fno-strict-aliasing")

_KERNEL_DEF = re.compile(r'extern\s+"C"\s+__global__\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?'
                         r'void\s+(?:__launch_bounds__\s*\([^)]*\)\s*)?(\w+)\s*\(')
_EXTERN_SHARED = re.compile(r"extern\s+__shared__\s+(?:__align__\s*\(\s*\d+\s*\)\s*)?"
                            r"([A-Za-z_][\w\s:<>,\*]*?)\s*(?:__align__\s*\(\s*\d+\s*\)\s*)?"
                            r"\b(\w+)\s*\[\s*\]\s*;")
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)

_lock = threading.Lock()
_loaded = {}            # hash -> ctypes.CDLL


class CompileException(Exception):
    """Stands in for ``cupy.cuda.compiler.CompileException`` (the compiler's log is in the message)."""


def cache_dir():
    env = os.environ.get("TINYGRAD_ZH_CUDASIM_CACHE")
    candidates = [pathlib.Path(env)] if env else []
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates.append(pathlib.Path(base) / "tinygrad_zh" / "cudasim")
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    candidates.append(pathlib.Path(tempfile.gettempdir()) / f"tinygrad_zh-cudasim-{uid}")
    for d in candidates:
        try:
            d.mkdir(parents=True, exist_ok=True)
            probe = d / f".probe-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
            return d
        except OSError:
            continue
    raise CompileException("CUDA simulator: no writable cache directory (set TINYGRAD_ZH_CUDASIM_CACHE)")


def compiler():
    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        raise CompileException("CUDA simulator: no C++ compiler found; install g++ "
                               "(Debian/Ubuntu: apt-get install -y g++) or set CXX")
    return cxx


_versions = {}


def _compiler_version(cxx):
    v = _versions.get(cxx)
    if v is None:
        r = subprocess.run([cxx, "--version"], capture_output=True, text=True)
        v = _versions[cxx] = r.stdout.splitlines()[0] if r.stdout else cxx
    return v


def translate_options(options):
    """NVRTC options -> g++ options. Macros are kept, GPU-only options dropped, others refused."""
    out, it = [], iter(options or ())
    for opt in it:
        if opt in ("-D", "--define-macro", "-I", "--include-path", "-U", "--undefine-macro"):
            val = next(it, None)
            if val is None:
                raise CompileException(f"nvrtc: error: option {opt} needs a value")
            out.append({"-D": "-D", "--define-macro": "-D", "-U": "-U", "--undefine-macro": "-U"}
                       .get(opt, "-I") + val)
        elif opt.startswith(("-D", "-U", "-I")) and len(opt) > 2:
            out.append(opt)
        elif opt.startswith(("--define-macro=", "--include-path=", "--undefine-macro=")):
            key, val = opt.split("=", 1)
            out.append({"--define-macro": "-D", "--include-path": "-I", "--undefine-macro": "-U"}[key] + val)
        elif opt.startswith(("-std=", "--std=")):
            out.append("-std=" + opt.split("=", 1)[1])
        elif opt.startswith(("-arch", "--gpu-architecture", "-lineinfo", "--generate-line-info",
                             "-use_fast_math", "--use_fast_math", "-G", "--device-debug",
                             "-ftz", "--ftz", "-prec-div", "--prec-div", "-prec-sqrt", "--prec-sqrt",
                             "-fmad", "--fmad", "-rdc", "--relocatable-device-code",
                             "-default-device", "--device-as-default-execution-space",
                             "-maxrregcount", "--maxrregcount", "-dopt", "--dopt", "-w",
                             "--disable-warnings", "-restrict", "--restrict")):
            continue
        else:
            raise CompileException(f"nvrtc: error: unrecognized option {opt}")
    return out


def prepare_source(code):
    """(kernel names, whether the module uses __syncthreads, the host C++ source)."""
    bare = _COMMENTS.sub(" ", code)
    names = list(dict.fromkeys(_KERNEL_DEF.findall(bare)))
    uses_barrier = "__syncthreads" in bare
    body = _EXTERN_SHARED.sub(
        lambda m: f"{m.group(1).strip()}* const {m.group(2)} = "
                  f"reinterpret_cast<{m.group(1).strip()}*>(::tgsim::dynamic_shared());", code)
    tail = "".join(f"TGSIM_KERNEL({n}, {0 if uses_barrier else 1})\n" for n in names)
    src = f'#include "tgsim.h"\n#line 1 "kernel.cu"\n{body}\n// ---- simulator entry points\n{tail}'
    return names, uses_barrier, src


def build(code, options=()):
    """Compile (or fetch from the cache) and load; returns (ctypes library, kernel names)."""
    names, _, src = prepare_source(code)
    flags = translate_options(options)
    cxx = compiler()
    header = HEADER.read_bytes()
    key = hashlib.sha256(b"\0".join([src.encode(), header, " ".join(CXXFLAGS + tuple(flags)).encode(),
                                     _compiler_version(cxx).encode()])).hexdigest()[:32]
    with _lock:
        lib = _loaded.get(key)
        if lib is not None:
            return lib, names
        d = cache_dir()
        so = d / f"tgsim-{key}.so"
        if not so.is_file():
            cu = d / f"tgsim-{key}-{os.getpid()}.cpp"
            tmp = d / f"tgsim-{key}-{os.getpid()}.so.tmp"
            cu.write_text(src, encoding="utf-8")
            cmd = [cxx, *CXXFLAGS, *flags, "-I", str(HEADER.parent), str(cu), "-o", str(tmp)]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                cu.unlink(missing_ok=True)
                tmp.unlink(missing_ok=True)
                raise CompileException(f"CUDA simulator: compiling the kernel source failed:\n"
                                       f"{' '.join(cmd)}\n{r.stderr}")
            cu.unlink(missing_ok=True)
            os.replace(tmp, so)
        lib = _loaded[key] = ctypes.CDLL(str(so))
        lib.tgsim_error.restype = ctypes.c_char_p
        return lib, names


# ------------------------------------------------------------------------------ arguments
_C_TYPES = {"bool": ctypes.c_bool, "int8": ctypes.c_int8, "uint8": ctypes.c_uint8,
            "int16": ctypes.c_int16, "uint16": ctypes.c_uint16, "int32": ctypes.c_int32,
            "uint32": ctypes.c_uint32, "int64": ctypes.c_int64, "uint64": ctypes.c_uint64,
            "float32": ctypes.c_float, "float64": ctypes.c_double}


def _scalar_dtype(value):
    """The dtype CuPy gives a scalar kernel argument (its CScalar): bool, int64 (uint64 above
    2**63 - 1), float64, or a NumPy scalar's own dtype."""
    if type(value) is bool:
        return np.dtype(bool)
    if type(value) is int:
        return np.dtype(np.uint64 if value >= 2 ** 63 else np.int64)
    if type(value) is float:
        return np.dtype(np.float64)
    if isinstance(value, np.generic):
        return value.dtype
    return None


def _dims(v, what):
    if isinstance(v, (int, np.integer)):
        v = (int(v),)
    v = tuple(int(x) for x in v)
    if not 1 <= len(v) <= 3:
        raise ValueError(f"{what} must be a tuple of 1 to 3 ints, got {v}")
    return v + (1,) * (3 - len(v))


class RawKernel:
    """A kernel of a compiled module: ``kernel(grid, block, args, shared_mem=0, stream=None)``."""

    def __init__(self, code=None, name=None, options=(), backend="nvrtc", *, _module=None, **kwargs):
        if _module is None:
            _module = RawModule(code=code, options=options, backend=backend)
        self._raw_module, self.name = _module, name
        self._launch = self._sig = None

    def _bind(self):
        lib, names = self._raw_module._build()
        if self.name not in names:
            raise RuntimeError(f"CUDA_ERROR_NOT_FOUND: named symbol not found: {self.name!r} "
                               f"(kernels of this module: {', '.join(names) or 'none'}; "
                               'only extern "C" __global__ functions can be looked up by name)')
        self._launch = getattr(lib, f"tgsim_launch_{self.name}")
        self._launch.restype = ctypes.c_int
        self._launch.argtypes = [ctypes.POINTER(ctypes.c_uint), ctypes.c_size_t,
                                 ctypes.POINTER(ctypes.c_void_p)]
        sig = getattr(lib, f"tgsim_sig_{self.name}")
        sig.restype = ctypes.c_char_p
        text = sig().decode()
        self._sig = text.split(",") if text else []
        self._error = lib.tgsim_error

    @property
    def attributes(self):
        return {"max_threads_per_block": 1024, "shared_size_bytes": 0, "num_regs": 32}

    def __call__(self, grid, block, args, *, shared_mem=0, stream=None, enable_cooperative_groups=False):
        from ._array import ndarray
        if self._launch is None:
            self._bind()
        g, b = _dims(grid, "grid"), _dims(block, "block")
        if not isinstance(args, (tuple, list)):
            raise TypeError(f"kernel {self.name}: args must be a tuple, got {type(args).__name__}")
        if min(g) < 1 or min(b) < 1:
            raise ValueError(f"CUDA_ERROR_INVALID_VALUE: kernel {self.name}: grid {g} / block {b} "
                             "has a zero dimension")
        if b[0] > 1024 or b[1] > 1024 or b[2] > 64 or b[0] * b[1] * b[2] > 1024 or \
                g[0] >= 2 ** 31 or g[1] > 65535 or g[2] > 65535:
            raise ValueError(f"CUDA_ERROR_INVALID_VALUE: kernel {self.name}: launch configuration "
                             f"grid {g}, block {b} exceeds the device limits")
        if shared_mem > 48 * 1024:
            raise ValueError(f"CUDA_ERROR_INVALID_VALUE: kernel {self.name}: {shared_mem} bytes of "
                             "dynamic shared memory (more than 48 KiB needs an opt-in attribute)")
        if len(args) != len(self._sig):
            raise TypeError(f"kernel {self.name} takes {len(self._sig)} arguments "
                            f"({', '.join(self._sig)}), got {len(args)}")
        keep, ptrs = [], (ctypes.c_void_p * max(len(args), 1))()
        for i, (a, t) in enumerate(zip(args, self._sig)):
            if t.startswith("*"):
                if a is None:
                    c = ctypes.c_void_p(0)
                elif isinstance(a, ndarray):
                    want = t[1:]
                    if want in _C_TYPES and a.dtype != np.dtype(want):
                        raise TypeError(f"kernel {self.name}: argument {i} is a {want} pointer, but "
                                        f"the array passed has dtype {a.dtype}")
                    c = ctypes.c_void_p(a._a.ctypes.data)
                else:
                    raise TypeError(f"kernel {self.name}: argument {i} is a pointer ({t[1:]}*), got "
                                    f"{type(a).__module__}.{type(a).__name__}")
            elif t in _C_TYPES:
                dt = _scalar_dtype(a)
                if dt is None:
                    raise TypeError(f"kernel {self.name}: argument {i} ({t}): unsupported type "
                                    f"{type(a).__module__}.{type(a).__name__}")
                if dt != np.dtype(t):
                    raise TypeError(f"kernel {self.name}: argument {i} is {t}, but a {dt} scalar was "
                                    f"passed (CuPy would pass its {dt.itemsize} bytes unconverted)")
                c = _C_TYPES[t](a.item() if isinstance(a, np.generic) else a)
            else:
                raise TypeError(f"kernel {self.name}: parameter type {t} is not supported by the simulator")
            keep.append(c)
            ptrs[i] = ctypes.cast(ctypes.pointer(c), ctypes.c_void_p)
        dims = (ctypes.c_uint * 6)(*g, *b)
        _state.record("launch", self.name)
        if self._launch(dims, shared_mem, ptrs):
            raise RuntimeError(f"CUDA simulator: kernel {self.name}: {self._error().decode()}")


class RawModule:
    """``cupy.RawModule(code=..., options=...)``: compiled at the first ``get_function``."""

    def __init__(self, code=None, *, path=None, options=(), backend="nvrtc", translate_cucomplex=False,
                 enable_cooperative_groups=False, name_expressions=None, jitify=False):
        if (code is None) == (path is None):
            raise TypeError("One of `code` and `path` should be given.")
        if path is not None:
            raise NotImplementedError("CUDA simulator: RawModule(path=...) (a cubin/PTX file) cannot "
                                      "run on the host; pass code=")
        if backend != "nvrtc":
            raise NotImplementedError(f"CUDA simulator: backend {backend!r}")
        if name_expressions:
            raise NotImplementedError("CUDA simulator: name_expressions (templated kernels)")
        self.code, self.options = code, tuple(options)
        self._lib = None

    def _build(self):
        if self._lib is None:
            self._lib = build(self.code, self.options)
        return self._lib

    def compile(self, log_stream=None):
        self._build()

    def get_function(self, name):
        k = RawKernel(name=name, _module=self)
        k._bind()
        return k

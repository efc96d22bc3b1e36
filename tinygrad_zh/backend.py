"""后端：一个设备对应一个数组模块（NumPy 或 CuPy），以及 dtype 规则。

Backend: the one place that decides NumPy (``device="cpu"``) or CuPy (``device="cuda"``).
Ops call ``get_xp(device)`` (or ``array_module(arr)``) and are written once for both.
CuPy is optional: importing it is attempted lazily, and asking for ``cuda`` without it raises a
clear error that says how to install the GPU extra.
"""
import numpy as np

float16, float32, float64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
int32, int64, uint8, bool_ = np.dtype("int32"), np.dtype("int64"), np.dtype("uint8"), np.dtype("bool")

DEFAULT_FLOAT = float32
DEVICES = ("cpu", "cuda")

_cupy = None          # the cupy module (or the CUDA simulator's) once loaded successfully
_cupy_error = None    # why it could not be used

# ---------------------------------------------------------------------------- the CUDA plug-in
# backend.py imports nothing from tinygrad_zh/cuda/: that package plugs itself in from above
# (``import tinygrad_zh`` imports it) by calling ``set_cuda_provider``. The provider returns the
# array module for device "cuda" (CuPy, or the simulator with TINYGRAD_ZH_CUDASIM=1); the hooks
# run once when it is first loaded (the CUDA package registers its kernels there).
# 插件式结构：cuda 包在上层把自己注册进来，backend 不反向依赖它，没有循环导入。
_cuda_provider = None
_cuda_hooks = []


def set_cuda_provider(provider, on_load=()):
    """Called by ``tinygrad_zh.cuda``: ``provider()`` returns the module for device "cuda" (or raises
    with a message saying what is missing); each ``on_load(module)`` runs once after it loaded."""
    global _cuda_provider, _cupy, _cupy_error
    _cuda_provider = provider
    _cuda_hooks[:] = list(on_load)
    _cupy = _cupy_error = None          # load again through the new provider


def _load_cupy():
    global _cupy, _cupy_error
    if _cupy is None and _cupy_error is None:
        try:
            if _cuda_provider is None:
                raise RuntimeError("the CUDA backend is not plugged in (import tinygrad_zh.cuda, "
                                   "which `import tinygrad_zh` does)")
            cp = _cuda_provider()
            if cp.cuda.runtime.getDeviceCount() < 1:
                raise RuntimeError("no CUDA device found")
            _cupy = cp
            for hook in _cuda_hooks:
                hook(cp)
        except Exception as e:  # ImportError, CUDARuntimeError, missing NVRTC, ...
            _cupy = None
            _cupy_error = f"{type(e).__name__}: {e}"
    return _cupy


def cuda_available():
    """True when device "cuda" can be used: CuPy and a GPU, or the CUDA simulator."""
    return _load_cupy() is not None


def require_cuda():
    """Return the cupy module (or the simulator's) or raise a RuntimeError telling how to get one."""
    cp = _load_cupy()
    if cp is None:
        raise RuntimeError(
            "device 'cuda' is not available: " + str(_cupy_error) +
            ". Install the GPU extra (pip install 'tinygrad_zh[cuda]': the prebuilt cupy-cuda12x "
            "wheel; for a CUDA 13 driver install cupy-cuda13x instead) and run on a machine with an "
            "NVIDIA GPU, or set TINYGRAD_ZH_CUDASIM=1 to simulate the GPU on the CPU.")
    return cp


class Device(str):
    """``tg.device("cuda")``: a device name that is also a ``str`` ("cpu" or "cuda"), with PyTorch's
    ``.type`` and ``.index``. ``Tensor.device`` is one of these, so ``x.device == "cpu"`` works too."""

    def __new__(cls, type_or_name="cpu", index=None):
        name = str(type_or_name).lower()
        kind, _, idx = name.partition(":")
        if kind not in DEVICES:
            raise ValueError(f"unknown device {type_or_name!r}: expected 'cpu' or 'cuda' (or 'cuda:0')")
        if idx:
            if not idx.isdigit():
                raise ValueError(f"device {type_or_name!r}: the index after ':' must be an integer")
            if index is not None:
                raise ValueError(f"device {type_or_name!r}: the index is given twice")
            index = int(idx)
        if index is not None and index != 0:
            raise ValueError(f"device {kind}:{index}: tinygrad_zh uses one device of each type "
                             f"(index 0); for several GPUs run one process per GPU (docs/distributed.md)")
        d = super().__new__(cls, kind)
        d.index = index
        return d

    @property
    def type(self):
        return str.__str__(self)

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"

    def __reduce__(self):
        return (Device, (self.type, self.index))


_CANON = {}


def normalize_device(device):
    """'cpu', 'cuda', 'cuda:0', tg.device(...) -> the canonical Device 'cpu' / 'cuda'. Raises on anything else."""
    if device is None:
        device = "cpu"
    d = _CANON.get(device) if isinstance(device, str) else None
    if d is None:
        kind = Device(device).type
        d = _CANON.get(kind)
        if d is None:
            d = _CANON[kind] = Device(kind)
    return d


def get_xp(device):
    """数组模块：cpu -> numpy, cuda -> cupy."""
    return np if device == "cpu" else require_cuda()


def array_module(arr):
    """The module (numpy or cupy) an array belongs to."""
    return np if isinstance(arr, np.ndarray) or np.isscalar(arr) else require_cuda()


def device_of(arr):
    """'cpu' for NumPy arrays, 'cuda' for CuPy arrays."""
    if isinstance(arr, (np.ndarray, np.generic)):
        return "cpu"
    if _cupy is not None and isinstance(arr, _cupy.ndarray):
        return "cuda"
    mod = type(arr).__module__
    if mod.startswith("cupy"):
        return "cuda"
    return "cpu"


_ONES = {}   # (array type, device, n, dtype) -> read-only vector of ones


def ones_vector(like, n):
    """A cached, read-only vector of ``n`` ones of ``like``'s dtype and device.

    Row and column sums are written as BLAS gemv (``ones @ g``: faster than ``g.sum(0)`` for narrow
    rows); caching the ones saves an allocation per call.  Never write into the result."""
    # the device as a string: a cupy.cuda.Device is unhashable (tinygrad_zh uses one GPU per process)
    key = (type(like), device_of(like), n, like.dtype)
    v = _ONES.get(key)
    if v is None:
        if len(_ONES) > 256:                    # many distinct sizes (e.g. varying batch): start over
            _ONES.clear()
        v = array_module(like).ones(n, like.dtype)
        if isinstance(v, np.ndarray):
            v.flags.writeable = False
        _ONES[key] = v
    return v


def writeable(arr):
    """Whether ``arr`` may be written in place without changing other data: NumPy's
    ``flags.writeable``; CuPy's ``flags`` has no ``writeable`` (every CuPy array is writable), so
    there a view with a zero stride over a dimension > 1 (a broadcast) counts as not writeable."""
    if isinstance(arr, np.ndarray):
        return arr.flags.writeable
    return not any(s == 0 and n > 1 for s, n in zip(arr.strides, arr.shape))


def to_device(arr, device):
    """Copy an array to ``device`` (no copy when it is already there)."""
    src = device_of(arr)
    if src == device:
        return arr
    if device == "cuda":
        return require_cuda().asarray(arr)
    return to_host(arr)  # cupy -> numpy


def normalize_dtype(dtype):
    """Accept 'float64', np.float64, tg.float64, torch-like names -> np.dtype (or None)."""
    if dtype is None:
        return None
    if isinstance(dtype, str):
        dtype = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
                 "int": "int32", "bool": "bool"}.get(dtype, dtype)
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: expected e.g. 'float32', 'float64', 'int64'") from None


def parse_to_args(args, kwargs):
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or keywords -> (device or None, dtype or None)."""
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    for a in args:
        if isinstance(a, str) and (a.startswith("cuda") or a == "cpu"):
            device = a
        else:
            dtype = a
    return device, dtype


def is_float(dtype):
    return dtype.kind == "f"


# --------------------------------------------------------------------------- device kernels
# Hooks for hand-written kernels (filled by tinygrad_zh.cuda.register when CuPy is first used):
# an op asks ``kernel_for(arr, name)`` and falls back to its array code when it gets None.
_KERNELS = {}


def register_kernel(device, name, fn):
    """Make ``fn`` the implementation of kernel ``name`` for arrays on ``device``."""
    _KERNELS[(device, name)] = fn


KERNEL_DTYPES = (float32, float64)     # what kernels/*.cu are compiled for


def kernel_for(arr, name):
    """The registered kernel ``name`` for the device of ``arr``, or None: NumPy arrays, and dtypes
    the kernels do not handle (int, float16, ...), keep the ops' array code."""
    if not _KERNELS or isinstance(arr, np.ndarray) or arr.dtype not in KERNEL_DTYPES:
        return None
    return _KERNELS.get((device_of(arr), name))


# --------------------------------------------------------------------------- no syncs in a step
# 设备上的检查（标签越界、概率越界、范数非有限）不能立即在主机上判断：那要等 GPU 算完（一次同步）。
# check_later 把 "bad" 留在设备上，等下一次本来就要同步的时候（loss.item()、.numpy()）一并检查。
# Checks of device data are deferred: ``check_later(bad, exc, message)`` raises at once for NumPy
# arrays; for CuPy arrays it keeps ``bad.any()`` on the device and ``raise_pending()`` (called
# where the host waits anyway: ``to_host``, ``Tensor.item()/numpy()``) looks at all of them with
# one transfer. So a training step makes no device-to-host synchronisation for its checks.
_PENDING = []
MAX_PENDING = 64        # bound the memory held: beyond it, check (one sync per 64 steps at most)


def check_later(bad, exc, message):
    """Raise ``exc(message)`` if any element of the boolean array ``bad`` is true: now for NumPy,
    at the next ``raise_pending()`` for device arrays. ``message`` may be a callable (evaluated
    only when the check fails, so it may read device data)."""
    if isinstance(bad, (np.ndarray, np.generic, bool)):
        if np.any(bad):
            raise exc(message() if callable(message) else message)
        return
    _PENDING.append((bad.any(), exc, message))
    if len(_PENDING) >= MAX_PENDING:
        raise_pending()


def _pending_flags(xp):
    items = list(_PENDING)
    _PENDING.clear()
    return items, xp.stack([b.reshape(1) for b, _, _ in items]).reshape(-1).astype(np.uint8)


def _raise_first(items, flags):
    for f, (_, exc, message) in zip(flags, items):
        if f:
            raise exc(message() if callable(message) else message)


def raise_pending():
    """Evaluate the deferred device checks (one device-to-host transfer) and raise the first failure."""
    if _PENDING:
        items, flags = _pending_flags(array_module(_PENDING[0][0]))
        _raise_first(items, flags.get())


def to_host(arr):
    """A NumPy copy of ``arr``. For a device array this is the sync point of the deferred checks:
    their flags travel in the same transfer as the data (one sync), and a failed check raises."""
    if isinstance(arr, np.ndarray):
        return arr
    if not _PENDING:
        return arr.get()
    xp = array_module(arr)
    items, flags = _pending_flags(xp)
    data = xp.ascontiguousarray(arr).reshape(-1).view(np.uint8)
    both = xp.concatenate([flags, data]).get()          # one transfer for flags and data
    _raise_first(items, both[:len(items)])
    return both[len(items):].view(arr.dtype).reshape(arr.shape)


_SCALARS = {}       # (device, dtype, value key) -> 0-d array


def scalar_array(value, dtype, device):
    """A cached 0-d array holding the Python scalar ``value`` as ``dtype`` on ``device``: ``x * 0.5``
    on the GPU then copies nothing from the host (a fresh ``cupy.asarray(0.5)`` is a host-to-device
    copy per operation). On a device the array is shared: never write into it."""
    if device == "cpu":
        return np.asarray(value, dtype=dtype)        # cheap on the CPU, and private to the caller
    key = (device, dtype, value.hex() if type(value) is float else (type(value), value))
    a = _SCALARS.get(key)
    if a is None:
        if len(_SCALARS) > 4096:
            _SCALARS.clear()
        a = _SCALARS[key] = get_xp(device).asarray(value, dtype=dtype)
    return a

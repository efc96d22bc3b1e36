"""tg.cuda：手写的融合 CUDA kernel（LSTM 单元、softmax 交叉熵、激活函数、Adam、im2col、最大池化）。

The CUDA sources live in ``kernels/`` (installed as ``tinygrad_zh/kernels``); their arithmetic
is in ``__host__ __device__`` functions shared with a CPU test harness. This package is the
Python side:

* ``fused``: the public functions below, on CuPy arrays (float32 / float64);
* ``launch``: source lookup, NVRTC compile cache, dtype/contiguity handling, grid/block;
* ``reference``: NumPy references of every kernel (the maths, and the tests' ground truth).

Importing ``tinygrad_zh.cuda`` never needs CuPy; calling a kernel function without a GPU raises
the error of ``tinygrad_zh.backend.require_cuda()``. See docs/kernels.md.

插件：本包在导入时把自己注册进 ``tinygrad_zh.backend``（``set_cuda_provider``）：设备 "cuda" 的数组
模块由这里决定 —— 真正的 CuPy，或 ``TINYGRAD_ZH_CUDASIM=1`` 时的 CUDA 模拟器（``cuda/sim``）；第一次
用到时注册我们的 kernel（``register.install``）。backend.py 不导入本包，没有循环导入。
Plug-in: importing this package (``import tinygrad_zh`` does) registers the provider of the
"cuda" array module with ``tinygrad_zh.backend``: real CuPy, or the CUDA simulator when
``TINYGRAD_ZH_CUDASIM=1``; our kernels are registered when it is first loaded.
"""
from .. import backend as _backend
from . import reference
from .fused import (ACTIVATIONS, activation_backward, activation_forward, adam_update, col2im,
                    im2col, lstm_cell_backward, lstm_cell_forward, maxpool_backward,
                    maxpool_forward, softmax_ce_backward, softmax_ce_forward)
from .launch import kernel_dir, kernel_source

__all__ = ["lstm_cell_forward", "lstm_cell_backward", "softmax_ce_forward", "softmax_ce_backward",
           "activation_forward", "activation_backward", "adam_update", "im2col", "col2im",
           "maxpool_forward", "maxpool_backward", "ACTIVATIONS", "reference", "kernel_dir",
           "kernel_source", "is_available", "device_count", "current_device", "get_device_name",
           "synchronize", "manual_seed", "manual_seed_all", "empty_cache", "is_initialized",
           "cupy_package_name", "missing_library_message"]


# ---------------------------------------------------------------- plug-in: which "cupy"
def cupy_package_name(cuda_major=None):
    """The prebuilt CuPy wheel for a CUDA major version (12 -> cupy-cuda12x, 13 -> cupy-cuda13x)."""
    return f"cupy-cuda{cuda_major or 12}x"


def _cuda_major(cp):
    try:
        return int(cp.cuda.runtime.runtimeGetVersion()) // 1000
    except Exception:
        return None


def missing_library_message(library, cp=None):
    """A clear message for a CUDA library CuPy could not load, naming the pip package that has it
    (the suffix follows the CUDA major version of the installed CuPy)."""
    major = (_cuda_major(cp) if cp is not None else None) or 12
    pkg = {"nvrtc": f"nvidia-cuda-nvrtc-cu{major}", "cublas": f"nvidia-cublas-cu{major}",
           "nccl": f"nvidia-nccl-cu{major}"}[library]
    return (f"CuPy cannot load {library.upper() if library != 'cublas' else 'cuBLAS'} (lib{library}): "
            f"pip install {pkg} (or pip install '{cupy_package_name(major)}[ctk]', which brings the "
            f"CUDA {major} libraries), or put the CUDA toolkit's lib64 on LD_LIBRARY_PATH")


def _load_cupy_module():
    """The provider given to ``backend.set_cuda_provider``: the simulator or real CuPy."""
    from . import sim
    if sim.enabled():
        sim.install_import_hooks()
        return sim.cupy
    try:
        import cupy
    except ImportError as e:
        raise ImportError(f"CuPy is not installed ({e}); pip install 'tinygrad_zh[cuda]' installs "
                          f"the prebuilt {cupy_package_name(12)} (CUDA 12; for CUDA 13: "
                          f"pip install {cupy_package_name(13)})") from None
    if cupy.cuda.runtime.getDeviceCount() < 1:
        raise RuntimeError("no CUDA device found")
    try:                                    # NVRTC compiles our kernels: fail early and clearly
        cupy.cuda.nvrtc.getVersion()
    except Exception as e:
        raise RuntimeError(f"{missing_library_message('nvrtc', cupy)} [{type(e).__name__}: {e}]") from None
    try:                                    # cuBLAS does every matmul
        cupy.cuda.device.get_cublas_handle()
    except Exception as e:
        raise RuntimeError(f"{missing_library_message('cublas', cupy)} [{type(e).__name__}: {e}]") from None
    return cupy


def _on_load(cp):
    from .register import install
    install()


_backend.set_cuda_provider(_load_cupy_module, on_load=(_on_load,))


# ---------------------------------------------------------------- torch.cuda.* (what learners call)
def is_available():
    """True when CuPy and a GPU are present (same as ``tinygrad_zh.cuda_available()``)."""
    from ..backend import cuda_available
    return cuda_available()


def device_count():
    """Number of GPUs tinygrad_zh can use: 1 when CUDA is available (one device per process), else 0."""
    return 1 if is_available() else 0


def is_initialized():
    return is_available()


def current_device():
    from ..backend import require_cuda
    return int(require_cuda().cuda.runtime.getDevice())


def get_device_name(device=None):
    """The GPU's name as the CUDA runtime reports it."""
    from ..backend import require_cuda
    cp = require_cuda()
    name = cp.cuda.runtime.getDeviceProperties(current_device())["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None):
    """Wait until every queued kernel has finished (timings need it)."""
    from ..backend import require_cuda
    require_cuda().cuda.Device().synchronize()


def manual_seed(seed):
    """Random numbers are drawn on the CPU for every device (see tinygrad_zh/random.py): seeding
    the library's generator seeds the GPU's numbers too."""
    from ..random import manual_seed as _seed
    _seed(seed)


manual_seed_all = manual_seed


def empty_cache():
    """Return the cached blocks of CuPy's memory pool to the driver (no-op without CUDA)."""
    if is_available():
        from ..backend import require_cuda
        require_cuda().get_default_memory_pool().free_all_blocks()

"""tg.cuda：手写的融合 CUDA kernel（LSTM 单元、softmax 交叉熵、激活函数、Adam、im2col、最大池化）。

The CUDA sources live in ``kernels/`` (installed as ``tinygrad_zh/kernels``); their arithmetic
is in ``__host__ __device__`` functions shared with a CPU test harness. This package is the
Python side:

* ``fused``: the public functions below, on CuPy arrays (float32 / float64);
* ``launch``: source lookup, NVRTC compile cache, dtype/contiguity handling, grid/block;
* ``reference``: NumPy references of every kernel (the maths, and the tests' ground truth).

Importing ``tinygrad_zh.cuda`` never needs CuPy; calling a kernel function without a GPU raises
the error of ``tinygrad_zh.backend.require_cuda()``. See docs/kernels.md.
"""
from . import reference
from .fused import (ACTIVATIONS, activation_backward, activation_forward, adam_update, col2im,
                    im2col, lstm_cell_backward, lstm_cell_forward, maxpool_backward,
                    maxpool_forward, softmax_ce_backward, softmax_ce_forward)
from .launch import kernel_dir, kernel_source

__all__ = ["lstm_cell_forward", "lstm_cell_backward", "softmax_ce_forward", "softmax_ce_backward",
           "activation_forward", "activation_backward", "adam_update", "im2col", "col2im",
           "maxpool_forward", "maxpool_backward", "ACTIVATIONS", "reference", "kernel_dir",
           "kernel_source", "is_available", "device_count", "current_device", "get_device_name",
           "synchronize", "manual_seed", "manual_seed_all", "empty_cache", "is_initialized"]


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

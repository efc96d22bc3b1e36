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
           "kernel_source", "is_available"]


def is_available():
    """True when CuPy and a GPU are present (same as ``tinygrad_zh.cuda_available()``)."""
    from ..backend import cuda_available
    return cuda_available()

"""把 kernels/ 里的 CUDA kernel 接到运算上：CuPy 第一次可用时调用 ``install()``。

After this, on ``device="cuda"`` the LSTM cell, softmax cross-entropy, the activations relu /
sigmoid / tanh / gelu, im2col / col2im, max-pool and the Adam update run our own kernels; NumPy
arrays keep the array code of ``ops/``.
"""
from .. import backend
from . import fused


def install():
    """Register every fused kernel for device 'cuda' (idempotent)."""
    from ..ops import conv, lstm
    lstm.register_cell_kernels("cuda", fused.lstm_cell_forward, fused.lstm_cell_backward)
    conv.register_kernels("cuda", im2col=fused.im2col, col2im=fused.col2im,
                          maxpool_forward=fused.maxpool_forward, maxpool_backward=fused.maxpool_backward)
    for name in ("softmax_ce_forward", "softmax_ce_backward", "activation_forward", "activation_backward"):
        backend.register_kernel("cuda", name, getattr(fused, name))

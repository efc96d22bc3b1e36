"""融合 GPU 运算的 Python 入口：检查参数、分配输出，然后交给 ``launch``（一行）。

Each function works on CuPy arrays (device ``'cuda'``) of dtype float32 or float64 and returns
new CuPy arrays (``adam_update`` updates in place). The LSTM cell, im2col/col2im and max-pool
functions, which ``ops`` calls for every CUDA array, hand other dtypes (float16, ...) to the ops'
array code (the activations and softmax CE are skipped for them by ``backend.kernel_for``). The NumPy function of the same name in
``tinygrad_zh/cuda/reference.py`` computes the same result on the CPU and documents the maths.

Drop-in signatures (same arguments, same layouts, same results as the NumPy array helpers):

* ``lstm_cell_forward`` / ``lstm_cell_backward`` = ``ops.lstm.lstm_cell_forward_arrays`` /
  ``lstm_cell_backward_arrays`` (optional output buffers included), so they can be plugged in with
  ``ops.lstm.register_cell_kernels("cuda", lstm_cell_forward, lstm_cell_backward)``;
* ``im2col`` / ``col2im`` / ``maxpool_forward`` / ``maxpool_backward`` = ``ops.conv``'s
  ``im2col_arrays`` / ``col2im_arrays`` / ``maxpool_forward_arrays`` / ``maxpool_backward_arrays``
  (col (C·KH·KW, N·OH·OW); max-pool index = offset ki·KW + kj inside the window).
"""
import math

from .. import backend
from .launch import SUFFIX, InOut, Out, float_dtype, launch
from .reference import ACTIVATIONS, pool_geometry, window_geometry

__all__ = ["lstm_cell_forward", "lstm_cell_backward", "softmax_ce_forward", "softmax_ce_backward",
           "activation_forward", "activation_backward", "adam_update", "im2col", "col2im",
           "maxpool_forward", "maxpool_backward", "ACTIVATIONS"]


def _array_code(cp, a, module, name):
    """For a CuPy array of a dtype our kernels are not compiled for (float16, int, ...): the ops'
    array code of the same signature (``ops.<module>.<name>``), which runs on CuPy; else None."""
    if isinstance(a, cp.ndarray) and a.dtype not in SUFFIX:
        import importlib
        return getattr(importlib.import_module(f"..ops.{module}", __package__), name)
    return None


def _shape_error(op, expected, **arrays):
    got = ", ".join(f"{k} {tuple(a.shape)}" for k, a in arrays.items() if a is not None)
    return ValueError(f"{op}: expected {expected}, got {got}")


def _out(cp, buf, shape, dtype, op, what):
    """A caller-supplied output buffer (checked) or a fresh one."""
    if buf is None:
        return cp.empty(shape, dtype)
    if tuple(buf.shape) != tuple(shape):
        raise ValueError(f"{op}: output buffer {what} has shape {tuple(buf.shape)}, expected {tuple(shape)}")
    return buf


# ----------------------------------------------------------------------------- LSTM cell
def lstm_cell_forward(A, c_prev, gates=None, c=None, tanh_c=None, h=None):
    """Fused LSTM step on the GPU: ``(h, c, gates, tanh_c)`` from pre-activations A (B, 4H) and
    c_prev (B, H) (gate order i, f, g, o). Optional output buffers may be given (``gates`` may be
    ``A`` itself: every thread reads its four pre-activations before writing the gates)."""
    op = "lstm_cell_forward"
    cp = backend.require_cuda()
    other = _array_code(cp, A, "lstm", "lstm_cell_forward_arrays")
    if other is not None:
        return other(A, c_prev, gates, c, tanh_c, h)
    dtype = float_dtype(op, A=A, c_prev=c_prev)
    if A.ndim != 2 or c_prev.ndim != 2 or A.shape != (c_prev.shape[0], 4 * c_prev.shape[1]):
        raise _shape_error(op, "A (B, 4H) and c_prev (B, H)", A=A, c_prev=c_prev)
    B, H = c_prev.shape
    h = _out(cp, h, (B, H), dtype, op, "h")
    c = _out(cp, c, (B, H), dtype, op, "c")
    tanh_c = _out(cp, tanh_c, (B, H), dtype, op, "tanh_c")
    gates = _out(cp, gates, (B, 4 * H), dtype, op, "gates")
    launch(op, "lstm_cell.cu", "lstm_cell_fwd", dtype,
           [A, c_prev, Out(h), Out(c), Out(gates), Out(tanh_c), B * H, H], n=B * H)
    return h, c, gates, tanh_c


def lstm_cell_backward(gates, c_prev, tanh_c, dh, dc, dA=None, dc_prev=None, tmp=None):
    """Fused LSTM step backward on the GPU: ``(dA (B, 4H), dc_prev (B, H))`` in one pass.

    ``dh`` / ``dc`` may be None (= zeros). ``tmp`` is accepted for signature compatibility with
    ``ops.lstm.lstm_cell_backward_arrays`` and not used (the kernel needs no scratch)."""
    op = "lstm_cell_backward"
    cp = backend.require_cuda()
    other = _array_code(cp, gates, "lstm", "lstm_cell_backward_arrays")
    if other is not None:
        return other(gates, c_prev, tanh_c, dh, dc, dA, dc_prev, tmp)
    dtype = float_dtype(op, gates=gates, c_prev=c_prev, tanh_c=tanh_c, dh=dh, dc=dc)
    if c_prev.ndim != 2 or gates.shape != (c_prev.shape[0], 4 * c_prev.shape[1]) or \
            any(a is not None and a.shape != c_prev.shape for a in (tanh_c, dh, dc)):
        raise _shape_error(op, "gates (B, 4H) and c_prev, tanh_c, dh, dc (B, H)", gates=gates,
                           c_prev=c_prev, tanh_c=tanh_c, dh=dh, dc=dc)
    B, H = c_prev.shape
    dh = cp.zeros((B, H), dtype) if dh is None else dh
    dc = cp.zeros((B, H), dtype) if dc is None else dc
    dA = _out(cp, dA, (B, 4 * H), dtype, op, "dA")
    dc_prev = _out(cp, dc_prev, (B, H), dtype, op, "dc_prev")
    launch(op, "lstm_cell.cu", "lstm_cell_bwd", dtype,
           [dh, dc, gates, c_prev, tanh_c, Out(dA), Out(dc_prev), B * H, H], n=B * H)
    return dA, dc_prev


# ----------------------------------------------------------------------------- softmax CE
def _check_targets(op, cp, logits, target, ignore_index, check=True):
    if logits.ndim != 2:
        raise ValueError(f"{op}: expected logits of shape (N, C), got {tuple(logits.shape)}")
    if not isinstance(target, cp.ndarray) or target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must be a CuPy array of integer class indices, got "
                        f"{type(target).__name__} of dtype {getattr(target, 'dtype', '?')}")
    if target.shape != logits.shape[:1]:
        raise _shape_error(op, f"target ({logits.shape[0]},) for logits (N, C)", logits=logits,
                           target=target)
    n, c = logits.shape
    if n and c == 0:
        raise ValueError(f"{op}: logits have 0 classes (shape {tuple(logits.shape)})")
    if not check or not n:
        return
    bad = ((target < 0) | (target >= c)) & (target != ignore_index)

    def message():
        return f"{op}: target {int(target[bad][0])} is out of range for {c} classes (ignore_index={ignore_index})"
    if check == "later":            # the ops: no device-to-host sync in a training step
        backend.check_later(bad, IndexError, message)
    elif bool(bad.any()):           # one sync: fine for a direct call
        raise IndexError(message())


def softmax_ce_forward(logits, target, ignore_index=-100, check=True):
    """Per-row softmax cross-entropy on the GPU: ``(loss (N,), lse (N,))`` with lse the row
    log-sum-exp (keep it for the backward); rows whose target is ``ignore_index`` get loss 0.

    ``check``: True raises IndexError for out-of-range targets at once (a device-to-host sync);
    ``"later"`` defers the check to the next sync (``backend.check_later``); False skips it."""
    op = "softmax_ce_forward"
    cp = backend.require_cuda()
    dtype = float_dtype(op, logits=logits)
    _check_targets(op, cp, logits, target, ignore_index, check)
    n, c = logits.shape
    loss, lse = cp.empty(n, dtype), cp.empty(n, dtype)
    launch(op, "softmax_ce.cu", "softmax_ce_fwd", dtype,
           [logits, target, Out(loss), Out(lse), c, int(ignore_index)], rows=n)
    return loss, lse


def softmax_ce_backward(logits, target, lse, scale, ignore_index=-100, check=True):
    """Gradient of the per-row losses on the GPU: ``(softmax(logits) - onehot(target)) * scale``.

    ``scale`` is a number or an (N,) array (for ``reduction='mean'``: upstream grad / number of
    valid rows; for ``'none'``: the upstream grad of each row); ignored rows get 0."""
    op = "softmax_ce_backward"
    cp = backend.require_cuda()
    dtype = float_dtype(op, logits=logits, lse=lse)
    _check_targets(op, cp, logits, target, ignore_index, check)
    n, c = logits.shape
    if lse.shape != (n,):
        raise _shape_error(op, f"lse ({n},)", logits=logits, lse=lse)
    scale = cp.asarray(scale, dtype=dtype)
    if scale.shape != (n,):
        if scale.size != 1:
            raise _shape_error(op, f"scale () or ({n},)", logits=logits, scale=scale)
        scale = cp.broadcast_to(scale.reshape(()), (n,))      # made contiguous by launch
    grad = cp.empty((n, c), dtype)
    launch(op, "softmax_ce.cu", "softmax_ce_bwd", dtype,
           [logits, target, lse, scale, Out(grad), c, int(ignore_index)], rows=n)
    return grad


# ----------------------------------------------------------------------------- activations
def _act_code(op, name):
    if name not in ACTIVATIONS:
        raise ValueError(f"{op}: unknown activation {name!r}, expected one of {ACTIVATIONS}")
    return ACTIVATIONS.index(name)      # = TG_ACT_* in kernels/activation.cuh


def activation_forward(name, x):
    """y = act(x) on the GPU for name in ``ACTIVATIONS`` (relu, sigmoid, tanh, gelu (erf form))."""
    op = f"activation_forward({name!r})"
    cp = backend.require_cuda()
    code = _act_code(op, name)
    dtype = float_dtype(op, x=x)
    y = cp.empty(x.shape, dtype)
    launch(op, "activation.cu", "activation_fwd", dtype, [x, Out(y), x.size, code], n=x.size)
    return y


def activation_backward(name, grad, x=None, y=None):
    """Input gradient on the GPU: relu and gelu need the input ``x``, sigmoid and tanh the
    forward output ``y``."""
    op = f"activation_backward({name!r})"
    cp = backend.require_cuda()
    code = _act_code(op, name)
    need = "x" if name in ("relu", "gelu") else "y"
    saved = x if need == "x" else y
    if saved is None:
        what = "input x" if need == "x" else "output y"
        raise ValueError(f"{op}: the {name} backward needs the forward {what}")
    dtype = float_dtype(op, grad=grad, **{need: saved})
    if saved.shape != grad.shape:
        raise _shape_error(op, f"grad and {need} of one shape", grad=grad, **{need: saved})
    gx = cp.empty(grad.shape, dtype)
    # the kernel reads only the operand it needs; the saved one is passed for both x and y
    launch(op, "activation.cu", "activation_bwd", dtype, [grad, saved, saved, Out(gx), grad.size, code],
           n=grad.size)
    return gx


# ----------------------------------------------------------------------------- Adam
def adam_update(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step,
                decoupled=False):
    """One fused Adam (``decoupled=False``, L2) / AdamW (``decoupled=True``) step on the GPU,
    **in place** on ``param``, ``exp_avg`` and ``exp_avg_sq`` (``grad`` is only read).
    ``step`` is the 1-based step count used for bias correction. Returns ``param``."""
    op = "adam_update"
    float_dtype(op, param=param, grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    if not (param.shape == grad.shape == exp_avg.shape == exp_avg_sq.shape):
        raise _shape_error(op, "param, grad, exp_avg and exp_avg_sq of one shape", param=param,
                           grad=grad, exp_avg=exp_avg, exp_avg_sq=exp_avg_sq)
    if int(step) < 1:
        raise ValueError(f"{op}: step must be >= 1 (1-based step count), got {step}")
    step_size = float(lr) / (1.0 - float(beta1) ** int(step))
    bc2_sqrt = math.sqrt(1.0 - float(beta2) ** int(step))
    launch(op, "adam.cu", "adam_update", param.dtype,
           [InOut(param), grad, InOut(exp_avg), InOut(exp_avg_sq), param.size, bool(decoupled),
            float(lr), float(beta1), float(beta2), float(eps), float(weight_decay), step_size,
            bc2_sqrt], n=param.size)
    return param


# ----------------------------------------------------------------------------- im2col / col2im
def im2col(x, kernel_size, stride=1, padding=0):
    """x (N, C, H, W) -> col (C·KH·KW, N·OH·OW) on the GPU (zero padding; the layout of
    ``ops.conv.im2col_arrays``: row (c, ki, kj), column (n, oh, ow))."""
    op = "im2col"
    cp = backend.require_cuda()
    other = _array_code(cp, x, "conv", "im2col_arrays")
    if other is not None:
        return other(x, kernel_size, stride, padding)
    dtype = float_dtype(op, x=x)
    q = window_geometry(op, x.shape, kernel_size, stride, padding)
    N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW = q
    col = cp.empty((C * KH * KW, N * OH * OW), dtype)
    launch(op, "im2col.cu", "im2col", dtype, [x, Out(col), col.size, *q], n=col.size)
    return col


def col2im(col, x_shape, kernel_size, stride=1, padding=0):
    """Adjoint of ``im2col`` on the GPU: col (C·KH·KW, N·OH·OW) -> (N, C, H, W), overlapping
    window entries summed (a gather per pixel: deterministic, no atomics)."""
    op = "col2im"
    cp = backend.require_cuda()
    other = _array_code(cp, col, "conv", "col2im_arrays")
    if other is not None:
        return other(col, x_shape, kernel_size, stride, padding)
    dtype = float_dtype(op, col=col)
    q = window_geometry(op, x_shape, kernel_size, stride, padding)
    N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW = q
    if col.size != N * C * KH * KW * OH * OW or col.shape[0] != C * KH * KW:
        raise _shape_error(op, f"col ({C * KH * KW}, {N * OH * OW}) for input shape {tuple(x_shape)}",
                           col=col)
    x = cp.empty((N, C, H, W), dtype)
    launch(op, "im2col.cu", "col2im", dtype, [col, Out(x), x.size, *q], n=x.size)
    return x


# ----------------------------------------------------------------------------- max pool
def maxpool_forward(x, kernel_size, stride=None, padding=0):
    """2-D max pooling on the GPU: ``(out (N, C, OH, OW), idx int64)``, idx = ki·KW + kj, the
    offset of each window's maximum inside the window (``ops.conv``'s convention; stride defaults
    to kernel_size; padding ≤ kernel/2)."""
    op = "maxpool_forward"
    cp = backend.require_cuda()
    other = _array_code(cp, x, "conv", "maxpool_forward_arrays")
    if other is not None:
        return other(x, kernel_size, stride, padding)
    dtype = float_dtype(op, x=x)
    q = pool_geometry(op, x.shape, kernel_size, stride, padding)
    N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW = q
    out = cp.empty((N, C, OH, OW), dtype)
    idx = cp.empty((N, C, OH, OW), "int64")
    launch(op, "maxpool.cu", "maxpool_fwd", dtype, [x, Out(out), Out(idx), out.size, *q], n=out.size)
    return out, idx


def maxpool_backward(grad_out, idx, x_shape, kernel_size, stride=None, padding=0):
    """Gradient of ``maxpool_forward`` w.r.t. its input (N, C, H, W): each pixel gathers the
    output gradients of the windows whose maximum it was."""
    op = "maxpool_backward"
    cp = backend.require_cuda()
    other = _array_code(cp, grad_out, "conv", "maxpool_backward_arrays")
    if other is not None:
        return other(grad_out, idx, x_shape, kernel_size, stride, padding)
    dtype = float_dtype(op, grad_out=grad_out)
    q = pool_geometry(op, x_shape, kernel_size, stride, padding)
    N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW = q
    if grad_out.shape != (N, C, OH, OW) or idx.shape != (N, C, OH, OW):
        raise _shape_error(op, f"grad_out and idx of shape {(N, C, OH, OW)}", grad_out=grad_out, idx=idx)
    if not isinstance(idx, cp.ndarray) or idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: idx must be a CuPy integer array, got {type(idx).__name__}")
    gx = cp.empty((N, C, H, W), dtype)
    launch(op, "maxpool.cu", "maxpool_bwd", dtype, [grad_out, idx, Out(gx), gx.size, *q], n=gx.size)
    return gx

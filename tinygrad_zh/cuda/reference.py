"""CUDA kernel 的 NumPy 参考实现：每个 kernel 在这里都有一个"读得懂"的向量化版本。

Each function below computes exactly what the kernel of the same name in ``kernels/`` computes,
but written the NumPy way (whole-array expressions, slicing, ``np.add.at``) instead of one thread
per element. The tests compare three things element by element:

* the kernels' arithmetic run on the CPU (``kernels/host/harness.cpp``, g++ + ctypes) vs these
  references (``tests/test_kernels.py``, no GPU needed);
* the real kernels on a GPU vs these references (``tests/test_cuda.py``);
* these references vs the library's own ops and, where installed, PyTorch.

Layouts (all C-contiguous, row-major):

* LSTM cell: ``A`` (B, 4H) gate pre-activations in the order i, f, g, o; ``c_prev`` (B, H).
* softmax cross-entropy: ``logits`` (N, C), integer ``target`` (N,).
* conv / pool: NCHW; ``col`` is (C·KH·KW, N·OH·OW): row (c, ki, kj), column (n, oh, ow) — the
  layout of ``ops.conv.im2col_arrays``, so a convolution is one matrix product W (F, C·KH·KW) @ col.
  Max-pool indices are the winner's offset ki·KW + kj inside its window (``ops.conv``'s convention).

All functions keep the input dtype (float32 stays float32) and never modify their arguments.
"""
import math

import numpy as np

ACTIVATIONS = ("relu", "sigmoid", "tanh", "gelu")


# ----------------------------------------------------------------------------- small helpers
def _pair(v, what):
    """int or (int, int) -> (int, int)."""
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    t = tuple(int(a) for a in v)
    if len(t) != 2:
        raise ValueError(f"{what}: expected an int or a pair of ints, got {v!r}")
    return t


def conv_output_size(size, kernel, stride, padding):
    """输出尺寸 ⌊(size + 2·padding - kernel) / stride⌋ + 1（不含 ceil_mode）。"""
    return (size + 2 * padding - kernel) // stride + 1


def window_geometry(op, x_shape, kernel_size, stride=None, padding=0):
    """The 12 geometry numbers (N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW) of a sliding window.

    ``stride=None`` means stride = kernel size (the pooling default). Raises a ValueError naming
    ``op`` when the input is not 4-D NCHW or the window does not fit.
    """
    if len(x_shape) != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {tuple(x_shape)}")
    N, C, H, W = (int(s) for s in x_shape)
    KH, KW = _pair(kernel_size, f"{op} kernel_size")
    SH, SW = (KH, KW) if stride is None else _pair(stride, f"{op} stride")
    PH, PW = _pair(padding, f"{op} padding")
    if min(KH, KW, SH, SW) < 1 or min(PH, PW) < 0:
        raise ValueError(f"{op}: kernel_size and stride must be >= 1 and padding >= 0, got "
                         f"kernel_size={(KH, KW)}, stride={(SH, SW)}, padding={(PH, PW)}")
    OH, OW = conv_output_size(H, KH, SH, PH), conv_output_size(W, KW, SW, PW)
    if OH < 1 or OW < 1:
        raise ValueError(f"{op}: kernel {(KH, KW)} with padding {(PH, PW)} does not fit an input of "
                         f"spatial size {(H, W)} (input shape {tuple(x_shape)})")
    return N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW


def pool_geometry(op, x_shape, kernel_size, stride=None, padding=0):
    """``window_geometry`` plus the pooling rule padding ≤ kernel/2 (every window sees a pixel)."""
    q = window_geometry(op, x_shape, kernel_size, stride, padding)
    KH, KW, PH, PW = q[4], q[5], q[8], q[9]
    if PH > KH // 2 or PW > KW // 2:
        raise ValueError(f"{op}: padding {(PH, PW)} must be at most half the kernel size {(KH, KW)}")
    return q


def sigmoid(x):
    """σ(x) = 1/(1+e^{-x})，只对 -|x| 求 e 的幂：大正数、大负数都不溢出。"""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _erf(x):
    """erf, element by element through math.erf (NumPy has none); computed in float64."""
    return np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, np.float64))


# ----------------------------------------------------------------------------- LSTM cell
def lstm_cell_forward(A, c_prev):
    """One LSTM step. Returns ``(h, c, gates, tanh_c)``; gates = [i | f | g | o] activations (B, 4H).

        i, f, o = σ(A_i), σ(A_f), σ(A_o);  g = tanh(A_g)
        c = f·c_prev + i·g;  h = o·tanh(c)
    """
    H = c_prev.shape[1]
    gates = np.concatenate([sigmoid(A[:, :2 * H]), np.tanh(A[:, 2 * H:3 * H]),
                            sigmoid(A[:, 3 * H:])], axis=1)
    i, f, g, o = np.split(gates, 4, axis=1)
    c = f * c_prev + i * g
    tanh_c = np.tanh(c)
    return o * tanh_c, c, gates, tanh_c


def lstm_cell_backward(gates, c_prev, tanh_c, dh, dc):
    """Gradients ``(dA, dc_prev)`` of one LSTM step from the saved gates; dh / dc may be None (= 0).

        δc = dc + dh·o·(1 - tanh²c)
        dA = [δc·g·i(1-i) | δc·c_prev·f(1-f) | δc·i·(1-g²) | dh·tanh c·o(1-o)],  dc_prev = δc·f
    """
    i, f, g, o = np.split(gates, 4, axis=1)
    dh = np.zeros_like(c_prev) if dh is None else dh
    dc = np.zeros_like(c_prev) if dc is None else dc
    dct = dc + dh * o * (1 - tanh_c * tanh_c)
    dA = np.concatenate([dct * g * i * (1 - i), dct * c_prev * f * (1 - f),
                         dct * i * (1 - g * g), dh * tanh_c * o * (1 - o)], axis=1)
    return dA, dct * f


# ----------------------------------------------------------------------------- softmax CE
def softmax_ce_forward(logits, target, ignore_index=-100):
    """Per-row cross-entropy and log-sum-exp: ``(loss (N,), lse (N,))``.

        lse = m + log Σ e^{x - m} (m = row max);  loss = lse - x[target], 0 where target == ignore_index
    """
    m = logits.max(axis=1)
    lse = m + np.log(np.exp(logits - m[:, None]).sum(axis=1))
    valid = target != ignore_index
    safe = np.where(valid, target, 0)
    picked = logits[np.arange(len(target)), safe]
    loss = np.where(valid, lse - picked, 0).astype(logits.dtype)
    return loss, lse.astype(logits.dtype)


def softmax_ce_backward(logits, target, lse, scale, ignore_index=-100):
    """d loss / d logits = (softmax - onehot(target)) · scale[row]; rows with ignore_index get 0.

    ``scale`` is a number or an (N,) array (e.g. upstream grad / number of valid rows)."""
    n = logits.shape[0]
    scale = np.broadcast_to(np.asarray(scale, logits.dtype), (n,))
    valid = target != ignore_index
    grad = np.exp(logits - lse[:, None])
    rows = np.arange(n)[valid]
    grad[rows, target[valid]] -= 1
    return (grad * np.where(valid, scale, 0)[:, None]).astype(logits.dtype)


# ----------------------------------------------------------------------------- activations
def activation_forward(name, x):
    """relu / sigmoid / tanh / gelu (exact erf form: x·Φ(x))."""
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return sigmoid(x)
    if name == "tanh":
        return np.tanh(x)
    if name == "gelu":
        return (x * 0.5 * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype)
    raise ValueError(f"activation: unknown name {name!r}, expected one of {ACTIVATIONS}")


def activation_backward(name, grad, x=None, y=None):
    """Input gradient from the upstream ``grad``; relu/gelu need the input ``x``, sigmoid/tanh
    the output ``y``."""
    if name == "relu":
        return np.where(x > 0, grad, 0).astype(grad.dtype)
    if name == "sigmoid":
        return grad * y * (1 - y)
    if name == "tanh":
        return grad * (1 - y * y)
    if name == "gelu":
        x64 = x.astype(np.float64)
        d = 0.5 * (1 + _erf(x64 / math.sqrt(2))) + x64 * np.exp(-0.5 * x64 * x64) / math.sqrt(2 * math.pi)
        return (grad * d.astype(grad.dtype)).astype(grad.dtype)
    raise ValueError(f"activation: unknown name {name!r}, expected one of {ACTIVATIONS}")


# ----------------------------------------------------------------------------- Adam
def adam_step(param, grad, exp_avg, exp_avg_sq, lr, beta1, beta2, eps, weight_decay, step,
              decoupled):
    """One Adam (``decoupled=False``: L2, g += λp) or AdamW (``decoupled=True``: p *= 1 - lr·λ) step.

    Returns new ``(param, exp_avg, exp_avg_sq)``; step is the 1-based step count t:
        m = β₁m + (1-β₁)g,  v = β₂v + (1-β₂)g²,  p -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε)
    """
    dt = param.dtype.type
    p, g = param.copy(), grad
    if weight_decay:
        if decoupled:
            p = p * dt(1 - lr * weight_decay)
        else:
            g = g + dt(weight_decay) * p
    m = dt(beta1) * exp_avg + dt(1 - beta1) * g
    v = dt(beta2) * exp_avg_sq + dt(1 - beta2) * g * g
    step_size = lr / (1 - beta1 ** step)
    bc2_sqrt = math.sqrt(1 - beta2 ** step)
    p = p - dt(step_size) * m / (np.sqrt(v) / dt(bc2_sqrt) + dt(eps))
    return p.astype(param.dtype), m.astype(param.dtype), v.astype(param.dtype)


# ----------------------------------------------------------------------------- im2col / col2im
def im2col(x, kernel_size, stride=1, padding=0):
    """x (N, C, H, W) -> col (C·KH·KW, N·OH·OW): every window laid out as one column.

    Vectorised over the image: for each kernel offset (ki, kj) one strided slice of the padded
    input gives that offset's value for all output positions at once."""
    N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW = window_geometry("im2col", x.shape, kernel_size,
                                                                 stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)))
    col = np.empty((C, KH, KW, N, OH, OW), x.dtype)
    for ki in range(KH):
        for kj in range(KW):
            # (N, C, OH, OW) slice -> (C, N, OH, OW)
            col[:, ki, kj] = xp[:, :, ki:ki + SH * OH:SH, kj:kj + SW * OW:SW].transpose(1, 0, 2, 3)
    return col.reshape(C * KH * KW, N * OH * OW)


def col2im(col, x_shape, kernel_size, stride=1, padding=0):
    """Adjoint of ``im2col``: add every column entry back onto the pixel it was read from."""
    N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW = window_geometry("col2im", x_shape, kernel_size,
                                                                 stride, padding)
    col = col.reshape(C, KH, KW, N, OH, OW)
    xp = np.zeros((N, C, H + 2 * PH, W + 2 * PW), col.dtype)
    for ki in range(KH):
        for kj in range(KW):
            xp[:, :, ki:ki + SH * OH:SH, kj:kj + SW * OW:SW] += col[:, ki, kj].transpose(1, 0, 2, 3)
    return xp[:, :, PH:PH + H, PW:PW + W].copy()


# ----------------------------------------------------------------------------- max pool
def maxpool_forward(x, kernel_size, stride=None, padding=0):
    """Max pooling; returns ``(out (N, C, OH, OW), idx int64)`` with idx = ki·KW + kj, the offset of
    the maximum inside its window (first one on ties; padding never wins)."""
    N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW = pool_geometry("maxpool", x.shape, kernel_size,
                                                               stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)), constant_values=-np.inf)
    win = np.empty((N, C, OH, OW, KH * KW), x.dtype)
    for ki in range(KH):
        for kj in range(KW):
            win[..., ki * KW + kj] = xp[:, :, ki:ki + SH * OH:SH, kj:kj + SW * OW:SW]
    idx = win.argmax(axis=-1)                       # first maximum in row-major window order
    out = np.take_along_axis(win, idx[..., None], axis=-1)[..., 0]
    return out, idx.astype(np.int64)


def maxpool_backward(grad_out, idx, x_shape, kernel_size, stride=None, padding=0):
    """Scatter-add the output gradient onto the arg-max pixels (overlapping windows add up)."""
    N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW = pool_geometry("maxpool", x_shape, kernel_size,
                                                               stride, padding)
    # window offset -> pixel position inside the (H, W) plane
    h = np.arange(OH)[:, None] * SH - PH + idx // KW
    w = np.arange(OW)[None, :] * SW - PW + idx % KW
    gx = np.zeros((N * C, H * W), grad_out.dtype)
    rows = np.repeat(np.arange(N * C), OH * OW)
    np.add.at(gx, (rows, (h * W + w).reshape(-1)), grad_out.reshape(-1))
    return gx.reshape(N, C, H, W)

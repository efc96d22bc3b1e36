"""训练小工具：梯度裁剪 clip_grad_norm_ / clip_grad_value_。"""
import math

import numpy as np

from ..tensor import Tensor


def _with_grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """把所有梯度看成一个长向量，若其范数超过 max_norm，就整体等比缩小到 max_norm。

    total = (Σ_p ‖g_p‖^q)^{1/q}（q = norm_type，可为 inf）；scale = max_norm / (total + 1e-6)，
    scale < 1 时每个 p.grad 换成 g_p·scale 的新张量（不原地修改梯度数组：它们可能被共享）。
    Returns the total norm (before clipping) as a 0-d Tensor, like PyTorch."""
    params = _with_grads(parameters)
    q = float(norm_type)
    if not params:
        return Tensor(np.array(0.0, np.float32))
    dtype, device = params[0].grad.dtype, params[0].grad.device
    if device != "cpu" and all(p.grad.device == device for p in params):
        return _clip_grad_norm_device(params, float(max_norm), q, error_if_nonfinite, dtype, device)
    norms = []
    for p in params:
        g = p.grad.array
        xp = p.grad._xp
        a = xp.abs(g.astype(np.float64))
        if q == math.inf:
            norms.append(float(a.max()) if a.size else 0.0)
        elif q == 0:
            norms.append(float((a != 0).sum()))
        else:
            norms.append(float((a ** q).sum()) ** (1.0 / q) if a.size else 0.0)
    if q == math.inf:
        total = max(norms)
    elif q == 0:
        total = sum(norms)
    else:
        total = sum(n ** q for n in norms) ** (1.0 / q)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                           f"{total}, so they cannot be clipped (pass error_if_nonfinite=False to allow it)")
    scale = float(max_norm) / (total + 1e-6)
    if scale < 1.0:
        for p in params:
            g = p.grad
            p.grad = Tensor._make(g.array * g.dtype.type(scale), g.device, None, 0)
    return Tensor(np.array(total, dtype), dtype=dtype, device=device)


def _clip_grad_norm_device(params, max_norm, q, error_if_nonfinite, dtype, device):
    """clip_grad_norm_ on the GPU without a device-to-host sync (PyTorch's way): the total norm
    stays a device scalar, every gradient is multiplied by min(max_norm / (total + 1e-6), 1);
    the non-finite check is deferred to the next sync (``backend.check_later``)."""
    from .. import backend
    xp = params[0].grad._xp
    parts = []
    for p in params:
        a = xp.abs(p.grad.array.astype(np.float64))
        if q == math.inf:
            parts.append(a.max() if a.size else xp.zeros((), np.float64))
        elif q == 0:
            parts.append((a != 0).sum().astype(np.float64))
        else:
            parts.append((a ** q).sum())
    parts = xp.stack([x.reshape(()) for x in parts])
    if q == math.inf:
        total = parts.max()
    elif q == 0:
        total = parts.sum()
    else:
        total = parts.sum() ** (1.0 / q)
    if error_if_nonfinite:
        backend.check_later(~xp.isfinite(total), RuntimeError,
                            f"clip_grad_norm_: the total norm of order {q} of the gradients is not "
                            "finite, so they cannot be clipped (pass error_if_nonfinite=False to allow it)")
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for p in params:
        g = p.grad
        p.grad = Tensor._make(g.array * coef.astype(g.dtype), g.device, None, 0)
    return Tensor._make(total.astype(dtype), device, None, 0)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """把每个梯度元素截断到 [−clip_value, clip_value]（换成新的梯度张量）。"""
    v = float(clip_value)
    for p in _with_grads(parameters):
        g = p.grad
        p.grad = Tensor._make(g._xp.clip(g.array, -v, v), g.device, None, 0)

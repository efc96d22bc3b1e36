"""归一化层的融合运算：LayerNorm 与 BatchNorm（前向一次算完，反向用解析公式，而不是十几个小节点）。

Both normalise ``x̂ = (x - μ) / √(σ² + ε)`` over some axes and then apply ``y = γ x̂ + β``:

* LayerNorm: μ, σ² over the **last** ``n_axes`` dims of each sample; γ, β have those dims' shape.
* BatchNorm: μ, σ² per channel over every axis except 1 (batch and spatial axes); γ, β: (C,).

Backward of the normalisation (M = number of elements averaged, means over the same axes)::

    ∂L/∂x = (1/σ̂) · ( ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂) ),   ĝ = γ · ∂L/∂y,  σ̂ = √(σ² + ε)

The two extra terms appear because μ and σ² themselves depend on every x in the group.
"""
from ..autograd import Function
from ..backend import array_module
from ..errors import TensorError


def _norm_backward(gxhat, xhat, rstd, axes):
    """∂L/∂x from ∂L/∂x̂ when μ and σ² were computed over ``axes`` (shared by both layers)."""
    m1 = gxhat.mean(axis=axes, keepdims=True)
    m2 = (gxhat * xhat).mean(axis=axes, keepdims=True)
    return rstd * (gxhat - m1 - xhat * m2)


def moments(x, axes):
    """Mean and biased variance of a raw array over ``axes`` (kept as size-1 dims)."""
    mean = x.mean(axis=axes, keepdims=True)
    d = x - mean
    var = (d * d).mean(axis=axes, keepdims=True)
    return mean, var


class LayerNorm(Function):
    """y = γ ⊙ (x − μ)/√(σ² + ε) + β over the last ``n_axes`` dims.

    Inputs: x, then γ if ``has_weight``, then β if ``has_bias`` (both of shape x.shape[-n_axes:])."""

    def forward(self, x, *params, n_axes, eps=1e-5, has_weight=True, has_bias=True):
        if len(params) != int(has_weight) + int(has_bias):
            raise TensorError(f"layer_norm: got {len(params)} parameter arrays, expected "
                             f"{int(has_weight) + int(has_bias)} (has_weight={has_weight}, has_bias={has_bias})")
        norm_shape = x.shape[x.ndim - n_axes:]
        for p in params:
            if p.shape != norm_shape:
                raise TensorError(f"layer_norm: weight/bias shape {p.shape} does not match the normalized "
                                 f"shape {norm_shape} of the input of shape {x.shape}")
        xp = array_module(x)
        axes = tuple(range(x.ndim - n_axes, x.ndim))
        mean, var = moments(x, axes)
        rstd = 1 / xp.sqrt(var + x.dtype.type(eps))
        xhat = (x - mean) * rstd
        w = params[0] if has_weight else None
        b = params[-1] if has_bias else None
        y = xhat * w if w is not None else xhat.copy()
        if b is not None:
            y += b
        self.xhat, self.rstd, self.w, self.axes = xhat, rstd, w, axes
        self.has_weight, self.has_bias = has_weight, has_bias
        return y

    def backward(self, g):
        """y = γ x̂ + β, x̂ = (x − μ)/σ̂:  ∂L/∂γ = Σ_样本 g·x̂,  ∂L/∂β = Σ_样本 g,
        ∂L/∂x = (1/σ̂)(ĝ − mean ĝ − x̂·mean(ĝ x̂)), ĝ = γg —— μ、σ² 也依赖 x，所以要减去两项均值修正。"""
        xhat, w = self.xhat, self.w
        lead = tuple(range(g.ndim - len(self.axes)))
        out = []
        if self.needs_input_grad[0]:
            gxhat = g * w if w is not None else g
            out.append(_norm_backward(gxhat, xhat, self.rstd, self.axes))
        else:
            out.append(None)
        k = 1
        if self.has_weight:
            out.append((g * xhat).sum(axis=lead) if self.needs_input_grad[k] else None)
            k += 1
        if self.has_bias:
            out.append(g.sum(axis=lead) if self.needs_input_grad[k] else None)
        return tuple(out)


class BatchNorm(Function):
    """y = γ (x − μ)/√(σ² + ε) + β per channel (axis 1) of x: (N, C, *).

    ``mean`` / ``var`` (raw arrays of shape (1, C, 1, ...)) are given by the caller: the batch
    statistics in training mode (``batch_stats=True``, then they depend on x) or the running
    statistics in eval mode (constants). Inputs: x, then γ, β when ``affine``."""

    def forward(self, x, *params, mean, var, eps=1e-5, batch_stats=True):
        xp = array_module(x)
        c = x.shape[1]
        axes = (0,) + tuple(range(2, x.ndim))
        bshape = (1, c) + (1,) * (x.ndim - 2)
        for p in params:
            if p.shape != (c,):
                raise TensorError(f"batch_norm: weight/bias of shape {p.shape} do not match the {c} "
                                 f"channels of the input of shape {x.shape}")
        rstd = 1 / xp.sqrt(var.reshape(bshape) + x.dtype.type(eps))
        xhat = (x - mean.reshape(bshape)) * rstd
        w = params[0].reshape(bshape) if params else None
        y = xhat * w if w is not None else xhat.copy()
        if params:
            y += params[1].reshape(bshape)
        self.xhat, self.rstd, self.w, self.axes, self.batch_stats = xhat, rstd, w, axes, batch_stats
        return y

    def backward(self, g):
        """训练模式 (μ, σ² 是本批统计量):  ∂L/∂x = (1/σ̂)(ĝ − mean ĝ − x̂·mean(ĝ x̂))，均值在 N 与空间维上取；
        评估模式 (运行统计量是常数):  ∂L/∂x = ĝ/σ̂。两种模式都有 ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g。"""
        xhat, w, axes = self.xhat, self.w, self.axes
        gx = None
        if self.needs_input_grad[0]:
            gxhat = g * w if w is not None else g
            gx = _norm_backward(gxhat, xhat, self.rstd, axes) if self.batch_stats else gxhat * self.rstd
        if w is None:
            return gx
        gw = (g * xhat).sum(axis=axes) if self.needs_input_grad[1] else None
        gb = g.sum(axis=axes) if self.needs_input_grad[2] else None
        return gx, gw, gb

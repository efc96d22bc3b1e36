"""The catalogue: every differentiable core op listed ONCE, with its NumPy and PyTorch references
and a Hypothesis recipe for its inputs.  tests/test_ops_*.py check each entry against NumPy and
with gradcheck; tests/test_torch_core.py compares the same entries with PyTorch.

Input recipes keep values away from non-differentiable points (relu/abs at 0, clamp at its
bounds), put max/min inputs on a grid without ties, draw log/sqrt inputs from a positive range,
and sometimes hand non-contiguous (transposed / strided) arrays to the op.
"""
import math

import numpy as np
from hypothesis import assume, settings, strategies as st

import tinygrad_zh as tg
from tinygrad_zh.ops.index import Embedding
from tinygrad_zh.ops.matmul import Linear
from tinygrad_zh.ops.softmax import SoftmaxCrossEntropy
from tinygrad_zh.testing import strategies as S

from helpers import Case

SIDE = 3          # small sides keep gradcheck (one forward pair per element) fast

# ~110 entries: each gets a third of the profile's examples (CI: 8, locally: 16)
catalogue_settings = settings(max_examples=max(5, settings.default.max_examples // 3))


def _torch():
    import torch
    return torch


# ---------------------------------------------------------------------------- input recipes
def _shape(data, min_dims=0, max_dims=3):
    return data.draw(S.shapes(min_dims, max_dims, max_side=SIDE), label="shape")


def _array(data, shape, label="x", **kw):
    return data.draw(S.arrays(shape=shape, noncontiguous=None, **kw), label=label)


def unary(min_dims=0, max_dims=3, **kw):
    """One array of a small shape (0-d and size-1 dims included)."""
    def draw(data):
        return [_array(data, _shape(data, min_dims, max_dims), **kw)], {}
    return draw


def with_scalar(x=None, s=None):
    """One array and a Python float ``s`` (for ``x + s`` and ``s + x``)."""
    def draw(data):
        arr = _array(data, _shape(data), **(x or {}))
        return [arr], {"s": data.draw(S.scalars(**(s or {})), label="s")}
    return draw


def with_param(name, values, **kw):
    """One array and a parameter drawn from ``values`` (pow exponents, slopes)."""
    def draw(data):
        arr = _array(data, _shape(data), **kw)
        return [arr], {name: data.draw(st.sampled_from(values), label=name)}
    return draw


def broadcast(*element_kwargs, max_dims=4):
    """Arrays of mutually broadcastable shapes (missing and size-1 dims), one per kwargs dict."""
    def draw(data):
        shapes = data.draw(S.broadcastable_shapes(len(element_kwargs), max_dims=max_dims, max_side=SIDE),
                           label="shapes")
        return [_array(data, s, f"x{i}", **kw) for i, (s, kw) in enumerate(zip(shapes, element_kwargs))], {}
    return draw


def where_inputs():
    def draw(data):
        sc, sx, sy = data.draw(S.broadcastable_shapes(3, max_dims=3, max_side=SIDE), label="shapes")
        return [_array(data, sc, "cond", dtype="bool"), _array(data, sx, "x"), _array(data, sy, "y")], {}
    return draw


def reduction(dim="any", keepdim=True, min_dims=0, extra=None, **kw):
    """One array plus ``dim`` (None / int / tuple, negative too) and ``keepdim``."""
    def draw(data):
        arr = _array(data, _shape(data, 1 if dim == "int" else min_dims), **kw)
        kwargs = {}
        if dim == "int":
            kwargs["dim"] = data.draw(st.integers(-arr.ndim, arr.ndim - 1), label="dim")
        elif dim == "any":
            kwargs["dim"] = data.draw(S.axes(arr.ndim), label="dim")
        elif dim == "int_or_none":
            kwargs["dim"] = data.draw(S.axes(arr.ndim, allow_tuple=False), label="dim")
        if keepdim:
            kwargs["keepdim"] = data.draw(st.booleans(), label="keepdim")
        for k, v in (extra or {}).items():
            kwargs[k] = data.draw(v, label=k)
        return [arr], kwargs
    return draw


def _reduced_count(shape, dim):
    if dim is None:
        return int(np.prod(shape, dtype=np.int64))
    dims = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in dims], dtype=np.int64))


def var_inputs(distinct=False):
    base = reduction(extra={"unbiased": st.booleans()}, distinct=distinct)

    def draw(data):
        arrays, kw = base(data)
        # n - correction > 0; std (distinct values) also needs n > 1: √ has no derivative at 0
        assume(_reduced_count(arrays[0].shape, kw["dim"]) > (1 if kw["unbiased"] or distinct else 0))
        return arrays, kw
    return draw


def softmax_inputs(**kw):
    return reduction(dim="int", keepdim=False, **kw)


# a / b away from the jumps of ⌊a/b⌋ and trunc(a/b): numerators k + f with f in [0.2, 0.8], divisors ±1, ±2
# (so a/b is at least 0.1 from an integer), which keeps remainder / fmod / rounded division differentiable
NUMERATOR = st.builds(lambda k, f: k + f, st.integers(-3, 2), st.floats(0.2, 0.8))
DIVISOR = st.sampled_from([-2.0, -1.0, 1.0, 2.0])


def division_inputs(scalar=None):
    """Numerator and divisor arrays (broadcasting), or one array and a Python scalar ``s``:
    ``scalar="divisor"`` for ``x % s``, ``scalar="numerator"`` for ``s % x``."""
    def draw(data):
        if scalar is None:
            sa, sb = data.draw(S.broadcastable_shapes(2, max_dims=3, max_side=SIDE), label="shapes")
            return [_array(data, sa, "a", elements=NUMERATOR), _array(data, sb, "b", elements=DIVISOR)], {}
        elems, s = (NUMERATOR, DIVISOR) if scalar == "divisor" else (DIVISOR, NUMERATOR)
        return [_array(data, _shape(data), elements=elems)], {"s": data.draw(s, label="s")}
    return draw


def clamp_tensor_inputs():
    """x, lo, hi on interleaved grids (x never equals a bound), lo < 0 < hi; the bounds broadcast to x's
    shape (PyTorch refuses bounds that would make the result larger than x)."""
    def draw(data):
        sx, sl, sh = data.draw(S.broadcastable_shapes(3, max_dims=3, max_side=SIDE), label="shapes")
        sx = np.broadcast_shapes(sx, sl, sh)
        return [_array(data, sx, "x", grid_step=0.1, grid_phase=0.25),
                _array(data, sl, "lo", grid_step=0.1, grid_phase=0.75, min_value=-2.0, max_value=-0.1),
                _array(data, sh, "hi", grid_step=0.1, grid_phase=0.75, min_value=0.1, max_value=2.0)], {}
    return draw


def cumulative_inputs(**kw):
    """One array (at least 1-D) and ``dim`` (negative too)."""
    return reduction(dim="int", keepdim=False, **kw)


# ---------------------------------------------------------------------------- NumPy references
def np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def np_gelu(a):
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return a * 0.5 * (1.0 + erf(a / math.sqrt(2.0)))


def np_softmax(a, dim):
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def np_log_softmax(a, dim):
    z = a - a.max(axis=dim, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=dim, keepdims=True))


def np_logsumexp(a, dim, keepdim):
    m = a.max(axis=dim, keepdims=True)
    out = np.log(np.exp(a - m).sum(axis=dim, keepdims=True)) + m
    if not keepdim:
        out = out.squeeze(axis=dim) if dim is not None else out.reshape(())
    return out


def _tdim(x, dim):
    """PyTorch spelling of 'all dims' for functions that insist on a dim."""
    return tuple(range(x.ndim)) if dim is None else dim


# ---------------------------------------------------------------------------- elementwise
POS = dict(positive=True)
NOT_NEAR_0 = dict(away_from=(0.0,), margin=0.3)

ELEMENTWISE = [
    Case("neg", lambda x: -x, np.negative, unary(), torch=lambda x: -x),
    Case("neg_method", lambda x: x.neg(), np.negative, unary(), torch=lambda x: x.neg()),
    Case("exp", lambda x: x.exp(), np.exp, unary(), torch=lambda x: x.exp()),
    Case("log", lambda x: x.log(), np.log, unary(**POS), torch=lambda x: x.log()),
    Case("sqrt", lambda x: x.sqrt(), np.sqrt, unary(**POS), torch=lambda x: x.sqrt()),
    Case("abs", lambda x: x.abs(), np.abs, unary(), torch=lambda x: x.abs()),
    Case("tanh", lambda x: x.tanh(), np.tanh, unary(), torch=lambda x: x.tanh()),
    Case("sigmoid", lambda x: x.sigmoid(), np_sigmoid, unary(min_value=-6, max_value=6),
         torch=lambda x: x.sigmoid()),
    Case("relu", lambda x: x.relu(), lambda a: np.maximum(a, 0.0), unary(), torch=lambda x: x.relu()),
    Case("leaky_relu", lambda x, slope: x.leaky_relu(slope),
         lambda a, slope: np.where(a > 0, a, a * slope), with_param("slope", [0.01, 0.2, 1.5]),
         torch=lambda x, slope: _torch().nn.functional.leaky_relu(x, slope)),
    Case("gelu", lambda x: x.gelu(), np_gelu, unary(min_value=-4, max_value=4),
         torch=lambda x: _torch().nn.functional.gelu(x)),
    Case("clamp", lambda x: x.clamp(-1.0, 1.0), lambda a: np.clip(a, -1.0, 1.0),
         unary(away_from=(-1.0, 1.0)), torch=lambda x: x.clamp(-1.0, 1.0)),
    Case("clamp_min", lambda x: x.clamp(min=-0.5), lambda a: np.maximum(a, -0.5),
         unary(away_from=(-0.5,)), torch=lambda x: x.clamp(min=-0.5)),
    Case("clamp_max", lambda x: x.clamp(max=0.5), lambda a: np.minimum(a, 0.5),
         unary(away_from=(0.5,)), torch=lambda x: x.clamp(max=0.5)),
    # x ** p with a Python exponent: integer powers on any base, negative ones away from 0,
    # fractional ones on a positive base
    Case("pow_int", lambda x, p: x ** p, lambda a, p: a ** p, with_param("p", [0, 1, 2, 3]),
         torch=lambda x, p: x ** p),
    Case("pow_negative", lambda x, p: x ** p, lambda a, p: a ** float(p),
         with_param("p", [-1, -2], **NOT_NEAR_0), torch=lambda x, p: x ** p),
    Case("pow_fraction", lambda x, p: x ** p, lambda a, p: a ** p,
         with_param("p", [0.5, 1.5, -0.5, 2.0], **POS), torch=lambda x, p: x ** p),
    # a Python scalar on either side
    Case("add_scalar", lambda x, s: x + s, lambda a, s: a + s, with_scalar(), torch=lambda x, s: x + s),
    Case("radd_scalar", lambda x, s: s + x, lambda a, s: s + a, with_scalar(), torch=lambda x, s: s + x),
    Case("sub_scalar", lambda x, s: x - s, lambda a, s: a - s, with_scalar(), torch=lambda x, s: x - s),
    Case("rsub_scalar", lambda x, s: s - x, lambda a, s: s - a, with_scalar(), torch=lambda x, s: s - x),
    Case("mul_scalar", lambda x, s: x * s, lambda a, s: a * s, with_scalar(), torch=lambda x, s: x * s),
    Case("rmul_scalar", lambda x, s: s * x, lambda a, s: s * a, with_scalar(), torch=lambda x, s: s * x),
    Case("div_scalar", lambda x, s: x / s, lambda a, s: a / s, with_scalar(s=NOT_NEAR_0),
         torch=lambda x, s: x / s),
    Case("rdiv_scalar", lambda x, s: s / x, lambda a, s: s / a, with_scalar(x=NOT_NEAR_0),
         torch=lambda x, s: s / x),
    Case("rpow_scalar", lambda x, s: s ** x, lambda a, s: s ** a,
         with_scalar(x=dict(min_value=-2, max_value=2), s=dict(positive=True)), torch=lambda x, s: s ** x),
    # two tensors, broadcasting
    Case("add", lambda a, b: a + b, np.add, broadcast({}, {}), torch=lambda a, b: a + b),
    Case("sub", lambda a, b: a - b, np.subtract, broadcast({}, {}), torch=lambda a, b: a - b),
    Case("mul", lambda a, b: a * b, np.multiply, broadcast({}, {}), torch=lambda a, b: a * b),
    Case("div", lambda a, b: a / b, np.divide, broadcast({}, NOT_NEAR_0), torch=lambda a, b: a / b),
    Case("pow", lambda a, b: a ** b, np.power, broadcast(POS, dict(min_value=-2, max_value=2)),
         torch=lambda a, b: a ** b),
    Case("add_method", lambda a, b: a.add(b).mul(b).sub(a).div(b.abs() + 1), 
         lambda a, b: (((a + b) * b) - a) / (np.abs(b) + 1), broadcast({}, {}),
         torch=lambda a, b: a.add(b).mul(b).sub(a).div(b.abs() + 1)),
    # values of a and b on interleaved grids: never equal, so max/min have no ties
    Case("maximum", lambda a, b: tg.maximum(a, b), np.maximum,
         broadcast(dict(grid_step=0.1, grid_phase=0.25), dict(grid_step=0.1, grid_phase=0.75)),
         torch=lambda a, b: _torch().maximum(a, b)),
    Case("minimum", lambda a, b: a.minimum(b), np.minimum,
         broadcast(dict(grid_step=0.1, grid_phase=0.25), dict(grid_step=0.1, grid_phase=0.75)),
         torch=lambda a, b: _torch().minimum(a, b)),
    Case("where", lambda c, x, y: tg.where(c, x, y), np.where, where_inputs(),
         torch=lambda c, x, y: _torch().where(c, x, y)),
    Case("log1p", lambda x: x.log1p(), np.log1p, unary(min_value=-0.8, max_value=3.0),
         torch=lambda x: x.log1p()),
    Case("expm1", lambda x: tg.expm1(x), np.expm1, unary(), torch=lambda x: _torch().expm1(x)),
    Case("clamp_min_method", lambda x: x.clamp_min(-0.5), lambda a: np.maximum(a, -0.5),
         unary(away_from=(-0.5,)), torch=lambda x: x.clamp_min(-0.5)),
    Case("clamp_max_function", lambda x: tg.clamp_max(x, 0.5), lambda a: np.minimum(a, 0.5),
         unary(away_from=(0.5,)), torch=lambda x: _torch().clamp_max(x, 0.5)),
    Case("clamp_tensor_bounds", lambda x, lo, hi: x.clamp(lo, hi), np.clip, clamp_tensor_inputs(),
         torch=lambda x, lo, hi: x.clamp(lo, hi)),
    # the division family: Python-sign remainder, C-sign fmod, rounded division (gradient 0 like PyTorch)
    Case("remainder", lambda a, b: a % b, np.remainder, division_inputs(), torch=lambda a, b: a % b),
    Case("remainder_method", lambda a, b: a.remainder(b), np.remainder, division_inputs(),
         torch=lambda a, b: a.remainder(b)),
    Case("mod_scalar", lambda x, s: x % s, lambda a, s: np.remainder(a, s), division_inputs("divisor"), torch=lambda x, s: x % s),
    # PyTorch's Scalar % Tensor has no derivative (backward raises); ours has the one of Tensor % Tensor,
    # which is what PyTorch computes for a 0-d tensor numerator
    Case("rmod_scalar", lambda x, s: s % x, lambda a, s: np.remainder(s, a), division_inputs("numerator"),
         torch=lambda x, s: _torch().tensor(s, dtype=x.dtype) % x),
    Case("fmod", lambda a, b: a.fmod(b), np.fmod, division_inputs(), torch=lambda a, b: a.fmod(b)),
    Case("fmod_scalar", lambda x, s: tg.fmod(x, s), lambda a, s: np.fmod(a, s), division_inputs("divisor"),
         torch=lambda x, s: _torch().fmod(x, s)),
    Case("div_floor", lambda a, b: a.div(b, rounding_mode="floor"), np.floor_divide, division_inputs(),
         torch=lambda a, b: a.div(b, rounding_mode="floor")),
    Case("div_trunc", lambda a, b: tg.divide(a, b, rounding_mode="trunc"), lambda a, b: np.trunc(a / b),
         division_inputs(), torch=lambda a, b: _torch().divide(a, b, rounding_mode="trunc")),
    # a // b has no derivative in PyTorch (backward raises): values and dtypes only
    Case("floordiv", lambda a, b: a // b, np.floor_divide, division_inputs(), grad=False,
         torch=lambda a, b: a // b),
    Case("rfloordiv_scalar", lambda x, s: s // x, lambda a, s: np.floor_divide(s, a),
         division_inputs("numerator"), grad=False, torch=lambda x, s: s // x),
]

# ---------------------------------------------------------------------------- reductions
DISTINCT = dict(distinct=True)

REDUCE = [
    Case("sum", lambda x, dim, keepdim: x.sum(dim, keepdim),
         lambda a, dim, keepdim: a.sum(axis=dim, keepdims=keepdim), reduction(),
         torch=lambda x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim)),
    Case("mean", lambda x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim),
         lambda a, dim, keepdim: a.mean(axis=dim, keepdims=keepdim), reduction(),
         torch=lambda x, dim, keepdim: x.mean(dim=dim, keepdim=keepdim)),
    Case("max_all", lambda x: x.max(), lambda a: a.max(), unary(**DISTINCT), torch=lambda x: x.max()),
    Case("min_all", lambda x: x.min(), lambda a: a.min(), unary(**DISTINCT), torch=lambda x: x.min()),
    # max(dim) / min(dim) return (values, indices); gradcheck differentiates the values
    Case("max_dim", lambda x, dim, keepdim: x.max(dim, keepdim),
         lambda a, dim, keepdim: (a.max(axis=dim, keepdims=keepdim), a.argmax(axis=dim, keepdims=keepdim)),
         reduction(dim="int", **DISTINCT), torch=lambda x, dim, keepdim: tuple(x.max(dim, keepdim))),
    Case("min_dim", lambda x, dim, keepdim: x.min(dim=dim, keepdim=keepdim),
         lambda a, dim, keepdim: (a.min(axis=dim, keepdims=keepdim), a.argmin(axis=dim, keepdims=keepdim)),
         reduction(dim="int", **DISTINCT), torch=lambda x, dim, keepdim: tuple(x.min(dim, keepdim))),
    Case("amax", lambda x, dim, keepdim: x.amax(dim, keepdim),
         lambda a, dim, keepdim: a.max(axis=dim, keepdims=keepdim), reduction(**DISTINCT),
         torch=lambda x, dim, keepdim: x.amax(_tdim(x, dim), keepdim)),
    Case("amin", lambda x, dim, keepdim: x.amin(dim, keepdim),
         lambda a, dim, keepdim: a.min(axis=dim, keepdims=keepdim), reduction(**DISTINCT),
         torch=lambda x, dim, keepdim: x.amin(_tdim(x, dim), keepdim)),
    Case("logsumexp", lambda x, dim, keepdim: x.logsumexp(dim, keepdim), np_logsumexp, reduction(),
         torch=lambda x, dim, keepdim: x.logsumexp(_tdim(x, dim), keepdim)),
    Case("var", lambda x, dim, keepdim, unbiased: x.var(dim, unbiased=unbiased, keepdim=keepdim),
         lambda a, dim, keepdim, unbiased: a.var(axis=dim, ddof=int(unbiased), keepdims=keepdim),
         var_inputs(), torch=lambda x, dim, keepdim, unbiased: x.var(dim, unbiased=unbiased, keepdim=keepdim)),
    Case("std", lambda x, dim, keepdim, unbiased: x.std(dim, unbiased=unbiased, keepdim=keepdim),
         lambda a, dim, keepdim, unbiased: a.std(axis=dim, ddof=int(unbiased), keepdims=keepdim),
         var_inputs(distinct=True),
         torch=lambda x, dim, keepdim, unbiased: x.std(dim, unbiased=unbiased, keepdim=keepdim)),
    # not differentiable: integer results, checked for values and dtype only
    Case("argmax", lambda x, dim, keepdim: x.argmax(dim, keepdim),
         lambda a, dim, keepdim: a.argmax(axis=dim, keepdims=keepdim),
         reduction(dim="int_or_none", min_dims=1, **DISTINCT), grad=False,
         torch=lambda x, dim, keepdim: x.argmax(dim, keepdim)),
    Case("argmin", lambda x, dim, keepdim: x.argmin(dim=dim, keepdim=keepdim),
         lambda a, dim, keepdim: a.argmin(axis=dim, keepdims=keepdim),
         reduction(dim="int_or_none", min_dims=1, **DISTINCT), grad=False,
         torch=lambda x, dim, keepdim: x.argmin(dim, keepdim)),
    # cumulative sums and products along one dim
    Case("cumsum", lambda x, dim: x.cumsum(dim), lambda a, dim: np.cumsum(a, axis=dim), cumulative_inputs(),
         torch=lambda x, dim: x.cumsum(dim)),
    Case("cumsum_axis", lambda x, dim: tg.cumsum(x, axis=dim), lambda a, dim: np.cumsum(a, axis=dim),
         cumulative_inputs(), torch=lambda x, dim: _torch().cumsum(x, dim)),
    Case("cumprod", lambda x, dim: x.cumprod(dim), lambda a, dim: np.cumprod(a, axis=dim), cumulative_inputs(),
         torch=lambda x, dim: x.cumprod(dim)),
    # exact zeros (one or several per row): the gradient cannot divide by x there
    Case("cumprod_zeros", lambda x, dim: tg.cumprod(x, dim), lambda a, dim: np.cumprod(a, axis=dim),
         cumulative_inputs(elements=st.sampled_from([0.0, 0.0, 0.5, -1.5, 2.0, -0.75, 1.25])),
         torch=lambda x, dim: _torch().cumprod(x, dim)),
]

SOFTMAX = [
    Case("softmax", lambda x, dim: x.softmax(dim), np_softmax, softmax_inputs(min_value=-5, max_value=5),
         torch=lambda x, dim: x.softmax(dim)),
    Case("log_softmax", lambda x, dim: x.log_softmax(dim), np_log_softmax,
         softmax_inputs(min_value=-5, max_value=5), torch=lambda x, dim: x.log_softmax(dim)),
]


# ---------------------------------------------------------------------------- shape
@st.composite
def _reshape_target(draw, shape):
    target = list(draw(st.permutations(list(shape))))
    for _ in range(draw(st.integers(0, 2))):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


def reshape_inputs():
    def draw(data):
        arr = _array(data, _shape(data))
        return [arr], {"shape": data.draw(_reshape_target(arr.shape), label="target")}
    return draw


def flatten_inputs():
    def draw(data):
        arr = _array(data, _shape(data, 1))
        s = data.draw(st.integers(0, arr.ndim - 1), label="start")
        e = data.draw(st.integers(s, arr.ndim - 1), label="end")
        neg = data.draw(st.booleans(), label="negative")
        return [arr], {"start": s - arr.ndim if neg else s, "end": e - arr.ndim if neg else e}
    return draw


def np_flatten(a, start, end):
    s, e = start % a.ndim, end % a.ndim
    return a.reshape(a.shape[:s] + (-1,) + a.shape[e + 1:])


def two_dims():
    def draw(data):
        arr = _array(data, _shape(data, 1))
        d = st.integers(-arr.ndim, arr.ndim - 1)
        return [arr], {"d0": data.draw(d, label="d0"), "d1": data.draw(d, label="d1")}
    return draw


def permute_inputs():
    def draw(data):
        arr = _array(data, _shape(data, 1, 4))
        return [arr], {"perm": tuple(data.draw(st.permutations(range(arr.ndim)), label="perm"))}
    return draw


def unsqueeze_inputs():
    def draw(data):
        arr = _array(data, _shape(data))
        return [arr], {"dim": data.draw(st.integers(-arr.ndim - 1, arr.ndim), label="dim")}
    return draw


def expand_inputs():
    def draw(data):
        arr = _array(data, _shape(data))
        target = [data.draw(st.integers(1, SIDE)) for _ in range(data.draw(st.integers(0, 2)))]
        for n in arr.shape:
            target.append(data.draw(st.sampled_from([n, -1] if n != 1 else [1, 2, 3, -1])))
        return [arr], {"shape": tuple(target)}
    return draw


def np_expand(a, shape):
    lead = len(shape) - a.ndim
    full = tuple(a.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    return np.broadcast_to(a, full)


def cat_inputs(same_shape=False):
    def draw(data):
        base = list(_shape(data, 0 if same_shape else 1))
        k = data.draw(st.integers(1, 3), label="n_tensors")
        if same_shape:
            dim = data.draw(st.integers(-len(base) - 1, len(base)), label="dim")
            return [_array(data, tuple(base), f"x{i}") for i in range(k)], {"dim": dim}
        dim = data.draw(st.integers(-len(base), len(base) - 1), label="dim")
        arrays = []
        for i in range(k):
            base[dim] = data.draw(st.integers(1, SIDE))
            arrays.append(_array(data, tuple(base), f"x{i}"))
        return arrays, {"dim": dim}
    return draw


def split_inputs(kind):
    def draw(data):
        arr = _array(data, _shape(data, 1))
        dim = data.draw(st.integers(-arr.ndim, arr.ndim - 1), label="dim")
        n = arr.shape[dim]
        if kind == "size":
            arg = data.draw(st.integers(1, n + 1), label="split_size")
        elif kind == "sections":
            cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3), label="cuts"))
            arg = [b - a for a, b in zip([0] + cuts, cuts + [n])]
        else:
            arg = data.draw(st.integers(1, n + 1), label="chunks")
        return [arr], {"arg": arg, "dim": dim}
    return draw


def _pieces_np(a, sizes, dim):
    out, start = [], 0
    for k in sizes:
        out.append(np.take(a, np.arange(start, start + k), axis=dim))
        start += k
    return out


def _split_sizes(n, arg, kind):
    if kind == "sections":
        return list(arg)
    step = arg if kind == "size" else -(-n // arg)
    return [min(step, n - s) for s in range(0, n, step)]


def _weighted_cat(pieces, dim, cat):
    """Each piece times a different weight, glued back: checks both the order and the gradients."""
    return cat([p * float(i + 1) for i, p in enumerate(pieces)], dim)


def np_split(kind):
    def f(a, arg, dim):
        return _weighted_cat(_pieces_np(a, _split_sizes(a.shape[dim], arg, kind), dim), dim,
                             lambda ps, d: np.concatenate(ps, axis=d))
    return f


def tg_split(x, arg, dim):
    return _weighted_cat(x.split(arg, dim), dim, tg.cat)


def tg_chunk(x, arg, dim):
    return _weighted_cat(x.chunk(arg, dim), dim, tg.cat)


def torch_split(x, arg, dim):
    return _weighted_cat(x.split(arg, dim), dim, _torch().cat)


def torch_chunk(x, arg, dim):
    # PyTorch's chunk may return fewer pieces than asked; so does ours (same rule: ceil(n/chunks))
    return _weighted_cat(x.chunk(arg, dim), dim, _torch().cat)


def np_squeeze_dim(a, dim):
    return np.squeeze(a, axis=dim) if a.shape[dim] == 1 else a


def flip_inputs():
    def draw(data):
        arr = _array(data, _shape(data, 1))
        dims = data.draw(st.lists(st.integers(0, arr.ndim - 1), min_size=1, max_size=arr.ndim, unique=True),
                         label="dims")
        neg = data.draw(st.booleans(), label="negative")
        return [arr], {"dims": tuple(d - arr.ndim if neg else d for d in dims)}
    return draw


def triangle_inputs():
    def draw(data):
        arr = _array(data, _shape(data, 2, 4))
        return [arr], {"diagonal": data.draw(st.integers(-3, 3), label="diagonal")}
    return draw


def repeat_interleave_inputs(tensor_repeats=False):
    """int repeats (0 included) with dim None / int, or one count per element along dim."""
    def draw(data):
        arr = _array(data, _shape(data, 1))
        if tensor_repeats:
            dim = data.draw(st.integers(-arr.ndim, arr.ndim - 1), label="dim")
            reps = data.draw(st.lists(st.integers(0, 3), min_size=arr.shape[dim], max_size=arr.shape[dim]),
                             label="repeats")
            return [arr], {"repeats": np.array(reps, np.int64), "dim": dim}
        dim = data.draw(st.one_of(st.none(), st.integers(-arr.ndim, arr.ndim - 1)), label="dim")
        return [arr], {"repeats": data.draw(st.integers(0, 3), label="repeats"), "dim": dim}
    return draw


def _repeat_arg(reps, module):
    return module.tensor(reps) if isinstance(reps, np.ndarray) else reps


def hvstack_inputs(kind):
    """hstack: 0-d / 1-D pieces of any length, or n-D pieces that differ only in dim 1;
    vstack: 0-d / 1-D pieces of one length, or n-D pieces that differ only in dim 0."""
    def draw(data):
        k = data.draw(st.integers(1, 3), label="n_tensors")
        flat = data.draw(st.booleans(), label="0-d/1-D")
        if flat:
            n = data.draw(st.integers(1, SIDE), label="length")
            shapes = [data.draw(st.sampled_from([(), (data.draw(st.integers(1, SIDE)),)] if kind == "h"
                                                else [(n,)] + ([()] if n == 1 else []))) for _ in range(k)]
        else:
            base = list(_shape(data, 2 if kind == "h" else 2, 3))
            axis = 1 if kind == "h" else 0
            shapes = []
            for _ in range(k):
                base[axis] = data.draw(st.integers(1, SIDE))
                shapes.append(tuple(base))
        return [_array(data, s, f"x{i}") for i, s in enumerate(shapes)], {}
    return draw


def np_hstack(*a):
    return np.hstack(a)


def np_vstack(*a):
    return np.vstack(a)


SHAPE = [
    Case("reshape", lambda x, shape: x.reshape(shape), lambda a, shape: a.reshape(shape),
         reshape_inputs(), torch=lambda x, shape: x.reshape(shape)),
    Case("view", lambda x, shape: x.view(*shape), lambda a, shape: a.reshape(shape), reshape_inputs(),
         torch=lambda x, shape: x.reshape(shape)),
    Case("flatten", lambda x, start, end: x.flatten(start, end), np_flatten, flatten_inputs(),
         torch=lambda x, start, end: x.flatten(start, end)),
    Case("flatten_all", lambda x: x.flatten(), lambda a: a.reshape(-1), unary(),
         torch=lambda x: x.flatten()),
    Case("transpose", lambda x, d0, d1: x.transpose(d0, d1), lambda a, d0, d1: np.swapaxes(a, d0, d1),
         two_dims(), torch=lambda x, d0, d1: x.transpose(d0, d1)),
    Case("permute", lambda x, perm: x.permute(*perm), lambda a, perm: np.transpose(a, perm),
         permute_inputs(), torch=lambda x, perm: x.permute(*perm)),
    Case("T", lambda x: x.T, lambda a: a.T, unary(max_dims=4),
         torch=lambda x: x.permute(tuple(reversed(range(x.ndim))))),
    Case("squeeze", lambda x: x.squeeze(), np.squeeze, unary(max_dims=4), torch=lambda x: x.squeeze()),
    Case("squeeze_dim", lambda x, dim: x.squeeze(dim), np_squeeze_dim, reduction(dim="int", keepdim=False),
         torch=lambda x, dim: x.squeeze(dim)),
    Case("unsqueeze", lambda x, dim: x.unsqueeze(dim), lambda a, dim: np.expand_dims(a, dim),
         unsqueeze_inputs(), torch=lambda x, dim: x.unsqueeze(dim)),
    Case("expand", lambda x, shape: x.expand(*shape), np_expand, expand_inputs(),
         torch=lambda x, shape: x.expand(shape)),
    Case("cat", lambda *xs, dim: tg.cat(xs, dim), lambda *a, dim: np.concatenate(a, axis=dim),
         cat_inputs(), torch=lambda *xs, dim: _torch().cat(xs, dim)),
    Case("stack", lambda *xs, dim: tg.stack(xs, dim), lambda *a, dim: np.stack(a, axis=dim),
         cat_inputs(same_shape=True), torch=lambda *xs, dim: _torch().stack(xs, dim)),
    Case("split_size", tg_split, np_split("size"), split_inputs("size"), torch=torch_split),
    Case("split_sections", tg_split, np_split("sections"), split_inputs("sections"), torch=torch_split),
    Case("chunk", tg_chunk, np_split("chunks"), split_inputs("chunks"), torch=torch_chunk),
    Case("flip", lambda x, dims: x.flip(dims), lambda a, dims: np.flip(a, dims), flip_inputs(),
         torch=lambda x, dims: x.flip(dims)),
    Case("flip_function", lambda x, dims: tg.flip(x, dims=list(dims)), lambda a, dims: np.flip(a, dims),
         flip_inputs(), torch=lambda x, dims: _torch().flip(x, dims=list(dims))),
    Case("triu", lambda x, diagonal: x.triu(diagonal), lambda a, diagonal: np.triu(a, diagonal),
         triangle_inputs(), torch=lambda x, diagonal: x.triu(diagonal)),
    Case("tril", lambda x, diagonal: tg.tril(x, diagonal=diagonal), lambda a, diagonal: np.tril(a, diagonal),
         triangle_inputs(), torch=lambda x, diagonal: _torch().tril(x, diagonal=diagonal)),
    Case("repeat_interleave", lambda x, repeats, dim: x.repeat_interleave(repeats, dim),
         lambda a, repeats, dim: np.repeat(a, repeats, axis=dim), repeat_interleave_inputs(),
         torch=lambda x, repeats, dim: x.repeat_interleave(repeats, dim)),
    Case("repeat_interleave_tensor",
         lambda x, repeats, dim: tg.repeat_interleave(x, _repeat_arg(repeats, tg), dim=dim),
         lambda a, repeats, dim: np.repeat(a, repeats, axis=dim), repeat_interleave_inputs(tensor_repeats=True),
         torch=lambda x, repeats, dim: _torch().repeat_interleave(x, _repeat_arg(repeats, _torch()), dim=dim)),
    Case("hstack", lambda *xs: tg.hstack(xs), np_hstack, hvstack_inputs("h"),
         torch=lambda *xs: _torch().hstack(xs)),
    Case("vstack", lambda *xs: tg.vstack(list(xs)), np_vstack, hvstack_inputs("v"),
         torch=lambda *xs: _torch().vstack(list(xs))),
    Case("mT", lambda x: x.mT, lambda a: np.swapaxes(a, -1, -2), unary(min_dims=2, max_dims=4),
         torch=lambda x: x.mT),
]


# ---------------------------------------------------------------------------- indexing
def to_tg_key(key):
    """NumPy arrays inside an index -> tg.Tensors (lists, ints, slices, None, ... stay)."""
    conv = lambda k: tg.Tensor(k, dtype=k.dtype) if isinstance(k, np.ndarray) else k  # noqa: E731
    return tuple(conv(k) for k in key) if isinstance(key, tuple) else conv(key)


def to_torch_key(key):
    torch = _torch()
    conv = lambda k: torch.as_tensor(k) if isinstance(k, np.ndarray) else k  # noqa: E731
    return tuple(conv(k) for k in key) if isinstance(key, tuple) else conv(key)


@st.composite
def _slice(draw, n, negative_step=False):
    bound = st.one_of(st.none(), st.integers(-n - 1, n + 1))
    steps = [None, 1, 2] + ([-1, -2] if negative_step else [])
    return slice(draw(bound), draw(bound), draw(st.sampled_from(steps)))


def _int_array(draw, n, max_len=5, two_d=False):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) if two_d else (draw(st.integers(1, max_len)),)
    return np.array(draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(shape)),
                                  max_size=int(np.prod(shape))))).reshape(shape).astype(np.int64)


def index_inputs(kind):
    @st.composite
    def key_for(draw, shape):
        n0 = shape[0]
        if kind == "int":
            return draw(st.integers(-n0, n0 - 1))
        if kind == "ints":
            return tuple(draw(st.integers(-n, n - 1)) for n in shape[:draw(st.integers(1, len(shape)))])
        if kind in ("slices", "slices_negative_step"):
            k = draw(st.integers(1, len(shape)))
            return tuple(draw(_slice(n, kind == "slices_negative_step")) for n in shape[:k])
        if kind == "none_ellipsis":
            return draw(st.sampled_from([
                (None,), (Ellipsis,), (None, Ellipsis), (Ellipsis, None), (Ellipsis, 0),
                (None, slice(None), None), (0, None), (Ellipsis, slice(None, 1)), (slice(1, None), Ellipsis)]))
        if kind == "int_array":              # repeats are likely: their gradients must add up
            return _int_array(draw, n0, two_d=draw(st.booleans()))
        if kind == "int_list":
            return [int(i) for i in _int_array(draw, n0)]
        if kind == "bool_mask":
            k = draw(st.integers(1, len(shape)))
            return np.array(draw(st.lists(st.booleans(), min_size=int(np.prod(shape[:k])),
                                          max_size=int(np.prod(shape[:k]))))).reshape(shape[:k])
        if kind == "mixed":
            idx = _int_array(draw, shape[1]) if len(shape) > 1 else None
            if idx is None:
                return (_int_array(draw, n0), Ellipsis)
            return draw(st.sampled_from([
                (slice(None), idx), (Ellipsis, _int_array(draw, shape[-1])),
                (_int_array(draw, n0), slice(None)), (0, idx),
                (_int_array(draw, n0, max_len=1), idx)]))    # two arrays broadcast together
        raise ValueError(kind)

    def draw(data):
        arr = _array(data, _shape(data, 2 if kind == "mixed" else 1))
        return [arr], {"key": data.draw(key_for(arr.shape), label="key")}
    return draw


def _index_case(kind, torch_ok=True):
    return Case(f"getitem_{kind}", lambda x, key: x[to_tg_key(key)], lambda a, key: a[key],
                index_inputs(kind), torch=(lambda x, key: x[to_torch_key(key)]) if torch_ok else None)


INDEX = [_index_case(k) for k in ("int", "ints", "slices", "none_ellipsis", "int_array", "int_list",
                                  "bool_mask", "mixed")] + [_index_case("slices_negative_step", False)]


# ---------------------------------------------------------------------------- matmul and fused ops
def matmul_inputs():
    def draw(data):
        sa, sb = data.draw(S.matmul_shapes(max_side=SIDE), label="shapes")
        return [_array(data, sa, "a"), _array(data, sb, "b")], {}
    return draw


def linear_inputs():
    def draw(data):
        lead = data.draw(S.shapes(1, 2, max_side=SIDE), label="batch")
        fin, fout = data.draw(st.integers(1, SIDE)), data.draw(st.integers(1, SIDE))
        arrays = [_array(data, lead + (fin,), "x"), _array(data, (fout, fin), "w")]
        if data.draw(st.booleans(), label="bias"):
            arrays.append(_array(data, (fout,), "b"))
        return arrays, {}
    return draw


def np_linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def cross_entropy_inputs():
    def draw(data):
        n, c = data.draw(st.integers(1, 4), label="N"), data.draw(st.integers(2, 4), label="C")
        logits = _array(data, (n, c), "logits", min_value=-4, max_value=4)
        target = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n), label="target"))
        ignored = data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label="ignored")
        ignored[0] = False                     # at least one counted row (PyTorch gives nan otherwise)
        target = np.where(ignored, -100, target).astype(np.int64)
        return [logits, target], {"reduction": data.draw(st.sampled_from(["mean", "sum", "none"]))}
    return draw


def np_cross_entropy(x, target, reduction):
    logp = np_log_softmax(x, 1)
    valid = target != -100
    nll = np.where(valid, -logp[np.arange(len(x)), np.where(valid, target, 0)], 0.0)
    if reduction == "none":
        return nll
    return nll.sum() / valid.sum() if reduction == "mean" else nll.sum()


def embedding_inputs():
    def draw(data):
        n, d = data.draw(st.integers(1, 4), label="rows"), data.draw(st.integers(1, 3), label="dim")
        idx_shape = data.draw(S.shapes(1, 2, max_side=3), label="idx_shape")
        idx = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=int(np.prod(idx_shape)),
                                          max_size=int(np.prod(idx_shape))))).reshape(idx_shape)
        return [_array(data, (n, d), "weight"), idx.astype(np.int64)], {}
    return draw


# one equation per example: matmul, batched, diagonal / trace (repeated labels), sums, outer products, three
# operands, '...' with broadcasting batch dims, implicit outputs (no '->')
EINSUM_EQUATIONS = ["ij,jk->ik", "ij,jk", "bij,bjk->bik", "ii->i", "ii", "iij,jk->ik", "ij->ji", "ij->", "ij->j",
                    "i,i->", "i,j->ij", "ij,ij->ij", "ij,jk,kl->il", "bn,anm,bm->ba", "ba", "ij,j",
                    "...ij,...jk->...ik", "...i,...i->...", "i...->...", "b...,b->..."]


def einsum_inputs():
    """An equation, a size per label, and sometimes a label of size 1 in one operand (PyTorch broadcasts it)."""
    def draw(data):
        eq = data.draw(st.sampled_from(EINSUM_EQUATIONS), label="equation")
        terms = eq.split("->")[0].split(",")
        sizes = {c: data.draw(st.integers(1, SIDE), label=f"size {c}") for c in sorted(set(eq) - set(".,->"))}
        n_ell = sum("..." in t for t in terms)
        ell = iter(data.draw(S.broadcastable_shapes(n_ell, max_dims=2, max_side=SIDE), label="...") if n_ell else [])
        arrays = []
        for i, t in enumerate(terms):
            head, _, tail = t.partition("...")
            own = dict(sizes)
            single = [c for c in t if c.isalpha() and t.count(c) == 1]
            if single and data.draw(st.integers(0, 3), label=f"broadcast in x{i}") == 0:
                own[data.draw(st.sampled_from(single), label="size-1 label")] = 1
            shape = [own[c] for c in head] + (list(next(ell)) if "..." in t else []) + [own[c] for c in tail]
            arrays.append(_array(data, tuple(shape), f"x{i}"))
        return arrays, {"equation": eq}
    return draw


MATMUL = [
    Case("einsum", lambda *xs, equation: tg.einsum(equation, *xs),
         lambda *a, equation: np.einsum(equation, *a), einsum_inputs(),
         torch=lambda *xs, equation: _torch().einsum(equation, *xs)),
    Case("matmul", lambda a, b: a @ b, np.matmul, matmul_inputs(), torch=lambda a, b: a @ b),
    Case("matmul_method", lambda a, b: a.matmul(b), np.matmul, matmul_inputs(),
         torch=lambda a, b: a.matmul(b)),
    Case("linear_fused", lambda *xs: Linear.apply(*xs), np_linear, linear_inputs(),
         torch=lambda *xs: _torch().nn.functional.linear(*xs)),
    Case("cross_entropy_fused",
         lambda x, t, reduction: SoftmaxCrossEntropy.apply(x, t, reduction=reduction), np_cross_entropy,
         cross_entropy_inputs(),
         torch=lambda x, t, reduction: _torch().nn.functional.cross_entropy(x, t, reduction=reduction)),
    Case("embedding_fused", lambda w, idx: Embedding.apply(w, idx), lambda w, idx: w[idx],
         embedding_inputs(), torch=lambda w, idx: _torch().nn.functional.embedding(idx, w)),
]

ALL = ELEMENTWISE + REDUCE + SOFTMAX + SHAPE + INDEX + MATMUL

"""Hypothesis 策略：为性质测试（property-based tests）生成形状、数组和张量。

Use them in your own tests::

    from hypothesis import given
    import tinygrad_zh as tg
    from tinygrad_zh.testing.strategies import tensors, load_ci_profile

    load_ci_profile()

    @given(tensors(positive=True))
    def test_log_grad(x):
        assert tg.gradcheck(lambda t: t.log(), [x])

Design choices (all conservative, so that a failure means a bug and not a flaky tolerance):

* shapes are tiny (at most 4 dims of at most 4 elements) and include 0-d tensors and size-1 dims;
* values are bounded floats without NaN/inf, kept ``margin`` away from the points where the op is
  not differentiable (``away_from``: relu and abs at 0, clamp at its bounds);
* ``distinct=True`` puts values on a grid without repeats, so max/min never see ties;
* ``noncontiguous=True`` returns transposed or strided views, the layouts a contiguous-only
  implementation gets wrong;
* float64 is the default dtype: finite differences in gradcheck need it.
"""
import numpy as np
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.extra import numpy as hnp

from ..tensor import Tensor

PROFILE = "tinygrad_zh-ci"
DEV_PROFILE = "tinygrad_zh-dev"

_common = dict(deadline=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
settings.register_profile(PROFILE, max_examples=25, derandomize=True, **_common)
settings.register_profile(DEV_PROFILE, max_examples=50, **_common)

__all__ = ["PROFILE", "DEV_PROFILE", "load_ci_profile", "shapes", "broadcastable_shapes",
           "matmul_shapes", "axes", "elements", "scalars", "arrays", "tensors"]


def load_ci_profile(max_examples=None):
    """Load the ``"tinygrad_zh-ci"`` profile (deadline=None, 25 examples, derandomized, no too_slow).

    ``max_examples`` overrides the number of examples (e.g. 50 for a longer local run)."""
    if max_examples is not None:
        settings.register_profile(PROFILE, settings.get_profile(PROFILE), max_examples=int(max_examples))
    settings.load_profile(PROFILE)
    return settings.get_profile(PROFILE)


# ---------------------------------------------------------------------------- shapes
def shapes(min_dims=0, max_dims=4, max_side=4, min_side=1):
    """Shapes as tuples: ``()`` (0-d) up to ``max_dims`` dims, each of ``min_side..max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


@st.composite
def broadcastable_shapes(draw, num_shapes=2, min_dims=0, max_dims=4, max_side=4, min_side=1):
    """A tuple of ``num_shapes`` shapes that broadcast together.

    Start from the result shape, then for each input drop some leading dims and turn some dims
    into 1: every broadcasting rule (missing dims, size-1 dims, equal dims) shows up."""
    result = draw(shapes(min_dims, max_dims, max_side, min_side))
    out = []
    for _ in range(num_shapes):
        kept = result[draw(st.integers(0, len(result))):] if result else ()
        ones = draw(st.lists(st.booleans(), min_size=len(kept), max_size=len(kept)))
        out.append(tuple(1 if o else n for n, o in zip(kept, ones)))
    return tuple(out)


@st.composite
def matmul_shapes(draw, max_batch_dims=2, max_side=4):
    """A pair of shapes valid for ``a @ b``: 1-D·1-D, 1-D·2-D, 2-D·1-D, 2-D·2-D and batched N-D with
    broadcasting batch dims (e.g. ``(2, 1, 3, 4) @ (5, 4, 2)``)."""
    side = st.integers(1, max_side)
    n, k, m = draw(side), draw(side), draw(side)
    kind = draw(st.sampled_from(["vv", "vm", "mv", "mm", "batched", "batched_v"]))
    if kind == "vv":
        return (k,), (k,)
    if kind == "vm":
        return (k,), (k, m)
    if kind == "mv":
        return (n, k), (k,)
    if kind == "mm":
        return (n, k), (k, m)
    ba, bb = draw(broadcastable_shapes(2, min_dims=0, max_dims=max_batch_dims, max_side=3))
    if kind == "batched_v":             # N-D @ 1-D or 1-D @ N-D
        return ((ba + (n, k), (k,)) if draw(st.booleans()) else ((k,), bb + (k, m)))
    if not ba and not bb:
        ba = (2,)
    return ba + (n, k), bb + (k, m)


def axes(ndim, allow_none=True, allow_tuple=True, allow_negative=True):
    """A ``dim`` argument for a reduction over a tensor with ``ndim`` dims: None, an int (maybe
    negative) or a tuple of distinct ints.  A 0-d tensor only gets None."""
    options = []
    if allow_none or ndim == 0:
        options.append(st.none())
    if ndim > 0:
        lo = -ndim if allow_negative else 0
        options.append(st.integers(lo, ndim - 1))
        if allow_tuple:
            options.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
                lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) if allow_negative else st.just(d)
                                       for d in ds])))
    return st.one_of(*options)


# ---------------------------------------------------------------------------- values
def _bounds(min_value, max_value, positive):
    if positive and min_value <= 0:
        min_value = 0.1          # log, sqrt, 1/x: stay clear of 0, where derivatives blow up
    if not min_value < max_value:
        raise ValueError(f"strategies: need min_value < max_value, got {min_value} and {max_value}")
    return float(min_value), float(max_value)


def _push_away(x, points, margin):
    """Move ``x`` to the nearest value that is at least ``margin`` from every point."""
    if all(abs(x - p) >= margin for p in points):
        return x
    m = margin * (1 + 1e-9)                  # a hair more, so rounding cannot land inside
    candidates = [p + s * m for p in points for s in (-1.0, 1.0)]
    ok = [c for c in candidates if all(abs(c - p) >= margin for p in points)]
    return min(ok, key=lambda c: abs(c - x)) if ok else x


def elements(min_value=-3.0, max_value=3.0, positive=False, away_from=(0.0,), margin=0.05,
             grid_step=None, grid_phase=0.5):
    """Floats in ``[min_value, max_value]`` (no NaN/inf), at least ``margin`` from every point in
    ``away_from`` (points outside the range are ignored).

    With ``grid_step`` the values lie on ``min_value + (k + grid_phase) * grid_step``: with
    ``unique`` arrays this gives values that differ by at least ``grid_step`` (no ties)."""
    lo, hi = _bounds(min_value, max_value, positive)
    points = tuple(float(p) for p in (away_from or ()) if lo - margin < p < hi + margin)
    if grid_step is None:
        base = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
        return base.map(lambda x: _push_away(x, points, margin)) if points else base
    grid = [lo + (k + grid_phase) * grid_step for k in range(int((hi - lo) / grid_step))]
    grid = [x for x in grid if all(abs(x - p) >= margin for p in points)]
    if not grid:
        raise ValueError("strategies: the grid is empty; widen the range or shrink grid_step/margin")
    return st.sampled_from(grid)


def scalars(min_value=-3.0, max_value=3.0, positive=False, away_from=(0.0,), margin=0.05):
    """Python floats for the scalar side of ``x + 2.5`` / ``2.5 + x``."""
    return elements(min_value, max_value, positive, away_from, margin)


_elements = elements        # arrays() has a parameter called ``elements``


@st.composite
def _layout_view(draw, base_arrays, shape):
    """Draw an array of ``shape`` that is a non-contiguous view: a permuted and/or strided slice."""
    ndim = len(shape)
    perm = tuple(draw(st.permutations(range(ndim)))) if ndim else ()
    if ndim >= 2 and perm == tuple(range(ndim)):
        perm = tuple(reversed(perm))                     # make sure it is really transposed
    strided = draw(st.sampled_from(range(ndim))) if ndim and (draw(st.booleans()) or ndim == 1) else None
    stored = [shape[p] for p in perm]                    # memory order of the permuted array
    if strided is not None:
        stored[perm.index(strided)] *= 2
    base = draw(base_arrays(tuple(stored)))
    if strided is not None:
        sl = [slice(None)] * ndim
        sl[perm.index(strided)] = slice(None, None, 2)
        base = base[tuple(sl)]
    inv = np.argsort(perm) if ndim else ()
    view = base.transpose(tuple(int(i) for i in inv)) if ndim else base
    if view.size > 1 and view.flags.c_contiguous:
        # size-1 dims do not count for contiguity: stride along a real dim instead
        axis = next(i for i, n in enumerate(shape) if n > 1)
        buf_shape = list(shape)
        buf_shape[axis] *= 2
        sl = [slice(None)] * ndim
        sl[axis] = slice(None, None, 2)
        buf = np.zeros(buf_shape, view.dtype)
        buf[tuple(sl)] = view
        view = buf[tuple(sl)]
    assert view.shape == tuple(shape)
    return view


@st.composite
def arrays(draw, shape=None, dtype="float64", elements=None, min_value=-3.0, max_value=3.0,
           positive=False, away_from=(0.0,), margin=0.05, distinct=False, grid_step=None,
           grid_phase=0.5, noncontiguous=False, min_dims=0, max_dims=4, max_side=4):
    """NumPy arrays for tests.

    Args:
        shape: a fixed shape, a strategy of shapes, or None (``shapes(min_dims, max_dims, max_side)``).
        dtype: floating (values from :func:`elements`), integer (``min_value..max_value``) or bool.
        elements: your own strategy for the values (then the value options below are ignored).
        positive: restrict to ``[0.1, max_value]`` (the domain of log, sqrt, ...).
        away_from, margin: keep values ``margin`` away from these points (non-differentiable kinks).
        distinct: no two values closer than ``grid_step`` (by default a grid fine enough for the
            array's size, at most 0.1): no ties in max/min/sort.
        noncontiguous: True -> always a transposed/strided view; None -> sometimes; False -> never.
    """
    dt = np.dtype(dtype)
    if shape is None:
        shape = shapes(min_dims, max_dims, max_side=max_side)
    shp = draw(shape) if isinstance(shape, st.SearchStrategy) else tuple(shape)
    store = np.dtype("float64") if dt.kind == "f" else dt   # floats drawn in float64, then cast
    if elements is not None:
        elems = elements
    elif dt.kind == "b":
        elems = st.booleans()
    elif dt.kind in "iu":
        elems = st.integers(int(min_value), int(max_value))
    else:
        step = grid_step
        if step is None and distinct:        # enough grid points for every element (views: 2x)
            lo, hi = _bounds(min_value, max_value, positive)
            step = min(0.1, (hi - lo) / (8 * max(int(np.prod(shp, dtype=np.int64)), 1)))
        elems = _elements(min_value, max_value, positive, away_from, margin, step, grid_phase)
    unique = bool(distinct) and dt.kind == "f"

    def base_arrays(s):
        return hnp.arrays(store, s, elements=elems, unique=unique).map(lambda a: a.astype(dt))

    if noncontiguous is None:
        noncontiguous = draw(st.booleans())
    if noncontiguous:
        return draw(_layout_view(base_arrays, shp))
    return draw(base_arrays(shp))


def tensors(shape=None, dtype="float64", elements=None, min_value=-3.0, max_value=3.0, positive=False,
            away_from=(0.0,), margin=0.05, requires_grad=False, **kwargs):
    """``tg.Tensor`` values built from :func:`arrays` (same options; also ``distinct``,
    ``noncontiguous``, ``grid_step``, ``min_dims``, ``max_dims``, ``max_side``).

    The Tensor wraps the drawn array without copying, so a non-contiguous view stays one."""
    dt = np.dtype(dtype)
    grad = requires_grad and dt.kind == "f"
    return arrays(shape=shape, dtype=dt, elements=elements, min_value=min_value, max_value=max_value,
                  positive=positive, away_from=away_from, margin=margin, **kwargs).map(
        lambda a: Tensor(a, dtype=dt, requires_grad=grad))

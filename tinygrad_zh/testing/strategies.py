"""Hypothesis 策略：为性质测试（property-based tests）生成形状、数组和张量。

配合 ``gradcheck`` 使用：这里生成各种形状、布局和取值的输入，``gradcheck`` 在每个输入上检验链式法则的
每一环。在你自己的测试里这样用（Use them in your own tests）::

    from hypothesis import given
    import tinygrad_zh as tg
    from tinygrad_zh.testing.strategies import tensors, load_ci_profile

    load_ci_profile()

    @given(tensors(positive=True))
    def test_log_grad(x):
        assert tg.gradcheck(lambda t: t.log(), [x])

设计上一律保守，测试失败就说明有 bug，而不是容差不稳：

* 形状很小（最多 4 维、每维最多 4 个元素），包含 0 维张量和长度为 1 的维；
* 取值是有界浮点数，没有 NaN/inf，并与运算不可导的点保持 ``margin`` 的距离（``away_from``：relu 和 abs
  的 0、clamp 的边界）；
* ``distinct=True`` 让取值落在不重复的网格上，max/min 不会遇到并列；
* ``noncontiguous=True`` 返回转置或跨步的视图，专门暴露只考虑连续内存的实现；
* 默认 dtype 是 float64，因为 gradcheck 的有限差分需要它。

English: design choices are conservative, so that a failure means a bug and not a flaky tolerance: tiny
shapes (with 0-d and size-1 dims), bounded values kept ``margin`` away from non-differentiable points,
``distinct`` values without ties, ``noncontiguous`` views, float64 by default.
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
    """加载 ``"tinygrad_zh-ci"`` 配置（不限时、25 个样例、固定随机性、不报 too_slow）。

    ``max_examples`` 可以改样例数（例如本地跑久一点时用 50）。
    ``max_examples`` overrides the number of examples (e.g. 50 for a longer local run)."""
    if max_examples is not None:
        settings.register_profile(PROFILE, settings.get_profile(PROFILE), max_examples=int(max_examples))
    settings.load_profile(PROFILE)
    return settings.get_profile(PROFILE)


# ---------------------------------------------------------------------------- 形状
def shapes(min_dims=0, max_dims=4, max_side=4, min_side=1):
    """元组形式的形状：从 ``()``（0 维）到 ``max_dims`` 维，每维长度在 ``min_side..max_side`` 之间。"""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


@st.composite
def broadcastable_shapes(draw, num_shapes=2, min_dims=0, max_dims=4, max_side=4, min_side=1):
    """``num_shapes`` 个能互相广播的形状。

    从结果形状出发，对每个输入去掉若干前导维、再把一些维改成 1：广播的每条规则（缺维、长度为 1 的维、
    相等的维）都会出现。
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
    """一对能做 ``a @ b`` 的形状：1-D·1-D、1-D·2-D、2-D·1-D、2-D·2-D，以及批量维互相广播的 N-D
    （例如 ``(2, 1, 3, 4) @ (5, 4, 2)``）。"""
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
    if kind == "batched_v":             # N-D @ 1-D 或 1-D @ N-D
        return ((ba + (n, k), (k,)) if draw(st.booleans()) else ((k,), bb + (k, m)))
    if not ba and not bb:
        ba = (2,)
    return ba + (n, k), bb + (k, m)


def axes(ndim, allow_none=True, allow_tuple=True, allow_negative=True):
    """对 ``ndim`` 维张量做归约时的 ``dim`` 参数：None、一个整数（可以为负）或互不相同的整数元组。
    0 维张量只会得到 None。"""
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


# ---------------------------------------------------------------------------- 取值
def _bounds(min_value, max_value, positive):
    if positive and min_value <= 0:
        min_value = 0.1          # log、sqrt、1/x：离 0 远一点，那里的导数会爆炸
    if not min_value < max_value:
        raise ValueError(f"strategies: need min_value < max_value, got {min_value} and {max_value}")
    return float(min_value), float(max_value)


def _push_away(x, points, margin):
    """把 ``x`` 挪到离它最近、且与每个点的距离都不小于 ``margin`` 的值。"""
    if all(abs(x - p) >= margin for p in points):
        return x
    m = margin * (1 + 1e-9)                  # 稍微多挪一点，免得舍入误差又落回禁区
    candidates = [p + s * m for p in points for s in (-1.0, 1.0)]
    ok = [c for c in candidates if all(abs(c - p) >= margin for p in points)]
    return min(ok, key=lambda c: abs(c - x)) if ok else x


def elements(min_value=-3.0, max_value=3.0, positive=False, away_from=(0.0,), margin=0.05,
             grid_step=None, grid_phase=0.5):
    """``[min_value, max_value]`` 内的浮点数（没有 NaN/inf），与 ``away_from`` 中每个点的距离至少为
    ``margin``（范围外的点忽略）。给了 ``grid_step`` 时取值落在网格上，配合 ``unique`` 数组就不会有并列。

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
    """Python 浮点数，用作 ``x + 2.5`` / ``2.5 + x`` 里标量的那一边。"""
    return elements(min_value, max_value, positive, away_from, margin)


_elements = elements        # 另起一个名字：arrays() 有一个同名参数 ``elements``


@st.composite
def _layout_view(draw, base_arrays, shape):
    """抽取一个形状为 ``shape`` 的非连续视图：轴被置换过和/或带步长的切片。"""
    ndim = len(shape)
    perm = tuple(draw(st.permutations(range(ndim)))) if ndim else ()
    if ndim >= 2 and perm == tuple(range(ndim)):
        perm = tuple(reversed(perm))                     # 确保真的转置了
    strided = draw(st.sampled_from(range(ndim))) if ndim and (draw(st.booleans()) or ndim == 1) else None
    stored = [shape[p] for p in perm]                    # 置换后数组在内存里的轴顺序
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
        # 长度为 1 的维不影响是否连续：改为沿一个真正的维加步长
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
    """测试用的 NumPy 数组：形状、dtype、取值范围、是否互不相同、是否非连续都可以指定。
    NumPy arrays for tests.

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
    store = np.dtype("float64") if dt.kind == "f" else dt   # 浮点数先按 float64 抽取，再转换
    if elements is not None:
        elems = elements
    elif dt.kind == "b":
        elems = st.booleans()
    elif dt.kind in "iu":
        elems = st.integers(int(min_value), int(max_value))
    else:
        step = grid_step
        if step is None and distinct:        # 网格点要够每个元素各用一个（视图要两倍）
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
    """由 :func:`arrays` 构造的 ``tg.Tensor``（选项相同）。Tensor 直接包住抽到的数组、不复制，所以非连续
    视图仍是非连续的。

    English: ``tg.Tensor`` values built from :func:`arrays` (same options; also ``distinct``,
    ``noncontiguous``, ``grid_step``, ``min_dims``, ``max_dims``, ``max_side``).
    The Tensor wraps the drawn array without copying, so a non-contiguous view stays one."""
    dt = np.dtype(dtype)
    grad = requires_grad and dt.kind == "f"
    return arrays(shape=shape, dtype=dt, elements=elements, min_value=min_value, max_value=max_value,
                  positive=positive, away_from=away_from, margin=margin, **kwargs).map(
        lambda a: Tensor(a, dtype=dt, requires_grad=grad))

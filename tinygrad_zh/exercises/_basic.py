"""练习 2–8 的判题规格：广播的加法/乘法、除法、exp/log、sigmoid/tanh、sum/mean、reshape/transpose、索引。

Each ``OpSpec`` names the learner's class, a Hypothesis strategy of examples, the NumPy reference
forward, and the typical wrong gradients (``mistakes``) with the Chinese hint that names each one.
"""
import numpy as np
from hypothesis import strategies as st

from ..testing.strategies import axes, broadcastable_shapes, shapes
from ._grading import Case, OpSpec, float_arrays, seeded_arrays, unbroadcast


def unbroadcast_mean(g, shape):
    """A typical wrong ``unbroadcast``: the mean instead of the sum over the broadcast axes."""
    extra = g.ndim - len(shape)
    ax = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1)
    return (g.mean(axis=ax, keepdims=True) if ax else g).reshape(shape)


def _ub(g, shape):
    try:
        return unbroadcast(np.broadcast_to(g, np.broadcast_shapes(g.shape, shape)), shape)
    except ValueError:
        return None


@st.composite
def binary_cases(draw, denominator=False):
    sa, sb = draw(broadcastable_shapes(2, max_dims=3, max_side=3))
    a = draw(float_arrays(sa))
    b = draw(float_arrays(sb, margin=0.5 if denominator else 0.05))
    return Case(("a", "b"), (a, b))


@st.composite
def unary_cases(draw, **kw):
    return Case(("x",), (draw(float_arrays(draw(shapes(0, 3, 3)), **kw)),))


# ----------------------------------------------------------------------------- 02 broadcast
HINT_MEAN_BROADCAST = ("广播的维度上要 *求和*，不是取平均：被复制出的每一份都完整地影响损失，"
                       "它们的梯度相加才是原来那个元素的梯度。")


def _add_mistakes(case, ups, correct):
    a, b = case.arrays
    u = ups[0]
    return [(0, unbroadcast_mean(u, a.shape), HINT_MEAN_BROADCAST),
            (1, unbroadcast_mean(u, b.shape), HINT_MEAN_BROADCAST)]


def _mul_mistakes(case, ups, correct):
    a, b = case.arrays
    u = ups[0]
    own = "乘错了因子：z = a·b 对 a 的导数是 *另一个* 因子 b（对 b 的导数是 a），你乘的是它自己。"
    return [(0, _ub(u * a, a.shape), own), (1, _ub(u * b, b.shape), own),
            (0, unbroadcast_mean(u * b, a.shape), HINT_MEAN_BROADCAST),
            (1, unbroadcast_mean(u * a, b.shape), HINT_MEAN_BROADCAST)]


def broadcast_specs():
    return (OpSpec("Add", binary_cases(), lambda a, b: a + b, mistakes=_add_mistakes),
            OpSpec("Mul", binary_cases(), lambda a, b: a * b, mistakes=_mul_mistakes))


# ----------------------------------------------------------------------------- 03 div
def _div_mistakes(case, ups, correct):
    a, b = case.arrays
    u = ups[0]
    return [
        (1, _ub(-u * a / b, b.shape), "忘了平方：z = a/b 对 b 的导数是 −a/b²，不是 −a/b。"),
        (1, _ub(-u / (b * b), b.shape), "漏了分子 a：z = a/b = a·b⁻¹，对 b 的导数是 a·(−b⁻²) = −a/b²。"),
        (1, _ub(u * a / (b * b), b.shape), "符号反了：b⁻¹ 的导数是 −b⁻²，所以 ∂z/∂b = −a/b²，带负号。"),
        (0, _ub(u * b, a.shape), "z = a/b 对 a 的导数是 1/b，你乘的是 b。"),
        (0, _ub(-u * a / (b * b), a.shape), "把 ∂z/∂b 的公式用在了 a 上：∂z/∂a = 1/b。"),
    ]


def div_specs():
    return (OpSpec("Div", binary_cases(denominator=True), lambda a, b: a / b, mistakes=_div_mistakes),)


# ----------------------------------------------------------------------------- 04 exp / log
def _exp_mistakes(case, ups, correct):
    x, = case.arrays
    return [(0, ups[0] * x, "eˣ 的导数是 eˣ 本身（就是前向的输出，存下来直接用），不是 x。"),
            (0, ups[0] * np.exp(np.exp(x)), "前向存下的已经是 eˣ 了，backward 直接乘它，不要再 exp 一次。")]


def _log_mistakes(case, ups, correct):
    x, = case.arrays
    u = ups[0]
    return [(0, u * x, "ln x 的导数是 1/x，你乘的是 x：应该 *除以* x。"),
            (0, u * np.log(x), "ln x 的导数是 1/x，不是 ln x 本身。"),
            (0, -u / (x * x), "−1/x² 是 1/x 的导数；ln x 的导数是 1/x。")]


def exp_log_specs():
    return (OpSpec("Exp", unary_cases(), np.exp, mistakes=_exp_mistakes),
            OpSpec("Log", unary_cases(positive=True), np.log, mistakes=_log_mistakes))


# ----------------------------------------------------------------------------- 05 sigmoid / tanh
def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def _sigmoid_mistakes(case, ups, correct):
    x, = case.arrays
    u, s = ups[0], _sigmoid(x)
    return [(0, u * s * (1 + s), "σ'(x) = σ(x)(1 − σ(x))：是 1 *减* σ。"),
            (0, u * x * (1 - x), "σ'(x) = σ(1 − σ) 里的 σ 是 *输出* σ(x)，不是输入 x：前向时把输出存下来。"),
            (0, u * s, "漏了因子 (1 − σ)：σ'(x) = σ(x)(1 − σ(x))。"),
            (0, u * (1 - s), "漏了因子 σ：σ'(x) = σ(x)(1 − σ(x))。")]


def _tanh_mistakes(case, ups, correct):
    x, = case.arrays
    u, t = ups[0], np.tanh(x)
    return [(0, u * (1 - t), "漏了平方：tanh'(x) = 1 − tanh²(x)。"),
            (0, u * (1 - x * x), "tanh' = 1 − t² 里的 t 是 *输出* tanh(x)，不是输入 x。"),
            (0, u * (1 + t * t), "tanh'(x) = 1 *−* tanh²(x)。")]


def act_specs():
    return (OpSpec("Sigmoid", unary_cases(min_value=-5, max_value=5), _sigmoid, mistakes=_sigmoid_mistakes),
            OpSpec("Tanh", unary_cases(min_value=-3, max_value=3), np.tanh, mistakes=_tanh_mistakes))


# ----------------------------------------------------------------------------- 06 sum / mean
@st.composite
def reduce_cases(draw):
    a = draw(seeded_arrays(draw(shapes(1, 3, 3))))
    axis = draw(axes(a.ndim))
    keepdims = draw(st.booleans())
    return Case(("x",), (a,), {"axis": axis, "keepdims": keepdims})


def _norm(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(a % ndim for a in axis))


def _count(case):
    x, = case.arrays
    return int(np.prod([x.shape[a] for a in _norm(case.kwargs["axis"], x.ndim)]))


HINT_KEEPDIMS_BACK = ("g 的形状是求和 *之后* 的形状（keepdims=False 时被求和的维度已经没了）。先把 g reshape 成 "
                      "keepdims=True 的形状（被求和的维度长度为 1），再 np.broadcast_to 到输入的形状；"
                      "直接广播会把 g 对到错误的维度上。")


def _reduce_mistakes(scale):
    def mistakes(case, ups, correct):
        x, = case.arrays
        u = ups[0]
        out = []
        n = _count(case)
        if scale(case) != 1.0 and n > 1:
            out.append((0, correct[0] * n, f"mean 的每个元素只分到 g/n：你漏了除以元素个数 n（这里 n = {n}）。"))
        try:
            out.append((0, np.broadcast_to(u, x.shape) * scale(case), HINT_KEEPDIMS_BACK))
        except ValueError:
            pass
        return out
    return mistakes


def _reduce_errors(case, exc, where):
    if isinstance(exc, ValueError) and "broadcast" in str(exc) and where == "backward":
        return [HINT_KEEPDIMS_BACK]
    return []


def _mean_forward_hints(case, mine, expected):
    n = _count(case)
    if mine.shape == expected.shape and n > 1 and np.allclose(mine, expected * n):
        return [f"这是 sum，不是 mean：要除以被平均的元素个数（这里是 {n}）。"]
    return []


def reduce_specs():
    return (OpSpec("Sum", reduce_cases(), lambda x, axis, keepdims: np.asarray(np.sum(x, axis=axis, keepdims=keepdims)),
                   mistakes=_reduce_mistakes(lambda c: 1.0), error_hints=_reduce_errors),
            OpSpec("Mean", reduce_cases(),
                   lambda x, axis, keepdims: np.asarray(np.mean(x, axis=axis, keepdims=keepdims)),
                   mistakes=_reduce_mistakes(lambda c: 1.0 / _count(c)), error_hints=_reduce_errors,
                   forward_hints=_mean_forward_hints))


# ----------------------------------------------------------------------------- 07 reshape / transpose
def _factor_shapes(shape):
    n = int(np.prod(shape))
    opts = [(n,), (1, n), (n, 1), tuple(reversed(shape))]
    if len(shape) >= 2:
        opts.append((shape[0] * shape[1],) + tuple(shape[2:]))
        opts.append((shape[0], -1))
    return opts


@st.composite
def reshape_cases(draw):
    a = draw(seeded_arrays(draw(shapes(1, 3, 3))))
    new = draw(st.sampled_from(_factor_shapes(a.shape)))
    return Case(("x",), (a,), {"shape": new})


@st.composite
def transpose_cases(draw):
    a = draw(seeded_arrays(draw(shapes(2, 3, 3))))
    perm = tuple(draw(st.permutations(range(a.ndim))))
    return Case(("x",), (a,), {"axes": perm})


HINT_INVERSE_PERM = ("反向要用 *逆* 置换：前向的第 k 个轴来自输入的第 axes[k] 个轴，所以把 g 转回去要用 "
                     "np.argsort(axes)，而不是 axes 本身（二维时两者相同，三维以上不同）。")


def _transpose_mistakes(case, ups, correct):
    return [(0, np.transpose(ups[0], case.kwargs["axes"]) if ups[0].ndim == len(case.kwargs["axes"]) else None,
             HINT_INVERSE_PERM)]


def _transpose_shapes(case, i, shape):
    x, = case.arrays
    out_shape = tuple(x.shape[k] for k in case.kwargs["axes"])
    hints = []
    if tuple(shape) == tuple(out_shape[k] for k in case.kwargs["axes"]):
        hints.append(HINT_INVERSE_PERM)
    if tuple(shape) == out_shape:
        hints.append("你把 g 原样返回了：g 的形状是转置 *之后* 的形状，要转置回输入的形状。")
    return hints


def _reshape_shapes(case, i, shape):
    return ["reshape 的反向就是把 g reshape 回输入的形状（x.shape，前向时记下来）。"]


def shape_specs():
    return (OpSpec("Reshape", reshape_cases(), lambda x, shape: x.reshape(shape), shape_hints=_reshape_shapes),
            OpSpec("Transpose", transpose_cases(), lambda x, axes: np.transpose(x, axes),
                   mistakes=_transpose_mistakes, shape_hints=_transpose_shapes))


# ----------------------------------------------------------------------------- 08 indexing
@st.composite
def index_cases(draw):
    two_d = draw(st.booleans())
    n = draw(st.integers(1, 4))
    shape = (n, draw(st.integers(1, 3))) if two_d else (n,)
    a = draw(seeded_arrays(shape))
    ints = st.lists(st.integers(-n, n - 1), min_size=1, max_size=5).map(lambda v: np.array(v, dtype=np.int64))
    kind = draw(st.sampled_from(["ints", "slice", "pair"] if two_d else ["ints", "slice"]))
    if kind == "ints":
        index = draw(ints)
    elif kind == "slice":
        start = draw(st.none() | st.integers(-n, n - 1))
        step = draw(st.sampled_from([None, 1, 2, -1]))
        index = slice(start, None, step)
        if a[index].size == 0:
            index = slice(None, None, step)
    else:
        rows = draw(ints)
        m = shape[1]
        cols = draw(st.lists(st.integers(-m, m - 1), min_size=len(rows), max_size=len(rows)))
        index = (rows, np.array(cols, dtype=np.int64)) if draw(st.booleans()) else (rows, slice(None))
    return Case(("x",), (a,), {"index": index})


HINT_ADD_AT = ("有重复的下标时，同一个元素被取出了好几次，每一次都要把梯度加回去。grad[index] = g 和 "
               "grad[index] += g 对重复下标都只算一次（NumPy 的缓冲写入），要用 np.add.at(grad, index, g)。")


def _index_mistakes(case, ups, correct):
    x, = case.arrays
    z = np.zeros_like(x)
    try:
        z[case.kwargs["index"]] = ups[0]
    except (ValueError, IndexError):
        return []
    return [(0, z, HINT_ADD_AT)]


def _index_shapes(case, i, shape):
    return ["梯度要和 *输入* x 同形：先 np.zeros_like(x)，再把 g 放回（加回）被取出的位置。"]


def index_specs():
    return (OpSpec("Index", index_cases(), lambda x, index: x[index], mistakes=_index_mistakes,
                   shape_hints=_index_shapes),)

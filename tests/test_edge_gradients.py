"""Gradients at the edges, against PyTorch: zero spread (std / 2-norm of a constant or zero row),
ties of maximum / minimum, cross-entropy batches whose targets are all ``ignore_index``, empty
inputs of mean losses, empty integer indices (every scatter that can receive an empty index).

Each case once gave NaN (or a different split of the gradient) where PyTorch gives a finite value.
Compared in float64 with ``equal_nan`` so that a NaN is only accepted where PyTorch has one too.
"""
import warnings

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.nn.functional as F
from tinygrad_zh.ops import reduce as R

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _both(arrays, fn_tg, fn_torch, weights=True):
    """Run fn on tinygrad_zh and torch float64 leaves; backward of Σ w·out with w = 1, 2, 3, ...
    (distinct weights: a gradient sent to the wrong output element shows). Returns
    ((out, grads), (out_t, grads_t))."""
    xs = [tg.tensor(a, dtype="float64", requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn_tg(*xs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")               # torch: "degrees of freedom is <= 0"
        out_t = fn_torch(*ts)
    w = np.arange(1, out.numel() + 1, dtype=np.float64).reshape(out.shape) if weights else np.ones(out.shape)
    (out * tg.tensor(w, dtype="float64")).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    grads = [None if x.grad is None else x.grad.numpy() for x in xs]
    grads_t = [None if t.grad is None else t.grad.numpy() for t in ts]
    return (out.numpy(), grads), (out_t.detach().numpy(), grads_t)


def _same(arrays, fn_tg, fn_torch, finite_grad=True, **kw):
    (out, grads), (out_t, grads_t) = _both(arrays, fn_tg, fn_torch, **kw)
    np.testing.assert_allclose(out, out_t, rtol=1e-12, atol=1e-12, equal_nan=True)
    for g, gt in zip(grads, grads_t):
        assert (g is None) == (gt is None)
        if g is not None:
            np.testing.assert_allclose(g, gt, rtol=1e-10, atol=1e-12, equal_nan=True)
            if finite_grad:
                assert np.isfinite(g).all(), g
    return out, grads


CONST_ROWS = np.array([[1.5, 1.5, 1.5, 1.5], [1.0, 2.0, 4.0, 8.0], [-3.0, -3.0, -3.0, -3.0]])


# ------------------------------------------------------------------------------------- std / norm
@pytest.mark.parametrize("axes,correction,keepdim", [((1,), 1, False), ((1,), 0, True), ((0, 1), 1, False),
                                                     ((0,), 1, False)])
def test_std_op_of_a_constant_row_has_zero_gradient_like_torch(axes, correction, keepdim):
    x = CONST_ROWS if axes != (0,) else CONST_ROWS.T.copy()
    if axes == (0, 1):
        x = np.full((2, 3), 4.0)
    _same([x], lambda t: R.Std.apply(t, axes=axes, correction=correction, keepdim=keepdim),
          lambda t: t.std(dim=axes, correction=correction, keepdim=keepdim))


def test_std_op_with_too_few_elements_is_nan_like_torch():
    # n - correction <= 0: the value and the gradient are NaN in PyTorch too
    _same([np.ones((2, 1))], lambda t: R.Std.apply(t, axes=(1,), correction=1, keepdim=False),
          lambda t: t.std(dim=1), finite_grad=False)


def test_std_op_of_random_data_matches_torch():
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    _same([x], lambda t: R.Std.apply(t, axes=(0, 2), correction=1, keepdim=False), lambda t: t.std(dim=(0, 2)))


def test_tensor_std_of_a_constant_row_has_zero_gradient_like_torch():
    _same([CONST_ROWS], lambda t: t.std(dim=1), lambda t: t.std(dim=1))
    _same([np.full((2, 3), 4.0)], lambda t: t.std(), lambda t: t.std())


@pytest.mark.parametrize("x,axes,keepdim", [(np.zeros(3), (0,), False),
                                           (np.array([[0.0, 0.0], [3.0, 4.0]]), (1,), False),
                                           (np.array([[0.0, 0.0], [3.0, 4.0]]), (1,), True),
                                           (np.zeros((2, 2)), (0, 1), False)])
def test_norm_op_of_a_zero_vector_has_zero_gradient_like_torch(x, axes, keepdim):
    _same([x], lambda t: R.Norm.apply(t, axes=axes, keepdim=keepdim),
          lambda t: t.norm(dim=axes, keepdim=keepdim))


def test_tensor_norm_of_a_zero_vector_has_zero_gradient_like_torch():
    _same([np.zeros(3)], lambda t: t.norm(), lambda t: t.norm())
    _same([np.array([[0.0, 0.0], [3.0, 4.0]])], lambda t: t.norm(dim=1), lambda t: t.norm(dim=1))


# ------------------------------------------------------------------------------ maximum / minimum
A = np.array([1.0, 2.0, 3.0, -1.0, 5.0])
B = np.array([1.0, 0.0, 3.0, 4.0, 5.0])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_split_a_tie_evenly_like_torch(name):
    _, (ga, gb) = _same([A, B], getattr(tg, name), getattr(torch, name))
    tie = A == B
    np.testing.assert_array_equal((ga + gb)[tie] / np.arange(1, 6)[tie], 1.0)   # halves add up to the whole
    assert (ga[tie] == gb[tie]).all()


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_ties_with_broadcasting_like_torch(name):
    a = np.array([[1.0, 2.0, 2.0], [2.0, 1.0, 3.0]])
    b = np.array([2.0])                                   # ties at three positions, summed back to (1,)
    _same([a, b], getattr(tg, name), getattr(torch, name))
    _same([a, np.array([[2.0], [1.0]])], getattr(tg, name), getattr(torch, name))


def test_max_min_with_a_tensor_argument_split_ties_like_torch():
    _same([A, B], lambda a, b: a.max(b), lambda a, b: a.max(b))
    _same([A, B], lambda a, b: a.min(b), lambda a, b: a.min(b))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_with_nan_give_the_gradient_as_torch(name):
    a = np.array([np.nan, 1.0, np.nan])
    b = np.array([1.0, np.nan, np.nan])
    _same([a, b], getattr(tg, name), getattr(torch, name))


# ------------------------------------------------------------------------- cross-entropy, ignore_index
IGNORED = np.array([-100, -100, -100])
LOGITS = np.random.default_rng(1).standard_normal((3, 4))
CLASS_W = np.array([0.5, 1.0, 2.0, 3.0])


def _ce_kwargs(weighted, smoothing, reduction):
    kw_tg, kw_t = {"reduction": reduction}, {"reduction": reduction}
    if weighted:
        kw_tg["weight"], kw_t["weight"] = tg.tensor(CLASS_W, dtype="float64"), torch.tensor(CLASS_W)
    if smoothing:
        kw_tg["label_smoothing"] = kw_t["label_smoothing"] = 0.1
    return kw_tg, kw_t


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [False, True], ids=["plain", "smoothed"])
def test_cross_entropy_of_an_all_ignored_batch_has_zero_gradient_like_torch(reduction, weighted, smoothing):
    """A fully padded batch: PyTorch gives loss NaN for "mean" (0/0) and gradient 0 (not NaN, which
    would poison every parameter at the next step)."""
    kw_tg, kw_t = _ce_kwargs(weighted, smoothing, reduction)
    out, (g,) = _same([LOGITS], lambda x: F.cross_entropy(x, tg.tensor(IGNORED), **kw_tg),
                      lambda x: TF.cross_entropy(x, torch.tensor(IGNORED), **kw_t))
    np.testing.assert_array_equal(g, 0.0)
    if reduction == "mean":
        assert np.isnan(out)                              # PyTorch: nan, not 0.0


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("smoothing", [False, True], ids=["plain", "smoothed"])
def test_cross_entropy_partly_ignored_and_nd_still_match_torch(weighted, smoothing):
    kw_tg, kw_t = _ce_kwargs(weighted, smoothing, "mean")
    t = np.array([2, -100, 0])
    _same([LOGITS], lambda x: F.cross_entropy(x, tg.tensor(t), **kw_tg),
          lambda x: TF.cross_entropy(x, torch.tensor(t), **kw_t))
    logits = np.random.default_rng(2).standard_normal((2, 4, 3))       # (N, C, d)
    for t in (np.array([[1, -100, 3], [0, 2, -100]]), np.full((2, 3), -100)):
        _same([logits], lambda x: F.cross_entropy(x, tg.tensor(t), **kw_tg),
              lambda x: TF.cross_entropy(x, torch.tensor(t), **kw_t))


def test_nll_loss_of_an_all_ignored_batch_has_zero_gradient_like_torch():
    for kw_tg, kw_t in (({}, {}), ({"weight": tg.tensor(CLASS_W, dtype="float64")}, {"weight": torch.tensor(CLASS_W)})):
        out, (g,) = _same([LOGITS], lambda x: F.nll_loss(x.log_softmax(1), tg.tensor(IGNORED), **kw_tg),
                          lambda x: TF.nll_loss(x.log_softmax(1), torch.tensor(IGNORED), **kw_t))
        assert np.isnan(out) and not g.any()


def test_an_all_ignored_batch_leaves_the_parameters_finite():
    """The symptom: one fully padded batch in a training loop turned every weight into NaN."""
    tg.manual_seed(0)
    lin = tg.nn.Linear(4, 3)
    opt = tg.optim.SGD(lin.parameters(), lr=0.1)
    before = lin.weight.numpy().copy()
    for weight in (None, tg.tensor([1.0, 2.0, 3.0])):
        opt.zero_grad()
        F.cross_entropy(lin(tg.randn(5, 4)), tg.tensor([-100] * 5), weight=weight).backward()
        opt.step()
    np.testing.assert_array_equal(lin.weight.numpy(), before)


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits", "cross_entropy"])
def test_mean_loss_of_an_empty_batch_is_nan_like_torch(loss):
    if loss == "cross_entropy":
        x, t_tg, t_t = np.zeros((0, 3)), tg.tensor(np.zeros(0, np.int64)), torch.zeros(0, dtype=torch.int64)
    else:
        x, t_tg, t_t = np.zeros(0), tg.zeros(0, dtype="float64"), torch.zeros(0, dtype=torch.float64)
    out, (g,) = _same([x], lambda a: getattr(F, loss)(a, t_tg), lambda a: getattr(TF, loss)(a, t_t))
    assert np.isnan(out) and g.shape == x.shape


# -------------------------------------------------------------------------- empty integer indices
EMPTY = np.zeros(0, np.int64)


@pytest.mark.parametrize("case", ["getitem", "getitem_2d_index", "getitem_second_dim", "gather", "scatter_add",
                                  "embedding", "index_select"])
def test_an_empty_integer_index_gives_a_zero_gradient_like_torch(case):
    x = np.arange(6.0).reshape(3, 2)
    idx_tg, idx_t = tg.tensor(EMPTY), torch.tensor(EMPTY)
    fns = {
        "getitem": (lambda a: a[idx_tg], lambda a: a[idx_t]),
        "getitem_2d_index": (lambda a: a[tg.tensor(EMPTY.reshape(0, 2))],
                             lambda a: a[torch.tensor(EMPTY.reshape(0, 2))]),
        "getitem_second_dim": (lambda a: a[:, idx_tg], lambda a: a[:, idx_t]),
        "gather": (lambda a: a.gather(1, tg.tensor(EMPTY.reshape(3, 0))),
                   lambda a: a.gather(1, torch.tensor(EMPTY.reshape(3, 0)))),
        "scatter_add": (lambda a: a.scatter_add(0, tg.tensor(EMPTY.reshape(0, 2)), tg.zeros(0, 2, dtype="float64")),
                        lambda a: a.scatter_add(0, torch.tensor(EMPTY.reshape(0, 2)),
                                                torch.zeros(0, 2, dtype=torch.float64))),
        "embedding": (lambda w: F.embedding(tg.tensor(EMPTY.reshape(2, 0)), w),
                      lambda w: TF.embedding(torch.tensor(EMPTY.reshape(2, 0)), w)),
        "index_select": (lambda a: a.index_select(0, idx_tg), lambda a: a.index_select(0, idx_t)),
    }
    f_tg, f_t = fns[case]
    if case == "index_select" and not hasattr(tg.Tensor, "index_select"):
        pytest.skip("no Tensor.index_select")
    _same([x], f_tg, f_t)


def test_empty_int64_index_backward_from_the_issue():
    x = tg.randn(4, 3, requires_grad=True)
    y = x[tg.tensor([], dtype=tg.int64)]
    assert y.shape == (0, 3)
    (y.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((4, 3), np.float32))


# ------------------------------------------------------------------------------------- clone
def test_clone_is_a_separate_copy_of_the_same_tensor_that_keeps_the_graph():
    """(tests/test_ops_tensor.py compared the clone with a *new* tensor, which is always a different
    object: a clone() that returned its input, or a view of it, passed.)"""
    base = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype="float64", requires_grad=True)
    for x in (base, base.T):                                    # contiguous, and a non-contiguous view
        c = x.clone()
        assert c is not x and c.array is not x.array
        assert not np.shares_memory(c.array, x.array) and not np.shares_memory(c.array, base.array)
        assert c.shape == x.shape and c.dtype == x.dtype and c.requires_grad and c.grad_fn is not None
        np.testing.assert_array_equal(c.numpy(), x.numpy())
        before = base.numpy().copy()
        c.detach().array[...] = -7.0                            # writing into the clone ...
        np.testing.assert_array_equal(base.numpy(), before)     # ... leaves the original alone
    base.grad = None
    w = torch.arange(6.0, dtype=torch.float64).reshape(3, 2)
    (base.T.clone() * tg.tensor(w.numpy())).sum().backward()    # the gradient flows through the copy
    bt = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float64, requires_grad=True)
    ct = bt.T.clone()
    assert ct.data_ptr() != bt.data_ptr()
    (ct * w).sum().backward()
    np.testing.assert_array_equal(base.grad.numpy(), bt.grad.numpy())


# ------------------------------------------------------------------------------------- a ** b
def test_pow_of_two_tensors_at_zero_and_negative_bases_like_torch():
    """∂(a^b)/∂b = a^b·ln a: NaN for a < 0 (ln undefined; it was silently 0), -inf at a = 0 with
    b < 0, and 0 at a = 0 with b >= 0; ∂/∂a = 0 where b = 0 (a⁰ is constant, also at a = 0)."""
    a = np.array([0.0, 0.0, -2.0, 3.0, -2.0, 0.0, 0.5])
    b = np.array([2.0, -1.0, 0.5, 2.0, 2.0, 0.0, -3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                   # NumPy's forward warns about 0**-1, (-2)**0.5
        _same([a, b], lambda x, y: x ** y, lambda x, y: x ** y, finite_grad=False)
        _same([np.array([[0.0, 2.0], [-1.0, 3.0]]), np.array([2.0, 0.0])],      # broadcast exponent
              lambda x, y: x ** y, lambda x, y: x ** y, finite_grad=False)


# ------------------------------------------------------------------- casts and piecewise-constant ops
@pytest.mark.parametrize("cast", ["long", "int", "bool", "to_int32", "type_int64"])
def test_an_integer_cast_does_not_require_grad_and_passes_no_gradient_like_torch(cast):
    """x.long() of a tensor that requires grad is an integer tensor outside the graph (it used to
    require grad, and a gradient flowed through the cast: d/dx Σ x·long(x) came out 2x, not long(x))."""
    def fn(m):
        def f(x):
            c = {"long": lambda: x.long(), "int": lambda: x.int(), "bool": lambda: x.bool(),
                 "to_int32": lambda: x.to(m.int32), "type_int64": lambda: x.type(m.int64)}[cast]()
            assert not c.requires_grad and c.grad_fn is None
            return c.to(x.dtype) * x
        return f
    _same([np.array([1.5, -2.0, 0.0, 3.7])], fn(tg), fn(torch))


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "trunc", "round"])
def test_piecewise_constant_ops_require_grad_with_a_zero_gradient_like_torch(name):
    x = np.array([-1.5, -0.5, 0.0, 0.4, 2.5, 3.7])
    out, grads = _same([x], lambda a: getattr(a, name)() + a, lambda a: getattr(a, name)() + a)
    t = tg.tensor(x, requires_grad=True)
    assert getattr(tg, name)(t).requires_grad                  # as torch: in the graph, gradient 0
    assert not getattr(tg, name)(t.detach()).requires_grad


def test_softplus_gradient_is_the_sigmoid_also_at_zero_and_far_left_like_torch():
    """softplus'(0) = σ(0) = 1/2 (the relu+abs formula gave 0 there) and softplus(-50) = e^-50, not 0."""
    x = np.array([-50.0, -25.0, -1.0, 0.0, 0.5, 19.9, 20.1, 30.0])
    _same([x], F.softplus, TF.softplus)
    _same([x], lambda a: F.softplus(a, beta=2.0, threshold=10.0), lambda a: TF.softplus(a, beta=2.0, threshold=10.0))
    out = F.softplus(tg.tensor([-50.0], dtype="float64")).item()
    assert out == pytest.approx(np.exp(-50.0), rel=1e-12)


@pytest.mark.parametrize("name,args", [("relu6", ()), ("hardtanh", ()), ("hardtanh", (-2.0, 0.5))])
def test_hardtanh_and_relu6_pass_no_gradient_at_their_bounds_like_torch(name, args):
    """Unlike clamp (gradient 1 on the bounds), PyTorch's hardtanh and relu6 give 0 there."""
    x = np.array([-3.0, -2.0, -1.0, 0.0, 0.25, 0.5, 1.0, 6.0, 7.0])
    _same([x], lambda a: getattr(F, name)(a, *args), lambda a: getattr(TF, name)(a, *args))
    _same([x], lambda a: a.clamp(-1.0, 1.0), lambda a: a.clamp(-1.0, 1.0))          # clamp keeps 1


@pytest.mark.parametrize("key", ["list", "list_then_slice", "slice_then_list"])
def test_an_empty_python_list_index_is_an_empty_integer_index_like_torch(key):
    k = {"list": lambda: [], "list_then_slice": lambda: ([], slice(None)),
         "slice_then_list": lambda: (slice(None), [])}[key]
    out, _ = _same([np.arange(6.0).reshape(3, 2)], lambda a: a[k()] * 2, lambda a: a[k()] * 2)
    assert out.shape == torch.arange(6.0).reshape(3, 2)[k()].shape

"""tg.nn losses: float64 gradcheck of every loss (all reductions, ignore_index, class weights, label
smoothing, (N, C, d) inputs), PyTorch parity of values and gradients, numerical stability and the
errors a learner most often meets (wrong label dtype, labels out of range, shape mismatches)."""
import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import nn
import tinygrad_zh.nn.functional as F
from tinygrad_zh.ops import loss as ops_loss
from tinygrad_zh.ops import softmax as ops_softmax

REDUCTIONS = ["mean", "sum", "none"]


def _torch():
    return pytest.importorskip("torch")


def t64(a, requires_grad=False):
    return tg.Tensor(np.asarray(a, np.float64), dtype="float64", requires_grad=requires_grad)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def probs(*shape, seed=0):
    return np.random.default_rng(seed).uniform(0.1, 0.9, shape)


LABELS = np.array([2, 0, 3, 3, 1])
LABELS_IGNORED = np.array([2, -100, 3, 3, -100])
LABELS_IGNORE_1 = np.array([2, 1, 3, 1, 0])
WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])


# ---------------------------------------------------------------------------- gradcheck (float64)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_regression_losses(reduction):
    x, y = rand(3, 4), rand(3, 4, seed=1)
    assert tg.gradcheck(lambda a, b: F.mse_loss(a, b, reduction=reduction), [t64(x), t64(y)])
    assert tg.gradcheck(lambda a, b: F.l1_loss(a, b, reduction=reduction), [t64(x), t64(y)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs,labels", [({}, LABELS), ({}, LABELS_IGNORED),
                                           ({"ignore_index": 1}, LABELS_IGNORE_1),
                                           ({"weight": WEIGHT}, LABELS_IGNORED),
                                           ({"label_smoothing": 0.2}, LABELS_IGNORED),
                                           ({"weight": WEIGHT, "label_smoothing": 0.1}, LABELS_IGNORED)])
def test_gradcheck_cross_entropy(reduction, kwargs, labels):
    kwargs = dict(kwargs)
    if "weight" in kwargs:
        kwargs["weight"] = t64(kwargs["weight"])
    assert tg.gradcheck(lambda x, y: F.cross_entropy(x, y, reduction=reduction, **kwargs),
                        [t64(rand(5, 4)), tg.tensor(labels)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_nll_and_spatial_cross_entropy(reduction):
    labels = tg.tensor(LABELS_IGNORED)
    assert tg.gradcheck(lambda x, y: F.nll_loss(x.log_softmax(1), y, reduction=reduction), [t64(rand(5, 4)), labels])
    assert tg.gradcheck(lambda x, y: F.nll_loss(x, y, weight=t64(WEIGHT), reduction=reduction),
                        [t64(rand(5, 4)), labels])
    y = tg.tensor([[[0, 2], [1, -100]], [[2, 2], [0, 1]]])             # (N, d1, d2)
    assert tg.gradcheck(lambda x, t: F.cross_entropy(x, t, reduction=reduction), [t64(rand(2, 3, 2, 2)), y])
    p = np.random.default_rng(4).dirichlet(np.ones(3), size=4)        # class probabilities
    assert tg.gradcheck(lambda x, t: F.cross_entropy(x, t, reduction=reduction, label_smoothing=0.1),
                        [t64(rand(4, 3)), t64(p)], check=[0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_binary_losses(reduction):
    p, y = probs(3, 4), probs(3, 4, seed=1)
    w = probs(4, seed=2)
    assert tg.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), [t64(p), t64(y)])
    assert tg.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, weight=t64(w), reduction=reduction),
                        [t64(p), t64(y)])
    x = rand(3, 4) * 3
    for kw in ({}, {"weight": t64(w)}, {"pos_weight": t64(w * 3)}):
        assert tg.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, **kw),
                            [t64(x), t64(y)])


def test_loss_modules_gradcheck():
    x, y = t64(rand(5, 4)), tg.tensor(LABELS_IGNORED)
    assert tg.gradcheck(nn.CrossEntropyLoss(weight=t64(WEIGHT), ignore_index=-100), [x, y])
    assert tg.gradcheck(nn.NLLLoss(reduction="sum"), [x, y])
    assert tg.gradcheck(nn.MSELoss(reduction="sum"), [x, t64(rand(5, 4))])
    assert tg.gradcheck(nn.BCEWithLogitsLoss(pos_weight=t64(WEIGHT)), [x, t64(probs(5, 4))])


# ---------------------------------------------------------------------------- PyTorch parity
def parity(ours_fn, torch_fn, inputs, grad_of=(0,), atol=1e-10, rtol=1e-9):
    """Same float64 inputs -> same loss and same gradients (upstream grad: random for "none")."""
    torch = _torch()
    xo = [tg.Tensor(a, dtype=a.dtype, requires_grad=i in grad_of) for i, a in enumerate(inputs)]
    xt = [torch.tensor(a, requires_grad=i in grad_of) for i, a in enumerate(inputs)]
    lo, lt = ours_fn(*xo), torch_fn(*xt)
    assert lo.shape == tuple(lt.shape)
    np.testing.assert_allclose(lo.numpy(), lt.detach().numpy(), rtol=rtol, atol=atol)
    v = rand(*lo.shape, seed=5) if lo.ndim else np.array(1.7)
    (lo * t64(v)).sum().backward()
    (lt * torch.tensor(v)).sum().backward()
    for i in grad_of:
        np.testing.assert_allclose(xo[i].grad.numpy(), xt[i].grad.numpy(), rtol=rtol, atol=atol, err_msg=f"input {i}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_parity_regression(reduction):
    torch = _torch()
    x, y = rand(4, 3), rand(4, 3, seed=1)
    parity(lambda a, b: nn.MSELoss(reduction=reduction)(a, b), torch.nn.MSELoss(reduction=reduction), [x, y], (0, 1))
    parity(lambda a, b: nn.L1Loss(reduction=reduction)(a, b), torch.nn.L1Loss(reduction=reduction), [x, y], (0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [{}, {"ignore_index": 1}, {"weight": WEIGHT}, {"label_smoothing": 0.15},
                                    {"weight": WEIGHT, "label_smoothing": 0.3, "ignore_index": 3}])
def test_parity_cross_entropy_and_nll(reduction, kwargs):
    torch = _torch()
    labels = np.array([2, 1, 3, 1, 0, kwargs.get("ignore_index", -100)])
    ours_kw = dict(kwargs)
    theirs_kw = dict(kwargs)
    if "weight" in kwargs:
        ours_kw["weight"] = t64(WEIGHT)
        theirs_kw["weight"] = torch.tensor(WEIGHT)
    parity(lambda x, y: nn.CrossEntropyLoss(reduction=reduction, **ours_kw)(x, y),
           torch.nn.CrossEntropyLoss(reduction=reduction, **theirs_kw), [rand(6, 4) * 3, labels])
    ours_kw.pop("label_smoothing", None)
    theirs_kw.pop("label_smoothing", None)
    parity(lambda x, y: nn.NLLLoss(reduction=reduction, **ours_kw)(x.log_softmax(1), y),
           lambda x, y: torch.nn.NLLLoss(reduction=reduction, **theirs_kw)(x.log_softmax(1), y),
           [rand(6, 4), labels])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_parity_cross_entropy_spatial_unbatched_and_probabilities(reduction):
    torch = _torch()
    ce = lambda **kw: (lambda x, y: F.cross_entropy(x, y, reduction=reduction, **kw))
    tce = lambda **kw: (lambda x, y: torch.nn.functional.cross_entropy(x, y, reduction=reduction, **kw))
    spatial = np.array([[[0, 2, 1], [1, -100, 2]], [[2, 2, 0], [0, 1, 1]]])          # (N=2, d1=2, d2=3)
    parity(ce(), tce(), [rand(2, 3, 2, 3), spatial])
    parity(ce(weight=t64([1.0, 2.0, 0.5])), tce(weight=torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)),
           [rand(2, 3, 2, 3), spatial])
    parity(ce(), tce(), [rand(5), np.array(3)])                                     # unbatched (C,)
    p = np.random.default_rng(1).dirichlet(np.ones(4), size=3)
    parity(ce(label_smoothing=0.2), tce(label_smoothing=0.2), [rand(3, 4), p], (0, 1))
    parity(ce(weight=t64(WEIGHT)), tce(weight=torch.tensor(WEIGHT)), [rand(3, 4), p], (0, 1))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_parity_binary(reduction):
    torch = _torch()
    p, y, w = probs(4, 3), probs(4, 3, seed=1), probs(3, seed=2)
    p[0, 0], p[1, 1], p[2, 2] = 0.0, 1.0, 1e-30                   # log clamped to -100 like PyTorch
    parity(lambda a, b: nn.BCELoss(reduction=reduction)(a, b), torch.nn.BCELoss(reduction=reduction), [p, y], (0,),
           rtol=1e-8)
    p2 = probs(4, 3, seed=3)
    parity(lambda a, b: nn.BCELoss(weight=t64(w), reduction=reduction)(a, b),
           torch.nn.BCELoss(weight=torch.tensor(w), reduction=reduction), [p2, y], (0, 1))
    x = rand(4, 3) * 4
    x[0, 0], x[1, 1] = 60.0, -60.0
    for kw in ({}, {"weight": w}, {"pos_weight": w * 3}, {"weight": w[::-1].copy(), "pos_weight": w}):
        parity(lambda a, b: nn.BCEWithLogitsLoss(reduction=reduction, **{k: t64(v) for k, v in kw.items()})(a, b),
               torch.nn.BCEWithLogitsLoss(reduction=reduction, **{k: torch.tensor(v) for k, v in kw.items()}),
               [x, y], (0, 1))


def test_bce_gradient_at_saturated_probabilities_matches_torch():
    torch = _torch()
    p = np.array([0.0, 1.0, 0.5, 1e-30])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    parity(F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, [p, y], (0,), rtol=1e-8)
    # ∂L/∂y of the clamped loss is finite (PyTorch gives ±inf there, the unclamped derivative)
    yt = t64(y, requires_grad=True)
    F.binary_cross_entropy(t64(p), yt, reduction="sum").backward()
    np.testing.assert_allclose(yt.grad.numpy(), [100.0, -100.0, 0.0, np.log1p(-1e-30) + 69.07755278982137],
                               rtol=1e-9)


def test_loss_buffers_and_state_dict_match_torch():
    torch = _torch()
    ours = nn.CrossEntropyLoss(weight=tg.tensor(WEIGHT))
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(WEIGHT))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    ours = nn.BCEWithLogitsLoss(pos_weight=tg.tensor(WEIGHT))
    theirs = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(WEIGHT))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(nn.MSELoss().state_dict()) == []


# ---------------------------------------------------------------------------- behaviour
def test_cross_entropy_is_stable_for_huge_logits():
    x = tg.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(x, tg.tensor([2, 1]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [2e4, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    g = x.grad.numpy()
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [[1, 0, -1], [0, -0.5, 0.5]], atol=1e-6)
    out = F.binary_cross_entropy_with_logits(tg.tensor([1e4, -1e4, 1e4]), tg.tensor([0.0, 1.0, 1.0]),
                                             reduction="none")
    np.testing.assert_allclose(out.numpy(), [1e4, 1e4, 0.0])


def test_cross_entropy_is_one_fused_node_and_keeps_float32():
    x = tg.randn(4, 3, requires_grad=True)
    loss = nn.CrossEntropyLoss()(x, tg.tensor([0, 1, 2, 1]))
    assert isinstance(loss.grad_fn, ops_softmax.SoftmaxCrossEntropy)
    assert loss.dtype == np.float32 and loss.shape == ()
    for fn, args in [(F.mse_loss, (x, tg.randn(4, 3))), (F.binary_cross_entropy_with_logits, (x, tg.rand(4, 3))),
                     (F.binary_cross_entropy, (x.sigmoid(), tg.rand(4, 3))), (F.l1_loss, (x, tg.randn(4, 3)))]:
        out = fn(*args)
        assert out.dtype == np.float32 and out.shape == ()
        assert isinstance(out.grad_fn, (ops_loss.MSELoss, ops_loss.BCEWithLogitsLoss, ops_loss.BCELoss,
                                        ops_loss.L1Loss))


def test_cross_entropy_value_against_hand_computation():
    x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    y = np.array([0, 1])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    expected = -(logp[0, 0] + logp[1, 1]) / 2
    assert F.cross_entropy(t64(x), tg.tensor(y)).item() == pytest.approx(expected, rel=1e-12)
    # ignore_index: ignored rows are left out of the mean
    assert F.cross_entropy(t64(x), tg.tensor([0, -100])).item() == pytest.approx(-logp[0, 0], rel=1e-12)
    # BCE log clamp: p = 0 with label 1 costs exactly 100
    assert F.binary_cross_entropy(t64([0.0]), t64([1.0])).item() == pytest.approx(100.0)


def test_ignored_rows_get_zero_gradient():
    x = t64(rand(4, 3), requires_grad=True)
    F.cross_entropy(x, tg.tensor([0, -100, 2, -100])).backward()
    g = x.grad.numpy()
    assert np.all(g[[1, 3]] == 0) and np.all(g[[0, 2]] != 0)


# ---------------------------------------------------------------------------- errors
def test_wrong_label_dtype_is_a_clear_error():
    x = tg.randn(3, 4)
    with pytest.raises(TypeError, match=r"integer class indices.*float32"):
        F.cross_entropy(x, tg.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"integer class indices.*float32"):
        nn.NLLLoss()(x, tg.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match=r"integer class indices.*bool"):
        F.cross_entropy(x, tg.tensor([True, False, True]))
    with pytest.raises(TypeError, match=r"floating point target.*int64"):
        F.binary_cross_entropy_with_logits(x, tg.tensor([[0, 1, 0, 1]] * 3))
    with pytest.raises(TypeError, match=r"floating point target"):
        nn.BCELoss()(x.sigmoid(), tg.ones(3, 4, dtype="int64"))


def test_out_of_range_labels_are_a_clear_error():
    x = tg.randn(3, 4)
    with pytest.raises(IndexError, match=r"target 4 is out of range for 4 classes"):
        F.cross_entropy(x, tg.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match=r"target -1 is out of range"):
        F.cross_entropy(x, tg.tensor([0, -1, 1]))
    with pytest.raises(IndexError, match=r"target 7 is out of range for 4 classes"):
        F.nll_loss(x, tg.tensor([7, 0, 1]))
    with pytest.raises(IndexError, match=r"out of range"):
        F.cross_entropy(x, tg.tensor([0, 4, 1]), weight=tg.ones(4))


def test_shape_and_argument_errors():
    x = tg.randn(3, 4)
    with pytest.raises(ValueError, match=r"target shape \(4,\) does not match input shape \(3, 4\)"):
        F.cross_entropy(x, tg.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match=r"target shape \(3, 1\) does not match input shape \(3, 4\)"):
        F.mse_loss(x, tg.randn(3, 1))
    with pytest.raises(ValueError, match=r"target shape"):
        nn.BCEWithLogitsLoss()(x, tg.rand(4, 3))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        F.binary_cross_entropy(x * 0 + 2.0, tg.rand(3, 4))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, tg.tensor([0, 1, 2]), reduction="average")
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        F.nll_loss(x, tg.tensor([0, 1, 2]), weight=tg.ones(3))
    with pytest.raises(ValueError, match=r"weight of shape \(2, 3, 4\) does not broadcast"):
        F.binary_cross_entropy_with_logits(x, tg.rand(3, 4), weight=tg.ones(2, 3, 4))

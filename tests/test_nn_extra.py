"""tg.nn extras a learner meets in PyTorch tutorials: F.normalize, F.cosine_similarity, F.logsigmoid,
F.huber_loss / smooth_l1_loss / kl_div, F.pad and the modules HuberLoss, SmoothL1Loss, KLDivLoss,
LogSigmoid, CosineSimilarity, ParameterList, ParameterDict.

Every value and every gradient (of every input that takes one) is compared with PyTorch, for every
reduction / mode / option; float64 gradcheck covers the fused ops; the errors follow PyTorch's types."""
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import nn
import tinygrad_zh.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["mean", "sum", "none"]


def t64(a, requires_grad=False):
    a = np.asarray(a, np.float64)
    return tg.Tensor(a, dtype="float64", requires_grad=requires_grad)


def rand(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


def compare(ours_fn, torch_fn, arrays, grad=None, rtol=1e-10, atol=1e-12, seed=7, equal_nan=False):
    """Run both functions on float64 copies of ``arrays`` and compare the result and the gradients of
    every input listed in ``grad`` (default: all), with a random upstream gradient."""
    grad = range(len(arrays)) if grad is None else grad
    ts = [t64(a, requires_grad=i in grad) for i, a in enumerate(arrays)]
    rs = [torch.tensor(np.asarray(a, np.float64), requires_grad=i in grad) for i, a in enumerate(arrays)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, ref = ours_fn(*ts), torch_fn(*rs)
    assert out.shape == tuple(ref.shape), f"shape {out.shape} != torch {tuple(ref.shape)}"
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol, equal_nan=equal_nan)
    up = np.random.default_rng(seed).standard_normal(tuple(ref.shape)) + 1.5
    out.backward(t64(up))
    ref.backward(torch.tensor(up))
    for i in grad:
        assert ts[i].grad is not None, f"input {i}: no gradient"
        np.testing.assert_allclose(ts[i].grad.numpy(), rs[i].grad.numpy(), rtol=rtol, atol=atol,
                                   equal_nan=equal_nan, err_msg=f"gradient of input {i}")
    return out


# ---------------------------------------------------------------------------- regression losses
# |d| hits 0, exactly ±delta and values on both sides of it (delta = 1 and 0.5 boundaries included)
D = np.array([[0.0, 0.3, -0.5, 0.5, 1.0, -1.0], [2.5, -2.5, 1.7, -0.2, 4.0, -3.1]])
Y = rand(2, 6, seed=3)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("delta", [1.0, 0.5, 2.5, 0.05])
def test_huber_loss_matches_torch(reduction, delta):
    compare(lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=delta),
            lambda x, y: TF.huber_loss(x, y, reduction=reduction, delta=delta), [Y + D, Y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_huber_loss_weight_matches_torch(reduction):
    w = np.random.default_rng(5).uniform(0.1, 2.0, (2, 6))
    compare(lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=0.5, weight=t64(w)),
            lambda x, y: TF.huber_loss(x, y, reduction=reduction, delta=0.5, weight=torch.tensor(w)), [Y + D, Y])
    wrow = np.array([1.0, 2.0, 0.5, 3.0, 0.0, 1.5])                   # PyTorch: the input's shape only
    with pytest.raises(ValueError, match="same size"):
        TF.huber_loss(torch.tensor(Y), torch.tensor(Y), weight=torch.tensor(wrow))
    with pytest.raises(ValueError, match="same shape"):
        F.huber_loss(t64(Y), t64(Y), weight=t64(wrow))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.5, 0.0, 1e-3])
def test_smooth_l1_loss_matches_torch(reduction, beta):
    compare(lambda x, y: F.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
            lambda x, y: TF.smooth_l1_loss(x, y, reduction=reduction, beta=beta), [Y + D, Y])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_modules_match_torch(reduction):
    compare(lambda x, y: nn.HuberLoss(reduction=reduction, delta=0.7)(x, y),
            lambda x, y: torch.nn.HuberLoss(reduction=reduction, delta=0.7)(x, y), [Y + D, Y])
    compare(lambda x, y: nn.SmoothL1Loss(reduction=reduction, beta=0.3)(x, y),
            lambda x, y: torch.nn.SmoothL1Loss(reduction=reduction, beta=0.3)(x, y), [Y + D, Y])
    compare(lambda x, y: nn.HuberLoss(reduction)(x, y), lambda x, y: torch.nn.HuberLoss(reduction)(x, y), [Y + D, Y])
    compare(lambda x, y: nn.SmoothL1Loss()(x, y), lambda x, y: torch.nn.SmoothL1Loss()(x, y), [Y + D, Y])


def test_huber_and_smooth_l1_defaults_and_relation():
    x, y = t64(Y + D), t64(Y)
    assert F.huber_loss(x, y).item() == pytest.approx(F.smooth_l1_loss(x, y).item(), rel=1e-14)  # δ = β = 1
    # Huber_δ = δ · SmoothL1_β=δ (hand-derived from the two definitions)
    assert F.huber_loss(x, y, delta=2.0).item() == pytest.approx(2.0 * F.smooth_l1_loss(x, y, beta=2.0).item())
    big = F.huber_loss(t64([1e6]), t64([0.0]), reduction="sum").item()
    assert big == pytest.approx(1e6 - 0.5)                             # linear far away, not 1e12 / 2


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_regression_losses(reduction):
    x, y = rand(3, 4, scale=2.0), rand(3, 4, seed=1)
    assert tg.gradcheck(lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=0.8), [t64(x), t64(y)],
                        skip_kinks=True)
    assert tg.gradcheck(lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.6), [t64(x), t64(y)],
                        skip_kinks=True)


# ---------------------------------------------------------------------------- KL divergence
LOGP = np.log(np.random.default_rng(2).dirichlet(np.ones(5), size=4))             # input: log-probabilities
TP = np.random.default_rng(3).dirichlet(np.ones(5), size=4)                      # target: probabilities


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    target = np.log(TP) if log_target else TP
    compare(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=log_target),
            lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target), [LOGP, target])
    compare(lambda x, t: nn.KLDivLoss(reduction=reduction, log_target=log_target)(x, t),
            lambda x, t: torch.nn.KLDivLoss(reduction=reduction, log_target=log_target)(x, t), [LOGP, target])


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div_zero_and_negative_targets_like_torch(reduction):
    """0·log 0 counts as 0 (the loss stays finite); the target gradient there is NaN in PyTorch, and
    a negative "probability" gives NaN: both are matched."""
    t = TP.copy()
    t[0, 1] = t[2, 3] = 0.0
    compare(lambda x, y: F.kl_div(x, y, reduction=reduction), lambda x, y: TF.kl_div(x, y, reduction=reduction),
            [LOGP, t], equal_nan=True)
    out = F.kl_div(t64(LOGP), t64(t), reduction="sum")
    assert np.isfinite(out.item())
    t[1, 1] = -0.1
    compare(lambda x, y: F.kl_div(x, y, reduction="none"), lambda x, y: TF.kl_div(x, y, reduction="none"),
            [LOGP, t], grad=[0], equal_nan=True)


def test_kl_div_value_by_hand_and_0d():
    p, q = np.array([0.2, 0.8]), np.array([0.5, 0.5])
    kl = float(np.sum(p * np.log(p / q)))                                # KL(p ‖ q) by definition
    assert F.kl_div(t64(np.log(q)), t64(p), reduction="sum").item() == pytest.approx(kl, rel=1e-14)
    assert F.kl_div(t64(np.log(q))[None], t64(p)[None], reduction="batchmean").item() == pytest.approx(kl)
    compare(lambda x, t: F.kl_div(x, t, reduction="batchmean"), lambda x, t: TF.kl_div(x, t, reduction="batchmean"),
            [np.array(-0.7), np.array(0.3)])


def test_kl_div_mean_warns_like_torch():
    x, t = t64(LOGP), t64(TP)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, t)
    with pytest.warns(UserWarning, match="batchmean"):
        nn.KLDivLoss()(x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, t, reduction="batchmean")


@pytest.mark.filterwarnings("ignore:kl_div. reduction='mean'")
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_gradcheck_kl_div(reduction):
    assert tg.gradcheck(lambda x, t: F.kl_div(x, t, reduction=reduction), [t64(LOGP), t64(TP)])
    assert tg.gradcheck(lambda x, t: F.kl_div(x, t, reduction=reduction, log_target=True),
                        [t64(LOGP), t64(np.log(TP))])


def test_loss_errors_follow_torch():
    x, y = t64(Y), t64(Y)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        F.huber_loss(x, y, delta=0.0)
    with pytest.raises(RuntimeError, match="non-positive values for delta"):
        nn.HuberLoss(delta=-1.0)
    with pytest.raises(RuntimeError, match="negative values for beta"):
        F.smooth_l1_loss(x, y, beta=-0.5)
    with pytest.raises(RuntimeError, match="negative values for beta"):
        nn.SmoothL1Loss(beta=-1)
    with pytest.raises(ValueError, match="reduction"):
        F.kl_div(x, y, reduction="bogus")
    with pytest.raises(ValueError, match="reduction"):
        F.huber_loss(x, y, reduction="batchmean")
    with pytest.raises(ValueError, match="reduction"):
        nn.SmoothL1Loss(reduction="batchmean")
    nn.KLDivLoss(reduction="batchmean")                                    # allowed for KL only
    with pytest.raises(ValueError, match="size_average"):
        F.smooth_l1_loss(x, y, size_average=True)
    with pytest.raises(ValueError, match="size_average"):
        nn.KLDivLoss(reduce=False)
    with pytest.raises(ValueError, match="shape"):
        F.huber_loss(x, t64(rand(6)))
    with pytest.raises(TypeError, match="floating point"):
        F.kl_div(tg.tensor([[1, 2]]), tg.tensor([[1, 0]]), reduction="sum")


def test_losses_keep_float32():
    x, y = tg.tensor(Y.astype(np.float32), requires_grad=True), tg.tensor(Y.astype(np.float32) + 0.5)
    for loss in (F.huber_loss(x, y), F.smooth_l1_loss(x, y, beta=0.2), F.kl_div(x, y.abs(), reduction="batchmean")):
        assert loss.dtype == np.float32
        loss.backward()
        assert x.grad.dtype == np.float32
        x.grad = None


# ---------------------------------------------------------------------------- logsigmoid
def test_logsigmoid_matches_torch_including_extremes():
    x = np.array([-1e4, -800.0, -50.0, -30.0, -20.5, -3.0, -1e-3, 0.0, 2e-3, 1.0, 19.0, 25.0, 40.0, 700.0, 800.0,
                  1e4])
    out = compare(F.logsigmoid, TF.logsigmoid, [x], rtol=1e-14, atol=0)
    assert np.all(np.isfinite(out.numpy()))
    compare(lambda a: nn.LogSigmoid()(a), lambda a: torch.nn.LogSigmoid()(a), [rand(3, 4)])
    x32 = tg.tensor(x.astype(np.float32), requires_grad=True)
    y32 = F.logsigmoid(x32)
    assert y32.dtype == np.float32
    ref = TF.logsigmoid(torch.tensor(x.astype(np.float32)))
    np.testing.assert_allclose(y32.numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)
    y32.sum().backward()
    assert np.all(np.isfinite(x32.grad.numpy()))
    assert tg.gradcheck(F.logsigmoid, [t64(rand(3, 4, scale=5.0))])


def test_logsigmoid_rejects_integers():
    with pytest.raises(TypeError, match="logsigmoid"):
        F.logsigmoid(tg.tensor([1, 2]))


# ---------------------------------------------------------------------------- normalize
@pytest.mark.parametrize("p", [2.0, 1, 3, 0.5, math.inf, 1.5])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_normalize_matches_torch(p, dim):
    x = rand(3, 4, 2)
    x[1, 2, :] = 0.0                                       # a zero vector along dim -1 and a zero element
    x[0, :, 1] = 0.0                                       # a zero vector along dim 1
    compare(lambda a: F.normalize(a, p=p, dim=dim), lambda a: TF.normalize(a, p=p, dim=dim), [x])


def test_normalize_defaults_tiny_vectors_and_eps():
    x = np.array([[1e-14, 2e-14, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    compare(F.normalize, TF.normalize, [x])                        # p=2, dim=1, eps=1e-12
    compare(lambda a: F.normalize(a, eps=0.5), lambda a: TF.normalize(a, eps=0.5), [x * 0.1])
    tiny = np.array([[1e-120, 2e-120], [1.0, 2.0]])                        # Σ|x|³ underflows to 0
    compare(lambda a: F.normalize(a, p=3), lambda a: TF.normalize(a, p=3), [tiny])
    out = F.normalize(t64([[3.0, 4.0]])).numpy()
    np.testing.assert_allclose(out, [[0.6, 0.8]], rtol=1e-15)      # hand-derived: (3, 4) / 5
    assert tg.gradcheck(lambda a: F.normalize(a, p=3, dim=0), [t64(rand(4, 3))])
    with pytest.raises(ValueError, match="p must be"):
        F.normalize(t64(x), p=-1)
    with pytest.raises(NotImplementedError, match="out="):
        F.normalize(t64(x), out=t64(x))


# ---------------------------------------------------------------------------- cosine similarity
@pytest.mark.parametrize("shapes,dim", [(((4, 3), (4, 3)), 1), (((4, 3), (3,)), -1), (((2, 3, 5), (2, 1, 5)), 1),
                                        (((5,), (5,)), 0), (((2, 3, 5), (2, 3, 5)), 0)])
def test_cosine_similarity_matches_torch(shapes, dim):
    a, b = rand(*shapes[0]), rand(*shapes[1], seed=4)
    compare(lambda x, y: F.cosine_similarity(x, y, dim=dim), lambda x, y: TF.cosine_similarity(x, y, dim=dim), [a, b])
    compare(lambda x, y: nn.CosineSimilarity(dim=dim)(x, y),
            lambda x, y: torch.nn.CosineSimilarity(dim=dim)(x, y), [a, b])


def test_cosine_similarity_tiny_and_zero_vectors_like_torch():
    """A norm below eps is raised to eps in value only: the gradient still follows x/‖x‖ (PyTorch)."""
    a = np.array([[1e-10, 2e-10, 0.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    b = np.array([[3.0, -1.0, 2.0], [0.5, 0.1, -2.0], [1.0, 1.0, 1.0]])
    compare(F.cosine_similarity, TF.cosine_similarity, [a, b], rtol=1e-9)
    compare(lambda x, y: F.cosine_similarity(x, y, eps=0.5), lambda x, y: TF.cosine_similarity(x, y, eps=0.5),
            [a * 0.1, b])
    assert F.cosine_similarity(t64([[1.0, 0.0]]), t64([[0.0, 2.0]])).item() == 0.0
    assert F.cosine_similarity(t64([[1.0, 1.0]]), t64([[2.0, 2.0]])).item() == pytest.approx(1.0, abs=1e-15)
    assert tg.gradcheck(lambda x, y: F.cosine_similarity(x, y, dim=0), [t64(rand(4, 2)), t64(rand(4, 2, seed=1))])
    with pytest.raises(ValueError, match="broadcast"):
        F.cosine_similarity(t64(rand(4, 3)), t64(rand(4, 2)))


# ---------------------------------------------------------------------------- pad
CONSTANT_CASES = [((1, 2), (2, 3)), ((0, 0, 2, 1), (2, 3)), ((1, 1, 1, 1, 1, 1), (2, 3, 4)),
                  ((-1, 2), (2, 3)), ((1, -2, -1, 0), (3, 4)), ((2, 0), (4,)), ((-3, 0), (2, 3)),
                  ((1, 1, 0, 0, 2, 2, 1, 0), (2, 2, 2, 2))]


@pytest.mark.parametrize("pad,shape", CONSTANT_CASES)
@pytest.mark.parametrize("value", [None, 0.0, -2.5])
def test_pad_constant_matches_torch(pad, shape, value):
    compare(lambda x: F.pad(x, pad, value=value), lambda x: TF.pad(x, pad, value=value), [rand(*shape)])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad,shape", [((1, 2), (2, 5)), ((3, 1), (2, 3, 4)), ((2, 0, 1, 3), (1, 2, 4, 5)),
                                       ((1, 1, 2, 0), (3, 4, 4)), ((1, 2, 0, 1, 2, 1), (1, 1, 3, 4, 5)),
                                       ((4, 4), (1, 5)), ((0, 2, 1, 1, 1, 0), (2, 3, 3, 4)),
                                       ((-1, 2), (2, 4)), ((2, -1), (2, 4)), ((-1, -1, 1, 2), (1, 3, 5))])
def test_pad_reflect_replicate_circular_match_torch(mode, pad, shape):
    compare(lambda x: F.pad(x, pad, mode=mode), lambda x: TF.pad(x, pad, mode=mode), [rand(*shape)])


def test_pad_by_hand_integer_input_and_gradcheck():
    x = tg.tensor([1, 2, 3])
    assert F.pad(x, (1, 1), value=2.7).tolist() == [2, 1, 2, 3, 2]          # int tensor: value cast to int
    assert F.pad(tg.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect").tolist() == [[3, 2, 1, 2, 3, 2]]
    assert F.pad(tg.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="replicate").tolist() == [[1, 1, 1, 2, 3, 3]]
    assert F.pad(tg.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="circular").tolist() == [[2, 3, 1, 2, 3, 1]]
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert tg.gradcheck(lambda a: F.pad(a, (2, 1, 1, 2), mode=mode), [t64(rand(1, 3, 4))])
    y = F.pad(tg.tensor(np.ones((2, 3), np.float32), requires_grad=True), (1, 1))
    assert y.dtype == np.float32 and y.shape == (2, 5)


def test_pad_errors():
    x = t64(rand(2, 3, 4))
    with pytest.raises(NotImplementedError, match="'bogus'"):
        F.pad(x, (1, 1), mode="bogus")
    with pytest.raises(RuntimeError, match="divisible by 2"):
        F.pad(x, (1,))
    with pytest.raises(RuntimeError, match="less than or equal to two times"):
        F.pad(x, (1,) * 8)
    with pytest.raises(RuntimeError, match="doesn't take a value"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)
    F.pad(x, (1, 1), mode="reflect", value=0.0)                            # PyTorch accepts 0
    with pytest.raises(NotImplementedError, match="'reflect'"):
        F.pad(t64(rand(4)), (1, 1), mode="reflect")                       # 1-D: no batch/channel dim
    with pytest.raises(NotImplementedError, match="'replicate'"):
        F.pad(x, (1, 1, 1, 1, 1, 1), mode="replicate")                    # 6 values need 4-D or 5-D
    with pytest.raises(RuntimeError, match="smaller than the size"):
        F.pad(x, (4, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="more than once"):
        F.pad(x, (5, 0), mode="circular")
    with pytest.raises(RuntimeError, match="negative size"):
        F.pad(x, (-3, -2))
    with pytest.raises(TypeError, match="sequence of ints"):
        F.pad(x, (1.5, 1))


# ---------------------------------------------------------------------------- ParameterList / ParameterDict
class _Both:
    """The same model in tinygrad_zh and PyTorch: a ParameterList and a ParameterDict of parameters."""

    def __init__(self, lib, nnlib, params):
        class M(nnlib.Module):
            def __init__(self):
                super().__init__()
                f64 = lib.float64
                self.plist = nnlib.ParameterList([nnlib.Parameter(lib.tensor(params[0], dtype=f64)),
                                                  lib.tensor(params[1], dtype=f64)])
                self.pdict = nnlib.ParameterDict({"beta": lib.tensor(params[2], dtype=f64),
                                                  "alpha": nnlib.Parameter(lib.tensor(params[3], dtype=f64))})

            def forward(self, x):
                h = (x * self.plist[0]).sum() + self.plist[1].sum()
                return h * self.pdict["alpha"].sum() + (self.pdict["beta"] ** 2).sum()
        self.m = M()


def test_parameter_containers_names_state_dict_and_training_like_torch():
    vals = [rand(3), rand(2, seed=1), rand(2, seed=2), rand(1, seed=3)]
    ours = _Both(tg, nn, [v.copy() for v in vals]).m
    ref = _Both(torch, torch.nn, [v.copy() for v in vals]).m
    names = [n for n, _ in ref.named_parameters()]
    assert names == ["plist.0", "plist.1", "pdict.alpha", "pdict.beta"]        # plain dict: keys sorted
    assert [n for n, _ in ours.named_parameters()] == names
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in ours.parameters())
    opt = tg.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    topt = torch.optim.SGD(ref.parameters(), lr=0.05, momentum=0.9)
    x = rand(3, seed=9)
    for _ in range(3):
        opt.zero_grad()
        topt.zero_grad()
        ours(t64(x)).backward()
        ref(torch.tensor(x)).backward()
        opt.step()
        topt.step()
    for (n, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, err_msg=n)
    fresh = _Both(tg, nn, [np.zeros_like(v) for v in vals]).m
    fresh.load_state_dict({k: t64(v.detach().numpy()) for k, v in ref.state_dict().items()})
    for (n, p), (_, q) in zip(fresh.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, err_msg=n)


def test_parameter_list_operations():
    pl = nn.ParameterList()
    assert len(pl) == 0 and list(pl.parameters()) == []
    pl.append(tg.ones(2, 3))
    pl += [nn.Parameter(tg.zeros(4))]
    pl.extend([tg.zeros(1)])
    assert len(pl) == 3 and [tuple(p.shape) for p in pl] == [(2, 3), (4,), (1,)]
    assert pl[-1] is pl[2] and isinstance(pl[0], nn.Parameter)
    sub = pl[1:]
    assert isinstance(sub, nn.ParameterList) and len(sub) == 2 and sub[0] is pl[1]
    new = nn.Parameter(tg.ones(5))
    pl[1] = new
    assert pl[1] is new and [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    assert "\n    (0): Parameter containing: [torch.float32 of size 2x3]\n" in repr(pl)
    tref = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2, 3))])
    assert repr(nn.ParameterList([nn.Parameter(tg.ones(2, 3))])) == repr(tref)
    with pytest.raises(IndexError, match="out of range"):
        pl[3]
    with pytest.raises(TypeError, match="Parameter or Tensor"):
        pl.append(1.0)
    with pytest.raises(TypeError):
        pl["a"]
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(tg.ones(1))
    pl.double()
    assert all(p.dtype == np.float64 for p in pl)


def test_parameter_dict_operations():
    pd = nn.ParameterDict()
    pd["w"] = tg.ones(2)
    pd.update([("z", tg.zeros(1)), ("a", tg.zeros(3))])                    # pairs: order kept
    pd.update(OrderedDict([("y", tg.ones(1)), ("b", tg.ones(1))]))          # OrderedDict: order kept
    pd.update({"d": tg.ones(1), "c": tg.ones(1)})                           # plain dict: sorted (PyTorch)
    ref = torch.nn.ParameterDict()
    ref["w"] = torch.ones(2)
    ref.update([("z", torch.zeros(1)), ("a", torch.zeros(3))])
    ref.update(OrderedDict([("y", torch.ones(1)), ("b", torch.ones(1))]))
    ref.update({"d": torch.ones(1), "c": torch.ones(1)})
    assert list(pd.keys()) == list(ref.keys()) == ["w", "z", "a", "y", "b", "c", "d"]
    assert "a" in pd and "q" not in pd and len(pd) == 7 and pd.get("q") is None
    assert isinstance(pd["w"], nn.Parameter) and pd["w"].requires_grad
    assert pd.pop("a").shape == (3,) and "a" not in pd
    del pd["z"]
    assert pd.setdefault("k", tg.ones(3)).shape == (3,) and list(pd)[-1] == "k"
    cp = pd.copy()
    assert list(cp.keys()) == list(pd.keys()) and cp["w"] is pd["w"]
    assert [n for n, _ in pd.named_parameters()] == list(pd.keys())
    with pytest.raises(TypeError, match="strings"):
        pd[1] = tg.ones(1)
    with pytest.raises(KeyError):
        pd["a.b"] = tg.ones(1)
    with pytest.raises(TypeError, match="Parameter or Tensor"):
        pd["x"] = "nope"
    with pytest.raises(ValueError, match="pair"):
        pd.update([("only-one",)])
    pd.clear()
    assert len(pd) == 0

"""tg.optim.lr_scheduler: LinearLR, PolynomialLR, CosineAnnealingWarmRestarts and OneCycleLR against
PyTorch: the learning rates (and the cycled momentum / beta1) of every step for every option, the
parameters of a short training run, stacking, state_dict resume and the errors."""
import math

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh.nn import Parameter
from tinygrad_zh.optim import lr_scheduler as tls

torch = pytest.importorskip("torch")


def _opts(opt_name="SGD", n_groups=2, **opt_kw):
    """The same optimizer in both libraries, one parameter per group, group i with lr 0.1·(i+1)."""
    ours = getattr(tg.optim, opt_name)(
        [{"params": [Parameter(tg.tensor([1.0]))], "lr": 0.1 * (i + 1)} for i in range(n_groups)], **opt_kw)
    ref = getattr(torch.optim, opt_name)(
        [{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1 * (i + 1)} for i in range(n_groups)], **opt_kw)
    return ours, ref


def _momentum(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def run_pair(cls, kw, n=30, opt_name="SGD", n_groups=2, opt_kw=None, epochs=None):
    """Step both schedulers ``n`` times (optimizer first); return the lr and momentum histories."""
    ours, ref = _opts(opt_name, n_groups, **(opt_kw or {"lr": 0.1}))
    s = getattr(tls, cls)(ours, **kw)
    ts = getattr(torch.optim.lr_scheduler, cls)(ref, **kw)
    lrs, tlrs = [s.get_last_lr()], [ts.get_last_lr()]
    moms, tmoms = [_momentum(ours)], [_momentum(ref)]
    for i in range(n):
        ours.step()
        ref.step()
        if epochs is None or epochs[i] is None:
            s.step()
            ts.step()
        else:
            s.step(epochs[i])
            ts.step(epochs[i])
        lrs.append(s.get_last_lr())
        tlrs.append(ts.get_last_lr())
        moms.append(_momentum(ours))
        tmoms.append(_momentum(ref))
        assert [g["lr"] for g in ours.param_groups] == lrs[-1]
    return (np.array(lrs), np.array(tlrs)), (np.array(moms, dtype=float), np.array(tmoms, dtype=float)), s


def assert_same(pair, rtol=1e-13, atol=1e-16):
    ours, ref = pair
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------- LinearLR / PolynomialLR
@pytest.mark.parametrize("kw", [{}, dict(start_factor=0.1, total_iters=8), dict(start_factor=1.0, end_factor=0.2),
                                dict(start_factor=0.5, end_factor=0.0, total_iters=4),
                                dict(start_factor=0.25, end_factor=0.75, total_iters=1)])
def test_linear_lr_matches_torch(kw):
    lrs, _, _ = run_pair("LinearLR", kw, n=15)
    assert len(set(lrs[0][:, 0].tolist())) > 1
    assert_same(lrs)


def test_linear_lr_warmup_by_hand():
    opt = tg.optim.SGD([Parameter(tg.tensor([1.0]))], lr=1.0)
    s = tls.LinearLR(opt, start_factor=0.25, total_iters=3)
    got = [s.get_last_lr()[0]]
    for _ in range(5):
        opt.step()
        s.step()
        got.append(s.get_last_lr()[0])
    np.testing.assert_allclose(got, [0.25, 0.5, 0.75, 1.0, 1.0, 1.0], rtol=1e-15)   # 0.25 + 0.75·e/3


@pytest.mark.parametrize("kw", [{}, dict(total_iters=10, power=2.0), dict(total_iters=7, power=0.5),
                                dict(total_iters=1)])
def test_polynomial_lr_matches_torch(kw):
    lrs, _, _ = run_pair("PolynomialLR", kw, n=14)
    assert lrs[0][-1, 0] == 0.0                                       # decayed all the way to 0
    assert_same(lrs)


def test_chained_linear_warmup_then_exponential_matches_torch():
    ours, ref = _opts()
    a, b = tls.LinearLR(ours, start_factor=0.2, total_iters=4), tls.ExponentialLR(ours, gamma=0.9)
    ta = torch.optim.lr_scheduler.LinearLR(ref, start_factor=0.2, total_iters=4)
    tb = torch.optim.lr_scheduler.ExponentialLR(ref, gamma=0.9)
    got, want = [], []
    for _ in range(10):
        ours.step()
        ref.step()
        for s in (a, b, ta, tb):
            s.step()
        got.append(b.get_last_lr())
        want.append(tb.get_last_lr())
    np.testing.assert_allclose(got, want, rtol=1e-13)


# ---------------------------------------------------------------------------- CosineAnnealingWarmRestarts
@pytest.mark.parametrize("kw", [dict(T_0=5), dict(T_0=3, T_mult=2), dict(T_0=4, T_mult=3, eta_min=0.01),
                                dict(T_0=1, T_mult=2), dict(T_0=2, eta_min=0.05)])
def test_cosine_warm_restarts_matches_torch(kw):
    lrs, _, s = run_pair("CosineAnnealingWarmRestarts", kw, n=40)
    assert_same(lrs)
    assert lrs[0][:, 0].max() == pytest.approx(0.1)                  # every restart goes back to base_lr


@pytest.mark.parametrize("kw", [dict(T_0=3), dict(T_0=2, T_mult=2, eta_min=0.001)])
def test_cosine_warm_restarts_fractional_epochs_like_the_docs(kw):
    """``scheduler.step(epoch + i / iters)`` once per batch (the PyTorch docs' example), and jumps."""
    iters = 4
    epochs = [e + i / iters for e in range(8) for i in range(iters)]
    lrs, _, _ = run_pair("CosineAnnealingWarmRestarts", kw, n=len(epochs), epochs=epochs)
    assert_same(lrs)
    jumps = [5, 2, 9.5, 0, 13, 6.75, None, None]                         # then plain step()s: epochs 7, 8
    lrs, _, s = run_pair("CosineAnnealingWarmRestarts", kw, n=len(jumps), epochs=jumps)
    assert_same(lrs)
    assert s.last_epoch == 8


def test_cosine_warm_restarts_by_hand():
    opt = tg.optim.SGD([Parameter(tg.tensor([1.0]))], lr=1.0)
    s = tls.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)            # cycles of 2, 4, 8 epochs
    got = [s.get_last_lr()[0]]
    for _ in range(6):
        opt.step()
        s.step()
        got.append(s.get_last_lr()[0])
    c = lambda t, T: (1 + math.cos(math.pi * t / T)) / 2                 # noqa: E731
    np.testing.assert_allclose(got, [1.0, c(1, 2), 1.0, c(1, 4), c(2, 4), c(3, 4), 1.0], rtol=1e-15, atol=1e-16)


# ---------------------------------------------------------------------------- OneCycleLR
ONECYCLE = [dict(max_lr=1.0, total_steps=20), dict(max_lr=[0.5, 2.0], total_steps=17, pct_start=0.4),
            dict(max_lr=0.3, epochs=3, steps_per_epoch=7, anneal_strategy="linear"),
            dict(max_lr=1.0, total_steps=25, three_phase=True),
            dict(max_lr=1.0, total_steps=30, three_phase=True, anneal_strategy="linear", pct_start=0.2),
            dict(max_lr=1.0, total_steps=12, div_factor=10.0, final_div_factor=100.0, base_momentum=0.8,
                 max_momentum=[0.9, 0.99]),
            dict(max_lr=0.5, total_steps=15, cycle_momentum=False)]


@pytest.mark.parametrize("kw", ONECYCLE)
@pytest.mark.parametrize("opt_name,opt_kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.1)),
                                             ("SGD", dict(lr=0.1))])
def test_one_cycle_matches_torch(kw, opt_name, opt_kw):
    n = kw.get("total_steps", 21) - 1                               # the constructor took step 0
    lrs, moms, _ = run_pair("OneCycleLR", kw, n=n, opt_name=opt_name, opt_kw=opt_kw)
    assert_same(lrs)
    assert_same(moms)
    peak = np.broadcast_to(kw["max_lr"], (2,))
    top = lrs[0].max(axis=0)                                        # peaks near max_lr, never above it
    assert np.all(top <= peak * (1 + 1e-12)) and np.all(top >= 0.9 * peak)
    if kw.get("cycle_momentum", True):
        assert len(set(moms[0][:, 0].tolist())) > 2                   # the momentum / beta1 does cycle
    else:
        assert len(set(moms[0][:, 0].tolist())) == 1


def test_one_cycle_training_run_matches_torch():
    """Adam + OneCycleLR on a small regression: the parameters agree (beta1 changes every step)."""
    rng = np.random.default_rng(0)
    w0, x, y = rng.standard_normal((3, 4)), rng.standard_normal((8, 4)), rng.standard_normal((8, 3))
    p = Parameter(tg.tensor(w0, dtype=tg.float64))
    q = torch.tensor(w0, requires_grad=True)
    opt, topt = tg.optim.Adam([p], lr=0.01), torch.optim.Adam([q], lr=0.01)
    s = tls.OneCycleLR(opt, max_lr=0.05, total_steps=15, three_phase=True)
    ts = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.05, total_steps=15, three_phase=True)
    X, Y = tg.tensor(x, dtype=tg.float64), tg.tensor(y, dtype=tg.float64)
    for _ in range(15):
        opt.zero_grad()
        topt.zero_grad()
        ((X @ p.T - Y) ** 2).mean().backward()
        ((torch.tensor(x) @ q.T - torch.tensor(y)) ** 2).mean().backward()
        opt.step()
        topt.step()
        s.step()
        ts.step()
    np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-11, atol=1e-13)
    assert opt.param_groups[0]["betas"] == pytest.approx(topt.param_groups[0]["betas"], rel=1e-13)


def test_one_cycle_too_many_steps_and_errors():
    opt = tg.optim.SGD([Parameter(tg.tensor([1.0]))], lr=0.1, momentum=0.9)
    s = tls.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        opt.step()
        s.step()
    with pytest.raises(ValueError, match="total steps is 3"):
        s.step()
    with pytest.raises(ValueError, match="total_steps OR"):
        tls.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="total_steps OR"):
        tls.OneCycleLR(opt, max_lr=1.0, epochs=3)
    with pytest.raises(ValueError, match="total_steps"):
        tls.OneCycleLR(opt, max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="pct_start"):
        tls.OneCycleLR(opt, max_lr=1.0, total_steps=5, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        tls.OneCycleLR(opt, max_lr=1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="one per param group"):
        tls.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=5)
    ada = tg.optim.Adagrad([Parameter(tg.tensor([1.0]))], lr=0.1)
    with pytest.raises(ValueError, match="momentum or betas"):
        tls.OneCycleLR(ada, max_lr=1.0, total_steps=5)
    tls.OneCycleLR(ada, max_lr=1.0, total_steps=5, cycle_momentum=False)
    tada = torch.optim.Adagrad([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError):
        torch.optim.lr_scheduler.OneCycleLR(tada, max_lr=1.0, total_steps=5)


def test_errors_of_the_other_schedulers():
    opt = tg.optim.SGD([Parameter(tg.tensor([1.0]))], lr=0.1)
    with pytest.raises(ValueError, match="start_factor"):
        tls.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="start_factor"):
        tls.LinearLR(opt, start_factor=1.5)
    with pytest.raises(ValueError, match="end_factor"):
        tls.LinearLR(opt, end_factor=1.5)
    with pytest.raises(ValueError, match="T_0"):
        tls.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="T_mult"):
        tls.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
    with pytest.raises(ValueError, match="T_mult"):
        tls.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=1.5)
    with pytest.raises(ValueError, match="eta_min"):
        tls.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0")
    opt.step()
    with pytest.raises(ValueError, match="non-negative epoch"):
        tls.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1)
    with pytest.raises(ValueError, match="total_iters"):
        tls.PolynomialLR(opt, total_iters=0)


# ---------------------------------------------------------------------------- resume
@pytest.mark.parametrize("make", [
    lambda o: tls.OneCycleLR(o, max_lr=1.0, total_steps=20),
    lambda o: tls.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    lambda o: tls.LinearLR(o, start_factor=0.1, total_iters=10),
    lambda o: tls.PolynomialLR(o, total_iters=12, power=2.0),
])
def test_state_dict_resume_continues_identically(tmp_path, make):
    def fresh():
        return tg.optim.SGD([Parameter(tg.tensor([1.0]))], lr=0.1, momentum=0.9)
    opt = fresh()
    s = make(opt)
    for _ in range(5):
        opt.step()
        s.step()
    tg.save({"opt": opt.state_dict(), "s": s.state_dict()}, tmp_path / "ck")
    rest = []
    for _ in range(8):
        opt.step()
        s.step()
        rest.append((s.get_last_lr()[0], opt.param_groups[0]["momentum"]))
    ck = tg.load(tmp_path / "ck")
    opt2 = fresh()
    s2 = make(opt2)
    opt2.load_state_dict(ck["opt"])
    s2.load_state_dict(ck["s"])
    rest2 = []
    for _ in range(8):
        opt2.step()
        s2.step()
        rest2.append((s2.get_last_lr()[0], opt2.param_groups[0]["momentum"]))
    assert rest == rest2

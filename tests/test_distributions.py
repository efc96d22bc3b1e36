"""tinygrad_zh.distributions against torch.distributions.

* log_prob / entropy / mean / variance / stddev / mode / cdf and their gradients: the same float64
  parameters in both libraries, the same weights on the outputs, values and parameter gradients compared;
* sample / rsample shapes and dtypes for several sample_shapes; rsample's reparameterisation gradient;
* sample statistics over many draws with a fixed seed, within 4 standard errors;
* invalid arguments raise what PyTorch raises (ValueError by default; validate_args=False skips the checks);
* a d2l 2.6 style dice script run with PyTorch and through ``python -m tinygrad_zh.as_torch``.
"""
import json
import math
import re
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.distributions as tgd

torch = pytest.importorskip("torch")
import torch.distributions as thd  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)
SE_TOL = 4.0           # sample statistics: within 4 standard errors (seeded, so deterministic)


def _params(arrays):
    """The same float64 arrays as (ours, torch) leaves that require grad; Python numbers stay numbers."""
    ours, theirs = [], []
    for a in arrays:
        if isinstance(a, np.ndarray):
            ours.append(tg.tensor(a, dtype=tg.float64, requires_grad=True))
            theirs.append(torch.tensor(a, requires_grad=True))
        else:
            ours.append(a)
            theirs.append(a)
    return ours, theirs


def _value(v, lib):
    if v is None:
        return None
    return tg.tensor(v, dtype=tg.float64 if v.dtype.kind == "f" else None) if lib is tg else torch.tensor(v)


def _positive(*shape):
    return RNG.uniform(0.3, 2.0, size=shape)


def _unit(*shape):
    return RNG.uniform(0.05, 0.95, size=shape)


# (name, constructor(module, *params) -> distribution, parameter arrays, log_prob value)
CASES = [
    ("normal", lambda d, m, s: d.Normal(m, s), [RNG.normal(size=(2, 3)), _positive(3)], RNG.normal(size=(4, 2, 3))),
    ("normal_number_scale", lambda d, m: d.Normal(m, 2.0), [RNG.normal(size=(3,))], RNG.normal(size=(3,))),
    ("normal_number_loc", lambda d, s: d.Normal(0.5, s), [_positive(2, 1)], RNG.normal(size=(2, 3))),
    ("bernoulli_probs", lambda d, p: d.Bernoulli(probs=p), [_unit(3, 4)], RNG.integers(0, 2, (3, 4)) * 1.0),
    ("bernoulli_half", lambda d, p: d.Bernoulli(p), [np.array([0.5, 0.25])], np.array([[1.0, 0.0], [0.0, 1.0]])),
    ("bernoulli_logits", lambda d, lg: d.Bernoulli(logits=lg), [RNG.normal(size=(3, 4)) * 3],
     RNG.integers(0, 2, (2, 3, 4)) * 1.0),
    ("categorical_probs", lambda d, p: d.Categorical(p), [_positive(2, 5)], RNG.integers(0, 5, (3, 2))),
    ("categorical_logits", lambda d, lg: d.Categorical(logits=lg), [RNG.normal(size=(2, 5))],
     RNG.integers(0, 5, (3, 1))),
    ("categorical_1d", lambda d, p: d.Categorical(probs=p), [_positive(6)], RNG.integers(0, 6, (7,))),
    ("multinomial_probs", lambda d, p: d.Multinomial(7, p), [_positive(2, 4)],
     np.array([[2.0, 0.0, 4.0, 1.0], [0.0, 7.0, 0.0, 0.0]])),
    ("multinomial_logits", lambda d, lg: d.Multinomial(5, logits=lg), [RNG.normal(size=(4,))],
     np.array([[1.0, 1.0, 3.0, 0.0], [0.0, 0.0, 0.0, 5.0]])),
    ("multinomial_zero_prob", lambda d, p: d.Multinomial(4, p), [np.array([0.0, 1.0, 3.0])], np.array([0.0, 1.0, 3.0])),
    ("uniform", lambda d, lo, hi: d.Uniform(lo, hi), [-1 - _positive(3), 1 + _positive(2, 3)],
     RNG.uniform(-1, 1, (4, 2, 3))),
    ("uniform_numbers", lambda d, hi: d.Uniform(-1.0, hi), [_positive(3)], RNG.uniform(-1, 0.2, (3,))),
]
QUANTITIES = {
    "log_prob": lambda dist, v: dist.log_prob(v),
    "entropy": lambda dist, v: dist.entropy(),
    "mean": lambda dist, v: dist.mean,
    "variance": lambda dist, v: dist.variance,
    "stddev": lambda dist, v: dist.stddev,
    "mode": lambda dist, v: dist.mode,
    "probs": lambda dist, v: dist.probs,
    "logits": lambda dist, v: dist.logits,
    "cdf": lambda dist, v: dist.cdf(v),
    "icdf": lambda dist, v: dist.icdf(v.clamp(0, 1)),
    "perplexity": lambda dist, v: dist.perplexity(),
}


def _torch_has(case, qname):
    """Whether PyTorch computes this quantity for this case (then ours must give the same)."""
    _, build, params, value = case
    dist = build(thd, *_params(params)[1])
    try:
        QUANTITIES[qname](dist, _value(value, torch))
    except (NotImplementedError, AttributeError):
        return False
    return True


NOT_YET = {("normal", "cdf"), ("normal", "icdf")}      # need erf / erfinv, which tinygrad_zh has no op for yet
COMPARED = [(c[0], q, c[1], c[2], c[3]) for c in CASES for q in QUANTITIES
            if _torch_has(c, q) and (c[0].split("_")[0], q) not in NOT_YET]


def test_normal_cdf_says_it_is_not_there_yet():
    for method in ("cdf", "icdf"):
        with pytest.raises(NotImplementedError, match="erf"):
            getattr(tgd.Normal(0.0, 1.0), method)(tg.tensor(0.5))


def _compare(name, qname, build, params, value):
    ours_p, torch_p = _params(params)
    d_torch = build(thd, *torch_p)
    d_ours = build(tgd, *ours_p)
    v_torch, v_ours = _value(value, torch), _value(value, tg)
    t = QUANTITIES[qname](d_torch, v_torch)
    o = QUANTITIES[qname](d_ours, v_ours)
    what = f"{name}.{qname}"
    assert tuple(o.shape) == tuple(t.shape), f"{what}: shape {tuple(o.shape)}, PyTorch {tuple(t.shape)}"
    assert str(o.dtype) == str(t.dtype).replace("torch.", ""), f"{what}: dtype {o.dtype}, PyTorch {t.dtype}"
    # PyTorch's Multinomial.entropy takes lgamma(n + 1) of an int64 tensor, which gives float32 (±5e-7);
    # ours is float64 throughout. Everything else agrees to float64 rounding.
    loose = name.startswith("multinomial") and qname in ("entropy", "perplexity")
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-6 if loose else 1e-9, atol=1e-12,
                               equal_nan=True, err_msg=what)
    if not t.requires_grad or bool(t.isnan().all()):     # Uniform.mode: NaN, its gradient meaningless
        return
    w = RNG.normal(size=tuple(t.shape))
    (t * torch.tensor(w)).sum().backward()
    (o * tg.tensor(w, dtype=tg.float64)).sum().backward()
    for k, (po, pt) in enumerate(zip(ours_p, torch_p)):
        if isinstance(pt, torch.Tensor):
            gt = np.zeros(pt.shape) if pt.grad is None else pt.grad.numpy()
            go = np.zeros(po.shape) if po.grad is None else po.grad.numpy()
            np.testing.assert_allclose(go, gt, rtol=1e-6 if loose else 1e-7, atol=1e-10,
                                       err_msg=f"{what}: gradient of parameter {k}")


@pytest.mark.parametrize("name,qname,build,params,value", COMPARED, ids=[f"{c[0]}-{c[1]}" for c in COMPARED])
def test_formulas_and_gradients_match_torch(name, qname, build, params, value):
    _compare(name, qname, build, params, value)


def test_uniform_log_prob_outside_the_support_without_validation():
    lo, hi = np.array([0.0, 1.0]), np.array([1.0, 3.0])
    value = np.array([[-0.5, 2.0], [0.5, 3.0]])
    _compare("uniform_outside", "log_prob", lambda d, a, b: d.Uniform(a, b, validate_args=False), [lo, hi], value)


def test_categorical_entropy_with_a_zero_probability_is_finite():
    _compare("categorical_zero", "entropy", lambda d, p: d.Categorical(p), [np.array([[0.0, 1.0, 3.0]])], None)
    _compare("categorical_zero", "log_prob", lambda d, p: d.Categorical(p), [np.array([[0.0, 1.0, 3.0]])],
             np.array([1, 2]))


def test_policy_gradient_step_matches_torch():
    """REINFORCE: loss = -(log π(a|s) · R).mean() - 0.01·H, through a linear layer, same actions."""
    w = RNG.normal(size=(4, 3))
    s = RNG.normal(size=(5, 4))
    actions, rewards = RNG.integers(0, 3, (5,)), RNG.normal(size=(5,))
    grads = []
    for lib, dmod in ((torch, thd), (tg, tgd)):
        W = lib.tensor(w, requires_grad=True) if lib is torch else tg.tensor(w, dtype=tg.float64, requires_grad=True)
        S = lib.tensor(s) if lib is torch else tg.tensor(s, dtype=tg.float64)
        dist = dmod.Categorical(logits=S @ W)
        a = lib.tensor(actions)
        r = lib.tensor(rewards) if lib is torch else tg.tensor(rewards, dtype=tg.float64)
        loss = -(dist.log_prob(a) * r).mean() - 0.01 * dist.entropy().mean()
        loss.backward()
        grads.append(W.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-9)


# ---------------------------------------------------------------------------- shapes and dtypes
SHAPE_CASES = [
    ("normal", lambda d, lib: d.Normal(lib.zeros(2, 3), 1.0)),
    ("normal_scalar", lambda d, lib: d.Normal(0.0, 1.0)),
    ("normal_float64", lambda d, lib: d.Normal(lib.zeros(3, dtype=lib.float64), 2.0)),
    ("bernoulli", lambda d, lib: d.Bernoulli(lib.full((3,), 0.3))),
    ("bernoulli_logits", lambda d, lib: d.Bernoulli(logits=0.2)),
    ("categorical", lambda d, lib: d.Categorical(lib.ones(2, 6))),
    ("categorical_1d", lambda d, lib: d.Categorical(logits=lib.zeros(4))),
    ("multinomial", lambda d, lib: d.Multinomial(10, lib.ones(6) / 6)),
    ("multinomial_batch", lambda d, lib: d.Multinomial(3, lib.ones(2, 4, dtype=lib.float64))),
    ("uniform", lambda d, lib: d.Uniform(lib.zeros(3), lib.ones(3))),
    ("uniform_scalar", lambda d, lib: d.Uniform(2.0, 5.0)),
]


@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3), [4]], ids=str)
@pytest.mark.parametrize("name,build", SHAPE_CASES, ids=[c[0] for c in SHAPE_CASES])
def test_sample_shapes_and_dtypes_match_torch(name, build, sample_shape):
    dt, do = build(thd, torch), build(tgd, tg)
    assert tuple(do.batch_shape) == tuple(dt.batch_shape) and tuple(do.event_shape) == tuple(dt.event_shape)
    assert isinstance(do.batch_shape, tg.Size) and isinstance(do.event_shape, tg.Size)
    assert do.has_rsample == dt.has_rsample and do.has_enumerate_support == dt.has_enumerate_support
    for method in ("sample", "rsample") if dt.has_rsample else ("sample",):
        t, o = getattr(dt, method)(sample_shape), getattr(do, method)(sample_shape)
        assert tuple(o.shape) == tuple(t.shape), f"{name}.{method}{sample_shape}: {o.shape} vs {t.shape}"
        assert str(o.dtype) == str(t.dtype).replace("torch.", ""), f"{name}.{method}: {o.dtype} vs {t.dtype}"
    assert not do.sample(sample_shape).requires_grad
    if dt.has_enumerate_support:
        for expand in (True, False):
            t, o = dt.enumerate_support(expand), do.enumerate_support(expand)
            np.testing.assert_array_equal(o.numpy(), t.numpy())
            assert str(o.dtype) == str(t.dtype).replace("torch.", "")
    number = r"-?\d+\.\d+(e-?\d+)?"                  # float32 values may differ in the last digit
    assert re.sub(number, "#", repr(do)) == re.sub(number, "#", repr(dt))


def test_sample_is_not_differentiable_and_rsample_is_reparameterised():
    loc = tg.tensor([0.5, -1.0], dtype=tg.float64, requires_grad=True)
    scale = tg.tensor([2.0, 0.5], dtype=tg.float64, requires_grad=True)
    d = tgd.Normal(loc, scale)
    assert not d.sample((3,)).requires_grad
    x = d.rsample((3,))
    x.sum().backward()
    eps = (x.detach().numpy() - loc.detach().numpy()) / scale.detach().numpy()      # x = μ + σ·ε
    np.testing.assert_allclose(loc.grad.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0), rtol=1e-12)
    lo = tg.tensor(-1.0, dtype=tg.float64, requires_grad=True)
    hi = tg.tensor(3.0, dtype=tg.float64, requires_grad=True)
    u = tgd.Uniform(lo, hi).rsample((4,))
    u.sum().backward()
    frac = (u.detach().numpy() + 1.0) / 4.0                                          # x = low + (high-low)·u
    np.testing.assert_allclose(hi.grad.item(), frac.sum(), rtol=1e-12)
    np.testing.assert_allclose(lo.grad.item(), (1 - frac).sum(), rtol=1e-12)
    with pytest.raises(NotImplementedError):
        tgd.Bernoulli(0.3).rsample()


# ---------------------------------------------------------------------------- statistics
N = 20000


def _within(observed, expected, se, what):
    observed, expected, se = map(np.asarray, (observed, expected, se))
    bad = np.abs(observed - expected) > SE_TOL * se
    assert not bad.any(), f"{what}: observed {observed}, expected {expected} ± {SE_TOL}·{se}"


def test_normal_sample_statistics():
    tg.manual_seed(1)
    loc, scale = np.array([-1.0, 2.0]), np.array([0.5, 3.0])
    x = tgd.Normal(tg.tensor(loc), tg.tensor(scale)).sample((N,)).numpy().astype(np.float64)
    _within(x.mean(0), loc, scale / math.sqrt(N), "Normal mean")
    _within(x.std(0), scale, scale / math.sqrt(2 * N), "Normal std")


def test_bernoulli_and_categorical_frequencies():
    tg.manual_seed(2)
    p = np.array([0.1, 0.5, 0.9])
    x = tgd.Bernoulli(tg.tensor(p)).sample((N,)).numpy()
    assert set(np.unique(x)) <= {0.0, 1.0}
    _within(x.mean(0), p, np.sqrt(p * (1 - p) / N), "Bernoulli frequency")
    w = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 1.0, 1.0]])         # unnormalised, zeros never drawn
    q = w / w.sum(1, keepdims=True)
    a = tgd.Categorical(tg.tensor(w)).sample((N,)).numpy()
    assert a.shape == (N, 2)
    freq = np.stack([(a == k).mean(0) for k in range(4)], 1)
    _within(freq, q, np.sqrt(q * (1 - q) / N), "Categorical frequency")
    b = tgd.Categorical(logits=tg.tensor(np.log(q[0]))).sample((N,)).numpy()
    _within([(b == k).mean() for k in range(4)], q[0], np.sqrt(q[0] * (1 - q[0]) / N), "Categorical(logits)")


def test_multinomial_and_uniform_statistics():
    tg.manual_seed(3)
    p = np.array([0.2, 0.3, 0.5])
    c = tgd.Multinomial(10, tg.tensor(p)).sample((N // 4,)).numpy()
    assert (c.sum(-1) == 10).all() and (c >= 0).all() and (c == np.round(c)).all()
    _within(c.mean(0), 10 * p, np.sqrt(10 * p * (1 - p) / (N // 4)), "Multinomial mean counts")
    u = tgd.Uniform(-1.0, 3.0).sample((N,)).numpy().astype(np.float64)
    assert u.min() >= -1.0 and u.max() < 3.0
    _within(u.mean(), 1.0, 4 / math.sqrt(12 * N), "Uniform mean")


def test_manual_seed_makes_samples_reproducible():
    d = tgd.Categorical(tg.ones(5))
    tg.manual_seed(7)
    a, x = d.sample((10,)), tgd.Normal(0.0, 1.0).rsample((3,))
    tg.manual_seed(7)
    b, y = d.sample((10,)), tgd.Normal(0.0, 1.0).rsample((3,))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(x.numpy(), y.numpy())


# ---------------------------------------------------------------------------- invalid arguments
ERRORS = [
    ("negative scale", lambda d, lib: d.Normal(0.0, -1.0), ValueError),
    ("zero scale", lambda d, lib: d.Normal(lib.zeros(2), lib.tensor([1.0, 0.0])), ValueError),
    ("nan loc", lambda d, lib: d.Normal(float("nan"), 1.0), ValueError),
    ("probs > 1", lambda d, lib: d.Bernoulli(1.5), ValueError),
    ("probs and logits", lambda d, lib: d.Bernoulli(0.5, logits=0.0), ValueError),
    ("neither", lambda d, lib: d.Categorical(), ValueError),
    ("negative probs", lambda d, lib: d.Categorical(lib.tensor([-1.0, 2.0])), ValueError),
    ("0-d probs", lambda d, lib: d.Categorical(lib.tensor(1.0)), ValueError),
    ("0-d logits", lambda d, lib: d.Categorical(logits=lib.tensor(1.0)), ValueError),
    ("inf logits", lambda d, lib: d.Categorical(logits=lib.tensor([float("inf"), 0.0])), ValueError),
    ("low >= high", lambda d, lib: d.Uniform(1.0, 0.0), ValueError),
    ("tensor total_count", lambda d, lib: d.Multinomial(lib.tensor(3), lib.ones(3)), NotImplementedError),
    ("bernoulli value 0.5", lambda d, lib: d.Bernoulli(0.3).log_prob(lib.tensor(0.5)), ValueError),
    ("categorical value 7", lambda d, lib: d.Categorical(lib.ones(6)).log_prob(lib.tensor(7)), ValueError),
    ("uniform value outside", lambda d, lib: d.Uniform(0.0, 1.0).log_prob(lib.tensor(1.5)), ValueError),
    ("multinomial count > n", lambda d, lib: d.Multinomial(2, lib.ones(3)).log_prob(lib.tensor([1.0, 1.0, 1.0])),
     ValueError),
    ("value shape", lambda d, lib: d.Normal(lib.zeros(2), 1.0).log_prob(lib.zeros(3)), ValueError),
    ("value event shape", lambda d, lib: d.Multinomial(2, lib.ones(3)).log_prob(lib.tensor([1.0, 1.0])), ValueError),
    ("value not a tensor", lambda d, lib: d.Normal(0.0, 1.0).log_prob(1.0), ValueError),
    ("no rsample", lambda d, lib: d.Categorical(lib.ones(3)).rsample(), NotImplementedError),
]


def test_multinomial_log_prob_refuses_a_value_that_requires_grad():
    value = tg.tensor([1.0, 2.0, 1.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="value.detach"):
        tgd.Multinomial(4, tg.ones(3)).log_prob(value)
    assert tgd.Multinomial(4, tg.ones(3)).log_prob(value.detach()).shape == ()


@pytest.mark.parametrize("name,call,error", ERRORS, ids=[e[0] for e in ERRORS])
def test_invalid_arguments_raise_like_torch(name, call, error):
    with pytest.raises(error):
        call(thd, torch)
    with np.errstate(all="ignore"):
        with pytest.raises(error) as info:
            call(tgd, tg)
    assert str(info.value)


def test_invalid_parameter_message_names_the_parameter_the_constraint_and_the_values():
    with pytest.raises(ValueError, match=r"parameter scale .*Normal.*GreaterThan\(lower_bound=0\.0\).*\n.*-1"):
        tgd.Normal(tg.zeros(2), tg.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"support \(Boolean\(\)\).*\n.*0\.5"):
        tgd.Bernoulli(0.3).log_prob(tg.tensor(0.5))


def test_validate_args_false_skips_the_checks_like_torch():
    for d, lib in ((thd, torch), (tgd, tg)):
        assert float(d.Normal(0.0, -1.0, validate_args=False).scale) == -1.0
        assert float(d.Bernoulli(0.3, validate_args=False).log_prob(lib.tensor(0.5))) == \
            pytest.approx(0.5 * math.log(0.3) + 0.5 * math.log(0.7), rel=1e-6)
    tgd.Distribution.set_default_validate_args(False)
    try:
        assert float(tgd.Normal(0.0, -2.0).scale) == -2.0
    finally:
        tgd.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        tgd.Normal(0.0, -2.0)


def test_categorical_normalises_probs_like_torch():
    o, t = tgd.Categorical(tg.tensor([1.0, 2.0, 3.0])), thd.Categorical(torch.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(o.probs.numpy(), t.probs.numpy(), rtol=1e-6)
    np.testing.assert_allclose(o.logits.numpy(), t.logits.numpy(), rtol=1e-6)
    o, t = tgd.Categorical(logits=tg.tensor([1.0, 2.0])), thd.Categorical(logits=torch.tensor([1.0, 2.0]))
    np.testing.assert_allclose(o.logits.numpy(), t.logits.numpy(), rtol=1e-6)   # logsumexp subtracted


def test_submodules_have_torch_names():
    from tinygrad_zh.distributions import bernoulli, categorical, multinomial, normal, uniform
    assert multinomial.Multinomial is tgd.Multinomial and categorical.Categorical is tgd.Categorical
    assert normal.Normal is tgd.Normal and bernoulli.Bernoulli is tgd.Bernoulli and uniform.Uniform is tgd.Uniform
    for cls in (tgd.Multinomial, tgd.Categorical, tgd.Normal, tgd.Bernoulli, tgd.Uniform):
        assert issubclass(cls, tgd.Distribution)
        doc = cls.__doc__
        assert any("\u4e00" <= ch <= "\u9fff" for ch in doc) and ("概率质量" in doc or "概率密度" in doc), cls


# ---------------------------------------------------------------------------- d2l 2.6 through as_torch
DICE = '''
import json
import torch
from torch.distributions import multinomial

torch.manual_seed(0)
fair_probs = torch.ones([6]) / 6
one = multinomial.Multinomial(1, fair_probs).sample()
ten = multinomial.Multinomial(10, fair_probs).sample()
counts = multinomial.Multinomial(1000, fair_probs).sample()
freq = counts / 1000
counts = multinomial.Multinomial(10, fair_probs).sample((500,))
cum_counts = counts.cumsum(dim=0)
estimates = cum_counts / cum_counts.sum(dim=1, keepdims=True)
policy = torch.distributions.Categorical(logits=torch.zeros(4, 3))     # attribute access, no import
action = policy.sample()
print(json.dumps({
    "policy": [list(action.shape), str(action.dtype).replace("torch.", ""), list(policy.log_prob(action).shape)],
    "one": [list(one.shape), str(one.dtype).replace("torch.", ""), float(one.sum())],
    "ten": [list(ten.shape), str(ten.dtype).replace("torch.", ""), float(ten.sum())],
    "counts": [list(counts.shape), str(counts.dtype).replace("torch.", ""), sorted(set(counts.sum(dim=1).tolist()))],
    "estimates": list(estimates.shape),
    "freq": freq.tolist(),
    "last": estimates[-1].tolist(),
}))
'''


def test_d2l_dice_script_runs_with_torch_and_as_torch(tmp_path):
    script = tmp_path / "dice.py"
    script.write_text(DICE)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("TINYGRAD_ZH_CUDASIM", None)
    results = []
    for argv in ([sys.executable, str(script)], [sys.executable, "-m", "tinygrad_zh.as_torch", str(script)]):
        proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{argv}: {proc.stderr[-2000:]}"
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    theirs, ours = results
    for key in ("one", "ten", "counts", "estimates", "policy"):
        assert ours[key] == theirs[key], f"{key}: as_torch {ours[key]}, PyTorch {theirs[key]}"
    for res in results:          # 1000 throws: ±4·SE of 1/6; 5000 throws in the running estimate
        _within(res["freq"], [1 / 6] * 6, math.sqrt(5 / 36 / 1000), "d2l frequencies")
        _within(res["last"], [1 / 6] * 6, math.sqrt(5 / 36 / 5000), "d2l running estimate")


@pytest.mark.cuda
@pytest.mark.skipif(not tg.cuda.is_available(), reason="needs CuPy and an NVIDIA GPU (or the CUDA simulator)")
def test_cuda_samples_stay_on_the_device_and_formulas_match_cpu():
    logits = RNG.normal(size=(2, 3))
    results = []
    for device in ("cpu", "cuda"):
        lg = tg.tensor(logits, dtype=tg.float64, device=device, requires_grad=True)
        dists = [tgd.Categorical(logits=lg), tgd.Multinomial(4, logits=lg), tgd.Bernoulli(logits=lg),
                 tgd.Normal(lg, 2.0), tgd.Uniform(lg - 3.0, lg.exp() + 1.0)]
        total, out = 0.0, []
        for d in dists:
            tg.manual_seed(5)
            s = d.sample((3,))
            assert s.device == lg.device, type(d).__name__
            q = d.log_prob(s).sum() + d.entropy().sum()
            out.append(q.item())
            total = total + q
        total.backward()
        results.append((out, lg.grad.to("cpu").numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)

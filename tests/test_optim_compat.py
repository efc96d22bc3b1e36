"""tg.optim as a drop-in for torch.optim: Adadelta and Adagrad against PyTorch (float64, same start,
same steps), param groups, StepLR with Adadelta as in pytorch/examples mnist, state_dict resume,
the constructors' signatures (names, order, defaults) and argument validation."""
import inspect

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh.nn import Parameter
from tinygrad_zh.optim import lr_scheduler as tls

torch = pytest.importorskip("torch")

SHAPES = [(6, 4), (6,), (3, 6), (3,)]


def init_weights(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) * 0.5 for s in SHAPES]


def make_data(seed=1, n=8):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)), rng.standard_normal((n, 3))


def loss_of(lib, params, x, y):
    w1, b1, w2, b2 = params
    h = lib.tanh(x @ w1.T + b1)
    return ((h @ w2.T + b2 - y) ** 2).mean()


class Pair:
    """The same model in tinygrad_zh and in torch, from identical float64 weights."""

    def __init__(self, weights):
        self.ours = [Parameter(tg.tensor(w.copy(), dtype=np.float64)) for w in weights]
        self.ref = [torch.tensor(w.copy(), requires_grad=True) for w in weights]

    def step(self, opt, topt, x, y):
        opt.zero_grad()
        topt.zero_grad()
        loss_of(tg, self.ours, tg.tensor(x, dtype=np.float64), tg.tensor(y, dtype=np.float64)).backward()
        loss_of(torch, self.ref, torch.tensor(x), torch.tensor(y)).backward()
        opt.step()
        topt.step()

    def assert_close(self, rtol=1e-10, atol=1e-12):
        for i, (p, r) in enumerate(zip(self.ours, self.ref)):
            assert p.dtype == np.float64
            np.testing.assert_allclose(p.array, r.detach().numpy(), rtol=rtol, atol=atol,
                                       err_msg=f"parameter {i}")


CONFIGS = [
    ("adadelta", "Adadelta", dict()),
    ("adadelta_lr_rho_eps", "Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4)),
    ("adadelta_wd", "Adadelta", dict(lr=2.0, weight_decay=0.1)),
    ("adadelta_maximize", "Adadelta", dict(lr=0.3, weight_decay=0.05, maximize=True)),
    ("adagrad", "Adagrad", dict()),
    ("adagrad_lr", "Adagrad", dict(lr=0.1)),
    ("adagrad_decay_wd", "Adagrad", dict(lr=0.2, lr_decay=0.05, weight_decay=0.1)),
    ("adagrad_init_acc_eps", "Adagrad", dict(lr=0.1, initial_accumulator_value=0.3, eps=1e-3)),
    ("adagrad_maximize", "Adagrad", dict(lr=0.05, lr_decay=0.01, maximize=True)),
]
STATE_KEYS = {"Adadelta": ["square_avg", "acc_delta"], "Adagrad": ["sum"]}


@pytest.mark.parametrize("name,cls,kw", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_matches_torch_12_steps(name, cls, kw):
    pair = Pair(init_weights())
    opt = getattr(tg.optim, cls)(pair.ours, **kw)
    topt = getattr(torch.optim, cls)(pair.ref, **kw)
    x, y = make_data()
    for _ in range(12):
        pair.step(opt, topt, x, y)
    pair.assert_close()
    assert not np.allclose(pair.ours[0].array, init_weights()[0])       # the weights really moved
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1, 2, 3]
    for i, tstate in tsd["state"].items():
        assert sorted(sd["state"][i]) == sorted(tstate)
        for key in STATE_KEYS[cls]:
            np.testing.assert_allclose(sd["state"][i][key], tstate[key].numpy(), rtol=1e-10, atol=1e-13)
        assert sd["state"][i]["step"] == int(tstate["step"]) == 12
    for g, tg_ in zip(sd["param_groups"], tsd["param_groups"]):
        for k, v in g.items():                  # every hyper-parameter we keep, PyTorch keeps too
            assert k in tg_ and tg_[k] == v, k


def test_adagrad_state_exists_before_the_first_step():
    """Like PyTorch, Adagrad creates every parameter's state in the constructor."""
    pair = Pair(init_weights())
    opt = tg.optim.Adagrad(pair.ours, initial_accumulator_value=0.25)
    topt = torch.optim.Adagrad(pair.ref, initial_accumulator_value=0.25)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"]) == [0, 1, 2, 3]
    for i in range(4):
        assert sd["state"][i]["step"] == 0
        np.testing.assert_array_equal(sd["state"][i]["sum"], tsd["state"][i]["sum"].numpy())
        assert sd["state"][i]["sum"].dtype == np.float64
    # documented difference: a group's own initial_accumulator_value is used for its parameters
    # (PyTorch fills every parameter's sum with the constructor's value)
    opt = tg.optim.Adagrad([{"params": pair.ours[:2]}, {"params": pair.ours[2:], "initial_accumulator_value": 2.0}],
                           initial_accumulator_value=0.5)
    assert [float(opt.state[p]["sum"].flat[0]) for p in pair.ours] == [0.5, 0.5, 2.0, 2.0]


@pytest.mark.parametrize("cls,kw,group_kw", [
    ("Adadelta", dict(lr=1.0), dict(lr=0.1, rho=0.5, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1), dict(lr=0.02, lr_decay=0.1, eps=1e-6)),
])
def test_param_groups_match_torch(cls, kw, group_kw):
    pair = Pair(init_weights(3))

    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2:], **group_kw}]
    opt = getattr(tg.optim, cls)(groups(pair.ours), **kw)
    topt = getattr(torch.optim, cls)(groups(pair.ref), **kw)
    x, y = make_data()
    for _ in range(8):
        pair.step(opt, topt, x, y)
    pair.assert_close()


def test_add_param_group_later_matches_torch():
    """A group added after some steps starts its own state (Adagrad: lazily, at its first step)."""
    weights = init_weights(4)
    x, y = make_data()
    for cls in ("Adagrad", "Adadelta"):
        pair = Pair(weights)
        opt = getattr(tg.optim, cls)(pair.ours[:2], lr=0.1)
        topt = getattr(torch.optim, cls)(pair.ref[:2], lr=0.1)
        for _ in range(3):
            pair.step(opt, topt, x, y)
        opt.add_param_group({"params": pair.ours[2:], "lr": 0.05})
        topt.add_param_group({"params": pair.ref[2:], "lr": 0.05})
        for _ in range(3):
            pair.step(opt, topt, x, y)
        pair.assert_close()


@pytest.mark.parametrize("cls", ["Adadelta", "Adagrad", "SGD", "Adam", "RMSprop"])
def test_steplr_per_epoch_like_pytorch_examples_mnist(cls):
    """pytorch/examples mnist: ``optimizer = Adadelta(model.parameters(), lr=1.0)``,
    ``scheduler = StepLR(optimizer, step_size=1, gamma=0.7)``, ``scheduler.step()`` after each epoch."""
    pair = Pair(init_weights(5))
    kw = dict(lr=1.0) if cls in ("Adadelta", "SGD") else dict(lr=0.05)
    opt = getattr(tg.optim, cls)(pair.ours, **kw)
    topt = getattr(torch.optim, cls)(pair.ref, **kw)
    sched = tls.StepLR(opt, step_size=1, gamma=0.7)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=1, gamma=0.7)
    for epoch in range(4):
        for b in range(3):                                   # 3 mini-batches per epoch
            x, y = make_data(seed=10 * epoch + b)
            pair.step(opt, topt, x, y)
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-15)
        assert opt.param_groups[0]["lr"] == pytest.approx(kw["lr"] * 0.7 ** (epoch + 1), rel=1e-12)
    pair.assert_close()


@pytest.mark.parametrize("cls,kw", [("Adadelta", dict(lr=0.7, weight_decay=0.01)),
                                    ("Adagrad", dict(lr=0.1, lr_decay=0.02, initial_accumulator_value=0.1))])
def test_state_dict_roundtrip_resumes_identically(tmp_path, cls, kw):
    weights = init_weights(6)
    x, y = (tg.tensor(a, dtype=np.float64) for a in make_data())

    def train(params, opt, sched, n):
        for _ in range(n):
            opt.zero_grad()
            loss_of(tg, params, x, y).backward()
            opt.step()
            sched.step()

    params = [Parameter(tg.tensor(w, dtype=np.float64)) for w in weights]
    opt = getattr(tg.optim, cls)(params, **kw)
    sched = tls.StepLR(opt, step_size=1, gamma=0.7)
    train(params, opt, sched, 3)
    path = tmp_path / "ckpt.tgz"
    tg.save({"params": [p.detach() for p in params], "optim": opt.state_dict(),
             "sched": sched.state_dict()}, path)
    train(params, opt, sched, 4)                              # the uninterrupted run

    ck = tg.load(path)
    params2 = [Parameter(t) for t in ck["params"]]
    opt2 = getattr(tg.optim, cls)(params2, lr=123.0)
    opt2.load_state_dict(ck["optim"])
    sched2 = tls.StepLR(opt2, step_size=5, gamma=0.1)
    sched2.load_state_dict(ck["sched"])
    assert opt2.param_groups[0]["lr"] == pytest.approx(kw["lr"] * 0.7 ** 3)
    train(params2, opt2, sched2, 4)                           # the resumed run
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(p.array, q.array)


@pytest.mark.parametrize("cls,kw", [("Adadelta", dict(lr=0.9, rho=0.85)),
                                    ("Adagrad", dict(lr=0.1, lr_decay=0.03))])
def test_load_torch_state_dict_then_continue(cls, kw):
    """PyTorch's state (tensors, ``step`` as a tensor) loads into ours; both then go on identically."""
    pair = Pair(init_weights(7))
    topt = getattr(torch.optim, cls)(pair.ref, **kw)
    opt = getattr(tg.optim, cls)(pair.ours, lr=5.0)
    x, y = make_data()
    for _ in range(4):                                       # only torch trains
        topt.zero_grad()
        loss_of(torch, pair.ref, torch.tensor(x), torch.tensor(y)).backward()
        topt.step()
    for p, r in zip(pair.ours, pair.ref):
        p.array[...] = r.detach().numpy()
    opt.load_state_dict(topt.state_dict())
    assert opt.param_groups[0]["lr"] == kw["lr"] and opt.state[pair.ours[0]]["step"] == 4
    for _ in range(4):
        pair.step(opt, topt, x, y)
    pair.assert_close()


@pytest.mark.parametrize("cls,kw", [("Adadelta", dict(weight_decay=0.1, maximize=True)),
                                    ("Adagrad", dict(lr_decay=0.1, weight_decay=0.1))])
def test_float32_stays_float32_and_grad_untouched(cls, kw):
    p = Parameter(tg.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)))
    q = Parameter(tg.tensor(np.ones((3, 4), np.float32)))
    shared = tg.tensor(np.full((3, 4), 0.5, np.float32))
    p.grad = q.grad = shared                   # one gradient array shared by two parameters
    p_arr = p.array
    opt = getattr(tg.optim, cls)([p, q], **kw)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(shared.array, 0.5)
    assert p.array is p_arr and p.array.dtype == np.float32          # updated in place
    for st in (opt.state[p], opt.state[q]):
        for v in st.values():
            if hasattr(v, "dtype"):
                assert v.dtype == np.float32
    assert not np.allclose(q.array, 1.0)


def test_big_parameter_blocks_match_torch():
    """A parameter larger than one update block (Optimizer._BLOCK) gives the same numbers."""
    n = tg.optim.Optimizer._BLOCK + 1000
    rng = np.random.default_rng(8)
    w, gr = rng.standard_normal(n), rng.standard_normal(n)
    for cls, kw in (("Adadelta", dict(lr=0.5, weight_decay=0.1)), ("Adagrad", dict(lr=0.1, lr_decay=0.1))):
        p = Parameter(tg.tensor(w.copy(), dtype=np.float64))
        r = torch.tensor(w.copy(), requires_grad=True)
        opt, topt = getattr(tg.optim, cls)([p], **kw), getattr(torch.optim, cls)([r], **kw)
        for k in range(3):
            p.grad = tg.tensor(gr * (k + 1), dtype=np.float64)
            r.grad = torch.tensor(gr * (k + 1))
            opt.step()
            topt.step()
        np.testing.assert_allclose(p.array, r.detach().numpy(), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------ signatures
def _sig(fn):
    return [(q.name, q.kind, q.default) for q in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("cls", ["SGD", "Adam", "AdamW", "RMSprop", "Adadelta", "Adagrad"])
def test_constructor_signature_matches_torch(cls):
    """Same argument names, order, positional/keyword-only kinds and defaults as torch.optim."""
    ours, ref = _sig(getattr(tg.optim, cls)), _sig(getattr(torch.optim, cls))
    if cls == "SGD":
        # the one known difference: PyTorch >= 2.2 defaults SGD's lr to 1e-3, ours has no default
        # (tests/test_optim.py::test_bad_arguments asks for an error); compare the rest
        assert ours[1][:2] == ref[1][:2] and ref[1][2] == 1e-3
        ours, ref = ours[:1] + ours[2:], ref[:1] + ref[2:]
    assert [(n, k) for n, k, _ in ours] == [(n, k) for n, k, _ in ref]
    for (n, _, d), (_, _, e) in zip(ours, ref):
        if n != "params":
            assert d == e or (isinstance(d, float) and d == float(e)), f"{cls}({n}=...): default {d!r}, torch {e!r}"


def test_zero_grad_signature_and_default():
    assert _sig(tg.optim.Optimizer.zero_grad) == _sig(torch.optim.Optimizer.zero_grad)
    p = Parameter(tg.tensor([1.0, 2.0]))
    opt = tg.optim.Adagrad([p])
    (p * p).sum().backward()
    opt.zero_grad()
    assert p.grad is None


def test_positional_arguments_in_torch_order():
    x, y = make_data()
    cases = [("Adagrad", (0.1, 0.05, 0.01, 0.2, 1e-8)),        # lr, lr_decay, weight_decay, init_acc, eps
             ("Adadelta", (0.8, 0.7, 1e-5, 0.02)),             # lr, rho, eps, weight_decay
             ("RMSprop", (0.01, 0.9, 1e-6, 0.01, 0.5, True)),  # lr, alpha, eps, wd, momentum, centered
             ("SGD", (0.1, 0.9, 0.0, 0.01, True))]             # lr, momentum, dampening, wd, nesterov
    for cls, args in cases:
        pair = Pair(init_weights(9))
        opt = getattr(tg.optim, cls)(pair.ours, *args)
        topt = getattr(torch.optim, cls)(pair.ref, *args)
        for _ in range(4):
            pair.step(opt, topt, x, y)
        pair.assert_close()


def test_torch_implementation_flags_accepted():
    p = Parameter(tg.tensor([1.0]))
    tg.optim.SGD([p], lr=0.1, foreach=False, fused=None)
    tg.optim.Adam([p], foreach=True, fused=False, capturable=False)
    tg.optim.AdamW([p], foreach=None)
    tg.optim.RMSprop([p], foreach=False)
    tg.optim.Adadelta([p], foreach=False)
    tg.optim.Adagrad([p], fused=False)
    with pytest.raises(ValueError, match="differentiable=True is not supported"):
        tg.optim.Adam([p], differentiable=True)
    with pytest.raises(TypeError, match="foreach"):
        tg.optim.Adagrad([p], foreach="yes")


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("cls,kw,exc,pattern", [
    ("Adadelta", dict(lr=-0.1), ValueError, r"Adadelta: invalid learning rate -0.1 \(expected lr >= 0\)"),
    ("Adadelta", dict(lr="1.0"), TypeError, r"Adadelta: lr must be a real number, got str"),
    ("Adadelta", dict(lr=float("nan")), ValueError, "invalid learning rate nan"),
    ("Adadelta", dict(rho=1.5), ValueError, r"Adadelta: invalid rho 1.5 \(expected 0 <= rho <= 1\)"),
    ("Adadelta", dict(eps=-1e-6), ValueError, "Adadelta: invalid eps"),
    ("Adadelta", dict(weight_decay=-1), ValueError, "Adadelta: invalid weight_decay"),
    ("Adagrad", dict(lr=None), TypeError, "Adagrad: lr must be a real number, got NoneType"),
    ("Adagrad", dict(lr=-1), ValueError, "Adagrad: invalid learning rate"),
    ("Adagrad", dict(lr_decay=-0.1), ValueError, "Adagrad: invalid lr_decay"),
    ("Adagrad", dict(initial_accumulator_value=-1), ValueError, "Adagrad: invalid initial_accumulator_value"),
    ("Adagrad", dict(eps=-1), ValueError, "Adagrad: invalid eps"),
    ("Adagrad", dict(weight_decay=[0.1]), TypeError, "Adagrad: weight_decay must be a real number, got list"),
    ("SGD", dict(lr="0.1"), TypeError, "SGD: lr must be a real number, got str"),
    ("SGD", dict(lr=0.1, momentum=-0.9), ValueError, "SGD: invalid momentum"),
    ("Adam", dict(lr=True), TypeError, "Adam: lr must be a real number, got bool"),
    ("Adam", dict(betas=0.9), ValueError, "Adam: invalid betas 0.9"),
    ("Adam", dict(betas=(0.9, "x")), TypeError, r"Adam: betas\[1\] must be a real number"),
    ("RMSprop", dict(alpha=-0.5), ValueError, "RMSprop: invalid alpha"),
])
def test_bad_hyper_parameters(cls, kw, exc, pattern):
    p = Parameter(tg.tensor([1.0]))
    with pytest.raises(exc, match=pattern):
        getattr(tg.optim, cls)([p], **kw)


def test_tensor_lr_accepted_like_torch():
    p = Parameter(tg.tensor([1.0, 2.0]))
    opt = tg.optim.Adagrad([p], lr=tg.tensor(0.5))
    assert opt.param_groups[0]["lr"] == 0.5 and isinstance(opt.param_groups[0]["lr"], float)
    with pytest.raises(ValueError, match="exactly one element"):
        tg.optim.Adadelta([p], lr=tg.tensor([0.5, 0.1]))

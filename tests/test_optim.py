"""tg.optim: update rules against PyTorch, schedulers, state_dict / checkpoint resume, zero_grad."""
import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh.nn import Parameter
from tinygrad_zh.optim import lr_scheduler as tls

N_IN, N_HID, N_OUT, BATCH = 4, 6, 3, 8


def init_weights(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) * 0.5
            for s in [(N_HID, N_IN), (N_HID,), (N_OUT, N_HID), (N_OUT,)]]


def make_data(seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((BATCH, N_IN)).astype(dtype), rng.standard_normal((BATCH, N_OUT)).astype(dtype)


def tg_loss(params, x, y):
    w1, b1, w2, b2 = params
    h = (x @ w1.T + b1).tanh()
    return ((h @ w2.T + b2 - y) ** 2).mean()


def tg_run(make_opt, weights, n_steps=10, dtype=np.float64):
    params = [Parameter(tg.tensor(w.copy(), dtype=dtype)) for w in weights]
    xs, ys = make_data(dtype=dtype)
    x, y = tg.tensor(xs, dtype=dtype), tg.tensor(ys, dtype=dtype)
    opt = make_opt(params)
    for _ in range(n_steps):
        opt.zero_grad()
        tg_loss(params, x, y).backward()
        opt.step()
    return params, opt


def torch_run(torch, make_opt, weights, n_steps=10):
    params = [torch.tensor(w.copy(), requires_grad=True) for w in weights]
    xs, ys = make_data()
    x, y = torch.tensor(xs), torch.tensor(ys)
    opt = make_opt(params)
    for _ in range(n_steps):
        opt.zero_grad()
        w1, b1, w2, b2 = params
        loss = ((torch.tanh(x @ w1.T + b1) @ w2.T + b2 - y) ** 2).mean()
        loss.backward()
        opt.step()
    return params, opt


# (name, tg constructor, torch constructor name, kwargs)
CONFIGS = [
    ("sgd", "SGD", dict(lr=0.1)),
    ("sgd_momentum", "SGD", dict(lr=0.1, momentum=0.9)),
    ("sgd_damp_wd", "SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    ("sgd_nesterov_wd", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.02)),
    ("sgd_maximize", "SGD", dict(lr=0.01, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("adam", "Adam", dict(lr=0.01)),
    ("adam_wd", "Adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
    ("adam_amsgrad", "Adam", dict(lr=0.05, amsgrad=True)),
    ("adam_maximize", "Adam", dict(lr=0.01, weight_decay=0.05, maximize=True)),
    ("adamw", "AdamW", dict(lr=0.02, weight_decay=0.1)),
    ("adamw_amsgrad", "AdamW", dict(lr=0.05, weight_decay=0.5, amsgrad=True)),
    ("rmsprop", "RMSprop", dict(lr=0.01)),
    ("rmsprop_momentum", "RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.01)),
    ("rmsprop_centered", "RMSprop", dict(lr=0.005, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.05)),
]

STATE_KEYS = {"SGD": ["momentum_buffer"], "Adam": ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
              "AdamW": ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
              "RMSprop": ["square_avg", "grad_avg", "momentum_buffer"]}


@pytest.mark.parametrize("name,cls,kw", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_matches_torch_10_steps(name, cls, kw):
    torch = pytest.importorskip("torch")
    weights = init_weights()
    ours, opt = tg_run(lambda ps: getattr(tg.optim, cls)(ps, **kw), weights)
    ref, topt = torch_run(torch, lambda ps: getattr(torch.optim, cls)(ps, **kw), weights)
    for p, r in zip(ours, ref):
        assert p.dtype == np.float64
        np.testing.assert_allclose(p.array, r.detach().numpy(), rtol=1e-10, atol=1e-12)
    # the moved weights really differ from the start (the test is not vacuous)
    assert not np.allclose(ours[0].array, weights[0])
    # state buffers: same names and values as torch's
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i, tstate in tsd["state"].items():
        assert sorted(sd["state"][i]) == sorted(tstate)
        for key in STATE_KEYS[cls]:
            if key in tstate:
                np.testing.assert_allclose(sd["state"][i][key], tstate[key].numpy(), rtol=1e-10, atol=1e-13)
        if "step" in tstate:
            assert sd["state"][i]["step"] == int(tstate["step"]) == 10


def test_param_groups_match_torch():
    torch = pytest.importorskip("torch")
    weights = init_weights(3)

    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.001, "momentum": 0.0}]
    ours, _ = tg_run(lambda ps: tg.optim.SGD(groups(ps), lr=0.1, momentum=0.9), weights)
    ref, _ = torch_run(torch, lambda ps: torch.optim.SGD(groups(ps), lr=0.1, momentum=0.9), weights)
    for p, r in zip(ours, ref):
        np.testing.assert_allclose(p.array, r.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_load_torch_state_dict_then_continue():
    """PyTorch's Adam state (tensors, step as a tensor) loads and the trajectories stay equal."""
    torch = pytest.importorskip("torch")
    weights = init_weights(4)
    ref, topt = torch_run(torch, lambda ps: torch.optim.Adam(ps, lr=0.01, amsgrad=True), weights, n_steps=4)
    mid = [r.detach().numpy().copy() for r in ref]
    params = [Parameter(tg.tensor(w, dtype=np.float64)) for w in mid]
    opt = tg.optim.Adam(params, lr=0.5)
    opt.load_state_dict(topt.state_dict())
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["amsgrad"] is True
    x, y = (tg.tensor(a, dtype=np.float64) for a in make_data())
    tx, ty = (torch.tensor(a) for a in make_data())
    for _ in range(3):
        opt.zero_grad()
        tg_loss(params, x, y).backward()
        opt.step()
        topt.zero_grad()
        w1, b1, w2, b2 = ref
        ((torch.tanh(tx @ w1.T + b1) @ w2.T + b2 - ty) ** 2).mean().backward()
        topt.step()
    for p, r in zip(params, ref):
        np.testing.assert_allclose(p.array, r.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
                                    ("AdamW", dict(lr=0.01)),
                                    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))])
def test_float32_stays_float32(cls, kw):
    params, opt = tg_run(lambda ps: getattr(tg.optim, cls)(ps, **kw), init_weights(dtype=np.float32),
                         n_steps=3, dtype=np.float32)
    for p in params:
        assert p.array.dtype == np.float32
        for v in opt.state[p].values():
            if hasattr(v, "dtype"):
                assert v.dtype == np.float32
    assert all(np.isfinite(p.array).all() for p in params)


def test_step_never_writes_into_grad_and_updates_in_place():
    a = Parameter(tg.tensor([1.0, 2.0, 3.0]))
    b = Parameter(tg.tensor([4.0, 5.0, 6.0]))
    shared = tg.tensor([0.5, -1.0, 2.0])
    a.grad = b.grad = shared                 # one gradient array shared by two parameters
    before, a_arr = shared.array.copy(), a.array
    for opt in (tg.optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True),
                tg.optim.Adam([a, b], weight_decay=0.1), tg.optim.AdamW([a, b]),
                tg.optim.RMSprop([a, b], centered=True, momentum=0.9, weight_decay=0.1)):
        opt.step()
        opt.step()
        np.testing.assert_array_equal(shared.array, before)
    assert a.array is a_arr                   # same array object: updated in place
    assert not np.allclose(a.array, [1.0, 2.0, 3.0])


def test_plain_sgd_by_hand():
    p = Parameter(tg.tensor([1.0, -2.0]))
    opt = tg.optim.SGD([p], lr=0.5)
    (p * p).sum().backward()                 # grad = 2p = [2, -4]
    opt.step()
    np.testing.assert_allclose(p.array, [0.0, 0.0])


def test_zero_grad_semantics():
    p = Parameter(tg.tensor([1.0, 2.0]))
    q = Parameter(tg.tensor([3.0, 4.0]))
    opt = tg.optim.SGD([p, q], lr=0.1)
    (p * q).sum().backward()
    opt.zero_grad()                          # default: set_to_none=True
    assert p.grad is None and q.grad is None
    (p * q).sum().backward()
    held = p.grad                            # someone holds the gradient tensor (as in PyTorch: it turns 0)
    other = tg.Tensor._make(held.array, "cpu", None, 0)     # another tensor on the same array memory
    opt.zero_grad(set_to_none=False)
    assert p.grad is held and held.tolist() == [0.0, 0.0] and q.grad.tolist() == [0.0, 0.0]
    assert p.grad.array.dtype == p.array.dtype
    assert other.tolist() == [3.0, 4.0]      # new zero storage: the old array is not written to
    (p * q).sum().backward()                 # accumulation starts from zero
    np.testing.assert_allclose(p.grad.array, q.array)
    for zero in (lambda: opt.zero_grad(set_to_none=False), lambda: tg.nn.Sequential().zero_grad(False)):
        zero()                               # an empty Module and repeated calls are fine


def test_params_without_grad_are_skipped():
    p, q = Parameter(tg.tensor([1.0])), Parameter(tg.tensor([2.0]))
    opt = tg.optim.Adam([p, q], lr=0.1)
    (p * 3.0).sum().backward()
    opt.step()
    assert q.array[0] == 2.0 and q not in opt.state and opt.state[p]["step"] == 1


def test_bad_arguments():
    p = Parameter(tg.tensor([1.0]))
    with pytest.raises(ValueError, match="empty parameter list"):
        tg.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        tg.optim.SGD(p, lr=0.1)
    assert tg.optim.SGD([p]).param_groups[0]["lr"] == 1e-3    # PyTorch 2.x's default, no longer required
    with pytest.raises(ValueError, match="learning rate"):
        tg.optim.Adam([p], lr=-1.0)
    with pytest.raises(ValueError, match="betas"):
        tg.optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="nesterov"):
        tg.optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="more than one parameter group"):
        tg.optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        tg.optim.SGD([p * 2], lr=0.1)


def test_add_param_group_uses_defaults():
    p, q = Parameter(tg.tensor([1.0])), Parameter(tg.tensor([2.0]))
    opt = tg.optim.SGD([p], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": q, "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is q


def test_cuda_hook_uses_fused_kernel(monkeypatch):
    """On device 'cuda' Adam/AdamW hand the update to tinygrad_zh.cuda's kernel when it exists
    (faked here: a CPU parameter that claims to live on cuda); amsgrad keeps the array code."""
    from tinygrad_zh.optim import adam as adam_mod
    calls = []
    monkeypatch.setattr(adam_mod, "_cuda_adam", lambda *args: calls.append(args))
    p = Parameter(tg.tensor([1.0, 2.0]))
    p.device = "cuda"
    p.grad = tg.Tensor._make(np.array([0.1, 0.2], np.float32), "cuda", None, 0)
    opt = tg.optim.AdamW([p], lr=0.01, weight_decay=0.1)
    opt.step()
    opt.step()
    st = opt.state[p]
    assert len(calls) == 2 and calls[-1][0] is p.array and calls[-1][1] is p.grad.array
    assert calls[-1][2] is st["exp_avg"] and calls[-1][3] is st["exp_avg_sq"]
    assert calls[-1][4:] == (0.01, 0.9, 0.999, 1e-8, 0.1, 2, True)
    np.testing.assert_array_equal(p.array, [1.0, 2.0])          # the (fake) kernel did the update
    tg.optim.Adam([p], amsgrad=True).step()
    assert len(calls) == 2 and not np.allclose(p.array, [1.0, 2.0])
    monkeypatch.setattr(adam_mod, "_cuda_adam", False)        # no kernel: array code
    before = p.array.copy()
    tg.optim.Adam([p]).step()
    assert not np.allclose(p.array, before)


# ------------------------------------------------------------------------ checkpoints
@pytest.mark.parametrize("cls,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                    ("Adam", dict(lr=0.02, amsgrad=True, weight_decay=0.01)),
                                    ("AdamW", dict(lr=0.02, betas=(0.8, 0.9))),
                                    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))])
def test_state_dict_roundtrip_resumes_identically(tmp_path, cls, kw):
    weights = init_weights(5)
    x, y = (tg.tensor(a, dtype=np.float64) for a in make_data())

    def train(params, opt, sched, n):
        for _ in range(n):
            opt.zero_grad()
            tg_loss(params, x, y).backward()
            opt.step()
            sched.step()

    params = [Parameter(tg.tensor(w, dtype=np.float64)) for w in weights]
    opt = getattr(tg.optim, cls)(params, **kw)
    sched = tls.StepLR(opt, step_size=2, gamma=0.5)
    train(params, opt, sched, 5)
    path = tmp_path / "ckpt.tgz"
    tg.save({"params": [p.detach() for p in params], "optim": opt.state_dict(),
             "sched": sched.state_dict(), "epoch": 5}, path)
    train(params, opt, sched, 4)             # the uninterrupted run

    ck = tg.load(path)
    assert ck["epoch"] == 5
    params2 = [Parameter(t) for t in ck["params"]]
    opt2 = getattr(tg.optim, cls)(params2, lr=123.0)
    opt2.load_state_dict(ck["optim"])
    sched2 = tls.StepLR(opt2, step_size=99, gamma=0.9)
    sched2.load_state_dict(ck["sched"])
    assert opt2.param_groups[0]["lr"] == pytest.approx(kw["lr"] * 0.25)
    train(params2, opt2, sched2, 4)          # the resumed run
    for p, q in zip(params, params2):
        np.testing.assert_array_equal(p.array, q.array)
    assert sched2.get_last_lr() == sched.get_last_lr()


def test_load_state_dict_copies_and_casts():
    p = Parameter(tg.tensor([1.0, 2.0]))                     # float32
    opt = tg.optim.SGD([p], lr=0.1, momentum=0.9)
    buf = np.array([0.5, 0.25], np.float64)
    opt.load_state_dict({"state": {0: {"momentum_buffer": buf}},
                         "param_groups": [{"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0,
                                           "nesterov": False, "maximize": False, "params": [0]}]})
    mb = opt.state[p]["momentum_buffer"]
    assert mb.dtype == np.float32 and mb is not buf
    p.grad = tg.tensor([1.0, 1.0])
    opt.step()
    np.testing.assert_array_equal(buf, [0.5, 0.25])          # the loaded dict is not written into
    np.testing.assert_allclose(p.array, [1.0 - 0.1 * 1.45, 2.0 - 0.1 * 1.225], rtol=1e-6)
    with pytest.raises(ValueError, match="groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict({"state": {0: {"momentum_buffer": np.zeros(3)}},
                             "param_groups": [{"lr": 0.1, "params": [0]}]})


# ------------------------------------------------------------------------ schedulers
def _sched_pair(torch, tg_cls, kwargs, n_groups=1, n=25):
    tp = [Parameter(tg.tensor([1.0])) for _ in range(n_groups)]
    tt = [torch.zeros(1, requires_grad=True) for _ in range(n_groups)]
    ours = tg.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(tp)], lr=0.1)
    ref = torch.optim.SGD([{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(tt)], lr=0.1)
    s = getattr(tls, tg_cls)(ours, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, tg_cls)(ref, **kwargs)
    a, b = [s.get_last_lr()], [ts.get_last_lr()]
    for _ in range(n):
        ours.step()
        ref.step()
        s.step()
        ts.step()
        a.append(s.get_last_lr())
        b.append(ts.get_last_lr())
    return np.array(a), np.array(b), s


@pytest.mark.parametrize("cls,kw", [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (e + 1))),
    ("LambdaLR", dict(lr_lambda=[lambda e: 0.95 ** e, lambda e: min(1.0, (e + 1) / 4)])),
])
def test_scheduler_matches_torch(cls, kw):
    torch = pytest.importorskip("torch")
    ours, ref, _ = _sched_pair(torch, cls, kw, n_groups=2)
    assert len(set(ours[:, 0].tolist())) > 1                 # the schedule does change the lr
    np.testing.assert_allclose(ours, ref, rtol=1e-13, atol=1e-15)


def test_scheduler_state_dict_resume(tmp_path):
    p = Parameter(tg.tensor([1.0]))
    opt = tg.optim.SGD([p], lr=1.0)
    s = tls.CosineAnnealingLR(opt, T_max=6, eta_min=0.1)
    for _ in range(4):
        opt.step()
        s.step()
    tg.save({"opt": opt.state_dict(), "s": s.state_dict()}, tmp_path / "s.ck")
    rest = []
    for _ in range(10):
        opt.step()
        s.step()
        rest.append(s.get_last_lr()[0])
    ck = tg.load(tmp_path / "s.ck")
    opt2 = tg.optim.SGD([Parameter(tg.tensor([1.0]))], lr=1.0)
    opt2.load_state_dict(ck["opt"])
    s2 = tls.CosineAnnealingLR(opt2, T_max=6, eta_min=0.1, last_epoch=3)   # needs initial_lr: loaded
    s2.load_state_dict(ck["s"])
    rest2 = []
    for _ in range(10):
        opt2.step()
        s2.step()
        rest2.append(s2.get_last_lr()[0])
    assert rest == rest2


def test_scheduler_resume_without_initial_lr_and_order_warning():
    p = Parameter(tg.tensor([1.0]))
    opt = tg.optim.SGD([p], lr=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        tls.StepLR(opt, step_size=2, last_epoch=5)
    s = tls.ExponentialLR(opt, gamma=0.5)
    assert s.get_last_lr() == [1.0]
    with pytest.warns(UserWarning, match="before optimizer.step"):
        s.step()
    assert opt.param_groups[0]["lr"] == 0.5


def test_state_follows_a_model_moved_after_the_first_step():
    """model.double() (like model.cuda()) after the optimizer made its state: the buffers follow."""
    import tinygrad_zh.nn as nn
    model = nn.Linear(3, 2)
    opt = tg.optim.Adam(model.parameters(), lr=0.1)
    x = tg.randn(4, 3)
    model(x).sum().backward()
    opt.step()
    assert opt.state[model.weight]["exp_avg"].dtype == np.float32
    model.double()
    opt.zero_grad()
    model(x.double()).sum().backward()
    opt.step()
    for p in model.parameters():
        assert p.dtype == np.float64
        assert opt.state[p]["exp_avg"].dtype == np.float64
        assert opt.state[p]["exp_avg_sq"].dtype == np.float64

"""PyTorch compatibility of tg.nn, with PyTorch itself as the oracle.

* ``nn.RNN`` / ``nn.RNNCell`` (tanh and relu, layers, directions, batch_first, no bias, unbatched):
  outputs, final states and every gradient equal PyTorch's for the same weights; the fused layer op
  passes ``tg.gradcheck`` in float64; truncated BPTT with ``state.detach_()`` works;
* ``F.one_hot``;
* ``Module``: ``apply``, the traversal generators (prefix, recurse, remove_duplicate, shared
  parameters once), ``state_dict`` keys, hooks, attribute rules, ``nn.init`` under no_grad;
* ``Conv2d`` with dilation / groups / asymmetric "same" padding, max / average pooling with
  ``ceil_mode`` and ``dilation``, adaptive average pooling: shapes, values and gradients;
* the other layers a d2l / PyTorch-tutorial program touches.
"""
import math

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.nn.functional as F
from tinygrad_zh import nn
from tinygrad_zh.ops.rnn import RNNLayerFn

torch = pytest.importorskip("torch")


def t64(a, grad=True):
    return tg.Tensor(np.asarray(a, np.float64), dtype="float64", requires_grad=grad)


def _copy_weights(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _assert_grads_match(ours, theirs, atol=1e-10, rtol=1e-8):
    mine = dict(ours.named_parameters())
    assert set(mine) == {n for n, _ in theirs.named_parameters()}
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(mine[name].grad.numpy(), p.grad.numpy(), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of {name}")


# ============================================================================ RNN
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("layers, bidirectional, batch_first, bias",
                         [(1, False, False, True), (2, True, True, True), (3, False, True, False),
                          (2, True, False, False)])
def test_rnn_matches_torch(rng, nonlinearity, layers, bidirectional, batch_first, bias):
    theirs = torch.nn.RNN(3, 4, layers, nonlinearity, bias, batch_first, 0.0, bidirectional).double()
    ours = nn.RNN(3, 4, layers, nonlinearity, bias, batch_first, 0.0, bidirectional).double()
    assert [(n, p.shape) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert ours._flat_weights_names == theirs._flat_weights_names
    _copy_weights(ours, theirs)
    dirs = 2 if bidirectional else 1
    x = rng.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    h0 = rng.standard_normal((layers * dirs, 2, 4))
    tx, th0 = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    out, h_n = theirs(tx, th0)
    (out.pow(2).sum() + h_n.pow(3).sum()).backward()
    gx, gh0 = t64(x), t64(h0)
    out2, h_n2 = ours(gx, gh0)
    ((out2 * out2).sum() + (h_n2 * h_n2 * h_n2).sum()).backward()
    np.testing.assert_allclose(out2.numpy(), out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h_n2.numpy(), h_n.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(gh0.grad.numpy(), th0.grad.numpy(), atol=1e-10)
    _assert_grads_match(ours, theirs)


def test_rnn_float32_default_state_and_unbatched(rng):
    theirs = torch.nn.RNN(3, 5, 2)
    ours = nn.RNN(3, 5, 2)
    _copy_weights(ours, theirs)
    x = rng.standard_normal((6, 3)).astype(np.float32)            # unbatched (T, D), h0 omitted
    out, h_n = theirs(torch.tensor(x))
    out2, h_n2 = ours(tg.Tensor(x))
    assert out2.dtype == np.float32 and out2.shape == (6, 5) and h_n2.shape == (2, 5)
    np.testing.assert_allclose(out2.numpy(), out.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(h_n2.numpy(), h_n.detach().numpy(), atol=1e-5)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("batch_first, reverse, bias", [(False, False, True), (True, True, True),
                                                        (False, True, False)])
def test_rnn_layer_fn_gradcheck(rng, nonlinearity, batch_first, reverse, bias):
    T, B, D, H = 4, 2, 3, 3
    x = t64(rng.standard_normal((B, T, D) if batch_first else (T, B, D)))
    ws = [t64(rng.standard_normal((H, D)) * 0.6), t64(rng.standard_normal((H, H)) * 0.6)]
    if bias:
        ws += [t64(rng.standard_normal(H) * 0.5), t64(rng.standard_normal(H) * 0.5)]
    h0 = t64(rng.standard_normal((B, H)))

    def f(*ts):
        out, h = RNNLayerFn.apply(*ts, nonlinearity=nonlinearity, batch_first=batch_first, reverse=reverse)
        return (out * out).sum() + (h * h * h).sum()

    assert tg.gradcheck(f, [x, *ws, h0], skip_kinks=nonlinearity == "relu")


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_cell_matches_torch(rng, nonlinearity):
    theirs = torch.nn.RNNCell(3, 4, nonlinearity=nonlinearity).double()
    ours = nn.RNNCell(3, 4, nonlinearity=nonlinearity).double()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    _copy_weights(ours, theirs)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    theirs(tx, th).pow(2).sum().backward()
    gx, gh = t64(x), t64(h)
    out = ours(gx, gh)
    (out * out).sum().backward()
    np.testing.assert_allclose(out.numpy(), theirs(tx, th).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(gh.grad.numpy(), th.grad.numpy(), atol=1e-12)
    _assert_grads_match(ours, theirs)
    # unbatched, default state, no bias
    c = nn.RNNCell(3, 4, bias=False, nonlinearity=nonlinearity)
    assert c(tg.ones(3)).shape == (4,) and c.bias_ih is None and c.bias_hh is None


def test_rnn_cell_loop_equals_rnn_layer(rng):
    """A Python loop over RNNCell steps gives the RNN layer's output and gradients."""
    layer = nn.RNN(3, 4).double()
    cell = nn.RNNCell(3, 4).double()
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = rng.standard_normal((5, 2, 3))
    out, h_n = layer(t64(x, False))
    (out.sum() + h_n.sum()).backward()
    h, outs = None, []
    for t in range(5):
        h = cell(t64(x[t], False), h)
        outs.append(h)
    seq = tg.stack(outs)
    np.testing.assert_allclose(seq.numpy(), out.numpy(), atol=1e-12)
    (seq.sum() + h.sum()).backward()
    np.testing.assert_allclose(cell.weight_hh.grad.numpy(), layer.weight_hh_l0.grad.numpy(), atol=1e-12)


def test_rnn_init_and_repr():
    tg.manual_seed(0)
    m = nn.RNN(3, 16, 2, "relu", dropout=0.5, bidirectional=True)
    assert m.nonlinearity == "relu" and m.num_layers == 2 and m.bidirectional and m.hidden_size == 16
    for p in m.parameters():
        assert np.abs(p.numpy()).max() <= 1 / math.sqrt(16)
    assert repr(m) == repr(torch.nn.RNN(3, 16, 2, "relu", dropout=0.5, bidirectional=True))
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == repr(torch.nn.RNNCell(3, 4, nonlinearity="relu"))
    assert [[p.shape for p in ps] for ps in m.all_weights][2] == [(16, 32), (16, 16), (16,), (16,)]


def test_rnn_module_odds_and_ends():
    lstm = nn.LSTM(3, 4, 2, True, False, 0.0, False, 0)        # PyTorch's positional order, proj_size=0
    lstm.flatten_parameters()                                 # a no-op, as on the CPU in PyTorch
    assert lstm.proj_size == 0
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)


def test_rnn_errors_and_warning():
    with pytest.raises(ValueError, match="nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.RNN(3, 4, dropout=0.5)
    m = nn.RNN(3, 4, 2)
    with pytest.raises(ValueError, match="input_size=3"):
        m(tg.zeros(5, 2, 7))
    with pytest.raises(ValueError, match=r"initial state of shape \(2, 2, 4\)"):
        m(tg.zeros(5, 2, 3), tg.zeros(1, 2, 4))


def test_rnn_truncated_bptt_with_detach_(rng):
    """d2l's training loop: the state from the last batch is detached in place and fed back."""
    tg.manual_seed(0)
    rnn, head = nn.RNN(4, 8), nn.Linear(8, 4)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = tg.optim.SGD(params, lr=0.1)
    state = tg.zeros((1, 3, 8))
    for step in range(3):
        x = tg.Tensor(rng.standard_normal((5, 3, 4)).astype(np.float32))
        state.detach_()
        y, state = rnn(x, state)
        loss = head(y.reshape(-1, 8)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert state.grad_fn is not None
    state.detach_()
    assert state.grad_fn is None and not state.requires_grad
    # the same loop with PyTorch's pattern for LSTM states
    lstm = nn.LSTM(4, 8)
    st = (tg.zeros((1, 3, 8)), tg.zeros((1, 3, 8)))
    for _ in range(2):
        for s in st:
            s.detach_()
        y, st = lstm(tg.randn(5, 3, 4), st)
        y.sum().backward()


# ============================================================================ F.one_hot
def test_one_hot_matches_torch():
    for idx, kw in [([0, 2, 1], {}), ([[0, 2], [1, 1]], {}), ([3, 0], dict(num_classes=5)), (2, dict(num_classes=3))]:
        ours = F.one_hot(tg.tensor(idx), **kw)
        theirs = torch.nn.functional.one_hot(torch.tensor(idx), **kw)
        assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert F.one_hot(tg.tensor(np.zeros(0, np.int64)), 3).shape == (0, 3)
    x = F.one_hot(tg.tensor([1, 0]), 2).float()         # the d2l pattern: one-hot, then float
    assert x.dtype == np.float32


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="integer"):
        F.one_hot(tg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="integer"):
        F.one_hot(tg.tensor([True, False]))
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(tg.tensor([-1, 2]))
    with pytest.raises(RuntimeError, match="smaller than num_classes=3"):
        F.one_hot(tg.tensor([1, 5]), num_classes=3)
    with pytest.raises(RuntimeError, match="empty"):
        F.one_hot(tg.tensor(np.zeros(0, np.int64)))


# ============================================================================ Module
def _nested(lib):
    """The same model in both libraries: a shared Linear reached twice, a shared Parameter, a buffer."""
    tnn = lib.nn

    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            self.fc = tnn.Linear(3, 3)
            self.bn = tnn.BatchNorm1d(3)

        def forward(self, x):
            return self.bn(self.fc(x))

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            shared = tnn.Linear(3, 3)
            self.a = Block()
            self.b = shared
            self.seq = tnn.Sequential(tnn.ReLU(), shared, Block())
            self.scale = tnn.Parameter(lib.ones(1))
            self.seq[2].fc.bias = self.a.fc.bias           # a parameter shared by two layers

        def forward(self, x):
            return self.seq(self.b(self.a(x))) * self.scale

    return Net()


def test_traversal_matches_torch():
    ours, theirs = _nested(tg), _nested(torch)

    def names(pairs):
        return [n for n, _ in pairs]

    for kw in [{}, dict(prefix="model"), dict(recurse=False), dict(remove_duplicate=False),
               dict(prefix="m", remove_duplicate=False)]:
        assert names(ours.named_parameters(**kw)) == names(theirs.named_parameters(**kw)), kw
        assert names(ours.named_buffers(**kw)) == names(theirs.named_buffers(**kw)), kw
    for kw in [{}, dict(prefix="m"), dict(remove_duplicate=False)]:
        assert names(ours.named_modules(**kw)) == names(theirs.named_modules(**kw)), kw
    assert names(ours.named_children()) == names(theirs.named_children())
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [type(m).__name__ for m in ours.children()] == [type(m).__name__ for m in theirs.children()]
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert len(list(ours.parameters(recurse=False))) == 1
    assert len(list(ours.buffers())) == len(list(theirs.buffers()))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # generators, as in PyTorch: next() works (word_language_model's init_hidden does this)
    assert next(ours.parameters()) is ours.scale
    assert next(iter(ours.named_modules()))[1] is ours


def test_apply_children_first_then_self_returns_self():
    order = {}
    for lib in (tg, torch):
        seen = []
        net = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(3, 1)))
        assert net.apply(lambda m: seen.append(type(m).__name__)) is net
        order[lib] = seen
    assert order[tg] == order[torch] == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]

    def init_weights(m):                   # d2l 5.2
        if type(m) == nn.Linear:
            nn.init.normal_(m.weight, mean=0, std=0.01)
            nn.init.zeros_(m.bias)

    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(400, 300), nn.ReLU(), nn.Linear(300, 10))
    net.apply(init_weights)
    assert abs(float(net[0].weight.std()) - 0.01) < 5e-4 and float(net[2].bias.abs().sum()) == 0
    assert net[0].weight.grad_fn is None and net[0].weight.requires_grad


def test_shared_layer_gets_summed_gradient_like_torch(rng):
    def build(lib):
        shared = lib.nn.Linear(8, 8)
        return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), shared, lib.nn.ReLU(), shared,
                                 lib.nn.ReLU(), lib.nn.Linear(8, 1))
    ours, theirs = build(tg).double(), build(torch).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    _copy_weights(ours, theirs)
    assert ours[2].weight is ours[4].weight
    x = rng.standard_normal((5, 4))
    theirs(torch.tensor(x)).sum().backward()
    ours(t64(x, False)).sum().backward()
    _assert_grads_match(ours, theirs)


def test_sequential_indexing_and_data_init():
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))
    assert isinstance(net[0], nn.Linear) and net[-1] is net[2] and len(net) == 3
    sub = net[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[1] is net[2]
    assert [n for n, _ in sub.named_children()] == ["1", "2"]      # slicing keeps the names (PyTorch too)
    w = net[0].weight
    out = w.data.normal_(0, 0.01)
    assert isinstance(out, tg.Tensor) and abs(float(w.std()) - 0.01) < 1e-3
    net[0].bias.data.fill_(0)
    assert float(net[0].bias.abs().sum()) == 0 and net[0].weight.requires_grad and w.grad_fn is None
    net[0].weight.data[0, 0] = 42                   # d2l 5.2: writes through .data reach the parameter
    assert float(net[0].weight[0, 0]) == 42
    net(tg.randn(2, 20)).sum().backward()
    assert net[0].weight.grad.shape == (256, 20)


def test_init_functions_return_tensor_record_no_graph_and_follow_torch():
    tg.manual_seed(0)
    w = nn.Parameter(tg.zeros(300, 200))
    for fn, args in [(nn.init.normal_, (0.0, 0.02)), (nn.init.uniform_, (-0.1, 0.1)), (nn.init.constant_, (0.3,)),
                     (nn.init.zeros_, ()), (nn.init.ones_, ()), (nn.init.xavier_uniform_, ()),
                     (nn.init.xavier_normal_, ()), (nn.init.kaiming_uniform_, ()), (nn.init.kaiming_normal_, ()),
                     (nn.init.trunc_normal_, ()), (nn.init.orthogonal_, ())]:
        out = fn(w, *args)                  # a leaf requiring grad, in grad mode: must not raise
        assert out is w and w.grad_fn is None and w.requires_grad, fn.__name__
    fan_in, fan_out = 200, 300
    checks = [(nn.init.xavier_uniform_, {}, math.sqrt(6 / (fan_in + fan_out)), "bound"),
              (nn.init.xavier_normal_, {}, math.sqrt(2 / (fan_in + fan_out)), "std"),
              (nn.init.kaiming_uniform_, dict(nonlinearity="relu"), math.sqrt(6 / fan_in), "bound"),
              (nn.init.kaiming_normal_, dict(mode="fan_out", nonlinearity="relu"), math.sqrt(2 / fan_out), "std"),
              (nn.init.kaiming_uniform_, dict(a=math.sqrt(5)), 1 / math.sqrt(fan_in), "bound")]
    for fn, kw, expected, kind in checks:
        fn(w, **kw)
        tw = getattr(torch.nn.init, fn.__name__)(torch.empty(300, 200), **kw)
        ours = float(w.abs().max()) if kind == "bound" else float(w.std())
        theirs = float(tw.abs().max()) if kind == "bound" else float(tw.std())
        assert abs(ours - expected) < 0.03 * expected and abs(theirs - expected) < 0.03 * expected, fn.__name__
    nn.init.orthogonal_(w)
    np.testing.assert_allclose(w.numpy().T @ w.numpy(), np.eye(200), atol=1e-5)
    nn.init.trunc_normal_(w, std=1.0, a=-0.5, b=0.5)
    assert float(w.abs().max()) <= 0.5
    for name, param in [("tanh", None), ("relu", None), ("leaky_relu", 0.2), ("selu", None), ("conv2d", None)]:
        assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_init_bumps_the_version_like_torch():
    """Re-initialising a weight that a recorded graph saved makes backward() fail, as in PyTorch."""
    lin = nn.Linear(3, 2)
    x = tg.randn(4, 3, requires_grad=True)
    y = lin(x).sum()
    nn.init.ones_(lin.weight)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_module_attribute_rules_match_torch():
    for lib in (tg, torch):
        lin = lib.nn.Linear(2, 2)
        with pytest.raises(TypeError, match="cannot assign"):
            lin.weight = lib.ones(2, 2)             # a plain tensor over a parameter
        lin.bias = None                             # None keeps the slot (bias=False style)
        assert "bias" in lin._parameters and lin.bias is None

        class Early(lib.nn.Module):
            def __init__(self):
                self.n = 3                          # plain attributes before super().__init__() are fine
                super().__init__()

        assert Early().n == 3

        class Bad(lib.nn.Module):
            def __init__(self):
                self.fc = lib.nn.Linear(1, 1)
                super().__init__()

        with pytest.raises(AttributeError, match="before Module.__init__"):
            Bad()
        m = lib.nn.Module()
        with pytest.raises(KeyError):
            m.add_module("a.b", lib.nn.ReLU())
        with pytest.raises(TypeError):
            m.add_module("x", 3)
    seq = nn.Sequential()
    seq.add_module("block 0", nn.ReLU())           # d2l 5.1 uses names with spaces
    assert list(dict(seq.named_children())) == ["block 0"]


def test_state_dict_load_returns_incompatible_keys_and_raises_runtime_error():
    a, b = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)), nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    res = b.load_state_dict(a.state_dict())
    assert repr(res) == repr(torch.nn.Linear(1, 1).load_state_dict(torch.nn.Linear(1, 1).state_dict()))
    assert res.missing_keys == [] and res.unexpected_keys == []
    sd = a.state_dict()
    del sd["0.bias"]
    sd["extra"] = tg.zeros(1)
    with pytest.raises(RuntimeError, match='Missing key.*"0.bias"'):
        b.load_state_dict(sd)
    with pytest.raises(RuntimeError, match='Unexpected key.*"extra"'):
        b.load_state_dict(sd)
    res = b.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["0.bias"] and res.unexpected_keys == ["extra"]
    with pytest.raises(RuntimeError, match="size mismatch for '0.weight'"):
        b.load_state_dict({"0.weight": np.zeros((2, 4))}, strict=False)
    w = b[0].weight
    view = w.data
    b.load_state_dict(a.state_dict())
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    b.load_state_dict(theirs.state_dict())               # a PyTorch state_dict (CPU tensors) loads too
    np.testing.assert_array_equal(b[0].weight.numpy(), theirs[0].weight.detach().numpy())
    assert int(b[1].num_batches_tracked.item()) == 0 and b[0].weight.dtype == np.float32
    b.load_state_dict(a.state_dict())
    assert b[0].weight is w
    np.testing.assert_array_equal(view.numpy(), a[0].weight.numpy())    # copied in place, like copy_()


def test_non_persistent_buffer_and_getters():
    m = nn.Module()
    m.register_buffer("keep", tg.zeros(2))
    m.register_buffer("tmp", tg.ones(2), persistent=False)
    m.sub = nn.Linear(2, 2)
    assert list(m.state_dict()) == ["keep", "sub.weight", "sub.bias"]
    assert [n for n, _ in m.named_buffers()] == ["keep", "tmp"]
    assert m.get_submodule("sub") is m.sub and m.get_parameter("sub.bias") is m.sub.bias
    assert m.get_buffer("tmp") is m.tmp
    with pytest.raises(TypeError, match="buffer"):
        m.keep = 3


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    seen = []
    h1 = lin.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda mod, args, out: seen.append(out.shape) or out + 1)
    y = lin(tg.ones(3, 2))
    np.testing.assert_allclose(y.numpy(), np.broadcast_to(lin.bias.numpy() + 1, (3, 2)), rtol=1e-6)
    assert seen == [(3, 2)]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(lin(tg.ones(1, 2)).numpy(), (lin.weight.numpy().sum(1) + lin.bias.numpy())[None],
                               rtol=1e-6)


def test_repr_matches_torch():
    for make in [lambda l: l.nn.Sequential(l.nn.Linear(2, 3), l.nn.ReLU(), l.nn.Flatten(0, 1)),
                 lambda l: l.nn.Unflatten(1, (2, 3)), lambda l: l.nn.RNN(2, 3, batch_first=True)]:
        assert repr(make(tg)) == repr(make(torch))


def test_flatten_unflatten_match_torch(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    for args in [(), (0,), (1, 2), (0, -1), (2, 3)]:
        assert nn.Flatten(*args)(t64(x)).shape == tuple(torch.nn.Flatten(*args)(torch.tensor(x)).shape)
    for dim, size in [(1, (3, 1)), (-1, (5, 1)), (3, (-1, 5)), (0, [1, 2])]:
        ours = nn.Unflatten(dim, size)(t64(x))
        theirs = torch.nn.Unflatten(dim, size)(torch.tensor(x))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="unflattened_size"):
        nn.Unflatten(1, (2, 2))(t64(x))
    # "Learning PyTorch with Examples": Linear(3, 1) then Flatten(0, 1)
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    assert model(tg.randn(7, 3)).shape == (7,)


def test_inplace_activations_modify_their_input_like_torch(rng):
    x = rng.standard_normal((4, 3))
    for name, ours_mod, their_mod in [("relu", nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
                                      ("leaky", nn.LeakyReLU(0.2, inplace=True), torch.nn.LeakyReLU(0.2, inplace=True)),
                                      ("silu", nn.SiLU(inplace=True), torch.nn.SiLU(inplace=True))]:
        a, ta = t64(x, False), torch.tensor(x)
        out, tout = ours_mod(a), their_mod(ta)
        assert out is a and tout is ta, name
        np.testing.assert_allclose(a.numpy(), ta.numpy(), atol=1e-12, err_msg=name)
        # in a graph: after a Linear, as in pytorch/vision's models; gradients equal PyTorch's
        lin, tlin = nn.Linear(3, 2).double(), torch.nn.Linear(3, 2).double()
        _copy_weights(lin, tlin)
        ours_mod(lin(t64(x, False))).sum().backward()
        their_mod(tlin(torch.tensor(x))).sum().backward()
        _assert_grads_match(lin, tlin)
    with pytest.raises(RuntimeError, match="leaf"):
        nn.ReLU(inplace=True)(tg.randn(3, requires_grad=True))
    d = nn.Dropout(0.5, inplace=True)
    a = tg.ones(1000)
    assert d(a) is a and 300 < int((a.numpy() == 0).sum()) < 700
    d.eval()
    b = tg.ones(10)
    assert d(b) is b and float(b.sum()) == 10


# ============================================================================ convolution and pooling
def _grads_vs_torch(ours_fn, theirs_fn, arrays, atol=1e-10):
    """Run both on the same float64 arrays with a loss that weights every output differently;
    compare outputs and the gradients of every input."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    gs = [t64(a) for a in arrays]
    out_t, out_g = theirs_fn(*ts), ours_fn(*gs)
    assert out_g.shape == tuple(out_t.shape)
    np.testing.assert_allclose(out_g.numpy(), out_t.detach().numpy(), atol=atol, rtol=1e-9)
    weights = np.random.default_rng(1).standard_normal(out_g.shape)
    (out_t * torch.tensor(weights)).sum().backward()
    (out_g * t64(weights, False)).sum().backward()
    for k, (g, t) in enumerate(zip(gs, ts)):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), atol=atol, rtol=1e-9,
                                   err_msg=f"gradient of input {k}")


CONV_CASES = [  # C_in, C_out, kernel, stride, padding, dilation, groups, bias, (H, W)
    (4, 6, 3, 1, 1, 2, 1, True, (9, 8)),
    (4, 6, 3, 2, 0, 1, 2, True, (9, 9)),
    (4, 4, 3, 1, 1, 1, 4, True, (6, 7)),                 # depthwise
    (6, 4, (3, 2), (2, 1), (1, 0), (2, 3), 2, False, (11, 9)),
    (3, 5, 4, 1, "same", 1, 1, True, (6, 7)),            # even kernel: one more zero bottom / right
    (4, 4, 3, 1, "same", 2, 2, True, (7, 7)),
    (2, 4, (2, 5), 1, "same", (3, 1), 1, False, (8, 9)),
    (4, 2, 2, 1, "valid", 1, 2, True, (5, 5)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("case", CONV_CASES, ids=[str(i) for i in range(len(CONV_CASES))])
def test_conv2d_dilation_groups_same_match_torch(rng, case):
    cin, cout, k, s, p, d, g, bias, hw = case
    kh, kw = (k, k) if isinstance(k, int) else k
    x = rng.standard_normal((2, cin) + hw)
    w = rng.standard_normal((cout, cin // g, kh, kw))
    arrays = [x, w] + ([rng.standard_normal(cout)] if bias else [])
    _grads_vs_torch(lambda *a: F.conv2d(*a, stride=s, padding=p, dilation=d, groups=g),
                    lambda *a: torch.nn.functional.conv2d(*a, stride=s, padding=p, dilation=d, groups=g), arrays)


@pytest.mark.parametrize("dilation, groups", [(2, 1), (1, 3), ((1, 2), 3)])
def test_conv2d_after_conv_channels_last_input_matches_torch(rng, dilation, groups):
    """The first conv's output has channels-last memory: the second (dilated / grouped) conv reads it."""
    def build(lib):
        return lib.nn.Sequential(lib.nn.Conv2d(2, 6, 3, padding=1), lib.nn.ReLU(),
                                 lib.nn.Conv2d(6, 6, 3, padding=2, dilation=dilation, groups=groups),
                                 lib.nn.MaxPool2d(3, 2, ceil_mode=True))
    theirs, ours = build(torch).double(), build(tg).double()
    _copy_weights(ours, theirs)
    x = rng.standard_normal((2, 2, 9, 9))
    _grads_vs_torch(ours, theirs, [x])
    _assert_grads_match(ours, theirs)


def test_conv2d_fn_gradcheck_groups_dilation(rng):
    from tinygrad_zh.ops.conv import Conv2dFn
    x, w = t64(rng.standard_normal((1, 4, 6, 5))), t64(rng.standard_normal((4, 2, 2, 3)))
    b = t64(rng.standard_normal(4))
    assert tg.gradcheck(lambda x, w, b: Conv2dFn.apply(x, w, b, stride=(1, 2), padding=1, dilation=(2, 1),
                                                       groups=2, extra_padding=(1, 0)), [x, w, b])


def test_conv2d_module_groups_dilation_same_params_init_repr():
    for kw in [dict(dilation=2), dict(groups=2), dict(padding="same", dilation=2, groups=4, bias=False),
               dict(stride=2, padding=(1, 2), groups=2), dict(padding="valid")]:
        ours, theirs = nn.Conv2d(4, 8, 3, **kw), torch.nn.Conv2d(4, 8, 3, **kw)
        assert repr(ours) == repr(theirs)
        assert [(n, p.shape) for n, p in ours.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
        bound = 1 / math.sqrt(ours.weight.shape[1] * 9)
        assert float(ours.weight.abs().max()) <= bound and float(ours.weight.abs().max()) > 0.8 * bound
        if ours.bias is not None:
            assert float(ours.bias.abs().max()) <= bound
    for bad in [dict(groups=3), dict(padding="same", stride=2), dict(padding="full")]:
        with pytest.raises(ValueError):
            torch.nn.Conv2d(4, 8, 3, **bad)
        with pytest.raises(ValueError):
            nn.Conv2d(4, 8, 3, **bad)
    with pytest.raises(NotImplementedError, match="reflect"):
        nn.Conv2d(1, 1, 3, padding_mode="reflect")


MAX_CASES = [  # kernel, stride, padding, dilation, ceil_mode, (H, W)
    (3, 2, 0, 1, True, (6, 6)), (3, 2, 1, 1, True, (7, 7)), (2, 2, 0, 1, True, (5, 5)),
    (3, 1, 1, 2, False, (7, 7)), (2, 3, 1, 2, True, (7, 10)), ((3, 2), (2, 1), (1, 0), (1, 2), True, (7, 10)),
    (3, 3, 1, 1, True, (5, 5)), (2, 2, 0, 1, False, (5, 5)),
]


def _distinct(rng, shape):
    """Values without ties, so the max of every window is unique (gradients are then unambiguous)."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 3.0


@pytest.mark.parametrize("case", MAX_CASES, ids=[str(i) for i in range(len(MAX_CASES))])
def test_max_pool2d_ceil_dilation_indices_match_torch(rng, case):
    k, s, p, d, ceil, hw = case
    x = _distinct(rng, (2, 3) + hw)
    _grads_vs_torch(lambda a: F.max_pool2d(a, k, s, p, d, ceil),
                    lambda a: torch.nn.functional.max_pool2d(a, k, s, p, d, ceil), [x])
    out, idx = F.max_pool2d(t64(x, False), k, s, p, d, ceil, return_indices=True)
    tout, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), k, s, p, d, ceil, return_indices=True)
    assert idx.dtype == np.int64 and not idx.requires_grad
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    ours = nn.MaxPool2d(k, s, p, d, ceil_mode=ceil)
    theirs = torch.nn.MaxPool2d(k, s, p, d, ceil_mode=ceil)
    assert repr(ours) == repr(theirs)
    np.testing.assert_array_equal(ours(t64(x[0], False)).numpy(), theirs(torch.tensor(x[0])).numpy())  # unbatched


def test_max_pool2d_with_indices_backward_and_gradcheck(rng):
    from tinygrad_zh.ops.conv import MaxPool2dFn
    x = t64(_distinct(rng, (1, 2, 7, 6)))
    out, idx = nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(x)
    (out * out).sum().backward()
    tx = torch.tensor(x.numpy(), requires_grad=True)
    tout, _ = torch.nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(tx)
    (tout * tout).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), atol=1e-12)
    assert tg.gradcheck(lambda a: MaxPool2dFn.apply(a, kernel_size=3, stride=2, padding=1, dilation=(1, 2),
                                                    ceil_mode=True) ** 2, [t64(_distinct(rng, (1, 1, 7, 9)))])


AVG_CASES = [  # kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, (H, W)
    (3, 2, 0, True, True, None, (6, 6)), (3, 2, 1, True, True, None, (6, 6)),
    (3, 2, 1, True, False, None, (6, 6)), (2, 2, 1, True, False, None, (5, 5)),
    ((3, 2), (2, 3), (1, 1), True, True, None, (7, 10)), (2, 2, 0, True, True, 3, (5, 5)),
    (3, 3, 1, False, False, None, (7, 7)), (4, 3, 2, True, True, None, (7, 7)),
]


@pytest.mark.parametrize("case", AVG_CASES, ids=[str(i) for i in range(len(AVG_CASES))])
def test_avg_pool2d_ceil_mode_matches_torch(rng, case):
    k, s, p, ceil, cip, div, hw = case
    x = rng.standard_normal((2, 3) + hw)
    _grads_vs_torch(lambda a: F.avg_pool2d(a, k, s, p, ceil, cip, div),
                    lambda a: torch.nn.functional.avg_pool2d(a, k, s, p, ceil, cip, div), [x])
    assert repr(nn.AvgPool2d(k, s, p, ceil, cip, div)) == repr(torch.nn.AvgPool2d(k, s, p, ceil, cip, div))


@pytest.mark.parametrize("out_size, hw", [((1, 1), (7, 7)), (3, (7, 7)), ((2, 5), (5, 9)), ((None, 2), (4, 7)),
                                          (4, (10, 6)), ((6, 6), (3, 4))])
def test_adaptive_pools_match_torch(rng, out_size, hw):
    x = _distinct(rng, (2, 3) + hw)
    _grads_vs_torch(lambda a: F.adaptive_avg_pool2d(a, out_size),
                    lambda a: torch.nn.functional.adaptive_avg_pool2d(a, out_size), [x])
    _grads_vs_torch(lambda a: F.adaptive_max_pool2d(a, out_size),
                    lambda a: torch.nn.functional.adaptive_max_pool2d(a, out_size), [x])
    _, idx = F.adaptive_max_pool2d(t64(x, False), out_size, return_indices=True)
    _, tidx = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), out_size, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    for ours, theirs in [(nn.AdaptiveAvgPool2d(out_size), torch.nn.AdaptiveAvgPool2d(out_size)),
                         (nn.AdaptiveMaxPool2d(out_size), torch.nn.AdaptiveMaxPool2d(out_size))]:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(t64(x[0], False)).numpy(), theirs(torch.tensor(x[0])).numpy(), atol=1e-12)


def test_adaptive_avg_pool_gradcheck_and_float32(rng):
    from tinygrad_zh.ops.conv import AdaptiveAvgPool2dFn
    assert tg.gradcheck(lambda a: AdaptiveAvgPool2dFn.apply(a, output_size=(2, 3)) ** 2,
                        [t64(rng.standard_normal((1, 2, 5, 7)))])
    y = nn.AdaptiveAvgPool2d((1, 1))(tg.randn(2, 3, 4, 4))
    assert y.dtype == np.float32 and y.shape == (2, 3, 1, 1)


def test_pool_errors_like_torch():
    with pytest.raises(ValueError, match="at most half"):
        F.max_pool2d(tg.zeros(1, 1, 5, 5), 2, padding=2)
    with pytest.raises(ValueError, match="too small"):
        F.max_pool2d(tg.zeros(1, 1, 2, 2), 3, dilation=2)
    with pytest.raises(ValueError, match="output_size"):
        F.adaptive_avg_pool2d(tg.zeros(1, 1, 2, 2), (0, 1))


# ============================================================================ other layers
ACTIVATIONS = [("ELU", (), {}), ("ELU", (0.5,), {}), ("SELU", (), {}), ("Softplus", (), {}),
               ("Softplus", (2.0, 3.0), {}), ("Hardtanh", (-2.0, 1.5), {}), ("ReLU6", (), {}),
               ("PReLU", (), {}), ("PReLU", (3, 0.1), {})]


@pytest.mark.parametrize("name, args, kw", ACTIVATIONS, ids=[f"{a[0]}{a[1]}" for a in ACTIVATIONS])
def test_extra_activations_match_torch(rng, name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw).double(), getattr(torch.nn, name)(*args, **kw).double()
    assert repr(ours) == repr(theirs)
    x = rng.standard_normal((4, 3, 5)) * 4
    x[0, 0, :3] = [30.0, -30.0, 800.0]                 # large values: no overflow, Softplus threshold
    x = np.where(np.abs(x - np.round(x)) < 1e-3, x + 0.01, x)   # keep away from the kinks at 0, 6, -2, 1.5
    _grads_vs_torch(ours, theirs, [x])
    if list(theirs.parameters()):
        _assert_grads_match(ours, theirs)


def test_inplace_extra_activations(rng):
    for name in ["ELU", "SELU", "Hardtanh", "ReLU6"]:
        x = rng.standard_normal(7) * 5
        a, ta = t64(x, False), torch.tensor(x)
        assert getattr(nn, name)(inplace=True)(a) is a
        getattr(torch.nn, name)(inplace=True)(ta)
        np.testing.assert_allclose(a.numpy(), ta.numpy(), atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cls, shape", [("Dropout2d", (8, 16, 3, 3)), ("Dropout2d", (16, 3, 3)),
                                        ("Dropout1d", (8, 16, 5)), ("Dropout1d", (16, 5))])
def test_channel_dropout_zeros_whole_channels(cls, shape):
    tg.manual_seed(0)
    m = getattr(nn, cls)(0.5)
    assert repr(m) == repr(getattr(torch.nn, cls)(0.5))
    x = tg.ones(*shape, dtype="float64", requires_grad=True)
    y = m(x)
    spatial = tuple(range(len(shape) - (2 if cls == "Dropout2d" else 1), len(shape)))
    per_channel = y.numpy().reshape(y.shape[:len(shape) - len(spatial)] + (-1,))
    assert np.all((per_channel == 0) | (per_channel == 2))                      # kept ones scaled by 1/(1-p)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))                  # whole channels
    assert 0.25 < float((per_channel[..., 0] == 0).mean()) < 0.75
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())                   # d(x·mask)/dx = mask
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="expected"):
        m(tg.ones(2))


@pytest.mark.parametrize("inplace_relu", [False, True])
def test_d2l_residual_block_with_inplace_add_matches_torch(rng, inplace_relu):
    """d2l 7.6: Y = bn2(conv2(relu(bn1(conv1(X))))); Y += conv3(X); relu(Y) — in train and eval mode;
    with ``inplace_relu`` the ReLUs are torchvision's ``relu(inplace=True)``."""
    def block(lib):
        tnn, tF = lib.nn, lib.nn.functional

        class Residual(tnn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = tnn.Conv2d(3, 6, kernel_size=3, padding=1, stride=2)
                self.conv2 = tnn.Conv2d(6, 6, kernel_size=3, padding=1)
                self.conv3 = tnn.Conv2d(3, 6, kernel_size=1, stride=2)
                self.bn1, self.bn2 = tnn.BatchNorm2d(6), tnn.BatchNorm2d(6)

            def forward(self, X):
                Y = tF.relu(self.bn1(self.conv1(X)), inplace=inplace_relu)
                Y = self.bn2(self.conv2(Y))
                Y += self.conv3(X)
                return tF.relu(Y, inplace=inplace_relu)
        return tnn.Sequential(Residual(), tnn.AdaptiveAvgPool2d((1, 1)), tnn.Flatten(), tnn.Linear(6, 4))
    ours, theirs = block(tg).double(), block(torch).double()
    _copy_weights(ours, theirs)
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        for p, q in zip(ours.parameters(), theirs.parameters()):
            p.grad, q.grad = None, None
        _grads_vs_torch(ours, theirs, [rng.standard_normal((3, 3, 8, 8))], atol=1e-9)
        _assert_grads_match(ours, theirs, atol=1e-9)
    for k, v in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), atol=1e-12, err_msg=k)


def test_d2l_seq2seq_gru_init_via_flat_weights_names():
    """d2l 9.7: ``for param in m._flat_weights_names: if "weight" in param: xavier_uniform_(m._parameters[param])``."""
    gru = nn.GRU(8, 16, 2)
    assert gru._flat_weights_names == torch.nn.GRU(8, 16, 2)._flat_weights_names
    for param in gru._flat_weights_names:
        if "weight" in param:
            nn.init.xavier_uniform_(gru._parameters[param])
    bound = math.sqrt(6 / (8 + 48))
    assert float(gru.weight_ih_l0.abs().max()) <= bound


def test_masked_softmax_ce_loss_subclass_pattern(rng):
    """d2l 9.7: subclass CrossEntropyLoss, set reduction='none' in forward, logits (N, C, T)."""
    def loss_cls(lib):
        class MaskedSoftmaxCELoss(lib.nn.CrossEntropyLoss):
            def forward(self, pred, label, valid_len):
                weights = (lib.arange(label.shape[1])[None, :] < valid_len[:, None]).float()
                self.reduction = "none"
                unweighted = super().forward(pred.permute(0, 2, 1), label)
                return (unweighted * weights).mean(dim=1)
        return MaskedSoftmaxCELoss()
    pred, label = rng.standard_normal((3, 4, 10)), rng.integers(0, 10, (3, 4))
    ours = loss_cls(tg)(t64(pred, False), tg.tensor(label), tg.tensor([4, 2, 0]))
    theirs = loss_cls(torch)(torch.tensor(pred), torch.tensor(label), torch.tensor([4, 2, 0]))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


def test_batchnorm_train_eval_and_losses_match_torch(rng):
    for cls, shape in [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (6, 3, 4)), ("BatchNorm2d", (4, 3, 5, 5))]:
        for momentum in (0.1, None):
            ours = getattr(nn, cls)(3, momentum=momentum).double()
            theirs = getattr(torch.nn, cls)(3, momentum=momentum).double()
            for _ in range(3):
                _grads_vs_torch(ours, theirs, [rng.standard_normal(shape) * 2 + 1], atol=1e-9)
            for name in ("running_mean", "running_var"):
                np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), atol=1e-12)
            ours.eval()
            theirs.eval()
            _grads_vs_torch(ours, theirs, [rng.standard_normal(shape)])
    x, y, c = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    for red in ("none", "mean", "sum"):
        _grads_vs_torch(lambda a, b: nn.MSELoss(reduction=red)(a, b),
                        lambda a, b: torch.nn.MSELoss(reduction=red)(a, b), [x, y])
        _grads_vs_torch(lambda a: nn.CrossEntropyLoss(reduction=red)(a, tg.tensor(c)),
                        lambda a: torch.nn.CrossEntropyLoss(reduction=red)(a, torch.tensor(c)), [x])
        _grads_vs_torch(lambda a: F.nll_loss(F.log_softmax(a, dim=1), tg.tensor(c), reduction=red),
                        lambda a: torch.nn.functional.nll_loss(a.log_softmax(1), torch.tensor(c), reduction=red), [x])


# ============================================================================ device "cuda" (GPU or the simulator)
@pytest.mark.cuda
@pytest.mark.skipif(not tg.backend.cuda_available(), reason="needs CuPy and an NVIDIA GPU (or TINYGRAD_ZH_CUDASIM=1)")
@pytest.mark.parametrize("name", ["conv_groups", "conv_dilation", "conv_same_even", "maxpool_ceil", "maxpool_dilation",
                                  "maxpool_indices", "avgpool_ceil", "adaptive_avg", "adaptive_max", "rnn_relu",
                                  "rnn_tanh_bidirectional"])
def test_new_layers_on_cuda_match_cpu(rng, name):
    fns = {
        "conv_groups": (lambda x, w, b: F.conv2d(x, w, b, groups=2, padding=1), [(2, 4, 6, 6), (6, 2, 3, 3), (6,)]),
        "conv_dilation": (lambda x, w: F.conv2d(x, w, dilation=2, padding=2, stride=2), [(2, 3, 9, 9), (4, 3, 3, 3)]),
        "conv_same_even": (lambda x, w: F.conv2d(x, w, padding="same"), [(2, 3, 6, 7), (4, 3, 4, 2)]),
        "maxpool_ceil": (lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), [(2, 3, 8, 8)]),
        "maxpool_dilation": (lambda x: F.max_pool2d(x, 2, 1, 0, dilation=2), [(2, 3, 7, 7)]),
        "maxpool_indices": (lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)[0], [(2, 3, 8, 8)]),
        "avgpool_ceil": (lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [(2, 3, 8, 8)]),
        "adaptive_avg": (lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [(2, 3, 7, 5)]),
        "adaptive_max": (lambda x: F.adaptive_max_pool2d(x, (3, 2)), [(2, 3, 7, 5)]),
        "rnn_relu": (lambda x, w1, w2, b1, b2, h: RNNLayerFn.apply(x, w1, w2, b1, b2, h, nonlinearity="relu")[0],
                     [(5, 2, 3), (4, 3), (4, 4), (4,), (4,), (2, 4)]),
        "rnn_tanh_bidirectional": (lambda x, w1, w2, h: RNNLayerFn.apply(x, w1, w2, h, batch_first=True,
                                                                         reverse=True)[0],
                                   [(2, 5, 3), (4, 3), (4, 4), (2, 4)]),
    }
    fn, shapes = fns[name]
    arrays = [_distinct(rng, s) for s in shapes]
    cpu = [t64(a) for a in arrays]
    gpu = [tg.Tensor(a, dtype="float64", device="cuda", requires_grad=True) for a in arrays]
    out_c, out_g = fn(*cpu), fn(*gpu)
    assert out_g.device == "cuda"
    np.testing.assert_allclose(out_g.numpy(), out_c.numpy(), atol=1e-10)
    (out_c * out_c).sum().backward()
    (out_g * out_g).sum().backward()
    for a, b in zip(cpu, gpu):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), atol=1e-9)

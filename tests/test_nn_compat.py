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
import warnings

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

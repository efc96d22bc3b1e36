"""LSTM / GRU: fused cell and whole-layer Functions (float64 gradcheck), the modules, and PyTorch.

* ``LSTMCellFn`` and the array reference against the textbook formulas (σ = 1/(1+e⁻ˣ));
* ``LSTMLayerFn`` / ``GRULayerFn``: gradcheck for every input (x, weights, biases, h0, c0) with the
  loss reading out, h_T and c_T, in both layouts, reversed, without biases;
* the fused layer equals a Python loop of ``LSTMCell`` steps (values and gradients);
* the modules: shapes, parameter names, init range, dropout, errors;
* with PyTorch installed: the same weights give the same outputs, states and gradients.
"""
import math

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh.nn.rnn import GRU, LSTM, GRUCell, LSTMCell
from tinygrad_zh.ops.gru import GRULayerFn
from tinygrad_zh.ops.lstm import (LSTMCellFn, LSTMLayerFn, lstm_cell_backward_arrays,
                                  lstm_cell_forward_arrays)


def t64(a, grad=True):
    return tg.Tensor(np.asarray(a, np.float64), dtype="float64", requires_grad=grad)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def textbook_lstm_step(A, c):
    H = c.shape[1]
    i, f, g, o = sigmoid(A[:, :H]), sigmoid(A[:, H:2 * H]), np.tanh(A[:, 2 * H:3 * H]), sigmoid(A[:, 3 * H:])
    c2 = f * c + i * g
    return o * np.tanh(c2), c2


def lstm_layer_inputs(rng, T=3, B=2, D=3, H=4, batch_first=False):
    shape = (B, T, D) if batch_first else (T, B, D)
    return [t64(rng.standard_normal(shape)), t64(rng.standard_normal((4 * H, D)) * 0.5),
            t64(rng.standard_normal((4 * H, H)) * 0.5), t64(rng.standard_normal(4 * H) * 0.5),
            t64(rng.standard_normal(4 * H) * 0.5), t64(rng.standard_normal((B, H))),
            t64(rng.standard_normal((B, H)))]


def uses_all_outputs(out, h, c=None):
    """A loss that reads the sequence output and the final states (gradient into h_n, c_n too)."""
    loss = (out * out).sum() + (h * h * h).sum()
    return loss if c is None else loss + (c.tanh() * h).sum()


# ----------------------------------------------------------------------------- the cell
def test_cell_arrays_match_textbook_formulas(rng):
    A, c = rng.standard_normal((3, 8)) * 3, rng.standard_normal((3, 2))
    h, c2, gates, tanh_c = lstm_cell_forward_arrays(A.copy(), c)
    eh, ec = textbook_lstm_step(A, c)
    np.testing.assert_allclose(h, eh, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c2, ec, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tanh_c, np.tanh(ec), rtol=1e-12)
    np.testing.assert_allclose(gates[:, :2], sigmoid(A[:, :2]), rtol=1e-12)


def test_cell_in_place_buffers_give_the_same_result(rng):
    A, c = rng.standard_normal((3, 8)), rng.standard_normal((3, 2))
    expect = lstm_cell_forward_arrays(A.copy(), c)
    buf = A.copy()
    got = lstm_cell_forward_arrays(buf, c, gates=buf)
    assert got[2] is buf
    for a, b in zip(got, expect):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_cell_sigmoid_does_not_overflow():
    A = np.array([[1e4, -1e4, 1e4, -1e4]], np.float32)
    with np.errstate(all="raise"):
        h, c, gates, _ = lstm_cell_forward_arrays(A.copy(), np.zeros((1, 1), np.float32))
    np.testing.assert_array_equal(gates, [[1, 0, 1, 0]])
    assert h.dtype == np.float32 and np.isfinite(h).all()


def test_cell_fn_gradcheck(rng):
    def f(A, c):
        h, c2 = LSTMCellFn.apply(A, c)
        return (h * h).sum() + (c2 * c2 * c2).sum()
    assert tg.gradcheck(f, [t64(rng.standard_normal((3, 12)) * 2), t64(rng.standard_normal((3, 3)))])


def test_cell_fn_gradcheck_only_one_output_used(rng):
    A, c = t64(rng.standard_normal((2, 8))), t64(rng.standard_normal((2, 2)))
    assert tg.gradcheck(lambda A, c: LSTMCellFn.apply(A, c)[0], [A, c])
    assert tg.gradcheck(lambda A, c: LSTMCellFn.apply(A, c)[1], [A, c])


def test_cell_backward_arrays_match_finite_differences(rng):
    B, H = 2, 3
    A, c, dh, dc = rng.standard_normal((B, 4 * H)), *rng.standard_normal((3, B, H))
    _, _, gates, tanh_c = lstm_cell_forward_arrays(A.copy(), c)
    dA, dc_prev = lstm_cell_backward_arrays(gates, c, tanh_c, dh, dc)

    def loss(A, c):
        h, c2 = textbook_lstm_step(A, c)
        return (h * dh).sum() + (c2 * dc).sum()
    eps = 1e-6
    for arr, grad in ((A, dA), (c, dc_prev)):
        num = np.zeros_like(arr)
        for k in np.ndindex(arr.shape):
            old = arr[k]
            arr[k] = old + eps
            fp = loss(A, c)
            arr[k] = old - eps
            fm = loss(A, c)
            arr[k] = old
            num[k] = (fp - fm) / (2 * eps)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


def test_cell_errors_name_shapes():
    with pytest.raises(ValueError, match=r"lstm_cell.*\(2, 7\).*\(2, 2\)"):
        LSTMCellFn.apply(tg.zeros(2, 7), tg.zeros(2, 2))
    with pytest.raises(TypeError, match="float64"):
        LSTMCellFn.apply(tg.zeros(2, 8), tg.zeros(2, 2, dtype="float64"))


# ----------------------------------------------------------------------------- the fused layer
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_layer_gradcheck_all_inputs(rng, batch_first, reverse):
    inputs = lstm_layer_inputs(rng, batch_first=batch_first)

    def f(*ts):
        return uses_all_outputs(*LSTMLayerFn.apply(*ts, batch_first=batch_first, reverse=reverse))
    assert tg.gradcheck(f, inputs)


def test_lstm_layer_gradcheck_without_bias_and_one_output(rng):
    x, wi, wh, _, _, h0, c0 = lstm_layer_inputs(rng, T=2)
    assert tg.gradcheck(lambda *ts: LSTMLayerFn.apply(*ts)[0], [x, wi, wh, h0, c0])
    assert tg.gradcheck(lambda *ts: LSTMLayerFn.apply(*ts)[2], [x, wi, wh, h0, c0])


def test_lstm_layer_equals_loop_of_cells(rng):
    """The fused layer = T applications of LSTMCell (outputs, states and every gradient)."""
    T, B, D, H = 5, 3, 4, 6
    cell = LSTMCell(D, H).double()
    x = rng.standard_normal((T, B, D))
    h0, c0 = rng.standard_normal((2, B, H))
    p = dict(cell.named_parameters())
    dout = rng.standard_normal((T, B, H))

    def run(fused):
        for q in p.values():
            q.grad = None
        xs, hs0, cs0 = t64(x), t64(h0), t64(c0)
        if fused:
            out, h, c = LSTMLayerFn.apply(xs, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"],
                                          hs0, cs0)
        else:
            h, c, outs = hs0, cs0, []
            for t in range(T):
                h, c = cell(xs[t], (h, c))
                outs.append(h)
            out = tg.stack(outs, 0)
        ((out * t64(dout, False)).sum() + (h * c).sum()).backward()
        return [out.numpy(), h.numpy(), c.numpy(), xs.grad.numpy(), hs0.grad.numpy(), cs0.grad.numpy()] + \
            [q.grad.numpy().copy() for q in p.values()]

    for a, b in zip(run(True), run(False)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_lstm_layer_float32_stays_float32_and_close_to_float64(rng):
    ins = lstm_layer_inputs(rng, T=6, B=3, D=5, H=7)
    out64 = LSTMLayerFn.apply(*ins)
    ins32 = [tg.Tensor(t.numpy().astype(np.float32)) for t in ins]
    out32 = LSTMLayerFn.apply(*ins32)
    for a, b in zip(out32, out64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)


def test_lstm_layer_shape_errors(rng):
    x, wi, wh, bi, bh, h0, c0 = lstm_layer_inputs(rng)
    with pytest.raises(ValueError, match=r"lstm_layer.*h0 \(3, 4\)"):
        LSTMLayerFn.apply(x, wi, wh, bi, bh, t64(np.zeros((3, 4))), c0)
    with pytest.raises(ValueError, match="3-D input"):
        LSTMLayerFn.apply(x[0], wi, wh, bi, bh, h0, c0)


@pytest.mark.parametrize("batch_first, reverse", [(False, False), (True, True)])
def test_gru_layer_gradcheck_all_inputs(rng, batch_first, reverse):
    T, B, D, H = 3, 2, 3, 4
    shape = (B, T, D) if batch_first else (T, B, D)
    inputs = [t64(rng.standard_normal(shape)), t64(rng.standard_normal((3 * H, D)) * 0.5),
              t64(rng.standard_normal((3 * H, H)) * 0.5), t64(rng.standard_normal(3 * H)),
              t64(rng.standard_normal(3 * H)), t64(rng.standard_normal((B, H)))]

    def f(*ts):
        return uses_all_outputs(*GRULayerFn.apply(*ts, batch_first=batch_first, reverse=reverse))
    assert tg.gradcheck(f, inputs)
    assert tg.gradcheck(lambda x, wi, wh, h0: GRULayerFn.apply(x, wi, wh, h0, batch_first=batch_first)[1],
                        [inputs[0], inputs[1], inputs[2], inputs[5]])


def test_gru_cell_matches_pytorch_formulas(rng):
    cell = GRUCell(3, 4).double()
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    P = {k: v.numpy() for k, v in cell.named_parameters()}
    xw, hw = x @ P["weight_ih"].T + P["bias_ih"], h @ P["weight_hh"].T + P["bias_hh"]
    r, z = sigmoid(xw[:, :4] + hw[:, :4]), sigmoid(xw[:, 4:8] + hw[:, 4:8])
    n = np.tanh(xw[:, 8:] + r * hw[:, 8:])
    expect = (1 - z) * n + z * h
    np.testing.assert_allclose(cell(t64(x), t64(h)).numpy(), expect, rtol=1e-12)


# ----------------------------------------------------------------------------- modules
def swap_params(module, tensors):
    """Make the module use ``tensors`` (same order as named_parameters) — lets gradcheck perturb them."""
    for (name, _), t in zip(module.named_parameters(), tensors):
        *path, leaf = name.split(".")
        m = module
        for part in path:
            m = getattr(m, part)
        m._parameters[leaf] = t


def test_lstm_module_two_layers_batch_first_gradcheck(rng):
    m = LSTM(3, 4, num_layers=2, batch_first=True).double()
    params = [t64(p.numpy()) for p in m.parameters()]
    x, h0, c0 = t64(rng.standard_normal((2, 3, 3))), t64(rng.standard_normal((2, 2, 4))), \
        t64(rng.standard_normal((2, 2, 4)))

    def f(x, h0, c0, *ps):
        swap_params(m, ps)
        out, (h, c) = m(x, (h0, c0))
        return uses_all_outputs(out, h, c)
    assert tg.gradcheck(f, [x, h0, c0] + params)


def test_gru_module_gradcheck(rng):
    m = GRU(2, 3, num_layers=2, bidirectional=True).double()
    params = [t64(p.numpy()) for p in m.parameters()]
    x = t64(rng.standard_normal((3, 2, 2)))

    def f(x, *ps):
        swap_params(m, ps)
        out, h = m(x)
        return uses_all_outputs(out, h)
    assert tg.gradcheck(f, [x] + params)


def test_lstm_shapes_names_and_init():
    m = LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True)
    names = [n for n, _ in m.named_parameters()]
    assert names[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert names[4:8] == ["weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                          "bias_hh_l0_reverse"]
    assert m.weight_ih_l1.shape == (80, 40) and m.weight_hh_l1.shape == (80, 20)
    k = 1 / math.sqrt(20)
    for p in m.parameters():
        assert p.dtype == np.float32 and p.requires_grad
        assert np.abs(p.numpy()).max() <= k and np.abs(p.numpy()).max() > 0.8 * k
    out, (h, c) = m(tg.randn(3, 5, 10))
    assert out.shape == (3, 5, 40) and h.shape == (4, 3, 20) and c.shape == (4, 3, 20)
    out, (h, c) = m(tg.randn(5, 10))                   # unbatched
    assert out.shape == (5, 40) and h.shape == (4, 20)
    assert repr(m) == "LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True)"


def test_lstm_final_states_are_last_outputs(rng):
    m = LSTM(3, 5, num_layers=2)
    out, (h, c) = m(tg.Tensor(rng.standard_normal((4, 2, 3)).astype(np.float32)))
    np.testing.assert_array_equal(h.numpy()[1], out.numpy()[-1])
    assert out.shape == (4, 2, 5) and h.shape == (2, 2, 5)


def test_lstm_init_is_seeded():
    tg.manual_seed(3)
    a = LSTM(4, 5).weight_hh_l0.numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(a, LSTM(4, 5).weight_hh_l0.numpy())


def test_lstm_dropout_only_between_layers_and_only_in_training(rng):
    x = tg.Tensor(rng.standard_normal((4, 2, 3)).astype(np.float32))
    m = LSTM(3, 5, num_layers=2, dropout=0.5)
    ref = LSTM(3, 5, num_layers=2)
    ref.load_state_dict(m.state_dict())
    tg.manual_seed(1)
    train1 = m(x)[0].numpy()
    tg.manual_seed(1)
    np.testing.assert_array_equal(train1, m(x)[0].numpy())     # reproducible with the seed
    assert not np.allclose(train1, ref(x)[0].numpy())
    m.eval()
    np.testing.assert_array_equal(m(x)[0].numpy(), ref(x)[0].numpy())
    one = LSTM(3, 5, num_layers=1, dropout=0.5)                # nothing between layers: no effect
    ref1 = LSTM(3, 5)
    ref1.load_state_dict(one.state_dict())
    np.testing.assert_array_equal(one(x)[0].numpy(), ref1(x)[0].numpy())


def test_module_errors():
    m = LSTM(3, 4, num_layers=2)
    with pytest.raises(ValueError, match="input_size=3"):
        m(tg.zeros(5, 2, 7))
    with pytest.raises(ValueError, match=r"initial state of shape \(2, 2, 4\)"):
        m(tg.zeros(5, 2, 3), (tg.zeros(1, 2, 4), tg.zeros(1, 2, 4)))
    with pytest.raises(TypeError, match="float64"):
        m(tg.zeros(5, 2, 3, dtype="float64"))
    with pytest.raises(ValueError, match="hidden_size"):
        LSTM(3, 0)
    with pytest.raises(ValueError, match=r"LSTMCell.*\(B, 3\)"):
        LSTMCell(3, 4)(tg.zeros(2, 5))


def test_cells_unbatched_and_default_state():
    c = LSTMCell(3, 4)
    h, s = c(tg.ones(3))
    assert h.shape == (4,) and s.shape == (4,)
    h2, s2 = c(tg.ones(1, 3), (tg.zeros(1, 4), tg.zeros(1, 4)))
    np.testing.assert_allclose(h2.numpy()[0], h.numpy(), rtol=1e-6)
    g = GRUCell(3, 4, bias=False)
    assert g(tg.ones(2, 3)).shape == (2, 4) and g.bias_ih is None


# ----------------------------------------------------------------------------- PyTorch
def _load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _compare_grads(ours, theirs, rtol, atol):
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(mine[name].grad.numpy(), p.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of {name}")


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-10), ("float32", 2e-5)])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lstm_matches_torch(rng, dtype, tol, bidirectional):
    torch = pytest.importorskip("torch")
    tdt = getattr(torch, dtype)
    B, T, D, H, L = 3, 5, 4, 6, 2
    dirs = 2 if bidirectional else 1
    theirs = torch.nn.LSTM(D, H, num_layers=L, batch_first=True, bidirectional=bidirectional).to(tdt)
    ours = LSTM(D, H, num_layers=L, batch_first=True, bidirectional=bidirectional).to(dtype)
    _load_from_torch(ours, theirs)
    x, h0, c0 = (rng.standard_normal(s).astype(dtype) for s in [(B, T, D), (L * dirs, B, H), (L * dirs, B, H)])
    w_out = rng.standard_normal((B, T, dirs * H)).astype(dtype)
    tx, th0, tc0 = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    gx, gh0, gc0 = (tg.Tensor(a, dtype=dtype, requires_grad=True) for a in (x, h0, c0))
    to, (th, tc) = theirs(tx, (th0, tc0))
    go, (gh, gc) = ours(gx, (gh0, gc0))
    ((to * torch.tensor(w_out)).sum() + (th * tc).sum()).backward()
    ((go * tg.Tensor(w_out, dtype=dtype)).sum() + (gh * gc).sum()).backward()
    for a, b, what in [(go, to, "output"), (gh, th, "h_n"), (gc, tc, "c_n"), (gx.grad, tx.grad, "dx"),
                       (gh0.grad, th0.grad, "dh0"), (gc0.grad, tc0.grad, "dc0")]:
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=tol, atol=tol, err_msg=what)
    _compare_grads(ours, theirs, tol, tol)


def test_lstm_cell_matches_torch(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.LSTMCell(4, 5).double()
    ours = LSTMCell(4, 5).double()
    _load_from_torch(ours, theirs)
    x, h, c = rng.standard_normal((3, 4)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    gx, gh, gc = (t64(a) for a in (x, h, c))
    h1, c1 = theirs(tx, (th, tc))
    h2, c2 = ours(gx, (gh, gc))
    ((h1 ** 2).sum() + (c1 * h1).sum()).backward()
    ((h2 * h2).sum() + (c2 * h2).sum()).backward()
    for a, b in [(h2, h1), (c2, c1), (gx.grad, tx.grad), (gh.grad, th.grad), (gc.grad, tc.grad)]:
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    _compare_grads(ours, theirs, 1e-10, 1e-12)


@pytest.mark.parametrize("batch_first, bidirectional", [(False, False), (True, True)])
def test_gru_matches_torch(rng, batch_first, bidirectional):
    torch = pytest.importorskip("torch")
    B, T, D, H, L = 3, 4, 4, 5, 2
    dirs = 2 if bidirectional else 1
    theirs = torch.nn.GRU(D, H, L, batch_first=batch_first, bidirectional=bidirectional).double()
    ours = GRU(D, H, L, batch_first=batch_first, bidirectional=bidirectional).double()
    _load_from_torch(ours, theirs)
    x = rng.standard_normal((B, T, D) if batch_first else (T, B, D))
    h0 = rng.standard_normal((L * dirs, B, H))
    tx, th0 = torch.tensor(x, requires_grad=True), torch.tensor(h0, requires_grad=True)
    gx, gh0 = t64(x), t64(h0)
    to, th = theirs(tx, th0)
    go, gh = ours(gx, gh0)
    ((to ** 2).sum() + (th ** 3).sum()).backward()
    ((go * go).sum() + (gh * gh * gh).sum()).backward()
    for a, b in [(go, to), (gh, th), (gx.grad, tx.grad), (gh0.grad, th0.grad)]:
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    _compare_grads(ours, theirs, 1e-10, 1e-12)


def test_gru_cell_matches_torch(rng):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.GRUCell(4, 5).double()
    ours = GRUCell(4, 5).double()
    _load_from_torch(ours, theirs)
    x, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    gx, gh = t64(x), t64(h)
    (theirs(tx, th) ** 3).sum().backward()
    out = ours(gx, gh)
    (out * out * out).sum().backward()
    np.testing.assert_allclose(out.numpy(), theirs(tx, th).detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gh.grad.numpy(), th.grad.numpy(), rtol=1e-10)
    _compare_grads(ours, theirs, 1e-10, 1e-12)


def test_lstm_training_memory_does_not_grow_over_2000_steps():
    """2,000 training steps of a small LSTM language model (hidden state carried and detached,
    gradient clipping, Adam) do not grow the process's resident memory (a graph kept alive per
    step would add several MB)."""
    import gc
    import os

    import tinygrad_zh.nn as nn
    import tinygrad_zh.nn.functional as F

    if not os.path.exists("/proc/self/statm"):
        pytest.skip("needs /proc/self/statm (Linux) to read the resident set size")

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.lstm, self.out = nn.Embedding(20, 8), nn.LSTM(8, 16, batch_first=True), nn.Linear(16, 20)

        def forward(self, x, h=None):
            o, h = self.lstm(self.embed(x), h)
            return self.out(o), h

    rng = np.random.default_rng(5)
    model = LM()
    opt = tg.optim.Adam(model.parameters(), lr=1e-3)
    x, y = tg.tensor(rng.integers(0, 20, (4, 6))), tg.tensor(rng.integers(0, 20, (4, 6)))
    state = [None]

    def step():
        opt.zero_grad()
        logits, h = model(x, state[0])
        state[0] = tuple(s.detach() for s in h)
        F.cross_entropy(logits.reshape(-1, 20), y.reshape(-1)).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    for _ in range(100):
        step()
    gc.collect()
    before = rss()
    for _ in range(2000):
        step()
    gc.collect()
    grown = rss() - before
    assert grown < 1024 * 1024, f"resident memory grew by {grown / 1024:.0f} KiB over 2,000 steps"

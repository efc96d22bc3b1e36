"""The performance changes keep behaviour identical.

* Optimizers update big parameters in cache-sized blocks (``Optimizer._blocks``): the result equals
  the whole-array update for every option of SGD and Adam.
* The softmax cross-entropy computes its gradient in its saved buffer when the graph is not retained;
  with ``retain_graph=True`` a second backward still gives the same gradient.
* The backward engine lets go of a node's gradients as soon as the node is done (the peak memory of
  a step with a large output layer holds two (N, V) arrays, not three).
* ``Linear`` on an N-D input (one 2-D GEMM inside) matches the composed ``x @ W.T + b``.
"""
import gc
import tracemalloc

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.nn as nn
import tinygrad_zh.nn.functional as F


def _run(opt_cls, kwargs, block, steps=3, shape=(300, 701)):
    """Parameters after ``steps`` updates with blocks of ``block`` elements (a huge block = one piece)."""
    rng = np.random.default_rng(0)
    p = nn.Parameter(tg.tensor(rng.standard_normal(shape)))
    opt = opt_cls([p], **kwargs)
    opt._BLOCK = block
    for k in range(steps):
        p.grad = tg.tensor(rng.standard_normal(shape) * (k + 1))
        opt.step()
    return p.array.copy(), {k: v.copy() for k, v in opt.state[p].items() if hasattr(v, "shape")}


@pytest.mark.parametrize("opt_cls,kwargs", [
    (tg.optim.SGD, dict(lr=0.1)),
    (tg.optim.SGD, dict(lr=0.1, momentum=0.9)),
    (tg.optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (tg.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    (tg.optim.Adam, dict(lr=1e-2)),
    (tg.optim.Adam, dict(lr=1e-2, weight_decay=0.1, amsgrad=True, maximize=True)),
    (tg.optim.AdamW, dict(lr=1e-2, weight_decay=0.1)),
])
def test_blocked_update_equals_whole_update(opt_cls, kwargs):
    whole, whole_state = _run(opt_cls, kwargs, block=10 ** 9)
    blocked, blocked_state = _run(opt_cls, kwargs, block=4096)     # 300·701 elements: 52 blocks
    np.testing.assert_array_equal(blocked, whole)
    assert whole_state.keys() == blocked_state.keys()
    for k in whole_state:
        np.testing.assert_array_equal(blocked_state[k], whole_state[k])


def test_blocked_update_keeps_the_gradient():
    p = nn.Parameter(tg.tensor(np.ones((400, 500))))
    g = np.full((400, 500), 0.5, np.float32)
    p.grad = tg.tensor(g.copy())
    opt = tg.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    opt.step()
    np.testing.assert_array_equal(p.grad.numpy(), g)              # optimizers never write into .grad
    np.testing.assert_allclose(p.array, 1 - 0.1 * (0.5 + 0.1), rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_gradient_with_and_without_retained_graph(reduction):
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    y = tg.tensor([0, 4, 2, 2, -100, 1])
    p = np.exp(x.numpy()) / np.exp(x.numpy()).sum(1, keepdims=True)
    valid = y.numpy() != -100
    expected = p.copy()
    expected[np.arange(6)[valid], y.numpy()[valid]] -= 1
    expected *= valid[:, None] / (valid.sum() if reduction == "mean" else 1)

    loss = F.cross_entropy(x, y, reduction=reduction)
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()                              # second pass over the retained graph: same gradient
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(x.grad.numpy(), 2 * expected, rtol=1e-5, atol=1e-7)

    x.grad = None
    F.cross_entropy(x, y, reduction=reduction).backward()        # graph not retained: in-place path
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-7)


def test_linear_nd_input_matches_composed_ops():
    rng = np.random.default_rng(2)
    xa = rng.standard_normal((5, 3, 4))
    lin = nn.Linear(4, 6)
    for x_np in (xa, xa.transpose(1, 0, 2)):                     # contiguous and a transposed view
        x = tg.tensor(x_np, requires_grad=True)
        y = lin(x)
        ref = x_np.astype(np.float32) @ lin.weight.numpy().T + lin.bias.numpy()
        np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-6)
        g = rng.standard_normal(y.shape).astype(np.float32)
        lin.zero_grad()
        y.backward(gradient=g)
        np.testing.assert_allclose(x.grad.numpy(), g @ lin.weight.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(lin.weight.grad.numpy(),
                                   g.reshape(-1, 6).T @ x_np.reshape(-1, 4).astype(np.float32),
                                   rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(lin.bias.grad.numpy(), g.reshape(-1, 6).sum(0), rtol=1e-5, atol=1e-5)


def test_peak_memory_of_a_large_output_layer_step():
    """Linear (N, H) -> (N, V) logits + cross-entropy: at the peak, the logits and one (N, V) buffer
    (softmax, then the gradient written into it) are alive, but no third (N, V) array."""
    N, H, V = 512, 16, 4000
    big = N * V * 4
    rng = np.random.default_rng(3)
    lin = nn.Linear(H, V)
    x = tg.tensor(rng.standard_normal((N, H)))
    y = tg.tensor(rng.integers(0, V, N))
    F.cross_entropy(lin(x), y).backward()        # warm-up
    lin.zero_grad()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        F.cross_entropy(lin(x), y).backward()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert 2 * big <= peak < 2.5 * big, f"peak {peak / big:.2f} (N, V) arrays"


# The smallest object a per-step leak can keep is about 16 bytes, so a leak adds at least 16,000 bytes
# per 1,000-step window, in every window. Bounded caches (NumPy keeps freed small buffers for reuse,
# and which ones it keeps depends on the order of frees) can add a few kilobytes in one window, then
# stop. So: up to four windows, passing as soon as one grows by less than 8 KB.
LEAK_BYTES_PER_WINDOW = 8192


def test_no_memory_growth_over_many_steps():
    """A training step (forward, backward, Adam) leaves nothing behind: traced memory after 1,000
    more steps is what it was after the first ones (a creep of a few bytes per step, e.g. from a
    NumPy scalar made in every backward, would show as 16 KB or more). A leak grows in every window; a
    cache that some earlier test left half-filled grows for a while, then stops."""
    rng = np.random.default_rng(4)
    model = nn.Sequential(nn.Embedding(50, 8), nn.Flatten(), nn.Linear(8 * 6, 32), nn.ReLU(),
                          nn.Linear(32, 50))
    opt = tg.optim.Adam(model.parameters(), lr=1e-3)
    x = tg.tensor(rng.integers(0, 50, (16, 6)))
    y = tg.tensor(rng.integers(0, 50, 16))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(100):
        step()
    gc.collect()
    tracemalloc.start(8)
    try:
        growth = []
        for window in range(4):          # a cache (NumPy's small-buffer cache, ...) stops growing; a leak never does
            gc.collect()
            before = tracemalloc.get_traced_memory()[0]
            snap0 = tracemalloc.take_snapshot()
            for _ in range(1000):
                step()
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
            growth.append(after - before)
            if after - before < LEAK_BYTES_PER_WINDOW:
                break
        top = tracemalloc.take_snapshot().compare_to(snap0, "traceback")[:3]
    finally:
        tracemalloc.stop()
    where = "\n".join(f"{d.size_diff:+d} B, {d.count_diff:+d} blocks:\n" + "\n".join(d.traceback.format())
                      for d in top)
    assert growth[-1] < LEAK_BYTES_PER_WINDOW, f"memory grew by {growth} bytes over 1000-step windows; largest:\n{where}"

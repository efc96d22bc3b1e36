"""Graph semantics of the autograd engine: shared subexpressions, diamonds, accumulation,
retain_graph, no_grad/enable_grad, deep graphs, memory release, aliasing, and clear errors."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import backend
from tinygrad_zh.autograd import Function

pytestmark = pytest.mark.core


def leaf(values, dtype="float64"):
    return tg.tensor(values, dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------------------- graph shapes
def test_shared_subexpression_x_times_x():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -4.0, 6.0])


def test_diamond():
    """a feeds b and c, both feed d: a's gradient is the sum over both paths."""
    a = leaf([2.0])
    b, c = a * 3.0, a + 1.0
    d = b * c                       # d = 3a(a + 1) -> dd/da = 6a + 3
    d.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [15.0])


class CountingIdentity(Function):
    calls = 0

    def forward(self, a):
        return a

    def backward(self, g):
        """z = x:  ∂z/∂x = 1 —— 只用来数反向被调用了几次。"""
        CountingIdentity.calls += 1
        return g


def test_each_node_runs_backward_once():
    """b = a + a; c = b + b; ... : a naive recursion would call backward 2^n times."""
    CountingIdentity.calls = 0
    x = leaf([1.0])
    y = CountingIdentity.apply(x)
    for _ in range(40):
        y = CountingIdentity.apply(y + y)
    y.sum().backward()
    assert CountingIdentity.calls == 41
    assert x.grad.item() == 2.0 ** 40


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_second_backward_without_retain_graph_raises():
    x = leaf([1.0])
    h = x.exp()
    h.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        (h * 2).sum().backward()       # goes through h's freed node


def test_backward_on_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar outputs.*shape \(2,\)"):
        y.backward()
    y.backward(gradient=tg.tensor([1.0, 10.0], dtype="float64"))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 20.0])
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\)"):
        (x * 2).backward(gradient=np.ones(3))


def test_backward_without_requires_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (tg.ones(2) * 2).sum().backward()


def test_backward_on_a_leaf():
    x = leaf(3.0)
    x.backward()
    assert x.grad.item() == 1.0


def test_retain_grad_on_intermediate():
    x = leaf([1.0, 2.0])
    h = (x * 2).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad.numpy(), [4.0, 8.0])
    np.testing.assert_array_equal(x.grad.numpy(), [8.0, 16.0])


class TwoOutputs(Function):
    n_outputs = 2

    def forward(self, a):
        return a * 2, a * 3

    def backward(self, g2, g3):
        """(y, z) = (2x, 3x):  ∂L/∂x = 2·∂L/∂y + 3·∂L/∂z —— 没用到的输出梯度为 None，当作 0。"""
        total = 0
        if g2 is not None:
            total = total + 2 * g2
        if g3 is not None:
            total = total + 3 * g3
        return total


def test_multi_output_function_with_an_unused_output():
    x = leaf([1.0])
    y, _ = TwoOutputs.apply(x)
    y.sum().backward()
    assert x.grad.item() == 2.0
    x.grad = None
    y, z = TwoOutputs.apply(x)
    (y + z * z).sum().backward()          # 2 + 3·2z = 2 + 3·6
    assert x.grad.item() == 20.0


def test_needs_input_grad_tells_backward_what_is_wanted():
    seen = []

    class Probe(Function):
        def forward(self, a, b):
            return a * b

        def backward(self, g):
            """z = a·b:  ∂z/∂a = b, ∂z/∂b = a —— 这里只记录哪些梯度被需要。"""
            seen.append(self.needs_input_grad)
            return g, g

    Probe.apply(leaf([1.0]), tg.tensor([2.0], dtype="float64")).sum().backward()
    assert seen == [(True, False)]


# ---------------------------------------------------------------------------- grad mode
def test_no_grad_context_and_decorator():
    x = leaf([1.0])
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = x * 2
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            z = x * 2
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @tg.no_grad()
    def evaluate(t):
        assert not tg.is_grad_enabled()
        return t * 3

    assert evaluate.__name__ == "evaluate"
    assert not evaluate(x).requires_grad and tg.is_grad_enabled()

    @tg.enable_grad()
    def train_step(t):
        return t * 3

    with tg.no_grad():
        assert train_step(x).requires_grad


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            1 / 0
    assert tg.is_grad_enabled()


def test_requires_grad_propagates():
    a, b = leaf([1.0]), tg.tensor([2.0], dtype="float64")
    assert (a * b).requires_grad and not (b * b).requires_grad
    assert (a * b).grad_fn is not None and (b * b).grad_fn is None
    with pytest.raises(RuntimeError, match="leaf"):
        (a * b).requires_grad_(False)


# ---------------------------------------------------------------------------- deep graphs, memory
def test_chain_of_100k_ops_has_no_recursion_error():
    x = leaf([1.5])
    y = x
    for _ in range(100_000):
        y = -y
    y.backward(retain_graph=True)          # iterative topological sort: no RecursionError
    assert x.grad.item() == 1.0            # (-1)^100000
    del y                                  # freeing a retained 100k-deep graph must not crash either


def test_graph_is_freed_by_reference_counting_alone():
    """No reference cycles: intermediates die as soon as nothing refers to the output (gc off)."""
    gc.collect()
    gc.disable()
    try:
        x = leaf([1.0, 2.0])
        h = x * 2
        ref_h = weakref.ref(h)
        loss = h.tanh().sum()
        ref_node = weakref.ref(loss.grad_fn)
        del h
        assert ref_h() is not None, "the graph keeps h alive while loss exists"
        del loss
        assert ref_h() is None and ref_node() is None, "a reference cycle keeps the graph alive"

        h = x.exp()
        ref_h = weakref.ref(h)
        loss = (h * h).sum()
        del h
        loss.backward()                    # frees the saved buffers and the links to parents
        assert ref_h() is None and loss.grad_fn is not None
    finally:
        gc.enable()


def _mlp_step(params, x, y, lr=0.05):
    w1, b1, w2, b2 = params
    pred = (x @ w1 + b1).tanh() @ w2 + b2
    loss = ((pred - y) ** 2).mean()
    loss.backward()
    with tg.no_grad():
        for p in params:
            p.array -= lr * p.grad.array
            p.grad = None
    return loss.item()


def test_memory_stays_flat_over_a_training_loop():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((16, 4)))
    y = tg.tensor(np.sin(x.numpy().sum(axis=1, keepdims=True)))
    params = [tg.tensor(rng.standard_normal((4, 8)) * 0.5, requires_grad=True), tg.zeros(8, requires_grad=True),
              tg.tensor(rng.standard_normal((8, 1)) * 0.5, requires_grad=True), tg.zeros(1, requires_grad=True)]
    tracemalloc.start()
    try:
        # warm-up under tracing: NumPy's small-buffer caches and Python's free lists fill up once
        first = [_mlp_step(params, x, y) for _ in range(600)][0]
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(900):
            last = _mlp_step(params, x, y)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a leak of one small array per step would add > 40 KiB here
    assert current - base < 32 * 1024, f"memory grew by {(current - base) / 1024:.1f} KiB over 900 steps"
    assert peak - base < 256 * 1024, f"peak {(peak - base) / 1024:.1f} KiB above the start for a tiny MLP"
    assert last < first, "the loop should also learn something"


# ---------------------------------------------------------------------------- aliasing
def test_leaf_gradients_are_not_aliased():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.array += 100.0
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    assert a.grad.array.flags.writeable and b.grad.array.flags.writeable


def test_leaf_gradient_is_not_the_callers_gradient_array():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = np.array([1.0, 2.0])
    (a + b).backward(gradient=g)
    a.grad.array *= 0
    b.grad.array *= 0
    np.testing.assert_array_equal(g, [1.0, 2.0])


def test_view_gradients_are_not_aliased():
    a, b = leaf([[1.0, 2.0]]), leaf([3.0, 4.0])
    (a.reshape(2) + b + a.reshape(2)).sum().backward()
    b.grad.array[:] = -1
    np.testing.assert_array_equal(a.grad.numpy(), [[2.0, 2.0]])


# ---------------------------------------------------------------------------- clear errors
def _fake_cuda(values):
    """A tensor that claims to live on the GPU (its data is still a NumPy array)."""
    return tg.Tensor._make(np.asarray(values, np.float32), "cuda", None, 0)


@pytest.mark.parametrize("fn,exc,pattern", [
    (lambda: tg.ones(2, 3) @ tg.ones(4, 2), ValueError, r"matmul.*\(2, 3\) and \(4, 2\)"),
    (lambda: tg.ones(2, 3) + tg.ones(2, 4), ValueError, r"broadcast.*\(2, 3\) and \(2, 4\)"),
    (lambda: tg.ones(2, 3) * tg.ones(5), ValueError, r"mul.*\(2, 3\) and \(5,\)"),
    (lambda: tg.ones(3)[tg.tensor([0.0, 1.0])], IndexError, r"integer or bool.*float"),
    (lambda: tg.ones(3)[tg.tensor([1, 3])], IndexError, r"index 3 .*size 3"),
    (lambda: tg.ones(3)[4], IndexError, r"4.*size 3"),
    (lambda: tg.ones(2) + _fake_cuda([1.0, 2.0]), RuntimeError, r"cpu and cuda"),
    (lambda: _fake_cuda([1.0, 2.0]) * tg.ones(2), RuntimeError, r"cuda and cpu"),
    (lambda: tg.ones(2, 2) @ _fake_cuda([[1.0], [2.0]]), RuntimeError, r"cpu and cuda"),
    (lambda: tg.ones(2)[tg.Tensor._make(np.array([0]), "cuda", None, 0)], RuntimeError, r"cuda.*cpu"),
    (lambda: tg.tensor([1.0], device="tpu"), ValueError, r"unknown device 'tpu'"),
])
def test_bad_input_errors_name_what_is_wrong(fn, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fn()


def test_cuda_without_cupy_says_how_to_install():
    """Run where CUDA is unavailable: a fresh process with the simulator off (and, on a GPU machine,
    CuPy hidden), so this runs everywhere instead of skipping when the simulator provides 'cuda'."""
    import subprocess
    import sys
    code = ("import sys; sys.modules['cupy'] = None\n"
            "import tinygrad_zh as tg\n"
            "for f in (lambda: tg.ones(2).cuda(), lambda: tg.zeros(2, device='cuda')):\n"
            "    try:\n        f()\n    except RuntimeError as e:\n        print('ERR', e)\n")
    env = dict(__import__("os").environ, TINYGRAD_ZH_CUDASIM="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    errs = [line for line in out.stdout.splitlines() if line.startswith("ERR")]
    assert len(errs) == 2, out.stdout + out.stderr
    assert all("not available" in e and "pip install" in e for e in errs), errs

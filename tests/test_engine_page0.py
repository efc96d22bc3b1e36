"""Page 0 (docs/00_build_an_engine.md) and its finished engine, tinygrad_zh/exercises/engine.py: each step's
claims hold (local derivatives, topological order, gradients equal tinygrad_zh's and central differences,
accumulation on leaves, the XOR network learns), and the page's step-by-step engine is the shipped one."""
import math
import pathlib
import sys

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh.exercises import engine
from tinygrad_zh.exercises.engine import MLP, Scalar, topological_order

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

from tinygrad_zh.exercises._custom import build, graph_cases, tg_leaf_grads  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "00_build_an_engine.md"
FAST = settings(max_examples=30, derandomize=True, database=None, deadline=None)

UNARY = {
    "exp": (lambda x: x.exp(), math.exp, (-3, 3)),
    "log": (lambda x: x.log(), math.log, (0.1, 5)),
    "tanh": (lambda x: x.tanh(), math.tanh, (-3, 3)),
    "sigmoid": (lambda x: x.sigmoid(), lambda v: 1 / (1 + math.exp(-v)), (-8, 8)),
    "relu": (lambda x: x.relu(), lambda v: max(v, 0.0), (-3, 3)),
    "pow3": (lambda x: x ** 3, lambda v: v ** 3, (-3, 3)),
    "neg": (lambda x: -x, lambda v: -v, (-3, 3)),
    "rdiv": (lambda x: 2.0 / x, lambda v: 2.0 / v, (0.2, 3)),
    "rsub": (lambda x: 1.0 - x, lambda v: 1.0 - v, (-3, 3)),
}


# --------------------------------------------------------------------------- 0.1 / 0.2
def test_a_scalar_remembers_its_inputs_and_local_derivatives():
    a, b = Scalar(2.0), Scalar(-3.0)
    c = a * b
    y = c + a
    assert y.data == -4.0 and y.grad == 0.0
    assert y.parents == (c, a) and y.local_grads == (1.0, 1.0) and y.op == "+"
    assert c.parents == (a, b) and c.local_grads == (-3.0, 2.0)      # ∂(ab)/∂a = b, ∂(ab)/∂b = a
    assert a.parents == () and a.local_grads == ()


def test_chain_rule_by_hand_on_page_values():
    a, b = Scalar(2.0), Scalar(-3.0)
    y = a * b + a
    y.backward()
    assert a.grad == b.data + 1 and b.grad == a.data                 # ∂(ab + a)/∂a = b + 1


# --------------------------------------------------------------------------- 0.3
@FAST
@given(graph_cases())
def test_topological_order_puts_every_node_after_its_inputs_once(case):
    nodes = build(case, Scalar)
    order = topological_order(nodes[-1])
    assert len({id(n) for n in order}) == len(order)
    pos = {id(n): k for k, n in enumerate(order)}
    assert order[-1] is nodes[-1]
    for n in order:
        for p in n.parents:
            assert pos[id(p)] < pos[id(n)]


@FAST
@given(graph_cases())
def test_backward_equals_tinygrad_and_central_differences(case):
    nodes = build(case, Scalar)
    nodes[-1].backward()
    mine = [n.grad for n in nodes[:len(case.leaves)]]
    np.testing.assert_allclose(mine, tg_leaf_grads(case), rtol=1e-9, atol=1e-12)
    eps = 1e-6
    for k in range(len(case.leaves)):
        def f(delta):
            leaves = list(case.leaves)
            leaves[k] += delta
            return build(type(case)(tuple(leaves), case.ops), Scalar)[-1].data
        numeric = (f(eps) - f(-eps)) / (2 * eps)
        assert abs(mine[k] - numeric) <= 1e-5 * max(1.0, abs(numeric))


def test_reused_node_doubling_gets_the_exact_gradient():
    x = Scalar(1.5)
    s = x + x
    q = s * s                                        # 4x², d/dx = 8x
    q.backward()
    assert x.grad == 12.0
    t = x
    for _ in range(20):                              # 2²⁰ x: each node reused twice
        t = t + t
    x.grad = 0.0
    t.backward()
    assert x.grad == 2.0 ** 20


def test_leaves_accumulate_intermediates_are_recomputed():
    x = Scalar(1.5)
    s = x + x
    q = s * s
    q.backward()
    q.backward()
    assert x.grad == 24.0                             # the page: "再调用一次 backward()，x.grad 会变成 24"
    assert s.grad == 2 * s.data                       # an intermediate holds this pass's gradient only


# --------------------------------------------------------------------------- 0.4
@pytest.mark.parametrize("name", sorted(UNARY))
def test_each_op_value_and_local_derivative(name):
    fn, ref, (lo, hi) = UNARY[name]

    @FAST
    @given(st.floats(lo, hi))
    def check(v):
        if name == "relu" and abs(v) < 1e-3:
            return                                    # the kink
        x = Scalar(v)
        y = fn(x)
        assert math.isclose(y.data, ref(v), rel_tol=1e-12, abs_tol=1e-12)
        y.backward()
        eps = 1e-6
        numeric = (ref(v + eps) - ref(v - eps)) / (2 * eps)
        assert abs(x.grad - numeric) <= 1e-5 * max(1.0, abs(numeric))
    check()


def test_sigmoid_does_not_overflow():
    assert Scalar(-1000.0).sigmoid().data == 0.0 and Scalar(1000.0).sigmoid().data == 1.0


def test_page_expression_matches_tinygrad():
    def expr(x, y):
        return ((x * y).tanh() + (x / y).exp() - y.sigmoid()) * x.log()
    xs, ys = Scalar(1.3), Scalar(-0.7)
    expr(xs, ys).backward()
    xt = tg.tensor(1.3, dtype="float64", requires_grad=True)
    yt = tg.tensor(-0.7, dtype="float64", requires_grad=True)
    expr(xt, yt).backward()
    assert math.isclose(xs.grad, xt.grad.item(), rel_tol=1e-12)
    assert math.isclose(ys.grad, yt.grad.item(), rel_tol=1e-9, abs_tol=1e-12)


# --------------------------------------------------------------------------- 0.5
XOR_X = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
XOR_Y = [-1.0, 1.0, 1.0, -1.0]


def test_mlp_gradients_equal_the_same_network_in_tinygrad():
    net = MLP([2, 4, 1], seed=3)
    loss = sum((net(x)[0] - y) ** 2 for x, y in zip(XOR_X, XOR_Y)) / len(XOR_X)
    loss.backward()
    (W1, b1), (W2, b2) = net.layers
    T = [tg.tensor([[p.data for p in row] for row in W], dtype="float64", requires_grad=True) for W in (W1, W2)]
    B = [tg.tensor([p.data for p in b], dtype="float64", requires_grad=True) for b in (b1, b2)]
    X = tg.tensor(XOR_X, dtype="float64")
    out = ((X @ T[0].T + B[0]).tanh() @ T[1].T + B[1])[:, 0]
    tl = ((out - tg.tensor(XOR_Y, dtype="float64")) ** 2).mean()
    tl.backward()
    assert math.isclose(loss.data, tl.item(), rel_tol=1e-12)
    for W, t in zip((W1, W2), T):
        np.testing.assert_allclose([[p.grad for p in row] for row in W], t.grad.numpy(), rtol=1e-9, atol=1e-12)
    for b, t in zip((b1, b2), B):
        np.testing.assert_allclose([p.grad for p in b], t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_mlp_learns_xor_as_the_page_says():
    net = MLP([2, 4, 1], seed=1)
    assert len(net.parameters()) == 17
    for step in range(101):
        loss = sum((net(x)[0] - y) ** 2 for x, y in zip(XOR_X, XOR_Y)) / len(XOR_X)
        for p in net.parameters():
            p.grad = 0.0
        loss.backward()
        for p in net.parameters():
            p.data -= 0.2 * p.grad
    assert loss.data < 1e-3
    assert [round(net(x)[0].data) for x in XOR_X] == [-1, 1, 1, -1]


# --------------------------------------------------------------------------- the page itself
@pytest.fixture(scope="module")
def page_namespace(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from test_docs import run_page
    finally:
        sys.path.remove(str(ROOT / "tests"))
    return run_page(PAGE, tmp_path_factory.mktemp("page0"))          # runs every block, checks every output


def test_page_engine_is_the_shipped_engine(page_namespace):
    """The Scalar/MLP the page builds step by step behave exactly like tinygrad_zh/exercises/engine.py."""
    ns = page_namespace

    @FAST
    @given(graph_cases())
    def same(case):
        ours, theirs = build(case, engine.Scalar), build(case, ns["Scalar"])
        ours[-1].backward()
        theirs[-1].backward()
        assert [n.data for n in ours] == [n.data for n in theirs]
        assert [n.grad for n in ours] == [n.grad for n in theirs]
        assert [n.op for n in ours] == [n.op for n in theirs]
    same()
    for name, (fn, _, (lo, hi)) in UNARY.items():
        v = (lo + hi) / 2 + 0.1
        a, b = engine.Scalar(v), ns["Scalar"](v)
        fa, fb = fn(a), fn(b)
        fa.backward()
        fb.backward()
        assert (fa.data, a.grad) == (fb.data, b.grad), name
    p1, p2 = engine.MLP([2, 3, 1], seed=5).parameters(), ns["MLP"]([2, 3, 1], seed=5).parameters()
    assert [p.data for p in p1] == [p.data for p in p2]


def test_engine_is_about_100_lines_and_the_page_links_it():
    lines = (ROOT / "tinygrad_zh" / "exercises" / "engine.py").read_text(encoding="utf-8").splitlines()
    code = [ln for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    assert len(code) <= 120, len(code)
    text = PAGE.read_text(encoding="utf-8")
    assert "(../tinygrad_zh/exercises/engine.py)" in text and "(01_chain_rule.md)" in text
    assert "python -m tinygrad_zh.exercises" in text
    assert text.index("## English") > text.index("## 0.6")              # Chinese first, English summary last


def test_engine_imports_without_hypothesis():
    """Page 0 and exercise 1 use the engine; only grading needs Hypothesis (a dev extra)."""
    import subprocess
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] == 'hypothesis':\n"
            "            raise ImportError('No module named hypothesis')\n"
            "sys.meta_path.insert(0, Block())\n"
            "from tinygrad_zh.exercises.engine import Scalar\n"
            "x = Scalar(3.0); (x * x).backward(); print(x.grad)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "6.0", r.stderr

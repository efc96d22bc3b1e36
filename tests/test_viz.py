"""tinygrad_zh.viz: DOT text of the backward graph, PNG rendering, and the backward trace."""
import re
import shutil
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import autograd, viz

_NODE = re.compile(r'^\s*(\w+) \[shape=(box|ellipse).*label="([^"]*)"\];$')
_EDGE = re.compile(r'^\s*(\w+) -> (\w+)(?: \[label="([^"]*)"\])?;$')


def parse_dot(dot):
    """{node id: (shape, label)} and [(src, dst, edge label)] from to_dot's output."""
    nodes, edges = {}, []
    for line in dot.splitlines():
        m = _NODE.match(line)
        if m:
            nodes[m.group(1)] = (m.group(2), m.group(3))
            continue
        m = _EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
    return nodes, edges


def mlp_loss():
    x = tg.tensor(np.ones((2, 3)))
    w = tg.tensor(np.full((3, 4), 0.5), requires_grad=True)
    loss = (x @ w).relu().sum()
    return x, w, loss


def by_label(nodes, prefix):
    hits = [k for k, (_, lbl) in nodes.items() if lbl.startswith(prefix)]
    assert len(hits) == 1, (prefix, nodes)
    return hits[0]


def test_to_dot_nodes_edges_shapes_and_names():
    x, w, loss = mlp_loss()
    dot = viz.to_dot(loss, names={w: "w1", loss: "loss"}, title="tiny")
    assert dot.startswith("digraph G {") and dot.rstrip().endswith("}")
    assert 'label="tiny"' in dot
    nodes, edges = parse_dot(dot)
    boxes = sorted(lbl for shape, lbl in nodes.values() if shape == "box")
    assert boxes == ["MatMul\\n(2, 4)", "ReLU\\n(2, 4)", "Sum\\n()"]
    ellipses = sorted(lbl for shape, lbl in nodes.values() if shape == "ellipse")
    assert ellipses == ["(2, 3)", "loss\\n()", "w1\\n(3, 4)"]
    mm, relu, s = by_label(nodes, "MatMul"), by_label(nodes, "ReLU"), by_label(nodes, "Sum")
    xs, ws, out = by_label(nodes, "(2, 3)"), by_label(nodes, "w1"), by_label(nodes, "loss")
    assert sorted(edges) == sorted([(xs, mm, ""), (ws, mm, ""), (mm, relu, "(2, 4)"),
                                    (relu, s, "(2, 4)"), (s, out, "")])
    # the leaf that needs a gradient is coloured, the constant input is not
    assert '#cfe3ff' in next(l for l in dot.splitlines() if l.strip().startswith(ws + " "))
    assert '#ffffff' in next(l for l in dot.splitlines() if l.strip().startswith(xs + " "))


def test_to_dot_reused_input_gets_one_edge_per_use_and_named_intermediates():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = a + a
    c = b * b
    nodes, edges = parse_dot(viz.to_dot(c, names={a: "a", b: "b"}))
    add, mul, leaf = by_label(nodes, "Add"), by_label(nodes, "Mul"), by_label(nodes, "a\\n")
    assert edges.count((leaf, add, "")) == 2
    assert edges.count((add, mul, "b (2,)")) == 2
    assert nodes[leaf] == ("ellipse", "a\\n(2,)")


def test_to_dot_module_names_and_multi_output_ops():
    lin = tg.nn.Linear(3, 2)
    y = lin(tg.tensor(np.ones((4, 3))))
    h, c = y.chunk(2, dim=1)
    out = (h * c).sum()
    nodes, _ = parse_dot(viz.to_dot(out, names=lin))
    labels = {lbl for _, lbl in nodes.values()}
    assert "weight\\n(2, 3)" in labels and "bias\\n(2,)" in labels


def test_to_dot_several_outputs_of_a_multi_output_op():
    from tinygrad_zh.ops.lstm import LSTMCellFn
    A = tg.tensor(np.zeros((2, 8)), requires_grad=True)
    c0 = tg.tensor(np.ones((2, 2)), requires_grad=True)
    h, c = LSTMCellFn.apply(A, c0)
    nodes, edges = parse_dot(viz.to_dot([h, c], names={h: "h", c: "c"}))
    cell = by_label(nodes, "LSTMCellFn")
    assert nodes[cell] == ("box", "LSTMCellFn\\n(2, 2) (2, 2)")
    assert sorted(e for e in edges if e[0] == cell) == sorted([(cell, by_label(nodes, "h\\n"), "[0]"),
                                                               (cell, by_label(nodes, "c\\n"), "[1]")])
    with pytest.raises(ValueError, match="non-empty"):
        viz.to_dot([])


def test_to_dot_of_a_leaf_and_after_backward():
    t = tg.tensor([1.0, 2.0, 3.0])
    nodes, edges = parse_dot(viz.to_dot(t))
    assert list(nodes.values()) == [("ellipse", "(3,)")] and edges == []
    _, _, loss = mlp_loss()
    loss.backward()
    with pytest.raises(RuntimeError, match="freed by backward"):
        viz.to_dot(loss)


def test_to_dot_escapes_quotes():
    _, w, loss = mlp_loss()
    dot = viz.to_dot(loss, names={w: 'say "w"'}, title='a "title"')
    assert 'label="say \\"w\\"\\n(3, 4)"' in dot
    assert 'label="a \\"title\\""' in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_save_graph_renders_png(tmp_path):
    _, w, loss = mlp_loss()
    path = tmp_path / "g.png"
    assert viz.save_graph(loss, path, names={w: "w1"}) == path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "g.svg"
    viz.save_graph(loss, svg)
    assert "<svg" in svg.read_text() and "MatMul" in svg.read_text()


def test_save_graph_without_graphviz_writes_the_builtin_svg_and_warns(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    _, w, loss = mlp_loss()
    with pytest.warns(RuntimeWarning, match="Graphviz.*apt-get install graphviz.*g.svg"):
        out = viz.save_graph(loss, tmp_path / "g.png", names={w: "w1"})
    assert out == tmp_path / "g.svg" and not (tmp_path / "g.png").exists()
    root = ET.fromstring(out.read_text(encoding="utf-8"))          # well-formed SVG
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"MatMul", "ReLU", "Sum", "w1", "(3, 4)"} <= set(texts)
    svg = tmp_path / "h.svg"                      # asking for .svg: written where asked, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert viz.save_graph(loss, svg) == svg
    assert svg.read_text(encoding="utf-8").startswith("<svg")


def test_trace_one_line_per_step_in_reverse_topological_order():
    a = tg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    w = tg.tensor(np.array([[0.5], [1.0], [-1.0]]), requires_grad=True)
    loss = ((a * 2).sigmoid().unsqueeze(0) @ w).tanh().sum()
    order = [type(fn).__name__ for fn in autograd._toposort(loss._ctx)]
    lines = []
    with tg.trace(printer=lines.append):
        loss.backward()
    assert len(lines) == len(order) == 6
    assert [ln.split()[2] for ln in lines] == order
    assert order[0] == "Sum" and order[-1] == "Mul"
    assert [int(ln.split("]")[0].split()[-1]) for ln in lines] == list(range(1, 7))
    # the first step receives d loss / d loss = 1; the Mul by the constant 2 passes '-' for it
    assert lines[0].endswith("|grad_out| = 1")
    assert "grad_in (3,) -" in lines[-1]
    # the reported norm is the norm of the gradient arriving at the op
    th = np.tanh((1 / (1 + np.exp(-2 * a.numpy()))) @ w.numpy())
    assert float(lines[1].rsplit("=", 1)[1]) == pytest.approx(1.0, rel=1e-3)   # Tanh receives ones
    tanh_line = next(ln for ln in lines if ln.split()[2] == "MatMul")
    assert float(tanh_line.rsplit("=", 1)[1]) == pytest.approx(np.abs(1 - th ** 2).item(), rel=1e-3)


def test_trace_is_off_outside_and_restored_after_errors(capsys):
    assert tg.trace is viz.trace
    with pytest.raises(ValueError):
        with tg.trace():
            raise ValueError("boom")
    assert autograd._tracer is None
    x = tg.tensor([1.0], requires_grad=True)
    (x * 3).sum().backward()
    assert capsys.readouterr().out == ""
    with tg.trace():
        (x * 3).sum().backward()
    assert capsys.readouterr().out.count("[backward") == 2


# ---------------------------------------------------------------- values and gradients
def small_graph():
    x = tg.tensor(np.array([[0.0, 0.2, 0.4], [0.6, 0.8, 1.0]]), dtype="float64")
    w = tg.tensor(np.full((3, 4), 0.5) - np.eye(3, 4), dtype="float64", requires_grad=True)
    b = tg.tensor([0.1, -0.2, 0.3, 0.0], dtype="float64", requires_grad=True)
    h = (x @ w + b).relu()
    loss = (h * h).mean()
    return x, w, b, h, loss


def key_of(g, name):
    return next(k for k, t in g.tensors.items() if t["name"] == name)


def reference_grads():
    """Gradients of small_graph() from a plain backward (h keeps its gradient)."""
    x, w, b, h, loss = small_graph()
    h.retain_grad()
    loss.backward()
    return w.grad.numpy(), b.grad.numpy(), h.grad.numpy(), h.numpy(), loss.item()


def test_graph_values_and_gradients_without_touching_grad():
    gw, gb, gh, hv, lv = reference_grads()
    x, w, b, h, loss = small_graph()
    g = viz.graph(loss, names={x: "x", w: "w", b: "b", h: "h", loss: "loss"})
    assert [op["name"] for op in g.ops] == ["MatMul", "Add", "ReLU", "Mul", "Mean"]
    assert [g.ops[i]["name"] for i in g.backward_order] == ["Mean", "Mul", "ReLU", "Add", "MatMul"]
    T = {n: g.tensors[key_of(g, n)] for n in ("x", "w", "b", "h", "loss")}
    np.testing.assert_allclose(T["w"]["grad"]["full"], gw)
    np.testing.assert_allclose(T["b"]["grad"]["full"], gb)
    np.testing.assert_allclose(T["h"]["grad"]["full"], gh)          # an intermediate tensor's gradient
    np.testing.assert_allclose(T["h"]["value"]["full"], hv)
    assert T["loss"]["value"]["full"] == pytest.approx(lv) and T["loss"]["grad"]["full"] == 1.0
    assert T["x"]["grad"] is None and not T["x"]["requires_grad"]   # a constant input gets none
    # h is used twice by Mul: one gradient per edge, and h's gradient is their sum
    mul = next(i for i, op in enumerate(g.ops) if op["name"] == "Mul")
    np.testing.assert_allclose(g.edge_grads[(mul, 0)]["full"] + g.edge_grads[(mul, 1)]["full"], gh)
    # nothing else changed: no .grad, and the user's own backward still works afterwards
    assert w.grad is None and b.grad is None
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), gw)


def test_graph_runs_no_post_backward_hook_and_keeps_retained_grads_alone():
    calls = []

    class Hooked(tg.Function):
        def forward(self, a):
            self.post_backward = lambda: calls.append(1)
            return a * 2

        def backward(self, g):
            return g * 2

    a = tg.tensor([1.0, 2.0], requires_grad=True)
    mid = Hooked.apply(a)
    mid.retain_grad()
    loss = mid.sum()
    g = viz.graph(loss)
    assert calls == [] and mid.grad is None and a.grad is None
    assert g.tensors[next(k for k, t in g.tensors.items() if t["leaf"])]["grad"]["full"].tolist() == [2.0, 2.0]
    loss.backward()
    assert calls == [1]


def test_small_tensors_in_full_large_ones_summarised():
    big = np.arange(17.0).reshape(1, 17)
    snap = viz.snapshot(big)
    assert snap["full"] is None and snap["shape"] == (1, 17)
    assert snap["stats"] == pytest.approx({"mean": 8.0, "std": big.std(), "min": 0.0, "max": 16.0})
    assert snap["text"] == f"mean 8  std {big.std():.4g}\nmin 0  max 16"
    small = viz.snapshot(np.arange(16.0))
    assert small["stats"] is None and small["full"].tolist() == list(range(16))
    assert viz.snapshot(np.arange(16.0), small=4)["full"] is None
    assert viz.snapshot(np.float32(-0.0))["text"] == "0"
    assert viz.snapshot(np.array(3))["text"] == "3"
    # a copy, not a view: later in-place changes do not change the picture
    a = np.ones(3)
    s = viz.snapshot(a)
    a += 1
    assert s["full"].tolist() == [1.0, 1.0, 1.0]


def test_record_keeps_values_and_gradients_after_backward_freed_the_graph(capsys):
    gw, gb, gh, hv, lv = reference_grads()
    x, w, b, h, loss = small_graph()
    w0 = w.numpy().copy()
    with tg.trace():                                  # an enclosing trace keeps printing
        with viz.record(loss, names={w: "w", b: "b", h: "h", loss: "loss"}) as g:
            loss.backward()
    assert capsys.readouterr().out.count("[backward") == 5
    assert autograd._tracer is None
    x2, w2, b2, h2, loss2 = small_graph()                # the other nesting: trace inside record
    with viz.record(loss2, names={w2: "w"}) as g2, tg.trace():
        loss2.backward()
    assert capsys.readouterr().out.count("[backward") == 5
    np.testing.assert_allclose(g2.tensors[key_of(g2, "w")]["grad"]["full"], gw)
    with pytest.raises(RuntimeError, match="freed by backward.*record"):
        viz.to_dot(loss)
    with tg.no_grad():
        w -= 1.0                                      # e.g. an optimizer step: the snapshot stays
    np.testing.assert_allclose(g.tensors[key_of(g, "w")]["value"]["full"], w0)
    np.testing.assert_allclose(g.tensors[key_of(g, "w")]["grad"]["full"], gw)
    np.testing.assert_allclose(g.tensors[key_of(g, "b")]["grad"]["full"], gb)
    np.testing.assert_allclose(g.tensors[key_of(g, "h")]["grad"]["full"], gh)
    assert g.tensors[key_of(g, "loss")]["grad"]["full"] == 1.0
    assert len(g.backward_order) == 5
    text = g.to_text()
    assert "backward: Mean -> Mul -> ReLU -> Add -> MatMul" in text
    assert f"value {lv:.4g}" in text and "grad  1" in text


def test_record_adds_up_two_backward_passes_and_restores_the_hook_after_errors():
    x, w, b, h, loss = small_graph()
    with viz.record(loss, names={w: "w"}) as g:
        loss.backward(retain_graph=True)
        loss.backward()
    np.testing.assert_allclose(g.tensors[key_of(g, "w")]["grad"]["full"], w.grad.numpy())
    np.testing.assert_allclose(w.grad.numpy(), 2 * reference_grads()[0])
    with pytest.raises(ValueError):
        with viz.record(small_graph()[-1]):
            raise ValueError("boom")
    assert autograd._tracer is None
    with pytest.raises(TypeError, match="record\\(loss\\)"):
        viz.record()


def test_to_dot_with_values_draws_every_tensor_with_value_and_grad():
    x, w, b, h, loss = small_graph()
    dot = viz.to_dot(loss, names={w: "w", h: "h"}, values=True)
    nodes, edges = parse_dot(dot)
    assert sorted(lbl for shape, lbl in nodes.values() if "\\l" not in lbl) == \
        ["Add", "MatMul", "Mean", "Mul", "ReLU"]
    w_label = next(lbl for lbl in (l for _, l in nodes.values()) if lbl.startswith("w\\l"))
    assert w_label.startswith("w\\l(3, 4) float64\\lvalue [[-0.5,  0.5,  0.5,  0.5],")
    assert "grad  [[" in w_label
    h_node = next(k for k, (_, l) in nodes.items() if l.startswith("h\\l"))
    mul = next(k for k, (_, l) in nodes.items() if l == "Mul")
    assert edges.count((h_node, mul, "")) == 2                      # h * h: two edges
    assert w.grad is None                                           # drawing computed no .grad


def test_text_fallback_and_jupyter_display(monkeypatch):
    x, w, b, h, loss = small_graph()
    g = viz.graph(loss, names={w: "w"})
    bundle = g._repr_mimebundle_()
    assert bundle["text/plain"].startswith("<tg.viz.Graph: 5 ops") and "grad " in bundle["text/plain"]
    assert "<svg" in bundle["image/svg+xml"]
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)     # no Graphviz: the built-in SVG
    svg = g._repr_mimebundle_()["image/svg+xml"]
    root = ET.fromstring(svg)
    assert root.get("class") == "tg-graph"
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "value [[-0.5," in texts and "grad  [[" in texts
    assert str(g) == viz.to_text(g) == g.to_text()
    # tensors: a small table with values, the gradient and the graph that made them
    html = viz.tensor_mimebundle(h)["text/html"]
    assert "grad_fn=ReLUBackward" in html and "(2, 4)" in html and "<svg" in html
    assert tg.Tensor._repr_mimebundle_(w)["text/plain"] == repr(w)
    loss.backward()
    assert "grad<pre" in viz.tensor_mimebundle(w)["text/html"]


def test_builtin_svg_layout_puts_inputs_before_the_ops_that_use_them():
    from tinygrad_zh.ops.lstm import LSTMCellFn
    A = tg.tensor(np.zeros((2, 8)), requires_grad=True)
    c0 = tg.tensor(np.ones((2, 2)), requires_grad=True)
    h, c = LSTMCellFn.apply(A, c0)
    g = viz.graph([h, c], names={h: "h", c: "c"})
    assert not g.has_grads                           # two outputs: values only
    for rankdir, axis in (("LR", "x"), ("TB", "y")):
        nodes, edges, width, height = viz._layout(g, True, rankdir)
        for src, dst, _, _ in edges:
            assert nodes[src][axis] < nodes[dst][axis], (rankdir, src, dst)
        for nd in nodes.values():
            assert nd["x"] + nd["w"] <= width and nd["y"] + nd["h"] <= height
    labels = [e[2] for e in viz._layout(g, True)[1]]
    assert labels.count("[0]") == 1 and labels.count("[1]") == 1

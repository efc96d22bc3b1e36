"""tinygrad_zh.viz: DOT text of the backward graph, PNG rendering, and the backward trace."""
import re
import shutil

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


def test_save_graph_without_graphviz_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    _, _, loss = mlp_loss()
    with pytest.raises(RuntimeError, match="Graphviz.*apt-get install graphviz.*to_dot"):
        viz.save_graph(loss, tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


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

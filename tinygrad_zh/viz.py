"""看见计算图：``to_dot`` 输出 Graphviz DOT 文本，``save_graph`` 渲染成图片，``trace`` 打印反向传播的每一步。

* ``to_dot(t)``: nodes are ops (with output shapes) and leaf tensors; edges follow the data flow
  (input -> op -> output), i.e. the opposite direction of backward.
* ``save_graph(t, "graph.png")``: runs Graphviz's ``dot`` when it is installed; otherwise raises a
  clear error telling how to install it (the DOT text from ``to_dot`` still works everywhere).
* ``with tg.trace():`` prints one line per backward step: op, input/output shapes, gradient norm.
"""
import contextlib
import shutil
import subprocess

import numpy as np

from . import autograd


def _fmt_shape(shape):
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _walk(root):
    """All (function, parents) reachable from ``root`` in a stable order (iterative DFS)."""
    fns, seen, stack = [], set(), [root._ctx] if root._ctx is not None else []
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        fns.append(fn)
        if fn.parents is autograd._Released:
            raise RuntimeError("to_dot: the graph was freed by backward(); call backward(retain_graph=True) "
                               "or draw the graph before backward")
        for p in fn.parents:
            if p._ctx is not None:
                stack.append(p._ctx)
    return fns


def to_dot(tensor, names=None, title=None):
    """计算图的 DOT 文本。``names``: optional {Tensor: "w1", ...} labels for leaves (e.g. parameters).

    Op nodes are boxes labelled with the op name and output shape, leaves are ellipses
    (blue when they require grad), the root is highlighted."""
    names = {id(t): n for t, n in (names or {}).items()}
    lines = ["digraph G {", '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];']
    if title:
        lines.append(f'  labelloc="t"; label="{title}";')
    fns = _walk(tensor)
    ids = {}

    def nid(obj, prefix):
        key = id(obj)
        if key not in ids:
            ids[key] = f"{prefix}{len(ids)}"
        return ids[key]

    out_shape = {}
    for fn in fns:
        for p in fn.parents:
            if p._ctx is not None:
                out_shape[(id(p._ctx), p._out_idx)] = p.shape
    out_shape[(id(tensor._ctx), tensor._out_idx)] = tensor.shape
    for fn in reversed(fns):
        f = nid(fn, "op")
        shapes = sorted({s for (k, _), s in out_shape.items() if k == id(fn)}, key=str)
        label = type(fn).__name__ + "\\n" + " ".join(_fmt_shape(s) for s in shapes)
        style = ', style="filled,bold", fillcolor="#ffe7a8"' if fn is tensor._ctx else \
            ', style=filled, fillcolor="#f2f2f2"'
        lines.append(f'  {f} [shape=box, label="{label}"{style}];')
        for p in fn.parents:
            if p._ctx is None:
                leaf = nid(p, "t")
                nm = names.get(id(p), "")
                color = "#cfe3ff" if p.requires_grad else "#ffffff"
                lbl = (nm + "\\n" if nm else "") + _fmt_shape(p.shape)
                lines.append(f'  {leaf} [shape=ellipse, style=filled, fillcolor="{color}", label="{lbl}"];')
                lines.append(f"  {leaf} -> {f};")
            else:
                lines.append(f'  {nid(p._ctx, "op")} -> {f} [label="{_fmt_shape(p.shape)}", fontsize=8];')
    if tensor._ctx is None:
        lines.append(f'  {nid(tensor, "t")} [shape=ellipse, label="{_fmt_shape(tensor.shape)}"];')
    lines.append("}")
    return "\n".join(dict.fromkeys(lines))


def save_graph(tensor, path, names=None, title=None):
    """Render ``to_dot(tensor)`` to ``path`` (format from the extension: png, svg, pdf) with Graphviz."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("save_graph needs Graphviz's `dot` program: install it (apt-get install graphviz, "
                           "brew install graphviz, conda install graphviz) or use to_dot() and paste the "
                           "text into an online Graphviz viewer")
    fmt = str(path).rsplit(".", 1)[-1] if "." in str(path) else "png"
    dot = to_dot(tensor, names=names, title=title)
    subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=dot.encode(), check=True)
    return path


@contextlib.contextmanager
def trace(printer=print):
    """反向传播时逐步打印：``with tg.trace(): loss.backward()``.

    Each line: step number, op name, the shapes of the gradients that arrive (outputs) and leave
    (inputs), and the L2 norm of the incoming gradient — watch the chain rule run backwards."""
    step = [0]

    def tracer(fn, grads_out, grads_in):
        step[0] += 1
        gout = [g for g in grads_out if g is not None]
        norm = float(sum(float((np.asarray(g.get() if hasattr(g, "get") else g, dtype=np.float64) ** 2).sum())
                         for g in gout)) ** 0.5
        outs = " ".join(_fmt_shape(g.shape) for g in gout)
        ins = " ".join(_fmt_shape(g.shape) if g is not None else "-" for g in grads_in)
        printer(f"[backward {step[0]:3d}] {type(fn).__name__:<20s} grad_out {outs:<14s} -> grad_in {ins:<24s} "
                f"|grad_out| = {norm:.4g}")

    prev = autograd._tracer
    autograd._tracer = tracer
    try:
        yield
    finally:
        autograd._tracer = prev

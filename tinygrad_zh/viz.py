"""看见计算图：``to_dot`` 输出 Graphviz DOT 文本，``save_graph`` 渲染成图片，``trace`` 打印反向传播的每一步。

* ``to_dot(t)``: nodes are ops (boxes, with their output shapes) and leaf tensors (ellipses, blue
  when they require grad); edges follow the data flow (input -> op -> output), i.e. the opposite
  direction of backward.  An input used twice (``a + a``) gets two edges.
* ``save_graph(t, "graph.png")``: runs Graphviz's ``dot`` when it is installed; otherwise raises a
  clear error telling how to install it (the DOT text from ``to_dot`` still works everywhere).
* ``with tg.trace():`` prints one line per backward step: op, input/output shapes, gradient norm.

Names: pass ``names={tensor: "w1", ...}`` or a ``Module`` (its ``named_parameters()`` are used) to
label parameters, intermediate tensors (shown on the edges) and the output.
"""
import contextlib
import shutil
import subprocess

import numpy as np

from . import autograd


def _fmt_shape(shape):
    """(2, 3) -> "(2, 3)", (4,) -> "(4,)", () -> "()" (like Python's tuples)."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _esc(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def _name_map(names):
    """{id(tensor): name} from a dict {Tensor: name} or a Module (named_parameters)."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        return {id(p): n for n, p in names.named_parameters()}
    return {id(t): str(n) for t, n in names.items()}


def _walk(roots):
    """All graph nodes reachable from ``roots``, outputs first (iterative DFS)."""
    fns, seen = [], set()
    stack = [r._ctx for r in reversed(roots) if r._ctx is not None]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        fns.append(fn)
        if fn.parents is autograd._Released:
            raise RuntimeError("to_dot: the graph was freed by backward(); draw the graph before calling "
                               "backward(), or call backward(retain_graph=True)")
        for p in fn.parents:
            if p._ctx is not None:
                stack.append(p._ctx)
    return fns


def to_dot(tensor, names=None, title=None):
    """计算图的 DOT 文本（Graphviz 格式）。

    Args:
        tensor: the output whose graph is drawn (usually the loss), or a list/tuple of outputs
            (e.g. ``(h, c)`` of an LSTM step) drawn in one picture.
        names: optional labels: ``{tensor: "w1", ...}`` or a ``Module`` (parameter names).
        title: optional caption drawn above the graph.
    Returns:
        str: ``digraph G { ... }``.  Op boxes read ``OpName`` and the output shape(s); leaves read
        ``name`` and shape; an edge between two ops carries the shape (and name) of the tensor.
    """
    names = _name_map(names)
    head = ["digraph G {", '  rankdir=LR; fontname="Helvetica";', '  node [fontname="Helvetica", fontsize=10];',
            '  edge [fontname="Helvetica", fontsize=8];']
    if title:
        head.append(f'  labelloc="t"; label="{_esc(title)}";')
    roots = [tensor] if hasattr(tensor, "_ctx") else list(tensor)
    if not roots:
        raise ValueError("to_dot: expected a Tensor or a non-empty list of Tensors")
    fns = _walk(roots)
    ids, nodes, edges = {}, [], []

    def nid(obj, prefix):
        key = id(obj)
        if key not in ids:
            ids[key] = f"{prefix}{len(ids)}"
        return ids[key]

    out_shapes = {}                          # id(fn) -> {output index: shape}
    for fn in fns:
        for p in fn.parents:
            if p._ctx is not None:
                out_shapes.setdefault(id(p._ctx), {})[p._out_idx] = p.shape
    for r in roots:
        if r._ctx is not None:
            out_shapes.setdefault(id(r._ctx), {})[r._out_idx] = r.shape

    declared = set()
    for fn in reversed(fns):                 # inputs before the ops that use them
        f = nid(fn, "op")
        shapes = out_shapes.get(id(fn), {})
        label = _esc(type(fn).__name__) + "\\n" + " ".join(_fmt_shape(shapes[k]) for k in sorted(shapes))
        nodes.append(f'  {f} [shape=box, style=filled, fillcolor="#f2f2f2", label="{label}"];')
        for p in fn.parents:
            nm = names.get(id(p), "")
            if p._ctx is None:
                leaf = nid(p, "t")
                if leaf not in declared:
                    declared.add(leaf)
                    color = "#cfe3ff" if p.requires_grad else "#ffffff"
                    lbl = (_esc(nm) + "\\n" if nm else "") + _fmt_shape(p.shape)
                    nodes.append(f'  {leaf} [shape=ellipse, style=filled, fillcolor="{color}", label="{lbl}"];')
                edges.append(f"  {leaf} -> {f};")
            else:
                src = nid(p._ctx, "op")
                tag = _esc(nm) if nm else (f"[{p._out_idx}]" if p._ctx.n_outputs > 1 else "")
                lbl = (tag + " " if tag else "") + _fmt_shape(p.shape)
                edges.append(f'  {src} -> {f} [label="{lbl}"];')
    for r in roots:
        out = nid(r, "t")
        nm = names.get(id(r), "")
        lbl = (_esc(nm) + "\\n" if nm else "") + _fmt_shape(r.shape)
        nodes.append(f'  {out} [shape=ellipse, style="filled,bold", fillcolor="#ffe7a8", label="{lbl}"];')
        if r._ctx is not None:
            tag = f"[{r._out_idx}]" if r._ctx.n_outputs > 1 else ""
            edges.append(f"  {nid(r._ctx, 'op')} -> {out}" + (f' [label="{tag}"];' if tag else ";"))
    return "\n".join(head + nodes + edges + ["}"])


def save_graph(tensor, path, names=None, title=None):
    """Render ``to_dot(tensor, names, title)`` (``tensor`` may be a list of outputs) to ``path`` with Graphviz (format from the extension:
    png, svg, pdf).  Returns ``path``.  Raises RuntimeError when Graphviz's ``dot`` is not installed."""
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("save_graph needs Graphviz's `dot` program, which was not found on PATH: install "
                           "it (apt-get install graphviz, brew install graphviz, conda install graphviz) or "
                           "use to_dot() and paste the text into an online Graphviz viewer")
    fmt = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else "png"
    dot = to_dot(tensor, names=names, title=title)
    res = subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=dot.encode(), capture_output=True)
    if res.returncode != 0:
        raise RuntimeError(f"save_graph: Graphviz failed to write {path!r} as {fmt!r}: "
                           f"{res.stderr.decode(errors='replace').strip()}")
    return path


def _norm(arrays):
    total = 0.0
    for g in arrays:
        a = g.get() if hasattr(g, "get") else g          # CuPy -> NumPy
        total += float((np.asarray(a, dtype=np.float64) ** 2).sum())
    return total ** 0.5


@contextlib.contextmanager
def trace(printer=print):
    """反向传播时逐步打印：``with tg.trace(): loss.backward()``.

    One line per backward step, in the order the engine runs them (reverse topological order):
    step number, op name, the shapes of the gradients that arrive (``grad_out``, one per output of
    the op) and leave (``grad_in``, one per input; ``-`` for an input that needs no gradient), and
    the L2 norm of the arriving gradient.  ``printer`` receives each line (default ``print``; pass
    ``lines.append`` to collect them)."""
    step = [0]

    def tracer(fn, grads_out, grads_in):
        step[0] += 1
        gout = [g for g in grads_out if g is not None]
        outs = " ".join(_fmt_shape(g.shape) for g in gout)
        ins = " ".join(_fmt_shape(g.shape) if g is not None else "-" for g in grads_in)
        printer(f"[backward {step[0]:3d}] {type(fn).__name__:<20s} grad_out {outs:<14s} -> grad_in {ins:<24s} "
                f"|grad_out| = {_norm(gout):.4g}")

    prev = autograd._tracer
    autograd._tracer = tracer
    try:
        yield
    finally:
        autograd._tracer = prev

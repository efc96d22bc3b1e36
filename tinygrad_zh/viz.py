"""看见计算图：每个运算、每个张量的形状、值和梯度。

本模块不参与求导，只是旁观者：它顺着 autograd 记下的指针（张量的 ``_ctx``、节点的 ``parents``）读出
前向的计算图，再通过引擎的 ``autograd._tracer`` 钩子看到反向传播的每一步（链式法则在哪个节点、
收到什么梯度、交出什么梯度）。

用法（四种，从简单到完整）：

* ``tg.viz.to_dot(loss)``：Graphviz 的 DOT 文本。方框是运算（写着输出形状），椭圆是叶子张量（蓝色 = 需要梯度），
  黄色是输出；边沿数据流方向（输入 → 运算 → 输出），也就是反向传播的反方向。
  ``save_graph(loss, "graph.png")`` 用 Graphviz 的 ``dot`` 渲染成图片；没装 Graphviz 时改用本模块自带的
  SVG 画法，写出 ``graph.svg`` 并给出警告（不会报错）。
* ``tg.viz.graph(loss)``：计算图连同 **值和梯度**。小张量（不超过 ``SMALL`` = 16 个元素）整份显示，
  大张量只显示统计量（形状、均值、标准差、最小值、最大值）。梯度是在一份保留的图上额外做一次反向得到的
  （``retain_graph=True``，结果不写进任何 ``.grad``），所以要在你自己的 ``loss.backward()`` **之前** 调用。
  在 Jupyter 里它直接显示成图（有 Graphviz 时用 Graphviz 排版，否则用自带的 SVG），同时带一份纯文本。
* ``with tg.viz.record(loss) as g: loss.backward()``：记下 **你这次反向传播** 的梯度。为什么需要它？
  普通的 ``backward()`` 结束后会释放计算图保存的数组（``autograd.backward`` 把每个节点的 ``parents``
  换成 ``_Released``），之后再也画不出图。``record(loss)`` 在进入时复制一份前向的值（小张量整份、
  大张量的统计量），反向时通过 ``autograd._tracer`` 钩子（引擎对每个节点调用一次，参数是
  ``(fn, 输出的梯度, 输入的梯度)``）复制每个张量的梯度；所以退出之后，图释放了，``g`` 里仍有全部的值和梯度。
* ``tg.viz.to_html(loss, "steps.html")``：写出 **一个** 自包含的 HTML 页面（CSS、JS、SVG 都内嵌，
  不需要网络）：用按钮或方向键一步一步走过前向（每个运算算出什么值）和反向（每个运算收到什么梯度、
  交给输入什么梯度）。``#step=5`` 这样的网址后缀直接打开第 5 步。

另外：``with tg.trace(): loss.backward()`` 逐步打印反向传播；``tg.viz.to_text(...)`` 是不需要任何图形的
纯文本版本；张量在 Jupyter 里显示成一张小表（值、梯度、``grad_fn``，见 ``tensor_mimebundle``）。

名字：``names={tensor: "w1", ...}`` 或一个 ``Module``（用 ``named_parameters()`` 的名字）。

English: ``to_dot``/``save_graph`` draw a graph (Graphviz when installed, else a built-in SVG);
``graph(loss)`` adds values and gradients (a side-effect-free extra backward on the retained graph);
``record(loss)`` captures the values on entry and your own backward's gradients through the engine's
tracer hook, so they survive the graph being freed; ``to_html`` writes one self-contained page that
steps through forward and backward; ``to_text`` is the plain-text fallback.  Small tensors (at most
``SMALL`` elements) are shown in full, larger ones as shape, mean, std, min and max.
"""
import contextlib
import html as _html
import json
import pathlib
import shutil
import subprocess
import unicodedata
import warnings
import weakref

import numpy as np

from . import autograd

SMALL = 16          # 元素个数不超过它的张量整份显示，更大的只显示统计量


# ------------------------------------------------------------------------------------------ 格式
def _fmt_shape(shape):
    """形状写成 Python 元组的样子：(2, 3) -> "(2, 3)"，(4,) -> "(4,)"，() -> "()"。"""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _esc(text):
    """转义，使文本能放进 DOT 的双引号字符串。"""
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def _host(a):
    """数组的 NumPy 形式：NumPy 数组不复制，CuPy 数组拷回主机。"""
    if hasattr(a, "get") and not isinstance(a, np.ndarray):
        a = a.get()
    return np.asarray(a)


def _num(x):
    return f"{x:.4g}"


def snapshot(a, small=SMALL):
    """值的快照（dict）：小数组整份复制（``"full"``），大数组只留统计量（``"stats"``）。

    键：``shape``、``dtype``、``full``（NumPy 拷贝或 None）、``stats``（均值/标准差/最小/最大值或 None）、
    ``text``（多行，用于面板）和 ``brief``（最多几行短文本，用于节点）。
    Keys: ``shape``, ``dtype``, ``full`` (a NumPy copy or None), ``stats`` (dict mean/std/min/max or
    None), ``text`` (multi-line, for panels) and ``brief`` (at most a few short lines, for nodes)."""
    h = _host(a)
    snap = {"shape": tuple(h.shape), "dtype": str(h.dtype), "full": None, "stats": None}
    if h.size <= small:
        snap["full"] = h.copy()
        if h.dtype.kind == "f":
            h = h + 0.0                                  # -0. 显示成 0.
        if h.ndim == 0:
            text = _num(h.item()) if h.dtype.kind in "fc" else str(h.item())
        else:
            text = np.array2string(h, precision=4, separator=", ", max_line_width=56)
        snap["text"] = snap["brief"] = text
        if len(text) > 200 or text.count("\n") > 5:      # 16 个元素也可能很宽：节点里改用统计量
            snap["brief"] = None
    if snap["full"] is None or snap["brief"] is None:
        f = h.astype(np.float64) if h.size else np.zeros(1)
        with np.errstate(all="ignore"):
            st = {"mean": float(f.mean()), "std": float(f.std()), "min": float(f.min()), "max": float(f.max())}
        if snap["full"] is None:
            snap["stats"] = st
            snap["text"] = (f"mean {_num(st['mean'])}  std {_num(st['std'])}\n"
                            f"min {_num(st['min'])}  max {_num(st['max'])}")
        snap["brief"] = f"mean {_num(st['mean'])} std {_num(st['std'])}\nmin {_num(st['min'])} max {_num(st['max'])}"
    return snap


def _width(text):
    """一行文本的显示宽度（中日韩字符算两格）。"""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


# ------------------------------------------------------------------------------------------ 计算图
def _name_map(names):
    """由字典 {Tensor: 名字} 或一个 Module（用 named_parameters 的名字）得到 {id(tensor): 名字}。"""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        return {id(p): n for n, p in names.named_parameters()}
    return {id(t): str(n) for t, n in names.items()}


def _roots(tensor):
    roots = [tensor] if hasattr(tensor, "_ctx") else list(tensor)
    if not roots:
        raise ValueError("viz: expected a Tensor or a non-empty list of Tensors")
    return roots


def _freed_error():
    return RuntimeError("viz: the graph was freed by backward(); draw it before calling backward(), call "
                        "backward(retain_graph=True), or capture it with `with tg.viz.record(loss): "
                        "loss.backward()`")


def _topo(roots):
    """计算图的节点，输入在前（一个合法的前向顺序）；迭代式 DFS，不用递归。"""
    order, seen = [], set()
    stack = [(r._ctx, False) for r in reversed(roots) if r._ctx is not None]
    while stack:
        fn, done = stack.pop()
        if done:
            order.append(fn)
            continue
        if fn in seen:
            continue
        seen.add(fn)
        if fn.parents is autograd._Released:
            raise _freed_error()
        stack.append((fn, True))
        for p in reversed(fn.parents):
            if p._ctx is not None and p._ctx not in seen:
                stack.append((p._ctx, False))
    return order


def _formula(cls):
    """运算的 ``backward`` docstring 的第一段（本库把导数公式写在那里）。"""
    doc = getattr(getattr(cls, "backward", None), "__doc__", None) or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


class Graph:
    """一张计算图的快照：运算（``ops``，前向顺序）、张量（``tensors``）、值，以及反向后的梯度。

    ``ops[i]``: ``{"name", "inputs": [tensor key, ...], "outputs": [tensor key, ...], "n_outputs"}``.
    ``tensors[key]``: ``{"name", "shape", "dtype", "leaf", "output", "requires_grad", "producer",
    "out_idx", "consumers", "value": snapshot, "grad": snapshot or None}``.
    ``backward_order``: the op indices in the order backward ran them; ``edge_grads[(op, i)]``: the
    gradient op ``op`` sent to its ``i``-th input.  Build one with ``graph()`` or ``record()``.
    """

    def __init__(self, title=None, small=SMALL):
        self.title, self.small = title, small
        self.ops, self.tensors, self.backward_order, self.edge_grads = [], {}, [], {}
        self._refs = {}              # 张量键 -> Tensor 的弱引用（以后再起名字时用）

    # -------------------------------------------------------------- 构建
    @classmethod
    def _from_live(cls, roots, names=None, title=None, small=SMALL, pin=False):
        """还存在的计算图 -> (Graph, {id(fn): 运算序号})；``pin`` 时再返回节点列表（调用者让它们一直活着，
        这样新建的节点就不会重用它们的 id）。"""
        g = cls(title, small)
        names = _name_map(names)
        fn_ids = {}                 # id(fn) -> 运算序号（构建期间这些节点都活着，id 不会重复）
        idents = {}                 # ("leaf", id(t)) / ("out", id(fn), k) -> 张量键

        def tensor_key(t):
            ident = ("leaf", id(t)) if t._ctx is None else ("out", id(t._ctx), t._out_idx)
            key = idents.get(ident)
            if key is None:
                key = idents[ident] = f"t{len(idents)}"
                producer = None if t._ctx is None else fn_ids[id(t._ctx)]
                g.tensors[key] = {"name": names.get(id(t)), "shape": tuple(t.shape), "dtype": str(t.dtype),
                                  "leaf": t._ctx is None, "output": False, "requires_grad": bool(t.requires_grad),
                                  "producer": producer, "out_idx": t._out_idx, "consumers": [],
                                  "value": snapshot(t.array, small), "grad": None}
                g._refs[key] = weakref.ref(t)
                if producer is not None:
                    g.ops[producer]["outputs"].append(key)
            return key

        fns = _topo(roots)
        for fn in fns:
            idx = len(g.ops)
            g.ops.append({"name": type(fn).__name__, "inputs": [], "outputs": [],
                          "n_outputs": getattr(fn, "n_outputs", 1), "formula": _formula(type(fn))})
            for p in fn.parents:
                k = tensor_key(p)
                g.ops[idx]["inputs"].append(k)
                g.tensors[k]["consumers"].append(idx)
            fn_ids[id(fn)] = idx
        for r in roots:
            g.tensors[tensor_key(r)]["output"] = True
        for op in g.ops:             # 输出按输出序号排列（[0]、[1] ...）
            op["outputs"].sort(key=lambda k: g.tensors[k]["out_idx"])
        return (g, fn_ids, fns) if pin else (g, fn_ids)

    def _start_grads(self):
        self._acc = {}
        self._edge_acc = {}

    def _on_backward(self, fn_ids, fn, gouts, gin):
        """tracer 钩子：复制 ``fn`` 的输出收到的梯度，以及它交给各个输入的梯度。"""
        idx = fn_ids.get(id(fn))
        if idx is None:
            return                    # 不属于所记录的计算图的节点
        op = self.ops[idx]
        self.backward_order.append(idx)
        for key in op["outputs"]:
            k = self.tensors[key]["out_idx"]
            if k < len(gouts) and gouts[k] is not None:
                self._add(self._acc, key, gouts[k])
        for i, (key, g) in enumerate(zip(op["inputs"], gin)):
            if g is None or not self.tensors[key]["requires_grad"]:
                continue
            self._add(self._edge_acc, (idx, i), g)
            if self.tensors[key]["leaf"]:
                self._add(self._acc, key, g)

    @staticmethod
    def _add(acc, key, g):
        h = np.array(_host(g), copy=True)
        acc[key] = h if key not in acc else acc[key] + h

    def _finish_grads(self):
        for key, h in self._acc.items():
            self.tensors[key]["grad"] = snapshot(h, self.small)
        for key, h in self._edge_acc.items():
            self.edge_grads[key] = snapshot(h, self.small)
        del self._acc, self._edge_acc

    @property
    def has_grads(self):
        return bool(self.backward_order) or any(t["grad"] is not None for t in self.tensors.values())

    def rename(self, names):
        """给还活着的张量起名字：``names={tensor: "w1"}`` 或一个 Module。"""
        m = _name_map(names)
        for key, ref in self._refs.items():
            t = ref()
            if t is not None and id(t) in m:
                self.tensors[key]["name"] = m[id(t)]
        return self

    # -------------------------------------------------------------- 文字
    def label(self, key):
        """张量的名字；没有名字时用 ``t3`` 这样的键。"""
        return self.tensors[key]["name"] or key

    def to_text(self):
        """纯文本版本（没有 Graphviz、没有浏览器时也能看）：叶子、前向的每一步、反向的顺序。"""
        lines = []
        head = f"Graph: {len(self.ops)} ops, {len(self.tensors)} tensors"
        head += ", values and gradients" if self.has_grads else ", values (no gradients yet)"
        if self.title:
            head = f"{self.title}\n{head}"
        lines.append(head)

        def block(key, indent):
            t = self.tensors[key]
            out = []
            for tag, snap in (("value", t["value"]), ("grad", t["grad"])):
                if snap is None:
                    continue
                text = snap["text"].split("\n")
                out.append(f"{indent}{tag:<6s}{text[0]}")
                out += [f"{indent}      {s}" for s in text[1:]]
            return out

        leaves = [k for k, t in self.tensors.items() if t["leaf"]]
        if leaves:
            lines.append("leaves:")
        for k in leaves:
            t = self.tensors[k]
            flag = "  requires_grad" if t["requires_grad"] else ""
            lines.append(f"  {self.label(k)}  {_fmt_shape(t['shape'])} {t['dtype']}{flag}")
            lines += block(k, "      ")
        if self.ops:
            lines.append("forward:")
        for i, op in enumerate(self.ops):
            ins = ", ".join(self.label(k) for k in op["inputs"])
            outs = ", ".join(f"{self.label(k)} {_fmt_shape(self.tensors[k]['shape'])}" for k in op["outputs"])
            lines.append(f"  {i + 1}. {op['name']}({ins}) -> {outs or '(unused outputs)'}")
            for k in op["outputs"]:
                lines += block(k, "       ")
        if self.backward_order:
            lines.append("backward: " + " -> ".join(self.ops[i]["name"] for i in self.backward_order))
        return "\n".join(lines)

    __str__ = to_text

    def __repr__(self):
        return f"<tg.viz.Graph: {len(self.ops)} ops, {len(self.tensors)} tensors>\n" + self.to_text()

    # -------------------------------------------------------------- 图
    def to_dot(self, values=True, title=None):
        return _dot(self, values, title if title is not None else self.title)

    def to_svg(self, values=True, title=None):
        """自带的 SVG 画法（不需要 Graphviz）。"""
        return _svg(self, values, title if title is not None else self.title)

    def to_html(self, path=None, title=None):
        return _write_html(self, path, title if title is not None else self.title)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"image/svg+xml": _best_svg(self, True), "text/plain": repr(self)}


# ------------------------------------------------------------------------------------------ 入口
def graph(tensor, names=None, title=None, grads=True, small=SMALL):
    """计算图连同值和梯度：``tg.viz.graph(loss)``（在 ``loss.backward()`` 之前调用）。

    Args:
        tensor: the output (usually the loss) or a list of outputs; its graph must still exist.
        names: ``{tensor: "w1"}`` or a ``Module``.
        grads: compute the gradients too (only for one output with a single element, the loss):
            an extra backward on the retained graph whose results go into no ``.grad`` (like
            ``tg.autograd.grad``), so calling it changes nothing for your own ``loss.backward()``.
        small: tensors with at most this many elements are shown in full.
    Returns:
        a ``Graph`` (shown as a picture in Jupyter; ``print`` gives the text version).
    """
    roots = _roots(tensor)
    g, fn_ids = Graph._from_live(roots, names, title, small)
    root = roots[0]
    if grads and len(roots) == 1 and root.requires_grad and root.array.size == 1:
        g._start_grads()
        if root._ctx is None:                           # 叶子：∂L/∂L = 1，没有别的
            key = next(iter(g.tensors))
            g._acc[key] = np.ones(root.shape, dtype=_host(root.array).dtype)
        else:
            prev = autograd._tracer
            autograd._tracer = lambda fn, gouts, gin: g._on_backward(fn_ids, fn, gouts, gin)
            try:    # capture={}：梯度不写进任何 .grad，也不运行 post_backward 回调
                autograd.backward(root, None, retain_graph=True, capture={})
            finally:
                autograd._tracer = prev
        g._finish_grads()
    return g


class record:
    """``with tg.viz.record(loss) as g: loss.backward()``：记下这次反向传播的全部梯度。

    进入时复制 ``outputs`` 的计算图（它必须还存在）和各个值；块内引擎的 tracer 钩子（``autograd._tracer``）
    复制这张图上的每一个梯度。所以尽管 backward 释放了计算图，块结束后 ``g`` 仍有值和梯度。块内多次
    backward 的梯度会累加，和 ``.grad`` 一样；外层的 ``tg.trace()`` 照常打印。

    On entry the graph of ``outputs`` (which must still exist) is copied with its values; during the
    block the engine's tracer hook (``autograd._tracer``) copies every gradient of that graph, so
    after the block ``g`` holds values and gradients although backward freed the graph.  Several
    backward calls inside the block add up, like ``.grad``.  An active ``tg.trace()`` keeps printing.
    """

    def __init__(self, *outputs, names=None, title=None, small=SMALL):
        if not outputs:
            raise TypeError("record() needs the output whose graph to capture, e.g. "
                            "`with tg.viz.record(loss) as g: loss.backward()`")
        self.roots = _roots(outputs[0] if len(outputs) == 1 and not hasattr(outputs[0], "_ctx")
                            else list(outputs))
        self.names, self.title, self.small = names, title, small
        self.graph = None

    def __enter__(self):
        self.graph, self._fn_ids, self._fns = Graph._from_live(self.roots, self.names, self.title, self.small,
                                                                pin=True)
        self.graph._start_grads()
        self._prev = prev = autograd._tracer
        g, fn_ids = self.graph, self._fn_ids

        def tracer(fn, gouts, gin):
            g._on_backward(fn_ids, fn, gouts, gin)
            if prev is not None:                        # 外层的 tg.trace() 照常打印
                prev(fn, gouts, gin)
        autograd._tracer = tracer
        return self.graph

    def __exit__(self, *exc):
        autograd._tracer = self._prev
        self.graph._finish_grads()
        self._fn_ids, self._fns = {}, None              # 之前让节点活着是为了 id 不重复，现在可以放开
        return False


def _as_graph(tensor, names=None, title=None, values=None):
    """Graph 或还活着的张量（列表）-> (Graph, 是否显示值)。"""
    if isinstance(tensor, Graph):
        if names is not None:
            tensor.rename(names)
        return tensor, True if values is None else values
    if values:
        return graph(tensor, names=names, title=title), True
    g, _ = Graph._from_live(_roots(tensor), names, title)
    return g, False


def to_dot(tensor, names=None, title=None, values=None):
    """计算图的 DOT 文本（Graphviz 格式）。

    Args:
        tensor: the output whose graph is drawn (usually the loss), a list/tuple of outputs (e.g.
            ``(h, c)`` of an LSTM step) drawn in one picture, or a ``Graph`` from ``graph``/``record``.
        names: optional labels: ``{tensor: "w1", ...}`` or a ``Module`` (parameter names).
        title: optional caption drawn above the graph.
        values: draw every tensor as a node with its value and gradient.  Default: False for a
            tensor (the compact picture), True for a ``Graph``.
    Returns:
        str: ``digraph G { ... }``.  Compact form: op boxes read ``OpName`` and the output shape(s);
        leaves read ``name`` and shape; an edge between two ops carries the shape (and name) of the
        tensor.  With values: op boxes read the op name, tensor boxes name, shape, ``value`` and
        ``grad``.
    """
    g, values = _as_graph(tensor, names, title, values)
    return _dot(g, values, title if title is not None else g.title)


def to_text(tensor, names=None, title=None):
    """纯文本的计算图（值和梯度，用法同 ``graph``；也接受 ``Graph``）。"""
    g, _ = _as_graph(tensor, names, title, values=True)
    return g.to_text()


def to_svg(tensor, names=None, title=None, values=None):
    """自带的 SVG 画法，不需要 Graphviz（参数同 ``to_dot``）。"""
    g, values = _as_graph(tensor, names, title, values)
    return _svg(g, values, title if title is not None else g.title)


def save_graph(tensor, path, names=None, title=None, values=None):
    """把 ``to_dot(tensor, names, title, values)`` 渲染成图片，格式由扩展名决定（png、svg、pdf）。

    PATH 上有 Graphviz 的 ``dot`` 时渲染 ``path`` 并返回它。没有 Graphviz 时改写自带的 SVG：``path``
    以 ``.svg`` 结尾就写到 ``path``，否则写到旁边的同名 ``.svg`` 文件，给出警告并返回实际写的路径
    （这样教程页面照样能运行）。

    With Graphviz's ``dot`` on PATH it renders ``path`` and returns it.  Without Graphviz it writes
    the built-in SVG instead, to ``path`` when that ends in ``.svg`` and otherwise next to it with
    the suffix ``.svg``, warns, and returns the path it wrote (so a tutorial page still runs)."""
    exe = shutil.which("dot")
    fmt = str(path).rsplit(".", 1)[-1].lower() if "." in pathlib.Path(str(path)).name else "png"
    if exe is None:
        g, values = _as_graph(tensor, names, title, values)
        out = pathlib.Path(path) if fmt == "svg" else pathlib.Path(path).with_suffix(".svg")
        out.write_text(_svg(g, values, title if title is not None else g.title), encoding="utf-8")
        if fmt != "svg":
            warnings.warn(f"save_graph: Graphviz's `dot` is not installed (apt-get install graphviz, brew "
                          f"install graphviz, conda install graphviz), so {str(path)!r} was not written; "
                          f"wrote the built-in SVG picture {str(out)!r} instead", RuntimeWarning, stacklevel=2)
        return out if fmt != "svg" else path
    dot = to_dot(tensor, names=names, title=title, values=values)
    res = subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=dot.encode(), capture_output=True)
    if res.returncode != 0:
        raise RuntimeError(f"save_graph: Graphviz failed to write {path!r} as {fmt!r}: "
                           f"{res.stderr.decode(errors='replace').strip()}")
    return path


def to_html(tensor, path=None, names=None, title=None):
    """写出一个自包含的 HTML 页面，一步一步走过前向和反向（``→``/``←`` 键或按钮）。

    ``tensor`` 是损失（计算图必须还在；值和梯度由 ``graph`` 算出），或 ``record`` 得到的 ``Graph``。
    给了 ``path`` 就写出（UTF-8），总是返回 HTML 文本。
    ``tensor``: the loss (its graph must still exist; values and gradients come from ``graph``) or a
    ``Graph`` from ``record``.  Writes ``path`` (UTF-8) when given and returns the HTML text."""
    g, _ = _as_graph(tensor, names, title, values=True)
    return _write_html(g, path, title if title is not None else g.title)


# ------------------------------------------------------------------------------------------ DOT（Graphviz 文本）
_COLORS = {"param": "#cfe3ff", "const": "#ffffff", "output": "#ffe7a8", "inner": "#f7f7f7", "op": "#f2f2f2"}


def _kind(t):
    if t["output"]:
        return "output"
    if t["leaf"]:
        return "param" if t["requires_grad"] else "const"
    return "inner"


def _dot(g, values, title):
    head = ["digraph G {", '  rankdir=LR; fontname="Helvetica";', '  node [fontname="Helvetica", fontsize=10];',
            '  edge [fontname="Helvetica", fontsize=8];']
    if title:
        head.append(f'  labelloc="t"; label="{_esc(title)}";')
    nodes, edges = [], []
    if values:
        for i, op in enumerate(g.ops):
            nodes.append(f'  op{i} [shape=box, style=filled, fillcolor="{_COLORS["op"]}", '
                         f'label="{_esc(op["name"])}"];')
        for key, t in g.tensors.items():
            lines = [t["name"] or key, _fmt_shape(t["shape"]) + " " + t["dtype"]]
            for tag, snap in (("value", t["value"]), ("grad", t["grad"])):
                if snap is not None:
                    text = snap["brief"].split("\n")
                    lines += [f"{tag:<5s} {text[0]}"] + ["      " + s for s in text[1:]]
            label = "".join(_esc(s) + "\\l" for s in lines)
            style = '"rounded,filled,bold"' if t["output"] else '"rounded,filled"'
            nodes.append(f'  {key} [shape=box, style={style}, fillcolor="{_COLORS[_kind(t)]}", '
                         f'fontname="Courier", label="{label}"];')
            if t["producer"] is not None:
                tag = f"[{t['out_idx']}]" if g.ops[t["producer"]]["n_outputs"] > 1 else ""
                edges.append(f"  op{t['producer']} -> {key}" + (f' [label="{tag}"];' if tag else ";"))
        for i, op in enumerate(g.ops):
            for key in op["inputs"]:
                edges.append(f"  {key} -> op{i};")
        return "\n".join(head + nodes + edges + ["}"])
    # 紧凑的画法：中间张量画在边上
    declared = set()
    for i, op in enumerate(g.ops):
        shapes = " ".join(_fmt_shape(g.tensors[k]["shape"]) for k in op["outputs"])
        nodes.append(f'  op{i} [shape=box, style=filled, fillcolor="{_COLORS["op"]}", '
                     f'label="{_esc(op["name"])}\\n{shapes}"];')
        for key in op["inputs"]:
            t = g.tensors[key]
            nm = t["name"] or ""
            if t["leaf"]:
                if key not in declared and not t["output"]:
                    declared.add(key)
                    lbl = (_esc(nm) + "\\n" if nm else "") + _fmt_shape(t["shape"])
                    nodes.append(f'  {key} [shape=ellipse, style=filled, fillcolor="{_COLORS[_kind(t)]}", '
                                 f'label="{lbl}"];')
                edges.append(f"  {key} -> op{i};")
            else:
                tag = _esc(nm) if nm else (f"[{t['out_idx']}]" if g.ops[t["producer"]]["n_outputs"] > 1 else "")
                lbl = (tag + " " if tag else "") + _fmt_shape(t["shape"])
                edges.append(f'  op{t["producer"]} -> op{i} [label="{lbl}"];')
    for key, t in g.tensors.items():
        if not t["output"]:
            continue
        nm = t["name"] or ""
        lbl = (_esc(nm) + "\\n" if nm else "") + _fmt_shape(t["shape"])
        nodes.append(f'  {key} [shape=ellipse, style="filled,bold", fillcolor="{_COLORS["output"]}", label="{lbl}"];')
        if t["producer"] is not None:
            tag = f"[{t['out_idx']}]" if g.ops[t["producer"]]["n_outputs"] > 1 else ""
            edges.append(f"  op{t['producer']} -> {key}" + (f' [label="{tag}"];' if tag else ";"))
    return "\n".join(head + nodes + edges + ["}"])


def _best_svg(g, values):
    """装了 ``dot`` 时用 Graphviz 画的 SVG，否则用自带的画法。"""
    exe = shutil.which("dot")
    if exe is not None:
        res = subprocess.run([exe, "-Tsvg"], input=_dot(g, values, g.title).encode(), capture_output=True)
        if res.returncode == 0:
            text = res.stdout.decode("utf-8", errors="replace")
            return text[text.find("<svg"):]
    return _svg(g, values, g.title)


# ------------------------------------------------------------------------------------------ 自带的 SVG
_CHAR_W, _LINE_H, _PAD, _GAP_X, _GAP_Y = 7.0, 14.0, 8.0, 56.0, 18.0


def _node_lines(g, kind, key, values):
    """一个节点里的各行文字：[(文本, css 类名)]。"""
    if kind == "op":
        op = g.ops[key]
        if values:
            return [(op["name"], "title")]
        shapes = " ".join(_fmt_shape(g.tensors[k]["shape"]) for k in op["outputs"])
        return [(op["name"], "title"), (shapes, "shape")]
    t = g.tensors[key]
    lines = [(t["name"], "title")] if t["name"] else [(key, "title")] if values else []
    lines.append((_fmt_shape(t["shape"]) + (" " + t["dtype"] if values else ""), "shape"))
    if values:
        for tag, cls, snap in (("value", "val", t["value"]), ("grad", "grad", t["grad"])):
            if snap is None:
                if cls == "grad" and g.has_grads and t["requires_grad"]:
                    lines.append(("grad  -", cls))
                continue
            text = snap["brief"].split("\n")
            lines += [(f"{tag:<5s} {text[0]}", cls)] + [("      " + s, cls) for s in text[1:]]
    return lines


def _layout(g, values, rankdir="LR"):
    """分层布局，从左到右：(节点 {id: dict}, 边 [(起点, 终点, 标签, 种类)], 宽, 高)。"""
    nodes = {}
    for i in range(len(g.ops)):
        nodes[f"op{i}"] = {"kind": "op", "key": i}
    shown = [k for k, t in g.tensors.items() if values or t["leaf"] or t["output"]]
    for k in shown:
        nodes[k] = {"kind": "tensor", "key": k}
    edges = []
    for i, op in enumerate(g.ops):
        for pos, k in enumerate(op["inputs"]):
            t = g.tensors[k]
            if k in nodes:
                edges.append((k, f"op{i}", "", ("in", i, pos)))
            else:                                   # 紧凑画法：运算 -> 运算的边，边上标注形状
                tag = t["name"] or (f"[{t['out_idx']}]" if g.ops[t["producer"]]["n_outputs"] > 1 else "")
                edges.append((f"op{t['producer']}", f"op{i}", (tag + " " if tag else "") + _fmt_shape(t["shape"]),
                              ("in", i, pos)))
    for k in shown:
        t = g.tensors[k]
        if t["producer"] is not None:
            tag = f"[{t['out_idx']}]" if g.ops[t["producer"]]["n_outputs"] > 1 else ""
            edges.append((f"op{t['producer']}", k, tag, ("out", t["producer"], k)))
    preds = {n: [] for n in nodes}
    succs = {n: [] for n in nodes}
    for s, d, _, _ in edges:
        preds[d].append(s)
        succs[s].append(d)
    # 层：最长路径（运算已按前向顺序排好）；叶子放在第一个用到它的运算的前一层
    layer = {}
    for i in range(len(g.ops)):
        n = f"op{i}"
        layer[n] = 1 + max([layer.get(p, 0) for p in preds[n]] + [0])
        for s in succs[n]:
            if not s.startswith("op"):
                layer[s] = layer[n] + 1
    for n in nodes:
        if n not in layer:                               # 叶子：放在第一个使用者的前一层
            users = [layer[s] for s in succs[n] if s in layer]
            layer[n] = (min(users) - 1) if users else 0
    top = min(layer.values()) if layer else 0
    layers = {}
    for n in nodes:
        layers.setdefault(layer[n] - top, []).append(n)
    # 层内顺序：按前驱的平均位置（重心法），两遍
    pos = {}
    for sweep in range(2):
        for li in sorted(layers):
            col = layers[li]
            for n in col:
                ref = [pos[p] for p in preds[n] if p in pos] or [pos[s] for s in succs[n] if s in pos]
                nodes[n]["bary"] = sum(ref) / len(ref) if ref else pos.get(n, col.index(n))
            col.sort(key=lambda n: nodes[n]["bary"])
            for j, n in enumerate(col):
                pos[n] = j
    # 尺寸与坐标
    for n, nd in nodes.items():
        nd["lines"] = _node_lines(g, nd["kind"], nd["key"], values)
        w = max(_width(s) for s, _ in nd["lines"]) * _CHAR_W + 2 * _PAD
        nd["w"], nd["h"] = max(w, 56.0), len(nd["lines"]) * _LINE_H + 2 * _PAD - 2
    top_y = 44.0 if g.title else 20.0
    cols = sorted(layers)
    if rankdir == "LR":                 # 层是列，从左到右
        x, heights = 20.0, []
        for li in cols:
            colw = max(nodes[n]["w"] for n in layers[li])
            for n in layers[li]:
                nodes[n]["x"] = x + (colw - nodes[n]["w"]) / 2
            x += colw + _GAP_X
            heights.append(sum(nodes[n]["h"] for n in layers[li]) + _GAP_Y * (len(layers[li]) - 1))
        total_h = max(heights) if heights else 0
        for li, hcol in zip(cols, heights):
            y = top_y + (total_h - hcol) / 2
            for n in layers[li]:
                nodes[n]["y"] = y
                y += nodes[n]["h"] + _GAP_Y
        return nodes, edges, x - _GAP_X + 20, total_h + top_y + 20
    # "TB": 层是行，从上到下
    y, widths = top_y, []
    for li in cols:
        rowh = max(nodes[n]["h"] for n in layers[li])
        for n in layers[li]:
            nodes[n]["y"] = y + (rowh - nodes[n]["h"]) / 2
        y += rowh + _GAP_X * 0.7
        widths.append(sum(nodes[n]["w"] for n in layers[li]) + _GAP_X * 0.5 * (len(layers[li]) - 1))
    total_w = max(widths) if widths else 0
    for li, wrow in zip(cols, widths):
        x = 20.0 + (total_w - wrow) / 2
        for n in layers[li]:
            nodes[n]["x"] = x
            x += nodes[n]["w"] + _GAP_X * 0.5
    return nodes, edges, total_w + 40, y - _GAP_X * 0.7 + 20


def _svg(g, values, title, rankdir="LR"):
    nodes, edges, width, height = _layout(g, values, rankdir)
    e = _html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="tg-graph" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
           'font-size="11">',
           '<defs><marker id="tg-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker></defs>',
           '<style>.tg-graph text{white-space:pre} .tg-graph .title{font-weight:bold}'
           ' .tg-graph .grad{fill:#b3261e} .tg-graph .val{fill:#1f4e79} .tg-graph .shape{fill:#555}</style>']
    if title:
        out.append(f'<text x="20" y="24" font-size="14" font-weight="bold">{e(title)}</text>')
    for s, d, label, kind in edges:
        a, b = nodes[s], nodes[d]
        if rankdir == "LR":
            x1, y1 = a["x"] + a["w"], a["y"] + a["h"] / 2
            x2, y2 = b["x"], b["y"] + b["h"] / 2
            xm = (x1 + x2) / 2
            curve = f"C{xm:.1f},{y1:.1f} {xm:.1f},{y2:.1f}"
        else:
            x1, y1 = a["x"] + a["w"] / 2, a["y"] + a["h"]
            x2, y2 = b["x"] + b["w"] / 2, b["y"]
            ym = (y1 + y2) / 2
            curve = f"C{x1:.1f},{ym:.1f} {x2:.1f},{ym:.1f}"
        eid = f"e-{kind[0]}-{kind[1]}-{kind[2]}"
        out.append(f'<path id="{e(eid)}" class="edge {kind[0]}" d="M{x1:.1f},{y1:.1f} {curve} {x2:.1f},{y2:.1f}" '
                   'fill="none" stroke="#888" stroke-width="1.2" marker-end="url(#tg-arrow)"/>')
        if label:
            out.append(f'<text x="{(x1 + x2) / 2 + (0 if rankdir == "LR" else 4):.1f}" y="{(y1 + y2) / 2 - 4:.1f}" '
                       f'font-size="9" text-anchor="{"middle" if rankdir == "LR" else "start"}" '
                       f'fill="#555">{e(label)}</text>')
    for n, nd in nodes.items():
        if nd["kind"] == "op":
            fill, rx, cls = _COLORS["op"], 0, "node op"
        else:
            t = g.tensors[nd["key"]]
            fill, rx, cls = _COLORS[_kind(t)], 6, "node tensor " + _kind(t)
        stroke = "#333" if nd["kind"] == "tensor" and g.tensors[nd["key"]]["output"] else "#999"
        out.append(f'<g id="n-{n}" class="{cls}"><rect x="{nd["x"]:.1f}" y="{nd["y"]:.1f}" width="{nd["w"]:.1f}" '
                   f'height="{nd["h"]:.1f}" rx="{rx}" fill="{fill}" stroke="{stroke}"/>')
        for j, (text, tcls) in enumerate(nd["lines"]):
            ty = nd["y"] + _PAD + (j + 1) * _LINE_H - 3
            anchor = (f'x="{nd["x"] + nd["w"] / 2:.1f}" text-anchor="middle"' if nd["kind"] == "op"
                      else f'x="{nd["x"] + _PAD:.1f}"')
            out.append(f'<text {anchor} y="{ty:.1f}" class="{tcls}">{e(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


# ------------------------------------------------------------------------------------------ HTML 页面
def _steps(g):
    """HTML 页面的各步：开始、每个前向运算一步、反向的起点、每个反向运算一步。"""
    e = _html.escape
    L = g.label

    def tensor_html(key, which="value"):
        t = g.tensors[key]
        snap = t[which]
        body = e(snap["text"]) if snap is not None else "-"
        return (f'<div class="t"><b>{e(L(key))}</b> <span class="shape">{e(_fmt_shape(t["shape"]))} '
                f'{e(t["dtype"])}</span><pre class="{"grad" if which == "grad" else "val"}">{body}</pre></div>')

    leaves = [k for k, t in g.tensors.items() if t["leaf"]]
    steps = [{"kind": "start", "op": None, "vals": leaves, "grads": [], "edges": [],
              "title": "开始：叶子张量（输入与参数）已经有值",
              "html": "<p>蓝色是需要梯度的参数，白色是不需要梯度的输入，黄色框是输出。按 → 开始前向。</p>"
                      + "".join(tensor_html(k) for k in leaves)}]
    for i, op in enumerate(g.ops):
        ins = ", ".join(e(L(k)) for k in op["inputs"])
        steps.append({"kind": "forward", "op": i, "vals": list(op["outputs"]), "grads": [],
                      "edges": [f"e-in-{i}-{p}" for p in range(len(op["inputs"]))] +
                               [f"e-out-{i}-{k}" for k in op["outputs"]],
                      "title": f"前向 {i + 1}/{len(g.ops)}：{op['name']}({ins})",
                      "html": "<h4>输入</h4>" + "".join(tensor_html(k) for k in op["inputs"]) +
                              "<h4>输出</h4>" + ("".join(tensor_html(k) for k in op["outputs"]) or
                                                 "<p>（没有被使用的输出）</p>")})
    if g.has_grads:
        outs = [k for k, t in g.tensors.items() if t["output"] and t["grad"] is not None]
        steps.append({"kind": "seed", "op": None, "vals": [], "grads": outs, "edges": [],
                      "title": "反向开始：输出对自己的梯度 ∂L/∂L = 1",
                      "html": "<p>反向传播从输出出发，沿箭头的反方向，把梯度交给每个运算的输入（链式法则）。</p>"
                              + "".join(tensor_html(k, "grad") for k in outs)})
        # 一个张量的所有使用者都做完反向之后，它的梯度才算收齐
        last = {}
        for j, i in enumerate(g.backward_order):
            for k in g.ops[i]["inputs"]:
                last[k] = j
        for j, i in enumerate(g.backward_order):
            op = g.ops[i]
            done = [k for k in dict.fromkeys(op["inputs"]) if last.get(k) == j and g.tensors[k]["grad"] is not None]
            sent = []
            for p, k in enumerate(op["inputs"]):
                snap = g.edge_grads.get((i, p))
                body = e(snap["text"]) if snap is not None else "-（不需要梯度）"
                sent.append(f'<div class="t"><b>∂L/∂{e(L(k))}</b> <span class="shape">（经过这条边的一份）</span>'
                            f'<pre class="grad">{body}</pre></div>')
            steps.append({"kind": "backward", "op": i, "vals": [], "grads": done,
                          "edges": [f"e-in-{i}-{p}" for p in range(len(op["inputs"]))] +
                                   [f"e-out-{i}-{k}" for k in op["outputs"]],
                          "title": f"反向 {j + 1}/{len(g.backward_order)}：{op['name']}.backward",
                          "html": (f'<h4>导数（{e(op["name"])}.backward 的 docstring）</h4><p class="formula">'
                                   f'{e(op["formula"])}</p>' if op["formula"] else "") +
                                  "<h4>收到：输出的梯度</h4>" +
                                  "".join(tensor_html(k, "grad") for k in op["outputs"]) +
                                  "<h4>交给输入：链式法则</h4>" + "".join(sent) +
                                  ("<h4>梯度已收齐</h4><p>" + "、".join(e(L(k)) for k in done) +
                                   " 的所有使用者都已反向：它的梯度是各条边之和。</p>" if done else "")})
    return steps


_CSS = """
html,body{height:100%}
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#222;
display:flex;flex-direction:column}
header{flex:0 0 auto;padding:10px 16px;background:#f4f4f8;border-bottom:1px solid #ddd;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
header h1{font-size:17px;margin:0 12px 0 0}
button{font-size:14px;padding:4px 10px;cursor:pointer}
#tg-counter{font-weight:bold;min-width:7em}
#tg-title{font-size:15px}
main{flex:1 1 auto;min-height:0;display:flex}
#tg-graph{flex:1 1 auto;overflow:auto;padding:8px}
#tg-panel{flex:0 0 380px;overflow:auto;border-left:1px solid #ddd;padding:8px 14px;font-size:13px}
#tg-panel pre{background:#fafafa;border:1px solid #eee;padding:4px 6px;margin:2px 0 8px;font-size:12px;white-space:pre}
#tg-panel pre.grad{color:#b3261e} #tg-panel pre.val{color:#1f4e79}
#tg-panel h4{margin:10px 0 4px}
.shape{color:#666;font-size:12px}
.formula{background:#fffbe6;border:1px solid #f0e0a0;padding:4px 6px}
.hint{color:#666;font-size:12px}
svg .node text.val,svg .node text.grad{visibility:hidden}
svg .node.has-val text.val,svg .node.has-grad text.grad{visibility:visible}
svg .node.tensor:not(.has-val) rect{fill:#fff;stroke-dasharray:4 3}
svg .node.done rect{stroke:#333}
svg .node.active rect{stroke:#e07b00;stroke-width:3}
svg .node.just rect{stroke:#e07b00;stroke-width:2}
svg path.edge.active{stroke:#e07b00;stroke-width:2.5}
body.backward svg path.edge.active{stroke:#b3261e}
"""

_JS = """
(function () {
  var D = JSON.parse(document.getElementById('tg-data').textContent);
  var steps = D.steps, cur = 0;
  function q(id) { return document.getElementById(id); }
  function cls(el, name, on) { if (el) { if (on) el.classList.add(name); else el.classList.remove(name); } }
  function show(k) {
    cur = Math.max(0, Math.min(steps.length - 1, k));
    var val = {}, grad = {}, done = {}, i, j, st = steps[cur];
    var back = st.kind === 'backward' || st.kind === 'seed';
    for (i = 0; i <= cur; i++) {
      var s = steps[i];
      for (j = 0; j < s.vals.length; j++) val[s.vals[j]] = true;
      for (j = 0; j < s.grads.length; j++) grad[s.grads[j]] = true;
      // done: ops whose forward (in the forward phase) or backward (in the backward phase) has run
      if (s.op !== null && i < cur && (s.kind === 'backward') === back) done[s.op] = true;
    }
    var nodes = document.querySelectorAll('svg .node');
    for (i = 0; i < nodes.length; i++) {
      var n = nodes[i], id = n.id.slice(2);
      cls(n, 'has-val', !!val[id]);
      cls(n, 'has-grad', !!grad[id]);
      cls(n, 'done', id.indexOf('op') === 0 && !!done[+id.slice(2)]);
      cls(n, 'active', st.op !== null && id === 'op' + st.op);
      cls(n, 'just', st.vals.indexOf(id) >= 0 || st.grads.indexOf(id) >= 0);
    }
    var edges = document.querySelectorAll('svg path.edge');
    for (i = 0; i < edges.length; i++) cls(edges[i], 'active', st.edges.indexOf(edges[i].id) >= 0);
    cls(document.body, 'backward', back);
    q('tg-counter').textContent = '第 ' + cur + ' / ' + (steps.length - 1) + ' 步';
    q('tg-title').textContent = st.title;
    q('tg-panel').innerHTML = st.html;
    var act = document.querySelector('svg .node.active') || document.querySelector('svg .node.just');
    if (act && act.scrollIntoView) act.scrollIntoView({block: 'center', inline: 'center'});
    q('tg-prev').disabled = cur === 0;
    q('tg-next').disabled = cur === steps.length - 1;
    document.body.setAttribute('data-step', String(cur));
    document.body.setAttribute('data-kind', st.kind);
  }
  var svg = document.querySelector('#tg-graph svg'), box = q('tg-graph');
  var fit = svg && box.clientWidth / svg.getAttribute('width') >= 0.55;   // small graphs: scale to fit
  if (fit) { svg.style.width = '100%'; svg.style.height = 'auto'; svg.style.maxWidth = svg.getAttribute('width') + 'px'; }
  q('tg-first').onclick = function () { show(0); };
  q('tg-prev').onclick = function () { show(cur - 1); };
  q('tg-next').onclick = function () { show(cur + 1); };
  q('tg-last').onclick = function () { show(steps.length - 1); };
  document.addEventListener('keydown', function (ev) {
    var k = ev.key;
    if (k === 'ArrowRight' || k === 'ArrowDown' || k === ' ' || k === 'n') show(cur + 1);
    else if (k === 'ArrowLeft' || k === 'ArrowUp' || k === 'p') show(cur - 1);
    else if (k === 'Home') show(0);
    else if (k === 'End') show(steps.length - 1);
    else return;
    ev.preventDefault();
  });
  var m = /step=(\\d+)/.exec(location.hash);
  show(m ? parseInt(m[1], 10) : 0);
  window.tgViz = {show: show, count: steps.length, current: function () { return cur; }};
})();
"""


def _write_html(g, path, title):
    steps = _steps(g)
    data = json.dumps({"steps": steps}, ensure_ascii=False).replace("</", "<\\/")
    svg = _svg(g, True, None, rankdir="TB")
    e = _html.escape
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{e(title or "tinygrad_zh 计算图")}</title>
<style>{_CSS}</style></head>
<body data-step="0">
<header><h1>{e(title or "计算图：一步一步")}</h1>
<button id="tg-first" title="Home">« 开头</button><button id="tg-prev" title="←">◀ 上一步</button>
<button id="tg-next" title="→">下一步 ▶</button><button id="tg-last" title="End">结尾 »</button>
<span id="tg-counter"></span><span id="tg-title"></span>
<span class="hint">键盘：→ / ← 前进后退，Home / End 到头尾</span></header>
<main><div id="tg-graph">{svg}</div><aside id="tg-panel"></aside></main>
<script type="application/json" id="tg-data">{data}</script>
<script>{_JS}</script>
</body></html>
"""
    if path is not None:
        pathlib.Path(path).write_text(page, encoding="utf-8")
    return page


# ------------------------------------------------------------------------------------------ Jupyter 显示
def tensor_mimebundle(t, include=None, exclude=None):
    """Jupyter 里张量的显示：一张小表（形状、dtype、值、梯度、grad_fn），有计算图时再画出它。

    Returns ``{"text/html": ..., "text/plain": repr(t)}`` (``Tensor._repr_mimebundle_``)."""
    e = _html.escape
    snap = snapshot(t.array)
    rows = [f"<b>tensor</b> <code>{e(_fmt_shape(tuple(t.shape)))}</code> {e(str(t.dtype))}"
            f"{' · ' + e(t.device) if t.device != 'cpu' else ''}"
            f"{' · requires_grad' if t.requires_grad else ''}"
            f"{' · grad_fn=' + e(type(t._ctx).__name__) + 'Backward' if t._ctx is not None else ''}",
            f'<pre style="color:#1f4e79;margin:2px 0">{e(snap["text"])}</pre>']
    if t.grad is not None:
        rows.append(f'grad<pre style="color:#b3261e;margin:2px 0">{e(snapshot(t.grad.array)["text"])}</pre>')
    if t._ctx is not None and t._ctx.parents is not autograd._Released:
        try:
            g, _ = Graph._from_live([t], None, None)
            if len(g.ops) <= 30:
                rows.append(_svg(g, False, None))
        except RuntimeError:
            pass
    return {"text/html": "<div>" + "\n".join(rows) + "</div>", "text/plain": repr(t)}


def _install_tensor_display():
    """``Tensor`` 自己还没有 ``_repr_mimebundle_`` 时，导入 viz 就给它加上（用于 Jupyter 显示）。"""
    from .tensor import Tensor
    if not hasattr(Tensor, "_repr_mimebundle_"):
        Tensor._repr_mimebundle_ = tensor_mimebundle


_install_tensor_display()


# ------------------------------------------------------------------------------------------ trace（逐步打印）
def _norm(arrays):
    total = 0.0
    for g in arrays:
        a = g.get() if hasattr(g, "get") else g          # CuPy 数组先拷回 NumPy
        total += float((np.asarray(a, dtype=np.float64) ** 2).sum())
    return total ** 0.5


@contextlib.contextmanager
def trace(printer=print):
    """反向传播时逐步打印：``with tg.trace(): loss.backward()``.

    每一步一行，顺序就是引擎执行的顺序（拓扑逆序）：步号、运算名、到达的梯度形状（``grad_out``，
    运算的每个输出一个）、离开的梯度形状（``grad_in``，每个输入一个；不需要梯度的输入写 ``-``），以及
    到达的梯度的 L2 范数。``printer`` 接收每一行（默认 ``print``；传 ``lines.append`` 可以收集起来）。
    One line per backward step, in the engine's order; ``printer`` receives each line."""
    step = [0]

    def tracer(fn, grads_out, grads_in):
        step[0] += 1
        gout = [g for g in grads_out if g is not None]
        outs = " ".join(_fmt_shape(g.shape) for g in gout)
        ins = " ".join(_fmt_shape(g.shape) if g is not None else "-" for g in grads_in)
        printer(f"[backward {step[0]:3d}] {type(fn).__name__:<20s} grad_out {outs:<14s} -> grad_in {ins:<24s} "
                f"|grad_out| = {_norm(gout):.4g}")
        if prev is not None:                 # 外层的 record()（或 trace）仍然看到每一步
            prev(fn, grads_out, grads_in)

    prev = autograd._tracer
    autograd._tracer = tracer
    try:
        yield
    finally:
        autograd._tracer = prev

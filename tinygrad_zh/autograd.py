"""自动求导的核心：计算图节点 Function、拓扑排序与反向传播、no_grad。

The whole chain rule of tinygrad_zh lives in this file (no op definitions, no device code):

* ``Function``: one node of the graph. ``forward`` and ``backward`` work on raw arrays; ``apply``
  runs forward and, when a gradient is needed, remembers the inputs (``parents``).
* ``backward(root)``: visits the nodes in reverse topological order and applies the chain rule.
* ``no_grad`` / ``enable_grad``: switch graph recording off / on.

为什么要拓扑排序？一个节点的梯度必须等 **所有** 用到它的下游节点都把梯度传回来、累加完毕之后，
才能继续往上游传。例如 ``b = a + a; c = b + b``：若用朴素递归，c 会对 b 调两次反向，b 每次都把
"不完整" 的梯度往 a 传，计算量按层数指数增长；按拓扑逆序，每个节点只在梯度收齐后处理一次。
"""
import functools


_grad_enabled = True
_tracer = None          # set by tinygrad_zh.viz.trace(): called for every backward step
_Tensor = None          # the Tensor class; tensor.py imports this module and then fills this in
                        # (importing it here would be circular, and an import inside apply() is slow)


def is_grad_enabled():
    """True when operations record the graph for backward."""
    return _grad_enabled


class _GradMode:
    """Context manager *and* decorator that sets grad mode (the base of no_grad / enable_grad)."""
    mode = True

    def __enter__(self):
        global _grad_enabled
        self._prev, _grad_enabled = _grad_enabled, self.mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """``with tg.no_grad():`` (or ``@tg.no_grad()``): do not record the graph (evaluation, updates)."""
    mode = False


class enable_grad(_GradMode):
    """Turn graph recording back on inside a ``no_grad`` block."""
    mode = True


class Function:
    """计算图中的一个节点（一次运算）。

    Subclasses implement ``forward(*arrays, **kwargs) -> array`` (or a tuple of arrays for several
    outputs) and ``backward(grad) -> one gradient array per input`` (``None`` for an input that needs
    none).  ``self.needs_input_grad[i]`` tells backward which gradients are wanted, so it can skip
    work.  Forward saves what backward needs as attributes of ``self``; those are freed after the
    backward pass unless ``retain_graph=True``.  So when the engine sets
    ``self.may_overwrite_saved = True`` (no ``retain_graph``), backward is the last reader of the
    arrays that forward *created for itself* and may compute its result in one of them (saves a large
    temporary, e.g. the (N, V) gradient of the softmax cross-entropy).  Never the inputs or the
    outputs: other nodes and the user may still hold those.

    Post-backward hook: a node may set ``self.post_backward = callable`` in ``forward``; after a
    backward pass whose graph contains that node has accumulated every leaf gradient, the engine
    calls each distinct callable once (``DistributedDataParallel`` averages gradients this way).
    """
    n_outputs = 1            # Functions with several outputs set this (e.g. the LSTM cell: h, c)
    differentiable = True    # False for argmax, comparisons, ...: never recorded
    may_overwrite_saved = False   # set per node by backward() when the graph is not retained

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grads):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run forward on the inputs' arrays and wrap the result(s) in Tensors linked to this node."""
        fn = cls()
        device = inputs[0].device
        any_grad = False
        for t in inputs:                # one pass: same device everywhere? does any input need grad?
            if t.device != device:
                raise RuntimeError(f"{cls.__name__}: expected all tensors on one device, got "
                                   f"{device} and {t.device} (move them with .to(device))")
            any_grad = any_grad or t.requires_grad
        out = fn.forward(*[t.data for t in inputs], **kwargs)
        record = _grad_enabled and any_grad and cls.differentiable
        if record:
            fn.parents = inputs
            fn.needs_input_grad = tuple(t.requires_grad for t in inputs)
        ctx = fn if record else None
        if cls.n_outputs == 1:
            return _Tensor._make(out, device, ctx, 0)
        return tuple(_Tensor._make(o, device, ctx, i) for i, o in enumerate(out))

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"


class _Released:
    """Marker left on a node whose buffers were freed after backward."""


def _toposort(root_fn):
    """计算图的拓扑序（迭代 DFS，不用递归：10 万层的链也不会爆栈）。Output: root first."""
    order, visited, stack = [], set(), [(root_fn, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if fn in visited:
            continue
        visited.add(fn)
        stack.append((fn, True))
        parents = fn.parents
        if parents is _Released:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({fn!r} was freed by an "
                "earlier backward). Specify retain_graph=True on the first backward() if you need "
                "to backward through it again.")
        for p in parents:
            c = p._ctx
            if c is not None and c not in visited:
                stack.append((c, False))
    order.reverse()
    return order


def _base(g):
    """The array that owns ``g``'s memory (``g`` itself unless it is a view)."""
    base = g
    while base.base is not None and isinstance(base.base, type(g)):
        base = base.base
    return base


def _accumulate_leaf(t, g, owned):
    """把梯度累加到叶子张量的 .grad（跨多次 backward 累加，与 PyTorch 相同）。

    The first gradient is taken as is (no copy) unless it may alias another leaf's gradient or is a
    read-only broadcast view; later ones are added out of place so shared arrays stay intact."""
    data = t.data
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    if t.grad is not None:                      # a later gradient: add out of place
        t.grad = _Tensor._make(t.grad.data + g, t.device, None, 0)
        return
    base = _base(g)
    if g.shape != data.shape or not g.flags.writeable or id(base) in owned:
        g = g.copy() if g.shape == data.shape else t._xp.broadcast_to(g, data.shape).copy()
    else:
        owned.add(id(base))
    t.grad = _Tensor._make(g, t.device, None, 0)


def backward(root, gradient=None, retain_graph=False):
    """反向传播：从 root 出发，按拓扑逆序对每个节点应用链式法则，把梯度累加到叶子上。"""
    user_given = gradient is not None
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got a tensor "
                               f"of shape {root.shape}: pass backward(gradient=...) of that shape")
        gradient = root._xp.ones(root.shape, root.data.dtype)     # ∂root/∂root = 1
    else:
        gradient = gradient.data if hasattr(gradient, "_ctx") else gradient
        if tuple(gradient.shape) != tuple(root.shape):
            raise RuntimeError(f"backward: gradient has shape {tuple(gradient.shape)} but the output "
                               f"has shape {root.shape}")
        gradient = root._xp.asarray(gradient, dtype=root.data.dtype)
    if not root.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no grad_fn "
                           "(was it computed under no_grad, or from tensors without requires_grad?)")
    owned = set()
    if user_given:                              # the caller's array: never hand it out as a .grad
        owned.add(id(_base(gradient)))
    if root._ctx is None:                       # backward on a leaf: d root / d root = 1
        _accumulate_leaf(root, gradient, owned)
        return
    grads = {root._ctx: [None] * root._ctx.n_outputs}
    grads[root._ctx][root._out_idx] = gradient
    after = {}                      # post_backward callbacks found on this graph (dict: once each)
    for fn in _toposort(root._ctx):
        cb = fn.__dict__.get("post_backward")
        if cb is not None:
            after[cb] = None
        gouts = grads.pop(fn, None)
        if gouts is None:
            continue
        if not retain_graph:
            fn.may_overwrite_saved = True       # its saved arrays are freed right after this call
        if fn.n_outputs == 1:
            gin = fn.backward(gouts[0])
        else:
            gin = fn.backward(*gouts)
        if not isinstance(gin, tuple):
            gin = (gin,)
        if _tracer is not None:
            _tracer(fn, gouts, gin)
        for p, g, need in zip(fn.parents, gin, fn.needs_input_grad):
            if not need or g is None:
                continue
            c = p._ctx
            if c is None:
                _accumulate_leaf(p, g, owned)
                continue
            if p._retains_grad:
                _accumulate_leaf(p, g, owned)
            slot = grads.get(c)
            if slot is None:
                slot = grads[c] = [None] * c.n_outputs
            prev = slot[p._out_idx]
            slot[p._out_idx] = g if prev is None else prev + g
        if not retain_graph:
            fn.__dict__.clear()
            fn.parents = _Released
        gouts = gin = p = g = None  # let this node's arrays go now, not after the next node's backward
    for cb in after:                # every leaf gradient is final now (e.g. DDP averages them here)
        cb()

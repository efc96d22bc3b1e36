"""自定义运算的 PyTorch 写法：``@staticmethod forward(ctx, ...)`` / ``backward(ctx, ...)``。

One idea of "an op": a ``Function`` subclass whose node object remembers what backward needs.
Our built-in ops (``ops/``) and a learner's custom op are the same class, written two ways:

* **array form** (our ops, for speed): ``forward(self, *arrays)`` and ``backward(self, grad)`` work
  on raw NumPy/CuPy arrays; ``self`` is the node and saves what it needs as attributes.
* **PyTorch form** (this file): ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` are static
  methods on Tensors; ``ctx`` *is* the node object (the same ``self`` as above), with PyTorch's
  ``save_for_backward`` / ``saved_tensors`` / ``needs_input_grad`` / ``mark_non_differentiable``.

``Function.apply`` notices the static ``forward`` (``Function.__init_subclass__``) and comes here.
Both forms go through the same backward engine, version checks and gradient-shape checks.
This module imports nothing from the package: ``engine.py`` imports it and passes itself in as
``engine`` (so there is no import circle).
"""
import numpy as _np


class FunctionCtx:
    """What ``ctx`` offers in the PyTorch form (mixed into every Function node)."""

    def save_for_backward(self, *tensors):
        """保存 backward 要用的张量（记下版本号：之后被原地修改的话，backward 会报错）。"""
        for i, t in enumerate(tensors):
            if t is not None and not hasattr(t, "_ctx"):
                raise TypeError(f"save_for_backward: argument {i} is a {type(t).__name__}, not a Tensor "
                                "(store other values as attributes of ctx)")
        self._saved = tuple(tensors)
        self._saved_at = tuple(None if t is None else t._version[0] for t in tensors)

    @property
    def saved_tensors(self):
        saved = self.__dict__.get("_saved")
        if saved is None:
            if self.__dict__.get("_freed"):
                raise RuntimeError("Trying to backward through the graph a second time (or directly "
                                   "access saved tensors after they have already been freed)")
            return ()
        for i, (t, v) in enumerate(zip(saved, self._saved_at)):
            if t is not None and t._version[0] != v:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: saved tensor {i} of {type(self).__name__} (shape {t.shape}) is "
                    f"at version {t._version[0]}; expected version {v} instead")
        return saved

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        self._materialize = bool(value)


def apply_ctx_style(engine, cls, args, kwargs):
    """Run a PyTorch-form Function: forward on Tensors without recording, then link the outputs."""
    Tensor = engine._Tensor
    ctx = cls()
    tensors = [a for a in args if isinstance(a, Tensor)]
    if not tensors:
        raise TypeError(f"{cls.__name__}.apply: expected at least one Tensor argument")
    device = tensors[0].device
    for t in tensors:
        if t.device != device:
            raise RuntimeError(f"{cls.__name__}: expected all tensors on one device, got {device} "
                               f"and {t.device}")
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    with engine.no_grad():
        out = cls.forward(ctx, *args, **kwargs)
    single = not isinstance(out, tuple)
    outs = (out,) if single else out
    for i, o in enumerate(outs):
        if not isinstance(o, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor or a tuple of Tensors; "
                            f"output {i} is a {type(o).__name__}")
    record = engine._grad_enabled and any(t.requires_grad for t in tensors)
    non_diff = ctx.__dict__.get("_non_diff", ())
    ctx.n_outputs = len(outs)
    ctx._out_meta = tuple((o.shape, o.dtype) for o in outs)
    ctx._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
    wrapped = []
    for i, o in enumerate(outs):
        if any(o is t for t in tensors):          # an input returned as is: a new tensor on its memory
            o = o.detach()
        diff = record and id(outs[i]) not in non_diff and o.dtype.kind == "f"
        if diff:
            o._ctx, o._out_idx, o.requires_grad = ctx, i, True
        wrapped.append(o)
    if record:
        ctx.parents = tuple(tensors)
        ctx.needs_input_grad_tensors = tuple(t.requires_grad for t in tensors)
        for t in tensors:
            if t.requires_grad and t._ctx is not None:
                engine.add_consumer(t, ctx)
        if engine._anomaly:
            ctx._created_at = engine._user_stack()
    return wrapped[0] if single else tuple(wrapped)


def run_backward(engine, ctx, grad_arrays):
    """Called by the engine for a PyTorch-form node: arrays in, arrays out (one per Tensor input)."""
    Tensor = engine._Tensor
    cls = type(ctx)
    device = ctx.parents[0].device
    grads = []
    for g, (shape, dtype) in zip(grad_arrays, ctx._out_meta):
        if g is None and ctx.__dict__.get("_materialize", True):
            g = Tensor._make(ctx.parents[0]._xp.zeros(shape, dtype), device, None, 0)
        elif g is not None:
            g = Tensor._make(g, device, None, 0)
        grads.append(g)
    with engine.no_grad():
        res = cls.backward(ctx, *grads)
    if not isinstance(res, tuple):
        res = (res,)
    n_args = len(ctx._arg_is_tensor)
    if len(res) != n_args:
        raise RuntimeError(f"function {cls.__name__}.backward returned an incorrect number of gradients "
                           f"(expected {n_args}, one per forward argument; got {len(res)})")
    out = []
    k = 0
    for i, (g, is_t) in enumerate(zip(res, ctx._arg_is_tensor)):
        if not is_t:
            if g is not None:
                raise RuntimeError(f"function {cls.__name__}.backward returned a gradient for argument {i}, "
                                   "which is not a Tensor (return None there)")
            continue
        p = ctx.parents[k]
        k += 1
        if g is None:
            out.append(None)
            continue
        if not isinstance(g, Tensor):
            g = Tensor(_np.asarray(g), device=p.device)      # 数组：按数据建张量（Tensor(3) 会是形状）
        if g.shape != p.shape:
            raise RuntimeError(f"function {cls.__name__}.backward returned a gradient of shape {g.shape} "
                               f"for input {i}, which has shape {p.shape}: each gradient must have its "
                               "input's shape")
        out.append(g.array)
    ctx._freed = True
    return tuple(out)

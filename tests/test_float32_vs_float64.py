"""Float32 gradients of every differentiable op, compared with float64: the catalogue (tests/catalogue.py)
and ``EXTRA`` below.

The ops outside the catalogue (conv / pooling, batch / layer norm, the losses, the fused RNN / LSTM /
GRU layers, gather / scatter_add, ``x[key] = v``, sin / cos, norm, dtype casts, ...) go through the
same comparison in ``EXTRA`` below, each through the public API a user calls (``F.conv2d``,
``nn.LSTM``, ``Tensor.gather``, ...). ``test_every_differentiable_function_is_compared`` runs both
lists, records which Function classes actually ran backward, and fails for a differentiable Function
of ``tinygrad_zh/ops`` or ``tinygrad_zh/nn`` that none of them exercised (a new op needs a case here
or in the catalogue, or an entry with a reason in ``NOT_COMPARED``).

gradcheck (tests/test_gradcheck.py) checks the float64 gradients against central differences; this
file checks that the float32 path computes the same gradients to float32 precision, and in float32:

* the same inputs (rounded to float32) give float32 outputs close to the float64 ones;
* ``Σ out ⊙ v`` (one random v per output) is backpropagated in both precisions: every float32
  gradient is a float32 array (no silent float64 upcast, no float16 downcast) and agrees with the
  float64 gradient within float32 tolerance (every gradient array that a node's backward returns is
  float32 too, not only the leaves' accumulated ones): 2e-5 of max(1, largest gradient element)
  (absolute; v is unit normal, so 1 is the scale of the terms that may cancel) plus 2e-5 of each
  element (relative). A backward that rounds through float16 (5e-4) fails;
* integer outputs (the indices of ``max_pool2d(..., return_indices=True)``) are the same numbers;
* a case that changes precision on purpose (``x.double()``, ``mixed=True``) instead demands that every
  gradient a backward returns has the dtype of the input it belongs to.

A backward that loses precision in float32 (e.g. a cancellation, a wrong dtype for a constant) or
that upcasts shows here even when its float64 version is right.
"""
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings, strategies as st  # noqa: E402

import tinygrad_zh as tg  # noqa: E402
from tinygrad_zh import autograd, nn  # noqa: E402
from tinygrad_zh.nn import functional as F  # noqa: E402
from catalogue import ALL  # noqa: E402
from helpers import as_tensor, ids, random_input  # noqa: E402

pytestmark = pytest.mark.core

CASES = [c for c in ALL if c.grad]
# a few examples per op (80 ops): float32 vs float64 is about precision, not about input coverage
f32_settings = settings(max_examples=max(3, settings.default.max_examples // 8), deadline=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
RTOL = 2e-5                   # float32 rounds to 6e-8: ~300 roundings of slack; a float16 step (5e-4) fails
# ops whose float32 formula cancels as PyTorch's does (GELU: 1 + erf(x/√2) for x ≪ 0)
RTOL_OF = {"gelu": 1e-3}


def _list(x):
    """The outputs as a flat list (``nn.LSTM`` returns ``(out, (h, c))``)."""
    if isinstance(x, (tuple, list)):
        return [o for item in x for o in _list(item)]
    return [x]


def _run(case, arrays, kwargs, dtype):
    """Forward in ``dtype`` (float inputs cast, others untouched), backward of Σ out ⊙ v.

    Returns (outputs, leaves, what every backward returned: see ``_backward``)."""
    leaves = [as_tensor(a.astype(dtype) if a.dtype.kind == "f" else a, requires_grad=a.dtype.kind == "f")
              for a in arrays]
    outs = _list(case.tg(*leaves, **kwargs))
    return outs, leaves, _backward(outs)


def _backward(outs):
    """反向传播 Σ out ⊙ v（每个需要梯度的浮点输出一个 v，固定种子），记下每个节点 backward 返回的梯度。

    Returns ``[(Function class, gradient dtype, dtype of the input it belongs to), ...]``: through the
    engine's tracer hook, so it also tells which Function classes really ran backward."""
    rng = np.random.default_rng(7)
    loss = None
    for o in outs:
        if o.dtype.kind == "f" and o.requires_grad:
            v = rng.standard_normal(o.shape).astype(o.dtype)
            term = (o * as_tensor(v)).sum()
            loss = term if loss is None else loss + term
    seen = []
    if loss is not None:
        prev = autograd._tracer
        autograd._tracer = lambda fn, gouts, gin: seen.extend(
            (type(fn), g.dtype, p.dtype) for p, g in zip(fn.parents, gin)
            if g is not None and getattr(g, "dtype", None) is not None)
        try:
            loss.backward()
        finally:
            autograd._tracer = prev
    return seen


def compare_precisions(case, arrays, kwargs, rtol=None):
    rtol = rtol or RTOL_OF.get(case.name, RTOL)
    # the same numbers in both runs: float64 inputs rounded to float32 first, so only the op's own
    # float32 arithmetic differs (not the rounding of the inputs, which may underflow to 0)
    arrays = [a.astype(np.float32).astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    kwargs = {k: float(np.float32(v)) if isinstance(v, float) else v for k, v in kwargs.items()}
    outs64, leaves64, _ = _run(case, arrays, kwargs, np.float64)
    outs32, leaves32, seen32 = _run(case, arrays, kwargs, np.float32)
    return _check_float32_run(case.name, rtol, outs32, outs64, leaves32, leaves64, seen32)


def _check_float32_run(name, rtol, outs32, outs64, leaves32, leaves64, seen32, mixed=False):
    """The float32 run against the float64 run (same inputs); returns the Function classes that ran
    backward in float32. ``mixed``: the op switches precision on purpose (``x.double()``), so a
    gradient must have the dtype of its own input instead of float32."""
    if mixed:
        upcast = sorted({c.__name__ for c, dt, pdt in seen32 if dt.kind == "f" and dt != pdt})
        assert not upcast, (f"{name}: backward of {upcast} returned a gradient whose dtype is not its input's: "
                            f"{[(c.__name__, f'gradient {dt} for input {pdt}') for c, dt, pdt in seen32]}")
    else:
        upcast = sorted({c.__name__ for c, dt, _ in seen32 if dt.kind == "f" and dt != np.float32})
    assert not upcast, (f"{name}: float32 backward of {upcast} returned non-float32 gradients: "
                        f"{[(c.__name__, str(dt)) for c, dt, _ in seen32]}")
    for k, (o32, o64) in enumerate(zip(outs32, outs64)):
        if o64.dtype.kind != "f":            # indices (max_pool2d(..., return_indices=True)): the same numbers
            np.testing.assert_array_equal(o32.numpy(), o64.numpy(),
                                          err_msg=f"{name} output {k}: float32 inputs gave other {o64.dtype} values")
            continue
        assert o32.dtype == np.float32, f"{name} output {k}: float32 inputs gave {o32.dtype}"
        scale = max(1.0, float(np.max(np.abs(o64.numpy()), initial=0.0)))     # as tests/helpers.py
        np.testing.assert_allclose(o32.numpy(), o64.numpy(), rtol=rtol, atol=rtol * scale,
                                   err_msg=f"{name} output {k}: float32 value far from float64")
    for i, (l32, l64) in enumerate(zip(leaves32, leaves64)):
        if not l64.requires_grad:
            continue
        if l64.grad is None:
            assert l32.grad is None, f"{name}: input {i} has a float32 gradient but no float64 one"
            continue
        assert l32.grad is not None, f"{name}: input {i} lost its gradient in float32"
        g32, g64 = l32.grad.numpy(), l64.grad.numpy()
        assert g32.dtype == np.float32, f"{name}: the gradient of float32 input {i} is {g32.dtype}"
        assert g32.shape == g64.shape
        scale = max(1.0, float(np.max(np.abs(g64), initial=0.0)))   # at least the scale of v (unit normal)
        np.testing.assert_allclose(g32, g64, rtol=rtol, atol=rtol * scale,
                                   err_msg=f"{name}: float32 gradient of input {i} far from float64")
    return {c for c, dt, _ in seen32 if dt.kind == "f"}


# ---------------------------------------------------------------------------- ops outside the catalogue
@dataclass(frozen=True)
class Extra:
    """One differentiable op outside the catalogue, called through the public API.

    ``fn(*tensors)`` (``fn(module, *tensors)`` when ``module`` is given) runs the op; ``inputs`` holds
    one entry per tensor: a shape (a seeded random array in [-2, 2], away from 0), a function
    ``rng -> array`` or an array. Float inputs get ``requires_grad`` except those listed in ``const``
    (targets, running statistics); integer ones (indices, class labels) pass through untouched.
    ``module``: a factory of an ``nn.Module`` whose parameters are compared too (made under
    ``tg.manual_seed(0)``, then ``.double()`` for the float64 run: the same numbers in both).
    ``mixed``: the op changes precision on purpose (``x.double()``)."""
    name: str
    fn: Callable
    inputs: tuple
    const: tuple = ()
    module: Optional[Callable] = None
    mixed: bool = False
    rtol: float = RTOL

    def __repr__(self):
        return self.name


def _uniform(low, high, shape):
    """An input drawn from U(low, high): probabilities, variances, class weights."""
    return lambda rng: rng.uniform(low, high, size=shape)


def _draw_input(spec, rng):
    if callable(spec):
        return np.asarray(spec(rng))
    if isinstance(spec, tuple) and all(isinstance(n, int) for n in spec):
        return random_input(spec, rng)
    return np.asarray(spec)


def compare_extra(case):
    """Run ``case`` in float64 and in float32 on the same inputs, check as ``compare_precisions``.

    Returns the Function classes that ran backward in float32."""
    rng = np.random.default_rng(0)
    arrays = [_draw_input(spec, rng) for spec in case.inputs]
    arrays = [a.astype(np.float32).astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    runs = {}
    for dtype in (np.float64, np.float32):
        leaves = [as_tensor(a.astype(dtype) if a.dtype.kind == "f" else a,
                            requires_grad=a.dtype.kind == "f" and i not in case.const)
                  for i, a in enumerate(arrays)]
        args = leaves
        if case.module is not None:
            tg.manual_seed(0)
            m = case.module()
            if dtype == np.float64:
                m = m.double()
            args = [m] + leaves
            params = list(m.parameters())
            leaves = leaves + params
            if dtype == np.float32:       # the seed gave both modules the same numbers
                for k, (p32, p64) in enumerate(zip(params, runs[np.float64][1][len(arrays):])):
                    np.testing.assert_array_equal(p32.numpy(), p64.numpy(),
                                                  err_msg=f"{case.name}: parameter {k} differs between the runs")
        outs = _list(case.fn(*args))
        runs[dtype] = outs, leaves, _backward(outs)
    (outs64, leaves64, _), (outs32, leaves32, seen32) = runs[np.float64], runs[np.float32]
    return _check_float32_run(case.name, case.rtol, outs32, outs64, leaves32, leaves64, seen32, case.mixed)


def _setitem_slice(x, v):
    y = x * 1.0                       # x[key] = v on a leaf that requires grad is refused (as in PyTorch)
    y[0, 1:] = v
    return y


def _setitem_index(x, v):
    y = x * 1.0
    y[tg.tensor([2, 0])] = v
    return y


def _setitem_mask(x, v):
    y = x * 2.0
    y[x > 0] = v.sum()
    return y


IMG = (2, 3, 5, 5)                    # (N, C, H, W): small, odd sides (padding and ceil_mode matter)
def _write_through_view(x, w):
    """d2l 10.3's pattern: a recorded in-place write through a view of a non-leaf (CopySlices, ViewOfBase)."""
    y = x * 1.0
    v = y.reshape(-1, 2)
    v[1:3] = w.reshape(2, 2)
    return (v * 3.0).sum(0) + y.sum(1).sum()


EXTRA = [
    # elementwise functions without a catalogue entry
    Extra("sin", lambda x: x.sin(), [(3, 4)]),
    Extra("cos", lambda x: x.cos(), [(3, 4)]),
    Extra("logsigmoid", lambda x: F.logsigmoid(x * 3.0), [(3, 4)]),
    Extra("in_place_on_view", _write_through_view, [(3, 4), (4,)]),
    Extra("pad", lambda x: F.pad(x, (2, 1)) + F.pad(x, (2, 1), mode="reflect"), [(3, 4)]),
    # losses added with the PyTorch-compatibility work
    Extra("huber_loss", lambda x, y: F.huber_loss(x, y, reduction="none", delta=0.7), [(3, 4), (3, 4)]),
    Extra("smooth_l1_loss", lambda x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=0.5), [(3, 4), (3, 4)]),
    Extra("kl_div", lambda x, t: F.kl_div(x.log_softmax(1), t.softmax(1), reduction="batchmean"),
          [(3, 4), (3, 4)]),
    Extra("softplus", lambda x: F.softplus(x, beta=2.0, threshold=3.0), [(3, 4)]),
    Extra("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.5), [(3, 4)]),
    Extra("relu6", lambda x: nn.ReLU6()(x * 4.0), [(3, 4)]),
    # step functions: zero gradient, but a float32 zero
    Extra("sign", lambda x: x.sign() * x, [(3, 4)]),
    Extra("floor", lambda x: x.floor(), [(3, 4)]),
    Extra("ceil", lambda x: x.ceil(), [(3, 4)]),
    Extra("trunc", lambda x: x.trunc(), [(3, 4)]),
    Extra("round", lambda x: x.round(), [(3, 4)]),
    # dtype casts: float32 -> float64 -> float32 (a no-op in the float64 run); each gradient must come
    # back in the dtype of its own input
    Extra("double", lambda x: x.double().sin().to(x.dtype), [(3, 4)], mixed=True),
    Extra("mixed_dtypes", lambda x, y: (x * y.to(tg.float64)).type(x.dtype), [(3, 4), (4,)], mixed=True),
    # reductions
    Extra("norm", lambda x: x.norm(), [(3, 4)]),
    Extra("norm_dim", lambda x: x.norm(dim=1, keepdim=True), [(3, 4)]),
    Extra("median", lambda x: x.median() * x.median(1).values + x.kthvalue(2, 0).values.sum(), [(3, 4)]),
    # indexing
    Extra("gather", lambda x, i: x.gather(1, i), [(3, 4), np.array([[0, 0, 3], [1, 2, 1], [3, 3, 3]])]),
    Extra("scatter_add", lambda x, i, s: x.scatter_add(0, i, s),
          [(3, 4), np.array([[0, 2, 2, 1], [0, 0, 1, 1]]), (2, 4)]),
    Extra("setitem_slice", _setitem_slice, [(3, 4), (3,)]),
    Extra("setitem_index", _setitem_index, [(3, 4), (2, 4)]),
    Extra("setitem_mask", _setitem_mask, [(3, 4), (2,)]),
    # convolution and pooling
    Extra("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [IMG, (4, 3, 3, 3), (4,)]),
    Extra("conv2d_chain", lambda x, w1, w2: F.conv2d(F.conv2d(x, w1, padding=1), w2),      # NHWC 2nd input
          [IMG, (4, 3, 3, 3), (2, 4, 2, 2)]),
    Extra("conv2d_groups", lambda x, w, b: F.conv2d(x, w, b, dilation=2, groups=2),
          [(2, 4, 5, 5), (6, 2, 2, 2), (6,)]),
    Extra("conv2d_same", lambda x, w: F.conv2d(x, w, padding="same"), [IMG, (2, 3, 2, 2)]),
    Extra("conv2d_module", lambda m, x: m(x), [IMG], module=lambda: nn.Conv2d(3, 2, 3, padding=1)),
    Extra("conv_transpose2d", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
          [IMG, (3, 2, 3, 3), (2,)]),
    Extra("max_pool2d", lambda x: F.max_pool2d(x, 2), [IMG]),
    Extra("max_pool2d_indices", lambda x: F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True), [IMG]),
    Extra("avg_pool2d", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True,
                                               count_include_pad=False), [IMG]),
    Extra("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [IMG]),
    Extra("adaptive_max_pool2d", lambda x: F.adaptive_max_pool2d(x, (2, 3), return_indices=True), [IMG]),
    # normalisation
    Extra("layer_norm", lambda x, w, b: F.layer_norm(x, (3, 4), w, b), [(2, 3, 4), (3, 4), (3, 4)]),
    Extra("layer_norm_plain", lambda x: F.layer_norm(x, 4), [(2, 3, 4)]),
    Extra("batch_norm_train", lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b, training=True),
          [(4, 3, 2, 2), (3,), _uniform(0.5, 2.0, 3), (3,), (3,)], const=(1, 2)),
    Extra("batch_norm_eval", lambda x, rm, rv, w, b: F.batch_norm(x, rm, rv, w, b),
          [(4, 3, 2, 2), (3,), _uniform(0.5, 2.0, 3), (3,), (3,)], const=(1, 2)),
    Extra("batch_norm1d_module", lambda m, x: m(x), [(5, 3)], module=lambda: nn.BatchNorm1d(3)),
    # losses (each input and, where PyTorch has one, each target's gradient)
    Extra("mse_loss", lambda x, t: F.mse_loss(x, t), [(3, 4), (3, 4)]),
    Extra("mse_loss_none", lambda x, t: F.mse_loss(x, t, reduction="none"), [(3, 4), (3, 4)]),
    Extra("l1_loss", lambda x, t: F.l1_loss(x, t, reduction="sum"), [(3, 4), (3, 4)]),
    Extra("nll_loss", lambda x, t, w: F.nll_loss(F.log_softmax(x, 1), t, weight=w, ignore_index=1),
          [(4, 3), np.array([0, 2, 1, 2]), _uniform(0.5, 2.0, 3)], const=(2,)),
    Extra("cross_entropy_mean", lambda x, t: F.cross_entropy(x, t, ignore_index=1),
          [(4, 3), np.array([0, 2, 1, 2])]),
    Extra("cross_entropy_spatial", lambda x, t: F.cross_entropy(x, t), [(2, 3, 4), np.array([[0, 2, 1, 2]] * 2)]),
    Extra("cross_entropy_weighted", lambda x, t, w: F.cross_entropy(x, t, weight=w, reduction="sum"),
          [(4, 3), np.array([0, 2, 1, 2]), _uniform(0.5, 2.0, 3)], const=(2,)),
    Extra("cross_entropy_smoothing", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
          [(4, 3), np.array([0, 2, 1, 2])]),
    Extra("cross_entropy_probs", lambda x, p: F.cross_entropy(x, p.softmax(1)), [(4, 3), (4, 3)]),
    Extra("bce", lambda p, t, w: F.binary_cross_entropy(p, t, weight=w),
          [_uniform(0.05, 0.95, (3, 4)), _uniform(0.05, 0.95, (3, 4)), (4,)], const=(2,)),
    Extra("bce_with_logits", lambda x, t, pw: F.binary_cross_entropy_with_logits(x, t, pos_weight=pw),
          [(3, 4), _uniform(0.05, 0.95, (3, 4)), _uniform(0.5, 3.0, 4)], const=(2,)),
    Extra("bce_with_logits_none", lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
          [(3, 4), _uniform(0.05, 0.95, (3, 4))]),
    # the fused recurrent layers: a few steps, two layers / both directions, given initial states
    Extra("rnn", lambda m, x, h: m(x, h), [(4, 2, 3), (2, 2, 4)], module=lambda: nn.RNN(3, 4, num_layers=2)),
    Extra("rnn_relu_bidirectional", lambda m, x: m(x), [(2, 4, 3)],
          module=lambda: nn.RNN(3, 4, nonlinearity="relu", bidirectional=True, batch_first=True)),
    Extra("lstm", lambda m, x, h, c: m(x, (h, c)), [(4, 2, 3), (2, 2, 4), (2, 2, 4)],
          module=lambda: nn.LSTM(3, 4, num_layers=2)),
    Extra("lstm_bidirectional", lambda m, x: m(x), [(2, 4, 3)],
          module=lambda: nn.LSTM(3, 4, bidirectional=True, batch_first=True)),
    Extra("gru", lambda m, x, h: m(x, h), [(4, 2, 3), (2, 2, 4)], module=lambda: nn.GRU(3, 4, num_layers=2)),
    Extra("gru_bidirectional", lambda m, x: m(x), [(2, 4, 3)],
          module=lambda: nn.GRU(3, 4, bidirectional=True, batch_first=True)),
    Extra("lstm_cell", lambda m, x, h, c: m(x, (h, c)), [(2, 3), (2, 4), (2, 4)], module=lambda: nn.LSTMCell(3, 4)),
    Extra("rnn_cell", lambda m, x, h: m(x, h), [(2, 3), (2, 4)], module=lambda: nn.RNNCell(3, 4)),
    Extra("gru_cell", lambda m, x, h: m(x, h), [(2, 3), (2, 4)], module=lambda: nn.GRUCell(3, 4)),
    Extra("interpolate", lambda x: (F.interpolate(x, size=(7, 3), mode="bilinear"),
                                    F.interpolate(x, scale_factor=1.5)), [IMG]),
]
if tg.cuda.is_available():            # CPU -> CUDA -> CPU: the gradient is copied back, still float32
    EXTRA.append(Extra("to_device", lambda x: x.to("cuda").sin().to("cpu"), [(3, 4)]))

# differentiable Function classes that no case above (nor the catalogue) can run, and why
NOT_COMPARED = {
    "StaleView": "a guard node whose backward always raises (a view used after its base was changed through "
                 "another view; tests/test_inplace.py)",
    "FloorDivide": "a // b has no derivative in PyTorch: its backward raises, as ours does "
                   "(tests/test_ops_extra.py); div(rounding_mode=...) is the catalogue's DivRounding",
    "ToDevice": "copies between CPU and CUDA: on a machine without CUDA .to('cpu') makes no node "
                "(EXTRA's to_device case runs it where CUDA is available)",
    "_GradSync": "the identity node of DistributedDataParallel (backward returns g itself); it needs an "
                 "MPI process group (tests/test_distributed.py)",
}


@pytest.mark.parametrize("case", EXTRA, ids=ids(EXTRA))
def test_float32_gradient_matches_float64_outside_the_catalogue(case):
    compare_extra(case)


# ---------------------------------------------------------------------------- coverage
def differentiable_functions():
    """Every Function subclass defined in tinygrad_zh.ops.* and tinygrad_zh.nn.* that has a backward
    (abstract bases such as ``_Binary`` and ``differentiable = False`` classes such as ``ArgMax`` do not)."""
    import tinygrad_zh.nn
    import tinygrad_zh.ops
    found = set()
    for pkg in (tinygrad_zh.ops, tinygrad_zh.nn):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if (inspect.isclass(obj) and issubclass(obj, autograd.Function)
                        and obj.__module__ == module.__name__ and obj.differentiable
                        and obj.backward is not autograd.Function.backward):
                    found.add(obj)
    return found


def _catalogue_functions():
    """Each catalogue case once (one derandomized Hypothesis example): the Function classes it runs."""
    seen = set()
    for case in CASES:
        @settings(max_examples=1, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(data=st.data())
        def run(data):
            arrays, kwargs = case.draw(data)
            seen.update(compare_precisions(case, arrays, kwargs))
        run()
    return seen


def _suggestion(cls):
    doc = (inspect.getdoc(cls) or "").split("\n")[0]
    return (f"  {cls.__module__}.{cls.__name__}" + (f"  ({doc})" if doc else "") + "\n"
            f"      add to EXTRA in tests/test_float32_vs_float64.py a case through the public API that "
            f"runs it, e.g.\n        Extra(\"{cls.__name__.lower()}\", lambda x: <public call>, [(3, 4)]),\n"
            f"      (or a catalogue entry in tests/catalogue.py, or NOT_COMPARED[\"{cls.__name__}\"] = "
            f"\"<why it cannot be compared>\")")


def test_every_differentiable_function_is_compared():
    functions = differentiable_functions()
    assert len(functions) > 40, f"the discovery found only {sorted(c.__name__ for c in functions)}"
    seen = _catalogue_functions()
    for case in EXTRA:
        seen |= compare_extra(case)
    missing = sorted((c for c in functions - seen if c.__name__ not in NOT_COMPARED),
                     key=lambda c: (c.__module__, c.__name__))
    assert not missing, (
        f"{len(missing)} differentiable Function class(es) never ran backward in the float32-vs-float64 "
        f"comparison:\n" + "\n".join(_suggestion(c) for c in missing))
    stale = sorted(set(NOT_COMPARED) - {c.__name__ for c in functions})
    assert not stale, f"NOT_COMPARED lists {stale}, which are not differentiable Function classes any more"


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
@f32_settings
@given(data=st.data())
def test_float32_gradient_matches_float64(case, data):
    arrays, kwargs = case.draw(data)
    compare_precisions(case, arrays, kwargs)


def test_the_comparison_catches_a_float32_gradient_that_loses_precision(monkeypatch):
    """The check itself: a backward that rounds its float32 result to float16 precision fails."""
    from tinygrad_zh.ops import elementwise as E
    case = next(c for c in ALL if c.name == "tanh")
    x = np.linspace(-2.0, 2.0, 101)
    compare_precisions(case, [x], {})
    real = E.Tanh.backward

    def lossy(self, g):
        out = real(self, g)
        return out.astype(np.float16).astype(out.dtype) if out.dtype == np.float32 else out
    monkeypatch.setattr(E.Tanh, "backward", lossy)
    with pytest.raises(AssertionError, match="tanh: float32 gradient of input 0 far from float64"):
        compare_precisions(case, [x], {})


def test_the_comparison_catches_a_float64_gradient_for_float32_inputs(monkeypatch):
    from tinygrad_zh.ops import elementwise as E
    case = next(c for c in ALL if c.name == "exp")
    real = E.Exp.backward
    monkeypatch.setattr(E.Exp, "backward", lambda self, g: real(self, g).astype(np.float64))
    with pytest.raises(AssertionError, match=r"exp: float32 backward of \['Exp'\] returned non-float32"):
        compare_precisions(case, [np.linspace(-1.0, 1.0, 5)], {})
    assert tg.tensor([1.0]).dtype == np.float32

"""Float32 gradients of every catalogue op (tests/catalogue.py), compared with float64.

gradcheck (tests/test_gradcheck.py) checks the float64 gradients against central differences; this
file checks that the float32 path computes the same gradients to float32 precision, and in float32:

* the same inputs (rounded to float32) give float32 outputs close to the float64 ones;
* ``Σ out ⊙ v`` (one random v per output) is backpropagated in both precisions: every float32
  gradient is a float32 array (no silent float64 upcast, no float16 downcast) and agrees with the
  float64 gradient within float32 tolerance (every gradient array that a node's backward returns is
  float32 too, not only the leaves' accumulated ones): 2e-5 of max(1, largest gradient element)
  (absolute; v is unit normal, so 1 is the scale of the terms that may cancel) plus 2e-5 of each
  element (relative). A backward that rounds through float16 (5e-4) fails.

A backward that loses precision in float32 (e.g. a cancellation, a wrong dtype for a constant) or
that upcasts shows here even when its float64 version is right.
"""
import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

import tinygrad_zh as tg  # noqa: E402
from tinygrad_zh import autograd  # noqa: E402
from catalogue import ALL  # noqa: E402
from helpers import as_tensor, ids  # noqa: E402

pytestmark = pytest.mark.core

CASES = [c for c in ALL if c.grad]
# a few examples per op (80 ops): float32 vs float64 is about precision, not about input coverage
f32_settings = settings(max_examples=max(3, settings.default.max_examples // 8), deadline=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
RTOL = 2e-5                   # float32 rounds to 6e-8: ~300 roundings of slack; a float16 step (5e-4) fails
# ops whose float32 formula cancels as PyTorch's does (GELU: 1 + erf(x/√2) for x ≪ 0)
RTOL_OF = {"gelu": 1e-3}


def _list(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def _run(case, arrays, kwargs, dtype):
    """Forward in ``dtype`` (float inputs cast, others untouched), backward of Σ out ⊙ v.

    Returns (outputs, leaves, dtypes of every gradient array a backward returned)."""
    leaves = [as_tensor(a.astype(dtype) if a.dtype.kind == "f" else a, requires_grad=a.dtype.kind == "f")
              for a in arrays]
    outs = _list(case.tg(*leaves, **kwargs))
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
            (type(fn).__name__, g.dtype) for g in gin if g is not None and getattr(g, "dtype", None) is not None)
        try:
            loss.backward()
        finally:
            autograd._tracer = prev
    return outs, leaves, seen


def compare_precisions(case, arrays, kwargs, rtol=None):
    rtol = rtol or RTOL_OF.get(case.name, RTOL)
    # the same numbers in both runs: float64 inputs rounded to float32 first, so only the op's own
    # float32 arithmetic differs (not the rounding of the inputs, which may underflow to 0)
    arrays = [a.astype(np.float32).astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    kwargs = {k: float(np.float32(v)) if isinstance(v, float) else v for k, v in kwargs.items()}
    outs64, leaves64, _ = _run(case, arrays, kwargs, np.float64)
    outs32, leaves32, seen32 = _run(case, arrays, kwargs, np.float32)
    upcast = sorted({name for name, dt in seen32 if dt.kind == "f" and dt != np.float32})
    assert not upcast, f"{case.name}: float32 backward of {upcast} returned non-float32 gradients: {seen32}"
    for k, (o32, o64) in enumerate(zip(outs32, outs64)):
        if o64.dtype.kind != "f":
            continue
        assert o32.dtype == np.float32, f"{case.name} output {k}: float32 inputs gave {o32.dtype}"
        scale = max(1.0, float(np.max(np.abs(o64.numpy()), initial=0.0)))     # as tests/helpers.py
        np.testing.assert_allclose(o32.numpy(), o64.numpy(), rtol=rtol, atol=rtol * scale,
                                   err_msg=f"{case.name} output {k}: float32 value far from float64")
    for i, (l32, l64) in enumerate(zip(leaves32, leaves64)):
        if not l64.requires_grad:
            continue
        if l64.grad is None:
            assert l32.grad is None, f"{case.name}: input {i} has a float32 gradient but no float64 one"
            continue
        assert l32.grad is not None, f"{case.name}: input {i} lost its gradient in float32"
        g32, g64 = l32.grad.numpy(), l64.grad.numpy()
        assert g32.dtype == np.float32, f"{case.name}: the gradient of float32 input {i} is {g32.dtype}"
        assert g32.shape == g64.shape
        scale = max(1.0, float(np.max(np.abs(g64), initial=0.0)))   # at least the scale of v (unit normal)
        np.testing.assert_allclose(g32, g64, rtol=rtol, atol=rtol * scale,
                                   err_msg=f"{case.name}: float32 gradient of input {i} far from float64")


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

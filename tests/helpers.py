"""One helper checks one op: ``check_op(tg_fn, np_fn, inputs)``.

It runs the tinygrad_zh function and its NumPy reference on the same inputs and checks, in this
order, with messages that say which op, which output and what was expected:

1. the result is a Tensor (or a tuple of them) of the reference's **shape** and **dtype**;
2. the **values** match the reference;
3. float32 inputs give float32 outputs close to the float64 ones (no silent upcast);
4. the **gradients** pass ``tg.gradcheck`` in float64 (central differences).

``inputs`` may mix arrays and shapes (a shape becomes a seeded random float64 array kept away
from 0), so a case is one line::

    check_op(lambda a, b: a @ b, np.matmul, [(2, 3), (3, 4)])

``Case`` + ``check_case`` let a catalogue (tests/catalogue.py) list every op once and drive the
NumPy tests, the gradient tests and the PyTorch comparison from that single list.
"""
import functools
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

import tinygrad_zh as tg


def as_tensor(a, requires_grad=False):
    """Wrap an array keeping its dtype (``tg.Tensor`` alone would turn float64 into float32)."""
    a = np.asarray(a)
    return tg.Tensor(a, dtype=a.dtype, requires_grad=requires_grad and a.dtype.kind == "f")


def random_input(shape, rng, low=-2.0, high=2.0, margin=0.1):
    """A float64 array of ``shape``, uniform in [low, high], at least ``margin`` away from 0."""
    x = rng.uniform(low, high, size=shape)
    x = np.where(np.abs(x) < margin, np.copysign(margin, x) + x, x)
    return np.asarray(x, np.float64)


def _materialise(inputs, rng):
    out = []
    for x in inputs:
        if isinstance(x, tuple) and all(isinstance(n, (int, np.integer)) for n in x):
            out.append(random_input(x, rng))
        else:
            out.append(np.asarray(x) if not isinstance(x, np.ndarray) else x)
    return out


def _outputs(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def assert_matches(out, expected, atol=1e-7, rtol=1e-6, name="op", check_dtype=True):
    """``out`` (Tensor or tuple of Tensors) has the shape, dtype and values of ``expected``."""
    outs, exps = _outputs(out), _outputs(expected)
    assert len(outs) == len(exps), f"{name}: expected {len(exps)} outputs, got {len(outs)}"
    for k, (o, e) in enumerate(zip(outs, exps)):
        e = np.asarray(e)
        where = f"{name} output {k}" if len(outs) > 1 else name
        assert isinstance(o, tg.Tensor), f"{where}: expected a tg.Tensor, got {type(o).__name__}"
        assert isinstance(o.array, np.ndarray), \
            f"{where}: .data should be a numpy.ndarray, got {type(o.array).__name__}"
        assert o.shape == e.shape, f"{where}: shape {o.shape}, NumPy gives {e.shape}"
        if check_dtype:
            assert o.dtype == e.dtype, f"{where}: dtype {o.dtype}, NumPy gives {e.dtype}"
        got = o.numpy()
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(got, e, atol=atol, rtol=rtol, err_msg=f"{where}: values differ")
        else:
            np.testing.assert_array_equal(got, e, err_msg=f"{where}: values differ")


def check_op(tg_fn, np_fn, inputs, *, name=None, kwargs=None, atol=1e-7, rtol=1e-6, grad=True,
             float32=True, check=None, skip_kinks=False, gradcheck_kwargs=None, check_dtype=True,
             rng=None):
    """Check one op against NumPy: shape, dtype, values, float32 policy and float64 gradients.

    Args:
        tg_fn(*tensors, **kwargs) / np_fn(*arrays, **kwargs): the op and its NumPy reference.
        inputs: arrays (any dtype; integer/bool ones are passed through untouched) or shapes.
        grad: run ``tg.gradcheck`` (float inputs only, or those listed in ``check``).
        float32: also run on float32 copies and demand float32 outputs.
        skip_kinks: forwarded to gradcheck (for ops with ties or kinks the strategy cannot avoid).
    Returns the output of ``tg_fn`` (float64 run).
    """
    name = name or getattr(tg_fn, "__name__", "op")
    kwargs = kwargs or {}
    rng = rng if rng is not None else np.random.default_rng(0)
    arrays = _materialise(inputs, rng)
    f = functools.partial(tg_fn, **kwargs) if kwargs else tg_fn
    g = functools.partial(np_fn, **kwargs) if kwargs else np_fn

    originals = [a.copy() for a in arrays]
    tensors = [as_tensor(a) for a in arrays]
    out = f(*tensors)
    with np.errstate(all="ignore"):
        expected = g(*originals)
    assert_matches(out, expected, atol, rtol, name, check_dtype)
    for t, a in zip(tensors, originals):       # the op must not write into its inputs
        np.testing.assert_array_equal(t.array, a, err_msg=f"{name}: modified its input in place")

    if float32 and any(a.dtype == np.float64 for a in arrays):
        t32 = [as_tensor(a.astype(np.float32) if a.dtype == np.float64 else a) for a in arrays]
        out32 = f(*t32)
        for k, (o32, o64) in enumerate(zip(_outputs(out32), _outputs(out))):
            if o64.dtype.kind == "f":
                assert o32.dtype == np.float32, \
                    f"{name} output {k}: float32 inputs gave {o32.dtype} (silent upcast?)"
                scale = max(1.0, float(np.max(np.abs(o64.numpy()), initial=0.0)))
                np.testing.assert_allclose(o32.numpy(), o64.numpy(), rtol=1e-4, atol=1e-4 * scale,
                                           err_msg=f"{name}: float32 result far from float64")
            else:
                assert o32.dtype == o64.dtype, f"{name} output {k}: dtype changed with float32 inputs"

    if grad and any(a.dtype.kind == "f" for a in arrays):
        assert tg.gradcheck(f, [as_tensor(a) for a in arrays], check=check, skip_kinks=skip_kinks,
                            **(gradcheck_kwargs or {}))
    return out


# ---------------------------------------------------------------------------- catalogue entries
@dataclass(frozen=True)
class Case:
    """One op in a catalogue.

    ``draw(data) -> (arrays, kwargs)`` draws inputs with Hypothesis; ``tg``/``np``/``torch`` take
    ``(*inputs, **kwargs)``.  ``torch=None`` means "no PyTorch counterpart to compare with"."""
    name: str
    tg: Callable
    np: Callable
    draw: Callable
    torch: Optional[Callable] = None
    grad: bool = True
    float32: bool = True
    skip_kinks: bool = False
    atol: float = 1e-7
    rtol: float = 1e-6
    check_dtype: bool = True
    extra: dict = field(default_factory=dict)

    def __repr__(self):
        return self.name


def check_case(case, data):
    """Draw inputs for ``case`` and run :func:`check_op` on them."""
    arrays, kwargs = case.draw(data)
    return check_op(case.tg, case.np, arrays, name=case.name, kwargs=kwargs, atol=case.atol,
                    rtol=case.rtol, grad=case.grad, float32=case.float32, skip_kinks=case.skip_kinks,
                    check_dtype=case.check_dtype)


def ids(cases):
    return [c.name for c in cases]

"""Elementwise ops: every catalogue entry against NumPy + gradcheck, then the corner cases
(non-differentiable points, extreme inputs, comparisons)."""
import operator

import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import tinygrad_zh as tg  # noqa: E402
from catalogue import ELEMENTWISE, catalogue_settings  # noqa: E402
from helpers import as_tensor, check_case, check_op, ids  # noqa: E402
from tinygrad_zh.testing import strategies as S  # noqa: E402

pytestmark = pytest.mark.core


@pytest.mark.parametrize("case", ELEMENTWISE, ids=ids(ELEMENTWISE))
@catalogue_settings
@given(data=st.data())
def test_elementwise_matches_numpy_and_gradcheck(case, data):
    check_case(case, data)


# one line per case: fixed shapes, a broadcasting pair, and both 0-d and size-1 dims
@pytest.mark.parametrize("shapes", [[(), ()], [(3,), ()], [(), (2, 3)], [(2, 1), (1, 3)], [(4, 1, 2), (3, 1)]])
def test_binary_broadcasting_table(shapes):
    check_op(lambda a, b: a * b + a / (b.abs() + 1) - b, lambda a, b: a * b + a / (np.abs(b) + 1) - b, shapes)


@given(S.tensors(dtype="float32", max_dims=3), S.scalars())
def test_python_scalars_keep_float32_on_either_side(x, s):
    for out in (x + s, s + x, x - s, s - x, x * s, s * x, x / (s or 1.0), x ** 2, x.abs() ** 0.5,
                abs(s) ** x, x.maximum(s), x.clamp(s, None)):
        assert out.dtype == np.float32, f"a Python scalar changed the dtype to {out.dtype}"


def test_relu_and_abs_gradient_at_zero_is_zero():
    """Like PyTorch: the subgradient chosen at the kink is 0."""
    x = tg.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])
    x.grad = None
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 1.0])


def test_pow_zero_exponent_has_zero_gradient_everywhere():
    x = tg.tensor([0.0, 1.5, -2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_maximum_minimum_tie_gradient_is_not_lost():
    """At a tie the gradient goes to one side; it must neither vanish nor double."""
    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tg.tensor([1.0, 5.0, 0.0], requires_grad=True)
    (tg.maximum(a, b) + tg.minimum(a, b)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy() + b.grad.numpy(), [2.0, 2.0, 2.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_tanh_exp_extreme_inputs(dtype):
    x = tg.tensor([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=dtype, requires_grad=True)
    s = x.sigmoid()
    np.testing.assert_allclose(s.numpy(), [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-30)
    (s.sum() + x.tanh().sum()).backward()
    assert np.all(np.isfinite(x.grad.numpy())), "sigmoid/tanh gradients must stay finite"
    assert x.grad.dtype == np.dtype(dtype)


def test_gelu_known_values():
    x = tg.tensor([-3.0, -1.0, 0.0, 1.0, 3.0], dtype="float64")
    # x·Φ(x) with Φ(1) = 0.8413447460685429, Φ(3) = 0.9986501019683699 (standard normal table)
    np.testing.assert_allclose(x.gelu().numpy(), [-3 * (1 - 0.9986501019683699), -(1 - 0.8413447460685429),
                                                  0.0, 0.8413447460685429, 3 * 0.9986501019683699], rtol=1e-12)


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp"):
        tg.tensor([1.0]).clamp()


def test_where_with_a_python_scalar_keeps_dtype_and_grad():
    x = tg.tensor([-1.0, 2.0, -3.0], requires_grad=True)
    y = tg.where(x > 0, x, 0.0)
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])


def test_where_needs_a_bool_condition():
    with pytest.raises(TypeError, match="bool"):
        tg.where(tg.tensor([1.0, 0.0]), tg.tensor([1.0, 2.0]), 0.0)


COMPARISONS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda f: f.__name__)
@given(pair=S.broadcastable_shapes(max_dims=3, max_side=3).flatmap(
    lambda s: st.tuples(S.arrays(s[0], grid_step=0.5), S.arrays(s[1], grid_step=0.5))))
def test_comparisons_return_bool_without_grad(op, pair):
    a, b = pair                          # coarse grid: equal values do occur
    x, y = as_tensor(a, requires_grad=True), as_tensor(b)
    for out, ref in ((op(x, y), op(a, b)), (op(x, 0.25), op(a, 0.25)), (op(0.25, x), op(0.25, a))):
        assert out.dtype == np.bool_
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), ref)


def test_logical_ops_on_bool_tensors():
    a, b = tg.tensor([True, False, True]), tg.tensor([True, True, False])
    np.testing.assert_array_equal((a & b).numpy(), [True, False, False])
    np.testing.assert_array_equal((a | b).numpy(), [True, True, True])
    np.testing.assert_array_equal((~a).numpy(), [False, True, False])


def test_broadcast_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        tg.ones(2, 3) + tg.ones(4)

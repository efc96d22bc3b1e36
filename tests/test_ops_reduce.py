"""Reductions: sum mean max min amax amin logsumexp var std argmax argmin, with dim as int, tuple,
negative or None and with keepdim; max(dim) returns (values, indices)."""
import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import tinygrad_zh as tg  # noqa: E402
from catalogue import REDUCE, catalogue_settings  # noqa: E402
from helpers import check_case, check_op, ids  # noqa: E402

pytestmark = pytest.mark.core


@pytest.mark.parametrize("case", REDUCE, ids=ids(REDUCE))
@catalogue_settings
@given(data=st.data())
def test_reduction_matches_numpy_and_gradcheck(case, data):
    check_case(case, data)


# one line per case: the dim spellings, on a fixed (2, 3, 4) input
@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (-1, True), ((0, 2), False),
                                         ((-1, 0), True), ((1,), False), ((0, 1, 2), True)])
def test_sum_and_mean_dim_spellings(dim, keepdim):
    check_op(lambda x: x.sum(dim, keepdim) + x.mean(dim, keepdim=keepdim),
             lambda a: a.sum(axis=dim, keepdims=keepdim) + a.mean(axis=dim, keepdims=keepdim), [(2, 3, 4)])


def test_max_dim_returns_values_and_indices():
    x = tg.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 0.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert indices.dtype == np.int64 and not indices.requires_grad
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    v, i = x.min(0, keepdim=True)
    assert v.shape == (1, 3) and i.shape == (1, 3)
    np.testing.assert_array_equal(i.numpy(), [[0, 1, 1]])


def test_global_max_with_ties_splits_the_gradient():
    """max() over ties: each tied element gets an equal share (sum stays 1), like torch.amax."""
    x = tg.tensor([1.0, 3.0, 3.0, -2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])


def test_max_dim_with_ties_sends_gradient_to_the_returned_index():
    x = tg.tensor([[2.0, 2.0, 1.0]], requires_grad=True)
    values, indices = x.max(1)
    values.sum().backward()
    expected = np.zeros((1, 3))
    expected[0, int(indices.item())] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_argmax_is_not_differentiable():
    x = tg.tensor([[0.5, 2.0], [3.0, -1.0]], requires_grad=True)
    for out in (x.argmax(), x.argmax(1), x.argmin(dim=0, keepdim=True)):
        assert out.dtype == np.int64 and not out.requires_grad and out.grad_fn is None
    assert x.argmax().item() == 2 and x.argmax(-1).tolist() == [1, 0]


def test_var_std_conventions():
    x = tg.tensor([1.0, 2.0, 3.0, 4.0], dtype="float64")
    assert x.var().item() == pytest.approx(np.var([1, 2, 3, 4], ddof=1))          # unbiased default
    assert x.var(unbiased=False).item() == pytest.approx(1.25)
    assert x.std().item() == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert np.isnan(tg.tensor([3.0]).var().item())                                 # n - 1 = 0


@pytest.mark.parametrize("scale", [1.0, 1e4, 1e30])
def test_logsumexp_is_stable(scale):
    x = tg.tensor([[1.0, -2.0, 0.5]]) * scale
    x.requires_grad_()
    out = x.logsumexp(1)
    expected = scale + np.log1p(np.exp(-3.0 * scale) + np.exp(-0.5 * scale))   # max + log Σ e^(x - max)
    assert np.isfinite(out.item()) and out.item() == pytest.approx(expected, rel=1e-6)
    out.backward()
    assert np.all(np.isfinite(x.grad.numpy())) and x.grad.numpy().sum() == pytest.approx(1.0)


def test_bad_dims_are_reported():
    x = tg.ones(2, 3)
    with pytest.raises(IndexError, match="dim 2"):
        x.sum(2)
    with pytest.raises(IndexError, match="dim -3"):
        x.max(-3)
    with pytest.raises(RuntimeError, match="mean"):   # PyTorch raises RuntimeError here
        tg.tensor([1, 2, 3]).mean()

"""softmax / log_softmax (and the fused softmax cross-entropy): values, gradients, stability."""
import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import tinygrad_zh as tg  # noqa: E402
from catalogue import SOFTMAX, catalogue_settings  # noqa: E402
from helpers import check_case, ids  # noqa: E402
from tinygrad_zh.ops.softmax import SoftmaxCrossEntropy  # noqa: E402
from tinygrad_zh.testing import strategies as S  # noqa: E402

pytestmark = pytest.mark.core


@pytest.mark.parametrize("case", SOFTMAX, ids=ids(SOFTMAX))
@catalogue_settings
@given(data=st.data())
def test_softmax_matches_numpy_and_gradcheck(case, data):
    check_case(case, data)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("big", [1e4, 1e30])
def test_huge_logits_give_no_inf_or_nan(dtype, big):
    x = tg.tensor([[big, 0.0, -big], [big, big, 0.0]], dtype=dtype, requires_grad=True)
    s, ls = x.softmax(-1), x.log_softmax(-1)
    for t in (s, ls):
        assert t.dtype == np.dtype(dtype)
        assert not np.any(np.isnan(t.numpy()))
    np.testing.assert_allclose(s.numpy(), [[1, 0, 0], [0.5, 0.5, 0]], atol=1e-12)
    np.testing.assert_allclose(ls.numpy()[:, :2], [[0.0, -big], [-np.log(2), -np.log(2)]], rtol=1e-6)
    assert np.isfinite(ls.numpy()[0, 0]) and np.isfinite(ls.numpy()[1, 1])
    (s * tg.tensor([1.0, 2.0, 3.0], dtype=dtype)).sum().backward()
    ls[:, 0].sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


@given(S.tensors(min_dims=1, max_dims=3, max_side=4), st.data())
def test_softmax_properties(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    s = x.softmax(dim).numpy()
    assert np.all(s > 0)
    np.testing.assert_allclose(s.sum(axis=dim), 1.0, rtol=1e-12)
    np.testing.assert_allclose(x.log_softmax(dim).exp().numpy(), s, rtol=1e-12)
    # shifting the logits changes nothing; the gradient of any loss sums to 0 along dim
    np.testing.assert_allclose((x + 123.0).softmax(dim).numpy(), s, rtol=1e-9)
    x.requires_grad_()
    (x.softmax(dim) * tg.tensor(np.arange(x.array.size).reshape(x.shape), dtype="float64")).sum().backward()
    np.testing.assert_allclose(x.grad.numpy().sum(axis=dim), 0.0, atol=1e-12)


def test_fused_cross_entropy_is_log_softmax_nll():
    logits = tg.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0]], dtype="float64", requires_grad=True)
    target = tg.tensor([0, 2])
    loss = SoftmaxCrossEntropy.apply(logits, target)
    ref = -(logits.log_softmax(1)[[0, 1], [0, 2]]).mean()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
    loss.backward()
    p = logits.softmax(1).numpy()
    np.testing.assert_allclose(logits.grad.numpy(), (p - np.eye(3)[[0, 2]]) / 2, rtol=1e-12)


def test_fused_cross_entropy_bad_input_errors():
    x = tg.zeros(2, 3)
    with pytest.raises(IndexError, match="out of range for 3 classes"):
        SoftmaxCrossEntropy.apply(x, tg.tensor([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        SoftmaxCrossEntropy.apply(x, tg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        SoftmaxCrossEntropy.apply(tg.zeros(3), tg.tensor([0]))

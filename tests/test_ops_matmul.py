"""matmul: 1-D, 2-D, batched N-D with batch broadcasting; the fused Linear / cross-entropy /
embedding ops of the core."""
import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import tinygrad_zh as tg  # noqa: E402
from catalogue import MATMUL, catalogue_settings  # noqa: E402
from helpers import check_case, check_op, ids  # noqa: E402
from tinygrad_zh.ops.matmul import Linear  # noqa: E402

pytestmark = pytest.mark.core


@pytest.mark.parametrize("case", MATMUL, ids=ids(MATMUL))
@catalogue_settings
@given(data=st.data())
def test_matmul_family_matches_numpy_and_gradcheck(case, data):
    check_case(case, data)


# one line per case: every rank combination
@pytest.mark.parametrize("a,b", [
    ((3,), (3,)),                  # dot product -> 0-d
    ((3,), (3, 4)),                # vector @ matrix
    ((2, 3), (3,)),                # matrix @ vector
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),           # batch @ shared matrix
    ((3,), (5, 3, 4)),             # vector @ batch
    ((5, 2, 3), (3,)),             # batch @ vector
    ((2, 1, 2, 3), (4, 3, 2)),     # batch dims broadcast: (2, 1) with (4,) -> (2, 4)
    ((1, 2, 3), (6, 3, 1)),
])
def test_matmul_ranks(a, b):
    check_op(lambda x, y: x @ y, np.matmul, [a, b])


def test_matmul_mixed_dtypes_are_refused_as_in_pytorch():
    """PyTorch refuses float32 @ float64 ("expected m1 and m2 to have the same dtype"): so do we."""
    a = tg.ones(2, 3)
    b = tg.ones(3, 2, dtype="float64")
    with pytest.raises(RuntimeError, match="same dtype, got float32 and float64"):
        a @ b
    assert (a @ a.T).dtype == np.float32 and (b.T @ b).dtype == np.float64


def test_matmul_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4, 5\)"):
        tg.ones(2, 3) @ tg.ones(4, 5)
    with pytest.raises(ValueError, match=r"\(3,\) and \(2,\)"):
        tg.ones(3) @ tg.ones(2)
    with pytest.raises(ValueError, match=r"\(2, 2, 3\) and \(4, 3, 2\)"):
        tg.ones(2, 2, 3) @ tg.ones(4, 3, 2)
    with pytest.raises(ValueError, match="at least 1-D"):
        tg.tensor(2.0) @ tg.ones(2)


def test_linear_fused_equals_composed():
    x, w, b = tg.randn(4, 3, requires_grad=True), tg.randn(2, 3, requires_grad=True), tg.randn(2, requires_grad=True)
    Linear.apply(x, w, b).sum().backward()
    grads = [t.grad.numpy().copy() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    (x @ w.T + b).sum().backward()
    for g, t in zip(grads, (x, w, b)):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-5)
    with pytest.raises(ValueError, match="3 features.*expects 5"):
        Linear.apply(x, tg.randn(2, 5))

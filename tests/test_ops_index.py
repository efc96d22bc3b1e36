"""__getitem__: ints, slices, None, ..., integer index arrays (repeats accumulate), boolean masks."""
import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import tinygrad_zh as tg  # noqa: E402
from catalogue import INDEX, catalogue_settings  # noqa: E402
from helpers import check_case, check_op, ids  # noqa: E402
from tinygrad_zh.ops.index import Embedding, scatter_add_rows  # noqa: E402

pytestmark = pytest.mark.core


@pytest.mark.parametrize("case", INDEX, ids=ids(INDEX))
@catalogue_settings
@given(data=st.data())
def test_getitem_matches_numpy_and_gradcheck(case, data):
    check_case(case, data)


# one line per case, on a fixed (3, 4) input
@pytest.mark.parametrize("key", [1, -1, (1, 2), (slice(None), 0), (slice(1, None), slice(None, None, 2)),
                                 (None, Ellipsis, 1), (Ellipsis, None), [2, 0, 2], (slice(None), [3, 3, 0]),
                                 ([0, 2], [1, 1]), np.array([[0, 1], [1, 1]]), np.array([True, False, True])],
                         ids=str)
def test_getitem_table(key):
    tg_key = tg.Tensor(key, dtype=key.dtype) if isinstance(key, np.ndarray) else key
    check_op(lambda x: x[tg_key], lambda a: a[key], [(3, 4)])


def test_repeated_indices_accumulate():
    x = tg.tensor([10.0, 20.0, 30.0], requires_grad=True)
    (x[tg.tensor([0, 0, 2, 0, -1])] * tg.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 0.0, 8.0])
    m = tg.zeros(2, 3, requires_grad=True)
    m[[1, 1, 0], [2, 2, 2]].sum().backward()                  # pairs repeat too
    np.testing.assert_array_equal(m.grad.numpy(), [[0, 0, 1], [0, 0, 2]])


def test_boolean_mask_tensor():
    x = tg.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    y = x[x > 0]
    np.testing.assert_array_equal(y.numpy(), [1.0, 4.0])
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[3.0, 0.0], [0.0, 3.0]])


def test_scatter_add_rows_matches_add_at(rng):
    idx = rng.integers(0, 5, size=(4, 3))
    g = rng.standard_normal((4, 3, 2))
    ref = np.zeros((5, 2))
    np.add.at(ref, idx.reshape(-1), g.reshape(-1, 2))
    np.testing.assert_allclose(scatter_add_rows(idx, g, 5), ref, rtol=1e-12)


def test_embedding_padding_row_gets_no_gradient():
    w = tg.randn(4, 2, requires_grad=True)
    Embedding.apply(w, tg.tensor([[0, 3, 3], [1, 0, 0]]), padding_idx=0).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [1, 1], [0, 0], [2, 2]])
    with pytest.raises(IndexError, match="index 4 is out of range.*4 rows"):
        Embedding.apply(w, tg.tensor([4]))


def test_index_errors_are_clear():
    x = tg.zeros(3, 4)
    with pytest.raises(IndexError, match="dtype float"):
        x[tg.tensor([0.0, 1.0])]
    with pytest.raises(IndexError, match="integer or bool"):
        x[[0.5]]
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for dimension 0 with size 3"):
        x[tg.tensor([0, 5])]
    with pytest.raises(IndexError, match=r"index -4 is out of bounds for dimension 0 with size 3"):
        x[[-4]]
    with pytest.raises(IndexError, match=r"5.*size 4"):
        x[:, 5]
    with pytest.raises(IndexError, match=r"index 7 is out of bounds for dimension 1 with size 4"):
        x[0, tg.tensor([7])]


def test_setitem_respects_autograd():
    x = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        x[0] = 1.0
    with tg.no_grad():
        x[tg.tensor([0, 2])] = 5.0
    np.testing.assert_array_equal(x.numpy(), [5.0, 0.0, 5.0])

"""Shape ops: reshape view flatten transpose permute T squeeze unsqueeze expand cat stack split chunk."""
import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import given, strategies as st  # noqa: E402

import tinygrad_zh as tg  # noqa: E402
from catalogue import SHAPE, catalogue_settings  # noqa: E402
from helpers import check_case, check_op, ids  # noqa: E402

pytestmark = pytest.mark.core


@pytest.mark.parametrize("case", SHAPE, ids=ids(SHAPE))
@catalogue_settings
@given(data=st.data())
def test_shape_op_matches_numpy_and_gradcheck(case, data):
    check_case(case, data)


# one line per case
@pytest.mark.parametrize("tg_fn,np_fn,shape", [
    (lambda x: x.reshape(3, -1), lambda a: a.reshape(3, -1), (2, 3, 2)),
    (lambda x: x.view(-1), lambda a: a.reshape(-1), (2, 3)),
    (lambda x: x.T, lambda a: a.T, (2, 3)),
    (lambda x: x.t(), lambda a: a.T, (2, 3)),
    (lambda x: x.transpose(-1, 0), lambda a: np.swapaxes(a, -1, 0), (2, 3, 4)),
    (lambda x: x.permute((2, 0, 1)), lambda a: a.transpose(2, 0, 1), (2, 3, 4)),
    (lambda x: x.squeeze(1), lambda a: a.squeeze(1), (2, 1, 3)),
    (lambda x: x.squeeze(0), lambda a: a, (2, 1, 3)),                    # not size 1: no-op
    (lambda x: x.unsqueeze(-1), lambda a: a[..., None], (2, 3)),
    (lambda x: x.expand(2, -1, 3), lambda a: np.broadcast_to(a, (2, 4, 3)), (4, 1)),
    (lambda x: x.expand_as(tg.zeros(3, 2)), lambda a: np.broadcast_to(a, (3, 2)), (2,)),
    (lambda x: x.flatten(1), lambda a: a.reshape(2, -1), (2, 3, 4)),
    (lambda x: x.flatten(), lambda a: a.reshape(1), ()),
])
def test_shape_table(tg_fn, np_fn, shape):
    check_op(tg_fn, np_fn, [shape])


def test_split_and_chunk_pieces():
    x = tg.arange(10.0)
    assert [p.shape for p in x.split(4)] == [(4,), (4,), (2,)]
    assert [p.tolist() for p in x.split([1, 6, 3])] == [[0.0], [1, 2, 3, 4, 5, 6], [7, 8, 9]]
    assert [p.shape for p in x.chunk(3)] == [(4,), (4,), (2,)]
    assert [p.shape for p in tg.zeros(2, 5).chunk(2, dim=-1)] == [(2, 3), (2, 2)]
    with pytest.raises(ValueError, match="sum to 9"):
        x.split([4, 5])


def test_cat_and_stack_gradients_route_to_their_inputs():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0], requires_grad=True)
    (tg.cat([a, b]) * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [3.0])
    c = tg.tensor([5.0, 6.0], requires_grad=True)
    (tg.stack([a, c], dim=1) * tg.tensor([[1.0, 10.0], [2.0, 20.0]])).sum().backward()
    np.testing.assert_array_equal(c.grad.numpy(), [10.0, 20.0])


def test_same_object_twice_in_cat_accumulates():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    tg.cat([a, a, a]).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 3.0])


def test_shape_errors_name_the_shapes():
    x = tg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        x.expand(2, 4)
    with pytest.raises(ValueError, match="permutation"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match=r"\(2, 3\), \(2, 4\)"):
        tg.cat([x, tg.zeros(2, 4)])
    with pytest.raises(ValueError, match="one shape"):
        tg.stack([x, tg.zeros(3, 2)])
    with pytest.raises(IndexError, match="unsqueeze"):
        x.unsqueeze(3)
    with pytest.raises(ValueError, match="non-empty"):
        tg.cat([])

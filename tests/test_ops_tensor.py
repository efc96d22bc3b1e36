"""Tensor API: dtype policy, type promotion, conversions, repr, factories and seeding."""
import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import random as tg_random

pytestmark = pytest.mark.core


# ---------------------------------------------------------------------------- dtype policy
@pytest.mark.parametrize("data", [[1.0, 2.0], 3.5, np.array([1.0, 2.0]), np.float64(2.0), [[1, 2.5]]])
def test_floating_data_defaults_to_float32(data):
    assert tg.Tensor(data).dtype == np.float32
    assert tg.tensor(data).dtype == np.float32


@pytest.mark.parametrize("spelling", ["float64", np.float64, tg.float64, np.dtype("float64"), "double"])
def test_float64_spellings(spelling):
    assert tg.tensor([1.0], dtype=spelling).dtype == np.float64
    assert tg.zeros(2, dtype=spelling).dtype == np.float64
    assert tg.ones(1).to(spelling).dtype == np.float64


@pytest.mark.parametrize("data,dtype", [([1, 2], np.int64), (np.arange(3, dtype=np.int32), np.int32),
                                        (np.array([1], np.uint8), np.uint8), ([True, False], np.bool_),
                                        (7, np.int64)])
def test_integer_and_bool_data_stay_integer(data, dtype):
    assert tg.tensor(data).dtype == dtype


def test_unknown_dtype_and_int_requires_grad_are_rejected():
    with pytest.raises(TypeError, match="unknown dtype"):
        tg.tensor([1.0], dtype="floaty")
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2], requires_grad=True)


# ---------------------------------------------------------------------------- type promotion
FLOAT_INT = [np.float32, np.float64, np.int32, np.int64]


@pytest.mark.parametrize("da", FLOAT_INT)
@pytest.mark.parametrize("db", FLOAT_INT)
@pytest.mark.parametrize("shapes", [((2,), (2,)), ((2,), ()), ((), (2,))])
def test_tensor_tensor_promotion_follows_pytorch(da, db, shapes):
    """PyTorch's rule, not NumPy's: float32 tensor * int64 tensor is float32, a 0-d operand of the same
    category does not widen a dimensioned one."""
    import torch            # the oracle: CI installs it, and its absence must fail, not skip
    a, b = np.ones(shapes[0], da), np.full(shapes[1], 3, db)
    for op in ("add", "sub", "mul", "pow"):
        out = getattr(tg.tensor(a, dtype=da), op)(tg.tensor(b, dtype=db))
        ref = getattr(torch.from_numpy(a), op)(torch.from_numpy(b))
        assert str(out.dtype) == str(ref.dtype).replace("torch.", ""), f"{op}({da.__name__}{shapes[0]}, " \
                                                                       f"{db.__name__}{shapes[1]})"
    if da != db:                      # matmul does not promote in PyTorch: it refuses
        with pytest.raises(RuntimeError, match="same dtype"):
            tg.tensor(np.ones((2, 2), da), dtype=da) @ tg.tensor(np.ones((2, 2), db), dtype=db)


def test_float32_plus_float64_is_float64_and_grads_keep_their_dtype():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], dtype="float64", requires_grad=True)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("scalar", [2, 2.5, True])
def test_python_scalar_keeps_the_float_dtype(dtype, scalar):
    x = tg.ones(3, dtype=dtype)
    for out in (x + scalar, scalar + x, x - scalar, scalar - x, x * scalar, scalar * x, x / scalar,
                scalar / x, x ** 2, x.maximum(scalar), tg.where(x > 0, x, scalar)):
        assert out.dtype == np.dtype(dtype)


def test_int_tensor_with_python_numbers():
    t = tg.tensor([1, 2, 3])
    assert (t + 1).dtype == np.int64 and (2 * t).dtype == np.int64 and (t ** 2).dtype == np.int64
    # a float scalar makes the result floating, in the default float32 (no silent float64)
    assert (t * 0.5).dtype == np.float32 and (0.5 + t).dtype == np.float32 and (t ** 0.5).dtype == np.float32
    # true division of integers gives the default float
    assert (t / 2).dtype == np.float32 and (t / t).dtype == np.float32
    np.testing.assert_allclose((t / 2).numpy(), [0.5, 1.0, 1.5])


# ---------------------------------------------------------------------------- conversions
def test_shape_ndim_len_item_tolist_numpy():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and len(x) == 2 and x.numel() == 6
    assert x.size() == (2, 3) and x.size(1) == 3
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert isinstance(x.numpy(), np.ndarray) and x.numpy().dtype == np.float32
    np.testing.assert_array_equal(np.asarray(x), x.numpy())
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert x[1, 2].item() == 6.0 and isinstance(x[1, 2].item(), float)
    assert isinstance(tg.tensor([4]).item(), int)
    assert float(tg.tensor(2.5)) == 2.5 and int(tg.tensor(3)) == 3
    assert [r.tolist() for r in x] == x.tolist()
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        x.item()
    with pytest.raises(TypeError, match="0-d"):
        len(tg.tensor(1.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)


def test_zero_d_results_are_arrays():
    x = tg.tensor(2.0, dtype="float64", requires_grad=True)
    for out in (x + x, x.sum(), x.exp(), x.gelu(), (x * x).mean()):
        assert isinstance(out.array, np.ndarray) and out.shape == ()


def test_detach():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    z = (x * 3).sum() + (y * x).sum()          # y is a constant: d/dx = 3 + y
    z.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0])


def test_to_dtype_is_differentiable():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("float64")
    assert y.dtype == np.float64 and y.grad_fn is not None
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    assert x.double().dtype == np.float64 and x.float() is x
    assert tg.tensor([1.7, -2.2]).long().tolist() == [1, -2]
    assert tg.tensor([0.0, 2.0]).bool().tolist() == [False, True]


def test_repr_shows_values_dtype_and_grad_fn():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x).startswith("tensor([1., 2.]") and "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward>" in repr(x * 2)
    assert "grad_fn=<SumBackward>" in repr((x * 2).sum())
    assert "dtype=float64" in repr(tg.tensor([1.0], dtype="float64"))
    assert "dtype=int32" in repr(tg.tensor([1], dtype=tg.int32))
    for default in (tg.tensor([1.0]), tg.tensor([1]), tg.tensor([True])):      # PyTorch's defaults
        assert "dtype" not in repr(default)
    with tg.no_grad():
        assert "grad_fn" not in repr(x * 2)


def test_clone_copies_and_keeps_the_graph():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    c.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
    src = tg.tensor([1.0])
    d = src.clone()
    d.add_(1.0)                                  # a real copy: the source is untouched
    assert src.item() == 1.0 and d.item() == 2.0


# ---------------------------------------------------------------------------- factories and seeds
@pytest.mark.parametrize("make,shape,dtype", [
    (lambda: tg.zeros(2, 3), (2, 3), np.float32),
    (lambda: tg.zeros((2, 3)), (2, 3), np.float32),
    (lambda: tg.ones(4, dtype="float64"), (4,), np.float64),
    (lambda: tg.full((2,), 7), (2,), np.int64),
    (lambda: tg.full((2,), 0.5), (2,), np.float32),
    (lambda: tg.arange(5), (5,), np.int64),
    (lambda: tg.arange(1.0, 2.0, 0.25), (4,), np.float32),
    (lambda: tg.linspace(0, 1, 5), (5,), np.float32),
    (lambda: tg.eye(3), (3, 3), np.float32),
    (lambda: tg.eye(2, 4), (2, 4), np.float32),
    (lambda: tg.rand(2, 2), (2, 2), np.float32),
    (lambda: tg.randn(3, dtype="float64"), (3,), np.float64),
    (lambda: tg.randint(0, 5, (2, 3)), (2, 3), np.int64),
    (lambda: tg.randperm(6), (6,), np.int64),
    (lambda: tg.zeros_like(tg.ones(2, dtype="float64")), (2,), np.float64),
    (lambda: tg.ones_like(tg.tensor([1, 2])), (2,), np.int64),
    (lambda: tg.full_like(tg.ones(3), 2.0), (3,), np.float32),
])
def test_factory_shapes_and_dtypes(make, shape, dtype):
    t = make()
    assert t.shape == shape and t.dtype == dtype and not t.requires_grad


def test_factory_values():
    np.testing.assert_array_equal(tg.arange(1.0, 2.0, 0.25).numpy(), [1.0, 1.25, 1.5, 1.75])
    np.testing.assert_array_equal(tg.eye(2).numpy(), [[1, 0], [0, 1]])
    assert sorted(tg.randperm(6).tolist()) == list(range(6))
    r = tg.randint(3, 5, (100,)).numpy()
    assert r.min() >= 3 and r.max() <= 4
    u = tg.rand(1000).numpy()
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.05
    n = tg.randn(2000, dtype="float64").numpy()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1.0) < 0.1
    assert tg.zeros(2, requires_grad=True).requires_grad


def test_manual_seed_reproduces_every_random_factory():
    def draw():
        return [tg.rand(3).numpy(), tg.randn(2, 2).numpy(), tg.randint(0, 100, (5,)).numpy(),
                tg.randperm(7).numpy()]
    tg.manual_seed(1234)
    first = draw()
    tg.manual_seed(1234)
    second = draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tg.manual_seed(4321)
    assert not np.array_equal(draw()[1], first[1])


def test_rng_state_round_trip():
    tg.manual_seed(7)
    state = tg_random.get_rng_state()
    a = tg.randn(4).numpy()
    tg_random.set_rng_state(state)
    np.testing.assert_array_equal(tg.randn(4).numpy(), a)

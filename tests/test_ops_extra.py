"""Ops outside the catalogue's reach, compared with PyTorch: the division family on integers and floats
(dtypes, negative operands, division by zero, bool), the non-differentiable ops (nonzero, unique),
result dtypes, argument spellings and error messages of the ops added with them (einsum, cumsum /
cumprod, flip, triu / tril, repeat_interleave, hstack / vstack, mT, clamp_min / clamp_max, log1p /
expm1, is_floating_point, get_device). Their values and gradients on float inputs are in
tests/catalogue.py."""
import warnings

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import backend
from tinygrad_zh.ops.elementwise import IntegerDivisionByZero

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.core


def same(ours, theirs, what="", rtol=0.0):
    """Same shape, dtype and values (NaN == NaN, and the sign of an infinity counts); exactly, unless
    ``rtol`` allows a different order of summation."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), f"{what}: {ours!r} vs {theirs!r}"
        for k, (o, t) in enumerate(zip(ours, theirs)):
            same(o, t, f"{what} [{k}]", rtol)
        return
    assert isinstance(ours, tg.Tensor), f"{what}: expected a Tensor, got {type(ours).__name__}"
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape, f"{what}: shape {ours.shape}, PyTorch gives {expected.shape}"
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), \
        f"{what}: dtype {ours.dtype}, PyTorch gives {theirs.dtype}"
    if rtol:
        np.testing.assert_allclose(ours.numpy(), expected, rtol=rtol, atol=0, err_msg=what)
    else:
        np.testing.assert_array_equal(ours.numpy(), expected, err_msg=what)


def pair(values, dtype):
    a = np.array(values, dtype=dtype)
    return tg.tensor(a, dtype=dtype), torch.tensor(a)


# ---------------------------------------------------------------------------- division family
NUMERATORS = [7, -7, 6, -6, 0, 1, -1, 13]
DIVISORS = [2, 2, -4, -4, 3, -3, 5, -5]
BINARY = {
    "//": lambda a, b: a // b,
    "%": lambda a, b: a % b,
    "floor_divide": lambda a, b, m=None: m.floor_divide(a, b),
    "remainder": lambda a, b, m=None: m.remainder(a, b),
    "fmod": lambda a, b: a.fmod(b),
    "div": lambda a, b: a.div(b),
    "true_divide": lambda a, b, m=None: m.true_divide(a, b),
    "div_trunc": lambda a, b: a.div(b, rounding_mode="trunc"),
    "div_floor": lambda a, b, m=None: m.div(a, b, rounding_mode="floor"),
    "divide_trunc": lambda a, b, m=None: m.divide(a, b, rounding_mode="trunc"),
}


def _call(fn, a, b, module):
    return fn(a, b, m=module) if "m" in fn.__code__.co_varnames else fn(a, b)


@pytest.mark.parametrize("op", list(BINARY))
@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64"])
def test_division_family_matches_pytorch_values_and_dtypes(op, dtype):
    """Negative operands on either side: floor vs trunc rounding, Python-sign vs C-sign remainder."""
    fn = BINARY[op]
    a, ta = pair(NUMERATORS, dtype)
    b, tb = pair(DIVISORS, dtype)
    same(_call(fn, a, b, tg), _call(fn, ta, tb, torch), f"{op} {dtype}")
    for s in (3, -3, 2.5, -2.5):                   # Python scalars: an int keeps the dtype, a float promotes
        same(_call(fn, a, s, tg), _call(fn, ta, s, torch), f"{op} {dtype} with scalar {s}")
    for s in (7, -7, 7.5):                         # Python scalar on the left (b has no zeros)
        try:
            expected = _call(fn, s, tb, torch)
        except (TypeError, AttributeError):         # x.fmod(...) has no scalar-on-the-left form
            continue
        same(_call(fn, s, b, tg), expected, f"{op}: scalar {s} on the left, {dtype}")


@pytest.mark.parametrize("op", ["//", "%", "fmod", "div_trunc", "div_floor"])
@pytest.mark.parametrize("da,db", [("int32", "int64"), ("int64", "float32"), ("float32", "float64"),
                                   ("int32", "float64")])
def test_division_family_type_promotion(op, da, db):
    a, ta = pair([7, -7, 9], da)
    b, tb = pair([2, -2, 4], db)
    same(_call(BINARY[op], a, b, tg), _call(BINARY[op], ta, tb, torch), f"{op} {da} with {db}")
    zb, tzb = tg.tensor(np.array(3, dtype=db), dtype=db), torch.tensor(np.array(3, dtype=db))
    same(_call(BINARY[op], a, zb, tg), _call(BINARY[op], ta, tzb, torch),
         f"{op} {da} with a 0-d {db}")             # a 0-d tensor only decides the category


def test_integer_true_division_gives_float32():
    a, ta = pair([7, -7], "int64")
    same(a / 2, ta / 2)
    same(tg.div(a, a), torch.div(ta, ta))
    assert (a // 2).dtype == np.int64 and (a % 2).dtype == np.int64


def test_broadcasting_and_known_values():
    """Hand-derived: ⌊-7/2⌋ = -4, trunc(-7/2) = -3, -7 mod 2 = 1, fmod(-7, 2) = -1."""
    a = tg.tensor([[-7], [7]])
    b = tg.tensor([2, -2])
    np.testing.assert_array_equal((a // b).numpy(), [[-4, 3], [3, -4]])
    np.testing.assert_array_equal(a.div(b, rounding_mode="trunc").numpy(), [[-3, 3], [3, -3]])
    np.testing.assert_array_equal((a % b).numpy(), [[1, -1], [1, -1]])
    np.testing.assert_array_equal(a.fmod(b).numpy(), [[-1, -1], [1, 1]])


@pytest.mark.parametrize("op", ["//", "%", "floor_divide", "remainder", "fmod", "div_trunc", "div_floor"])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_division_by_zero_raises_like_pytorch(op, dtype):
    a, ta = pair([5, -5, 3], dtype)
    b, tb = pair([1, 0, 2], dtype)
    with pytest.raises(RuntimeError):             # PyTorch: RuntimeError: ZeroDivisionError
        _call(BINARY[op], ta, tb, torch)
    with pytest.raises(ZeroDivisionError, match="integer division by zero"):
        _call(BINARY[op], a, b, tg)
    with pytest.raises(RuntimeError, match="division by zero"):    # also a RuntimeError, as in PyTorch
        _call(BINARY[op], a, 0, tg)
    assert issubclass(IntegerDivisionByZero, RuntimeError) and issubclass(IntegerDivisionByZero, ZeroDivisionError)


@pytest.mark.parametrize("op", ["//", "%", "fmod", "div_trunc", "div_floor", "div"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_division_by_zero_and_infinity_give_inf_nan_like_pytorch_without_warnings(op, dtype):
    a, ta = pair([5.0, -5.0, 0.0, 5.0, -5.0, 1.0], dtype)
    b, tb = pair([0.0, 0.0, 0.0, np.inf, np.inf, 0.1], dtype)       # 1 // 0.1 is 9 (as in Python), not 10
    with warnings.catch_warnings():
        if op != "div":                             # plain a / b is the old Div, which lets NumPy warn
            warnings.simplefilter("error")
        ours = _call(BINARY[op], a, b, tg)
    same(ours, _call(BINARY[op], ta, tb, torch), f"{op} {dtype}")


@pytest.mark.parametrize("op", ["//", "%", "fmod", "div_trunc", "div_floor"])
def test_bool_operands_are_refused_like_pytorch(op):
    a, ta = pair([True, False], "bool")
    with pytest.raises(NotImplementedError):
        _call(BINARY[op], ta, ta, torch)
    with pytest.raises(NotImplementedError, match="bool"):
        _call(BINARY[op], a, a, tg)
    one, tone = pair([True, True], "bool")
    same(a / one, ta / tone)                      # true division works on bool, as in PyTorch


def test_remainder_and_fmod_gradients_match_pytorch():
    """d(a mod b)/db = -⌊a/b⌋, d fmod(a, b)/db = -trunc(a/b), d/da = 1 (hand-derived below, then PyTorch)."""
    values_a, values_b = [5.0, -5.0, 7.5], [3.0, 3.0, -2.0]
    expected_b = {"remainder": [-1.0, 2.0, 4.0], "fmod": [-1.0, 1.0, 3.0]}
    for name in ("remainder", "fmod"):
        a = tg.tensor(values_a, dtype="float64", requires_grad=True)
        b = tg.tensor(values_b, dtype="float64", requires_grad=True)
        ta = torch.tensor(values_a, dtype=torch.float64, requires_grad=True)
        tb = torch.tensor(values_b, dtype=torch.float64, requires_grad=True)
        getattr(a, name)(b).sum().backward()
        getattr(ta, name)(tb).sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0, 1.0], err_msg=name)
        np.testing.assert_array_equal(b.grad.numpy(), expected_b[name], err_msg=name)
        same(a.grad, ta.grad, name)
        same(b.grad, tb.grad, name)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_rounded_division_has_zero_gradient_like_pytorch(mode):
    a = tg.tensor([5.0, -5.5], requires_grad=True)
    b = tg.tensor([2.0, 3.0], requires_grad=True)
    ta = torch.tensor([5.0, -5.5], requires_grad=True)
    tb = torch.tensor([2.0, 3.0], requires_grad=True)
    out, tout = a.div(b, rounding_mode=mode), ta.div(tb, rounding_mode=mode)
    assert out.requires_grad == tout.requires_grad is True
    (out * 3).sum().backward()
    (tout * 3).sum().backward()
    same(a.grad, ta.grad)
    same(b.grad, tb.grad)


def test_floor_divide_output_requires_grad_but_backward_raises_like_pytorch():
    a = tg.tensor([5.0, -5.5], requires_grad=True)
    ta = torch.tensor([5.0, -5.5], requires_grad=True)
    out, tout = a // 2, ta // 2
    assert out.requires_grad and tout.requires_grad
    with pytest.raises(RuntimeError):
        tout.sum().backward()
    with pytest.raises(RuntimeError, match="floor_divide.*rounding_mode='floor'"):
        out.sum().backward()
    with tg.no_grad():
        assert not (a // 2).requires_grad


def test_invalid_rounding_mode_is_an_error():
    with pytest.raises(RuntimeError):
        torch.ones(2).div(2, rounding_mode="round")
    with pytest.raises(RuntimeError, match="rounding_mode.*'round'"):
        tg.ones(2).div(2, rounding_mode="round")


# ---------------------------------------------------------------------------- nonzero and unique
@pytest.mark.parametrize("values", [[[1, 0, 2], [0, 0, 3]], [0, 0], [], 5.0, 0.0, [[[True, False]], [[False, True]]]])
def test_nonzero_matches_pytorch(values):
    a = np.array(values)
    x, t = tg.tensor(a, dtype=a.dtype), torch.tensor(a)
    same(x.nonzero(), t.nonzero(), "nonzero")
    same(tg.nonzero(x, as_tuple=True), torch.nonzero(t, as_tuple=True), "nonzero(as_tuple=True)")


def test_nonzero_is_int64_and_not_differentiable():
    x = tg.tensor([0.0, 1.5, -2.0], requires_grad=True)
    idx = x.nonzero()
    assert idx.dtype == np.int64 and not idx.requires_grad
    np.testing.assert_array_equal(idx.numpy(), [[1], [2]])


UNIQUE_INPUTS = [[3, 1, 2, 3, 1], [[2.0, 1.0], [1.0, 5.0]], 3.0, [], [True, False, True],
                 [1.0, np.nan, 1.0, np.nan]]


@pytest.mark.parametrize("values", UNIQUE_INPUTS, ids=range(len(UNIQUE_INPUTS)))
@pytest.mark.parametrize("flags", [(True, False, False), (False, True, False), (True, False, True),
                                   (True, True, True)])
def test_unique_matches_pytorch(values, flags):
    """sorted=False still sorts (as PyTorch's CPU implementation does); every NaN is its own value."""
    a = np.array(values, dtype=np.float32 if np.array(values).dtype.kind == "f" else None)
    x, t = tg.tensor(a, dtype=a.dtype), torch.tensor(a)
    kw = dict(sorted=flags[0], return_inverse=flags[1], return_counts=flags[2])
    ours, theirs = x.unique(**kw), torch.unique(t, **kw)
    same(ours, tuple(theirs) if isinstance(theirs, tuple) else theirs, f"unique{kw}")
    same(tg.unique(x, **kw), tuple(theirs) if isinstance(theirs, tuple) else theirs)


def test_unique_refuses_dim_and_is_not_differentiable():
    x = tg.tensor([[1.0, 2.0], [1.0, 2.0]], requires_grad=True)
    with pytest.raises(NotImplementedError, match="dim=0"):
        x.unique(dim=0)
    assert not x.unique().requires_grad


# ---------------------------------------------------------------------------- einsum
def test_einsum_spellings_match_pytorch():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    x, y, tx, ty = tg.tensor(a, dtype="float64"), tg.tensor(b, dtype="float64"), torch.tensor(a), torch.tensor(b)
    same(tg.einsum("ij,jk", [x, y]), torch.einsum("ij,jk", [tx, ty]), "operands as a list", rtol=1e-12)
    same(tg.einsum(" i j , j k -> k i ", x, y), torch.einsum(" i j , j k -> k i ", tx, ty), "spaces", rtol=1e-12)
    same(tg.einsum(x, [0, 1], y, [1, 2], [0, 2]), torch.einsum(tx, [0, 1], ty, [1, 2], [0, 2]), "sublists",
         rtol=1e-12)
    same(tg.einsum(x, [Ellipsis, 1]), torch.einsum(tx, [Ellipsis, 1]), "sublist with ...")
    same(tg.einsum("bA", x), torch.einsum("bA", tx), "implicit output: upper case first")
    same(tg.einsum("...ij->ij", tg.ones(2, 2, 3)), torch.einsum("...ij->ij", torch.ones(2, 2, 3)), "... summed")
    ints = np.arange(6).reshape(2, 3)
    same(tg.einsum("ij,kj->ik", tg.tensor(ints), tg.tensor(ints)),
         torch.einsum("ij,kj->ik", torch.tensor(ints), torch.tensor(ints)), "int64 stays int64")


def test_einsum_gradient_of_a_trace_and_a_diagonal_by_hand():
    """trace(A) = Σ Aᵢᵢ: ∂/∂A = I;  diag(A)·v summed: ∂/∂A = diag(v)."""
    a = tg.tensor(np.arange(9.0).reshape(3, 3), dtype="float64", requires_grad=True)
    tg.einsum("ii", a).backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.eye(3))
    a.grad = None
    (tg.einsum("ii->i", a) * tg.tensor([1.0, 2.0, 3.0], dtype="float64")).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.diag([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("equation,shapes,message", [
    ("ij,jk->ik", [(2, 3)], "2 operand"),
    ("ij,jk->ik", [(2, 3), (4, 4)], "subscript j has size 4"),
    ("ij->ii", [(2, 2)], "appears more than once"),
    ("ij->k", [(2, 2)], "does not appear"),
    ("ij", [(2, 2, 2)], "number of subscripts"),
    ("ii", [(2, 3)], "repeated"),
    ("i1", [(2, 2)], "invalid subscript"),
])
def test_einsum_errors_are_clear_and_like_pytorch(equation, shapes, message):
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *[torch.ones(s) for s in shapes])
    with pytest.raises(RuntimeError, match=message):
        tg.einsum(equation, *[tg.ones(s) for s in shapes])


def test_einsum_refuses_mixed_dtypes_like_pytorch():
    with pytest.raises(RuntimeError):
        torch.einsum("ij,jk", torch.ones(2, 3), torch.ones(3, 2, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="same dtype"):
        tg.einsum("ij,jk", tg.ones(2, 3), tg.ones(3, 2, dtype="float64"))


# ---------------------------------------------------------------------------- cumsum / cumprod
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "uint8", "float32"])
def test_cumulative_result_dtypes_match_pytorch(name, dtype):
    a, ta = pair([[1, 2, 0], [3, 1, 1]], dtype)
    same(getattr(a, name)(1), getattr(ta, name)(1), f"{name} {dtype}")
    same(getattr(tg, name)(a, 0, dtype=tg.float64), getattr(torch, name)(ta, 0, dtype=torch.float64))
    same(getattr(a, name)(axis=-1), getattr(ta, name)(axis=-1), "axis=")


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_cumulative_arguments(name):
    x, t = tg.tensor(2.5), torch.tensor(2.5)
    same(getattr(x, name)(0), getattr(t, name)(0), "0-d")
    same(getattr(x, name)(-1), getattr(t, name)(-1), "0-d, dim -1")
    y = tg.ones(2, 3)
    with pytest.raises(TypeError, match="dim"):
        getattr(y, name)()
    with pytest.raises(TypeError, match="both"):
        getattr(y, name)(0, axis=1)
    with pytest.raises(IndexError):
        getattr(y, name)(2)


def test_cumsum_of_a_long_vector_is_linear_in_memory():
    """A (n, n) triangular matrix for n = 10⁶ would need terabytes."""
    x = tg.ones(1_000_000, dtype="float64", requires_grad=True)
    y = x.cumsum(0)
    assert y[-1].item() == 1_000_000
    y.sum().backward()
    assert x.grad[0].item() == 1_000_000 and x.grad[-1].item() == 1


def test_cumprod_gradient_with_zeros_by_hand():
    """x = [2, 0, 3, 0]: z = [2, 0, 0, 0]; ∂Σz/∂x = [1, 2 + 2·3 + 0, 0, 0] = [1, 8, 0, 0]."""
    x = tg.tensor([2.0, 0.0, 3.0, 0.0], dtype="float64", requires_grad=True)
    x.cumprod(0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 8.0, 0.0, 0.0])


# ---------------------------------------------------------------------------- shape-like ops
def test_flip_returns_a_copy_and_checks_dims():
    x = tg.tensor([1.0, 2.0, 3.0])
    y = x.flip(0)
    y[0] = 100.0
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0, 3.0])
    same(tg.tensor(3).flip(0), torch.tensor(3).flip(0), "0-d")
    with pytest.raises(RuntimeError):
        torch.ones(2, 2).flip(0, -2)
    with pytest.raises(RuntimeError, match="multiple times"):
        tg.ones(2, 2).flip(0, -2)
    with pytest.raises(IndexError):
        tg.ones(2, 2).flip(2)
    with pytest.raises(TypeError):
        tg.ones(2).flip()


@pytest.mark.parametrize("name", ["triu", "tril"])
def test_triangles_keep_dtype_zero_infinities_and_need_two_dims(name):
    for dtype in ("int32", "bool", "float64"):
        a, ta = pair([[1, 2, 3], [4, 5, 6]], dtype)
        same(getattr(a, name)(1), getattr(ta, name)(1), f"{name} {dtype}")
    a, ta = pair([[np.inf, -np.inf], [np.inf, np.inf]], "float32")
    same(getattr(tg, name)(a), getattr(torch, name)(ta), "infinities become 0, not nan")
    with pytest.raises(RuntimeError):
        getattr(torch, name)(torch.ones(3))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        getattr(tg, name)(tg.ones(3))


def test_repeat_interleave_forms_and_errors():
    a, ta = pair([[1, 2], [3, 4]], "int64")
    same(tg.repeat_interleave(tg.tensor([2, 0, 3])), torch.repeat_interleave(torch.tensor([2, 0, 3])), "counts only")
    same(a.repeat_interleave(tg.tensor([2]), dim=1), ta.repeat_interleave(torch.tensor([2]), dim=1), "one count")
    same(tg.tensor(5).repeat_interleave(3), torch.tensor(5).repeat_interleave(3), "0-d")
    same(a.repeat_interleave(2, dim=0, output_size=4), ta.repeat_interleave(2, dim=0, output_size=4))
    for bad in (-1, tg.tensor([1, 2, 3]), tg.tensor([1.0, 2.0])):
        with pytest.raises(RuntimeError, match="repeat"):
            a.repeat_interleave(bad, dim=0)
    with pytest.raises(RuntimeError, match="output_size"):
        a.repeat_interleave(2, dim=0, output_size=3)


@pytest.mark.parametrize("name", ["hstack", "vstack"])
def test_hstack_vstack_shapes_and_dtypes_match_pytorch(name):
    cases = [[np.array(1.5), np.array(2.5)]]
    cases += [[np.array(1), np.array([2, 3])], [np.ones((2, 1), np.float32), np.zeros((2, 2), np.float32)]] \
        if name == "hstack" else \
        [[np.array([1, 2]), np.array([[3, 4]])], [np.ones((1, 2), np.int32), np.zeros((3, 2), np.int32)]]
    for arrays in cases:
        same(getattr(tg, name)([tg.tensor(a, dtype=a.dtype) for a in arrays]),
             getattr(torch, name)([torch.tensor(a) for a in arrays]), f"{name} of {[a.shape for a in arrays]}")
    with pytest.raises(RuntimeError, match="non-empty"):
        getattr(tg, name)([])
    assert not hasattr(tg.Tensor, name)           # functions only, like PyTorch


def test_mT_and_its_error():
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.mT.shape == (2, 4, 3)
    with pytest.raises(RuntimeError):
        torch.ones(3).mT
    with pytest.raises(RuntimeError, match="matrices"):
        tg.ones(3).mT


# ---------------------------------------------------------------------------- elementwise extras
@pytest.mark.parametrize("name", ["log1p", "expm1"])
def test_log1p_expm1_dtypes_and_small_inputs(name):
    a, ta = pair([0, 1, 2], "int64")
    assert getattr(a, name)().dtype == np.float32 == np.dtype(str(getattr(ta, name)().dtype).replace("torch.", ""))
    tiny = tg.tensor([1e-12], dtype="float64")
    np.testing.assert_allclose(getattr(tg, name)(tiny).numpy(), [1e-12], rtol=1e-9)   # log(1 + x) would lose it


def test_clamp_min_max_dtypes_and_tensor_bounds_match_pytorch():
    a, ta = pair([1, 5, -3], "int64")
    same(a.clamp_max(2.5), ta.clamp_max(2.5), "int tensor, float bound -> float32")
    same(tg.clamp_min(a, 2), torch.clamp_min(ta, 2), "int bound keeps int64")
    lo, tlo = pair([0.0, 6.0, -4.0], "float32")
    x, tx = pair([1.0, 5.0, -3.0], "float32")
    same(x.clamp_min(lo), tx.clamp_min(tlo), "tensor bound")
    same(tg.clamp(x, max=lo), torch.clamp(tx, max=tlo), "tensor max")


def test_is_floating_point_and_get_device():
    assert tg.ones(2).is_floating_point() and tg.is_floating_point(tg.ones(2, dtype="float64"))
    assert not tg.tensor([1, 2]).is_floating_point() and not tg.tensor([True]).is_floating_point()
    assert tg.ones(2).get_device() == torch.ones(2).get_device() == -1
    assert tg.get_device(tg.ones(2)) == -1
    if backend.cuda_available():
        assert tg.ones(2, device="cuda").get_device() == 0


@pytest.mark.skipif(not backend.cuda_available(), reason="needs a GPU or the CUDA simulator")
def test_new_ops_run_on_the_cuda_device():
    grads = {}
    for device in ("cpu", "cuda"):
        a = tg.tensor([[-7.0, 7.5], [2.0, -0.5]], dtype="float64", device=device, requires_grad=True)
        b = tg.tensor([2.0, -3.0], dtype="float64", device=device, requires_grad=True)
        out = a % b + a.fmod(b) + a.div(b, rounding_mode="floor") + a.abs().log1p() + a.expm1()
        out = out + tg.einsum("ij,j->i", a, b).unsqueeze(1) + a.flip(0).triu() + a.cumprod(1) + a.cumsum(0)
        out.sum().backward()
        assert a.grad.device == device and b.grad.device == device
        grads[device] = (a.grad.numpy(), b.grad.numpy())
    for g_cpu, g_cuda in zip(grads["cpu"], grads["cuda"]):
        np.testing.assert_allclose(g_cuda, g_cpu, rtol=1e-12)
    ia = tg.tensor([7, -7], device="cuda")
    np.testing.assert_array_equal((ia // 2).numpy(), [3, -4])
    np.testing.assert_array_equal(ia.nonzero().numpy(), [[0], [1]])
    np.testing.assert_array_equal(ia.unique().numpy(), [-7, 7])
    with pytest.raises(ZeroDivisionError):
        (ia % tg.tensor([1, 0], device="cuda")).numpy()       # checked at the next sync


@pytest.mark.parametrize("name", ["//=", "%=", "floor_divide_", "remainder_", "fmod_"])
def test_in_place_division_family_matches_pytorch(name):
    def apply(x, other):
        if name == "//=":
            x //= other
        elif name == "%=":
            x %= other
        else:
            x = getattr(x, name)(other)
        return x
    for dtype, other in (("int64", 3), ("int64", -3), ("float32", 2.5), ("float32", -2.5)):
        x, t = pair([7, -7, 5], dtype)
        alias, talias = x, t
        same(apply(x, other), apply(t, other), f"{name} {dtype} {other}")
        same(alias, talias, f"{name}: the same tensor is updated in place")
    x, t = pair([7, -7], "int64")
    with pytest.raises(RuntimeError):
        apply(t, 2.5)                              # a float result does not fit an int64 tensor
    with pytest.raises(RuntimeError, match="can't be cast"):
        apply(x, 2.5)
    with pytest.raises(ZeroDivisionError):
        apply(x, 0)

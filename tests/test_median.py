"""median / kthvalue against PyTorch: values, indices, dtypes and shapes; gradients (the selected element,
ties shared evenly in median()); NaN; 0-d and empty tensors; the function forms tg.median / tg.kthvalue;
errors."""
import numpy as np
import pytest

import tinygrad_zh as tg

torch = pytest.importorskip("torch")

NAN = float("nan")


def _pair(arr, requires_grad=True):
    arr = np.asarray(arr)
    g = arr.dtype.kind == "f" and requires_grad
    return (tg.tensor(arr, dtype=arr.dtype, requires_grad=g),
            torch.tensor(arr, requires_grad=g))


def _same(ours, theirs, what):
    o, t = ours.numpy(), theirs.detach().numpy()
    assert o.shape == t.shape, f"{what}: shape {o.shape}, PyTorch {t.shape}"
    assert str(o.dtype) == str(t.dtype).replace("torch.", ""), f"{what}: dtype {o.dtype}, PyTorch {t.dtype}"
    np.testing.assert_allclose(o, t, rtol=1e-12, atol=0, equal_nan=True, err_msg=what)


def _distinct(shape, seed=0):
    """Values without ties (the index each side picks among equal values is implementation-defined)."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape).astype(np.float64) / 7 - 1


CALLS = [
    ("median()", lambda x: x.median()),
    ("median(0)", lambda x: x.median(0)),
    ("median(-1, keepdim)", lambda x: x.median(-1, keepdim=True)),
    ("median(dim=1)", lambda x: x.median(dim=1)),
    ("kthvalue(1)", lambda x: x.kthvalue(1)),
    ("kthvalue(4, 0, True)", lambda x: x.kthvalue(4, 0, True)),
    ("kthvalue(k=3, dim=1)", lambda x: x.kthvalue(k=3, dim=1)),
    ("kthvalue(5)", lambda x: x.kthvalue(5)),
]


@pytest.mark.parametrize("name,call", CALLS, ids=[c[0] for c in CALLS])
@pytest.mark.parametrize("shape", [(4, 6, 5), (5, 6)])
def test_values_indices_and_gradients_match_torch(name, call, shape):
    a, b = _pair(_distinct(shape))
    ours, theirs = call(a), call(b)
    if isinstance(theirs, tuple):
        assert type(ours).__name__ == type(theirs).__name__        # median / kthvalue named tuple
        _same(ours.values, theirs.values, f"{name} values")
        _same(ours.indices, theirs.indices, f"{name} indices")
        assert ours.values is ours[0] and not ours.indices.requires_grad
        ours, theirs = ours.values, theirs.values
    else:
        _same(ours, theirs, name)
    w = np.random.default_rng(1).normal(size=theirs.shape)     # a different weight per output element
    (ours * tg.tensor(w, dtype=tg.float64)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()
    _same(a.grad, b.grad, f"{name} gradient")


def test_even_count_takes_the_lower_median_and_float32_stays_float32():
    x = np.array([[4.0, 1.0, 3.0, 2.0], [0.5, -1.0, 8.0, 9.0]], np.float32)
    a, b = _pair(x)
    _same(a.median(), b.median(), "median()")                  # 12 elements: the 6th smallest
    _same(a.median(1).values, b.median(1).values, "median(1)")
    assert float(a.median()) == 2.0 and a.median().dtype == tg.float32


def test_integer_tensors():
    x = np.array([[5, 1, 4], [2, 9, 7]], np.int64)
    a, b = _pair(x)
    _same(a.median(), b.median(), "median() int")
    r, t = a.median(1), b.median(1)
    _same(r.values, t.values, "median(1) int values")
    _same(r.indices, t.indices, "median(1) int indices")
    _same(a.kthvalue(3, 1).values, b.kthvalue(3, 1).values, "kthvalue int")


def test_median_gradient_is_shared_among_ties_like_torch():
    x = np.array([[1.0, 2.0, 2.0], [3.0, 2.0, 0.0]])         # the median 2 appears three times
    a, b = _pair(x)
    a.median().backward()
    b.median().backward()
    _same(a.grad, b.grad, "median() gradient with ties")
    np.testing.assert_allclose(a.grad.numpy(), [[0, 1 / 3, 1 / 3], [0, 1 / 3, 0]])


def test_median_dim_with_ties_picks_an_equal_element_and_sends_it_the_gradient():
    a = tg.tensor([[1.0, 2.0, 2.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0, 5.0]], dtype=tg.float64, requires_grad=True)
    values, indices = a.median(1)
    np.testing.assert_array_equal(values.numpy(), [2.0, 5.0])
    picked = np.take_along_axis(a.detach().numpy(), indices.numpy()[:, None], 1)[:, 0]
    np.testing.assert_array_equal(picked, values.numpy())
    values.sum().backward()
    expected = np.zeros((2, 5))
    expected[[0, 1], indices.numpy()] = 1.0
    np.testing.assert_array_equal(a.grad.numpy(), expected)   # one element per row, not shared


def test_nan_like_torch():
    x = np.array([[1.0, NAN, 2.0, 3.0, NAN], [4.0, 0.0, 2.0, 1.0, 3.0]])
    for call in (lambda t: t.median(1), lambda t: t.kthvalue(4, 1), lambda t: t.kthvalue(5, 1),
                 lambda t: t.kthvalue(1, 1), lambda t: t.median(0)):
        a, b = _pair(x)
        r, t = call(a), call(b)
        _same(r.values, t.values, "values with NaN")
        _same(r.indices, t.indices, "indices with NaN")
    a, b = _pair(x)
    a.median().backward()
    b.median().backward()
    assert np.isnan(a.median().item())
    _same(a.grad, b.grad, "median() gradient with NaN (shared among the NaNs)")


@pytest.mark.parametrize("call", [lambda x: x.median(), lambda x: x.median(0), lambda x: x.median(-1, True),
                                  lambda x: x.kthvalue(1), lambda x: x.kthvalue(1, 0, True)])
def test_zero_dim_input(call):
    a, b = _pair(np.array(2.5))
    r, t = call(a), call(b)
    if isinstance(t, tuple):
        _same(r.indices, t.indices, "0-d indices")
        r, t = r.values, t.values
    _same(r, t, "0-d values")


def test_empty_inputs():
    _same(tg.tensor([]).median(), torch.tensor([]).median(), "median() of an empty tensor is NaN")
    for make in (lambda m: m.zeros(0, 3).median(1), lambda m: m.zeros(2, 0).kthvalue(1, 0)):
        r, t = make(tg), make(torch)
        _same(r.values, t.values, "empty values")
        _same(r.indices, t.indices, "empty indices")


def test_function_forms():
    x = _distinct((3, 5))
    a, b = _pair(x, requires_grad=False)
    _same(tg.median(a), torch.median(b), "tg.median(x)")
    _same(tg.median(a, 1).indices, torch.median(b, 1).indices, "tg.median(x, 1)")
    _same(tg.median(a, dim=0, keepdim=True).values, torch.median(b, dim=0, keepdim=True).values, "keepdim")
    _same(tg.kthvalue(a, 2, 0).values, torch.kthvalue(b, 2, 0).values, "tg.kthvalue(x, 2, 0)")
    _same(tg.kthvalue(x.tolist(), 3).indices, torch.kthvalue(b, 3).indices, "tg.kthvalue(list, 3)")


def test_gradcheck_float64():
    a = tg.tensor(_distinct((3, 4)), dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(lambda t: t.median(), (a,))
    assert tg.gradcheck(lambda t: t.median(0).values * t.kthvalue(3, 0).values, (a,))
    assert tg.gradcheck(lambda t: t.kthvalue(2, 1, keepdim=True).values, (a,))


@pytest.mark.parametrize("call,error", [
    (lambda m, x: x.kthvalue(6), RuntimeError),              # k > size of the dim
    (lambda m, x: x.kthvalue(0), RuntimeError),
    (lambda m, x: x.kthvalue(1, 2), IndexError),             # dim out of range
    (lambda m, x: x.median(-3), IndexError),
    (lambda m, x: x.kthvalue(1.0), TypeError),               # k must be an int
    (lambda m, x: m.zeros(0, 2).kthvalue(1, 0), IndexError),  # reducing an empty dim
    (lambda m, x: m.zeros(0, 2).median(0), IndexError),
    (lambda m, x: m.tensor([True, False]).median(), NotImplementedError),
    (lambda m, x: m.tensor([True, False]).kthvalue(1), NotImplementedError),
])
def test_errors_like_torch(call, error):
    a, b = _pair(_distinct((4, 5)), requires_grad=False)
    with pytest.raises(error):
        call(torch, b)
    with pytest.raises(error, match="kthvalue|median"):
        call(tg, a)


@pytest.mark.cuda
@pytest.mark.skipif(not tg.cuda.is_available(), reason="needs CuPy and an NVIDIA GPU (or the CUDA simulator)")
def test_cuda_matches_cpu():
    x = _distinct((4, 5))
    x[1, 2] = NAN
    for call in (lambda t: t.median(1), lambda t: t.median(0, True), lambda t: t.kthvalue(3, 1),
                 lambda t: t[0].median(), lambda t: t.median()):
        outs = []
        for device in ("cpu", "cuda"):
            t = tg.tensor(x, dtype=tg.float64, device=device, requires_grad=True)
            r = call(t)
            v = r.values if isinstance(r, tuple) else r
            (v * 2.0).sum().backward()
            assert v.device == t.device
            outs.append([v.detach().to("cpu").numpy(), t.grad.to("cpu").numpy()] +
                        ([r.indices.to("cpu").numpy()] if isinstance(r, tuple) else []))
        for a, b in zip(*outs):
            np.testing.assert_array_equal(a, b)

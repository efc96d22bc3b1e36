"""F.interpolate / F.upsample / nn.Upsample: outputs and input gradients against PyTorch in float64 for
'nearest', 'linear' (3-D) and 'bilinear' (4-D), align_corners True / False, size or scale_factor
(integer and fractional, up and down, recompute_scale_factor), float64 gradcheck, float32 dtype, the
module's repr, and the errors (as PyTorch's: ValueError / NotImplementedError / RuntimeError)."""
import warnings

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import nn
import tinygrad_zh.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def compare(shape, **kw):
    """Same input in both frameworks: same output (float64), same gradient of Σ out·G."""
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape)
    x = tg.Tensor(a, dtype="float64", requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y, yt = F.interpolate(x, **kw), TF.interpolate(xt, **kw)
    assert y.shape == tuple(yt.shape), (kw, y.shape, yt.shape)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=str(kw))
    G = rng.standard_normal(y.shape)
    (y * tg.Tensor(G, dtype="float64")).sum().backward()
    (yt * torch.tensor(G)).sum().backward()
    want = xt.grad.numpy()
    if _torch_backward_shortcut(shape, y.shape, kw):
        want = _adjoint_of_torch_forward(shape, G, kw)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-12, atol=1e-12, err_msg=str(kw))


def _torch_backward_shortcut(shape, out_shape, kw):
    """PyTorch's CPU backward of 'nearest' on 3-D / 5-D inputs is not always the derivative of its own
    forward: it maps out == in to j and out == 2·in to j >> 1 where the forward uses floor(j / scale_factor)
    (5 → 10 with 2.1), and it rounds j · s differently from the float64 forward (31 · 2.3). There we compare
    with the transpose of PyTorch's forward instead. (Its 4-D forward and backward agree.)"""
    return kw.get("mode", "nearest") == "nearest" and len(shape) != 4


def _adjoint_of_torch_forward(shape, G, kw):
    """Σ_j G_j ∂y_j/∂x_i from PyTorch's forward alone: y is linear in x, so apply it to every unit vector
    at once (the unit vectors stacked along the batch dim)."""
    n = int(np.prod(shape))
    basis = torch.eye(n, dtype=torch.float64).reshape((n * shape[0],) + tuple(shape[1:]))
    y = TF.interpolate(basis, **kw).numpy().reshape((n,) + G.shape)
    return (y * G).reshape(n, -1).sum(1).reshape(shape)


SIZES = [dict(size=7), dict(size=3), dict(size=1), dict(size=5), dict(scale_factor=2), dict(scale_factor=3),
         dict(scale_factor=0.5), dict(scale_factor=1.7), dict(scale_factor=2.1), dict(scale_factor=0.6),
         dict(scale_factor=1.1), dict(scale_factor=1.7, recompute_scale_factor=True),
         dict(scale_factor=0.6, recompute_scale_factor=True)]


@pytest.mark.parametrize("kw", SIZES, ids=str)
@pytest.mark.parametrize("mode, align", [("nearest", None), ("linear", False), ("linear", True), ("linear", None)])
def test_1d_matches_torch(mode, align, kw):
    compare((2, 3, 5), mode=mode, align_corners=align, **kw)


SIZES_2D = [dict(size=(7, 3)), dict(size=4), dict(size=(1, 9)), dict(scale_factor=2), dict(scale_factor=(1.5, 0.5)),
            dict(scale_factor=(2.3, 1.3)), dict(scale_factor=0.7), dict(scale_factor=(3, 1.25)),
            dict(scale_factor=(2.3, 0.7), recompute_scale_factor=True), dict(scale_factor=(1.1, 2.1))]


@pytest.mark.parametrize("kw", SIZES_2D, ids=str)
@pytest.mark.parametrize("mode, align", [("nearest", None), ("bilinear", False), ("bilinear", True)])
def test_2d_matches_torch(mode, align, kw):
    compare((2, 2, 5, 4), mode=mode, align_corners=align, **kw)


@pytest.mark.parametrize("kw", [dict(size=(3, 7, 2)), dict(scale_factor=(1.5, 2, 0.5)),
                                dict(scale_factor=(1.1, 2.1, 1.3))], ids=str)
def test_3d_nearest_matches_torch(kw):
    compare((1, 2, 4, 3, 4), **kw)


@pytest.mark.parametrize("n, m", [(3, 7), (7, 3), (10, 21), (13, 27), (100, 333), (999, 1000), (1000, 999), (2, 82)])
def test_nearest_indices_large_and_odd_ratios(n, m):
    """The float32 index formula of PyTorch reproduced exactly, also for ratios near whole numbers
    ((2, 82) and 31 · 2.3: there j · s rounded in float32 and in float64 floor to different indices)."""
    compare((1, 1, n), size=m)
    compare((1, 1, n), scale_factor=m / n)
    compare((1, 1, 31), scale_factor=2.3)


def test_gradcheck():
    rng = np.random.default_rng(0)
    x3 = tg.Tensor(rng.standard_normal((1, 2, 4)), dtype="float64", requires_grad=True)
    x4 = tg.Tensor(rng.standard_normal((1, 2, 3, 4)), dtype="float64", requires_grad=True)
    assert tg.gradcheck(lambda x: F.interpolate(x, size=7, mode="linear"), [x3])
    assert tg.gradcheck(lambda x: F.interpolate(x, scale_factor=0.6, mode="linear", align_corners=True), [x3])
    assert tg.gradcheck(lambda x: F.interpolate(x, size=(5, 3), mode="bilinear"), [x4])
    assert tg.gradcheck(lambda x: F.interpolate(x, scale_factor=(2, 1.5), mode="bilinear", align_corners=True),
                        [x4])
    assert tg.gradcheck(lambda x: F.interpolate(x, scale_factor=1.5), [x4])


def test_float32_stays_float32_and_hand_values():
    x = tg.tensor([[[0.0, 1.0, 2.0, 3.0]]], requires_grad=True)
    y = F.interpolate(x, scale_factor=2, mode="linear")
    assert y.dtype == np.float32
    # align_corners=False, scale 2: src = (j + 0.5)/2 − 0.5, clamped at 0 (hand-derived)
    np.testing.assert_allclose(y.numpy()[0, 0], [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[0, 0], [2, 2, 2, 2])
    z = F.interpolate(x.detach(), size=7, mode="linear", align_corners=True)
    np.testing.assert_allclose(z.numpy()[0, 0], np.arange(7) * 0.5)
    # nearest with scale_factor uses 1/scale_factor: 2.1 → floor(j / 2.1), not j // 2
    np.testing.assert_array_equal(F.interpolate(x.detach(), scale_factor=2.1).numpy()[0, 0],
                                  [0, 0, 0, 1, 1, 2, 2, 3])


def test_upsample_module_and_alias():
    x = tg.tensor(np.arange(24.0).reshape(1, 2, 3, 4))
    xt = torch.tensor(np.arange(24.0).reshape(1, 2, 3, 4))
    for kw in [dict(scale_factor=2), dict(size=(5, 2), mode="bilinear"),
               dict(scale_factor=1.5, mode="bilinear", align_corners=True)]:
        m, mt = nn.Upsample(**kw), torch.nn.Upsample(**kw)
        assert repr(m) == repr(mt)
        np.testing.assert_allclose(m(x).numpy(), mt(xt).numpy(), rtol=1e-6)
    assert list(nn.Upsample(scale_factor=2).parameters()) == []
    with pytest.warns(UserWarning, match="deprecated"):
        y = F.upsample(x, scale_factor=2, mode="bilinear")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(y.numpy(), TF.upsample(xt, scale_factor=2, mode="bilinear").numpy(), rtol=1e-6)


ERRORS = [
    ((1, 1, 4, 4), dict(size=3, scale_factor=2), ValueError, "only one of size or scale_factor"),
    ((1, 1, 4, 4), dict(), ValueError, "either size or scale_factor"),
    ((1, 1, 4, 4), dict(size=(2, 2, 2)), ValueError, "same number of spatial dimensions"),
    ((1, 1, 4, 4), dict(scale_factor=(2, 2, 2)), ValueError, "same number of spatial dimensions"),
    ((1, 1, 4, 4), dict(size=0), RuntimeError, "greater than 0"),
    ((1, 1, 4, 4), dict(scale_factor=0.1), RuntimeError, "greater than 0"),
    ((1, 1, 4, 4), dict(size=2, recompute_scale_factor=True), ValueError, "recompute_scale_factor"),
    ((1, 1, 4, 4), dict(size=2, align_corners=True), ValueError, "align_corners"),
    ((1, 1, 4, 4), dict(size=2, mode="linear"), NotImplementedError, "linear mode needs 3-D"),
    ((1, 1, 4), dict(size=2, mode="bilinear"), NotImplementedError, "bilinear mode needs 4-D"),
    ((1, 4), dict(size=2), NotImplementedError, "3-D, 4-D and 5-D"),
    ((1, 1, 4, 4), dict(size=2, mode="foo"), NotImplementedError, "foo"),
    ((1, 1, 4, 4), dict(size=2, antialias=True), ValueError, "nti-alias"),
]


@pytest.mark.parametrize("shape, kw, exc, match", ERRORS, ids=[str(e[1]) for e in ERRORS])
def test_errors_as_torch(shape, kw, exc, match):
    with pytest.raises(exc):
        TF.interpolate(torch.zeros(shape), **kw)
    with pytest.raises(exc, match=match):
        F.interpolate(tg.zeros(shape), **kw)


@pytest.mark.parametrize("mode, shape", [("bicubic", (1, 1, 4, 4)), ("area", (1, 1, 4, 4)),
                                         ("nearest-exact", (1, 1, 4)), ("trilinear", (1, 1, 2, 2, 2))])
def test_unsupported_modes_name_the_mode(mode, shape):
    with pytest.raises(NotImplementedError, match=mode):
        F.interpolate(tg.zeros(shape), size=3, mode=mode)


def test_antialias_not_supported():
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(tg.zeros((1, 1, 4, 4)), size=2, mode="bilinear", antialias=True)


@pytest.mark.parametrize("n, kw", [(31, dict(scale_factor=2.3)), (2, dict(size=82)), (3, dict(size=123))], ids=str)
def test_nearest_indices_in_float32_as_torch(n, kw):
    """PyTorch computes j · s in the input's precision: float32 inputs pick other indices than float64 here."""
    a = np.arange(n, dtype=np.float32).reshape(1, 1, n)
    y32 = F.interpolate(tg.tensor(a), **kw).numpy()
    np.testing.assert_array_equal(y32, TF.interpolate(torch.tensor(a), **kw).numpy())
    y64 = F.interpolate(tg.tensor(a.astype(np.float64), dtype="float64"), **kw).numpy()
    np.testing.assert_array_equal(y64, TF.interpolate(torch.tensor(a.astype(np.float64)), **kw).numpy())
    assert (y32 != y64).any()                    # the case really tells the two precisions apart

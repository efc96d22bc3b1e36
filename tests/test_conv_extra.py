"""Conv1d, the 1-D pools, GroupNorm and ConvTranspose2d: outputs and gradients against PyTorch in
float64 (same weights), float64 gradcheck of ConvTranspose2dFn, default initialisation, state_dict
keys, repr, and the error messages for wrong shapes."""
import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import nn
import tinygrad_zh.nn.functional as F

torch = pytest.importorskip("torch")


def t64(a, requires_grad=True):
    return tg.Tensor(np.asarray(a, np.float64), dtype="float64", requires_grad=requires_grad)


def compare(fn_ours, fn_torch, arrays, atol=1e-10):
    """fn(*tensors) in both frameworks: same output, and same gradient of Σ out·G for every input."""
    ours = [t64(a) for a in arrays]
    theirs = [torch.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    y, yt = fn_ours(*ours), fn_torch(*theirs)
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=1e-10)
    G = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (y * t64(G, False)).sum().backward()
    (yt * torch.tensor(G)).sum().backward()
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, rtol=1e-10,
                                   err_msg=f"gradient of input {k}")


def distinct(rng, shape):
    """Values without ties (max pooling is differentiable there)."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)


# ----------------------------------------------------------------------------- conv1d
CONV1D = [  # x shape, w shape, kwargs
    ((2, 3, 9), (4, 3, 3), {}),
    ((2, 3, 10), (4, 3, 4), dict(stride=2, padding=1)),
    ((1, 4, 8), (6, 2, 3), dict(groups=2, dilation=2, padding=2)),
    ((2, 3, 7), (2, 3, 4), dict(padding="same")),             # even kernel: one more zero on the right
    ((2, 3, 7), (2, 3, 3), dict(padding="valid", stride=(3,))),
    ((3, 8), (5, 3, 2), {}),                                   # unbatched (C, L)
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("xs, ws, kw", CONV1D)
def test_conv1d_matches_torch(rng, xs, ws, kw):
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    compare(lambda x, w, b: F.conv1d(x, w, b, **kw), lambda x, w, b: torch.nn.functional.conv1d(x, w, b, **kw),
            [x, w, b])


def test_conv1d_module_matches_torch_with_copied_weights(rng):
    tm = torch.nn.Conv1d(3, 4, 3, stride=2, padding=1).double()
    m = nn.Conv1d(3, 4, 3, stride=2, padding=1).double()
    assert list(m.state_dict()) == list(tm.state_dict()) == ["weight", "bias"]
    assert tuple(m.weight.shape) == tuple(tm.weight.shape) == (4, 3, 3)
    assert (m.kernel_size, m.stride, m.padding, m.dilation) == (tm.kernel_size, tm.stride, tm.padding, tm.dilation)
    m.load_state_dict({k: t64(v.detach().numpy(), False) for k, v in tm.state_dict().items()})
    x = rng.standard_normal((2, 3, 11))
    xt, xo = torch.tensor(x, requires_grad=True), t64(x)
    y, yt = m(xo), tm(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(m.bias.grad.numpy(), tm.bias.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("cls, args", [("Conv1d", (4, 6, 5)), ("ConvTranspose2d", (4, 6, 3))])
def test_default_init_bound_is_one_over_sqrt_fan_in(cls, args):
    """PyTorch: weight and bias ~ U(−1/√fan_in, 1/√fan_in), fan_in = weight.shape[1]·kernel size."""
    tg.manual_seed(0)
    m, tm = getattr(nn, cls)(*args, groups=2), getattr(torch.nn, cls)(*args, groups=2)
    assert tuple(m.weight.shape) == tuple(tm.weight.shape)
    fan_in = m.weight.shape[1] * int(np.prod(m.weight.shape[2:]))
    for p in (m.weight, m.bias):
        a = p.detach().numpy()
        assert np.abs(a).max() <= 1 / np.sqrt(fan_in)
        assert np.abs(a).max() > 0.6 / np.sqrt(fan_in)           # really spread over the interval


def test_conv1d_reprs_match_torch():
    for args, kw in [((3, 4, 3), {}), ((3, 4, 3), dict(padding="same", bias=False, dilation=2)),
                     ((4, 4, 5), dict(stride=2, padding=1, groups=2))]:
        assert repr(nn.Conv1d(*args, **kw)) == repr(torch.nn.Conv1d(*args, **kw))


def test_conv1d_errors():
    with pytest.raises(RuntimeError, match="conv1d.*2 channels, got 3"):
        F.conv1d(t64(np.zeros((2, 3, 5))), t64(np.zeros((4, 2, 3))))
    with pytest.raises(RuntimeError, match=r"Conv1d: input has 5 channels.*in_channels=3"):
        nn.Conv1d(3, 4, 3)(t64(np.zeros((2, 5, 7))))
    with pytest.raises(RuntimeError, match="conv1d: expected a 2-D .* or 3-D"):
        F.conv1d(t64(np.zeros(5)), t64(np.zeros((4, 1, 3))))
    with pytest.raises(NotImplementedError, match="padding_mode='reflect'"):
        nn.Conv1d(3, 4, 3, padding_mode="reflect")
    with pytest.raises(RuntimeError, match="'same' is not supported for strided"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")


# ----------------------------------------------------------------------------- 1-D pooling
POOL1D = [
    ("max_pool1d", (2,), {}),
    ("max_pool1d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("max_pool1d", (2,), dict(dilation=2)),
    ("avg_pool1d", (3,), dict(stride=2, padding=1)),
    ("avg_pool1d", (3,), dict(stride=2, padding=1, count_include_pad=False, ceil_mode=True)),
    ("adaptive_avg_pool1d", (3,), {}),
    ("adaptive_avg_pool1d", (1,), {}),
    ("adaptive_max_pool1d", (3,), {}),
    ("adaptive_max_pool1d", (1,), {}),
]


@pytest.mark.parametrize("name, args, kw", POOL1D)
@pytest.mark.parametrize("shape", [(2, 3, 8), (3, 7)])
def test_pool1d_matches_torch(rng, name, args, kw, shape):
    x = distinct(rng, shape)
    compare(lambda x: getattr(F, name)(x, *args, **kw),
            lambda x: getattr(torch.nn.functional, name)(x, *args, **kw), [x])


@pytest.mark.parametrize("name, args, kw", [("max_pool1d", (3,), dict(stride=2, padding=1)),
                                            ("adaptive_max_pool1d", (3,), {})])
def test_pool1d_indices_match_torch(rng, name, args, kw):
    x = distinct(rng, (2, 3, 8))
    y, idx = getattr(F, name)(t64(x), *args, return_indices=True, **kw)
    yt, it = getattr(torch.nn.functional, name)(torch.tensor(x), *args, return_indices=True, **kw)
    np.testing.assert_array_equal(idx.numpy(), it.numpy())
    np.testing.assert_allclose(y.detach().numpy(), yt.numpy())


@pytest.mark.parametrize("cls, args", [("MaxPool1d", (2,)), ("MaxPool1d", (3, 2, 1)), ("AvgPool1d", (3,)),
                                       ("AvgPool1d", (3, 2, 1)), ("AdaptiveAvgPool1d", (3,)),
                                       ("AdaptiveMaxPool1d", (1,))])
def test_pool1d_modules_match_torch(rng, cls, args):
    m, tm = getattr(nn, cls)(*args), getattr(torch.nn, cls)(*args)
    assert repr(m) == repr(tm)
    x = distinct(rng, (2, 3, 9))
    np.testing.assert_allclose(m(t64(x, False)).numpy(), tm(torch.tensor(x)).numpy(), atol=1e-12)


def test_pool1d_errors():
    with pytest.raises(RuntimeError, match=r"max_pool1d: expected a 2-D .* or 3-D .* got shape \(2, 3, 4, 5\)"):
        F.max_pool1d(t64(np.zeros((2, 3, 4, 5))), 2)
    with pytest.raises(RuntimeError, match="kernel_size must be a positive int"):
        F.avg_pool1d(t64(np.zeros((2, 3, 4))), (2, 2))


# ----------------------------------------------------------------------------- GroupNorm
@pytest.mark.parametrize("shape, groups", [((2, 6, 4), 3), ((2, 6, 3, 4), 2), ((3, 4), 4), ((2, 4, 5), 1)])
def test_group_norm_matches_torch(rng, shape, groups):
    C = shape[1]
    x, w, b = rng.standard_normal(shape), rng.standard_normal(C), rng.standard_normal(C)
    compare(lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-3),
            lambda x, w, b: torch.nn.functional.group_norm(x, groups, w, b, eps=1e-3), [x, w, b])
    compare(lambda x: F.group_norm(x, groups), lambda x: torch.nn.functional.group_norm(x, groups), [x])


def test_group_norm_module_matches_torch(rng):
    m, tm = nn.GroupNorm(2, 6).double(), torch.nn.GroupNorm(2, 6).double()
    assert repr(m) == repr(tm) and repr(nn.GroupNorm(3, 6, affine=False)) == repr(torch.nn.GroupNorm(3, 6, affine=False))
    assert list(m.state_dict()) == list(tm.state_dict())
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones(6))
    np.testing.assert_array_equal(m.bias.detach().numpy(), np.zeros(6))
    x = rng.standard_normal((2, 6, 5))
    np.testing.assert_allclose(m(t64(x, False)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), atol=1e-12)


def test_group_norm_gradcheck(rng):
    x, w, b = t64(rng.standard_normal((2, 4, 3))), t64(rng.standard_normal(4)), t64(rng.standard_normal(4))
    assert tg.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), [x, w, b])


def test_group_norm_errors():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match=r"divisible by num_groups, got input of shape \(2, 6, 4\) and num_groups=4"):
        F.group_norm(t64(np.zeros((2, 6, 4))), 4)
    with pytest.raises(RuntimeError, match=r"weight to be a vector of size .* \(4\), got weight of shape \(6,\)"):
        nn.GroupNorm(2, 6)(t64(np.zeros((2, 4, 3))))
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.group_norm(t64(np.zeros(6)), 2)


# ----------------------------------------------------------------------------- ConvTranspose2d
CONVT = [  # x shape, w shape, kwargs
    ((2, 3, 4, 5), (3, 4, 3, 3), {}),
    ((2, 3, 4, 4), (3, 2, 4, 4), dict(stride=2, padding=1)),                  # FCN-style ×2 upsampling
    ((1, 2, 3, 5), (2, 3, 3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2))),
    ((2, 4, 4, 5), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ((1, 2, 3, 3), (2, 2, 2, 3), dict(stride=2, dilation=(2, 1), padding=(1, 2))),
    ((3, 4, 4), (3, 2, 3, 3), dict(stride=2)),                               # unbatched (C, H, W)
]


@pytest.mark.parametrize("xs, ws, kw", CONVT)
def test_conv_transpose2d_matches_torch(rng, xs, ws, kw):
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[1] * kw.get("groups", 1))
    compare(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw),
            lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **kw), [x, w, b])
    compare(lambda x, w: F.conv_transpose2d(x, w, **kw),
            lambda x, w: torch.nn.functional.conv_transpose2d(x, w, **kw), [x, w])


@pytest.mark.parametrize("xs, ws, kw", CONVT[1:5])
def test_conv_transpose2d_gradcheck(rng, xs, ws, kw):
    x, w = t64(rng.standard_normal(xs)), t64(rng.standard_normal(ws))
    b = t64(rng.standard_normal(ws[1] * kw.get("groups", 1)))
    assert tg.gradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, **kw), [x, w, b])


def test_conv_transpose2d_is_the_adjoint_of_conv2d(rng):
    """<conv2d(y, W), x> = <y, conv_transpose2d(x, W)> for the same stride / padding / dilation."""
    W = rng.standard_normal((3, 2, 3, 3))
    x, y = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 2, 8, 8))
    kw = dict(stride=2, padding=1, dilation=1)
    lhs = (F.conv2d(t64(y, False), t64(W, False), **kw).numpy() * x).sum()
    rhs = (F.conv_transpose2d(t64(x, False), t64(W, False), output_padding=1, **kw).numpy() * y).sum()
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


def test_conv_transpose2d_module_matches_torch(rng):
    tm = torch.nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1).double()
    m = nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1).double()
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    assert tuple(m.weight.shape) == tuple(tm.weight.shape) == (3, 4, 4, 4)
    m.load_state_dict({k: t64(v.detach().numpy(), False) for k, v in tm.state_dict().items()})
    x = rng.standard_normal((2, 3, 5, 6))
    xo, xt = t64(x), torch.tensor(x, requires_grad=True)
    y, yt = m(xo), tm(xt)
    assert tuple(y.shape) == (2, 4, 10, 12)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    for a, b in ((xo, xt), (m.weight, tm.weight), (m.bias, tm.bias)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)
    # output_size picks the output_padding
    tm2, m2 = torch.nn.ConvTranspose2d(2, 2, 3, stride=2).double(), nn.ConvTranspose2d(2, 2, 3, stride=2).double()
    m2.load_state_dict({k: t64(v.detach().numpy(), False) for k, v in tm2.state_dict().items()})
    x = rng.standard_normal((1, 2, 3, 3))
    for size in [(7, 8), (8, 7), (1, 2, 8, 8)]:
        np.testing.assert_allclose(m2(t64(x, False), output_size=size).numpy(),
                                   tm2(torch.tensor(x), output_size=size).detach().numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match="output_size"):
        m2(t64(x, False), output_size=(9, 7))


def test_conv_transpose2d_reprs_match_torch():
    for args, kw in [((3, 4, 3), dict(stride=2, padding=1, output_padding=1)),
                     ((2, 2, 3), dict(dilation=2, groups=2, bias=False)), ((2, 4, (2, 3), 2), {})]:
        assert repr(nn.ConvTranspose2d(*args, **kw)) == repr(torch.nn.ConvTranspose2d(*args, **kw))


def test_conv_transpose2d_errors():
    with pytest.raises(RuntimeError, match=r"conv_transpose2d: weight of shape \(3, 2, 3, 3\) expects .* "
                                           r"3 channels, got 4"):
        F.conv_transpose2d(t64(np.zeros((1, 4, 4, 4))), t64(np.zeros((3, 2, 3, 3))))
    with pytest.raises(RuntimeError, match="output_padding .* must be smaller than either stride"):
        F.conv_transpose2d(t64(np.zeros((1, 3, 4, 4))), t64(np.zeros((3, 2, 3, 3))), stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match=r"ConvTranspose2d: input has 5 channels.*in_channels=3"):
        nn.ConvTranspose2d(3, 4, 3)(t64(np.zeros((1, 5, 4, 4))))
    with pytest.raises(RuntimeError, match=r"bias must have shape \(2,\), got \(4,\)"):
        F.conv_transpose2d(t64(np.zeros((1, 3, 4, 4))), t64(np.zeros((3, 2, 3, 3))), t64(np.zeros(4)), groups=1)
    with pytest.raises(TypeError, match="floating point"):
        F.conv_transpose2d(tg.tensor(np.zeros((1, 3, 4, 4), np.int64)), tg.tensor(np.zeros((3, 2, 3, 3), np.int64)))

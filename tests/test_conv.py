"""Conv2d / MaxPool2d / AvgPool2d: im2col helpers against a naive loop, float64 gradcheck, the
modules, and (when installed) PyTorch with the same weights."""
import math

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh.nn.conv import AvgPool2d, Conv2d, MaxPool2d
from tinygrad_zh.ops.conv import (AvgPool2dFn, Conv2dFn, MaxPool2dFn, col2im_arrays, col2im_nhwc_arrays, conv2d,
                                  im2col_arrays, im2col_nhwc_arrays, maxpool_backward_arrays,
                                  maxpool_forward_arrays)


def t64(a, grad=True):
    return tg.Tensor(np.asarray(a, np.float64), dtype="float64", requires_grad=grad)


def naive_conv(x, w, b, stride, padding):
    """Direct definition: out[n, o, i, j] = Σ_{c,di,dj} xpad[n, c, i·s+di, j·s+dj] · w[o, c, di, dj] + b[o]."""
    (sh, sw), (ph, pw) = stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, C, H, W = xp.shape
    O, _, kh, kw = w.shape
    Ho, Wo = (H - kh) // sh + 1, (W - kw) // sw + 1
    out = np.zeros((N, O, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            patch = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def distinct(rng, shape):
    """Values with no ties (max pooling is differentiable there)."""
    return rng.permutation(np.prod(shape)).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)


CONV_CASES = [  # x shape, w shape, stride, padding
    ((2, 3, 5, 6), (4, 3, 3, 3), (1, 1), (0, 0)),
    ((2, 2, 7, 6), (3, 2, 3, 3), (2, 2), (1, 1)),
    ((1, 2, 6, 5), (2, 2, 3, 2), (2, 1), (1, 0)),
    ((2, 1, 5, 5), (2, 1, 2, 2), (3, 3), (2, 2)),
]


@pytest.mark.parametrize("xs, ws, s, p", CONV_CASES)
def test_im2col_layout_and_col2im_adjoint(rng, xs, ws, s, p):
    x = rng.standard_normal(xs)
    kh, kw = ws[2:]
    cols = im2col_arrays(x, (kh, kw), s, p)
    xpad = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    N, C = xs[:2]
    Ho, Wo = (xpad.shape[2] - kh) // s[0] + 1, (xpad.shape[3] - kw) // s[1] + 1
    assert cols.shape == (C * kh * kw, N * Ho * Wo)
    for (c, i, j, n, oh, ow) in [(0, 0, 0, 0, 0, 0), (C - 1, kh - 1, kw - 1, N - 1, Ho - 1, Wo - 1),
                                 (C // 2, kh // 2, 0, N - 1, Ho // 2, Wo - 1)]:
        row, col = (c * kh + i) * kw + j, (n * Ho + oh) * Wo + ow
        assert cols[row, col] == xpad[n, c, oh * s[0] + i, ow * s[1] + j]
    y = rng.standard_normal(cols.shape)
    dx = col2im_arrays(y, xs, (kh, kw), s, p)
    assert dx.shape == xs
    np.testing.assert_allclose(np.vdot(cols, y), np.vdot(x, dx), rtol=1e-12)


def channels_last(a):
    """The same values with NHWC memory (what a previous conv/pool layer hands over)."""
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("xs, ws, s, p", CONV_CASES)
def test_channels_last_helpers_are_the_reordered_channels_first_ones(rng, xs, ws, s, p):
    x = channels_last(rng.standard_normal(xs))
    kh, kw = ws[2:]
    C = xs[1]
    cols = im2col_arrays(x, (kh, kw), s, p)                         # rows (c, i, j)
    cols_t = im2col_nhwc_arrays(x, (kh, kw), s, p)                  # columns (i, j, c)
    reorder = cols.reshape(C, kh, kw, -1).transpose(3, 1, 2, 0).reshape(cols.shape[1], -1)
    np.testing.assert_array_equal(cols_t, reorder)
    y = rng.standard_normal(cols_t.shape)
    dx = col2im_nhwc_arrays(y, xs, (kh, kw), s, p)
    np.testing.assert_allclose(np.vdot(cols_t, y), np.vdot(x, dx), rtol=1e-12)


@pytest.mark.parametrize("xs, ws, s, p", CONV_CASES[1:])
def test_conv_channels_last_input_gradcheck(rng, xs, ws, s, p):
    """An input whose memory is NHWC takes the channels-last path: same values, right gradients."""
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    xt = tg.Tensor(channels_last(x), dtype="float64", requires_grad=True)
    out = Conv2dFn.apply(xt, t64(w), t64(b), stride=s, padding=p)
    np.testing.assert_allclose(out.numpy(), naive_conv(x, w, b, s, p), rtol=1e-12, atol=1e-12)
    probe = Conv2dFn()
    probe.forward(channels_last(x), w, b, stride=s, padding=p)
    assert probe.channels_last == (xs[1] > 1)                    # one channel: both layouts are the same
    probe.forward(x, w, b, stride=s, padding=p)
    assert not probe.channels_last

    def f(x, w, b):
        return Conv2dFn.apply(x.permute(0, 2, 3, 1).tanh().permute(0, 3, 1, 2), w, b, stride=s, padding=p) ** 2
    assert tg.gradcheck(f, [t64(x), t64(w), t64(b)])


@pytest.mark.parametrize("xs, ws, s, p", CONV_CASES)
def test_conv_forward_matches_naive_and_gradcheck(rng, xs, ws, s, p):
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])
    out = Conv2dFn.apply(t64(x), t64(w), t64(b), stride=s, padding=p)
    np.testing.assert_allclose(out.numpy(), naive_conv(x, w, b, s, p), rtol=1e-12, atol=1e-12)

    def f(x, w, b):
        y = Conv2dFn.apply(x, w, b, stride=s, padding=p)
        return y * y                                   # non-linear: g is not all-equal
    assert tg.gradcheck(f, [t64(x), t64(w), t64(b)])


def test_conv_without_bias_and_float32(rng):
    x, w = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3))
    assert tg.gradcheck(lambda x, w: Conv2dFn.apply(x, w, padding=1), [t64(x), t64(w)])
    y32 = Conv2dFn.apply(tg.Tensor(x.astype(np.float32)), tg.Tensor(w.astype(np.float32)), padding=1)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32.numpy(), naive_conv(x, w, 0.0, (1, 1), (1, 1)), rtol=1e-4, atol=1e-5)


def test_conv_chain_with_noncontiguous_intermediates(rng):
    """conv -> relu -> maxpool -> conv -> avgpool: intermediates are transposed views; gradients stay right."""
    x = t64(rng.standard_normal((2, 2, 8, 8)))
    w1, b1 = t64(rng.standard_normal((3, 2, 3, 3))), t64(rng.standard_normal(3))
    w2, b2 = t64(rng.standard_normal((2, 3, 2, 2))), t64(rng.standard_normal(2))

    def f(x, w1, b1, w2, b2):
        h = MaxPool2dFn.apply(Conv2dFn.apply(x, w1, b1, padding=1).tanh(), kernel_size=2)
        return AvgPool2dFn.apply(Conv2dFn.apply(h, w2, b2), kernel_size=2, stride=1).flatten(1)
    assert tg.gradcheck(f, [x, w1, b1, w2, b2])


def test_conv_errors_name_shapes():
    with pytest.raises(ValueError, match=r"conv2d.*\(1, 3, 5, 5\).*\(2, 4, 3, 3\)"):
        Conv2dFn.apply(tg.zeros(1, 3, 5, 5), tg.zeros(2, 4, 3, 3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        Conv2dFn.apply(tg.zeros(1, 1, 2, 2), tg.zeros(1, 1, 3, 3))
    with pytest.raises(TypeError, match="float64"):
        Conv2dFn.apply(tg.zeros(1, 1, 4, 4), tg.zeros(1, 1, 3, 3, dtype="float64"))
    with pytest.raises(ValueError, match="in_channels=3"):
        Conv2d(3, 2, 3)(tg.zeros(1, 2, 5, 5))


# ----------------------------------------------------------------------------- pooling
POOL_CASES = [  # kernel, stride, padding
    (2, None, 0), (3, 2, 1), (3, 1, 0), ((2, 3), (1, 2), (1, 1)),
]


@pytest.mark.parametrize("k, s, p", POOL_CASES)
def test_maxpool_gradcheck_and_values(rng, k, s, p):
    x = distinct(rng, (2, 2, 6, 7))
    out = MaxPool2dFn.apply(t64(x), kernel_size=k, stride=s, padding=p)
    kk = (k, k) if isinstance(k, int) else k
    ss = kk if s is None else ((s, s) if isinstance(s, int) else s)
    pp = (p, p) if isinstance(p, int) else p
    xpad = np.pad(x, ((0, 0), (0, 0), (pp[0],) * 2, (pp[1],) * 2), constant_values=-np.inf)
    i, j = out.shape[2] - 1, out.shape[3] - 1                     # the last window, by hand
    win = xpad[:, :, i * ss[0]:i * ss[0] + kk[0], j * ss[1]:j * ss[1] + kk[1]]
    np.testing.assert_array_equal(out.numpy()[:, :, i, j], win.max(axis=(2, 3)))
    assert tg.gradcheck(lambda x: MaxPool2dFn.apply(x, kernel_size=k, stride=s, padding=p) ** 2, [t64(x)])


@pytest.mark.parametrize("k, s, p", POOL_CASES)
def test_avgpool_gradcheck(rng, k, s, p):
    x = t64(rng.standard_normal((2, 2, 6, 7)))
    assert tg.gradcheck(lambda x: AvgPool2dFn.apply(x, kernel_size=k, stride=s, padding=p) ** 2, [x])
    assert tg.gradcheck(lambda x: AvgPool2dFn.apply(x, kernel_size=k, stride=s, padding=p,
                                                    count_include_pad=False) ** 2, [x])


def test_maxpool_ties_route_to_first_maximum():
    x = np.ones((1, 1, 2, 4))
    x[0, 0, 1, 3] = 1.0                                           # all equal
    xt = t64(x)
    MaxPool2dFn.apply(xt, kernel_size=2).sum().backward()
    expect = np.zeros((1, 1, 2, 4))
    expect[0, 0, 0, 0] = expect[0, 0, 0, 2] = 1                   # first element of each window
    np.testing.assert_array_equal(xt.grad.numpy(), expect)


def test_maxpool_overlapping_windows_accumulate():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0                                           # the max of all four 2x2 windows
    xt = t64(x)
    MaxPool2dFn.apply(xt, kernel_size=2, stride=1).sum().backward()
    assert xt.grad.numpy()[0, 0, 1, 1] == 4 and xt.grad.numpy().sum() == 4


def test_maxpool_arrays_index_convention(rng):
    x = distinct(rng, (1, 2, 4, 4))
    out, idx = maxpool_forward_arrays(x, (2, 2), (2, 2))
    for c, i, j in [(0, 0, 0), (1, 1, 1), (0, 1, 0)]:
        win = x[0, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2].reshape(-1)
        assert idx[0, c, i, j] == win.argmax() and out[0, c, i, j] == win.max()
    g = rng.standard_normal(out.shape)
    dx = maxpool_backward_arrays(g, idx, x.shape, (2, 2), (2, 2))
    assert dx.sum() == pytest.approx(g.sum()) and (dx != 0).sum() == g.size


def test_pool_errors():
    with pytest.raises(ValueError, match="at most half"):
        MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match=r"max_pool2d.*4-D"):
        MaxPool2dFn.apply(tg.zeros(2, 3), kernel_size=2)
    with pytest.raises(ValueError, match="larger than the padded input"):
        AvgPool2dFn.apply(tg.zeros(1, 1, 2, 2), kernel_size=3)


# ----------------------------------------------------------------------------- modules
def test_conv2d_module_init_shapes_and_repr():
    m = Conv2d(3, 8, 3, stride=2, padding=1)
    bound = 1 / math.sqrt(3 * 3 * 3)
    assert m.weight.shape == (8, 3, 3, 3) and m.bias.shape == (8,) and m.weight.dtype == np.float32
    for p in (m.weight, m.bias):
        assert np.abs(p.numpy()).max() <= bound
    assert np.abs(m.weight.numpy()).max() > 0.8 * bound
    assert m(tg.zeros(2, 3, 9, 9)).shape == (2, 8, 5, 5)
    assert m(tg.zeros(3, 9, 9)).shape == (8, 5, 5)                 # unbatched (C, H, W)
    assert Conv2d(3, 4, 5, padding="same")(tg.zeros(1, 3, 7, 7)).shape == (1, 4, 7, 7)
    assert Conv2d(1, 2, 3, bias=False).bias is None
    assert repr(m) == "Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"
    assert MaxPool2d(2)(tg.zeros(1, 2, 5, 5)).shape == (1, 2, 2, 2)
    assert AvgPool2d(3, 1, 1)(tg.zeros(2, 5, 5)).shape == (2, 5, 5)
    tg.manual_seed(7)
    a = Conv2d(2, 2, 3).weight.numpy()
    tg.manual_seed(7)
    np.testing.assert_array_equal(a, Conv2d(2, 2, 3).weight.numpy())


def test_functional_conv2d_padding_modes(rng):
    x, w = t64(rng.standard_normal((1, 2, 5, 5)), False), t64(rng.standard_normal((3, 2, 3, 3)), False)
    np.testing.assert_allclose(conv2d(x, w, padding="same").numpy(),
                               naive_conv(x.numpy(), w.numpy(), 0.0, (1, 1), (1, 1)), rtol=1e-12)
    assert conv2d(x, w, padding="valid").shape == (1, 3, 3, 3)
    with pytest.raises(ValueError, match="groups=2"):         # 2 input channels, weight expects 2·2
        conv2d(x, w, groups=2)


# ----------------------------------------------------------------------------- PyTorch
def _torch_pair(torch, ours_cls, theirs_cls, *args, **kwargs):
    theirs = theirs_cls(*args, **kwargs).double()
    ours = ours_cls(*args, **kwargs).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _run_both(torch, ours, theirs, x):
    tx, gx = torch.tensor(x, requires_grad=True), t64(x)
    to, go = theirs(tx), ours(gx)
    w = np.random.default_rng(1).standard_normal(to.shape)
    (to * torch.tensor(w)).sum().backward()
    (go * t64(w, False)).sum().backward()
    np.testing.assert_allclose(go.numpy(), to.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg="output")
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg="dx")
    return tx, gx


def test_conv2d_matches_torch(rng):
    torch = pytest.importorskip("torch")
    ours, theirs = _torch_pair(torch, Conv2d, torch.nn.Conv2d, 3, 4, 3, stride=2, padding=1)
    _run_both(torch, ours, theirs, rng.standard_normal((2, 3, 7, 8)))
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"gradient of {name}")


@pytest.mark.parametrize("k, s, p", [(2, None, 0), (3, 2, 1), (3, 1, 1)])
def test_pools_match_torch(rng, k, s, p):
    torch = pytest.importorskip("torch")
    x = distinct(rng, (2, 3, 7, 6))
    _run_both(torch, MaxPool2d(k, s, p), torch.nn.MaxPool2d(k, s, p), x)
    _run_both(torch, AvgPool2d(k, s, p), torch.nn.AvgPool2d(k, s, p), x)
    _run_both(torch, AvgPool2d(k, s, p, count_include_pad=False),
              torch.nn.AvgPool2d(k, s, p, count_include_pad=False), x)


def test_small_cnn_matches_torch(rng):
    """The benchmark's CNN shape: Conv -> ReLU -> MaxPool -> Conv -> ReLU -> MaxPool, float32."""
    torch = pytest.importorskip("torch")
    c1, t1 = _torch_pair(torch, Conv2d, torch.nn.Conv2d, 1, 4, 3)
    c2, t2 = _torch_pair(torch, Conv2d, torch.nn.Conv2d, 4, 6, 3)
    for m in (c1, c2, t1, t2):
        m.float()
    x = rng.random((3, 1, 14, 14)).astype(np.float32)
    tx, gx = torch.tensor(x, requires_grad=True), tg.Tensor(x, requires_grad=True)
    tpool, gpool = torch.nn.MaxPool2d(2), MaxPool2d(2)
    to = tpool(t2(tpool(t1(tx).relu())).relu())
    go = gpool(c2(gpool(c1(gx).relu())).relu())
    (to ** 2).sum().backward()
    (go * go).sum().backward()
    assert go.dtype == np.float32 and go.shape == tuple(to.shape)
    np.testing.assert_allclose(go.numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for ours, theirs in ((c1, t1), (c2, t2)):
        for name, p in theirs.named_parameters():
            np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(), rtol=1e-4, atol=1e-4)

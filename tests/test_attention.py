"""Attention: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention`` against PyTorch.

* MultiheadAttention: parameter names / shapes / order and ``state_dict`` keys equal PyTorch's, a
  PyTorch ``state_dict`` (as NumPy) loads strictly, the initialisation scheme;
* the same weights give the same outputs, attention weights and gradients (inputs, every parameter,
  float masks) in float64 for: both layouts, self- and cross-attention, unbatched inputs,
  kdim/vdim, need_weights False, per-head weights, bool and float attn_mask (2-D and 3-D),
  key_padding_mask, both masks, bias=False, add_bias_kv, add_zero_attn, the is_causal hint;
* fully masked rows (NaN with weights, 0 without, as PyTorch), dropout on the returned weights;
* scaled_dot_product_attention: bool mask (True = keep), float mask, is_causal (also with L != S
  and its error with a mask), scale, 2-D inputs, broadcasting batch dims, GQA, fully masked rows, gradcheck;
* errors name the op and the shapes.
"""
import math
import warnings

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.nn.functional as F
from tinygrad_zh import nn
from tinygrad_zh.nn.attention import AttentionShapeError

torch = pytest.importorskip("torch")

E, H = 8, 2


# ----------------------------------------------------------------------------- helpers
def t64(a, grad=True):
    return tg.Tensor(np.asarray(a, np.float64), dtype="float64", requires_grad=grad)


def pt(a, grad=True):
    t = torch.tensor(np.asarray(a))
    return t.requires_grad_(grad and t.is_floating_point())


def tg_mask(a):
    a = np.asarray(a)
    return tg.Tensor(a) if a.dtype == bool else t64(a)


def close(ours, theirs, what, atol=1e-10):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    ours = ours.numpy() if hasattr(ours, "numpy") else ours
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=atol, err_msg=what)


def pair(seed=0, **kw):
    """A torch MultiheadAttention (float64) and ours holding the same weights (via load_state_dict)."""
    torch.manual_seed(seed)
    theirs = torch.nn.MultiheadAttention(E, H, **kw).double()
    ours = nn.MultiheadAttention(E, H, dtype="float64", **kw)
    with torch.no_grad():                          # non-trivial biases, so their gradients mean something
        for p in theirs.parameters():
            if p.ndim == 1:
                p.normal_(0, 0.3)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def compare_mha(ours, theirs, rng, q, k=None, v=None, masks=(), **fkw):
    """Forward both modules on the same arrays (k = v = q: one shared tensor, self-attention), back-
    propagate a weighted sum of output and weights, compare everything. ``masks``: names of
    keyword mask arrays in ``fkw``; float masks require grad and their gradients are compared too."""
    same = k is None
    arrays = [q] if same else [q, k, v]
    ti, pi = [t64(a) for a in arrays], [pt(a) for a in arrays]
    tk, pk = dict(fkw), dict(fkw)
    for name in masks:
        tk[name], pk[name] = tg_mask(fkw[name]), pt(fkw[name])
    args_t = ti * 3 if same else ti
    args_p = pi * 3 if same else pi
    out_t, w_t = ours(*args_t, **tk)
    out_p, w_p = theirs(*args_p, **pk)
    close(out_t, out_p, "attn_output")
    r = rng.standard_normal(out_p.shape)
    loss_t, loss_p = (out_t * t64(r, False)).sum(), (out_p * torch.tensor(r)).sum()
    if w_p is None:
        assert w_t is None
    else:
        close(w_t, w_p, "attn_output_weights")
        rw = rng.standard_normal(w_p.shape)
        loss_t, loss_p = loss_t + (w_t * t64(rw, False)).sum(), loss_p + (w_p * torch.tensor(rw)).sum()
    loss_t.backward()
    loss_p.backward()
    for i, (a, b) in enumerate(zip(ti, pi)):
        close(a.grad, b.grad, f"grad of input {i}")
    named = dict(ours.named_parameters())
    assert list(named) == [n for n, _ in theirs.named_parameters()]
    for n, p in theirs.named_parameters():
        close(named[n].grad, p.grad, f"grad of {n}")
    for name in masks:
        if pk[name].is_floating_point():
            close(tk[name].grad, pk[name].grad, f"grad of {name}")
    return out_t, w_t


# ----------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("kw", [{}, {"kdim": 3, "vdim": 5}, {"bias": False}, {"add_bias_kv": True},
                                {"kdim": 3, "vdim": 5, "bias": False, "batch_first": True}])
def test_parameter_names_shapes_and_state_dict_match_torch(kw):
    theirs = torch.nn.MultiheadAttention(E, H, **kw)
    ours = nn.MultiheadAttention(E, H, **kw)
    assert [(n, tuple(p.shape)) for n, p in theirs.named_parameters()] == \
        [(n, p.shape) for n, p in ours.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    res = ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert not res.missing_keys and not res.unexpected_keys
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy())
    assert repr(ours) == repr(theirs)
    assert (ours.embed_dim, ours.num_heads, ours.head_dim, ours.kdim, ours.vdim, ours._qkv_same_embed_dim,
            ours.batch_first, ours.dropout) == \
        (theirs.embed_dim, theirs.num_heads, theirs.head_dim, theirs.kdim, theirs.vdim,
         theirs._qkv_same_embed_dim, theirs.batch_first, theirs.dropout)


def test_initialisation_scheme():
    E2 = 64
    m = nn.MultiheadAttention(E2, 4, add_bias_kv=True)
    w = m.in_proj_weight.numpy()
    bound = math.sqrt(6.0 / (E2 + 3 * E2))          # xavier_uniform_: fan_in = E, fan_out = 3E
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert not m.in_proj_bias.numpy().any() and not m.out_proj.bias.numpy().any()
    ow = m.out_proj.weight.numpy()                   # Linear's default: U(-1/√E, 1/√E)
    assert np.abs(ow).max() <= 1 / math.sqrt(E2) and np.abs(ow).max() > 0.95 / math.sqrt(E2)
    assert 0.5 / math.sqrt(E2) < m.bias_k.numpy().std() < 1.5 / math.sqrt(E2)   # xavier_normal_: 1/√E
    sep = nn.MultiheadAttention(E2, 4, kdim=16, vdim=32)
    kb = math.sqrt(6.0 / (E2 + 16))
    assert kb * 0.95 < np.abs(sep.k_proj_weight.numpy()).max() <= kb
    assert sep.in_proj_weight is None


# ----------------------------------------------------------------------------- outputs and gradients
L_, S_, N_ = 3, 4, 2


@pytest.mark.parametrize("batch_first", [False, True])
def test_self_attention_matches_torch(rng, batch_first):
    ours, theirs = pair(batch_first=batch_first)
    compare_mha(ours, theirs, rng, rng.standard_normal((N_, L_, E) if batch_first else (L_, N_, E)))


@pytest.mark.parametrize("batch_first", [False, True])
def test_cross_attention_matches_torch(rng, batch_first):
    ours, theirs = pair(batch_first=batch_first)
    shp = (lambda T: (N_, T, E)) if batch_first else (lambda T: (T, N_, E))
    compare_mha(ours, theirs, rng, rng.standard_normal(shp(L_)), rng.standard_normal(shp(S_)),
                rng.standard_normal(shp(S_)))


@pytest.mark.parametrize("batch_first", [False, True])
def test_kdim_vdim_matches_torch(rng, batch_first):
    ours, theirs = pair(kdim=3, vdim=5, batch_first=batch_first)
    shp = (lambda T, D: (N_, T, D)) if batch_first else (lambda T, D: (T, N_, D))
    compare_mha(ours, theirs, rng, rng.standard_normal(shp(L_, E)), rng.standard_normal(shp(S_, 3)),
                rng.standard_normal(shp(S_, 5)), average_attn_weights=False)


def test_unbatched_matches_torch(rng):
    ours, theirs = pair()
    out, w = compare_mha(ours, theirs, rng, rng.standard_normal((L_, E)))
    assert out.shape == (L_, E) and w.shape == (L_, L_)
    kpm = np.array([0.0, -np.inf, 0.0, 0.0])          # float masks: -inf hides key 1
    am = rng.standard_normal((H, L_, S_))             # 3-D attn_mask of an unbatched input: (H, L, S)
    out, w = compare_mha(ours, theirs, rng, rng.standard_normal((L_, E)), rng.standard_normal((S_, E)),
                         rng.standard_normal((S_, E)), masks=("attn_mask", "key_padding_mask"), attn_mask=am,
                         key_padding_mask=kpm, average_attn_weights=False)
    assert w.shape == (H, L_, S_) and not w.numpy()[:, :, 1].any()


def test_need_weights_false_and_per_head_weights(rng):
    ours, theirs = pair()
    x = rng.standard_normal((L_, N_, E))
    out, w = compare_mha(ours, theirs, rng, x, need_weights=False)
    assert w is None
    out, w = compare_mha(ours, theirs, rng, x, average_attn_weights=False)
    assert w.shape == (N_, H, L_, L_)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("need_weights", [True, False])
def test_masks_match_torch(rng, need_weights):
    ours, theirs = pair()
    q, k, v = (rng.standard_normal(s) for s in ((L_, N_, E), (S_, N_, E), (S_, N_, E)))
    bool_2d = np.array([[0, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0]], bool)   # True = masked out
    out, w = compare_mha(ours, theirs, rng, q, k, v, masks=("attn_mask",), attn_mask=bool_2d,
                         need_weights=need_weights, average_attn_weights=False)
    if need_weights:
        assert not w.numpy()[:, :, bool_2d].any()     # masked positions get weight 0
    float_3d = rng.standard_normal((N_ * H, L_, S_))
    compare_mha(ours, theirs, rng, q, k, v, masks=("attn_mask",), attn_mask=float_3d, need_weights=need_weights)
    kpm = np.array([[0, 0, 0, 1], [0, 1, 0, 0]], bool)
    out, w = compare_mha(ours, theirs, rng, q, k, v, masks=("key_padding_mask",), key_padding_mask=kpm,
                         need_weights=need_weights)
    if need_weights:
        assert not w.numpy()[0, :, 3].any() and not w.numpy()[1, :, 1].any()
    compare_mha(ours, theirs, rng, q, k, v, masks=("key_padding_mask",),
                key_padding_mask=rng.standard_normal((N_, S_)), need_weights=need_weights)
    compare_mha(ours, theirs, rng, q, k, v, masks=("attn_mask", "key_padding_mask"), attn_mask=bool_2d,
                key_padding_mask=kpm, need_weights=need_weights)
    bool_3d = rng.random((N_ * H, L_, S_)) < 0.3
    bool_3d[..., 0] = False                           # no fully masked rows (those are NaN with weights)
    compare_mha(ours, theirs, rng, q, k, v, masks=("attn_mask",), attn_mask=bool_3d, need_weights=need_weights)


def test_mixed_mask_types_warn_and_match_torch(rng):
    ours, theirs = pair()
    x = rng.standard_normal((L_, N_, E))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                # torch warns too
        compare_mha(ours, theirs, rng, x, masks=("attn_mask", "key_padding_mask"),
                    attn_mask=rng.standard_normal((L_, L_)), key_padding_mask=np.array([[0, 1, 0], [0, 0, 0]], bool))
    with pytest.warns(UserWarning, match="key_padding_mask and attn_mask"):
        ours(*[t64(x)] * 3, attn_mask=t64(np.zeros((L_, L_))), key_padding_mask=tg.Tensor(np.zeros((N_, L_), bool)))


@pytest.mark.parametrize("kw", [{"bias": False}, {"add_bias_kv": True}, {"add_zero_attn": True},
                                {"add_bias_kv": True, "add_zero_attn": True, "batch_first": True}])
def test_options_match_torch(rng, kw):
    ours, theirs = pair(**kw)
    bf = kw.get("batch_first", False)
    q = rng.standard_normal((N_, L_, E) if bf else (L_, N_, E))
    kv = [rng.standard_normal((N_, S_, E) if bf else (S_, N_, E)) for _ in range(2)]
    am = np.zeros((L_, S_), bool)
    am[0, 1] = True
    kpm = np.array([[0, 0, 1, 0], [1, 0, 0, 0]], bool)
    out, w = compare_mha(ours, theirs, rng, q, *kv, masks=("attn_mask", "key_padding_mask"), attn_mask=am,
                         key_padding_mask=kpm)
    extra = kw.get("add_bias_kv", False) + kw.get("add_zero_attn", False)
    assert w.shape == (N_, L_, S_ + extra)
    compare_mha(ours, theirs, rng, q, *kv, need_weights=False)


@pytest.mark.parametrize("need_weights", [True, False])
def test_is_causal_hint_matches_torch(rng, need_weights):
    ours, theirs = pair()
    x = rng.standard_normal((L_, N_, E))
    # the hint trusts attn_mask to be causal: without weights torch uses a causal mask instead of it,
    # with weights it uses attn_mask itself; a non-causal mask makes the two visible
    odd = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], bool)
    out, w = compare_mha(ours, theirs, rng, x, masks=("attn_mask",), attn_mask=odd, is_causal=True,
                         need_weights=need_weights)
    with pytest.raises(RuntimeError, match="attn_mask"):
        ours(*[t64(x)] * 3, is_causal=True)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")      # softmax of a row of -inf: NaN
def test_fully_masked_rows_follow_torch(rng):
    ours, theirs = pair()
    x = rng.standard_normal((L_, N_, E))
    kpm = np.array([[0, 0, 0], [1, 1, 1]], bool)       # sample 1 sees nothing
    out, w = ours(*[t64(x)] * 3, key_padding_mask=tg.Tensor(kpm))
    tout, tw = theirs(*[pt(x)] * 3, key_padding_mask=pt(kpm))
    np.testing.assert_array_equal(np.isnan(out.numpy()), np.isnan(tout.detach().numpy()))
    assert np.isnan(out.numpy()[:, 1]).all() and np.isnan(w.numpy()[1]).all() and np.isfinite(out.numpy()[:, 0]).all()
    xt = t64(x)
    out, w = ours(xt, xt, xt, key_padding_mask=tg.Tensor(kpm), need_weights=False)
    tout, _ = theirs(*[pt(x)] * 3, key_padding_mask=pt(kpm), need_weights=False)
    close(out, tout, "fully masked rows without weights")       # 0 attention: only out_proj's bias
    out.sum().backward()
    assert np.isfinite(xt.grad.numpy()).all()


def test_dropout_acts_on_the_returned_weights(rng):
    ours, _ = pair(dropout=0.5)
    x = [t64(rng.standard_normal((L_, N_, E)))] * 3
    ours.eval()
    _, w_eval = ours(*x, average_attn_weights=False)
    ours.train()
    tg.manual_seed(1)
    _, w = ours(*x, average_attn_weights=False)
    w, w_eval = w.numpy(), w_eval.numpy()
    dropped = w == 0
    assert dropped.any() and (~dropped).any()
    np.testing.assert_allclose(w[~dropped], 2 * w_eval[~dropped], rtol=1e-12)   # kept ones scaled by 1/(1-p)
    ours1, theirs1 = pair(dropout=1.0)                # every weight dropped: the output is out_proj's bias
    out, w = ours1(*x)
    tout, tw = theirs1(*[pt(x[0].numpy())] * 3)
    close(out, tout, "dropout=1 output")
    close(w, tw, "dropout=1 weights")


# ----------------------------------------------------------------------------- scaled_dot_product_attention
def compare_sdpa(rng, q, k, v, mask=None, **kw):
    ti, pi = [t64(a) for a in (q, k, v)], [pt(a) for a in (q, k, v)]
    tm = pm = None
    if mask is not None:
        tm, pm = tg_mask(mask), pt(mask)
    out_t = F.scaled_dot_product_attention(*ti, attn_mask=tm, **kw)
    out_p = torch.nn.functional.scaled_dot_product_attention(*pi, attn_mask=pm, **kw)
    close(out_t, out_p, "sdpa output")
    r = rng.standard_normal(out_p.shape)
    (out_t * t64(r, False)).sum().backward()
    (out_p * torch.tensor(r)).sum().backward()
    for i, (a, b) in enumerate(zip(ti, pi)):
        close(a.grad, b.grad, f"sdpa grad of input {i}")
    if pm is not None and pm.is_floating_point():
        close(tm.grad, pm.grad, "sdpa grad of the float mask")
    return out_t, ti


def test_sdpa_plain_scale_and_2d(rng):
    q, k, v = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((2, 3, 6, 7))
    out, _ = compare_sdpa(rng, q, k, v)
    assert out.shape == (2, 3, 4, 7)
    compare_sdpa(rng, q, k, v, scale=0.3)
    compare_sdpa(rng, q[0, 0], k[0, 0], v[0, 0])
    compare_sdpa(rng, q, k[:1], v[0])                       # batch dims broadcast


def test_sdpa_masks(rng):
    q, k, v = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((2, 3, 6, 7))
    keep = rng.random((4, 6)) < 0.6                         # bool: True = take part
    keep[:, 0] = True
    compare_sdpa(rng, q, k, v, keep)
    compare_sdpa(rng, q, k, v, rng.standard_normal((3, 1, 6)))     # float, broadcast
    compare_sdpa(rng, q, k, v, is_causal=True)                     # L != S: top-left aligned
    with pytest.raises(RuntimeError, match="is_causal"):           # PyTorch's documented error
        F.scaled_dot_product_attention(t64(q), t64(k), t64(v), attn_mask=tg.Tensor(keep), is_causal=True)
    compare_sdpa(rng, q, k[:, :, :4], v[:, :, :4], is_causal=True, dropout_p=0.0)


def test_sdpa_fully_masked_row_gives_zeros(rng):
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    keep = np.ones((3, 5), bool)
    keep[1] = False
    out, ti = compare_sdpa(rng, q, k, v, keep)
    assert not out.numpy()[1].any() and np.isfinite(ti[0].grad.numpy()).all()
    fm = np.zeros((3, 5))
    fm[2] = -np.inf
    compare_sdpa(rng, q, k, v, fm)


def test_sdpa_gqa(rng):
    q, k, v = rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((2, 2, 6, 7))
    compare_sdpa(rng, q, k, v, enable_gqa=True)
    with pytest.raises(RuntimeError, match="divide"):
        F.scaled_dot_product_attention(t64(q), t64(np.repeat(k[:, :1], 3, 1)), t64(np.repeat(v[:, :1], 3, 1)),
                                       enable_gqa=True)


def test_sdpa_gradcheck(rng):
    mask = tg.Tensor(np.array([[1, 1, 0], [0, 1, 1]], bool))
    fn = lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.7)   # noqa: E731
    assert tg.gradcheck(fn, [t64(rng.standard_normal((2, 2, 4))), t64(rng.standard_normal((2, 3, 4))),
                             t64(rng.standard_normal((2, 3, 2))), t64(rng.standard_normal((2, 3)))])
    assert tg.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                        [t64(rng.standard_normal((2, 4))), t64(rng.standard_normal((3, 4))),
                         t64(rng.standard_normal((3, 2)))])


def test_sdpa_dropout():
    q = t64(np.zeros((1, 64, 4)), grad=False)
    v = t64(np.ones((1, 64, 1)), grad=False)
    out = F.scaled_dot_product_attention(q, q, v, dropout_p=0.5).numpy()   # uniform weights 1/64
    kept = out * 64 / 2                                                     # number of kept weights per row
    np.testing.assert_allclose(kept, np.round(kept), atol=1e-9)
    assert 16 < kept.mean() < 48
    assert not F.scaled_dot_product_attention(q, q, v, dropout_p=1.0).numpy().any()


# ----------------------------------------------------------------------------- errors
def test_constructor_errors():
    with pytest.raises(AssertionError, match="divisible"):          # PyTorch: AssertionError
        nn.MultiheadAttention(8, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(0, 2)
    with pytest.raises(ValueError, match="dropout"):
        nn.MultiheadAttention(8, 2, dropout=1.5)
    with pytest.raises(TypeError, match="embed_dim"):
        nn.MultiheadAttention(8.0, 2)


def test_forward_shape_errors_name_the_shapes():
    m = nn.MultiheadAttention(8, 2)
    x = tg.randn(3, 2, 8)

    def err(*args, **kw):
        with pytest.raises(AttentionShapeError) as e:
            m(*args, **kw)
        return str(e.value)

    msg = err(tg.randn(3, 2, 7), tg.randn(3, 2, 7), tg.randn(3, 2, 7))
    assert "embed_dim=8" in msg and "(3, 2, 7)" in msg
    assert "kdim=8" in err(x, tg.randn(4, 2, 5), tg.randn(4, 2, 8))
    assert "(4, 2, 8)" in err(x, tg.randn(4, 2, 8), tg.randn(5, 2, 8))
    assert "batch size" in err(x, tg.randn(4, 3, 8), tg.randn(4, 3, 8))
    assert "(4, 2, 8)" in err(tg.randn(3, 8), tg.randn(4, 2, 8), tg.randn(4, 2, 8))
    assert "4-D" in err(tg.randn(1, 3, 2, 8), tg.randn(1, 3, 2, 8), tg.randn(1, 3, 2, 8))
    assert "(3, 3)" in err(x, x, x, attn_mask=tg.zeros(4, 3))
    assert "(4, 3, 3)" in err(x, x, x, attn_mask=tg.zeros(2, 3, 3))
    assert "(2, 3)" in err(x, x, x, key_padding_mask=tg.Tensor(np.zeros((2, 4), bool)))
    assert "int64" in err(x, x, x, attn_mask=tg.Tensor(np.zeros((3, 3), np.int64)))
    assert "float64" in err(x, x, x, attn_mask=tg.zeros(3, 3, dtype="float64"))
    with pytest.raises(TypeError, match="key"):
        m(x, x.numpy(), x)
    mk = nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    with pytest.raises(AttentionShapeError, match="vdim=5"):
        mk(x, tg.randn(4, 2, 3), tg.randn(4, 2, 3))


def test_sdpa_errors():
    q = tg.randn(2, 3, 4)
    with pytest.raises(RuntimeError, match=r"\(2, 3, 4\).*\(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, tg.randn(2, 5, 3), tg.randn(2, 5, 3))
    with pytest.raises(RuntimeError, match="sequence length"):
        F.scaled_dot_product_attention(q, tg.randn(2, 5, 4), tg.randn(2, 6, 4))
    with pytest.raises(RuntimeError, match="at least 2-D"):
        F.scaled_dot_product_attention(tg.randn(4), tg.randn(4), tg.randn(4))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match=r"\(2, 3, 3\)"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.zeros(4, 3))
    with pytest.raises(RuntimeError, match="bool and floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=tg.Tensor(np.zeros((3, 3), np.int64)))
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
    with pytest.raises(TypeError):
        F.scaled_dot_product_attention(q, q, q, None, 0.0, False, 0.5)     # scale is keyword-only


# ----------------------------------------------------------------------------- float32 and the GPU
def test_float32_default_matches_torch(rng):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, H, batch_first=True)
    ours = nn.MultiheadAttention(E, H, batch_first=True)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((N_, L_, E)).astype(np.float32)
    out, w = ours(*[tg.Tensor(x)] * 3)
    tout, tw = theirs(*[torch.tensor(x)] * 3)
    assert out.dtype == tg.float32 and w.dtype == tg.float32
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-6)
    q = tg.Tensor(x)
    assert F.scaled_dot_product_attention(q, q, q).dtype == tg.float32


@pytest.mark.cuda
@pytest.mark.skipif(not tg.cuda_available(), reason="needs a GPU or the CUDA simulator")
def test_cuda_matches_cpu(rng):
    """The same module on "cuda" (every option that builds tensors of its own: masks padded for
    bias_kv / zero attention, the causal mask, fully masked rows) gives the CPU's values and gradients."""
    res = {}
    x = rng.standard_normal((L_, N_, E))
    kpm = np.array([[0, 0, 1], [1, 1, 1]], bool)
    am = np.triu(np.ones((L_, L_), bool), 1)
    for dev in ("cpu", "cuda"):
        tg.manual_seed(0)
        m = nn.MultiheadAttention(E, H, add_bias_kv=True, add_zero_attn=True, dtype="float64").to(dev)
        xt = tg.Tensor(x, dtype="float64", device=dev, requires_grad=True)
        out, w = m(xt, xt, xt, key_padding_mask=tg.Tensor(kpm, device=dev), attn_mask=tg.Tensor(am, device=dev),
                   need_weights=False)
        out2, _ = m(xt, xt, xt, attn_mask=tg.Tensor(am, device=dev), is_causal=True, need_weights=False)
        s = F.scaled_dot_product_attention(xt, xt, xt, is_causal=True)
        assert out.device == out2.device == s.device == m.in_proj_weight.device
        ((out * out).sum() + out2.sum() + (s * s).sum()).backward()
        res[dev] = [out.numpy(), out2.numpy(), s.numpy(), xt.grad.numpy(), m.in_proj_weight.grad.numpy(),
                    m.bias_k.grad.numpy()]
    for a, b in zip(res["cpu"], res["cuda"]):
        assert np.isfinite(b).all()
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)

"""The same catalogue, compared with PyTorch: forward values, shapes, dtypes and gradients.

Gradients are compared for ``Σ out ⊙ v`` with one random ``v`` (a wrong Jacobian entry changes
that for almost every v), in float64 so the tolerance can be tight."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

from catalogue import ALL  # noqa: E402
from helpers import as_tensor, ids  # noqa: E402

pytestmark = pytest.mark.core

CASES = [c for c in ALL if c.torch is not None]
torch_settings = settings(max_examples=max(3, settings.default.max_examples // 8))


def _torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def _pair(a):
    differentiable = a.dtype.kind == "f"
    return as_tensor(a, requires_grad=differentiable), torch.tensor(a, requires_grad=differentiable)


def _list(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def compare_with_torch(case, arrays, kwargs, rtol=1e-9, atol=1e-12):
    pairs = [_pair(a) for a in arrays]
    ours = _list(case.tg(*[p[0] for p in pairs], **kwargs))
    theirs = _list(case.torch(*[p[1] for p in pairs], **kwargs))
    assert len(ours) == len(theirs), f"{case.name}: {len(ours)} outputs, PyTorch gives {len(theirs)}"
    for k, (o, t) in enumerate(zip(ours, theirs)):
        where = f"{case.name} output {k}"
        assert o.shape == tuple(t.shape), f"{where}: shape {o.shape}, PyTorch gives {tuple(t.shape)}"
        assert str(o.dtype) == _torch_dtype_name(t), f"{where}: dtype {o.dtype}, PyTorch gives {t.dtype}"
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=rtol, atol=atol, err_msg=where)

    if not case.grad or not ours[0].requires_grad:
        return
    v = np.random.default_rng(1).standard_normal(ours[0].shape)
    (ours[0] * as_tensor(v)).sum().backward()
    (theirs[0] * torch.tensor(v)).sum().backward()
    for i, (mine, ref) in enumerate(pairs):
        if not ref.requires_grad:
            continue
        expected = np.zeros(ref.shape) if ref.grad is None else ref.grad.numpy()
        got = np.zeros(mine.shape) if mine.grad is None else mine.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10,
                                   err_msg=f"{case.name}: gradient of input {i} differs from PyTorch")


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
@torch_settings
@given(data=st.data())
def test_forward_and_gradients_match_pytorch(case, data):
    arrays, kwargs = case.draw(data)
    compare_with_torch(case, arrays, kwargs)


def test_pytorch_conventions_we_follow():
    """Spot checks of conventions that are easy to get subtly different."""
    x = np.array([[1.0, 5.0, 5.0], [-2.0, 0.0, 3.0]])
    ours, theirs = as_tensor(x), torch.tensor(x)
    np.testing.assert_allclose(ours.var().item(), theirs.var().item())          # unbiased by default
    np.testing.assert_allclose(ours.std(1).numpy(), theirs.std(1).numpy())
    assert [p.shape for p in as_tensor(np.arange(7.0)).chunk(3)] == \
        [tuple(p.shape) for p in torch.arange(7.0).chunk(3)]
    assert [p.shape for p in as_tensor(np.arange(6.0)).chunk(4)] == \
        [tuple(p.shape) for p in torch.arange(6.0).chunk(4)]
    # relu and abs at 0, amax with ties: same subgradients as PyTorch
    z = np.array([0.0, 2.0, 2.0, -1.0])
    for fn in (lambda t: t.relu(), lambda t: t.abs(), lambda t: t.amax(0)):
        a, b = _pair(z)
        fn(a).sum().backward()
        fn(b).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())


ZERO_D = [
    ("softmax", lambda t: t.softmax(0)), ("log_softmax", lambda t: t.log_softmax(-1)),
    ("transpose", lambda t: t.transpose(0, -1)), ("max_dim", lambda t: tuple(t.max(0))),
    ("min_dim_keepdim", lambda t: tuple(t.min(-1, keepdim=True))), ("argmax", lambda t: t.argmax(0)),
    ("logsumexp", lambda t: t.logsumexp(0)), ("squeeze", lambda t: t.squeeze(-1)),
    ("flatten", lambda t: t.flatten(0)), ("sum", lambda t: t.sum(-1)), ("unsqueeze", lambda t: t.unsqueeze(-1)),
    ("mean_keepdim", lambda t: t.mean(0, keepdim=True)), ("T", lambda t: t.T if t.ndim != 0 else t),
]


@pytest.mark.parametrize("name,fn", ZERO_D, ids=[n for n, _ in ZERO_D])
def test_zero_d_tensors_accept_dim_0_and_minus_1_like_pytorch(name, fn):
    ours, theirs = _pair(np.array(1.5))
    a, b = _list(fn(ours)), _list(fn(theirs))
    for o, t in zip(a, b):
        assert o.shape == tuple(t.shape) and str(o.dtype) == _torch_dtype_name(t)
        assert o.item() == pytest.approx(t.item())
    if a[0].requires_grad:
        a[0].sum().backward()
        b[0].sum().backward()
        assert ours.grad.item() == pytest.approx(theirs.grad.item())

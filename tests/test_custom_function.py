"""Custom autograd Functions in PyTorch's form, tg.autograd.grad, and the engine's checks on what a
backward returns (for our own array-form ops too)."""
import numpy as np
import pytest
import torch

import tinygrad_zh as tg

pytestmark = pytest.mark.core


def make_p3(m):
    """The same class body for both libraries: the Legendre P3 of "Learning PyTorch with Examples"."""
    class LegendreP3(m.autograd.Function):
        @staticmethod
        def forward(ctx, input):
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)
    return LegendreP3


def test_pytorch_form_function_matches_pytorch_and_passes_gradcheck():
    x0 = np.linspace(-1, 1, 7)
    x = tg.tensor(x0, dtype="float64", requires_grad=True)
    t = torch.tensor(x0, requires_grad=True)
    y, ty = make_p3(tg).apply(x), make_p3(torch).apply(t)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy())
    assert y.grad_fn is not None and "LegendreP3" in repr(y.grad_fn)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())
    assert tg.gradcheck(make_p3(tg).apply, [tg.tensor(x0, dtype="float64", requires_grad=True)])


def test_ctx_needs_input_grad_non_tensor_args_and_two_outputs():
    seen = {}

    class ScaleSplit(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k):
            seen["needs"] = ctx.needs_input_grad
            ctx.k = k
            ctx.save_for_backward(a, b)
            return a * b * k, a + b

        @staticmethod
        def backward(ctx, g1, g2):
            a, b = ctx.saved_tensors
            ga = g1 * b * ctx.k + g2 if ctx.needs_input_grad[0] else None
            gb = g1 * a * ctx.k + g2 if ctx.needs_input_grad[1] else None
            return ga, gb, None

    a = tg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    b = tg.tensor([3.0, 5.0], dtype="float64")
    p, s = ScaleSplit.apply(a, b, 2.0)
    assert seen["needs"] == (True, False, False)
    (p.sum() + (s * s).sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), [3.0 * 2 + 2 * 4.0, 5.0 * 2 + 2 * 7.0])
    assert b.grad is None


def test_mark_non_differentiable_outputs_have_no_grad_fn():
    class SortWithIndex(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, idx = x.sort()
            ctx.mark_non_differentiable(idx)
            ctx.save_for_backward(idx)
            return values, idx

        @staticmethod
        def backward(ctx, g, _):
            idx, = ctx.saved_tensors
            out = g.new_zeros(g.shape)
            out[idx] = g
            return out

    x = tg.tensor([3.0, 1.0, 2.0], requires_grad=True)
    v, i = SortWithIndex.apply(x)
    assert v.requires_grad and not i.requires_grad and i.grad_fn is None
    (v * tg.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [100.0, 1.0, 10.0])


def test_wrong_number_of_gradients_raises_naming_the_function():
    class Bad(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g

    x = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Bad.backward returned an incorrect number of gradients "
                                           r"\(expected 2"):
        Bad.apply(x, x).sum().backward()


def test_wrong_gradient_shape_raises_instead_of_broadcasting():
    class Shrink(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a.sum(0)

        @staticmethod
        def backward(ctx, g):
            return g                              # should be g expanded to a's shape

    x = tg.ones(3, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Shrink.backward returned a gradient of shape \(2,\) for input 0, "
                                           r"which has shape \(3, 2\)"):
        Shrink.apply(x).sum().backward()


def test_our_own_array_form_ops_are_checked_the_same_way():
    class AddNoSum(tg.Function):                  # forgot unbroadcast
        def forward(self, a, b):
            return a + b

        def backward(self, g):
            return g, g

    class OneGrad(tg.Function):
        def forward(self, a, b):
            return a * b

        def backward(self, g):
            return g

    a, b = tg.ones(3, 4, requires_grad=True), tg.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"AddNoSum.backward returned a gradient of shape \(3, 4\) for "
                                           r"input 1, which has shape \(4,\)"):
        AddNoSum.apply(a, b).sum().backward()
    with pytest.raises(RuntimeError, match=r"OneGrad.backward returned 1 gradients, expected 2"):
        OneGrad.apply(a, a).sum().backward()


def test_saved_tensor_modified_in_place_raises_when_read():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    w = tg.tensor([3.0, 4.0])
    y = make_p3(tg).apply(x * 1.0) * w
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        inner = x * 1.0
        out = make_p3(tg).apply(inner)
        with tg.no_grad():
            inner.add_(1.0)
        out.sum().backward()
    y.sum().backward()                            # the untouched graph still works
    assert x.grad is not None


def test_autograd_grad_matches_pytorch_and_leaves_dot_grad_alone():
    x0 = np.array([0.3, -1.2, 2.0])
    x = tg.tensor(x0, dtype="float64", requires_grad=True)
    w = tg.tensor(x0[::-1].copy(), dtype="float64", requires_grad=True)
    t = torch.tensor(x0, requires_grad=True)
    tw = torch.tensor(x0[::-1].copy(), requires_grad=True)
    h, th = (x * w).tanh(), (t * tw).tanh()
    gx, gh = tg.autograd.grad((h * h).sum(), [x, h])
    tgx, tgh = torch.autograd.grad((th * th).sum(), [t, th])
    np.testing.assert_allclose(gx.numpy(), tgx.numpy())
    np.testing.assert_allclose(gh.numpy(), tgh.numpy())
    assert x.grad is None and w.grad is None
    unused = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="not used in the graph"):
        tg.autograd.grad((x * 2).sum(), [unused])
    assert tg.autograd.grad((x * 2).sum(), [unused], allow_unused=True) == (None,)
    with pytest.raises(NotImplementedError, match="create_graph"):
        tg.autograd.grad((x * 2).sum(), [x], create_graph=True)

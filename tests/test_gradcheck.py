"""tg.gradcheck itself: it must pass correct gradients and catch wrong ones, with a useful message."""
import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh.autograd import Function
from tinygrad_zh.testing import GradcheckError, gradcheck

pytestmark = pytest.mark.core


class WrongSquare(Function):
    """z = x², with a deliberately wrong backward (x instead of 2x)."""

    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, g):
        """故意写错：正确的是 ∂z/∂x = 2x，这里返回 x —— 用来验证 gradcheck 能抓到错误。"""
        return g * self.a


class WrongSecondInput(Function):
    """z = a·b with the gradient of b off by one."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        """z = a·b:  ∂z/∂a = b 正确；∂z/∂b 故意多加 1。"""
        return g * self.b, g * self.a + 1


def test_correct_functions_pass():
    x = tg.tensor([[0.3, -1.2, 2.0]], dtype="float64")
    w = tg.tensor([[0.5], [1.5], [-0.7]], dtype="float64")
    assert gradcheck(lambda a, b: (a @ b).tanh() * a.sum(), [x, w]) is True
    assert tg.gradcheck(lambda a: a.exp().log_softmax(-1), [x]) is True


def test_float32_inputs_are_checked_in_float64():
    x = tg.tensor([0.1, 0.2, 0.3])                           # float32
    assert gradcheck(lambda a: (a * a * a).sum(), [x])      # would be too noisy in float32


def test_wrong_backward_is_caught_with_input_index_and_values():
    x = tg.tensor([[1.0, 2.0], [3.0, -4.0]], dtype="float64")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: WrongSquare.apply(a), [x])
    msg = str(info.value)
    assert "input 0" in msg and "shape (2, 2)" in msg and "index (0, 0)" in msg
    assert "analytic" in msg and "numeric" in msg
    assert isinstance(info.value, AssertionError)          # pytest shows it as a failed assertion


def test_the_wrong_input_is_named():
    a = tg.tensor([1.0, 2.0], dtype="float64")
    b = tg.tensor([3.0, 4.0], dtype="float64")
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda p, q: WrongSecondInput.apply(p, q), [a, b])
    # check= limits the check to the inputs listed: the correct one passes
    assert gradcheck(lambda p, q: WrongSecondInput.apply(p, q), [a, b], check=[0])


def test_raise_exception_false_returns_false():
    x = tg.tensor([1.0, 2.0], dtype="float64")
    assert gradcheck(lambda a: WrongSquare.apply(a), [x], raise_exception=False) is False


def test_integer_inputs_are_skipped():
    x = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype="float64")
    idx = tg.tensor([2, 0, 2])
    assert gradcheck(lambda a, i: a[:, i] * 2, [x, idx])
    assert gradcheck(lambda i: i * 2, [idx])                # nothing to differentiate


def test_scalar_and_zero_d_outputs():
    x = tg.tensor(0.7, dtype="float64")
    assert gradcheck(lambda a: a.tanh() * a, [x])
    assert gradcheck(lambda a: (a * a).sum(), [tg.tensor([1.0, 2.0])])


def test_non_contiguous_inputs_are_perturbed_correctly():
    base = np.arange(1.0, 7.0).reshape(2, 3)
    for view in (base.T, base[:, ::2], base[::-1]):
        x = tg.Tensor(view, dtype="float64")
        assert gradcheck(lambda a: (a * a).sum(0), [x])


def test_skip_kinks_avoids_relu_at_zero():
    x = tg.tensor([-1.0, 0.0, 2.0], dtype="float64")
    with pytest.raises(GradcheckError, match=r"index \(1,\)"):
        gradcheck(lambda a: a.relu(), [x])                   # one-sided slopes 0 and 1 at x = 0
    assert gradcheck(lambda a: a.relu(), [x], skip_kinks=True)
    assert gradcheck(lambda a: a.abs() + a.clamp(-1.0, 1.0), [tg.tensor([0.0, 1.0, 3.0], dtype="float64")],
                     skip_kinks=True)


def test_skip_kinks_still_catches_wrong_gradients():
    x = tg.tensor([-1.0, 0.5, 2.0], dtype="float64")
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: WrongSquare.apply(a), [x], skip_kinks=True)


def test_function_of_several_outputs_uses_the_first():
    x = tg.tensor([[1.0, 3.0, 2.0]], dtype="float64")
    assert gradcheck(lambda a: a.max(1), [x])                 # (values, indices)


def test_inputs_are_not_modified():
    x = tg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    gradcheck(lambda a: a.exp(), [x])
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    assert x.grad is None

"""tg.autograd.detect_anomaly / set_detect_anomaly: the first node whose backward makes NaN/inf."""
import numpy as np
import pytest
import torch

import tinygrad_zh as tg

pytestmark = pytest.mark.core


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_detect_anomaly_names_the_op_and_the_user_line():
    x = tg.tensor([1.0, 0.0, 4.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        y = x.sqrt()                                          # d sqrt/dx at 0 is inf
        loss = (y * 2.0).sum()
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    msg = str(info.value)
    assert "Function 'SqrtBackward' returned inf values in its gradient for input 0 (shape (3,))" in msg
    assert "test_anomaly.py" in msg and "y = x.sqrt()" in msg
    # a NaN case, where PyTorch (which checks NaN only) stops at the same op
    for m, name in ((tg, "'SqrtBackward' returned nan"), (torch, "'SqrtBackward0' returned nan")):
        v = m.tensor([-1.0, 4.0], requires_grad=True)
        with m.autograd.detect_anomaly(), pytest.warns(UserWarning) if m is torch else _nothing():
            with pytest.raises(RuntimeError, match=name):
                (v.sqrt() * 2.0).sum().backward()


def test_nan_from_the_first_bad_node_not_a_later_one():
    x = tg.tensor([-1.0, 2.0], requires_grad=True)
    tg.autograd.set_detect_anomaly(True)
    try:
        assert tg.autograd.is_anomaly_enabled()
        y = x.log()                                           # log(-1) = nan: its gradient is fine (1/x)
        z = (y * y).sum()                                     # MulBackward gets nan from y
        with pytest.raises(RuntimeError, match="'MulBackward' returned nan"):
            z.backward()
    finally:
        tg.autograd.set_detect_anomaly(False)
    assert not tg.autograd.is_anomaly_enabled()


def test_without_anomaly_mode_nothing_is_checked_and_as_decorator():
    x = tg.tensor([0.0], requires_grad=True)
    x.sqrt().sum().backward()                                 # silently inf, as in PyTorch
    assert np.isinf(x.grad.numpy()).all()

    @tg.autograd.detect_anomaly()
    def step():
        w = tg.tensor([0.0], requires_grad=True)
        w.sqrt().sum().backward()
    with pytest.raises(RuntimeError, match="SqrtBackward"):
        step()
    assert not tg.autograd.is_anomaly_enabled()


def test_a_pytorch_form_function_is_located_too():
    """A custom ``autograd.Function`` (ctx form) whose backward makes NaN: the error names it and the
    line that applied it (it used to say "created before anomaly detection was enabled")."""
    class BadLog(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a.log()

        @staticmethod
        def backward(ctx, g):
            a, = ctx.saved_tensors
            return g * (a - a) / (a - a)                      # 0/0 = nan

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        y = BadLog.apply(x)                                   # the line the error must show
        with pytest.raises(RuntimeError) as info, np.errstate(invalid="ignore"):
            y.sum().backward()
    msg = str(info.value)
    assert "Function 'BadLogBackward' returned nan values" in msg
    assert "y = BadLog.apply(x)" in msg and "created before" not in msg

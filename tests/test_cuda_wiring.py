"""The CUDA kernels are wired into the ops (checked on the CPU: registration, not execution)."""
import numpy as np

from tinygrad_zh import backend
from tinygrad_zh.ops import conv, lstm


def test_install_registers_every_fused_kernel(monkeypatch):
    monkeypatch.setattr(backend, "_KERNELS", {})
    monkeypatch.setattr(lstm, "_CELL_KERNELS", {})
    monkeypatch.setattr(conv, "_KERNELS", {})
    from tinygrad_zh.cuda import fused
    from tinygrad_zh.cuda.register import install
    install()
    for name in ("softmax_ce_forward", "softmax_ce_backward", "activation_forward", "activation_backward"):
        assert backend._KERNELS[("cuda", name)] is getattr(fused, name)
    assert lstm._CELL_KERNELS["cuda"] == (fused.lstm_cell_forward, fused.lstm_cell_backward)
    assert conv._KERNELS["cuda"]["im2col"] is fused.im2col
    assert conv._KERNELS["cuda"]["maxpool_backward"] is fused.maxpool_backward
    # NumPy arrays never take a device kernel
    assert backend.kernel_for(np.zeros(3, np.float32), "activation_forward") is None


def test_activation_kernel_hook_is_used_for_device_arrays(monkeypatch):
    """An op on a non-NumPy array calls the registered kernel instead of its NumPy code."""
    import tinygrad_zh as tg
    from tinygrad_zh.ops import elementwise as E

    calls = []

    def fake_forward(name, x):
        calls.append(("fwd", name))
        return np.tanh(np.asarray(x))

    def fake_backward(name, g, x=None, y=None):
        calls.append(("bwd", name, "y" if y is not None else "x"))
        return np.asarray(g) * (1 - np.asarray(y) ** 2)

    monkeypatch.setattr(backend, "_KERNELS", {("cuda", "activation_forward"): fake_forward,
                                              ("cuda", "activation_backward"): fake_backward})
    monkeypatch.setattr(backend, "kernel_for", lambda arr, name: backend._KERNELS.get(("cuda", name)))
    monkeypatch.setattr(E, "kernel_for", backend.kernel_for)
    x = tg.tensor([0.5, -1.0], requires_grad=True)
    x.tanh().sum().backward()
    assert calls == [("fwd", "tanh"), ("bwd", "tanh", "y")]
    np.testing.assert_allclose(x.grad.numpy(), 1 - np.tanh([0.5, -1.0]) ** 2, rtol=1e-6)

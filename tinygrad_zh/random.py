"""随机数：整个库共用一个生成器，``tg.manual_seed(s)`` 让所有随机的东西（初始化、Dropout、
DataLoader 的打乱、采样）都可复现。

Random numbers are drawn on the CPU with NumPy's PCG64 and moved to the device, so the same seed
gives the same numbers on CPU and GPU.
"""
import numpy as np

_rng = np.random.default_rng(0)


def manual_seed(seed):
    """Reseed the library's generator (returns it, like torch.manual_seed)."""
    global _rng
    _rng = np.random.default_rng(int(seed))
    return _rng


def generator():
    """The current numpy Generator (use it for anything random inside the library)."""
    return _rng


def get_rng_state():
    """A JSON-friendly snapshot of the generator (for checkpoints)."""
    return _rng.bit_generator.state


def set_rng_state(state):
    _rng.bit_generator.state = state

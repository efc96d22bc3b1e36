"""随机数：整个库共用一个生成器，``tg.manual_seed(s)`` 让所有随机的东西（初始化、Dropout、
DataLoader 的打乱、采样）都可复现；``tg.Generator`` 是一个独立的生成器，可以传给 ``generator=``。

Random numbers are drawn on the CPU with NumPy's PCG64 and moved to the device, so the same seed
gives the same numbers on CPU and GPU. (The numbers differ from PyTorch's for the same seed: PyTorch
uses a Mersenne Twister / Philox; only the distributions are the same.)
"""
import numpy as np

_DEFAULT_SEED = 0


class Generator:
    """``tg.Generator()``：自己的随机数流，``manual_seed`` 后可复现，不影响全局生成器。"""

    def __init__(self, device="cpu"):
        from .backend import normalize_device
        self.device = normalize_device(device)
        self._seed = _DEFAULT_SEED
        self._rng = np.random.default_rng(_DEFAULT_SEED)

    def manual_seed(self, seed):
        """Seeds are 64-bit, as in PyTorch: any integer in [-2**63, 2**64 - 1]; a negative one is read
        as its unsigned 64-bit pattern (-1 -> 2**64 - 1)."""
        seed = int(seed)
        if not -2 ** 63 <= seed < 2 ** 64:
            raise ValueError(f"manual_seed: the seed must be within [-2**63, 2**64 - 1], got {seed}")
        self._seed = seed % 2 ** 64
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Re-seed from the operating system's entropy; returns the new seed."""
        self._seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self._rng = np.random.default_rng(self._seed)
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self._rng.bit_generator.state

    def set_state(self, state):
        self._rng.bit_generator.state = state
        return self

    def __repr__(self):
        return f"<tinygrad_zh.Generator device={self.device} seed={self._seed}>"


default_generator = Generator()


def manual_seed(seed):
    """Reseed the library's generator (returns it, like torch.manual_seed)."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def generator():
    """The current numpy Generator (use it for anything random inside the library)."""
    return default_generator._rng


def rng_of(gen):
    """The numpy Generator behind ``generator=`` (None: the library's)."""
    if gen is None:
        return default_generator._rng
    if not isinstance(gen, Generator):
        raise TypeError(f"generator: expected a tinygrad_zh.Generator, got {type(gen).__name__}")
    return gen._rng


def get_rng_state():
    """A JSON-friendly snapshot of the generator (for checkpoints)."""
    return default_generator._rng.bit_generator.state


def set_rng_state(state):
    default_generator._rng.bit_generator.state = state

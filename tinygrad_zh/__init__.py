"""tinygrad_zh：从零实现、可以读懂的深度学习框架（NumPy / CuPy 后端，反向自动求导）。

The public API is re-exported here, PyTorch-style: ``tg.Tensor``, factories, ``tg.no_grad``,
``tg.gradcheck``, and the sub-packages ``tg.nn``, ``tg.optim``, ``tg.data``.
"""
from .backend import (bool_, cuda_available, float16, float32, float64, int32, int64, uint8)
from .backend import Device as device
from .autograd import Function, enable_grad, is_grad_enabled, no_grad
from .autograd import inference_mode, is_inference_mode_enabled, set_grad_enabled
from .tensor import Tensor, cat, maximum, minimum, stack, where
from .factories import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor,
                        LongTensor, ShortTensor)
from .size import Size
from .factories import (arange, eye, full, full_like, linspace, ones, ones_like, rand, rand_like, randint,
                        randn, randn_like, randperm, tensor, zeros, zeros_like)
from .functions import *          # noqa: F401,F403  tg.exp(x), tg.matmul(a, b), tg.sum(x, dim=1) ...
from .functions import _METHODS
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
                     set_rng_state)
from .printing import set_printoptions
from .testing.gradcheck import gradcheck
from . import cuda  # noqa: F401,E402  (plugs the CUDA backend into backend.py; imports no CuPy)

# dtype 的名字与 PyTorch 相同（值是 NumPy 的 dtype：x.dtype == tg.float32 成立）
import numpy as _np
float, double, half = float32, float64, float16          # noqa: A001  (shadow the builtins only here)
long, int = int64, int32                                   # noqa: A001
int16, int8, short = _np.dtype("int16"), _np.dtype("int8"), _np.dtype("int16")
bool = bool_                                               # noqa: A001
cfloat = None
del cfloat

__version__ = "0.1.0"


def __getattr__(name):
    # sub-packages are imported lazily so that `import tinygrad_zh` stays light
    import importlib
    if name in ("nn", "optim", "data", "testing", "viz", "io", "cuda", "distributed", "utils",
                "accelerator", "autograd", "return_types", "errors", "distributions"):
        return importlib.import_module(f".{name}", __name__)
    if name in ("save", "load"):
        return getattr(importlib.import_module(".io", __name__), name)
    if name == "backends":                      # torch.backends（文件名见 torch_backends.py）
        return importlib.import_module(".torch_backends", __name__)
    if name == "trace":
        return importlib.import_module(".viz", __name__).trace
    raise AttributeError(f"module 'tinygrad_zh' has no attribute {name!r}")

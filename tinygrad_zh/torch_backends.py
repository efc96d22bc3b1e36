"""tg.backends：PyTorch 的 ``torch.backends``，只为让教程代码原样运行。

Tutorial code reads or sets a few of these (``torch.backends.mps.is_available()``,
``torch.backends.cudnn.benchmark = True``). tinygrad_zh runs its own kernels and never cuDNN or
MPS, so: ``mps.is_available()`` and ``cudnn.is_available()`` are False (as PyTorch on a machine
without them), and the cuDNN switches can be set and read back but choose nothing: there is no
cuDNN algorithm to pick (``benchmark``) and our kernels give the same result on every run of the
same input (``deterministic``). ``backends.cuda.is_built()`` says whether our CUDA backend can be
used at all (CuPy, or the CUDA simulator).

（文件名不叫 backends.py，免得和数组后端 ``backend.py`` 混淆。）
"""
from types import SimpleNamespace

from . import backend


def _false():
    return False


cudnn = SimpleNamespace(is_available=_false, version=lambda: None,
                        enabled=True, benchmark=False, deterministic=False, allow_tf32=True)
mps = SimpleNamespace(is_available=_false, is_built=_false)
cuda = SimpleNamespace(is_built=lambda: backend.cuda_available())

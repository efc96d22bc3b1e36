"""tg.accelerator：PyTorch 2.x 的 ``torch.accelerator``（与设备种类无关的写法）。

``tg.accelerator.current_accelerator()`` is ``tg.device("cuda")`` when our CUDA backend can run
(CuPy and a GPU, or the CUDA simulator), otherwise ``None``, as in PyTorch on a CPU-only machine.
"""
from . import backend


def is_available():
    return backend.cuda_available()


def current_accelerator(check_available=False):
    return backend.normalize_device("cuda") if backend.cuda_available() else None


def device_count():
    return 1 if backend.cuda_available() else 0


def current_device_index():
    if not backend.cuda_available():
        raise RuntimeError("torch.accelerator.current_device_index(): no accelerator is available")
    return 0


def synchronize(device=None):
    if backend.cuda_available():
        from .cuda import synchronize as _sync
        _sync()

"""归一化层：LayerNorm（每个样本内部归一化）与 BatchNorm1d/2d/3d（每个通道在一批上归一化）。

BatchNorm keeps PyTorch's buffers ``running_mean``, ``running_var`` and ``num_batches_tracked``:
training updates them, eval() uses them instead of the batch statistics.
"""
import numbers

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module, size_arg
from ..errors import TensorError


def _affine_parameters(module, shape, affine, bias, dtype, device):
    """LayerNorm / GroupNorm 的仿射参数 γ（weight，初值 1）和 β（bias，初值 0）；不要的登记为 None。"""
    module.register_parameter("weight", init.empty_parameter(shape, dtype, device) if affine else None)
    module.register_parameter("bias", init.empty_parameter(shape, dtype, device) if affine and bias else None)
    _reset_affine(module)


def _reset_affine(module):
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """对最后 len(normalized_shape) 维归一化：(x − μ)/√(σ² + ε)·γ + β，γ 初始为 1，β 初始为 0。"""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        ns = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
        self.normalized_shape = tuple(int(n) for n in ns)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, dtype, device)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class _BatchNorm(Module):
    """Shared code of BatchNorm1d/2d/3d (they differ only in the accepted input ranks)."""
    _ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = size_arg(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = init.empty_parameter((self.num_features,), dtype, device)
            if bias:
                self.bias = init.empty_parameter((self.num_features,), dtype, device)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            dt = backend.normalize_dtype(dtype) or backend.DEFAULT_FLOAT
            dev = backend.normalize_device(device)
            self.register_buffer("running_mean", Tensor(np.zeros(self.num_features, dt), dtype=dt, device=dev))
            self.register_buffer("running_var", Tensor(np.ones(self.num_features, dt), dtype=dt, device=dev))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, np.int64), device=dev))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, input):
        if input.ndim not in self._ranks:
            want = " or ".join(f"{r}D" for r in self._ranks)
            raise TensorError(f"{type(self).__name__}: expected {want} input (got {input.ndim}D input of "
                             f"shape {input.shape})")
        if input.shape[1] != self.num_features:
            raise TensorError(f"{type(self).__name__}: expected {self.num_features} channels in dim 1, got "
                             f"input of shape {input.shape}")

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            nbt = self.num_batches_tracked
            nbt.array = nbt._xp.asarray(nbt.array + 1, dtype=nbt.dtype)
            if self.momentum is None:                  # cumulative moving average
                factor = 1.0 / int(self.num_batches_tracked.array)
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """输入 (N, C) 或 (N, C, L)。"""
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """输入 (N, C, H, W)。"""
    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """输入 (N, C, D, H, W)。"""
    _ranks = (5,)


class GroupNorm(Module):
    """组归一化：通道分成 ``num_groups`` 组，每个样本的每一组各自归一化（不依赖批大小，小批量时代替
    BatchNorm）。γ（weight）初始为 1，β（bias）初始为 0，每个通道一个。

    ``GroupNorm(num_groups, num_channels, eps=1e-5, affine=True, *, bias=True)``; input (N, C, *).
    num_groups=1 normalises over all of (C, *) like LayerNorm; num_groups=C is InstanceNorm."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_groups = size_arg("GroupNorm", "num_groups", num_groups, 1)
        self.num_channels = size_arg("GroupNorm", "num_channels", num_channels, 1)
        if self.num_channels % self.num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.eps, self.affine = eps, affine
        _affine_parameters(self, (self.num_channels,), affine, bias, dtype, device)

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, " \
               f"bias={self.bias is not None}"

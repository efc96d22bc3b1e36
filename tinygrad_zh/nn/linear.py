"""全连接层 Linear，以及两个不带参数的小工具层 Identity、Flatten。"""
import math

from . import functional as F
from . import init
from .module import Module


class Identity(Module):
    """原样返回输入（占位用，例如把某一层"去掉"）。Arguments are accepted and ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x Wᵀ + b。weight: (out_features, in_features), bias: (out_features,)。

    Initialisation as in PyTorch: weight and bias ~ U(−1/√in_features, 1/√in_features)
    (that is ``kaiming_uniform_(weight, a=√5)``)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = init.empty_parameter((self.out_features, self.in_features), dtype, device)
        if bias:
            self.bias = init.empty_parameter((self.out_features,), dtype, device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """把 start_dim..end_dim 这几维压成一维（默认保留批维：(N, C, H, W) -> (N, C·H·W)）。"""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

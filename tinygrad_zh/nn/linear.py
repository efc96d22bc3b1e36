"""全连接层 Linear，以及不带参数的小工具层 Identity、Flatten、Unflatten。

层只负责保存参数、调用运算：``Linear.forward`` 调用融合运算 ``ops/matmul.py`` 的 ``Linear``，梯度公式
∂L/∂x = g W、∂L/∂W = gᵀ x、∂L/∂b = Σ g 都在那里的 ``backward`` 里。

English: the fully connected layer (its maths is the fused ``ops.matmul.Linear`` node) and the
parameter-free helpers Identity, Flatten and Unflatten.
"""
import math
import numbers

from . import functional as F
from . import init
from .module import Module, size_arg


class Identity(Module):
    """原样返回输入（占位用，例如把某一层"去掉"）。Arguments are accepted and ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """全连接层：y = x Wᵀ + b。weight: (out_features, in_features), bias: (out_features,)。

    初始化与 PyTorch 相同：权重和偏置都服从 U(−1/√in_features, 1/√in_features)。
    Initialisation as in PyTorch: weight and bias ~ U(−1/√in_features, 1/√in_features)
    (that is ``kaiming_uniform_(weight, a=√5)``)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = size_arg("Linear", "in_features", in_features)
        self.out_features = size_arg("Linear", "out_features", out_features)
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


class Unflatten(Module):
    """Flatten 的反操作：把第 ``dim`` 维展开成 ``unflattened_size``（如 (N, 784) -> (N, 1, 28, 28)）。

    ``unflattened_size`` 是整数元组 / 列表，乘积等于 ``input.shape[dim]``（其中一项可以是 -1）。"""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(dim, numbers.Integral):
            raise TypeError(f"Unflatten: dim must be an int, got {dim!r} (named dimensions are not supported)")
        if not isinstance(unflattened_size, (tuple, list)) or \
                not all(isinstance(n, numbers.Integral) for n in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        self.dim, self.unflattened_size = int(dim), tuple(int(n) for n in unflattened_size)

    def forward(self, input):
        nd = input.ndim
        if not -nd <= self.dim < nd:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for an input of shape {input.shape}")
        d = self.dim % nd
        known = math.prod(n for n in self.unflattened_size if n != -1)
        n = input.shape[d]
        if (-1 not in self.unflattened_size and known != n) or (known and n % known):
            raise RuntimeError(f"Unflatten: unflattened_size {self.unflattened_size} does not multiply to the "
                               f"size {n} of dim {self.dim} of the input of shape {input.shape}")
        return input.reshape(input.shape[:d] + self.unflattened_size + input.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

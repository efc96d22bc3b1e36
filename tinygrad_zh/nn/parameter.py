"""Parameter：模型里需要学习的张量（requires_grad=True 的叶子），被 Module 自动登记。"""
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as a learnable parameter."""
    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        super().__init__(data.array if isinstance(data, Tensor) else data,
                         dtype=data.dtype if isinstance(data, Tensor) else None,
                         device=data.device if isinstance(data, Tensor) else None,
                         requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

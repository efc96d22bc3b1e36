"""Dropout / Dropout1d / Dropout2d：训练时随机丢弃（置 0）一部分激活（或整条通道）并把其余放大 1/(1−p)；\neval() 之后是恒等映射。"""
import numbers

from . import functional as F
from .module import Module


class Dropout(Module):
    """每个元素以概率 ``p`` 置 0（随机数来自库的生成器，``tg.manual_seed`` 可复现）。"""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability p must be between 0 and 1, got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """整条通道一起丢弃：输入 (N, C, L) 或 (C, L)。"""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """整张特征图一起丢弃：输入 (N, C, H, W) 或 (C, H, W)。"""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)

"""损失函数层（与 torch.nn 同名同参数）：它们只保存选项，计算交给 functional 里的融合运算。

损失层是计算图的终点：``loss.backward()`` 从这里出发。每个损失的导数公式写在 ``ops/loss.py`` 和
``ops/softmax.py`` 的 ``backward`` 里。``reduction`` 取 "mean"（默认）、"sum" 或 "none"（每个样本一个
损失）；类别 / 元素权重存成名为 ``weight`` / ``pos_weight`` 的 buffer，与 PyTorch 相同。

English: ``reduction``: "mean" (default), "sum" or "none" (one loss per sample). Class / element weights
are stored as buffers named ``weight`` / ``pos_weight``, as in PyTorch.
"""
from ..tensor import Tensor
from . import functional as F
from .module import Module
from ..errors import TensorError


def _legacy(size_average, reduce, name):
    if size_average is not None or reduce is not None:
        raise TensorError(f"{name}: size_average and reduce are deprecated; use reduction='mean' / 'sum' / 'none'")


def _buffer(w):
    return None if w is None else (w if isinstance(w, Tensor) else Tensor(w))


class _Loss(Module):
    _reductions = ("none", "mean", "sum")

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        _legacy(size_average, reduce, type(self).__name__)
        if reduction not in self._reductions:
            raise TensorError(f"{type(self).__name__}: reduction must be one of {self._reductions}, got {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(weight))


class MSELoss(_Loss):
    """均方误差：reduce((input − target)²)。"""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """平均绝对误差：reduce(|input − target|)。"""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber 损失：|d| < δ 时 ½d²，否则 δ(|d| − ½δ)，d = input − target（对离群点比 MSE 稳健）。"""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        if not delta > 0:
            raise RuntimeError(f"HuberLoss does not support non-positive values for delta, got delta={delta}")
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """Smooth L1：|d| < β 时 ½d²/β，否则 |d| − ½β（目标检测里回归边框常用；β = 0 即 L1）。"""

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        if beta < 0:
            raise RuntimeError(f"SmoothL1Loss does not support negative values for beta, got beta={beta}")
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class KLDivLoss(_Loss):
    """KL 散度：input 是对数概率（log_softmax 的输出），target 是概率（``log_target=True`` 时是对数概率）。

    ``reduction="batchmean"`` 才是数学上的 KL 散度（总和 / batch 大小）；"mean" 除以元素总数（会警告）。"""
    _reductions = ("none", "batchmean", "sum", "mean")

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class CrossEntropyLoss(_WeightedLoss):
    """交叉熵：input 是 logits (N, C) 或 (N, C, d1, ...)，target 是类别下标（int64）或同形状的类别概率。

    对任何 logits 都数值稳定（log-softmax + NLL 融合成一个运算）。``ignore_index`` 的行不计入损失
    （也不计入 "mean" 的分母）；``label_smoothing`` 把 ε/C 混入目标分布。
    Stable for any logits (one fused log-softmax + NLL op). ``ignore_index`` rows count for nothing
    (and are left out of the "mean" denominator); ``label_smoothing`` mixes ε/C into the target."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """负对数似然：input 是对数概率（log_softmax 的输出），target 是类别下标。"""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_WeightedLoss):
    """二元交叉熵，input 是概率 ∈ [0, 1]（log 截断到 ≥ −100，p = 0 或 1 也不会得到 inf）。"""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """sigmoid + 二元交叉熵的稳定融合形式：input 是 logits。``pos_weight`` 按类别加权正样本。"""

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)

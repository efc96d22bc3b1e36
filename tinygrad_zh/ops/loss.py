"""损失函数的融合运算：MSE、L1、Huber、SmoothL1、KL 散度、NLL、BCE 与数值稳定的 BCEWithLogits（各自一个节点）。

损失是计算图的终点，反向传播从这里出发。每个损失都是一个节点，自己完成 ``reduction``（"none"、
"mean"、"sum"），所以 backward 只需把逐元素的梯度乘上相应的系数（mean 时除以元素数）。可选的逐元素 /
逐类别权重以原始数组传入，是常数，不会有梯度流进去。（Softmax + 交叉熵在 ``ops/softmax.py``。）

English: every Function takes ``reduction`` in {"none", "mean", "sum"} and does the reduction itself, so
backward only has to scale the per-element gradient. Optional per-element / per-class weights are
passed as raw arrays (constants: no gradient flows into them).
(Softmax + cross-entropy lives in ``ops/softmax.py``.)
"""
import numpy as np

from .. import backend
from ..autograd import Function
from ..backend import array_module
from .softmax import SoftmaxCrossEntropy
from ..errors import TensorError

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction, op):
    if reduction not in REDUCTIONS:
        raise TensorError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean":                 # 空输入的平均是 0/0 = NaN，与 PyTorch 相同（不是 0.0）
        with np.errstate(invalid="ignore"):
            total = total / loss.dtype.type(loss.size)
    return array_module(loss).asarray(total, dtype=loss.dtype)     # 0 维数组，而不是 NumPy 标量


def _scaled(g, shape, reduction, size):
    """归约之前的损失里，每个元素看到的上游梯度（mean 时已除以元素数，再广播到 ``shape``）。"""
    xp = array_module(g)
    if reduction == "none":
        return g
    if reduction == "mean":
        g = g * g.dtype.type(1.0 / max(size, 1))
    return xp.broadcast_to(g, shape)


class MSELoss(Function):
    """均方误差：L = reduce((x − y)²)。"""

    def forward(self, x, y, reduction="mean"):
        self.diff, self.reduction = x - y, reduction
        return _reduce(self.diff * self.diff, reduction)

    def backward(self, g):
        """L = (x − y)²:  ∂L/∂x = 2(x − y),  ∂L/∂y = −2(x − y) —— 误差越大，梯度越大（mean 时再除以元素数）。"""
        d = self.diff
        gx = _scaled(g, d.shape, self.reduction, d.size) * (2 * d)
        return gx, (-gx if self.needs_input_grad[1] else None)


class L1Loss(Function):
    """平均绝对误差：L = reduce(|x − y|)。"""

    def forward(self, x, y, reduction="mean"):
        xp = array_module(x)
        d = x - y
        self.sign, self.reduction = xp.sign(d), reduction
        return _reduce(xp.abs(d), reduction)

    def backward(self, g):
        """L = |x − y|:  ∂L/∂x = sign(x − y),  ∂L/∂y = −sign(x − y) —— 梯度大小恒为 1，只看方向（x = y 处取 0）。"""
        s = self.sign
        gx = _scaled(g, s.shape, self.reduction, s.size) * s
        return gx, (-gx if self.needs_input_grad[1] else None)


class NLLLoss(Function):
    """负对数似然：L_i = −w_{y_i} · logp[i, y_i]（logp: (N, C) 对数概率，target: (N,) 整数类别）。

    ``weight`` 是可选的 (C,) 类别权重；"mean" 除以未被 ``ignore_index`` 忽略的各行的 Σ w_{y_i}
    （PyTorch 的约定）。
    English: ``weight`` are optional (C,) class weights; "mean" divides by Σ w_{y_i} over the rows that
    are not ``ignore_index`` (PyTorch's convention)."""

    def forward(self, logp, target, weight=None, ignore_index=-100, reduction="mean"):
        xp = array_module(logp)
        if logp.ndim != 2:
            raise TensorError(f"nll_loss: expected log-probabilities of shape (N, C), got {logp.shape}")
        if target.dtype.kind not in "iu":
            raise TypeError(f"nll_loss: target must hold integer class indices (int64), got dtype {target.dtype}")
        if target.shape != logp.shape[:1]:
            raise TensorError(f"nll_loss: target shape {target.shape} does not match input {logp.shape}: "
                             f"expected ({logp.shape[0]},)")
        n, c = logp.shape
        valid = target != ignore_index
        safe = xp.where(valid, target, 0)
        if n:       # GPU 上在下一次同步时才检查（训练的一步里不等设备到主机的传输）
            bad = (safe >= c) | (safe < 0)

            def message(safe=safe):
                first = int(safe[bad][0])
                return (f"nll_loss: target {first} is out of range for {c} classes "
                        f"(valid: 0..{c - 1} or ignore_index={ignore_index})")
            backend.check_later(bad, IndexError, message)
            safe = xp.clip(safe, 0, c - 1) if not isinstance(safe, np.ndarray) else safe
        self.valid = valid
        w = valid.astype(logp.dtype)
        if weight is not None:
            if weight.shape != (c,):
                raise TensorError(f"nll_loss: weight must have shape ({c},), got {weight.shape}")
            w = w * weight.astype(logp.dtype)[safe]
        rows = xp.arange(n)
        loss = -logp[rows, safe] * w
        self.shape, self.rows, self.safe, self.w, self.reduction = logp.shape, rows, safe, w, reduction
        if reduction == "none":
            return loss
        total = loss.sum()
        if reduction == "mean":
            self.denom = w.sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                total = total / self.denom          # 全部被忽略：0/0 = NaN，与 PyTorch 相同
        return xp.asarray(total, dtype=logp.dtype)

    def backward(self, g):
        """L_i = −w_i logp[i, y_i]:  ∂L/∂logp[i, c] = −w_i（c = y_i），其余为 0 —— 梯度只落在正确类别那一格。

        mean 除以 Σw；被 ignore_index 忽略的行梯度恒为 0 —— 即使整批都被忽略（Σw = 0，损失为 NaN），
        梯度也是 0 而不是 0/0 = NaN（PyTorch 相同：一个全是填充的 batch 不会把参数变成 NaN）。"""
        xp = array_module(g)
        if self.reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                coef = xp.where(self.valid, -self.w * (g / self.denom), g.dtype.type(0))
        else:
            coef = -self.w * g
        out = xp.zeros(self.shape, g.dtype)
        out[self.rows, self.safe] = coef
        return out, None


class SoftmaxCrossEntropyMean(SoftmaxCrossEntropy):
    """``reduction="mean"`` 的融合交叉熵（仍是一个节点）：L = (Σᵢ −log softmax(xᵢ)[yᵢ]) / n，
    n = 有效行数（target ≠ ignore_index）。

    一个 batch 里没有任何有效行（全是填充）时：损失是 0/0 = NaN（与 PyTorch 相同），梯度是 0 ——
    既不是 ∞ · 0 = NaN，也不是把空 batch 掩盖掉的 0.0。GPU 上有效行数留在设备上，训练的一步里不同步。

    A batch without any valid row (all padding): the loss is 0/0 = NaN, as in PyTorch, and the
    gradient is 0 — not ∞ · 0 = NaN, and not a loss of 0.0 that hides the empty batch.  On the GPU
    the count stays on the device (no device-to-host wait in a training step)."""

    def forward(self, x, target, ignore_index=-100, reduction="mean"):
        total = super().forward(x, target, ignore_index=ignore_index, reduction="sum")
        xp = array_module(total)
        count = (target != ignore_index).sum()
        dt = total.dtype.type
        if isinstance(total, (np.ndarray, np.generic)):      # CPU（求和的结果常是 NumPy 标量）：直接算
            count = int(count)
            self.mean_scale = dt(1.0 / count) if count else dt(0)
            return np.asarray(total * self.mean_scale if count else dt("nan"), dtype=total.dtype)
        inv = dt(1) / xp.maximum(count, 1).astype(total.dtype)
        self.mean_scale = xp.where(count > 0, inv, dt(0))
        return xp.where(count > 0, total * inv, dt("nan")).astype(total.dtype)

    def backward(self, g):
        """L = S / n:  ∂L/∂S = 1/n，再交给求和版的反向（p − onehot(y)）；n = 0 时取 0 —— 没有样本，就没有梯度。"""
        return super().backward(g * self.mean_scale.astype(g.dtype))


class HuberLoss(Function):
    """Huber 损失：误差小（|d| < δ）时像 MSE，误差大时像 L1（对离群点不敏感）。d = x − y：

        L = ½d²              (|d| < δ)
        L = δ(|d| − ½δ)      (|d| ≥ δ)

    两段在 |d| = δ 处值和导数都相接。可选的逐元素 ``weight`` 在归约之前乘上去（常数，没有梯度）。"""

    def forward(self, x, y, weight=None, delta=1.0, reduction="mean"):
        xp = array_module(x)
        _check_weight(weight, x.shape, "huber_loss")
        d = x - y
        a = xp.abs(d)
        dt = x.dtype.type
        loss = xp.where(a < delta, dt(0.5) * d * d, dt(delta) * (a - dt(0.5 * delta)))
        if weight is not None:
            loss = loss * weight
        self.d, self.delta, self.weight, self.reduction = d, delta, weight, reduction
        return _reduce(loss, reduction)

    def backward(self, g):
        """∂L/∂x = d（|d| < δ），δ·sign(d)（|d| ≥ δ），即 clip(d, −δ, δ)；∂L/∂y = −∂L/∂x
        —— 误差的"拉力"最多为 δ，离群点不会主导梯度。"""
        xp = array_module(g)
        d = self.d
        gs = _scaled(g, d.shape, self.reduction, d.size)
        if self.weight is not None:
            gs = gs * self.weight
        gx = gs * xp.clip(d, -self.delta, self.delta)
        return gx, (-gx if self.needs_input_grad[1] else None)


class SmoothL1Loss(Function):
    """Smooth L1 损失（β > 0）：Huber 损失除以 β。d = x − y：

        L = ½d²/β            (|d| < β)
        L = |d| − ½β         (|d| ≥ β)

    大误差处的斜率恒为 1（和 L1 相同），与 β 无关。β = 0 就是 L1 损失（由 functional 改用 L1Loss）。"""

    def forward(self, x, y, beta=1.0, reduction="mean"):
        xp = array_module(x)
        d = x - y
        a = xp.abs(d)
        dt = x.dtype.type
        loss = xp.where(a < beta, dt(0.5) * d * d / dt(beta), a - dt(0.5 * beta))
        self.d, self.beta, self.reduction = d, beta, reduction
        return _reduce(loss, reduction)

    def backward(self, g):
        """∂L/∂x = d/β（|d| < β），sign(d)（|d| ≥ β），即 clip(d/β, −1, 1)；∂L/∂y = −∂L/∂x
        —— 梯度大小不超过 1。"""
        xp = array_module(g)
        d = self.d
        gx = _scaled(g, d.shape, self.reduction, d.size) * xp.clip(d / d.dtype.type(self.beta), -1, 1)
        return gx, (-gx if self.needs_input_grad[1] else None)


class KLDivLoss(Function):
    """KL 散度 KL(target ‖ p)，input x = log p（对数概率，例如 log_softmax 的输出）：

        L = t·(log t − x)        （log_target=False，t = 0 处按 0·log 0 = 0 计）
        L = eᵗ·(t − x)           （log_target=True：target 也以对数形式给出）

    ``reduction``: "none"、"sum"、"mean"（除以元素总数）或 "batchmean"（除以第 0 维的大小，
    与 KL 散度的数学定义一致）。"""

    def forward(self, x, t, reduction="mean", log_target=False):
        xp = array_module(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            if log_target:
                self.pt = xp.exp(t)                                   # 概率 p_t = eᵗ
                loss = self.pt * (t - x)
            else:
                self.pt = t
                t_log_t = xp.where(t == 0, t.dtype.type(0), t * xp.log(xp.where(t == 0, 1, t)))
                loss = t_log_t - t * x
        self.x, self.t, self.log_target = x, t, log_target
        self.reduction = reduction
        if reduction == "batchmean":
            self.batch = x.shape[0] if x.ndim else 1
            with np.errstate(invalid="ignore", divide="ignore"):
                return xp.asarray(loss.sum() / x.dtype.type(self.batch), dtype=x.dtype)
        return _reduce(loss, reduction)

    def backward(self, g):
        """∂L/∂x = −p_t（p_t = t，或 log_target 时 eᵗ）—— 目标分布把对数概率往上拉；
        ∂L/∂t = log t + 1 − x（log_target=False；t = 0 处导数不存在，得到 NaN，与 PyTorch 相同），
        ∂L/∂t = eᵗ·(t − x + 1)（log_target=True）。"""
        xp = array_module(g)
        x, t = self.x, self.t
        if self.reduction == "batchmean":
            gs = xp.broadcast_to(g * g.dtype.type(1.0 / max(self.batch, 1)), x.shape)
        else:
            gs = _scaled(g, x.shape, self.reduction, x.size)
        gx = -gs * self.pt if self.needs_input_grad[0] else None
        gt = None
        if self.needs_input_grad[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                if self.log_target:
                    gt = gs * self.pt * (t - x + 1)
                else:
                    gt = gs * xp.where(t == 0, t.dtype.type("nan"), xp.log(t) + 1 - x)
        return gx, gt


def _check_weight(weight, shape, op):
    if weight is None:
        return
    try:
        ok = np.broadcast_shapes(tuple(weight.shape), tuple(shape)) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise TensorError(f"{op}: weight of shape {weight.shape} does not broadcast to the input "
                         f"shape {shape}")


class BCELoss(Function):
    """二元交叉熵（输入是概率 p ∈ [0, 1]）：L = −w [y log p + (1 − y) log(1 − p)]，log 截断到 ≥ −100。"""

    def forward(self, p, y, weight=None, reduction="mean"):
        xp = array_module(p)
        if p.size:  # NumPy 立即检查；GPU 等到下一次同步（训练的一步里不等设备到主机的传输）
            backend.check_later(
                (p < 0) | (p > 1), ValueError,
                lambda: ("binary_cross_entropy: all elements of input must be probabilities in "
                         f"[0, 1], got values in [{float(p.min())}, {float(p.max())}] "
                         "(pass logits to binary_cross_entropy_with_logits instead)"))
        _check_weight(weight, p.shape, "binary_cross_entropy")
        with np.errstate(divide="ignore"):                  # log 0 = -inf，紧接着截断到 -100
            logp = xp.maximum(xp.log(p), p.dtype.type(-100))
            log1mp = xp.maximum(xp.log1p(-p), p.dtype.type(-100))
        loss = -(y * logp + (1 - y) * log1mp)
        if weight is not None:
            loss = loss * weight
        self.p, self.y, self.logp, self.log1mp = p, y, logp, log1mp
        self.weight, self.reduction = weight, reduction
        return _reduce(loss, reduction)

    def backward(self, g):
        """L = −[y log p + (1 − y) log(1 − p)]:  ∂L/∂p = (p − y) / (p(1 − p)),  ∂L/∂y = log(1 − p) − log p
        —— 分母截断到 ≥ 1e-12，p 为 0 或 1 时梯度也不会变成 inf。

        ∂L/∂y 用的是截断到 ≥ −100 的对数，也就是 forward 实际返回的损失的导数（p = 0 或 1 时为 ±100·系数）。
        PyTorch 在这里用未截断的对数，得到 ±inf。这是有意的差别：对标签求梯度很少见，而一个 inf 会毒害
        产生 y 的整条计算链。

        ∂L/∂y uses the logs clamped to ≥ −100, i.e. the derivative of the loss that forward returns
        (so it is ±100·scale at p = 0 or 1). PyTorch uses the unclamped logs there and gives ±inf:
        an intended difference (a target gradient is rare; an inf would poison whatever produced y)."""
        xp = array_module(g)
        p, y = self.p, self.y
        gs = _scaled(g, p.shape, self.reduction, p.size)
        if self.weight is not None:
            gs = gs * self.weight
        gp = gy = None
        if self.needs_input_grad[0]:
            gp = gs * (p - y) / xp.maximum(p * (1 - p), p.dtype.type(1e-12))
        if self.needs_input_grad[1]:
            gy = gs * (self.log1mp - self.logp)
        return gp, gy


class BCEWithLogitsLoss(Function):
    """L = −w [ pw·y log σ(x) + (1 − y) log(1 − σ(x)) ]，用稳定形式计算：

        −log σ(x) = softplus(−x) = max(−x, 0) + log(1 + e^{−|x|})
        L = (1 − y) x + (1 + (pw − 1) y) · softplus(−x)

    因为 e^{−|x|} ≤ 1，logits 到 ±1e4 也不会溢出。``pos_weight``（pw）沿最后一维广播（每个类别一个权重）。

    e^{−|x|} ≤ 1, so nothing overflows even for logits of ±1e4. ``pos_weight`` (pw) broadcasts
    against the last dim (one weight per class)."""

    def forward(self, x, y, weight=None, pos_weight=None, reduction="mean"):
        xp = array_module(x)
        _check_weight(weight, x.shape, "binary_cross_entropy_with_logits")
        _check_weight(pos_weight, x.shape, "binary_cross_entropy_with_logits (pos_weight)")
        sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))        # 稳定地算 softplus(−x) = −log σ(x)
        coef = 1 + (pos_weight - 1) * y if pos_weight is not None else None
        loss = (1 - y) * x + (coef * sp if coef is not None else sp)
        if weight is not None:
            loss = loss * weight
        self.x, self.y, self.sp, self.coef = x, y, sp, coef
        self.weight, self.pos_weight, self.reduction = weight, pos_weight, reduction
        return _reduce(loss, reduction)

    def backward(self, g):
        """L = (1 − y)x + c·softplus(−x), c = 1 + (pw − 1)y:  ∂L/∂x = (1 − y) − c·σ(−x)，pw = 1 时化简为 σ(x) − y；
        ∂L/∂y = −x + (pw − 1)·softplus(−x) —— 预测概率减去标签，和 softmax 交叉熵一样简洁。"""
        from .elementwise import sigmoid_array
        x, y = self.x, self.y
        gs = _scaled(g, x.shape, self.reduction, x.size)
        if self.weight is not None:
            gs = gs * self.weight
        gx = gy = None
        if self.needs_input_grad[0]:
            if self.coef is None:
                gx = gs * (sigmoid_array(x) - y)
            else:
                gx = gs * ((1 - y) - self.coef * sigmoid_array(-x))
        if self.needs_input_grad[1]:
            gy = gs * (-x + (self.pos_weight - 1) * self.sp if self.pos_weight is not None else -x)
        return gx, gy

"""Softmax、LogSoftmax 与融合的 Softmax + 交叉熵（数值稳定：先减去每行最大值）。

分类模型的最后一环。softmax(x)ᵢ = e^{xᵢ-m} / Σⱼ e^{xⱼ-m}，其中 m = maxⱼ xⱼ：减去 m 在数学上不改变结果，
却让 e^{…} ≤ 1，logits 到 1e4 也不会出现 inf/nan。把 softmax 与交叉熵合成一个节点后，链式法则化简成
∂L/∂x = p - onehot(y)，既省内存又更稳定。

English: softmax(x)ᵢ = e^{xᵢ-m} / Σⱼ e^{xⱼ-m}, m = maxⱼ xⱼ.  Subtracting m changes nothing mathematically
but keeps e^{…} ≤ 1, so logits of 1e4 give no inf/nan.
"""
from ..autograd import Function
from ..backend import array_module, kernel_for, ones_vector
from ..errors import TensorError


def log_softmax_array(x, axis):
    """对原始数组做数值稳定的 log softmax：(x - m) - log Σ e^{x-m}。"""
    xp = array_module(x)
    z = x - x.max(axis=axis, keepdims=True)
    z -= xp.log(xp.exp(z).sum(axis=axis, keepdims=True))
    return z


class Softmax(Function):
    def forward(self, x, dim):
        xp = array_module(x)
        e = xp.exp(x - x.max(axis=dim, keepdims=True))
        e /= e.sum(axis=dim, keepdims=True)
        self.out, self.dim = e, dim
        return e

    def backward(self, g):
        """s = softmax(x):  ∂L/∂xᵢ = sᵢ (gᵢ - Σⱼ gⱼ sⱼ) —— 雅可比矩阵 diag(s) - s sᵀ 乘以 g，不必显式构造。"""
        s = self.out
        return s * (g - (g * s).sum(axis=self.dim, keepdims=True))


class LogSoftmax(Function):
    def forward(self, x, dim):
        self.out, self.dim = log_softmax_array(x, dim), dim
        return self.out

    def backward(self, g):
        """z = log softmax(x):  ∂L/∂xᵢ = gᵢ - softmax(x)ᵢ Σⱼ gⱼ —— softmax 由输出 e^z 得到。"""
        xp = array_module(g)
        return g - xp.exp(self.out) * g.sum(axis=self.dim, keepdims=True)


class SoftmaxCrossEntropy(Function):
    """交叉熵 = -log softmax(x)[y]，一次算完 log-softmax 与 NLL（class indices, ignore_index, reduction）。

    logits: (N, C); target: (N,) integer class indices."""

    def forward(self, x, target, ignore_index=-100, reduction="mean"):
        xp = array_module(x)
        if x.ndim != 2:
            raise TensorError(f"cross_entropy: expected logits of shape (N, C), got {x.shape} "
                             "(reshape to (-1, C) first)")
        if target.dtype.kind not in "iu":
            raise TypeError(f"cross_entropy: target must hold integer class indices, got dtype {target.dtype}")
        if target.shape != x.shape[:1]:
            raise TensorError(f"cross_entropy: target shape {target.shape} does not match logits {x.shape}: "
                             f"expected ({x.shape[0]},)")
        n, c = x.shape
        self.kernel = kernel_for(x, "softmax_ce_forward")
        if self.kernel is not None:                 # GPU：kernels/softmax_ce.cu，每行一个线程块
            return self._forward_kernel(x, target, ignore_index, reduction)
        lo, hi = (int(target.min()), int(target.max())) if n else (0, 0)
        valid, safe, count = None, target, n        # 通常没有要忽略的行：不必做掩码
        if lo <= ignore_index <= hi:                # 有行被忽略：把它们的类别换成 0，损失和梯度乘以 0
            valid = target != ignore_index
            safe = xp.where(valid, target, 0)
            lo, hi, count = int(safe.min()), int(safe.max()), int(valid.sum())
        if hi >= c or lo < 0:
            raise IndexError(f"cross_entropy: target {hi if hi >= c else lo} is out of range for {c} classes")
        self.scale = 1.0 / max(count, 1) if reduction == "mean" else 1.0
        self.reduction, self.valid = reduction, valid
        # 一个 (N, C) 缓冲走完全程：x - m → e = e^{x-m}（原地）。softmax p = e / s 不单独算出来：
        # 反向把 1/s 和梯度的系数合成一次乘法（大词表时每一遍都是几十 MB 的读写）
        rows = xp.arange(n)
        e = x - x.max(axis=1, keepdims=True)
        z_y = e[rows, safe]                         # 目标类的 x - m
        xp.exp(e, out=e)
        s = e @ ones_vector(e, c)                   # s = Σⱼ e^{xⱼ-m}（按行求和写成 BLAS gemv，比 sum(1) 快）
        nll = xp.log(s) - z_y                       # 负对数似然：-log pᵧ = log Σ e^{x-m} - (xᵧ - m)
        if valid is not None:
            nll *= valid
        self.e, self.s, self.safe, self.rows = e, s, safe, rows
        if reduction == "none":
            return nll
        total = nll.sum()
        return total * x.dtype.type(self.scale) if reduction == "mean" else total

    def _forward_kernel(self, x, target, ignore_index, reduction):
        """GPU 路径，不做设备到主机的同步：标签越界的检查推迟（``backend.check_later``，在下一次
        ``.item()`` 时报错），``mean`` 要除的有效行数留在设备上；被忽略的行在 kernel 里损失和梯度都是 0。"""
        xp = array_module(x)
        nll, self.lse = self.kernel(x, target, ignore_index, check="later")
        self.x, self.target, self.ignore_index = x, target, ignore_index
        self.reduction, self.valid = reduction, None
        if reduction == "mean":                     # 1 / max(有效行数, 1)，留在设备上
            count = (target != ignore_index).sum()
            self.scale = xp.maximum(count, 1).astype(x.dtype)
            self.scale = x.dtype.type(1) / self.scale
        else:
            self.scale = None
        if reduction == "none":
            return nll
        total = nll.sum()
        return total * self.scale if reduction == "mean" else total

    def backward(self, g):
        """L = -log pᵧ, p = softmax(x):  ∂L/∂x = p - onehot(y) —— 预测概率减去真实标签，最简洁的梯度；
        mean 时再除以有效样本数，被 ignore 的行梯度为 0。"""
        # 每行的系数 w：上游梯度（mean 时 × 1/有效样本数）× valid
        if self.kernel is not None:                 # GPU：系数留在设备上，不同步
            w = g if self.scale is None else g * self.scale.astype(g.dtype)
            return kernel_for(self.x, "softmax_ce_backward")(self.x, self.target, self.lse, w,
                                                             self.ignore_index, check=False), None
        if self.reduction == "none":
            w = g
        else:
            w = float(g) * self.scale               # 一个 Python 数：乘到 float32 数组上仍是 float32
        if self.valid is not None:
            w = self.valid.astype(g.dtype) * w
        coef = (w / self.s)[:, None]                # 梯度 d = w·(p - onehot(y)) = e·(w/s) - w·onehot(y)
        if self.may_overwrite_saved:                # e 反向后即释放：梯度直接写在 e 上，不再新建 (N, C) 数组
            d = self.e
            d *= coef
        else:
            d = self.e * coef
        d[self.rows, self.safe] -= w
        return d, None

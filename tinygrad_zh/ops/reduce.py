"""归约运算：sum / mean / max / min / logsumexp / var / std / 2-范数、累加 cumsum / 累乘 cumprod，以及不可导的 argmax。

归约把许多元素变成一个，反向时梯度要"原路送回"每个参与的元素：先用 ``_expand_back`` 把被归约掉的
轴补回来（长度为 1），再广播到输入的形状。参与求和的每个元素都拿到同一份上游梯度；max/min 只把梯度
交给被选中的元素。

English: ``axes`` is always a normalised tuple of non-negative ints (``Tensor`` does that); ``keepdim``
follows PyTorch.  Backward first restores the reduced axes (``_expand_back``) and then
broadcasts: every input element that fed a sum receives the same upstream gradient.
"""
from ..autograd import Function
from ..backend import array_module


def _expand_back(g, in_shape, axes, keepdim):
    """把被归约掉的轴重新插回来（长度为 1），使 ``g`` 能和输入广播。"""
    if not keepdim and axes:
        shape = list(g.shape)
        for ax in sorted(axes):
            shape.insert(ax, 1)
        g = g.reshape(shape)
    return g


class Sum(Function):
    def forward(self, a, axes, keepdim=False):
        self.in_shape, self.axes, self.keepdim = a.shape, axes, keepdim
        return a.sum(axis=axes, keepdims=keepdim)

    def backward(self, g):
        """z = Σᵢ xᵢ:  ∂z/∂xᵢ = 1 —— 每个参与求和的元素都拿到同一份上游梯度（广播回去）。"""
        g = _expand_back(g, self.in_shape, self.axes, self.keepdim)
        return array_module(g).broadcast_to(g, self.in_shape)


class Mean(Function):
    def forward(self, a, axes, keepdim=False):
        self.in_shape, self.axes, self.keepdim = a.shape, axes, keepdim
        n = 1
        for ax in axes:
            n *= a.shape[ax]
        self.n = n
        return a.mean(axis=axes, keepdims=keepdim)

    def backward(self, g):
        """z = (1/n) Σᵢ xᵢ:  ∂z/∂xᵢ = 1/n —— 平均就是求和再乘 1/n。"""
        g = _expand_back(g, self.in_shape, self.axes, self.keepdim) * g.dtype.type(1.0 / max(self.n, 1))
        return array_module(g).broadcast_to(g, self.in_shape)


class Max(Function):
    """沿 ``axes`` 求最大值；``mode="min"`` 时求最小值。"""

    def forward(self, a, axes, keepdim=False, mode="max"):
        xp = array_module(a)
        self.a, self.axes, self.keepdim = a, axes, keepdim
        self.out = (a.max if mode == "max" else a.min)(axis=axes, keepdims=True)
        return self.out if keepdim else self.out.reshape([n for i, n in enumerate(a.shape) if i not in axes])

    def backward(self, g):
        """z = max(x):  ∂z/∂xᵢ = 1（xᵢ 是最大值），否则 0 —— 梯度只交给最大值；并列时平分（与 PyTorch 的 amax 相同）。"""
        g = _expand_back(g, self.a.shape, self.axes, self.keepdim)
        mask = self.a == self.out
        count = mask.sum(axis=self.axes, keepdims=True)
        return g * mask / count.astype(g.dtype)


class MaxIndex(Function):
    """沿一个维度取最大/最小值（返回值，下标另算）；梯度只回到被选中的那个下标。"""

    def forward(self, a, dim, keepdim=False, mode="max"):
        xp = array_module(a)
        self.shape, self.dim, self.keepdim = a.shape, dim, keepdim
        idx = (xp.argmax if mode == "max" else xp.argmin)(a, axis=dim)
        self.idx = xp.expand_dims(idx, dim)
        vals = xp.take_along_axis(a, self.idx, axis=dim)
        return vals if keepdim else xp.squeeze(vals, axis=dim)

    def backward(self, g):
        """z = x[argmax]:  ∂z/∂x 在被选中的下标处为 1，其余为 0 —— 梯度只回到"赢家"那里。"""
        xp = array_module(g)
        if not self.keepdim:
            g = xp.expand_dims(g, self.dim)
        out = xp.zeros(self.shape, g.dtype)
        xp.put_along_axis(out, self.idx, g, axis=self.dim)
        return out


class LogSumExp(Function):
    def forward(self, a, axes, keepdim=False):
        xp = array_module(a)
        m = a.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        s = xp.exp(a - m)
        out = xp.log(s.sum(axis=axes, keepdims=True)) + m
        self.a, self.out_k, self.axes, self.keepdim = a, out, axes, keepdim
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in axes])

    def backward(self, g):
        """z = log Σ eˣⁱ:  ∂z/∂xᵢ = eˣⁱ / Σ eˣʲ = softmax(x)ᵢ —— logsumexp 的梯度正是 softmax。"""
        g = _expand_back(g, self.a.shape, self.axes, self.keepdim)
        return g * array_module(g).exp(self.a - self.out_k)


class Var(Function):
    def forward(self, a, axes, correction=1, keepdim=False):
        n = 1
        for ax in axes:
            n *= a.shape[ax]
        self.centered = a - a.mean(axis=axes, keepdims=True)
        self.denom = max(n - correction, 0)
        self.axes, self.keepdim, self.shape = axes, keepdim, a.shape
        return (self.centered ** 2).sum(axis=axes, keepdims=keepdim) / a.dtype.type(self.denom) \
            if self.denom else (self.centered ** 2).sum(axis=axes, keepdims=keepdim) * a.dtype.type("nan")

    def backward(self, g):
        """z = Σ(xᵢ-x̄)² / (n-c):  ∂z/∂xᵢ = 2(xᵢ-x̄)/(n-c) —— x̄ 对 xᵢ 的导数项求和后为 0，所以只剩这一项。"""
        g = _expand_back(g, self.shape, self.axes, self.keepdim)
        return g * self.centered * g.dtype.type(2.0 / self.denom if self.denom else float("nan"))


class Std(Function):
    """标准差 s = √var：单独一个节点，这样 s = 0（整行相同）时梯度可以按 PyTorch 的约定取 0。

    Written as ``var().sqrt()`` the chain rule multiplies ∂√v/∂v = 1/(2√v) = ∞ by ∂v/∂x = 0 and gives
    NaN for a constant row; PyTorch (``std_backward``) defines that gradient as 0 (a subgradient: s ≥ 0
    is smallest there)."""

    def forward(self, a, axes, correction=1, keepdim=False):
        xp = array_module(a)
        n = 1
        for ax in axes:
            n *= a.shape[ax]
        self.centered = a - a.mean(axis=axes, keepdims=True)
        self.denom = max(n - correction, 0)
        self.axes, self.keepdim, self.shape = axes, keepdim, a.shape
        ss = (self.centered ** 2).sum(axis=axes, keepdims=True)
        var = ss / a.dtype.type(self.denom) if self.denom else ss * a.dtype.type("nan")
        self.out = xp.sqrt(var)                          # 保留被归约的轴（长度为 1），反向时直接广播
        return self.out if keepdim else self.out.reshape([k for i, k in enumerate(a.shape) if i not in axes])

    def backward(self, g):
        """s = √(Σ(xᵢ-x̄)² / (n-c)):  ∂s/∂xᵢ = (xᵢ-x̄) / ((n-c)·s) —— 离均值越远的元素影响越大；s = 0 时取 0（与 PyTorch 相同）。"""
        xp = array_module(g)
        g = _expand_back(g, self.shape, self.axes, self.keepdim)
        if not self.denom:                               # n ≤ c：s 是 NaN，它的梯度也是 NaN
            return xp.broadcast_to(g * g.dtype.type("nan"), self.shape)
        s = self.out.astype(g.dtype, copy=False)
        zero = s == 0
        coef = g / xp.where(zero, g.dtype.type(1), s * g.dtype.type(self.denom))
        return xp.where(zero, g.dtype.type(0), coef) * self.centered


class Norm(Function):
    """2-范数 ‖x‖ = √(Σxᵢ²) over ``axes``，一个节点；‖x‖ = 0 时梯度取 0（与 PyTorch 的 norm 相同）。

    As ``(x * x).sum().sqrt()`` the zero vector gets ∞ · 0 = NaN in backward."""

    def forward(self, a, axes, keepdim=False):
        xp = array_module(a)
        self.a, self.axes, self.keepdim = a, axes, keepdim
        self.out = xp.sqrt((a * a).sum(axis=axes, keepdims=True))
        return self.out if keepdim else self.out.reshape([k for i, k in enumerate(a.shape) if i not in axes])

    def backward(self, g):
        """z = √(Σxᵢ²):  ∂z/∂xᵢ = xᵢ / z —— 方向向量；z = 0 时没有方向，梯度取 0。"""
        xp = array_module(g)
        g = _expand_back(g, self.a.shape, self.axes, self.keepdim)
        z = self.out.astype(g.dtype, copy=False)
        zero = z == 0
        coef = xp.where(zero, g.dtype.type(0), g / xp.where(zero, g.dtype.type(1), z))
        return coef * self.a


class ArgMax(Function):
    differentiable = False

    def forward(self, a, dim=None, keepdim=False, mode="max"):
        xp = array_module(a)
        f = xp.argmax if mode == "max" else xp.argmin
        if dim is None:
            out = f(a)
            return out.reshape([1] * a.ndim) if keepdim else out
        out = f(a, axis=dim)
        return xp.expand_dims(out, dim) if keepdim else out


def _reverse_cumsum(xp, g, dim):
    """从后往前的累加：out[i] = Σ_{j ≥ i} g[j]。"""
    return xp.flip(xp.cumsum(xp.flip(g, axis=dim), axis=dim), axis=dim)


class CumSum(Function):
    """沿 dim 的前缀和：yᵢ = x₀ + … + xᵢ。"""

    def forward(self, a, dim):
        self.dim = dim
        return array_module(a).cumsum(a, axis=dim)

    def backward(self, g):
        """zⱼ = Σ_{i ≤ j} xᵢ:  ∂zⱼ/∂xᵢ = 1（i ≤ j）—— xᵢ 出现在它之后的每个前缀和里，所以梯度是 g 从后往前的累加。"""
        return _reverse_cumsum(array_module(g), g, self.dim)


class CumProd(Function):
    """沿 dim 的前缀积：yᵢ = x₀ · … · xᵢ（输入里有 0 时反向也精确）。"""

    def forward(self, a, dim):
        xp = array_module(a)
        self.a, self.dim = a, dim
        self.out = xp.cumprod(a, axis=dim)
        return self.out

    def backward(self, g):
        """zⱼ = Π_{k ≤ j} xₖ:  ∂zⱼ/∂xᵢ = Π_{k ≤ j, k ≠ i} xₖ（i ≤ j）—— 没有 0 时等于 zⱼ / xᵢ，梯度是
        Σ_{j ≥ i} gⱼ·zⱼ / xᵢ。有 0 时不能除：设 p 是第一个 0 的位置，p 之前照用上式（zⱼ 在 p 之后都是 0），
        p 处把 x_p 换成 1 再求累乘 z'，梯度是 Σ_{j ≥ p} gⱼ·z'ⱼ；p 之后的位置梯度为 0（每个乘积里都有 x_p = 0）。"""
        xp = array_module(g)
        a, d = self.a, self.dim
        zero = a == 0
        pos = xp.arange(a.shape[d]).reshape([-1 if i == d else 1 for i in range(a.ndim)])
        # 每一行第一个 0 的位置（没有 0 时取长度 n，即"在最后之后"）
        first = xp.where(zero.any(axis=d, keepdims=True), xp.argmax(zero, axis=d, keepdims=True), a.shape[d])
        before = _reverse_cumsum(xp, g * self.out, d) / xp.where(zero, a.dtype.type(1), a)
        at_zero = pos == first
        out_p = xp.cumprod(xp.where(at_zero, a.dtype.type(1), a), axis=d)
        at = _reverse_cumsum(xp, g * out_p, d)
        return xp.where(pos < first, before, xp.where(at_zero, at, g.dtype.type(0))).astype(g.dtype, copy=False)

"""填充（F.pad）：在张量的末尾几维两侧补上常数，或按反射 / 复制边缘 / 循环的规则补上已有的元素。

``pads`` 是每一维的 (左, 右)，从第 0 维排到最后一维（functional 已把 PyTorch 的"从最后一维往前"的写法换成
这种顺序）。负数表示从那一侧裁掉。

- constant：输出先填满 ``value``，再把输入（裁掉负的部分后）放进中间；反向把中间那块梯度取回来，
  裁掉的位置梯度为 0。
- reflect / replicate / circular：每一维都是"按下标取元素"：输出第 j 个位置取输入的第 src[j] 个，
  src 由模式决定。一个输入元素可能被取了好几次，所以反向时把这些位置的梯度加起来
  （用一个 0/1 矩阵 M[j, src[j]] = 1 做一次矩阵乘法：g_in = g_out · M）。

English: ``pads`` is one (before, after) pair per dim, dim 0 first; negative values crop. The
non-constant modes gather along each padded dim with an index map, and backward sums the gradient
of every copy back onto its source (a 0/1 matrix product, the same code on NumPy and CuPy).
"""
from ..autograd import Function
from ..backend import array_module

MODES = ("constant", "reflect", "replicate", "circular")


def source_index(xp, n, before, after, mode):
    """输出的每个位置从输入的哪个位置取值（长度 n + before + after 的整数数组）。"""
    k = xp.arange(-before, n + after)           # 输出第 j 个位置对应输入坐标 j − before（可能越界）
    if mode == "replicate":
        return xp.clip(k, 0, n - 1)             # 越界就取最近的边缘元素
    if mode == "circular":                      # 首尾相接；负的填充先裁掉，再在裁剩的部分里绕圈（PyTorch 如此）
        lo, hi = max(-before, 0), max(-after, 0)
        return lo + (xp.arange(-max(before, 0), n - lo - hi + max(after, 0)) % (n - lo - hi))
    period = 2 * (n - 1)                        # reflect：以边缘元素为镜面（边缘本身不重复）
    if period == 0:
        return xp.zeros_like(k)
    k = k % period
    return xp.where(k < n, k, period - k)


def _slices(shape, pads):
    """constant 模式：输入中保留的块（src）与它在输出中的位置（dst）。"""
    src, dst = [], []
    for n, (lo, hi) in zip(shape, pads):
        src.append(slice(max(-lo, 0), n - max(-hi, 0)))
        start = max(lo, 0)
        dst.append(slice(start, start + max(n - max(-lo, 0) - max(-hi, 0), 0)))
    return tuple(src), tuple(dst)


class Pad(Function):
    """填充：out 的形状是每一维 n + 左 + 右。"""

    def forward(self, a, pads, mode="constant", value=0.0):
        xp = array_module(a)
        self.in_shape, self.pads, self.mode = a.shape, pads, mode
        if mode == "constant":
            out_shape = tuple(n + lo + hi for n, (lo, hi) in zip(a.shape, pads))
            out = xp.full(out_shape, value, dtype=a.dtype)
            self.src, self.dst = _slices(a.shape, pads)
            out[self.dst] = a[self.src]
            return out
        self.index = []
        for axis, (lo, hi) in enumerate(pads):
            if lo or hi:
                idx = source_index(xp, a.shape[axis], lo, hi, mode)
                self.index.append((axis, idx, a.shape[axis]))
                a = xp.take(a, idx, axis=axis)
        return a if self.index else a.copy()            # 输出不与输入共用内存

    def backward(self, g):
        """out = pad(x)：out 的每个位置都是 x 的某个元素的复制（或常数），
        ∂L/∂xᵢ = Σ_{j: src[j] = i} ∂L/∂out_j —— 被复制几次，就收回几份梯度；常数填充的位置不属于任何 xᵢ。"""
        xp = array_module(g)
        if self.mode == "constant":
            gx = xp.zeros(self.in_shape, g.dtype)
            gx[self.src] = g[self.dst]
            return gx
        for axis, idx, n in reversed(self.index):
            m = (idx[:, None] == xp.arange(n)[None, :]).astype(g.dtype)     # M[j, i] = 1 当 src[j] = i
            g = xp.moveaxis(xp.moveaxis(g, axis, -1) @ m, -1, axis)
        return g

"""插值缩放（F.interpolate / nn.Upsample）：'nearest' 与 'linear' / 'bilinear'，每个空间维分开做（可分离）。

一维的规则（输入长 n，输出长 m，输出第 j 个位置）：

- nearest：取输入的第 ⌊j · s⌋ 个（不超过 n − 1）。s = 1/scale_factor（给了 scale_factor 时），否则 s = n/m；
  PyTorch 用输入的精度（float64 输入用 float64，float32 输入用 float32）算这个乘积，这里照做，下标才一模一样。4-D 输入（两个空间维）时 PyTorch 还有两个捷径：
  m = n 时原样照抄，m = 2n 时取 j >> 1（即使 1/scale_factor 不是 1 或 1/2，如 5 → 10 的 2.1 倍）；
  3-D、5-D 输入没有捷径。我们照样区分，结果与 PyTorch 一致。
- linear，align_corners=False：源坐标 x = (j + 0.5) · s − 0.5，小于 0 时取 0；
  align_corners=True：x = j · (n − 1)/(m − 1)（m = 1 时 x = 0）。
  i₀ = ⌊x⌋，i₁ = min(i₀ + 1, n − 1)，λ = x − i₀，输出 = (1 − λ) · a[i₀] + λ · a[i₁]。
  m = n 时这一维原样照抄（PyTorch 如此，即使给的 scale_factor 不是 1）。

多维（bilinear）就是先沿 H 做一维插值，再沿 W 做：每一维都是"取两个元素、按权重相加"。

English: each spatial dim is resampled on its own with precomputed source indices ``i0, i1`` and
weights ``w0, w1`` (nearest: ``i1 = i0``, ``w0 = 1``, ``w1 = 0``): ``out[j] = w0[j]·a[i0[j]] + w1[j]·a[i1[j]]``.
Backward scatter-adds ``w0·g`` onto ``i0`` and ``w1·g`` onto ``i1``, dim by dim in reverse order.
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module
from .index import scatter_add_rows


def nearest_index(n, m, scale, shortcuts=False, dtype=np.float32):
    """nearest：输出每个位置取输入的哪个下标（与 PyTorch 的 CPU 算法一样，用输入的精度算 j · s：
    float64 输入用 float64，其余用 float32）。``shortcuts``：m = n 时原样、m = 2n 时 j >> 1（4-D 输入）。"""
    j = np.arange(m)
    if shortcuts and m in (n, 2 * n):
        return j if m == n else j >> 1
    ct = np.float64 if dtype == np.float64 else np.float32
    s = ct(1.0 / scale) if scale is not None and scale > 0 else ct(n) / ct(m)
    return np.minimum(np.floor(j.astype(ct) * s).astype(np.int64), n - 1)


def linear_index(n, m, scale, align_corners):
    """linear：每个输出位置的两个源下标 i₀、i₁ 与权重 1 − λ、λ（float64）。"""
    j = np.arange(m, dtype=np.float64)
    if m == n:                                              # 长度不变：原样照抄（PyTorch 如此，不管 scale_factor）
        return np.arange(n), np.arange(n), np.ones(n), np.zeros(n)
    if align_corners:
        x = j * ((n - 1) / (m - 1) if m > 1 else 0.0)
    else:
        s = 1.0 / scale if scale is not None and scale > 0 else n / m
        x = np.maximum((j + 0.5) * s - 0.5, 0.0)            # 左边界外的位置贴着第 0 个
    i0 = np.minimum(np.floor(x).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = np.clip(x - i0, 0.0, 1.0)
    return i0, i1, 1.0 - lam, lam


class Interpolate(Function):
    """沿最后几维（空间维）缩放：``sizes`` 是输出的空间大小，``scales`` 是每维的 scale_factor 或 None。"""

    def forward(self, a, sizes, scales, mode, align_corners=False):
        xp = array_module(a)
        self.plan = []                                     # 每个空间维：(轴, 输入长, i0, i1, w0, w1)
        first = a.ndim - len(sizes)
        for k, (m, scale) in enumerate(zip(sizes, scales)):
            axis, n = first + k, a.shape[first + k]
            if mode == "nearest":
                i0 = xp.asarray(nearest_index(n, m, scale, len(sizes) == 2, a.dtype))
                self.plan.append((axis, n, i0, None, None, None))
                a = xp.take(a, i0, axis=axis)
                continue
            i0, i1, w0, w1 = linear_index(n, m, scale, align_corners)
            shape = [1] * a.ndim
            shape[axis] = m                                # 权重沿 axis 广播
            w0, w1 = (xp.asarray(w.astype(a.dtype).reshape(shape)) for w in (w0, w1))
            i0, i1 = xp.asarray(i0), xp.asarray(i1)
            self.plan.append((axis, n, i0, i1, w0, w1))
            a = xp.take(a, i0, axis=axis) * w0 + xp.take(a, i1, axis=axis) * w1
        return a                                           # take 总是新数组：输出不与输入共用内存

    def backward(self, g):
        """一维：out_j = w₀ⱼ · a[i₀ⱼ] + w₁ⱼ · a[i₁ⱼ]，所以
        ∂L/∂aᵢ = Σ_{j: i₀ⱼ = i} w₀ⱼ · ∂L/∂out_j + Σ_{j: i₁ⱼ = i} w₁ⱼ · ∂L/∂out_j
        —— 每个输入元素收回它参与的所有输出位置的梯度，乘上当时的权重（nearest 的权重是 1）。
        多维时按前向的相反顺序逐维做一遍。"""
        xp = array_module(g)
        for axis, n, i0, i1, w0, w1 in reversed(self.plan):
            g = xp.moveaxis(g, axis, 0)                    # 散加按第 0 轴的"行"进行
            if w0 is None:
                gx = scatter_add_rows(i0, g, n)
            else:
                w0, w1 = xp.moveaxis(w0, axis, 0), xp.moveaxis(w1, axis, 0)
                gx = scatter_add_rows(i0, g * w0, n) + scatter_add_rows(i1, g * w1, n)
            g = xp.moveaxis(gx.reshape((n,) + g.shape[1:]), 0, axis)
        return g

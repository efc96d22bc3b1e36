"""中位数：``x.median()``（所有元素）是一个节点；``x.median(dim)``、``x.kthvalue(k, dim)`` 用 argsort + gather。

n 个数排好序后，第 (n-1)//2 个（从 0 数）就是中位数；n 为偶数时取较低的那个（与 PyTorch 相同，想要两个
中间值的平均，用 quantile(0.5)）。有 NaN 时结果是 NaN。

English: ``Median`` reduces all elements to the lower median. Its backward shares the gradient evenly
among the elements equal to the result (the NaNs when the result is NaN), as PyTorch's ``median()``
does; the per-dim forms select one index each and get their gradient through ``gather``.
"""
from ..autograd import Function
from ..backend import array_module


class Median(Function):
    """所有元素的（较低的）中位数；有 NaN 时为 NaN。"""

    def forward(self, a):
        xp = array_module(a)
        self.a = a
        flat = a.reshape(-1)
        if flat.size == 0 or (a.dtype.kind == "f" and bool(xp.isnan(flat).any())):
            self.out = xp.asarray(xp.nan, dtype=a.dtype)      # 空张量、有 NaN：NaN（整数的情况 Tensor 先拒绝了）
            return self.out
        k = (flat.size - 1) // 2                      # 较低的中位数在排序后的第 k 个位置
        self.out = xp.sort(flat)[k]
        return xp.asarray(self.out)

    def backward(self, g):
        """z = median(x) = x_m:  ∂z/∂xᵢ = 1/c（xᵢ 与 z 相等，c 是这样的元素个数），否则 0 ——
        梯度交给等于中位数的那些元素，并列时平分（结果是 NaN 时平分给所有 NaN），与 PyTorch 相同。"""
        xp = array_module(g)
        mask = xp.isnan(self.a) if xp.isnan(self.out) else self.a == self.out
        return g * mask / g.dtype.type(max(int(mask.sum()), 1))

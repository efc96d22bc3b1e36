"""对 **视图** 做被记录的原地运算（《动手学深度学习》10.3 的 ``X = X.reshape(-1, n); X[~mask] = -1e6``）。

视图 v 和它的基张量 b 共用一块内存：改了 v，b 也变了。所以计算图里要有两个新节点（PyTorch 也是这样做的）：

* ``CopySlices``：b 的新值 = b 的旧值，只是视图覆盖的那些位置换成 v 的新值。梯度分成两份：
  视图位置上的交给 v 的新值，其余位置交给 b 的旧值。
* ``ViewOfBase``：v 的新值 = b 的新值在那些位置上的元素。之后用到 v 的地方，梯度先回到 b，再经 CopySlices 分开。

"哪些位置" 用 ``view_index(b, v)`` 算：对 v 的每个元素，给出它在 b 里（按行展开后）的下标。它只看两者的
形状、步长（strides）和起始地址，所以 reshape、转置、切片（包括带步长的）得到的视图都一样处理。

English: a recorded in-place op on a view ``v`` of ``b`` also changes ``b``. ``CopySlices`` is b's new
value (old b with v's positions replaced by v's new value; the gradient splits between the two) and
``ViewOfBase`` makes v read its values from the new b. ``view_index`` maps every element of the view
to its flat index in the base, from shapes, strides and addresses only.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..autograd import Function
from ..backend import array_module


def _address(a):
    """数组第一个元素的内存地址（NumPy、CuPy 和 CUDA 模拟器的数组）。"""
    if isinstance(a, np.ndarray):
        return a.__array_interface__["data"][0]
    data = getattr(a, "data", None)
    ptr = getattr(data, "ptr", None)
    if ptr is None:
        raise NotImplementedError(f"in-place on a view: cannot locate the memory of a {type(a).__name__}")
    return int(ptr)


def view_index(base, view):
    """(view 的形状) 的 int64 数组：view 每个元素在 base（按行展开）里的下标；在 CPU 上算。"""
    isz = base.itemsize
    bstr = [s // isz for s in base.strides]
    vstr = [s // isz for s in view.strides]
    off, rem = divmod(_address(view) - _address(base), isz)
    if rem or min(bstr + vstr, default=0) < 0 or off < 0 or view.itemsize != isz:
        raise NotImplementedError(
            f"in-place on a view of shape {view.shape} (strides {view.strides}) of a tensor of shape "
            f"{base.shape} (strides {base.strides}) while gradients are recorded: this memory layout is "
            "not supported; write it out of place (y = y + ...) or clone() the view first")
    span = 1 + sum((n - 1) * s for n, s in zip(base.shape, bstr)) if base.size else 0
    span = max(span, off + 1 + sum((n - 1) * s for n, s in zip(view.shape, vstr))) if view.size else span
    pos = np.full(span, -1, np.int64)
    as_strided(pos, base.shape, [s * 8 for s in bstr])[...] = np.arange(base.size).reshape(base.shape)
    idx = as_strided(pos[off:], view.shape, [s * 8 for s in vstr]).copy()
    if view.size and idx.min() < 0:
        raise NotImplementedError(f"in-place on a view of shape {view.shape}: it reaches memory outside "
                                  f"its base of shape {base.shape}")
    return idx


class CopySlices(Function):
    """基张量被它的一个视图原地改写之后的值：new = old，只是 idx 处换成视图的新值 v。"""

    def forward(self, old, v, idx=None, result=None):
        self.idx = idx
        return result                          # 新值已经写在基张量自己的内存里

    def backward(self, g):
        """new[idx] = v，其余位置 = old:  ∂new/∂old = 1（idx 以外），∂new/∂v = 1（idx 处）
        —— 视图覆盖的位置，梯度只流向 v；其余位置只流向 old。"""
        flat = g.reshape(-1)
        gv = flat[self.idx] if self.needs_input_grad[1] else None
        gold = None
        if self.needs_input_grad[0]:
            gold = flat.copy()
            gold[self.idx.reshape(-1)] = 0
            gold = gold.reshape(g.shape)
        return gold, gv


class ViewOfBase(Function):
    """视图 = 基张量在 idx 处的元素（值就是视图自己的内存，与基张量共享）。"""

    def forward(self, base, idx=None, result=None):
        self.idx, self.base_shape = idx, base.shape
        return result

    def backward(self, g):
        """y = base[idx]:  ∂y/∂base 在 idx 处是 1 —— 把 g 放回 idx 处，其余位置是 0（视图不会自己重叠）。"""
        xp = array_module(g)
        out = xp.zeros(int(np.prod(self.base_shape, dtype=np.int64)), g.dtype)
        out[self.idx.reshape(-1)] = g.reshape(-1)
        return out.reshape(self.base_shape)


class StaleView(Function):
    """占位节点：一个视图的基张量被 *另一个* 视图原地改写过，梯度再流到这里就报错，而不是悄悄算错。"""

    def forward(self, a):
        return a

    def backward(self, g):
        """没有可用的导数：这个视图的值已经被改写，原来的 grad_fn 不再描述它 —— 报错，不返回错误的梯度。"""
        raise RuntimeError(
            "a view was used after its base tensor was modified in place through another view while "
            "gradients were recorded; its gradient would be wrong. Take the view again after the "
            "in-place operation (e.g. call reshape / index once more), or write the update out of place")

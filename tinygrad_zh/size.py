"""``tg.Size``：张量的形状（PyTorch 的 ``torch.Size``）。

它就是一个整数元组（``x.shape == (2, 3)`` 成立，可以拆开、下标、拼接），另外有 ``numel()``（元素个数），
显示方式与 PyTorch 相同：``torch.Size([2, 3])``，这样按书上的例子打印 ``X.shape`` 得到一样的输出。
``x.size()`` 返回它；``x.shape`` 是普通元组（读得最多，保持最快；见 docs/pytorch_compat.md）。

English: the shape of a tensor, a tuple of ints with ``numel()``, shown as ``torch.Size([2, 3])``
like PyTorch so printed sizes match the books (``x.size()``; ``x.shape`` stays a plain tuple). Slicing a Size or adding a tuple to it gives a Size.
"""
import functools


class Size(tuple):
    """``Size([2, 3])``：整数元组 + ``numel()``。A tuple of ints (the shape of a tensor)."""
    __slots__ = ()

    def __new__(cls, sizes=()):
        items = []
        for i, n in enumerate(sizes):             # 不是可迭代对象时这里抛出 TypeError（与 PyTorch 相同）
            if isinstance(n, bool) or not hasattr(n, "__index__"):
                raise TypeError(f"Size() takes an iterable of 'int' (item {i} is '{type(n).__name__}')")
            items.append(n.__index__())          # NumPy 整数、0 维整数张量也可以
        return tuple.__new__(cls, items)

    def numel(self):
        """元素个数：各维大小的乘积（空形状 () 是 1 个元素）。"""
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec):
        """f-string 里（例如错误信息 f"got shape {x.shape}"）写成元组 ``(2, 3)``：短，和 NumPy 一致，库里的
        报错信息都这样写。``print(x.shape)``、``repr``、``str`` 才是 PyTorch 的 ``torch.Size([2, 3])``
        （PyTorch 在 f-string 里也写 ``torch.Size([2, 3])``：这是有意的不同，见 docs/pytorch_compat.md）。"""
        return format(tuple.__repr__(self), spec)

    def __getitem__(self, i):
        out = tuple.__getitem__(self, i)
        return tuple.__new__(Size, out) if isinstance(i, slice) else out

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, tuple.__add__(other, self))

    def __reduce__(self):
        return (Size, (tuple(self),))


# 热路径（``Tensor.shape``）用：数组的 ``.shape`` 已经是整数元组，直接变成 Size，不再逐个检查
as_size = functools.partial(tuple.__new__, Size)

"""具名元组返回值（PyTorch 的 ``torch.return_types``）：``x.max(dim=1)`` 等返回 (values, indices)。

结果就是一个元组：``v, i = x.max(1)`` 照常拆开，``r[0]`` 也可以；另外可以写 ``r.values`` / ``r.indices``。

English: ``x.max(dim)``, ``x.min(dim)``, ``x.sort()``, ``x.topk(k)``, ``x.median(dim)`` and ``x.kthvalue(k)`` return a named tuple with fields ``values`` and ``indices``; it unpacks like a tuple.
"""
from collections import namedtuple

__all__ = ["max", "min", "sort", "topk", "median", "kthvalue"]


def _values_indices(name):
    """一个名为 ``name`` 的具名元组类，字段是 values 和 indices，显示方式与 PyTorch 相同。"""
    base = namedtuple(name, ["values", "indices"])

    def __repr__(self):
        return f"tinygrad_zh.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": __name__,
                                "__doc__": f"Result of {name}(): a (values, indices) named tuple."})


max = _values_indices("max")              # noqa: A001  (the names are PyTorch's)
min = _values_indices("min")              # noqa: A001
sort = _values_indices("sort")
topk = _values_indices("topk")
median = _values_indices("median")
kthvalue = _values_indices("kthvalue")

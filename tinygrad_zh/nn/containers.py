"""容器：Sequential（按顺序串起来的层）、ModuleList（层的列表）、ModuleDict（层的字典），
以及 ParameterList / ParameterDict（参数的列表 / 字典）。

The modules inside are registered as submodules named "0", "1", ... (or by their keys), so
``parameters()``, ``state_dict()``, ``to()`` and ``train()/eval()`` reach them, with the same
state_dict keys as PyTorch (``"0.weight"``, ``"layers.2.bias"``, ...). ParameterList /
ParameterDict register their entries as parameters named "0", "1", ... (or by their keys):
``"plist.0"``, ``"pdict.alpha"``.
"""
import operator
from collections import OrderedDict

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def _check_module(m, who):
    if not isinstance(m, Module):
        raise TypeError(f"{who}: {type(m).__name__} is not a Module subclass")
    return m


def _index(idx, n, who):
    i = operator.index(idx)
    if not -n <= i < n:
        raise IndexError(f"{who}: index {idx} is out of range for {n} modules")
    return i % n


class Sequential(Module):
    """按顺序调用子模块：Sequential(a, b, c)(x) == c(b(a(x)))。

    ``Sequential(OrderedDict([("fc", Linear(...)), ...]))`` names the layers. Indexing gives a
    layer, slicing a new Sequential (sharing the layers, keeping their names)."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, _check_module(m, "Sequential"))
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), _check_module(m, "Sequential"))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(items[idx]))
        return items[_index(idx, len(items), "Sequential")][1]

    def __setitem__(self, idx, module):
        key = list(self._modules)[_index(idx, len(self), "Sequential")]
        self._modules[key] = _check_module(module, "Sequential")

    def __delitem__(self, idx):
        keys = list(self._modules)
        for k in (keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(keys), "Sequential")]]):
            del self._modules[k]
        if all(k.isdigit() for k in self._modules):            # keep the numbering 0, 1, 2, ...
            mods = list(self._modules.values())
            self._modules.clear()
            for i, m in enumerate(mods):
                self._modules[str(i)] = m

    def append(self, module):
        self.add_module(str(len(self)), _check_module(module, "Sequential.append"))
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        mods = list(self._modules.values())
        n = len(mods)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {n} modules")
        mods.insert(index % (n + 1) if index < 0 else index, _check_module(module, "Sequential.insert"))
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m
        return self

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input


class ModuleList(Module):
    """层的列表：能被 parameters() 找到的 list（只存放，不定义 forward）。"""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[_index(idx, len(mods), "ModuleList")]

    def __setitem__(self, idx, module):
        self._modules[str(_index(idx, len(self), "ModuleList"))] = _check_module(module, "ModuleList")

    def __delitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_index(idx, len(mods), "ModuleList")]
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module):
        self.add_module(str(len(self)), _check_module(module, "ModuleList.append"))
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        mods = list(self._modules.values())
        mods.insert(index, _check_module(module, "ModuleList.insert"))
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m


class ModuleDict(Module):
    """层的字典（按插入顺序），键是字符串。"""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        self.add_module(key, _check_module(module, "ModuleDict"))

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key):
        return self._modules.pop(key)

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m


def _as_parameter(value, who):
    """Parameter 原样保留；普通 Tensor 包成 Parameter（requires_grad=True，与 PyTorch 相同）。"""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value.detach())
    raise TypeError(f"{who}: expected a Parameter or Tensor, got {type(value).__name__}")


def _param_line(key, p):
    where = "" if p.device == "cpu" else f" ({p.device})"
    size = "x".join(str(n) for n in p.shape)
    return f"  ({key}): Parameter containing: [torch.{p.dtype} of size {size}{where}]"     # 缩进与 PyTorch 相同


class ParameterList(Module):
    """参数的列表：放进去的每个参数都被登记（名字 "0"、"1"……），parameters() 和 state_dict() 能找到它们。

    Plain tensors are wrapped into ``Parameter`` (requires_grad=True), as in PyTorch."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, idx):
        params = list(self._parameters.values())
        if isinstance(idx, slice):
            return ParameterList(params[idx])
        return params[_index(idx, len(params), "ParameterList")]

    def __setitem__(self, idx, param):
        i = _index(idx, len(self), "ParameterList")
        self.register_parameter(str(i), _as_parameter(param, "ParameterList"))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def append(self, value):
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values):
        if isinstance(values, Tensor) or not hasattr(values, "__iter__"):
            raise TypeError(f"ParameterList.extend should be called with an iterable of parameters, got "
                            f"{type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def forward(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called: index it (plist[0]) or iterate over it")

    def extra_repr(self):
        return "\n".join(_param_line(i, p) for i, p in enumerate(self))


class ParameterDict(Module):
    """参数的字典（键是字符串，按插入顺序）：每个值都被登记为名为该键的参数。

    Plain tensors are wrapped into ``Parameter``. As in PyTorch, ``update`` (and the constructor)
    keep the order of an OrderedDict, a ParameterDict or a list of pairs, and sort the keys of a
    plain dict."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__} ({key!r})")
        self.register_parameter(key, _as_parameter(value, f"ParameterDict[{key!r}]"))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        return self._parameters.pop(key)

    def clear(self):
        self._parameters.clear()

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self):
        """A new ParameterDict holding the same Parameter objects."""
        return ParameterDict(OrderedDict(self.items()))

    def update(self, parameters):
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            items = list(parameters.items())
        elif hasattr(parameters, "items"):
            items = sorted(parameters.items())          # 普通 dict：按键排序（PyTorch 如此）
        else:
            items = []
            for j, pair in enumerate(parameters):
                if not hasattr(pair, "__len__") or len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: element #{j} of the iterable should be a "
                                     f"(key, value) pair, got {pair!r}")
                items.append(tuple(pair))
        for k, v in items:
            self[k] = v

    def forward(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called: index it (pdict['name'])")

    def extra_repr(self):
        return "\n".join(_param_line(k, p) for k, p in self.items())

"""容器：Sequential（按顺序串起来的层）、ModuleList（层的列表）、ModuleDict（层的字典）。

The modules inside are registered as submodules named "0", "1", ... (or by their keys), so
``parameters()``, ``state_dict()``, ``to()`` and ``train()/eval()`` reach them, with the same
state_dict keys as PyTorch (``"0.weight"``, ``"layers.2.bias"``, ...).
"""
import operator
from collections import OrderedDict

from .module import Module


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

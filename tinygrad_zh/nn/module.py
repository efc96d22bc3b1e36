"""Module：所有层的基类。负责登记参数与子模块、train/eval、搬设备、state_dict 存取。

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it (``self.fc = Linear(...)``),
exactly like PyTorch, so ``parameters()`` finds everything in definition order.
"""
from collections import OrderedDict

import numpy as np

from .. import backend
from ..tensor import Tensor
from .parameter import Parameter


class Module:
    """Base class of every layer and model: override ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------- registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {name!r} before Module.__init__() is called "
                                 "(call super().__init__() first)")
        buffers = self.__dict__["_buffers"]
        if name in buffers and (value is None or isinstance(value, Tensor)) \
                and not isinstance(value, Parameter):
            buffers[name] = value          # re-assigning a buffer keeps it a buffer (as in PyTorch)
            return
        for d in (self._parameters, self._buffers, self._modules):
            d.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")

    def __delattr__(self, name):
        for d in (self._parameters, self._buffers, self._modules):
            if name in d:
                del d[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name, tensor):
        """A non-learnable state saved in state_dict (e.g. BatchNorm's running mean)."""
        self._buffers[name] = tensor
        self.__dict__.pop(name, None)

    def register_parameter(self, name, param):
        if param is None:
            self._parameters[name] = None
        else:
            self.__setattr__(name, param)

    def add_module(self, name, module):
        self._modules[name] = module

    # ------------------------------------------------------------- forward
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------- traversal
    def named_modules(self, prefix=""):
        seen, stack = set(), [(prefix, self)]
        out = []
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append((name, m))
            children = [(f"{name}.{n}" if name else n, c) for n, c in m._modules.items() if c is not None]
            stack.extend(reversed(children))
        return out

    def modules(self):
        return [m for _, m in self.named_modules()]

    def named_children(self):
        return [(n, m) for n, m in self._modules.items() if m is not None]

    def children(self):
        return [m for _, m in self.named_children()]

    def named_parameters(self, prefix="", recurse=True):
        """(name, Parameter) pairs, each parameter once, in definition order."""
        seen, out = set(), []
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for n, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                out.append((f"{mname}.{n}" if mname else n, p))
        return out

    def parameters(self, recurse=True):
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def named_buffers(self, prefix=""):
        out = []
        for mname, m in self.named_modules(prefix):
            for n, b in m._buffers.items():
                if b is not None:
                    out.append((f"{mname}.{n}" if mname else n, b))
        return out

    def buffers(self):
        return [b for _, b in self.named_buffers()]

    # ------------------------------------------------------------- modes
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.array[...] = 0

    def requires_grad_(self, flag=True):
        for p in self.parameters():
            p.requires_grad = flag
        return self

    # ------------------------------------------------------------- device / dtype
    def _apply(self, fn):
        """Apply ``fn(array) -> array`` to every parameter (and its grad) and every buffer, in place,
        so optimizers that hold these Parameter objects keep working."""
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                p.array = fn(p.array, p.array.dtype.kind == "f")
                p.device = backend.device_of(p.array)
                if p.grad is not None:
                    g = fn(p.grad.array, True)
                    p.grad = Tensor(g, dtype=g.dtype)      # keep the dtype (Tensor() alone makes float32)
            for n, b in list(m._buffers.items()):
                if b is not None:
                    b.array = fn(b.array, b.array.dtype.kind == "f")
                    b.device = backend.device_of(b.array)
        return self

    def to(self, *args, **kwargs):
        """to(device) / to(dtype) / to(device, dtype): converts parameters and buffers in place."""
        device, dtype = backend.parse_to_args(args, kwargs)
        if device is not None:
            device = backend.normalize_device(device)
            if device == "cuda":
                backend.require_cuda()
            self._apply(lambda a, f: backend.to_device(a, device))
        if dtype is not None:
            dt = backend.normalize_dtype(dtype)
            self._apply(lambda a, f: a.astype(dt) if f else a)
        return self

    def cuda(self):
        return self.to("cuda")

    def cpu(self):
        return self.to("cpu")

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    # ------------------------------------------------------------- state dict
    def state_dict(self):
        """OrderedDict name -> Tensor (parameters, then buffers), names as in PyTorch."""
        out = OrderedDict()
        for mname, m in self.named_modules():
            for n, p in m._parameters.items():
                if p is not None:
                    out[f"{mname}.{n}" if mname else n] = p.detach()
            for n, b in m._buffers.items():
                if b is not None:
                    out[f"{mname}.{n}" if mname else n] = b.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values (NumPy arrays or Tensors) into the parameters/buffers, in place.

        Raises KeyError naming missing/unexpected keys (strict) and ValueError naming the key and
        both shapes on a shape mismatch."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        targets = {}
        for mname, m in self.named_modules():
            for store in (m._parameters, m._buffers):
                for n, t in store.items():
                    if t is not None:
                        targets[f"{mname}.{n}" if mname else n] = t
        for k, v in state_dict.items():
            if k not in targets:
                continue
            t = targets[k]
            arr = v.array if isinstance(v, Tensor) else v
            arr = backend.to_device(arr if hasattr(arr, "dtype") else np.asarray(arr), t.device)
            if tuple(arr.shape) != t.shape:
                raise ValueError(f"load_state_dict: size mismatch for {k!r}: checkpoint has shape "
                                 f"{tuple(arr.shape)}, the model has {t.shape}")
            t.array = arr.astype(t.array.dtype, copy=True)
        return missing, unexpected

    # ------------------------------------------------------------- repr
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}(" + self.extra_repr()]
        if self._modules:
            for n, m in self._modules.items():
                sub = repr(m).replace("\n", "\n  ")
                lines.append(f"  ({n}): {sub}")
            return lines[0] + "\n" + "\n".join(lines[1:]) + "\n)"
        return lines[0] + ")"

"""Module：所有层的基类。负责登记参数与子模块、train/eval、搬设备、state_dict 存取。

Module 不参与求导：它只是把参数（``requires_grad=True`` 的叶子张量）收拢起来。``forward`` 调用 ``ops/``
里的运算，计算图就这样记录下来；``backward`` 之后梯度落在各个参数的 ``.grad`` 上，优化器再通过
``parameters()`` 找到它们。把 ``Parameter`` 或 ``Module`` 赋给属性（``self.fc = Linear(...)``）就完成
登记，和 PyTorch 完全一样，所以 ``parameters()`` 能按定义顺序找到所有参数。遍历方法（``parameters()``、
``named_modules()`` 等）与 PyTorch 一样是生成器：要下标访问就套一层 ``list(...)``；被几层共享的参数或
模块只产出一次。

English: assigning a ``Parameter`` or a ``Module`` to an attribute registers it (``self.fc = Linear(...)``),
exactly like PyTorch, so ``parameters()`` finds everything in definition order. The traversal
methods (``parameters()``, ``named_modules()``, ...) are generators, as in PyTorch: wrap them in
``list(...)`` to index them; a parameter or module shared by several layers is yielded once.
"""
from collections import OrderedDict, namedtuple
import itertools
import numbers

import numpy as np

from .. import backend
from ..tensor import Tensor
from .parameter import Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """``load_state_dict`` 的返回值：没找到的键 / 没想到会有的键。"""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class _StateDictKeyError(RuntimeError, KeyError):
    """严格模式的 ``load_state_dict`` 中缺少或多出的键（与 PyTorch 相同，是一个 RuntimeError）。"""
    __str__ = RuntimeError.__str__


class _StateDictShapeError(RuntimeError, ValueError):
    """``load_state_dict`` 中形状不匹配（与 PyTorch 相同，是一个 RuntimeError）。"""


class RemovableHandle:
    """``register_forward_hook`` 等方法的返回值：``handle.remove()`` 注销钩子
    （也可以写成 ``with module.register_forward_hook(f): ...``）。"""
    _ids = itertools.count()

    def __init__(self, hooks):
        self.hooks_dict, self.id = hooks, next(RemovableHandle._ids)

    def remove(self):
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _check_name(kind, name, owner):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if "." in name:
        raise KeyError(f"{kind} name can't contain \".\", got {name!r}")
    if name == "":
        raise KeyError(f"{kind} name can't be empty string \"\"")


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def size_arg(layer, name, value, minimum=0):
    """层的构造参数里的大小（特征数、通道数……）必须是整数：``Linear("2", 2)``、``Linear(2.7, 3)`` 报错，
    而不是被 ``int()`` 悄悄转换或截断（PyTorch 同样拒绝）。Returns ``int(value)``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{layer}: {name} must be an int, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{layer}: {name} must be >= {minimum}, got {value}")
    return int(value)


class Module:
    """所有层和模型的基类：子类重写 ``forward``。Base class of every layer and model."""

    def __init__(self):
        for name, value in (("_parameters", OrderedDict()), ("_buffers", OrderedDict()),
                            ("_modules", OrderedDict()), ("_non_persistent_buffers_set", set()),
                            ("_forward_pre_hooks", OrderedDict()), ("_forward_hooks", OrderedDict()),
                            ("training", True)):
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------- 登记参数、buffer 与子模块
    def __setattr__(self, name, value):
        # 规则与 PyTorch 相同：Parameter -> _parameters，Module -> _modules，已登记的 buffer 名 -> _buffers，
        # 其余是普通属性（在 super().__init__() 之前也可以设普通属性）。
        d = self.__dict__
        params, modules, buffers = d.get("_parameters"), d.get("_modules"), d.get("_buffers")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call "
                                     "(call super().__init__() first)")
            self._forget(name, keep="_parameters")     # 重新赋值的参数保持原来的位置（与 PyTorch 相同）
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call "
                                     "(call super().__init__() first)")
            self._forget(name, keep="_modules")        # 换掉子模块：位置不变
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                "(nn.Module or None expected)")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(Tensor or None expected)")
            buffers[name] = value          # 给 buffer 重新赋值，它仍是 buffer（与 PyTorch 相同）
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep=None):
        """把 ``name`` 从所有存放处删掉（然后才登记到另一处）；``keep`` 那一处不删，重新登记时就留在
        原来的位置，``named_parameters()``/``state_dict()`` 的顺序不变。"""
        self.__dict__.pop(name, None)
        for store in ("_parameters", "_buffers", "_modules"):
            if store != keep:
                self.__dict__[store].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

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
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def register_buffer(self, name, tensor, persistent=True):
        """登记一个不可学习的状态（例如 BatchNorm 的滑动均值）：``to()`` 会搬动它，除非 ``persistent=False``，
        否则也存进 ``state_dict()``。"""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name, self)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        """登记参数 ``param``（一个 Parameter；不存在时为 None，例如 ``bias=False``）。"""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name("parameter", name, self)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None:
            if not isinstance(param, Parameter):
                raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                                "(nn.Parameter or None required)")
            if param._ctx is not None:
                raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters "
                                 "must be created explicitly: wrap a detached tensor, "
                                 f"self.{name} = nn.Parameter(t.detach())")
        self._parameters[name] = param

    def add_module(self, name, module):
        """把 ``module``（或 None）登记为名为 ``name`` 的子模块。"""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name("module", name, self)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def _lookup(self, target, kind):
        module = self
        path, _, leaf = target.rpartition(".") if kind != "module" else (target, "", "")
        for part in path.split(".") if path else []:
            if not hasattr(module, part):
                raise AttributeError(f"{type(module).__name__} has no attribute `{part}`")
            module = getattr(module, part)
            if not isinstance(module, Module):
                raise AttributeError(f"`{part}` is not an nn.Module")
        return module, leaf

    def get_submodule(self, target):
        """按点分路径（如 ``"features.0"``）取子模块（``""`` 是自己）。"""
        return self._lookup(target, "module")[0]

    def get_parameter(self, target):
        """按点分路径（如 ``"features.0.weight"``）取参数。"""
        module, leaf = self._lookup(target, "parameter")
        if leaf not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter `{leaf}`")
        return module._parameters[leaf]

    def get_buffer(self, target):
        """按点分路径（如 ``"bn.running_mean"``）取 buffer。"""
        module, leaf = self._lookup(target, "buffer")
        if leaf not in module._buffers:
            raise AttributeError(f"{type(module).__name__} has no buffer `{leaf}`")
        return module._buffers[leaf]

    # ------------------------------------------------------------- 前向与钩子
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required \"forward\" function")

    def __call__(self, *args, **kwargs):
        pre, post = self.__dict__.get("_forward_pre_hooks"), self.__dict__.get("_forward_hooks")
        if not pre and not post:
            return self.forward(*args, **kwargs)
        for hook in list(pre.values()):
            res = hook(self, args)                      # 前置钩子可以替换输入
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
        out = self.forward(*args, **kwargs)
        for hook in list(post.values()):
            res = hook(self, args, out)                 # 后置钩子可以替换输出
            if res is not None:
                out = res
        return out

    def _add_hook(self, store, hook, prepend):
        hooks = self.__dict__.setdefault(store, OrderedDict())
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False):
        """``hook(module, args)`` 在 ``forward`` 之前运行；返回值不是 None 时替换输入。"""
        return self._add_hook("_forward_pre_hooks", hook, prepend)

    def register_forward_hook(self, hook, *, prepend=False):
        """``hook(module, args, output)`` 在 ``forward`` 之后运行；返回值不是 None 时替换输出。"""
        return self._add_hook("_forward_hooks", hook, prepend)

    # ------------------------------------------------------------- 遍历（与 PyTorch 一样是生成器）
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """自己和每个子模块的 (名字, 模块)，深度优先；每个模块只出现一次。"""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, _join(prefix, name), remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """直接子模块的 (名字, 模块)，每个模块只出现一次。"""
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate):
        memo = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse \
            else [(prefix, self)]
        for mname, m in mods:
            for n, v in m.__dict__[store].items():
                if v is None or id(v) in memo:
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield _join(mname, n), v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """按定义顺序给出 (名字, Parameter)；共享的参数只出现一次（用它的第一个名字）。"""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """对每个子模块（先子后父）调用 ``fn(m)``，最后对自己调用；返回 self。
        典型用法：``net.apply(init_weights)``。"""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------- 训练 / 评估模式
    def train(self, mode=True):
        """让自己和所有子模块进入训练模式（Dropout 会丢弃，BatchNorm 用当前 batch 的统计量）。"""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """清空每个参数的梯度，规则与 ``Optimizer.zero_grad`` 相同（见 optim/optimizer.py）：默认
        ``p.grad = None``；``set_to_none=False`` 时 ``p.grad`` 还是同一个张量，换上全 0 的新存储。"""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.array = p._xp.zeros_like(p.grad.array)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # ------------------------------------------------------------- 设备与 dtype
    def _apply(self, fn):
        """对每个参数（及其梯度）和每个 buffer 原地应用 ``fn(array, is_float) -> array``：Parameter 对象
        不变，所以拿着它们的优化器照常工作。"""
        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                p.array = fn(p.array, p.array.dtype.kind == "f")
                p.device = backend.device_of(p.array)
                if p.grad is not None:
                    g = fn(p.grad.array, True)
                    p.grad = Tensor(g, dtype=g.dtype)      # 保持 dtype（只写 Tensor() 会变成 float32）
            for n, b in list(m._buffers.items()):
                if b is not None:
                    b.array = fn(b.array, b.array.dtype.kind == "f")
                    b.device = backend.device_of(b.array)
        return self

    def to(self, *args, **kwargs):
        """to(device) / to(dtype) / to(device, dtype) / to(tensor)：原地转换参数和 buffer
        （只有浮点的才改 dtype）。"""
        if args and isinstance(args[0], Tensor):
            args = (args[0].device, args[0].dtype) + tuple(args[1:])
        device, dtype = backend.parse_to_args(args, kwargs)
        if device is not None:
            device = backend.normalize_device(device)
            if device == "cuda":
                backend.require_cuda()
            self._apply(lambda a, f: backend.to_device(a, device))
        if dtype is not None:
            dt = backend.normalize_dtype(dtype)
            if dt.kind != "f":
                raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                                f"dtype={dt}" + (" (tinygrad_zh has no complex dtypes: use float32 or float64)"
                                                 if dt.kind == "c" else ""))
            self._apply(lambda a, f: a.astype(dt) if f else a)
        return self

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def cpu(self):
        return self.to("cpu")

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def type(self, dst_type):
        """把每个参数和 buffer 转成 ``dst_type``。整数/布尔类型只在没有参数需要梯度时才行（与 PyTorch
        相同：整数张量不能求导）。"""
        dt = backend.normalize_dtype(dst_type)
        if dt.kind != "f":
            needs = [n for n, p in self.named_parameters() if p.requires_grad]
            if needs:
                raise RuntimeError(f"nn.Module.type({dt}): parameters that require grad must stay floating "
                                   f"point ({', '.join(needs[:3])}{', ...' if len(needs) > 3 else ''}); call "
                                   f"requires_grad_(False) first to keep integer copies")
        return self._apply(lambda a, f: a.astype(dt))

    # ------------------------------------------------------------- state_dict 存取
    def _state_items(self, prefix=""):
        """递归地给出每个参数和持久 buffer 的 (键, 张量, 是否 buffer)，键与 PyTorch 相同：能从两个名字
        到达的模块，在两个名字下都会列出。"""
        for n, p in self._parameters.items():
            if p is not None:
                yield prefix + n, p
        for n, b in self._buffers.items():
            if b is not None and n not in self._non_persistent_buffers_set:
                yield prefix + n, b
        for n, m in self._modules.items():
            if m is not None:
                yield from m._state_items(prefix + n + ".")

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """有序字典 名字 -> Tensor（每个模块先列参数，再列 buffer，再列子模块），名字与 PyTorch 相同。
        值与模型共享内存（``keep_vars=True`` 时就是 Parameter 本身，否则是 detach 后的张量）。

        English: OrderedDict name -> Tensor (each module's parameters, then its buffers, then its children),
        names as in PyTorch. The values share memory with the model (``keep_vars=True``: the
        Parameters themselves, else detached tensors)."""
        out = OrderedDict() if destination is None else destination
        for k, t in self._state_items(prefix):
            out[k] = t if keep_vars else t.detach()
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """把值（Tensor 或 NumPy 数组）原地复制进参数和 buffer。

        返回 ``(missing_keys, unexpected_keys)``。``strict`` 时有缺少或多出的键就报错并列出这些键；形状
        不匹配时报错并写出键和两边的形状（与 PyTorch 的错误相同）。
        Returns ``(missing_keys, unexpected_keys)``. Raises RuntimeError naming the keys when
        ``strict`` and some are missing / unexpected, and naming the key and both shapes on a size
        mismatch (PyTorch's errors)."""
        if not hasattr(state_dict, "items") or not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        targets = OrderedDict(self._state_items())
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict.keys() if k not in targets]
        errors = []
        if strict:
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        updates = []
        for k, t in targets.items():
            if k not in state_dict:
                continue
            v = state_dict[k]
            arr = v.array if isinstance(v, Tensor) else v
            if not (isinstance(arr, np.ndarray) or hasattr(arr, "__cuda_array_interface__")):
                arr = np.asarray(arr)                   # list、标量、其他库的 CPU 张量
            if tuple(arr.shape) != t.shape:
                errors.append(f"size mismatch for '{k}': copying a param with shape {tuple(arr.shape)} from "
                              f"checkpoint, the shape in current model is {t.shape}.")
                continue
            updates.append((t, arr))
        if errors:
            cls = _StateDictKeyError if strict and (missing or unexpected) else _StateDictShapeError
            raise cls(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for t, arr in updates:
            arr = backend.to_device(arr, t.device)
            if assign:
                t.array = arr.astype(t.array.dtype, copy=False)
            elif getattr(t.array.flags, "writeable", True):
                t.array[...] = arr.astype(t.array.dtype, copy=False)     # 原地复制（同 PyTorch 的 copy_）
                t._version[0] += 1
            else:
                t.array = arr.astype(t.array.dtype, copy=True)
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------- 打印（repr）
    def extra_repr(self):
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items()]
        lines = extra_lines + child_lines
        s = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += "\n  " + "\n  ".join(lines) + "\n"
        return s + ")"

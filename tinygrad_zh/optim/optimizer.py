"""优化器基类：参数分组、每个参数的状态、zero_grad、state_dict 存取。

链式法则到 ``backward()`` 为止：它把 ∂L/∂θ 放进每个参数的 ``.grad``。优化器接着用这些梯度更新参数，
而且是在 ``no_grad`` 下原地修改，更新本身不进计算图。子类只需实现 ``_update(group)``（对组里每个有梯度
的参数做一次更新），``step()`` 在 ``no_grad`` 下调用它。每个优化器维护：

* ``param_groups``：字典的列表，每个字典是一组参数及其超参数；组里没写的超参数取 ``defaults``，所以
  不同的组可以用不同的学习率（例如给预训练的主干网络更小的 ``lr``）；
* ``state``：每个参数在两步之间要记住的缓冲（动量、滑动平均），按参数的 dtype、在参数所在的设备上
  只分配一次，之后原地更新。

``state_dict()`` 采用 PyTorch 的格式：参数换成位置编号（按组的顺序从 0 数起），检查点因此不依赖对象的身份。

English: every optimizer keeps

* ``param_groups``: a list of dicts, each ``{"params": [Parameter, ...], "lr": ..., ...}``; a
  hyper-parameter missing from a group is filled from ``defaults``, so different groups can use
  different learning rates (e.g. a smaller ``lr`` for a pretrained backbone);
* ``state``: ``{parameter: {"step": 3, "exp_avg": array, ...}}``, the buffers an update rule needs
  between steps (momentum, running averages). Buffers are allocated once, in the parameter's
  dtype and on its device, and updated in place afterwards.

``state_dict()`` uses PyTorch's layout: parameters are replaced by their position (an int index
counted across all groups in order), so a checkpoint does not depend on object identity::

    {"state": {0: {"step": 10, "exp_avg": array, ...}, 1: {...}},
     "param_groups": [{"lr": 0.001, ..., "params": [0, 1]}]}

Subclasses implement ``_update(group)`` (one update of every parameter of a group that has a
gradient); ``step()`` calls it under ``no_grad``.
"""
import numbers
from collections import defaultdict

import numpy as np

from ..autograd import enable_grad, no_grad
from ..backend import array_module, device_of, to_device
from ..tensor import Tensor


class _Required:
    """标记：这个超参数没有默认值，必须给出（例如 SGD 的 ``lr``）。"""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


def check_hparam(opt, name, value, low=0.0, high=None, high_open=False, label=None):
    """检查一个超参数：必须是实数（或只有一个元素的 Tensor），且在 [low, high]（或 [low, high)）里。

    返回 Python float。报错信息里写明是哪个参数（``opt`` 是优化器名，``label`` 如 "learning rate"）、
    收到了什么、期望什么。
    Returns the value as a Python float.  ``opt`` (the optimizer's name) and ``label`` (e.g.
    "learning rate") go into the messages, so a bad value says which argument, what came and what
    was expected::

        TypeError:  Adagrad: lr must be a real number, got str ('0.1')
        ValueError: Adagrad: invalid learning rate -1.0 (expected lr >= 0)
    """
    if isinstance(value, Tensor):
        if value.array.size != 1:
            raise ValueError(f"{opt}: a Tensor {name} must have exactly one element, got shape {value.shape}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{opt}: {name} must be a real number, got {type(value).__name__} ({value!r})")
    value = float(value)
    label = label or name
    if high is None:
        ok, want = value >= low, f"{name} >= {low:g}"
    elif high_open:
        ok, want = low <= value < high, f"{low:g} <= {name} < {high:g}"
    else:
        ok, want = low <= value <= high, f"{low:g} <= {name} <= {high:g}"
    if not ok:                                   # NaN 的比较总是 False，也在这里被拦下
        raise ValueError(f"{opt}: invalid {label} {value} (expected {want})")
    return value


def check_torch_flags(opt, foreach=None, fused=None, capturable=False, differentiable=False):
    """PyTorch 的实现选项 ``foreach`` / ``fused`` / ``capturable`` 只决定 PyTorch 用哪种 kernel 算同一个
    公式，这里接受并忽略（我们的每个优化器只有一种实现，结果相同）。``differentiable=True``（对更新
    本身求导）不支持：参数在 no_grad 下原地更新。"""
    for name, v in (("foreach", foreach), ("fused", fused)):
        if v is not None and not isinstance(v, bool):
            raise TypeError(f"{opt}: {name} must be None, True or False, got {v!r}")
    if differentiable:
        raise ValueError(f"{opt}: differentiable=True is not supported: tinygrad_zh optimizers update the "
                         "parameters in place under no_grad, so the update itself has no gradient")


class Optimizer:
    """所有优化器的基类：``Optimizer(params, defaults)``。子类只写一件事：``_update`` 里的更新公式。

    English: base class of all optimizers. ``Optimizer(params, defaults)``.

    ``params``: an iterable of Tensors/Parameters, or of dicts ``{"params": [...], "lr": ...}``
    (one dict per parameter group). ``defaults``: the hyper-parameters of groups that do not set
    them.
    """

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            f"or dicts, but got a single Tensor of shape {params.shape}: "
                            "wrap it in a list, e.g. [p]")
        if isinstance(params, dict):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors "
                            "or dicts, but got a dict: pass a list of groups, e.g. [{'params': ...}]")
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)      # 参数 -> 它的状态缓冲（与 PyTorch 相同）
        self.param_groups = []
        self._scratch_bufs = {}
        self._followed = {}                 # 参数 -> 上次让状态与之对齐时的那个数组
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ------------------------------------------------------------------ 参数分组
    def add_param_group(self, param_group):
        """添加一组参数 ``{"params": ..., 超参数...}``（例如训练中途解冻几层）。"""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: expected a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError("add_param_group: the group has no 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of a set changes between runs: use a list")
        else:
            params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but params[{i}] of the group is "
                                f"a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (params[{i}] of shape {p.shape} "
                                 "was computed by an operation; use .detach() and requires_grad_())")
            if p.array.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize floating point Tensors, params[{i}] has "
                                f"dtype {p.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer params contain the same Tensor more than once")
        group["params"] = params
        for name, value in param_group.items():    # 组里单独给的超参数：至少要是数（范围由各优化器的构造函数查）
            default = self.defaults.get(name)
            if name != "params" and isinstance(default, numbers.Real) and not isinstance(default, bool) \
                    and not (isinstance(value, Tensor) and value.array.size == 1) \
                    and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
                raise TypeError(f"{type(self).__name__}: parameter group {len(self.param_groups)} sets {name} "
                                f"to {type(value).__name__} ({value!r}); expected a real number like the "
                                f"default {default!r}")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization "
                                 f"parameter {name!r}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ------------------------------------------------------------------ 梯度与更新
    def zero_grad(self, set_to_none=True):
        """清空梯度。set_to_none=True（默认）：``p.grad = None``，省内存，且下一次 backward 直接
        写入新梯度；False：``p.grad`` 还是同一个张量，值变成全 0（与 PyTorch 一样，拿着它的人看到 0）。
        我们给它换上一块新的全 0 存储，而不往旧数组里写 0：一块梯度数组可能同时是别的张量的梯度
        （例如保留了梯度的中间结果），原地写会把它们一起清掉。"""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.array = array_module(p.grad.array).zeros_like(p.grad.array)

    @no_grad()
    def step(self, closure=None):
        """用各自的梯度更新每个参数（在 no_grad 下原地修改 ``p.array``）。

        Update every parameter that has a gradient. ``closure`` (optional): a function that
        recomputes the loss (forward + backward) and returns it; its result is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._follow_params(group)
            self._update(group)
        self._opt_called = True          # 让学习率调度器能检查调用顺序
        return loss

    def _follow_params(self, group):
        """模型在状态建立之后被搬了设备或换了 dtype 时，把状态数组跟着搬一次。

        If the model was moved (``model.cuda()`` / ``.double()``) after the state was created,
        move each state buffer to its parameter's device and dtype, once.  A parameter whose array
        is still the one seen last time (the usual case: updates are in place) is skipped."""
        followed = self._followed
        for p in group["params"]:
            st = self.state.get(p)
            if not st or followed.get(p) is p.array:
                continue
            followed[p] = p.array
            for k, v in st.items():
                if hasattr(v, "dtype") and getattr(v, "shape", None) == p.array.shape and \
                        (v.dtype != p.array.dtype or device_of(v) != device_of(p.array)):
                    st[k] = to_device(v, device_of(p.array)).astype(p.array.dtype, copy=False)

    def _update(self, group):  # pragma: no cover - 抽象方法，子类实现
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    # ------------------------------------------------------------------ 给子类用的辅助函数
    @staticmethod
    def _grads(group):
        """``group`` 中有梯度的参数，逐个给出 (参数, 梯度数组)。"""
        for p in group["params"]:
            if p.grad is None:
                continue
            g = p.grad.array
            if g.shape != p.array.shape or g.dtype != p.array.dtype:
                raise RuntimeError(f"optimizer: the gradient of a parameter of shape {p.shape} and dtype "
                                   f"{p.dtype} has shape {tuple(g.shape)} and dtype {g.dtype}")
            yield p, g

    def _scratch(self, arr, slot=0):
        """与 ``arr`` 同形状的临时数组（同时要几个时用 ``slot`` 0、1 ……区分）。同一 dtype、同一设备的所有参数
        共用它，所以每一步更新都不分配内存。只在下一次用同一个 slot 调用之前有效。"""
        key = (arr.dtype, type(arr), slot)          # 数组类型 numpy.ndarray 或 cupy.ndarray，代表设备
        buf = self._scratch_bufs.get(key)
        if buf is None or buf.size < arr.size:
            buf = self._scratch_bufs[key] = array_module(arr).empty(arr.size, arr.dtype)
        return buf[:arr.size].reshape(arr.shape)

    _SMALL = 1 << 14        # 元素个数：比它小时，新建临时数组比查找共用的临时数组更便宜

    def _scaled(self, x, alpha, slot=0):
        """把 alpha·x 算进临时数组（x 不变）；小数组直接新建一个。"""
        if x.size < self._SMALL:
            return x * alpha
        out = self._scratch(x, slot)
        array_module(x).multiply(x, alpha, out=out)
        return out

    _BLOCK = 1 << 18        # _blocks 每块的元素个数（float32 时 1 MB：能留在 CPU 缓存里）

    def _blocks(self, *arrays):
        """分块更新：对很大的、连续的 CPU 参数，每次给出各数组（参数、梯度、状态缓冲 ……）摊平后的同一块，
        每块 ``_BLOCK`` 个元素；否则（小数组、非连续数组、GPU 数组）直接给出数组本身。``None`` 仍是 ``None``。
        逐元素的更新规则不关心元素怎么分组；分块后每个临时数组只有一块长，留在 CPU 缓存里，不再有和参数
        一样大的临时数组，几百万元素的参数上 Adam 快约 30 %。

        English: yield the same flat block of each array (parameter, gradient, state buffers, …),
        ``_BLOCK`` elements at a time, for a big contiguous CPU parameter; else the arrays themselves
        (small, non-contiguous or GPU arrays).  ``None`` entries stay ``None``.

        Element-wise update rules do not care how the elements are grouped, and with blocks every
        scratch array is one block long and stays in the CPU cache: no temporary as large as the
        parameter, and about 30 % faster Adam on a parameter of a few million elements."""
        first = arrays[0]
        n, block = first.size, self._BLOCK
        if n <= block or not isinstance(first, np.ndarray) or \
                not all(a is None or a.flags.c_contiguous for a in arrays):
            yield arrays
            return
        flat = [None if a is None else a.reshape(-1) for a in arrays]
        for i in range(0, n, block):
            yield tuple(None if f is None else f[i:i + block] for f in flat)

    @staticmethod
    def _zeros_like(p):
        return array_module(p.array).zeros_like(p.array)

    # ------------------------------------------------------------------ 检查点
    def state_dict(self):
        """优化器的全部状态（与 PyTorch 的格式相同），用来保存检查点。

        PyTorch-format state: ``{"state": {index: {...}}, "param_groups": [{..., "params": [index]}]}``.

        状态数组原样返回（不复制），与 PyTorch 相同：继续训练之前先保存（``tg.save``）或复制一份。
        State arrays are returned as they are (not copied), like PyTorch: save them (``tg.save``)
        or copy them before training on."""
        index, groups = {}, []
        for group in self.param_groups:
            g = {k: v for k, v in group.items() if k != "params"}
            g["params"] = []
            for p in group["params"]:
                index[id(p)] = len(index)
                g["params"].append(index[id(p)])
            groups.append(g)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """从 ``state_dict()`` 的结果恢复超参数和状态数组（续训）。

        Restore hyper-parameters and buffers from ``state_dict()`` output (e.g. after ``tg.load``).

        数组被复制到各参数的设备和 dtype 上（float64 的检查点也能让 float32 的模型续训），所以继续训练
        不会写进加载进来的字典。
        Arrays are copied to each parameter's device and dtype (a float64 checkpoint resumes a
        float32 model), so training on never writes into the loaded dict."""
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("load_state_dict: expected a dict with keys 'state' and 'param_groups' "
                             "(the output of optimizer.state_dict())")
        saved_groups = state_dict["param_groups"]
        self._check_same_kind(saved_groups)
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: the checkpoint has {len(saved_groups)} parameter groups, "
                             f"this optimizer has {len(self.param_groups)}")
        id_to_param = {}
        for gi, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"load_state_dict: parameter group {gi} has {len(saved['params'])} "
                                 f"parameters in the checkpoint but {len(group['params'])} here")
            for idx, p in zip(saved["params"], group["params"]):
                id_to_param[int(idx)] = p
        new_state = defaultdict(dict)
        for idx, s in state_dict["state"].items():
            p = id_to_param.get(int(idx))
            if p is None:
                continue
            new_state[p] = {k: self._cast_state(k, v, p) for k, v in s.items()}
        self.state = new_state
        self._followed = {}
        for saved, group in zip(saved_groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(group.get(k), tuple) and isinstance(v, list) else v

    # 较旧的检查点（或另一个 PyTorch 版本）可能缺少的超参数：缺了它们并不说明是另一种优化器的状态，
    # 这些超参数保留组里现有的值
    _OPTIONAL_HPARAMS = frozenset({"maximize", "decoupled_weight_decay", "foreach", "fused", "capturable",
                                   "differentiable"})

    def _check_same_kind(self, saved_groups):
        """拒绝别的优化器的状态（例如把 SGD 的状态交给 Adam），在改动任何东西之前就报错。

        别的优化器的参数组缺少定义本优化器更新规则的超参数（Adam：betas、eps、amsgrad；SGD：momentum、dampening、
        nesterov ……），又带着本优化器没有的超参数。PyTorch 会接受这样的状态，到第一次 step() 才出错；我们
        立刻说明哪里不对。（Adam 与 AdamW 的超参数相同，状态里的 ``decoupled_weight_decay`` 说明是哪种规则，
        所以它们可以互相加载，与 PyTorch 相同。）

        Refuse the state of another optimizer class (e.g. SGD's state given to Adam) before anything
        changes: its groups lack hyper-parameters that define this optimizer's update rule (Adam:
        betas, eps, amsgrad; SGD: momentum, dampening, nesterov; ...) and carry ones it does not have.
        PyTorch accepts such a state and fails at the first step(); we say at once what is wrong.
        (Adam and AdamW share their hyper-parameters; ``decoupled_weight_decay`` in the state says
        which rule it is, so they load each other's state as PyTorch does.)"""
        name = type(self).__name__
        if not isinstance(saved_groups, (list, tuple)):
            raise ValueError(f"{name}.load_state_dict: 'param_groups' must be a list of dicts, got "
                             f"{type(saved_groups).__name__}")
        for gi, saved in enumerate(saved_groups):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"{name}.load_state_dict: parameter group {gi} of the state is not a dict "
                                 f"with a 'params' entry (the output of optimizer.state_dict())")
            missing = sorted(k for k in self.defaults if k not in saved and k not in self._OPTIONAL_HPARAMS)
            extra = sorted(k for k in saved if k != "params" and k not in self.defaults
                           and k not in self._OPTIONAL_HPARAMS and k != "initial_lr")
            if missing and extra:        # 只写了一部分的组（{"lr": ...}）只更新它写出的超参数
                raise ValueError(f"{name}.load_state_dict: parameter group {gi} of the state lacks "
                                 f"{', '.join(map(repr, missing))}, which {name} needs, and has "
                                 f"{', '.join(map(repr, extra))} instead: is it the "
                                 f"state of another optimizer class? Load it into the optimizer class "
                                 f"that saved it (a state saved by {name} has: "
                                 f"{', '.join(map(repr, sorted(self.defaults)))})")

    @staticmethod
    def _cast_state(name, value, p):
        if isinstance(value, Tensor):
            value = value.array
        if not hasattr(value, "dtype") or not hasattr(value, "shape"):
            return value                     # Python 数（例如 "step"）
        if not isinstance(value, np.ndarray) and device_of(value) != "cuda":
            value = np.asarray(value)        # 例如来自 torch 的 state_dict 的 CPU 张量
        if name == "step" and value.size == 1:
            return int(float(value.reshape(()).item()))
        if tuple(value.shape) != p.shape:
            raise ValueError(f"load_state_dict: state {name!r} has shape {tuple(value.shape)} but its "
                             f"parameter has shape {p.shape} (checkpoint of a different model?)")
        moved = to_device(value, p.device)           # 状态缓冲与参数一致：同样的 dtype 和设备
        return moved.astype(p.array.dtype, copy=moved is value)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"

"""优化器基类：参数分组、每个参数的状态、zero_grad、state_dict 存取。

Every optimizer keeps

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
    """Marker for a hyper-parameter without a default (e.g. SGD's ``lr``)."""

    def __repr__(self):
        return "<required parameter>"


required = _Required()


def check_hparam(opt, name, value, low=0.0, high=None, high_open=False, label=None):
    """检查一个超参数：必须是实数（或只有一个元素的 Tensor），且在 [low, high]（或 [low, high)）里。

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
    if not ok:                                   # also catches NaN
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
        self.state = defaultdict(dict)      # parameter -> its buffers (like PyTorch)
        self.param_groups = []
        self._scratch_bufs = {}
        self._followed = {}                 # parameter -> the array its state was last matched to
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Add a group ``{"params": ..., hyper-params...}`` (e.g. unfreeze layers while training)."""
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
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization "
                                 f"parameter {name!r}")
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none=True):
        """清空梯度。set_to_none=True（默认）：``p.grad = None``，省内存，且下一次 backward 直接
        写入新梯度；False：换成一个全 0 的新数组（不原地清零：梯度数组可能被多个参数共享）。"""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = Tensor._make(array_module(p.array).zeros_like(p.array), p.device, None, 0)

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
        self._opt_called = True          # lets an lr scheduler check the call order
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

    def _update(self, group):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not implement _update")

    # ------------------------------------------------------------------ helpers for subclasses
    @staticmethod
    def _grads(group):
        """(param, grad array) for the parameters of ``group`` that have a gradient."""
        for p in group["params"]:
            if p.grad is None:
                continue
            g = p.grad.array
            if g.shape != p.array.shape or g.dtype != p.array.dtype:
                raise RuntimeError(f"optimizer: the gradient of a parameter of shape {p.shape} and dtype "
                                   f"{p.dtype} has shape {tuple(g.shape)} and dtype {g.dtype}")
            yield p, g

    def _scratch(self, arr, slot=0):
        """A temporary array shaped like ``arr`` (``slot`` 0, 1, ... for several at once), shared by
        all parameters of the same dtype and device, so an update allocates nothing per step.
        Only valid until the next call with the same slot."""
        key = (arr.dtype, type(arr), slot)          # type: numpy.ndarray or cupy.ndarray (the device)
        buf = self._scratch_bufs.get(key)
        if buf is None or buf.size < arr.size:
            buf = self._scratch_bufs[key] = array_module(arr).empty(arr.size, arr.dtype)
        return buf[:arr.size].reshape(arr.shape)

    _SMALL = 1 << 14        # elements: below this a fresh temporary is cheaper than the scratch lookup

    def _scaled(self, x, alpha, slot=0):
        """alpha·x in a scratch array (x untouched); a small array just gets a new one."""
        if x.size < self._SMALL:
            return x * alpha
        out = self._scratch(x, slot)
        array_module(x).multiply(x, alpha, out=out)
        return out

    _BLOCK = 1 << 18        # elements per block of _blocks (1 MB of float32: stays in the CPU caches)

    def _blocks(self, *arrays):
        """分块更新：yield the same flat block of each array (parameter, gradient, state buffers, …),
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

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self):
        """优化器的全部状态（与 PyTorch 的格式相同），用来保存检查点。

        PyTorch-format state: ``{"state": {index: {...}}, "param_groups": [{..., "params": [index]}]}``.

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

    # hyper-parameters that an older checkpoint (or another PyTorch version) may lack without being
    # the state of another optimizer: the group keeps its current value for them
    _OPTIONAL_HPARAMS = frozenset({"maximize", "decoupled_weight_decay", "foreach", "fused", "capturable",
                                   "differentiable"})

    def _check_same_kind(self, saved_groups):
        """拒绝别的优化器的状态（例如把 SGD 的状态交给 Adam），在改动任何东西之前就报错。

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
            if missing and extra:        # a partial group ({"lr": ...}) only updates what it names
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
            return value                     # python numbers (e.g. "step")
        if not isinstance(value, np.ndarray) and device_of(value) != "cuda":
            value = np.asarray(value)        # e.g. a torch CPU tensor from torch's state_dict
        if name == "step" and value.size == 1:
            return int(float(value.reshape(()).item()))
        if tuple(value.shape) != p.shape:
            raise ValueError(f"load_state_dict: state {name!r} has shape {tuple(value.shape)} but its "
                             f"parameter has shape {p.shape} (checkpoint of a different model?)")
        moved = to_device(value, p.device)           # a buffer like the parameter: its dtype, device
        return moved.astype(p.array.dtype, copy=moved is value)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"

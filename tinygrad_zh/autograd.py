"""自动求导的核心：计算图节点 Function、拓扑排序与反向传播、no_grad。

整个链式法则都在这个文件里（这里没有任何运算的定义，也没有设备相关的代码）：

* 第一部分 ``backward(root)``：按拓扑逆序访问每个节点，对它应用一次链式法则；
* 第二部分 ``Function``：计算图的一个节点。``forward``/``backward`` 处理原始数组，``apply`` 运行 forward，
  需要梯度时记住输入（``parents``）；``no_grad``/``enable_grad`` 关闭/打开计算图的记录；
* 第三部分：省内存与查错的细节，第一次读可以跳过。

English: the whole chain rule of tinygrad_zh lives in this file (no op definitions, no device code):

* ``backward(root)``: visits the nodes in reverse topological order and applies the chain rule.
* ``Function``: one node of the graph. ``forward`` and ``backward`` work on raw arrays; ``apply``
  runs forward and, when a gradient is needed, remembers the inputs (``parents``).
* ``no_grad`` / ``enable_grad`` / ``set_grad_enabled`` / ``inference_mode``: switch graph recording
  off / on.
* part 3: memory savings and debugging aids (version counters, ``detect_anomaly``).

为什么要拓扑排序？一个节点的梯度必须等 **所有** 用到它的下游节点都把梯度传回来、累加完毕之后，
才能继续往上游传。例如 ``b = a + a; c = b + b``：若用朴素递归，c 会对 b 调两次反向，b 每次都把
"不完整" 的梯度往 a 传，计算量按层数指数增长；按拓扑逆序，每个节点只在梯度收齐后处理一次。
"""
import functools
import inspect
from weakref import ref as _weakref

import numpy as _np

from .backend import writeable
from . import function as _pytorch_form    # PyTorch 写法的 ctx.save_for_backward 等（它不反过来导入本文件）


_grad_enabled = True
_inference = False      # inference_mode() 里为 True（那里 enable_grad 不起作用）
_tracer = None          # 由 tinygrad_zh.viz.trace() 设置：反向传播每走一步就调用它一次
_anomaly = False        # 由 detect_anomaly() 设置：节点记下自己在哪一行创建，backward 检查 NaN/inf
_Tensor = None          # Tensor 类：tensor.py 先导入本模块，再把类填到这里
                        # （在这里直接导入会循环导入；放进 apply() 里导入又太慢）


# ==================================================================================================
# 第一部分：链式法则（整个反向传播就是下面这个函数 + 拓扑排序）
# ==================================================================================================

def backward(root, gradient=None, retain_graph=False, capture=None):
    """反向传播：从 root 出发，按拓扑逆序对每个节点应用链式法则，把梯度累加到叶子上。

    链式法则：若 y = f(x)，则 ∂L/∂x = ∂L/∂y · ∂y/∂x。每个节点的 ``backward(∂L/∂输出)`` 返回
    ``∂L/∂输入``；一个张量被用了几次，它收到的梯度就加几次。

    ``capture``（供 ``tg.autograd.grad`` 使用）是字典 ``{id(tensor): None}``：这些张量的梯度累加到字典里，
    不写进任何 ``.grad``，所有叶子的 ``.grad`` 都保持不变。
    English: ``capture`` collects the gradients of the given tensors instead of touching any ``.grad``."""
    gradient, owned = _initial_gradient(root, gradient, capture)     # ∂L/∂L = 1（或调用者给的）
    if root._ctx is None:                       # 对叶子本身反向：∂root/∂root = 1
        if capture is None:
            _accumulate_leaf(root, gradient, owned)
        return
    grads = {root._ctx: [None] * root._ctx.n_outputs}       # 节点 -> 它每个输出收到的梯度之和
    grads[root._ctx][root._out_idx] = gradient
    after = {}                      # 图中出现的 post_backward 回调（用 dict 去重，每个只调一次）
    for fn in _toposort(root._ctx):             # 拓扑逆序：轮到一个节点时，它的梯度已经收齐
        cb = fn.__dict__.get("post_backward")
        if cb is not None and capture is None:
            after[cb] = None
        gouts = grads.pop(fn, None)
        if gouts is None:
            continue
        gin, needs = _node_backward(fn, gouts, retain_graph)   # 链式法则的一步：∂L/∂输入
        for p, g, need in zip(fn.parents, gin, needs):
            if not need or g is None:
                continue
            if g.shape != p.array.shape:
                _wrong_shape(fn, p, g)
            if capture is not None and _capture(capture, p, g):
                continue
            c = p._ctx
            if c is None:                       # 叶子：梯度累加到 p.grad
                _accumulate_leaf(p, g, owned)
                continue
            if p._retains_grad and capture is None:
                _accumulate_leaf(p, g, owned)
            slot = grads.get(c)                 # 中间结果：梯度交给产生 p 的节点，与其他路径的相加
            if slot is None:
                slot = grads[c] = [None] * c.n_outputs
            prev = slot[p._out_idx]
            slot[p._out_idx] = g if prev is None else prev + g
        if not retain_graph:
            fn.__dict__.clear()                 # 节点保存的数组不再需要：立即释放
            fn.parents = _Released
        gouts = gin = p = g = None  # 现在就丢掉对本节点数组的引用，不必等下一个节点的 backward 算完才释放
    for cb in after:                # 此时所有叶子梯度都已算完（例如 DDP 在这里对梯度取平均）
        cb()


def _node_backward(fn, gouts, retain_graph):
    """调用一个节点的 backward（数组写法或 PyTorch 写法），前后做检查。Call one node's backward with its checks."""
    saved = fn.__dict__.get("_saved_versions")
    if saved is not None:
        _check_versions(fn, saved)              # 保存的数组被原地改过吗？（见第三部分）
    if not retain_graph:
        fn.may_overwrite_saved = True           # 这次调用之后它保存的数组马上就释放，backward 可以就地复用
    if fn._ctx_style:
        gin = _pytorch_form.run_backward(_engine(), fn, gouts)
        needs = fn.needs_input_grad_tensors
    else:
        gin = fn.backward(gouts[0]) if fn.n_outputs == 1 else fn.backward(*gouts)
        needs = fn.needs_input_grad
    if not isinstance(gin, tuple):
        gin = (gin,)
    if len(gin) != len(fn.parents):
        raise RuntimeError(f"{type(fn).__name__}.backward returned {len(gin)} gradients, "
                           f"expected {len(fn.parents)} (one per input, None for an input "
                           "that needs none)")
    if _tracer is not None:
        _tracer(fn, gouts, gin)
    if _anomaly:
        _check_finite(fn, gin)
    return gin, needs


class _Released:
    """标记：这个节点保存的数组在 backward 之后已经释放。Marker of a freed node."""


def _toposort(root_fn):
    """计算图的拓扑序（迭代 DFS，不用递归：10 万层的链也不会爆栈）。Output: root first."""
    order, visited, stack = [], set(), [(root_fn, False)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if fn in visited:
            continue
        visited.add(fn)
        stack.append((fn, True))
        parents = fn.parents
        if parents is _Released:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({fn!r} was freed by an "
                "earlier backward). Specify retain_graph=True on the first backward() if you need "
                "to backward through it again.")
        for p in parents:
            c = p._ctx
            if c is not None and c not in visited:
                stack.append((c, False))
    order.reverse()
    return order




# ==================================================================================================
# 第二部分：计算图的节点 Function，以及开关 no_grad / enable_grad
# ==================================================================================================

class Function(_pytorch_form.FunctionCtx):
    """计算图中的一个节点（一次运算）。

    子类实现 ``forward``（数组进、数组出；多个输出时返回元组）和 ``backward``（对每个输入返回一个梯度数组，
    不需要梯度的输入返回 ``None``）。``self.needs_input_grad[i]`` 告诉 backward 哪些梯度真正要算，
    不要的可以省掉。forward 把 backward 要用的东西存成 ``self`` 的属性，反向之后即释放（``retain_graph=True``
    时除外）。因此，没有 ``retain_graph`` 时引擎会设置 ``self.may_overwrite_saved = True``：backward
    是 forward *为自己创建* 的那些数组的最后一个读者，可以直接把结果写进其中一个，省下一大块临时内存
    （例如 softmax 交叉熵那个 (N, V) 的梯度）。输入和输出永远不能这样复用：别的节点和用户可能还拿着它们。
    ``forward`` 里还可以设置 ``self.post_backward = 可调用对象``：包含该节点的一次反向传播把所有叶子梯度
    累加完之后，引擎对每个不同的回调调用一次（``DistributedDataParallel`` 就这样对梯度取平均）。

    English: subclasses implement ``forward(*arrays, **kwargs) -> array(s)`` and ``backward(grad) ->
    one gradient per input`` (``None`` where none is needed).  ``may_overwrite_saved`` lets backward reuse
    arrays that forward created for itself (never inputs or outputs); a ``post_backward`` callable runs
    once after every leaf gradient of the pass is accumulated.
    """
    n_outputs = 1            # 输出个数；多输出的运算改写它（例如 LSTM 单元输出 h 和 c）
    differentiable = True    # argmax、比较运算等设为 False：永远不记录到计算图
    may_overwrite_saved = False   # 不保留计算图时，由 backward() 对每个节点单独设置
    _ctx_style = False            # PyTorch 写法的子类（静态方法 forward(ctx, ...)）为 True
    # {输入 i: 只有输入 i 的梯度才用到的属性名}：输入 i 不需要梯度时，apply 立刻丢掉这些数组（省内存，
    # 也不会因为它们之后被原地修改而在 backward 里误报）。例如乘法 z = a·b 的 a 只用于算 ∂L/∂b。
    only_for_grad = None

    def forward(self, *args, **kwargs):  # pragma: no cover - 抽象方法，子类实现
        raise NotImplementedError

    def backward(self, *grads):  # pragma: no cover - 抽象方法，子类实现
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # PyTorch 的写法：@staticmethod forward(ctx, ...)，输入输出都是 Tensor（见 function.py）
        cls._ctx_style = isinstance(inspect.getattr_static(cls, "forward"), staticmethod)

    @classmethod
    def apply(cls, *inputs, **kwargs):
        """在输入的数组上运行 forward，把结果包成指向本节点的 Tensor。Run forward, link the outputs to this node."""
        if cls._ctx_style:
            return _apply_ctx_style(cls, inputs, kwargs)
        fn = cls()
        device = inputs[0].device
        any_grad = False
        for t in inputs:                # 只遍历一遍：设备是否一致？有没有输入需要梯度？
            if t.device != device:
                raise RuntimeError(f"{cls.__name__}: expected all tensors on one device, got "
                                   f"{device} and {t.device} (move them with .to(device))")
            any_grad = any_grad or t._requires_grad
        out = fn.forward(*[t.array for t in inputs], **kwargs)
        record = _grad_enabled and any_grad and cls.differentiable
        if record:
            fn.parents = inputs
            needs = []
            for t in inputs:
                r = t._requires_grad
                needs.append(r)
                if r and t._ctx is not None:    # 记下非叶子的使用者（弱引用），见 inplace.py 的规则 3
                    c = t._consumers
                    if c is None:
                        t._consumers = [_weakref(fn)]
                    else:
                        c.append(_weakref(fn))
            fn.needs_input_grad = tuple(needs)
            drop = cls.only_for_grad
            if drop is not None:
                for i, names in drop.items():
                    if not needs[i]:
                        for name in names:
                            setattr(fn, name, None)
            if _anomaly:
                fn._created_at = _user_stack()
            if cls.n_outputs == 1:
                outs = (_Tensor._make(out, device, fn, 0),)
            else:
                outs = tuple(_Tensor._make(o, device, fn, i) for i, o in enumerate(out))
            _remember_versions(fn, inputs, outs)
        elif cls.n_outputs == 1:
            outs = (_Tensor._make(out, device, None, 0),)
        else:
            outs = tuple(_Tensor._make(o, device, None, i) for i, o in enumerate(out))
        for o in outs:
            if o.array.base is not None:
                _share_views(o, inputs)
        return outs[0] if cls.n_outputs == 1 else outs

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"


def _apply_ctx_style(cls, inputs, kwargs):
    return _pytorch_form.apply_ctx_style(_engine(), cls, inputs, kwargs)


def _engine():
    import sys
    return sys.modules[__name__]


def is_grad_enabled():
    """当前是否记录计算图。True when operations record the graph for backward."""
    return _grad_enabled


def is_inference_mode_enabled():
    """是否在 ``inference_mode()`` 里。True inside ``with tg.inference_mode():``."""
    return _inference


class _GradMode:
    """既是 with 语句也是装饰器：设置是否记录计算图（no_grad / enable_grad 的基类）。
    ``@tg.no_grad()`` 和不带括号的 ``@tg.no_grad`` 都可以（与 PyTorch 相同）。"""
    mode = True

    def __new__(cls, orig_func=None):
        if orig_func is not None:                  # @tg.no_grad 不带括号：直接装饰这个函数
            if not callable(orig_func):
                raise TypeError(f"{cls.__name__}() takes no arguments (got {orig_func!r})")
            return cls()(orig_func)
        return super().__new__(cls)

    def __enter__(self):
        global _grad_enabled
        self._prev, _grad_enabled = _grad_enabled, self.mode and not _inference

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self._prev
        return False

    def clone(self):
        return self.__class__()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """``with tg.no_grad():``（或 ``@tg.no_grad()``）：不记录计算图（评估、更新参数时用）。"""
    mode = False


class enable_grad(_GradMode):
    """在 ``no_grad`` 块里重新打开计算图的记录（在 ``inference_mode`` 里不起作用，与 PyTorch 相同）。"""
    mode = True


def _bool_arg(op, mode):
    if not isinstance(mode, bool):
        raise TypeError(f"{op}(): argument 'mode' must be bool, not {type(mode).__name__}")
    return mode


class set_grad_enabled(_GradMode):
    """``tg.set_grad_enabled(False)``：调用时立即生效（PyTorch 的写法）；写成
    ``with tg.set_grad_enabled(is_train):`` 时，离开 with 块恢复原来的状态。"""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        global _grad_enabled
        self.mode = _bool_arg("set_grad_enabled", mode)
        self._prev, _grad_enabled = _grad_enabled, self.mode and not _inference

    def __enter__(self):
        pass                                        # 已经在 __init__ 里生效

    def __call__(self, fn):
        global _grad_enabled
        _grad_enabled = self._prev                  # 用作装饰器：不改变此刻的状态，只在调用函数时生效
        return super().__call__(fn)

    def clone(self):
        return self.__class__(self.mode)

    def __repr__(self):
        return f"tinygrad_zh.set_grad_enabled(mode={self.mode})"


class inference_mode(_GradMode):
    """``with tg.inference_mode():``（或 ``@tg.inference_mode()`` / ``@tg.inference_mode``）：推理用，
    不记录计算图，里面的 ``enable_grad`` 也不起作用；``inference_mode(False)`` 重新打开记录。
    与 PyTorch 的区别：这里创建的张量不是特殊的 "inference tensor"，之后可以照常参与求导。"""

    def __new__(cls, mode=True):
        if callable(mode):                         # @tg.inference_mode 不带括号
            return cls()(mode)
        return object.__new__(cls)

    def __init__(self, mode=True):
        self.mode = _bool_arg("inference_mode", mode)

    def __enter__(self):
        global _grad_enabled, _inference
        self._prev, self._prev_inference = _grad_enabled, _inference
        _inference, _grad_enabled = self.mode, not self.mode

    def __exit__(self, *exc):
        global _grad_enabled, _inference
        _grad_enabled, _inference = self._prev, self._prev_inference
        return False

    def clone(self):
        return self.__class__(self.mode)




# ==================================================================================================
# 第三部分：细节（为了省内存与查错；第一次读可以跳过）
# * _accumulate_leaf / _base：叶子梯度尽量不复制（一块数组只交给一个 .grad）；
# * 版本号：保存给 backward 的数组被原地修改时报错；
# * 只求指定输入梯度的 tg.autograd.grad，以及找出第一个 NaN 的 detect_anomaly。
# ==================================================================================================

def _initial_gradient(root, gradient, capture):
    """起点 ∂root/∂root：标量时是 1，否则用调用者给的 ``gradient``（检查形状与 dtype）。"""
    user_given = gradient is not None
    if gradient is None:
        if root.array.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; got a tensor "
                               f"of shape {root.shape}: pass backward(gradient=...) of that shape")
        gradient = root._xp.ones(root.shape, root.array.dtype)     # 起点：∂root/∂root = 1
    else:
        gradient = gradient.array if hasattr(gradient, "_ctx") else gradient
        if tuple(gradient.shape) != tuple(root.shape):
            raise RuntimeError(f"backward: gradient has shape {tuple(gradient.shape)} but the output "
                               f"has shape {root.shape}")
        gradient = root._xp.asarray(gradient, dtype=root.array.dtype)
    if not root.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no grad_fn "
                           "(was it computed under no_grad, or from tensors without requires_grad?)")
    owned = set()
    if user_given:                              # 调用者自己的数组：绝不能直接当作某个 .grad 交出去
        owned.add(id(_base(gradient)))
    if capture is not None and id(root) in capture:
        capture[id(root)] = gradient
    return gradient, owned


def _wrong_shape(fn, p, g):
    i = next(k for k, q in enumerate(fn.parents) if q is p)
    raise RuntimeError(f"{type(fn).__name__}.backward returned a gradient of shape {tuple(g.shape)} "
                       f"for input {i}, which has shape {p.shape}: each gradient must have its "
                       "input's shape")


def _capture(capture, p, g):
    """autograd.grad 用：把 g 加到要求的张量上；p 是叶子时返回 True（不必再往上传）。"""
    k = id(p)
    if k in capture:
        capture[k] = g if capture[k] is None else capture[k] + g
    return p._ctx is None


def _base(g):
    """拥有 g 这块内存的数组（g 不是视图时就是 g 自己）。"""
    base = g
    while base.base is not None and isinstance(base.base, type(g)):
        base = base.base
    return base


def _accumulate_leaf(t, g, owned):
    """把梯度累加到叶子张量的 .grad（跨多次 backward 累加，与 PyTorch 相同）。

    省内存：第一次收到的梯度直接拿来当 ``.grad``，不复制；只有当它可能与另一个叶子的梯度共用内存
    （``owned`` 里记着已经交出去的数组），或者是只读的广播视图时，才复制一份。之后再来的梯度不做
    原地加法，而是新建数组相加，这样被共享的数组不会被改掉。
    English: the first gradient is taken as is (no copy) unless it may alias another leaf's gradient or
    is a read-only broadcast view; later ones are added out of place so shared arrays stay intact."""
    data = t.array
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
    if t.grad is not None:                      # 后来的梯度：新建数组相加，不原地修改
        t.grad = _Tensor._make(t.grad.array + g, t.device, None, 0)
        return
    base = _base(g)
    if g.shape != data.shape or not writeable(g) or id(base) in owned:
        g = g.copy() if g.shape == data.shape else t._xp.broadcast_to(g, data.shape).copy()
    else:
        owned.add(id(base))
    t.grad = _Tensor._make(g, t.device, None, 0)


# ---------------------------------------------------------------- 原地修改的安全检查 (version counters)
# 每个张量带一个版本号计数器 ``_version``（一个单元素 list，共享同一块内存的张量共用它）。原地运算
# (``x.add_(1)``、``x += 1``、``x[0] = 5`` ...) 让它加一。一个节点在 forward 时记下它为 backward 保存
# 的数组所属张量的版本号；反向传播时版本号变了，说明 backward 要用的数据被改掉了：报错而不是算出错梯度。

def add_consumer(t, fn):
    """记下 ``fn`` 用了非叶子张量 ``t``（弱引用，不延长计算图的寿命）。inplace.py 原地改写 ``t`` 时靠它
    把这些使用者改指向 ``t`` 的旧值。Remember (weakly) that node ``fn`` used the non-leaf ``t``."""
    c = t._consumers
    if c is None:
        t._consumers = [_weakref(fn)]
    else:
        c.append(_weakref(fn))


def _share_views(o, inputs):
    """输出是某个输入的视图（共享内存）时，与那个输入共用版本号计数器。"""
    root = _base(o.array)
    for t in inputs:
        if _base(t.array) is root:
            o._version, o._view_of = t._version, (t if t._view_of is None else t._view_of)
            if o._ctx is not None:
                o._ctx._view_node = True      # 这个节点取了一个视图（inplace.py 的 _update_view 要知道）
            return


_ARRAY_TYPES = {_np.ndarray}     # 数组类型；用到 CuPy 后会把它的数组类型也加进来
_OTHER_TYPES = {tuple, list, bool, int, float, str, type(None)}   # 已知不是数组的属性类型


def _remember_versions(fn, inputs, outs):
    """记下本节点为 backward 保存的每个输入/输出数组此刻的版本号。"""
    saved = None
    for v in fn.__dict__.values():
        c = v.__class__
        if c not in _ARRAY_TYPES:
            if c in _OTHER_TYPES:
                continue
            if not (hasattr(v, "__array_priority__") and hasattr(v, "base") and hasattr(v, "shape")):
                _OTHER_TYPES.add(c)
                continue
            _ARRAY_TYPES.add(c)
        vb = v.base
        for role, group in (("input", inputs), ("output", outs)):
            for i, t in enumerate(group):
                a = t.array
                if v is a or (vb is a and vb is not None):
                    if saved is None:
                        saved = []
                    saved.append((role, i, t._version, t._version[0], a.shape, a.dtype))   # 不存张量本身：避免循环引用
    if saved is not None:
        fn._saved_versions = saved


def _check_versions(fn, saved):
    for role, i, counter, v, shape, dtype in saved:
        if counter[0] != v:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: {role} {i} of {fn!r} (a tensor of shape {shape}, dtype "
                f"{dtype}) is at version {counter[0]}; expected version {v} instead. Write that "
                "step out of place (y = y + 1 instead of y += 1), or clone() the tensor first.")


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """``tg.autograd.grad(y, [x1, x2])``：返回 ∂y/∂xᵢ（一个元组），不改动任何张量的 ``.grad``。"""
    if create_graph:
        raise NotImplementedError("autograd.grad(create_graph=True): higher-order gradients are not "
                                  "supported by tinygrad_zh (our backward works on arrays, not Tensors)")
    single_out = hasattr(outputs, "_ctx")
    outputs = [outputs] if single_out else list(outputs)
    single_in = hasattr(inputs, "_ctx")
    inputs = [inputs] if single_in else list(inputs)
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"autograd.grad: input {i} (shape {x.shape}) does not require grad")
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif hasattr(grad_outputs, "_ctx"):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"autograd.grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    capture = {id(x): None for x in inputs}
    keep = bool(retain_graph) or len(outputs) > 1
    for k, (y, gy) in enumerate(zip(outputs, grad_outputs)):
        backward(y, gy, retain_graph=keep if k < len(outputs) - 1 else bool(retain_graph), capture=capture)
    result = []
    for i, x in enumerate(inputs):
        g = capture[id(x)]
        if g is None:
            if materialize_grads:
                g = x._xp.zeros(x.shape, x.dtype)
            elif not allow_unused:
                raise RuntimeError(f"autograd.grad: input {i} (shape {x.shape}) was not used in the graph "
                                   "of the outputs; pass allow_unused=True if this is expected")
        result.append(None if g is None else _Tensor._make(g.astype(x.dtype, copy=False), x.device, None, 0))
    return tuple(result)


# ---------------------------------------------------------------- anomaly detection (找出第一个 NaN)
def _user_stack():
    import traceback
    frames = [f for f in traceback.extract_stack()[:-3] if "tinygrad_zh" not in f.filename.replace("\\", "/")
              or "/examples/" in f.filename.replace("\\", "/")]
    return "".join(traceback.format_list(frames[-6:]))


def _check_finite(fn, gin):
    for i, g in enumerate(gin):
        if g is None or getattr(g, "dtype", None) is None or g.dtype.kind != "f":
            continue
        xp = type(g).__module__.split(".")[0]
        bad = not bool(__import__(xp).isfinite(g).all())
        if bad:
            where = fn.__dict__.get("_created_at") or "  (created before anomaly detection was enabled)\n"
            kind = "nan" if bool(__import__(xp).isnan(g).any()) else "inf"
            raise RuntimeError(f"Function '{type(fn).__name__}Backward' returned {kind} values in its "
                               f"gradient for input {i} (shape {tuple(g.shape)}).\n"
                               f"The forward op was created at (most recent call last):\n{where}")


class detect_anomaly:
    """``with tg.autograd.detect_anomaly():`` 反向传播一遇到 NaN/inf 梯度就报错，指出是哪个运算、
    它在你的代码哪一行被创建。Slower (every node records a stack): for debugging only."""

    def __init__(self, check_nan=True):
        self.mode = bool(check_nan)

    def __enter__(self):
        global _anomaly
        self._prev, _anomaly = _anomaly, self.mode
        return self

    def __exit__(self, *exc):
        global _anomaly
        _anomaly = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.mode):
                return fn(*args, **kwargs)
        return wrapper


def set_detect_anomaly(mode, check_nan=True):
    global _anomaly
    _anomaly = bool(mode) and bool(check_nan)


def is_anomaly_enabled():
    return _anomaly


class _VariableType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, _Tensor)


class Variable(metaclass=_VariableType):
    """旧版 PyTorch（0.4 以前）的 ``Variable(t, requires_grad=True)``：现在张量本身就能求导，所以它只是
    返回一个与 t 共享数据的新叶子张量；``isinstance(x, Variable)`` 对任何张量都成立（与 PyTorch 相同）。

    Old tutorials wrap tensors in ``Variable``; as in PyTorch today it returns a leaf Tensor that shares
    ``data``'s memory, with ``requires_grad`` as given. ``volatile`` was removed from PyTorch: passing
    it warns and has no effect, use ``no_grad()``."""

    def __new__(cls, data, requires_grad=False, volatile=None):
        if not isinstance(data, _Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile is not None:
            import warnings
            warnings.warn("volatile was removed and now has no effect. Use `with tg.no_grad():` instead.",
                          UserWarning, stacklevel=2)
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out

"""原地运算（``x.add_(1)``、``x += 1``、``x[0] = 5``、``w.normal_()``）：规则与 PyTorch 相同。

原地运算改的是张量自己：同一个对象、同一块内存，它的每个视图、``.data`` 和 ``detach()`` 都会看到变化。
麻烦在于：反向传播要用 forward 时的旧值，而原地写入可能悄悄把旧值换掉。下面三条规则保证梯度正确：

1. **记录计算图时，不能原地修改需要梯度的叶子。** ``w -= lr * w.grad`` 必须写在 ``with tg.no_grad():``
   里（优化器就是这样更新参数的）；否则这次更新会被记进计算图，因此直接报错（错误信息与 PyTorch 相同）。
2. **版本号。** 每次原地写入让张量的 ``_version`` 加一（同一块内存上的张量共用它）。计算图节点记下它为
   backward 保存的数组的版本号；之后版本号变了，``backward()`` 就报错并指出是哪个节点
   （见 ``autograd._check_versions``）。本来会悄悄算错的梯度，变成一个看得见的错误。
3. **被记录的原地运算。** 对非叶子张量（或另一个操作数需要梯度时），原地运算像对应的非原地运算一样被记录，
   张量把新节点当作自己的 ``grad_fn``。如果这个张量之前已经被别的节点用过（例如 ``X.abs()`` 之后再
   ``X /= 2``），那些节点改指向一个保存旧值的张量（``_rebase_consumers``）：它们的梯度流向旧值，和
   PyTorch 一样。对 *视图* 做被记录的原地运算时（《动手学深度学习》10.3：``X = X.reshape(-1, n);
   X[~mask] = -1e6``），基张量也变了，所以它得到新的 grad_fn（``_update_view``，ops/inplace_view.py）。

English: in-place ops change the tensor itself (every view and ``.data`` sees it). Rules: (1) no
in-place change of a leaf that requires grad while the graph is recorded; (2) version counters turn a
stale saved array into an error at ``backward()``; (3) on a non-leaf the op is recorded like its
out-of-place twin; earlier users of the tensor are re-pointed at its old value (as PyTorch does);
a recorded in-place op on a view also gives the view's base a new grad_fn (as PyTorch's CopySlices).

本文件的函数都以张量为第一个参数，``tensor.py`` 把它们绑定成方法。
The functions here take the tensor as their first argument; ``tensor.py`` binds them as methods.
"""
import numbers
import warnings

import numpy as np

from . import autograd, backend
from .ops.inplace_view import CopySlices, StaleView, ViewOfBase, view_index


def _requires_grad(o):
    return getattr(o, "requires_grad", False)


def _must_record(t, name, others=()):
    """执行规则 1 和规则 3：这次更新必须记进计算图时返回 True。Apply rules 1 and 3."""
    if not autograd._grad_enabled or not (t.requires_grad or any(_requires_grad(o) for o in others)):
        return False
    if t.requires_grad and t._ctx is None:
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place "
                           "operation. Update parameters inside `with torch.no_grad():` (or write to "
                           ".data), as optimizers do")
    base = t._view_of
    if base is not None and base.requires_grad and base._ctx is None:
        raise RuntimeError(f"{name}: a view of a leaf Variable that requires grad (shape {base.shape}) is "
                           "being used in an in-place operation. Update it inside `with torch.no_grad():`")
    return True


def _rebase_consumers(t, old):
    """``t`` 已经被别的节点用过：让那些节点改指向 ``old``（``t`` 的旧值，带着 ``t`` 原来的 grad_fn）。

    之后 ``t`` 代表新值、以这次原地运算为 grad_fn；先前的使用者的梯度流向旧值，和 PyTorch 一样。
    它们若为 backward 保存了 ``t`` 的数组，那块内存已被改写：版本号让 backward 在真正用到时报错（规则 2）。
    Earlier users of ``t`` now point at ``old`` (the old value, with t's old grad_fn)."""
    refs, t._consumers = t._consumers, None
    for r in refs:
        fn = r()
        if fn is not None and getattr(fn, "parents", None) is not None:
            fn.parents = tuple(old if p is t else p for p in fn.parents)


def _write(t, name, arr):
    """把 ``arr`` 复制进 ``t`` 自己的内存（这样视图也能看到），并把版本号加一。"""
    a = t.array
    if tuple(arr.shape) != a.shape:
        raise RuntimeError(f"{name}: output with shape {t.shape} doesn't match the broadcast shape "
                           f"{tuple(arr.shape)}")
    if arr.dtype != a.dtype and arr.dtype.kind == "f" and a.dtype.kind in "biu":
        raise RuntimeError(f"{name}: result type {arr.dtype} can't be cast to the desired output type "
                           f"{a.dtype}")
    if not getattr(a.flags, "writeable", True):
        raise RuntimeError(f"{name}: the tensor's memory is read-only (an expand()ed view or a shared "
                           "buffer); clone() it first")
    a[...] = arr
    t._version[0] += 1


def update(t, name, compute, others=()):
    """通用做法：``compute(x)`` 是对 ``t`` 的旧值 ``x`` 做非原地运算的结果，再把它写回 ``t``。

    English: the general path; ``compute(x)`` is the out-of-place result for the old value ``x`` of ``t``."""
    if _must_record(t, name, others):
        if t._view_of is not None:
            return _update_view(t, name, compute)
        old = type(t)._make(t.array.copy(), t.device, t._ctx, t._out_idx)   # 旧值的副本，留在计算图里
        old.requires_grad = t.requires_grad
        if t._consumers is not None:
            _rebase_consumers(t, old)
        out = compute(old)
        _write(t, name, out.array)
        t._ctx, t._out_idx, t.requires_grad = out._ctx, out._out_idx, True
        return t
    with autograd.no_grad():
        out = compute(t)
    _write(t, name, out.array)
    return t


def _old_copy(t):
    """``t`` 旧值的副本，带着 ``t`` 原来的 grad_fn；之前用过 ``t`` 的节点改指向它（规则 3）。"""
    old = type(t)._make(t.array.copy(), t.device, t._ctx, t._out_idx)
    old.requires_grad = t.requires_grad
    if t._consumers is not None:
        _rebase_consumers(t, old)
    return old


def _update_view(t, name, compute):
    """被记录的原地运算作用在视图 ``t`` 上（基张量 ``b = t._view_of``），与 PyTorch 相同：

    1. v_new = compute(t 的旧值)，写进 t 的内存（b 也随之改变）；
    2. b 的新 grad_fn 是 ``CopySlices(b 的旧值, v_new)``：视图位置的梯度交给 v_new，其余交给 b 的旧值；
    3. t 的新 grad_fn 是 ``ViewOfBase(b)``：之后用到 t，梯度经过 b 回去；
    4. b 的 *其他* 视图（在这之前取的）内存也变了，但它们的 grad_fn 还指向旧值：梯度流到那里时报错
       （``StaleView``），而不是悄悄算错。见 ops/inplace_view.py。"""
    b = t._view_of
    idx = view_index(b.array, t.array)
    if b.device != "cpu":
        idx = backend.to_device(idx, b.device)
    chain, node = set(), t._ctx              # t 自己由 b 取视图的那几步：它们的旧值照常指向 b 的旧值
    while node is not None and getattr(node, "parents", None):
        chain.add(id(node))
        views = [p for p in node.parents if p._view_of is b or p is b]
        node = views[0]._ctx if views and views[0] is not b else None
    stale = [r() for r in (b._consumers or ()) if r() is not None and getattr(r(), "_view_node", False)
             and id(r()) not in chain]
    old_b = _old_copy(b)
    if stale and old_b.requires_grad:
        poison = StaleView.apply(old_b)
        for fn in stale:
            fn.parents = tuple(poison if p is old_b else p for p in fn.parents)
    old_v = _old_copy(t)
    new_v = compute(old_v)
    _write(t, name, new_v.array)
    nb = CopySlices.apply(old_b, new_v, idx=idx, result=b.array)
    b._ctx, b._out_idx, b.requires_grad = nb._ctx, nb._out_idx, True
    nv = ViewOfBase.apply(b, idx=idx, result=t.array)
    t._ctx, t._out_idx, t.requires_grad = nv._ctx, nv._out_idx, True
    return t


_UFUNC = {"add_": "add", "sub_": "subtract", "mul_": "multiply", "div_": "true_divide"}


def binary(t, name, other, compute):
    """``add_ sub_ mul_ div_``：不需要记录时，用一个 ufunc 直接写进 ``t`` 的内存。"""
    if _must_record(t, name, (other,)):
        return update(t, name, compute, (other,))
    if hasattr(other, "_ctx"):
        if other.device != t.device:
            raise RuntimeError(f"{name}: expected both tensors on one device, got {t.device} and "
                               f"{other.device}")
        o = other.array
    elif isinstance(other, (numbers.Number, np.ndarray, np.generic)):
        o = other
    else:
        with autograd.no_grad():
            return update(t, name, compute, (other,))
    a = t.array
    try:
        getattr(t._xp, _UFUNC[name])(a, o, out=a, casting="same_kind")
    except TypeError:        # NumPy 的 UFuncTypeError：例如对整数张量原地做除法
        rt = np.result_type(a.dtype, getattr(o, "dtype", type(o)))
        if name == "div_":
            rt = np.result_type(rt, np.float32)
        raise RuntimeError(f"{name}: result type {rt} can't be cast to the desired output type "
                           f"{a.dtype}") from None
    except ValueError:
        if not getattr(a.flags, "writeable", True):
            raise RuntimeError(f"{name}: the tensor's memory is read-only (an expand()ed view or a "
                               "shared buffer); clone() it first") from None
        raise RuntimeError(f"{name}: output with shape {t.shape} doesn't match the broadcast shape "
                           f"{np.broadcast_shapes(a.shape, np.shape(o))}") from None
    t._version[0] += 1
    return t


def fill(t, name, values):
    """zero_ / fill_ / normal_ / uniform_ 等：写入 ``values``（数组或标量）；旧值得到的梯度是 0。"""
    if _must_record(t, name, (values,)):
        return update(t, name, lambda x: x * 0 + values, (values,))
    if hasattr(values, "_ctx"):
        values = values.array
    a = t.array
    if not getattr(a.flags, "writeable", True):
        raise RuntimeError(f"{name}: the tensor's memory is read-only (an expand()ed view or a shared "
                           "buffer); clone() it first")
    a[...] = values
    t._version[0] += 1
    return t


def write_out(out, result, name, inputs=()):
    """``torch.add(a, b, out=o)``：结果写进 ``o`` 自己的内存（同一个对象；它的视图也看到），返回 ``o``。

    与 PyTorch 相同：记录计算图时，任何参数（或 ``o`` 本身）需要梯度就报错——``out=`` 不支持求导；
    结果的类型要能转换成 ``o`` 的 dtype（浮点写不进整数）；``o`` 的形状不对时改成结果的形状（``o`` 不是
    空张量时给出警告，PyTorch 也这样，并说这种用法以后会被禁止）。

    ``out=``: the result is written into ``out``'s own memory and ``out`` is returned; refused while the
    graph is recorded and any argument requires grad, as in PyTorch; a wrong shape is resized (with
    PyTorch's warning unless ``out`` was empty)."""
    Tensor = autograd._Tensor
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be a Tensor, not {type(out).__name__}")
    if not isinstance(result, Tensor):
        raise TypeError(f"{name}(): out= is not supported for an op that returns {type(result).__name__} "
                        "(several results); assign the results instead")
    if autograd.is_grad_enabled() and (out.requires_grad or result.requires_grad or
                                       any(isinstance(t, Tensor) and t.requires_grad for t in inputs)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if result.device != out.device:
        raise RuntimeError(f"{name}(): expected out on device {result.device}, but it is on {out.device}")
    arr = result.array
    if tuple(arr.shape) != out.shape:
        if out.array.size:
            warnings.warn(f"{name}(): an output with one or more elements was resized since it had shape "
                          f"{list(out.shape)}, which does not match the required output shape "
                          f"{list(arr.shape)}. PyTorch deprecates this: pass an out tensor of the right "
                          "shape (or an empty one).", UserWarning, stacklevel=3)
        if out._view_of is not None:
            raise RuntimeError(f"{name}(): cannot resize out, a view of another tensor, from {out.shape} "
                               f"to {tuple(arr.shape)}")
        if arr.dtype != out.dtype and arr.dtype.kind == "f" and out.dtype.kind in "biu":
            raise RuntimeError(f"{name}(): result type {arr.dtype} can't be cast to the desired output type "
                               f"{out.dtype}")
        out.array = arr.astype(out.dtype, copy=True)
        out._version[0] += 1
        return out
    _write(out, f"{name}()", arr)
    return out

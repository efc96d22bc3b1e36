"""原地运算（``x.add_(1)``、``x += 1``、``x[0] = 5``、``w.normal_()``）：规则与 PyTorch 相同。

In-place operations change the tensor itself (the same object, the same memory: every view and every
``.data`` / ``detach()`` of it sees the change). Three rules keep gradients right:

1. **A leaf that requires grad is not modified in place while the graph is recorded.**
   ``w -= lr * w.grad`` must run inside ``with tg.no_grad():`` (the optimizer's update); outside it,
   the update would become part of the graph, so it raises PyTorch's error instead.
2. **Version counters.** Each in-place write adds one to the tensor's ``_version`` (shared by every
   tensor on the same memory). A graph node remembers the versions of the tensors whose arrays it
   saved for backward; ``backward()`` raises, naming the node, when one of them has changed since
   (see ``autograd._check_versions``). A wrong gradient becomes an error.
3. **Recorded in-place ops.** On a non-leaf (or when the other operand requires grad), the op is
   recorded like its out-of-place twin and the tensor takes the new node as its ``grad_fn``.
   tinygrad_zh refuses two cases PyTorch handles with extra machinery: a recorded in-place op on a
   *view* (PyTorch re-bases the view's graph), and on a tensor that an earlier recorded op already
   used as input (the edges of our graph point at tensors, not at their ``grad_fn`` of that moment).
   Both raise with the out-of-place spelling to use instead.

The functions here take the tensor as their first argument; ``tensor.py`` binds them as methods.
"""
import numbers

import numpy as np

from . import autograd


def _requires_grad(o):
    return getattr(o, "requires_grad", False)


def _must_record(t, name, others=()):
    """Apply rule 1 and 3; True when the update has to be recorded in the graph."""
    if not autograd._grad_enabled or not (t.requires_grad or any(_requires_grad(o) for o in others)):
        return False
    if t.requires_grad and t._ctx is None:
        raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place "
                           "operation. Update parameters inside `with torch.no_grad():` (or write to "
                           ".data), as optimizers do")
    if t._view_of is not None:
        base = t._view_of
        what = "a leaf Variable that requires grad" if base.requires_grad and base._ctx is None \
            else "another tensor"
        raise RuntimeError(f"{name}: a view of {what} (shape {base.shape}) is being used in an in-place "
                           "operation while gradients are recorded; tinygrad_zh does not re-base "
                           "views: write it out of place (y = y + ...), or under torch.no_grad()")
    if t._consumed:
        raise RuntimeError(f"{name}: this tensor (shape {t.shape}) was already used as the input of a "
                           "recorded operation; changing it in place now would change that operation's "
                           "input. Write it out of place instead (y = y * 2 rather than y *= 2)")
    return True


def _write(t, name, arr):
    """Copy ``arr`` into ``t``'s own memory (so that views see it) and bump the version."""
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
    """The general path: ``compute(x)`` is the out-of-place result for the old value ``x`` of ``t``."""
    if _must_record(t, name, others):
        old = type(t)._make(t.array.copy(), t.device, t._ctx, t._out_idx)   # the old value, in the graph
        old.requires_grad = t.requires_grad
        out = compute(old)
        _write(t, name, out.array)
        t._ctx, t._out_idx, t.requires_grad = out._ctx, out._out_idx, True
        return t
    with autograd.no_grad():
        out = compute(t)
    _write(t, name, out.array)
    return t


_UFUNC = {"add_": "add", "sub_": "subtract", "mul_": "multiply", "div_": "true_divide"}


def binary(t, name, other, compute):
    """``add_ sub_ mul_ div_``: one ufunc writing into ``t``'s memory when nothing is recorded."""
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
    except TypeError:        # numpy's UFuncTypeError: e.g. an int tensor divided in place
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
    """zero_ / fill_ / normal_ / uniform_ ...: write ``values`` (array or scalar); gradient 0 to the old value."""
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

"""模拟器的 ``cupy.ndarray``：包着一个 NumPy 数组，但在 CuPy 与 NumPy 不同的地方表现得像 CuPy。

The simulator's ndarray wraps a NumPy array (the "device memory") and behaves like CuPy's where
CuPy differs from NumPy, so that code which would fail on a GPU fails here too:

* no implicit conversion to NumPy: ``numpy.asarray(x)`` raises TypeError; ``x.get()`` /
  ``cupy.asnumpy(x)`` copy to the host (counted as a device-to-host sync, as are ``bool(x)``,
  ``float(x)``, ``int(x)``, ``x.item()``, ``x.tolist()``, printing);
* NumPy arrays mixed into operations raise ``TypeError: Unsupported type <class 'numpy.ndarray'>``
  (NumPy and Python scalars are fine);
* results are never NumPy scalars: reductions and scalar indexing give 0-d arrays;
* ``flags`` has ``c_contiguous``, ``f_contiguous``, ``owndata`` (and no ``writeable``);
* ``device`` is an (unhashable) ``cupy.cuda.Device``; arrays are unhashable; no ``__index__``;
* out-of-bounds integer-array indices wrap around (CuPy does not raise);
* ``empty`` returns "uninitialised" memory: filled with all-ones bytes (NaN for floats, -1 for
  ints), so a kernel that leaves an output element unwritten is noticed.

Only the functions the library needs (and close relatives) are provided; anything else raises
AttributeError, which is how a missing CuPy function would show up.
"""
import builtins
import functools
import weakref

import numpy as np

from . import _state

_NP = np.ndarray


def _quiet():
    """CuPy never warns about floating-point errors (inf, nan): neither does the simulator."""
    return np.errstate(all="ignore")


def _unsupported(x):
    return TypeError(f"Unsupported type {type(x)}")


def _un(x):
    """Unwrap one argument: simulator arrays -> their NumPy array; NumPy arrays are refused."""
    t = type(x)
    if t is ndarray:
        return x._a
    if t is _NP or isinstance(x, _NP):
        raise _unsupported(x)
    if t is list or t is tuple:
        return t(_un(i) for i in x)
    return x


def _un_kw(kw):
    return {k: _un(v) for k, v in kw.items()}


def _wrap(r, parents=()):
    """Wrap a NumPy result: arrays and NumPy scalars become simulator arrays (0-d for scalars)."""
    if isinstance(r, _NP):
        out = ndarray.__new__(ndarray)
        out._a = r
        out._base = None
        if r.base is not None:
            for p in parents:
                if type(p) is ndarray and np.may_share_memory(r, p._a):
                    out._base = p if p._base is None else p._base
                    break
        if out._base is None:
            _track(out)
        return out
    if isinstance(r, np.generic):
        return _wrap(np.asarray(r))
    if type(r) is tuple:
        return tuple(_wrap(i, parents) for i in r)
    if type(r) is list:
        return [_wrap(i, parents) for i in r]
    return r


# --------------------------------------------------------------------------- memory pool
class MemoryPool:
    """``cupy.get_default_memory_pool()``: bytes held by live arrays (``used_bytes``) and, after they
    are freed, kept cached (``total_bytes``) until ``free_all_blocks()``."""

    def __init__(self):
        self._used = 0
        self._cached = 0
        self._limit = 0

    def used_bytes(self):
        return self._used

    def total_bytes(self):
        return self._used + self._cached

    def free_bytes(self):
        return self._cached

    def free_all_blocks(self, stream=None):
        self._cached = 0

    def n_free_blocks(self):
        return 1 if self._cached else 0

    def set_limit(self, size=None, fraction=None):
        self._limit = int(size or 0)

    def get_limit(self):
        return self._limit

    def _alloc(self, n):
        if self._limit and self._used + n > self._limit:
            raise MemoryError(f"Out of memory allocating {n:,} bytes (allocated so far: "
                              f"{self._used:,} bytes, limit set to: {self._limit:,} bytes).")
        self._used += n
        self._cached = max(0, self._cached - n)

    def _free(self, n):
        self._used -= n
        self._cached += n


class PinnedMemoryPool(MemoryPool):
    pass


_POOL = MemoryPool()
_PINNED = PinnedMemoryPool()


def _track(arr):
    n = arr._a.nbytes
    if n:
        _POOL._alloc(n)
        weakref.finalize(arr, _POOL._free, n)


# --------------------------------------------------------------------------- flags, pointers
class Flags:
    """``ndarray.flags`` of CuPy: c_contiguous, f_contiguous, owndata (no writeable, aligned, ...)."""
    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, c, f, own):
        self.c_contiguous, self.f_contiguous, self.owndata = c, f, own

    def __getitem__(self, key):
        try:
            return {"C_CONTIGUOUS": self.c_contiguous, "F_CONTIGUOUS": self.f_contiguous,
                    "OWNDATA": self.owndata}[key]
        except KeyError:
            raise KeyError(f"{key} is not defined for cupy.ndarray.flags") from None

    def __repr__(self):
        return (f"  C_CONTIGUOUS : {self.c_contiguous}\n  F_CONTIGUOUS : {self.f_contiguous}\n"
                f"  OWNDATA : {self.owndata}")


class MemoryPointer:
    """``ndarray.data``: the device pointer (``ptr``) and its device."""
    __slots__ = ("ptr", "_arr")

    def __init__(self, arr):
        self._arr = arr
        self.ptr = arr._a.ctypes.data

    @property
    def device(self):
        from ._runtime import Device
        return Device(0)

    @property
    def device_id(self):
        return 0


# --------------------------------------------------------------------------- ndarray
def _method(name, sync=None):
    def m(self, *args, **kwargs):
        with _quiet():
            return _wrap(getattr(self._a, name)(*_un(args), **_un_kw(kwargs)), (self,))
    m.__name__ = name
    return m


def _binop(ufunc, reflected=False):
    def op(self, other):
        if isinstance(other, _NP):
            raise _unsupported(other)
        if type(other) is not ndarray and not _is_scalar(other):
            return NotImplemented
        o = _un(other)
        with _quiet():
            return _wrap(ufunc(o, self._a) if reflected else ufunc(self._a, o))
    return op


def _iop(ufunc):
    def op(self, other):
        if isinstance(other, _NP):
            raise _unsupported(other)
        with _quiet():
            ufunc(self._a, _un(other), out=self._a)
        return self
    return op


def _is_scalar(x):
    return isinstance(x, (bool, int, float, complex, np.generic))


def _d2h(what):
    _state.record("d2h", what)


class ndarray:
    """cupy.ndarray of the CUDA simulator (see the module docstring)."""
    __slots__ = ("_a", "_base", "__weakref__")
    __array_priority__ = 100
    __hash__ = None

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        if memptr is not None or strides is not None:
            raise NotImplementedError("CUDA simulator: ndarray(memptr=..., strides=...)")
        self._a = _poisoned(np.empty(shape, dtype, order=order))
        self._base = None
        _track(self)

    # -- attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    base = property(lambda self: self._base)
    T = property(lambda self: _wrap(self._a.T, (self,)))
    mT = property(lambda self: _wrap(self._a.mT, (self,)))
    real = property(lambda self: _wrap(self._a.real, (self,)))
    imag = property(lambda self: _wrap(self._a.imag, (self,)))
    data = property(lambda self: MemoryPointer(self))

    @shape.setter
    def shape(self, value):
        self._a.shape = value

    @property
    def flags(self):
        f = self._a.flags
        return Flags(f.c_contiguous, f.f_contiguous, self._base is None)

    @property
    def device(self):
        from ._runtime import Device
        return Device(0)

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self._a.ctypes.data, False),
                "version": 3, "strides": None if self._a.flags.c_contiguous else self.strides}

    # -- host transfers (device-to-host syncs)
    def get(self, stream=None, order="C", out=None, blocking=True):
        _d2h("ndarray.get()")
        a = np.array(self._a, order=order if order in ("C", "F") else "K", copy=True)
        if out is not None:
            if not isinstance(out, _NP):
                raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
            out[...] = a
            return out
        return a

    def set(self, arr, stream=None):
        if not isinstance(arr, _NP):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self.shape or arr.dtype != self.dtype:
            raise ValueError("Shape or dtype mismatch")
        _state.record("h2d", "ndarray.set()")
        self._a[...] = arr

    def item(self):
        _d2h("ndarray.item()")
        return self._a.item()

    def tolist(self):
        _d2h("ndarray.tolist()")
        return self._a.tolist()

    def tobytes(self, order="C"):
        _d2h("ndarray.tobytes()")
        return self._a.tobytes(order)

    def __bool__(self):
        if self._a.size == 1:
            _d2h("bool(ndarray)")
        return bool(self._a)

    def __float__(self):
        _d2h("float(ndarray)")
        return float(self._a)

    def __int__(self):
        _d2h("int(ndarray)")
        return int(self._a)

    def __complex__(self):
        _d2h("complex(ndarray)")
        return complex(self._a)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. "
                        "Please use `.get()` to construct a NumPy array explicitly.")

    def __repr__(self):
        _d2h("repr(ndarray)")
        return repr(self._a)

    def __str__(self):
        _d2h("str(ndarray)")
        return str(self._a)

    def __format__(self, spec):
        _d2h("format(ndarray)")
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    def __reduce__(self):
        _d2h("pickle(ndarray)")
        return (array, (self._a.copy(),))

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    # -- container
    def __len__(self):
        if self._a.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __getitem__(self, key):
        key = _index(key, self._a)
        return _wrap(self._a[key], (self,))

    def __setitem__(self, key, value):
        if isinstance(value, _NP):
            # CuPy copies a NumPy value to the device (a host-to-device transfer)
            _state.record("h2d", "ndarray.__setitem__(numpy value)")
            v = value
        else:
            v = _un(value)
        self._a[_index(key, self._a)] = v

    def scatter_add(self, slices, value):
        _scatter(np.add, self, slices, value)

    def scatter_max(self, slices, value):
        _scatter(np.maximum, self, slices, value)

    def scatter_min(self, slices, value):
        _scatter(np.minimum, self, slices, value)

    # -- NumPy protocol: ufuncs / functions on simulator arrays dispatch to the simulator
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from . import _functions
        f = getattr(_functions, ufunc.__name__, None)
        if not isinstance(f, _Ufunc):
            return NotImplemented
        if "out" in kwargs:
            out = kwargs["out"]
            if len(out) != 1:
                raise ValueError("The 'out' parameter must have exactly one array value")
            kwargs["out"] = out[0]
        if method != "__call__":
            f = getattr(f, method, None)
            if f is None:
                return NotImplemented
        return f(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        from . import _functions
        f = getattr(_functions, func.__name__, None)
        if f is None or not callable(f) or func.__module__.split(".")[:2] not in (["numpy"], ["numpy", "linalg"]):
            return NotImplemented
        if func.__module__ == "numpy.linalg":
            f = getattr(_functions.linalg, func.__name__, None)
            if f is None:
                return NotImplemented
        return f(*args, **kwargs)

    # -- methods
    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        return _wrap(self._a.astype(dtype, order=order, copy=copy), (self,))

    def copy(self, order="C"):
        return _wrap(self._a.copy(order=order))

    def view(self, dtype=None, array_class=None):
        return _wrap(self._a.view() if dtype is None else self._a.view(dtype), (self,))

    def fill(self, value):
        self._a.fill(_un(value))

    def dot(self, b, out=None):
        return _functions_mod().dot(self, b, out=out)

    def reshape(self, *shape, order="C", copy=None):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _wrap(self._a.reshape(shape, order=order), (self,))

    def transpose(self, *axes):
        return _wrap(self._a.transpose(*axes), (self,))

    for _n in ("ravel", "flatten", "squeeze", "swapaxes", "take", "repeat", "sum", "mean", "var",
               "std", "prod", "max", "min", "argmax", "argmin", "all", "any", "cumsum", "cumprod",
               "clip", "round", "nonzero", "diagonal", "trace", "conj", "conjugate", "ptp",
               "argsort", "compress", "choose"):
        locals()[_n] = _method(_n)
    del _n

    def sort(self, axis=-1, kind=None):
        self._a.sort(axis=axis)

    def put(self, indices, values, mode="wrap"):
        self._a.put(_un(indices), _un(values), mode=mode)

    # -- operators
    __add__, __radd__ = _binop(np.add), _binop(np.add, True)
    __sub__, __rsub__ = _binop(np.subtract), _binop(np.subtract, True)
    __mul__, __rmul__ = _binop(np.multiply), _binop(np.multiply, True)
    __truediv__, __rtruediv__ = _binop(np.true_divide), _binop(np.true_divide, True)
    __floordiv__, __rfloordiv__ = _binop(np.floor_divide), _binop(np.floor_divide, True)
    __mod__, __rmod__ = _binop(np.remainder), _binop(np.remainder, True)
    __pow__, __rpow__ = _binop(np.power), _binop(np.power, True)
    __matmul__, __rmatmul__ = _binop(np.matmul), _binop(np.matmul, True)
    __and__, __rand__ = _binop(np.bitwise_and), _binop(np.bitwise_and, True)
    __or__, __ror__ = _binop(np.bitwise_or), _binop(np.bitwise_or, True)
    __xor__, __rxor__ = _binop(np.bitwise_xor), _binop(np.bitwise_xor, True)
    __lshift__, __rshift__ = _binop(np.left_shift), _binop(np.right_shift)
    __lt__, __le__ = _binop(np.less), _binop(np.less_equal)
    __gt__, __ge__ = _binop(np.greater), _binop(np.greater_equal)
    __iadd__, __isub__, __imul__ = _iop(np.add), _iop(np.subtract), _iop(np.multiply)
    __itruediv__, __ifloordiv__ = _iop(np.true_divide), _iop(np.floor_divide)
    __imod__, __ipow__ = _iop(np.remainder), _iop(np.power)
    __iand__, __ior__, __ixor__ = _iop(np.bitwise_and), _iop(np.bitwise_or), _iop(np.bitwise_xor)

    def __eq__(self, other):
        if other is None or (type(other).__eq__ is object.__eq__ and type(other) is not ndarray):
            return zeros(self.shape, bool)
        return _binop(np.equal)(self, other)

    def __ne__(self, other):
        if other is None or (type(other).__ne__ is object.__ne__ and type(other) is not ndarray):
            return ones(self.shape, bool)
        return _binop(np.not_equal)(self, other)

    def __neg__(self):
        return _wrap(np.negative(self._a))

    def __pos__(self):
        return _wrap(np.positive(self._a))

    def __abs__(self):
        return _wrap(np.abs(self._a))

    def __invert__(self):
        return _wrap(np.invert(self._a))


ndarray.__module__ = "cupy"          # type(x).__module__ == "cupy", as for CuPy's arrays


def _functions_mod():
    from . import _functions
    return _functions


def _poisoned(a):
    """Fill new "uninitialised" memory with garbage (all bits set) like reused device memory."""
    if a.size:
        if a.dtype == bool:
            a.fill(True)
        else:
            a.view(np.uint8).reshape(-1).fill(0xFF) if a.flags.c_contiguous or a.flags.f_contiguous \
                else a.fill(-1)
    return a


def _index(key, a):
    """An index for the wrapped array: simulator arrays unwrapped, NumPy arrays allowed (CuPy
    copies them to the device), integer-array indices wrapped around like CuPy does."""
    keys = key if type(key) is tuple else (key,)
    out, dim, changed = [], 0, False
    n_adv = sum(1 for k in keys if k is not None and k is not Ellipsis)
    for k in keys:
        if type(k) is ndarray:
            k = k._a
            changed = True
        elif type(k) is list:
            k = np.asarray(k)
            changed = True
        if isinstance(k, _NP) and k.dtype.kind in "iu" and dim < a.ndim:
            n = a.shape[dim]
            if n and k.size and (k.min() < -n or k.max() >= n):
                k = np.mod(k, n)           # CuPy wraps out-of-bounds indices around
            changed = True
        if k is Ellipsis:
            dim = a.ndim - (n_adv - 1)
        elif k is not None:
            dim += k.ndim if isinstance(k, _NP) and k.dtype == bool else 1
        out.append(k)
    if not changed:
        return key
    return tuple(out) if type(key) is tuple else out[0]


def _scatter(op, arr, slices, value):
    v = _un(value)
    op.at(arr._a, _index(slices, arr._a), v)


# --------------------------------------------------------------------------- creation
def _dev(x, what):
    """A host object going to the device (asarray/array): counted as a host-to-device copy."""
    if type(x) is ndarray:
        return x._a, False
    if isinstance(x, (list, tuple)):
        if any(type(i) is ndarray for i in _flat(x)):
            # CuPy stacks device arrays in a list on the device
            return np.array(_un_list(x)), False
    _state.record("h2d", what)
    return x, True


def _flat(x):
    for i in x:
        if isinstance(i, (list, tuple)):
            yield from _flat(i)
        else:
            yield i


def _un_list(x):
    return [(_un_list(i) if isinstance(i, (list, tuple)) else (i._a if type(i) is ndarray else i)) for i in x]


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, blocking=False):
    a, _ = _dev(obj, "cupy.array(host data)")
    return _wrap(np.array(a, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asarray(a, dtype=None, order=None, blocking=False):
    if type(a) is ndarray:
        if (dtype is None or np.dtype(dtype) == a.dtype) and order in (None, "K", "A"):
            return a
        return _wrap(np.asarray(a._a, dtype=dtype, order=order), (a,))
    x, _ = _dev(a, "cupy.asarray(host data)")
    return _wrap(np.array(x, dtype=dtype, order=order or "K", copy=True))


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if type(a) is ndarray:
        return a.get(stream=stream, order=order, out=out, blocking=blocking)
    return np.asarray(a, order=order)


def empty(shape, dtype=float, order="C"):
    return _wrap(_poisoned(np.empty(shape, dtype, order=order)))


def empty_like(a, dtype=None, order="K", subok=None, shape=None):
    if type(a) is not ndarray:
        raise _unsupported(a)
    return _wrap(_poisoned(np.empty_like(a._a, dtype=dtype, order=order, shape=shape)))


class _Ufunc:
    """A CuPy ufunc: call, ``at``, ``reduce``, ``accumulate``, ``outer`` on simulator arrays."""

    def __init__(self, f):
        self._f = f
        self.__name__ = f.__name__
        self.nin, self.nout = f.nin, f.nout

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"

    def __call__(self, *args, out=None, dtype=None, casting="same_kind", **kw):
        if isinstance(out, tuple):
            if len(out) != 1:
                raise ValueError("The 'out' parameter must have exactly one array value")
            out = out[0]
        if out is not None and type(out) is not ndarray:
            raise TypeError(f"output must be a cupy.ndarray, got {type(out)}")
        for k in ("where", "order", "subok", "signature"):
            if k in kw:
                raise TypeError(f"Wrong arguments {{'{k}'}}")
        a = [_un(x) for x in args]
        for x in a:
            if not isinstance(x, _NP) and not _is_scalar(x):
                raise _unsupported(x)
        with _quiet():
            r = self._f(*a, out=None if out is None else out._a, dtype=dtype, casting=casting)
        if out is not None:
            return out
        return _wrap(r)

    def at(self, a, indices, b=None):
        if type(a) is not ndarray:
            raise _unsupported(a)
        idx = _index(indices, a._a)
        if b is None:
            self._f.at(a._a, idx)
        else:
            self._f.at(a._a, idx, _un(b))

    def reduce(self, a, axis=0, dtype=None, out=None, keepdims=False):
        r = self._f.reduce(_un(a), axis=axis, dtype=dtype, keepdims=keepdims,
                           out=None if out is None else out._a)
        return out if out is not None else _wrap(r)

    def accumulate(self, a, axis=0, dtype=None, out=None):
        return _wrap(self._f.accumulate(_un(a), axis=axis, dtype=dtype))

    def outer(self, a, b, **kw):
        return _wrap(self._f.outer(_un(a), _un(b)))


def _func(f, name=None):
    """A CuPy routine that has NumPy's semantics: unwrap, call, wrap (views keep their base)."""
    @functools.wraps(f)
    def g(*args, **kwargs):
        a, kw = _un(args), _un_kw(kwargs)
        out = kwargs.get("out")
        with _quiet():
            r = f(*a, **kw)
        if out is not None and type(out) is ndarray:
            return out
        return _wrap(r, args)
    if name:
        g.__name__ = name
    return g


def zeros(shape, dtype=float, order="C"):
    return _wrap(np.zeros(shape, dtype, order=order))


def ones(shape, dtype=float, order="C"):
    return _wrap(np.ones(shape, dtype, order=order))


__all__ = ["ndarray", "array", "asarray", "asnumpy", "empty", "empty_like", "zeros", "ones",
           "MemoryPool", "PinnedMemoryPool", "_Ufunc", "_func", "_wrap", "_un"]
_ = builtins

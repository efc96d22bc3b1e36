"""The ``cupy.*`` routines the library uses (and close relatives), with CuPy's semantics.

Element-wise functions are ``_Ufunc`` objects (``cupy.add.at`` etc. work); the other routines
unwrap simulator arrays, refuse NumPy arrays, call NumPy and wrap the result (never a NumPy
scalar). Routines CuPy does not have (``errstate``, ``frompyfunc``, ...) are deliberately absent.
"""
import numpy as np

from ._array import (_func, _Ufunc, _un, _wrap, array, asarray, asnumpy, empty, empty_like, ndarray,
                     ones, zeros)

# dtypes and constants (CuPy re-exports NumPy's)
from numpy import (bool_, complex64, complex128, dtype, e, euler_gamma, finfo, float16, float32,  # noqa: F401
                   float64, iinfo, inf, int8, int16, int32, int64, intp, nan, newaxis, pi, uint8,
                   uint16, uint32, uint64, can_cast, result_type, promote_types, issubdtype,
                   floating, integer, signedinteger, unsignedinteger, number, generic)

_UFUNCS = ("add subtract multiply divide true_divide floor_divide negative positive power "
           "float_power remainder mod fmod absolute abs fabs sign exp expm1 exp2 log log1p log2 "
           "log10 sqrt cbrt square reciprocal sin cos tan arcsin arccos arctan arctan2 sinh cosh "
           "tanh arcsinh arccosh arctanh hypot maximum minimum fmax fmin greater greater_equal "
           "less less_equal equal not_equal logical_and logical_or logical_not logical_xor "
           "isfinite isnan isinf signbit copysign floor ceil rint trunc bitwise_and bitwise_or "
           "bitwise_xor invert left_shift right_shift logaddexp logaddexp2 deg2rad rad2deg "
           "heaviside nextafter ldexp").split()
for _n in _UFUNCS:
    globals()[_n] = _Ufunc(getattr(np, _n))

_ROUTINES = (
    # creation from existing device arrays
    "zeros_like ones_like full_like copy arange linspace logspace eye identity full tri diag "
    "diagflat meshgrid indices "
    # shape manipulation
    "reshape ravel transpose swapaxes moveaxis rollaxis expand_dims squeeze broadcast_to "
    "broadcast_arrays atleast_1d atleast_2d atleast_3d concatenate stack vstack hstack dstack "
    "column_stack split array_split tile repeat flip fliplr flipud roll pad tril triu "
    "ascontiguousarray asfortranarray "
    # reductions and statistics
    "sum prod mean var std max amax min amin argmax argmin all any cumsum cumprod "
    "count_nonzero nansum nanmax nanmin nanmean ptp median average "
    # linear algebra
    "matmul dot vdot inner outer tensordot einsum trace kron "
    # indexing, sorting, searching
    "take take_along_axis put_along_axis choose compress nonzero argwhere flatnonzero where "
    "searchsorted sort argsort unique bincount clip round around fix isclose allclose "
    "array_equal diff cross interp nan_to_num "
    # memory
    "shares_memory may_share_memory copyto shape ndim size"
).split()
for _n in _ROUTINES:
    globals()[_n] = _func(getattr(np, _n))
del _n


def full(shape, fill_value, dtype=None, order="C"):
    return _wrap(np.full(shape, _un(fill_value), dtype=dtype, order=order))


def shape(a):
    return tuple(a.shape)


def ndim(a):
    return a.ndim


def size(a, axis=None):
    return a.size if axis is None else a.shape[axis]


def copyto(dst, src, casting="same_kind", where=None):
    if type(dst) is not ndarray:
        raise TypeError(f"Unsupported type {type(dst)}")
    if isinstance(src, np.ndarray):
        raise TypeError(f"Unsupported type {type(src)}")
    np.copyto(dst._a, _un(src), casting=casting, where=True if where is None else _un(where))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """CuPy's allclose returns a 0-d array (use bool() to get a Python bool: a sync)."""
    return _wrap(np.asarray(np.allclose(_un(a), _un(b), rtol=rtol, atol=atol, equal_nan=equal_nan)))


def array_equal(a1, a2, equal_nan=False):
    return _wrap(np.asarray(np.array_equal(_un(a1), _un(a2), equal_nan=equal_nan)))


def may_share_memory(a, b, max_work=None):
    return bool(np.may_share_memory(_un(a), _un(b)))


def shares_memory(a, b, max_work=None):
    return bool(np.shares_memory(_un(a), _un(b)))


def get_array_module(*args):
    import sys
    for a in args:
        if type(a) is ndarray:
            return sys.modules[__name__.rsplit(".", 1)[0]].cupy
    return np


class _Linalg:
    """``cupy.linalg`` (the part that is used)."""
    norm = staticmethod(_func(np.linalg.norm))
    inv = staticmethod(_func(np.linalg.inv))
    solve = staticmethod(_func(np.linalg.solve))
    det = staticmethod(_func(np.linalg.det))
    svd = staticmethod(_func(np.linalg.svd))
    qr = staticmethod(_func(np.linalg.qr))
    cholesky = staticmethod(_func(np.linalg.cholesky))
    eigh = staticmethod(_func(np.linalg.eigh))


linalg = _Linalg()


class _StrideTricks:
    @staticmethod
    def as_strided(x, shape=None, strides=None):
        if type(x) is not ndarray:
            raise TypeError(f"Unsupported type {type(x)}")
        return _wrap(np.lib.stride_tricks.as_strided(x._a, shape=shape, strides=strides), (x,))


class _Lib:
    stride_tricks = _StrideTricks()


lib = _Lib()

__all__ = [n for n in dir() if not n.startswith("_") and n not in ("np",)]
_ = (array, asarray, asnumpy, empty, empty_like, ones, zeros)

"""Result dtypes as PyTorch: the same expression, written once, run with torch and with tinygrad_zh.

Each case is a function of the module (``m`` is ``torch`` or ``tinygrad_zh``), so the expected dtype
is whatever PyTorch gives, never a value copied from our own output. The one documented exception
(``torch.tensor(float64 NumPy array)`` is float32 here, docs/pytorch_compat.md) is not listed.
"""
import numpy as np
import pytest

import tinygrad_zh as tg

torch = pytest.importorskip("torch")

CASES = {
    "int64 + python float": lambda m: m.tensor([1, 2]) + 0.5,
    "int64 * python int": lambda m: m.tensor([1, 2]) * 2,
    "int64 / python int": lambda m: m.tensor([1, 2]) / 2,
    "int64 + float32": lambda m: m.tensor([1, 2]) + m.tensor([1.0, 2.0]),
    "int32 + int64": lambda m: m.tensor([1, 2], dtype=m.int32) + m.tensor([1, 2]),
    "float16 + float32": lambda m: m.tensor([1.0, 2.0], dtype=m.float16) + m.tensor([1.0, 2.0]),
    "float32 + 0-d float64": lambda m: m.tensor([1.0, 2.0]) + m.tensor(1.0, dtype=m.float64),
    "int64 + 0-d float64": lambda m: m.tensor([1, 2]) + m.tensor(1.0, dtype=m.float64),
    "bool + bool": lambda m: m.tensor([True]) + m.tensor([True]),
    "bool * python float": lambda m: m.tensor([True]) * 1.5,
    "uint8 + int8": lambda m: m.tensor([1], dtype=m.uint8) + m.tensor([1], dtype=m.int8),
    "float32 + np.float64 scalar": lambda m: m.tensor([1.0]) + np.float64(2.0),
    "sum of int32": lambda m: m.tensor([1, 2], dtype=m.int32).sum(),
    "sum of bool": lambda m: m.tensor([True, False]).sum(),
    "prod of int32": lambda m: m.tensor([1, 2], dtype=m.int32).prod(),
    "prod of bool along dim": lambda m: m.tensor([[True, False]]).prod(1),
    "mean of float32": lambda m: m.tensor([1.0, 2.0]).mean(),
    "arange of ints": lambda m: m.arange(5),
    "arange with float step": lambda m: m.arange(0, 1, 0.5),
    "int64 ** 2": lambda m: m.tensor([1, 2]) ** 2,
    "int64 ** 0.5": lambda m: m.tensor([1, 2]) ** 0.5,
    "argmax": lambda m: m.tensor([1.0, 3.0]).argmax(),
    "comparison": lambda m: m.tensor([1.0, 3.0]) > 2,
    "python float tensor": lambda m: m.tensor(3.0),
}
for _f in ("exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "sin", "cos"):
    CASES[f"{_f} of int64"] = (lambda f: lambda m: getattr(m, f)(m.tensor([1, 2])))(_f)
    CASES[f"{_f} of bool"] = (lambda f: lambda m: getattr(m.tensor([True, True]), f)())(_f)


def _name(dtype):
    return str(dtype).replace("torch.", "")


@pytest.mark.parametrize("name", sorted(CASES))
def test_result_dtype_matches_pytorch(name):
    expected = _name(CASES[name](torch).dtype)
    got = _name(CASES[name](tg).dtype)
    assert got == expected, f"{name}: PyTorch gives {expected}, tinygrad_zh gives {got}"


@pytest.mark.parametrize("f", ["exp", "log", "sqrt", "tanh", "sigmoid"])
def test_unary_float_op_of_int_tensor_gives_torch_values(f):
    x = [1, 2, 3]
    np.testing.assert_allclose(getattr(tg, f)(tg.tensor(x)).numpy(),
                               getattr(torch, f)(torch.tensor(x)).numpy(), rtol=1e-6)


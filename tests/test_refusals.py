"""What PyTorch refuses, refused here too, with a message that says what was expected: non-numeric
tensor data, integer ``Module.to()``, the state of another optimizer class, non-finite CSV cells.

Before these checks each case was accepted and failed later, far from the cause (deep inside NumPy,
at the first ``step()``, or as "SVD did not converge" in the regression example).
"""
import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh.data import read_csv

torch = pytest.importorskip("torch")


# ----------------------------------------------------------------------------- tensor data
@pytest.mark.parametrize("data,what", [(["a", "b"], "str"), ([b"a"], "bytes"), ([object()], "Python object"),
                                       ([None], "Python object"), ([[1.0, "2"]], "str"),
                                       (np.array(["x", "y"]), "str"), ([1, None], "Python object")])
def test_tensor_refuses_non_numeric_data_like_torch(data, what):
    with pytest.raises((TypeError, ValueError, RuntimeError)):       # PyTorch refuses each one as well
        torch.tensor(data) if not isinstance(data, np.ndarray) else torch.from_numpy(data)
    with pytest.raises(TypeError, match=rf"Tensor: cannot make a tensor from {what} data .*expected numbers"):
        tg.Tensor(data)
    with pytest.raises(TypeError, match="cannot make a tensor"):
        tg.tensor(data)


def test_tensor_refuses_complex_data_we_have_no_complex_dtype():
    with pytest.raises(TypeError, match=r"complex data \(NumPy dtype complex128"):
        tg.tensor([1.5 + 2j])


def test_tensor_refuses_strings_even_with_a_float_dtype():
    # NumPy would parse "1.0" into 1.0 when a dtype is given; PyTorch refuses, so do we
    with pytest.raises(ValueError):
        torch.tensor(["1.0"], dtype=torch.float32)
    with pytest.raises(TypeError, match=r"str data \(NumPy dtype <U3, e.g. '1.0'\)"):
        tg.tensor(["1.0"], dtype="float32")


def test_tensor_still_accepts_numbers_arrays_and_torch_tensors():
    assert tg.tensor([[1, 2], [3, 4]]).dtype == np.int64
    assert tg.tensor([1.5, True]).dtype == np.float32
    assert tg.tensor(np.arange(3, dtype=np.uint8)).dtype == np.uint8
    assert tg.tensor([]).shape == (0,) and tg.tensor(3).shape == ()
    np.testing.assert_array_equal(tg.tensor(torch.ones(2)).numpy(), [1.0, 1.0])
    assert tg.tensor([1, 2], dtype="float64").dtype == np.float64


# ----------------------------------------------------------------------------- Module.to
@pytest.mark.parametrize("dtype", ["int32", "int64", "bool", "uint8"])
def test_module_to_an_integer_dtype_is_refused_like_torch(dtype):
    with pytest.raises(TypeError) as te:
        torch.nn.Linear(2, 2).to(getattr(torch, dtype))
    lin = tg.nn.Linear(2, 2)
    with pytest.raises(TypeError) as e:
        lin.to(dtype)
    # PyTorch's words, with our dtype name (torch says torch.int32)
    assert str(e.value) == str(te.value).replace(f"torch.{dtype}", dtype)
    assert lin.weight.dtype == np.float32 and lin.weight.requires_grad      # nothing changed
    with pytest.raises(TypeError, match="only accepts floating point"):
        lin.to("cpu", getattr(tg, dtype) if hasattr(tg, dtype) else dtype)
    with pytest.raises(TypeError, match="only accepts floating point"):
        lin.to(dtype=dtype)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_module_type_to_an_integer_dtype_needs_parameters_without_grad_like_torch(dtype):
    with pytest.raises(RuntimeError):
        torch.nn.Linear(2, 2).type(getattr(torch, dtype))
    lin = tg.nn.Linear(2, 2)
    with pytest.raises(RuntimeError, match=rf"nn.Module.type\({dtype}\): parameters that require grad must stay "
                                           r"floating point \(weight, bias\)"):
        lin.type(dtype)
    assert lin.weight.dtype == np.float32                                   # nothing changed
    frozen, frozen_t = tg.nn.Linear(2, 2).requires_grad_(False), torch.nn.Linear(2, 2).requires_grad_(False)
    assert str(frozen.type(dtype).weight.dtype) == str(frozen_t.type(getattr(torch, dtype)).weight.dtype)[6:]


def test_module_to_a_float_dtype_still_works():
    lin = tg.nn.Linear(2, 2).to("float64")
    assert lin.weight.dtype == np.float64 and lin.weight.requires_grad


# ----------------------------------------------------------------------------- optimizer state
def _trained(opt_cls, **kw):
    p = tg.nn.Parameter(tg.tensor([1.0, -2.0]))
    opt = opt_cls([p], **kw)
    p.grad = tg.tensor([0.5, 0.5])
    opt.step()
    return opt


CLASSES = [(tg.optim.SGD, {"lr": 0.1, "momentum": 0.9}), (tg.optim.Adam, {}), (tg.optim.RMSprop, {}),
           (tg.optim.Adagrad, {}), (tg.optim.Adadelta, {})]


@pytest.mark.parametrize("src", CLASSES, ids=[c.__name__ for c, _ in CLASSES])
@pytest.mark.parametrize("dst", CLASSES, ids=[c.__name__ for c, _ in CLASSES])
def test_optimizer_refuses_the_state_of_another_optimizer_class(src, dst):
    state = _trained(src[0], **src[1]).state_dict()
    p = tg.nn.Parameter(tg.tensor([1.0, -2.0]))
    opt = dst[0]([p], **dst[1])
    if src[0] is dst[0]:
        opt.load_state_dict(state)
        return
    before = [dict(g) for g in opt.param_groups]
    state_before = {k: dict(v) for k, v in opt.state.items()}       # Adagrad fills its state at once
    with pytest.raises(ValueError, match=rf"{dst[0].__name__}.load_state_dict: parameter group 0 of the state "
                                         r"lacks .* which .* needs, and has .* another optimizer class"):
        opt.load_state_dict(state)
    assert opt.param_groups == before                                     # nothing was changed
    assert {k: dict(v) for k, v in opt.state.items()} == state_before


def test_adam_state_without_the_class_hyper_parameters_names_them():
    opt = tg.optim.Adam([tg.nn.Parameter(tg.ones(2))])
    sgd = _trained(tg.optim.SGD, lr=0.1, momentum=0.9).state_dict()
    with pytest.raises(ValueError) as e:
        opt.load_state_dict(sgd)
    msg = str(e.value)
    assert "'amsgrad', 'betas', 'eps'" in msg and "'dampening', 'momentum', 'nesterov'" in msg


def test_optimizer_still_loads_torch_state_of_the_same_class_and_partial_groups():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    topt = torch.optim.Adam([w], lr=0.01)
    w.grad = torch.tensor([0.5, 0.5])
    topt.step()
    opt = tg.optim.Adam([tg.nn.Parameter(tg.tensor([1.0, -2.0]))])
    opt.load_state_dict(topt.state_dict())                  # extra keys foreach, fused, capturable ...
    assert opt.param_groups[0]["lr"] == 0.01
    opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.5, "params": [0]}]})   # partial group
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["betas"] == (0.9, 0.999)


# ----------------------------------------------------------------------------- CSV cells
@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"])
def test_csv_refuses_a_non_finite_cell_naming_file_line_and_column(tmp_path, cell):
    p = tmp_path / "data.csv"
    p.write_text(f"a,b,target\n1,2,3\n\n4,{cell},6\n")        # the blank line still counts: line 4
    with pytest.raises(ValueError) as e:
        read_csv(p)
    msg = str(e.value)
    assert str(p) in msg and "line 4 column 1 ('b')" in msg and f"{cell!r} is not a finite number" in msg


def test_csv_line_numbers_count_blank_lines(tmp_path):
    p = tmp_path / "data.csv"
    p.write_text("a;b\n\n1;2\n\n\n3;x\n")
    with pytest.raises(ValueError, match=r"line 6 column 1 \('b'\): 'x' is not a number"):
        read_csv(p)


def test_wine_loader_refuses_a_nan_cell(tmp_path):
    from tinygrad_zh.data import load_wine_quality
    src = tg.data.data_path("wine-quality", "winequality-red.csv") if hasattr(tg.data, "data_path") else None
    if src is None:
        pytest.skip("no data_path helper")
    lines = open(src).read().splitlines()
    for colour in ("red", "white"):
        rows = list(lines[:5])
        if colour == "white":
            rows[3] = ";".join(["nan"] + rows[3].split(";")[1:])
        (tmp_path / f"winequality-{colour}.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"winequality-white.csv.*line 4 column 0 \('fixed acidity'\): "
                                         r"'nan' is not a finite number"):
        load_wine_quality(tmp_path)


# ------------------------------------------------------------------- per-group hyper-parameters
@pytest.mark.parametrize("key,value", [("lr", "0.1"), ("momentum", None), ("weight_decay", [0.1]), ("lr", True)])
def test_a_parameter_group_with_a_non_numeric_hyper_parameter_is_refused_when_added(key, value):
    """``SGD([{"params": ..., "lr": "0.1"}])`` used to be accepted and to fail only at ``step()`` with
    NumPy's UFuncTypeError; now the group is refused at once, naming the optimizer, group and value."""
    m = tg.nn.Linear(2, 2)
    with pytest.raises(TypeError, match=rf"SGD: parameter group 0 sets {key} to {type(value).__name__}"):
        tg.optim.SGD([{"params": m.parameters(), key: value}], lr=0.1, momentum=0.9)
    opt = tg.optim.SGD([m.weight], lr=0.1)
    with pytest.raises(TypeError, match=rf"parameter group 1 sets {key}"):
        opt.add_param_group({"params": [m.bias], key: value})
    assert len(opt.param_groups) == 1


def test_numeric_per_group_values_are_still_accepted():
    m = tg.nn.Linear(2, 2)
    opt = tg.optim.SGD([{"params": [m.weight], "lr": 1, "momentum": np.float32(0.5)},
                        {"params": [m.bias], "lr": tg.tensor(0.2)}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups][0] == 1
    a = tg.optim.Adam([{"params": m.parameters(), "betas": (0.8, 0.9), "amsgrad": True}])
    assert a.param_groups[0]["betas"] == (0.8, 0.9)


# ------------------------------------------------------------------- layer sizes
@pytest.mark.parametrize("make", [lambda: tg.nn.Linear("2", 2), lambda: tg.nn.Linear(2, 2.7),
                                  lambda: tg.nn.Embedding(10.0, 3), lambda: tg.nn.BatchNorm2d("4")])
def test_layer_sizes_must_be_ints_like_torch(make):
    """``int()`` used to convert ``"2"`` and truncate 2.7 silently; PyTorch raises a TypeError."""
    with pytest.raises(TypeError, match=r"(Linear|Embedding|BatchNorm2d): \w+ must be an int, got (str|float)"):
        make()


def test_negative_layer_sizes_are_refused_and_numpy_ints_accepted():
    with pytest.raises(ValueError, match=r"Linear: out_features must be >= 0, got -1"):
        tg.nn.Linear(2, -1)
    assert tg.nn.Linear(np.int64(3), 2).weight.shape == (2, 3)

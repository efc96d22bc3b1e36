"""What a learner sees when printing a tensor (``repr``, ``tg.set_printoptions``), compared with PyTorch."""
import numpy as np
import pytest

import tinygrad_zh as tg

torch = pytest.importorskip("torch")
PRINTED = {
    "float32 with decimals": lambda m: m.tensor([1.5, 2.0]),
    "integral floats": lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]),
    "0-d float": lambda m: m.tensor(3.5),
    "0-d int64": lambda m: m.tensor(3),
    "int64 (dtype not shown)": lambda m: m.tensor([1, 2]),
    "empty": lambda m: m.tensor([]),
    "negative decimals": lambda m: m.tensor([-1.25, 0.5, 3.0]),
    "requires_grad": lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    "all True": lambda m: m.tensor([True, True]),
    "True and False": lambda m: m.tensor([[True, False], [False, True]]),
}


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_repr_matches_pytorch(name):
    assert repr(PRINTED[name](tg)) == repr(PRINTED[name](torch))


def test_repr_names_non_default_dtypes_without_the_torch_prefix():
    # documented difference: x.dtype is a NumPy dtype, so the name has no "torch." in front
    assert repr(tg.tensor([1, 2], dtype=tg.int32)) == repr(torch.tensor([1, 2], dtype=torch.int32)).replace("torch.", "")
    assert repr(tg.tensor([1.5], dtype=tg.float64)) == repr(torch.tensor([1.5], dtype=torch.float64)).replace("torch.", "")


def test_set_printoptions_as_pytorch():
    try:
        for m in (tg, torch):
            m.set_printoptions(precision=2)
        assert repr(tg.tensor([1.23456])) == repr(torch.tensor([1.23456])) == "tensor([1.23])"
        for m in (tg, torch):
            m.set_printoptions(profile="default")
        assert repr(tg.tensor([1.23456])) == repr(torch.tensor([1.23456])) == "tensor([1.2346])"
        for m in (tg, torch):
            m.set_printoptions(threshold=5, edgeitems=2)
        assert repr(tg.arange(10)) == repr(torch.arange(10))
        with pytest.raises(ValueError, match="unknown profile"):
            tg.set_printoptions(profile="long")
    finally:
        for m in (tg, torch):
            m.set_printoptions(profile="default")


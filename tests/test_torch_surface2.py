"""More of the torch.* surface learners use, each compared with the installed PyTorch: index assignment
with leading size-1 dims, legacy constructors (FloatTensor ...), ``Tensor(...)`` as PyTorch reads it,
devices, grad modes (set_grad_enabled, inference_mode), named (values, indices) results, saving a whole
Module, parameter order after reassignment, and ``Size``."""
import os

import numpy as np
import pytest
import torch

import tinygrad_zh as tg
from tinygrad_zh import backend

pytestmark = pytest.mark.core

needs_cuda = pytest.mark.skipif(not backend.cuda_available(), reason="needs CuPy and a GPU (or the simulator)")


def same(ours, ref):
    """Same values, shape and dtype (dtype compared by name: 'float32' == 'torch.float32')."""
    assert tuple(ours.shape) == tuple(ref.shape), (ours.shape, ref.shape)
    assert str(ours.dtype) == str(ref.dtype).replace("torch.", ""), (ours.dtype, ref.dtype)
    np.testing.assert_array_equal(ours.numpy(), ref.detach().numpy())


def raises_like_torch(exc, fn_tg, fn_torch, match=None):
    with pytest.raises(exc):
        fn_torch()
    with pytest.raises(exc, match=match):
        fn_tg()


# ----------------------------------------------------------------------------- 1. x[key] = v
SETITEM = [
    ((0, 0), (1, 1)),                  # a (1, 1) value into one element
    ((0, 0), (1, 1, 1)),
    (0, (1, 1, 3)),                    # a row
    (slice(None), (1, 1, 2, 3)),       # everything
    ([0, 1], (1, 2, 3)),               # advanced index
    ((slice(None), 1), (1, 2)),        # a column
    ((0, slice(0, 2)), (1, 1)),        # broadcast after dropping the leading 1
]


@pytest.mark.parametrize("key,vshape", SETITEM)
@pytest.mark.parametrize("kind", ["tensor", "array"])
def test_setitem_drops_leading_size1_dims_like_torch(key, vshape, kind):
    vals = np.arange(1, 1 + int(np.prod(vshape)), dtype=np.float32).reshape(vshape) + 10
    ours, ref = tg.zeros(2, 3), torch.zeros(2, 3)
    ours[key] = tg.tensor(vals) if kind == "tensor" else vals
    ref[key] = torch.tensor(vals)
    same(ours, ref)


def test_setitem_bool_mask_with_a_1x1_value_like_torch():
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 9.0]], np.float32)
    ours, ref = tg.tensor(a), torch.tensor(a)
    ours[ours > 3] = tg.full((1, 1), -1.0)
    ref[ref > 3] = torch.full((1, 1), -1.0)
    same(ours, ref)


@pytest.mark.parametrize("key,vshape", [(0, (2, 3)), (0, (3, 1)), ((0, 0), (2,)), (0, (1, 2))])
def test_setitem_shapes_that_do_not_broadcast_still_raise(key, vshape):
    raises_like_torch(RuntimeError, lambda: tg.zeros(2, 3).__setitem__(key, tg.ones(*vshape)),
                      lambda: torch.zeros(2, 3).__setitem__(key, torch.ones(*vshape)),
                      match=r"value of shape .* can't be broadcast to the shape")


@pytest.mark.parametrize("key,vshape", [((0, 0), (1, 1)), (1, (1, 1, 3)), ([0, 1], (1, 2, 3))])
def test_recorded_setitem_with_leading_ones_gives_torch_gradients(key, vshape):
    rng = np.random.default_rng(0)
    w0, v0 = rng.standard_normal((2, 3)), rng.standard_normal(vshape)
    c = rng.standard_normal((2, 3))
    grads = []
    for lib in (tg, torch):
        w = lib.tensor(w0, dtype=lib.float64, requires_grad=True)
        v = lib.tensor(v0, dtype=lib.float64, requires_grad=True)
        y = w * 2
        y[key] = v * 3
        (y * lib.tensor(c, dtype=lib.float64)).sum().backward()
        assert tuple(v.grad.shape) == vshape
        grads.append((w.grad.numpy(), v.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12)


def test_recorded_setitem_that_does_not_broadcast_raises():
    w = tg.zeros(2, 3, requires_grad=True)
    y = w * 1
    with pytest.raises(RuntimeError, match=r"value of shape \(2, 3\) can't be broadcast to the shape \(3,\)"):
        y[0] = tg.ones(2, 3, requires_grad=True)
    y.sum().backward()                         # the failed assignment left the graph usable
    np.testing.assert_array_equal(w.grad.numpy(), np.ones((2, 3)))


# ----------------------------------------------------------------------------- 2. legacy constructors
LEGACY = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor", "ByteTensor",
          "HalfTensor", "ShortTensor", "CharTensor"]


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("args", [([1, 0, 2],), ([[1.7, -1.7], [0.0, 3.0]],), (2, 3), (4,), ((2, 3),), ()],
                         ids=["ints", "floats", "sizes", "size1", "tuple-data", "empty"])
def test_legacy_constructors_match_torch(name, args):
    if name in ("ByteTensor", "BoolTensor") and args and isinstance(args[0], list):
        args = (np.abs(args[0]).tolist(),)          # a negative float into uint8 is undefined in C (and torch)
    ours, ref = getattr(tg, name)(*args), getattr(torch, name)(*args)
    assert tuple(ours.shape) == tuple(ref.shape)
    assert str(ours.dtype) == str(ref.dtype).replace("torch.", "")
    if args and isinstance(args[0], (list, tuple)):            # data (sizes give uninitialised memory in torch)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    else:
        assert not ours.numpy().any()                           # we fill zeros


@pytest.mark.parametrize("name", ["FloatTensor", "LongTensor"])
def test_legacy_constructor_with_size_object_and_arrays(name):
    assert getattr(tg, name)(tg.Size([2, 3])).shape == tuple(getattr(torch, name)(torch.Size([2, 3])).shape)
    a = np.array([1.5, -2.5])
    same(getattr(tg, name)(a), getattr(torch, name)(a))


def test_legacy_constructor_errors_like_torch():
    raises_like_torch(TypeError, lambda: tg.FloatTensor([1], dtype=tg.float64),
                      lambda: torch.FloatTensor([1], dtype=torch.float64))
    raises_like_torch(TypeError, lambda: tg.FloatTensor([1], requires_grad=True),
                      lambda: torch.FloatTensor([1], requires_grad=True))
    raises_like_torch(TypeError, lambda: tg.FloatTensor(tg.tensor([1, 2])),
                      lambda: torch.FloatTensor(torch.tensor([1, 2])), match="expected a cpu tensor of dtype float32")
    raises_like_torch(RuntimeError, lambda: tg.FloatTensor(-1), lambda: torch.FloatTensor(-1))
    raises_like_torch(RuntimeError, lambda: tg.FloatTensor([1], device="cuda"),
                      lambda: torch.FloatTensor([1], device="cuda"), match="expects device type: cpu")
    x = tg.ones(2)
    assert tg.FloatTensor(x) is x and tg.FloatTensor([1], device="cpu").dtype == tg.float32


def test_isinstance_with_legacy_types_like_torch():
    pairs = [(tg.zeros(2), torch.zeros(2)), (tg.zeros(2, dtype=tg.long), torch.zeros(2, dtype=torch.long)),
             (tg.zeros(2, dtype=tg.float64), torch.zeros(2, dtype=torch.float64)),
             (tg.tensor([True]), torch.tensor([True])),
             (tg.nn.Parameter(tg.ones(2)), torch.nn.Parameter(torch.ones(2)))]
    for ours, ref in pairs:
        for name in LEGACY:
            assert isinstance(ours, getattr(tg, name)) == isinstance(ref, getattr(torch, name)), (name, ref.dtype)
        assert isinstance(ours, tg.Tensor)
    assert not isinstance(3.0, tg.FloatTensor) and tg.FloatTensor.dtype == tg.float32
    assert tg.LongTensor.dtype == tg.int64 and tg.FloatTensor.is_cuda is False


def test_type_with_legacy_types_and_names_like_torch():
    for arg in ("FloatTensor", "DoubleTensor", "LongTensor"):
        same(tg.tensor([1.5, -2.5]).type(getattr(tg, arg)), torch.tensor([1.5, -2.5]).type(getattr(torch, arg)))
        same(tg.tensor([1, 2]).type(f"torch.{arg}"), torch.tensor([1, 2]).type(f"torch.{arg}"))
    assert tg.tensor([1, 2]).type(tg.DoubleTensor).type() == torch.tensor([1, 2]).type(torch.DoubleTensor).type()
    raises_like_torch(ValueError, lambda: tg.ones(1).type("torch.NoSuchTensor"),
                      lambda: torch.ones(1).type("torch.NoSuchTensor"))


# ----------------------------------------------------------------------------- 3. Tensor(...)
@pytest.mark.parametrize("args", [([1, 2],), ([[1, 2], [3, 4]],), ([True, False],), ([1.5, 2],), ((2, 3),),
                                  (3,), (2, 3), (0,), (torch.Size([2, 3]),), ()],
                         ids=["ints", "nested", "bools", "floats", "tuple-data", "size3", "size2x3", "size0",
                              "Size", "empty"])
def test_tensor_constructor_like_torch(args):
    ours_args = tuple(tg.Size(a) if isinstance(a, torch.Size) else a for a in args)
    ours, ref = tg.Tensor(*ours_args), torch.Tensor(*args)
    assert tuple(ours.shape) == tuple(ref.shape) and ours.dtype == tg.float32 and ref.dtype == torch.float32
    assert isinstance(ours, tg.Tensor) and not ours.requires_grad and ours.grad_fn is None
    if args and type(args[0]) in (list, tuple):                # data (not sizes, not a Size)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    else:
        assert not ours.numpy().any()


def test_tensor_constructor_errors_like_torch():
    raises_like_torch(TypeError, lambda: tg.Tensor(2, 3.0), lambda: torch.Tensor(2, 3.0), match="Python ints")
    raises_like_torch(TypeError, lambda: tg.Tensor([1], 2), lambda: torch.Tensor([1], 2))
    raises_like_torch(RuntimeError, lambda: tg.Tensor(-1), lambda: torch.Tensor(-1), match="negative dimension")
    raises_like_torch(RuntimeError, lambda: tg.Tensor(2, -3), lambda: torch.Tensor(2, -3))


def test_tensor_constructor_keeps_array_and_keyword_behaviour():
    """Arrays, NumPy scalars, Tensors and the keyword arguments the library uses keep working (our
    extensions: PyTorch's Tensor() takes no dtype=/requires_grad=, and makes float32 of int arrays)."""
    assert tg.Tensor(np.array([1, 2])).dtype == tg.int64
    assert tg.Tensor(np.array([1.0, 2.0])).dtype == tg.float32
    assert tg.Tensor(np.int64(3)).shape == () and tg.Tensor(np.int64(3)).item() == 3
    assert tg.Tensor(np.ones(3), dtype="float64", requires_grad=True).requires_grad
    assert tg.Tensor([1, 2], dtype="int64").dtype == tg.int64
    assert tg.Tensor(2, 3, dtype="float64").dtype == tg.float64
    assert tg.Tensor(tg.tensor([1, 2])).dtype == tg.int64         # like torch.Tensor(int tensor)
    assert tg.Tensor(2.5).item() == 2.5 and tg.Tensor(True).dtype == tg.bool
    assert tg.nn.Parameter(tg.ones(2)).shape == (2,)


def test_tensor_function_infers_dtype_like_torch_tensor():
    for data in ([1, 2], 3, 2.5, [True, False], [[1.0, 2.0]]):
        same(tg.tensor(data), torch.tensor(data))
    same(tg.ones(2).new_tensor(3), torch.ones(2).new_tensor(3))
    same(tg.ones(2, dtype=tg.long).new_tensor([1, 2]), torch.ones(2, dtype=torch.long).new_tensor([1, 2]))


def test_library_paths_that_take_python_data_keep_their_dtype():
    """Python numbers and lists passed where the library makes a tensor itself (x.copy_(...),
    where(...), masked_fill(list), x + list) are data, never sizes."""
    c = tg.tensor([True, False, True])
    same(tg.where(c, 1, 0), torch.where(torch.tensor([True, False, True]), 1, 0))
    same(tg.where(c, 1.0, 0.0), torch.where(torch.tensor([True, False, True]), 1.0, 0.0))
    x = tg.zeros(3)
    x.copy_(2)
    np.testing.assert_array_equal(x.numpy(), [2, 2, 2])
    np.testing.assert_array_equal(tg.zeros(3).masked_fill([True, False, True], 5).numpy(), [5, 0, 5])
    same(tg.tensor([1, 2]) + [3, 4], torch.tensor([1, 2]) + torch.tensor([3, 4]))


def test_library_helpers_take_python_numbers_and_lists_as_data():
    """Helpers in other modules that accept Python data where PyTorch wants a tensor (our extension) must
    build it with tg.tensor(...), never Tensor(...): Tensor(2) is a size and Tensor([0, 1]) is float32.
    Call sites: functions._t, nn.functional._as_tensor, data.dataset._as_array, testing.gradcheck."""
    np.testing.assert_allclose(tg.exp(2).item(), np.exp(2), rtol=1e-6)           # not exp(zeros(2))
    assert tg.nn.functional.relu(3).item() == 3
    loss = tg.nn.functional.cross_entropy(tg.zeros(2, 3), [0, 1])                 # list targets stay int64
    np.testing.assert_allclose(loss.item(), np.log(3), rtol=1e-6)
    ds = tg.utils.data.TensorDataset(tg.zeros(3, 2), [0, 1, 2])
    assert ds[2][1].dtype == tg.int64 and ds[2][1].item() == 2
    assert tg.gradcheck(lambda t: (t * t).sum(), [np.array([1.0, 2.0])])


# ----------------------------------------------------------------------------- 4. devices
@pytest.mark.parametrize("args", [("cuda:0",), ("cuda", 0), ("cuda",), ("cpu",), ("cpu", 0)])
def test_device_objects_like_torch(args):
    ours, ref = tg.device(*args), torch.device(*args)
    assert str(ours) == str(ref) and repr(ours) == repr(ref) and f"{ours}" == f"{ref}"
    assert ours.type == ref.type and ours.index == ref.index
    assert ours == ref.type                                  # ours is also the plain device-type string
    assert tg.device(tg.device(*args)).index == ref.index


def test_device_errors():
    with pytest.raises(ValueError, match="one device of each type"):
        tg.device("cuda:1")                                  # documented difference: one GPU per process
    with pytest.raises(ValueError, match="one device of each type"):
        tg.device("cuda", 1)
    raises_like_torch((RuntimeError, ValueError), lambda: tg.device("cuda", -1), lambda: torch.device("cuda", -1),
                      match="index must be an int >= 0")
    raises_like_torch((RuntimeError, ValueError), lambda: tg.device("gpu"), lambda: torch.device("gpu"))
    x = tg.ones(2)
    for f in (lambda: x.cuda(1), lambda: x.cuda(device=1), lambda: x.to("cuda:1"), lambda: x.cuda("cpu")):
        with pytest.raises(ValueError):                      # refused before any GPU is touched
            f()


def test_tensor_to_arguments_like_torch():
    a, b = tg.tensor([1.5, 2.5]), torch.tensor([1.5, 2.5])
    same(a.to(tg.tensor([1])), b.to(torch.tensor([1])))                 # to(other): its dtype and device
    same(a.to("cpu", non_blocking=True), b.to("cpu", non_blocking=True))
    raises_like_torch(TypeError, lambda: a.to("cpu", foo=1), lambda: b.to("cpu", foo=1), match="'foo'")
    c, d = a.to("cpu", copy=True), b.to("cpu", copy=True)
    assert c is not a and d is not b
    c[0], d[0] = 9.0, 9.0
    same(a, b)                                                           # the copy owns its memory
    assert a.to("cpu") is a and a.to(tg.float32) is a


@needs_cuda
def test_cuda_with_an_index_like_torch():
    x = tg.ones(2, requires_grad=True)
    for y in (x.cuda(0), x.cuda(device=0), x.to("cuda:0"), x.cuda("cuda:0"), x.to(tg.device("cuda", 0)),
              x.to(0)):
        assert y.device == "cuda" and str(y.device) == "cuda:0" and y.device.index == 0
        assert repr(y.device) == repr(torch.device("cuda", 0))   # torch's cuda tensors say cuda:0
    x.cuda(0).sum().backward()
    assert x.grad.device == "cpu" and x.grad.numpy().tolist() == [1.0, 1.0]
    net = tg.nn.Linear(2, 2).cuda(0)
    assert all(str(p.device) == "cuda:0" for p in net.parameters())
    assert "device='cuda:0'" in repr(tg.ones(1, device="cuda"))


def test_loaded_tensors_carry_a_device_object(tmp_path):
    tg.save({"w": tg.ones(2)}, tmp_path / "c.npz")
    d = tg.load(tmp_path / "c.npz")["w"].device
    assert isinstance(d, tg.device) and repr(d) == repr(torch.ones(1).device)


# ----------------------------------------------------------------------------- 5. grad modes
def _grad_mode_scenarios(lib):
    x = lib.ones(2, requires_grad=True)
    out = []
    lib.set_grad_enabled(False)
    out.append(((x * 2).requires_grad, lib.is_grad_enabled()))
    lib.set_grad_enabled(True)
    out.append(((x * 2).requires_grad, lib.is_grad_enabled()))
    lib.set_grad_enabled(mode=False)
    out.append(lib.is_grad_enabled())
    lib.set_grad_enabled(True)
    with lib.set_grad_enabled(False):
        out.append(((x * 2).requires_grad, lib.is_grad_enabled()))
    out.append(lib.is_grad_enabled())
    with lib.no_grad():
        with lib.set_grad_enabled(True):
            out.append((x * 2).requires_grad)
        out.append(lib.is_grad_enabled())

    @lib.set_grad_enabled(False)
    def f():
        return (x * 2).requires_grad, lib.is_grad_enabled()
    out.append((lib.is_grad_enabled(), f(), lib.is_grad_enabled()))
    with lib.inference_mode():
        out.append(((x * 2).requires_grad, lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
        with lib.enable_grad():
            out.append((x * 2).requires_grad)
        with lib.inference_mode(False):
            out.append(((x * 2).requires_grad, lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
    out.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
    with lib.no_grad():
        with lib.inference_mode(mode=False):
            out.append(((x * 2).requires_grad, lib.is_grad_enabled()))

    @lib.inference_mode()
    def g():
        return (x * 2).requires_grad, lib.is_inference_mode_enabled()

    @lib.inference_mode
    def h():
        return (x * 2).requires_grad, lib.is_inference_mode_enabled()

    @lib.no_grad
    def k():
        return (x * 2).requires_grad

    @lib.enable_grad
    def m():
        return (x * 2).requires_grad
    out.append((g(), h(), g.__name__, h.__name__, k(), k.__name__, m()))
    with lib.no_grad() as a, lib.set_grad_enabled(False) as b, lib.inference_mode() as c:
        out.append((a, b, c))
    out.append((lib.is_grad_enabled(), lib.is_inference_mode_enabled()))
    return out


def test_grad_modes_behave_like_torch():
    assert _grad_mode_scenarios(tg) == _grad_mode_scenarios(torch)


def test_grad_mode_argument_errors_like_torch():
    raises_like_torch(TypeError, lambda: tg.set_grad_enabled(1), lambda: torch.set_grad_enabled(1),
                      match="must be bool")
    raises_like_torch(TypeError, lambda: tg.set_grad_enabled(), lambda: torch.set_grad_enabled())
    assert tg.is_grad_enabled() and torch.is_grad_enabled()
    with pytest.raises(TypeError, match="must be bool"):
        tg.inference_mode("yes")


def test_grad_modes_restore_after_an_exception():
    for lib in (tg, torch):
        with pytest.raises(KeyError):
            with lib.inference_mode():
                raise KeyError
        with pytest.raises(KeyError):
            with lib.set_grad_enabled(False):
                raise KeyError
        assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()


# ----------------------------------------------------------------------------- 6. named results
A = np.array([[1.0, 3.0, 2.0], [4.0, 0.0, 5.0]], np.float32)


@pytest.mark.parametrize("name,args,kwargs", [
    ("max", (), {"dim": 1}), ("max", (0,), {"keepdim": True}), ("min", (1,), {}), ("min", (), {"dim": -1}),
    ("sort", (), {}), ("sort", (0,), {"descending": True}), ("topk", (2,), {}), ("topk", (1,), {"dim": 0}),
])
def test_values_indices_named_tuples_like_torch(name, args, kwargs):
    ours = getattr(tg.tensor(A, requires_grad=True), name)(*args, **kwargs)
    ref = getattr(torch.tensor(A, requires_grad=True), name)(*args, **kwargs)
    assert type(ours).__name__ == type(ref).__name__ == name
    assert isinstance(ours, tuple) and len(ours) == 2
    same(ours.values, ref.values)
    same(ours.indices, ref.indices)
    v, i = ours
    assert v is ours.values and i is ours.indices and ours[0] is v
    assert repr(ours).startswith(f"tinygrad_zh.return_types.{name}(\nvalues=tensor(")


def test_named_tuple_values_carry_the_gradient_like_torch():
    grads = []
    for lib in (tg, torch):
        x = lib.tensor(A, requires_grad=True)
        r = x.max(dim=1)
        (r.values * lib.tensor([1.0, 2.0])).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_named_tuples_from_functions_and_0d():
    assert type(tg.max(tg.tensor(A), 1)).__name__ == type(torch.max(torch.tensor(A), 1)).__name__
    r, t = tg.tensor(2.0).max(0), torch.tensor(2.0).max(0)
    same(r.values, t.values)
    same(r.indices, t.indices)
    assert tg.return_types.max is type(tg.tensor(A).max(0))


# ----------------------------------------------------------------------------- 7. saving a whole Module
def test_saving_a_whole_module_asks_for_its_state_dict(tmp_path):
    net = tg.nn.Sequential(tg.nn.Linear(2, 3))
    opt = tg.optim.SGD(net.parameters(), lr=0.1)
    for obj in (net, {"model": net, "epoch": 3}, opt):
        path = tmp_path / "whole.ckpt"
        with pytest.raises(TypeError, match=r"state_dict\(\)") as e:
            tg.save(obj, path)
        assert "load_state_dict" in str(e.value) and ("SGD" if obj is opt else "Sequential") in str(e.value)
        assert not path.exists() and os.listdir(tmp_path) == []          # nothing half-written
    tg.save(net.state_dict(), tmp_path / "ok.ckpt")                       # the suggested fix works
    net2 = tg.nn.Sequential(tg.nn.Linear(2, 3))
    net2.load_state_dict(tg.load(tmp_path / "ok.ckpt"))
    np.testing.assert_array_equal(net2[0].weight.numpy(), net[0].weight.numpy())


# ----------------------------------------------------------------------------- 8. parameter order
def _reassigned(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(2, 3)
            self.out = lib.nn.Linear(3, 1)
            self.scale = lib.nn.Parameter(lib.ones(1))
            self.register_buffer("stat", lib.zeros(1))

    net = Net()
    net.fc.weight = lib.nn.Parameter(lib.zeros(3, 2))
    net.scale = lib.nn.Parameter(lib.ones(1) * 2)
    net.fc = lib.nn.Linear(2, 3)                         # a replaced child module keeps its place too
    net.out.bias = lib.nn.Parameter(lib.zeros(1))
    return ([n for n, _ in net.named_parameters()], list(net.state_dict()), [n for n, _ in net.named_children()])


def test_reassigned_parameters_and_modules_keep_their_place_like_torch():
    assert _reassigned(tg) == _reassigned(torch)
    lin, ref = tg.nn.Linear(2, 3), torch.nn.Linear(2, 3)
    lin.weight = tg.nn.Parameter(tg.zeros(3, 2))
    ref.weight = torch.nn.Parameter(torch.zeros(3, 2))
    assert list(lin.state_dict()) == list(ref.state_dict()) == ["weight", "bias"]
    assert lin.weight.numpy().sum() == 0


# ----------------------------------------------------------------------------- 9. Size
@pytest.mark.parametrize("dims", [[2, 3], [], [5], [2, 0, 4]])
def test_size_like_torch(dims):
    ours, ref = tg.Size(dims), torch.Size(dims)
    assert repr(ours) == repr(ref) and str(ours) == str(ref)
    assert ours.numel() == ref.numel() and ours == ref == tuple(dims) and len(ours) == len(ref)
    assert type(ours[1:]).__name__ == type(ref[1:]).__name__ == "Size"
    assert type(ours + (7,)).__name__ == type(ref + (7,)).__name__ == "Size"
    assert type((7,) + ours).__name__ == type((7,) + ref).__name__ == "Size"
    assert tuple(ours + (7,)) == tuple(ref + (7,)) and tuple((7,) + ours) == tuple((7,) + ref)
    assert tg.zeros(ours).shape == tuple(torch.zeros(ref).shape)


def test_size_method_returns_a_size_like_torch():
    x, y = tg.zeros(2, 3), torch.zeros(2, 3)
    assert repr(x.size()) == repr(y.size()) and str(x.size()) == str(y.size())
    assert x.size() == y.size() and x.size().numel() == y.size().numel() and x.size(-1) == y.size(-1)
    assert isinstance(x.size(), tg.Size) and isinstance(x.size(), tuple)
    assert tg.Size([np.int64(2), tg.tensor(3)]) == torch.Size([np.int64(2), torch.tensor(3)])
    assert f"{x.size()}" == "(2, 3)"     # our f-strings keep the tuple form (used in error messages)


def test_size_errors_like_torch():
    raises_like_torch(TypeError, lambda: tg.Size([2.5]), lambda: torch.Size([2.5]), match="item 0 is 'float'")
    raises_like_torch(TypeError, lambda: tg.Size(3), lambda: torch.Size(3))


# ---------------------------------------------------------------------------- rng state, torch.backends, Variable

def test_rng_state_round_trip():
    state = tg.get_rng_state()
    a = tg.rand(3)
    tg.set_rng_state(state)
    np.testing.assert_array_equal(tg.rand(3).numpy(), a.numpy())


def test_backends_say_there_is_no_cudnn_or_mps_and_keep_the_switches():
    assert tg.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert tg.backends.cudnn.is_available() is False
    assert tg.backends.cudnn.benchmark is torch.backends.cudnn.benchmark is False
    try:
        tg.backends.cudnn.benchmark = True
        assert tg.backends.cudnn.benchmark is True
    finally:
        tg.backends.cudnn.benchmark = False
    assert tg.backends.cuda.is_built() is tg.cuda.is_available()


def test_variable_is_a_leaf_tensor_sharing_memory_as_in_pytorch():
    from torch.autograd import Variable as TV
    from tinygrad_zh.autograd import Variable
    for m, V in ((tg, Variable), (torch, TV)):
        x = m.ones(2)
        v = V(x, requires_grad=True)
        assert v is not x and v.requires_grad and v.is_leaf and isinstance(x, V)
        (v * v).sum().backward()
        np.testing.assert_array_equal(v.grad.numpy(), [2.0, 2.0])
        with m.no_grad():
            v.add_(1.0)
        assert x[0].item() == 2.0                    # same memory as x
        assert V(x).requires_grad is False
    with pytest.raises(TypeError, match="has to be a tensor"):
        Variable([1.0])
    with pytest.warns(UserWarning, match="volatile"):
        Variable(tg.ones(1), volatile=True)


# ---------------------------------------------------------------------------- error types
ERRORS = {
    "matmul shapes": lambda m: m.ones(2, 3) @ m.ones(2, 3),
    "broadcast": lambda m: m.ones(2, 3) + m.ones(2, 4),
    "reshape": lambda m: m.ones(2, 3).reshape(4, 2),
    "view": lambda m: m.ones(2, 3).view(5),
    "cat": lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]),
    "stack": lambda m: m.stack([m.ones(2), m.ones(3)]),
    "item of many": lambda m: m.ones(2).item(),
    "linear features": lambda m: m.nn.Linear(3, 2)(m.ones(1, 4)),
    "conv channels": lambda m: m.nn.Conv2d(3, 2, 3)(m.ones(1, 4, 5, 5)),
    "backward of non-scalar": lambda m: m.ones(2, requires_grad=True).mul(2).backward(),
    "index out of range": lambda m: m.ones(2)[5],
    "dim out of range": lambda m: m.ones(2).sum(3),
    "load_state_dict missing keys": lambda m: m.nn.Linear(2, 2).load_state_dict({}),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_caught_by_the_except_clause_written_for_pytorch(name):
    with pytest.raises(Exception) as expected:
        ERRORS[name](torch)
    with pytest.raises(Exception) as got:
        ERRORS[name](tg)
    assert isinstance(got.value, type(expected.value)), (
        f"{name}: PyTorch raises {type(expected.value).__name__}, we raise {type(got.value).__name__} "
        f"({got.value}), which `except {type(expected.value).__name__}:` would not catch")
    if isinstance(got.value, tg.errors.TensorError):
        assert isinstance(got.value, ValueError)             # and Python's spelling still works


# ---------------------------------------------------------------------------- x.shape, out=
def test_shape_prints_as_torch_size():
    for m in (tg, torch):
        x = m.ones(2, 3)
        assert x.shape == (2, 3) and x.shape[1] == 3 and x.shape[-1:] == (3,)
    assert str(tg.ones(2, 3).shape) == str(torch.ones(2, 3).shape) == "torch.Size([2, 3])"
    assert repr(tg.ones(5).shape) == repr(torch.ones(5).shape)
    assert isinstance(tg.ones(2).shape, tg.Size) and tg.ones(2, 3).shape.numel() == 6
    assert f"{tg.ones(2, 3).shape}" == "(2, 3)"          # documented difference (error messages stay short)


OUT_CASES = {
    "matmul": lambda m, out: m.matmul(m.ones(2, 3), m.ones(3, 2), out=out),
    "mul": lambda m, out: m.mul(m.ones(2, 2), 3.0, out=out),
    "add": lambda m, out: m.add(m.ones(2, 2), m.ones(2, 2), out=out),
    "exp": lambda m, out: m.exp(m.zeros(2, 2), out=out),
    "mm": lambda m, out: m.mm(m.ones(2, 3), m.ones(3, 2), out=out),
    "cat": lambda m, out: m.cat([m.ones(1, 2), m.zeros(1, 2)], 0, out=out),
    "stack": lambda m, out: m.stack([m.ones(2), m.zeros(2)], out=out),
}


@pytest.mark.parametrize("name", sorted(OUT_CASES))
def test_out_writes_into_the_given_tensor_as_pytorch(name):
    res = {}
    for m in (tg, torch):
        out = m.full((2, 2), -1.0)
        view = out.view(4)
        r = OUT_CASES[name](m, out)
        assert r is out
        res[m.__name__] = (out.numpy().copy(), view.numpy().copy())
    np.testing.assert_allclose(res["tinygrad_zh"][0], res["torch"][0])
    np.testing.assert_allclose(res["tinygrad_zh"][1], res["torch"][1])     # views see the write


def test_out_refuses_autograd_wrong_dtype_and_resizes_like_pytorch():
    a = tg.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"out=\.\.\. arguments don't support automatic differentiation"):
        tg.mul(a, a, out=tg.zeros(2, 2))
    with tg.no_grad():
        o = tg.zeros(2, 2)
        assert tg.mul(a, a, out=o) is o and not o.requires_grad
    with pytest.raises(RuntimeError, match="can't be cast"):
        tg.add(tg.ones(2, 2), 1, out=tg.zeros(2, 2, dtype=tg.int64))
    o = tg.zeros(2, 2, dtype=tg.float64)
    tg.add(tg.ones(2, 2, dtype=tg.int64), 1, out=o)
    assert o.dtype == tg.float64 and o.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with pytest.warns(UserWarning, match="resized"):
        o = tg.zeros(3)
        tg.add(tg.ones(2, 2), 1, out=o)
    assert o.shape == (2, 2)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        o = tg.zeros(0)
        tg.add(tg.ones(2, 2), 1, out=o)                    # an empty out is resized silently
    assert o.shape == (2, 2)
    with pytest.raises(TypeError, match="'out' must be a Tensor"):
        tg.exp(tg.ones(2), out=np.zeros(2))


def test_as_torch_resolves_torch_backends(tmp_path):
    import subprocess
    import sys
    prog = tmp_path / "prog.py"
    prog.write_text("import torch\nimport torch.backends\nfrom torch.backends import cudnn\n"
                    "cudnn.benchmark = True\n"
                    "print(type(torch.ones(1)).__module__, torch.backends.mps.is_available(), "
                    "torch.backends.cudnn.benchmark)\n")
    out = subprocess.run([sys.executable, "-m", "tinygrad_zh.as_torch", str(prog)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["tinygrad_zh.tensor", "False", "True"]

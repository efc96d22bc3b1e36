"""The torch.* names learners use, compared with PyTorch itself (values, dtypes, shapes, errors)."""
import subprocess
import sys

import numpy as np
import pytest
import torch

import tinygrad_zh as tg

pytestmark = pytest.mark.core

RNG = np.random.default_rng(7)
A = RNG.standard_normal((3, 4))


def close(ours, ref, tol=1e-6):
    if isinstance(ref, (tuple, list)):
        for o, r in zip(ours, ref):
            close(o, r, tol)
        return
    o = ours.numpy() if isinstance(ours, tg.Tensor) else np.asarray(ours)
    r = ref.detach().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert o.shape == r.shape, (o.shape, r.shape)
    np.testing.assert_allclose(o, r, rtol=tol, atol=tol)


@pytest.mark.parametrize("name,args,kwargs", [
    ("exp", (), {}), ("log", (), {}), ("sqrt", (), {}), ("sin", (), {}), ("cos", (), {}),
    ("tanh", (), {}), ("sigmoid", (), {}), ("relu", (), {}), ("abs", (), {}), ("square", (), {}),
    ("sum", (), {}), ("sum", (1,), {"keepdim": True}), ("mean", (), {"dim": 0}),
    ("max", (), {}), ("amax", (1,), {}), ("argmax", (), {"dim": 1}), ("logsumexp", (1,), {}),
    ("std", (1,), {}), ("var", (), {"dim": 1, "correction": 0}), ("prod", (1,), {}),
    ("cumsum", (1,), {}), ("softmax", (1,), {}), ("log_softmax", (), {"dim": 0}),
    ("reshape", ((4, 3),), {}), ("flatten", (), {}), ("transpose", (0, 1), {}), ("t", (), {}),
    ("unsqueeze", (0,), {}), ("clamp", (), {"min": 0.1, "max": 0.5}), ("pow", (2,), {}),
    ("norm", (), {}),
])
def test_top_level_functions_match_pytorch(name, args, kwargs):
    x = tg.tensor(np.abs(A) + 0.1, dtype="float64")
    t = torch.tensor(np.abs(A) + 0.1)
    close(getattr(tg, name)(x, *args, **kwargs), getattr(torch, name)(t, *args, **kwargs))
    close(getattr(x, name)(*args, **kwargs), getattr(t, name)(*args, **kwargs))


@pytest.mark.parametrize("call", [
    lambda m, x: m.matmul(x, x.T), lambda m, x: m.mm(x, x.T), lambda m, x: m.max(x, m.zeros_like(x)),
    lambda m, x: m.cat([x, x], 1), lambda m, x: m.stack([x, x]), lambda m, x: m.where(x > 0, x, 0.0 * x),
    lambda m, x: m.maximum(x, x * 0), lambda m, x: m.flatten(x), lambda m, x: m.exp(x).sum(),
])
def test_binary_and_list_functions_match_pytorch(call):
    close(call(tg, tg.tensor(A, dtype="float64")), call(torch, torch.tensor(A)))


def test_numpy_style_keyword_spellings_are_accepted():
    x, t = tg.tensor(A, dtype="float64"), torch.tensor(A)
    close(x.argmax(axis=1), t.argmax(axis=1))
    close(x.sum(axis=0, keepdims=True), t.sum(axis=0, keepdims=True))
    close(tg.sum(x, dim=1, keepdim=True), torch.sum(t, dim=1, keepdim=True))
    close(x.mean(axis=(0, 1)), t.mean(axis=(0, 1)))
    close(x.std(dim=1, correction=0), t.std(dim=1, correction=0))
    close(x.std(dim=1, unbiased=False), t.std(dim=1, unbiased=False))
    with pytest.raises(TypeError, match="both dim"):
        x.sum(dim=0, axis=1)


def test_dtype_names_and_type_conversions():
    for ours, ref in [(tg.float, torch.float), (tg.float32, torch.float32), (tg.double, torch.double),
                      (tg.long, torch.long), (tg.int, torch.int), (tg.int64, torch.int64),
                      (tg.half, torch.half), (tg.bool, torch.bool), (tg.uint8, torch.uint8)]:
        assert str(tg.ones(2, dtype=ours).dtype) == str(torch.ones(2, dtype=ref).dtype).replace("torch.", "")
    y = tg.tensor([1, 0, 1])
    assert (tg.tensor([0.9, 0.2, 0.7]) > 0.5).type(y.dtype).dtype == tg.int64
    assert (tg.ones(3) == 1).type(tg.float).sum().item() == 3.0
    assert tg.ones(2).type() == torch.ones(2).type() == "torch.FloatTensor"
    assert tg.ones(2, dtype=tg.long).type() == torch.ones(2, dtype=torch.long).type()


def test_factories_take_size_keyword_and_generator():
    assert tg.rand(size=(2, 3)).shape == (2, 3) and tg.zeros(size=(4,)).shape == (4,)
    assert tg.randn((2, 3)).shape == tg.randn([2, 3]).shape == tg.randn(2, 3).shape == (2, 3)
    g1, g2 = tg.Generator().manual_seed(5), tg.Generator().manual_seed(5)
    np.testing.assert_array_equal(tg.rand(3, generator=g1).numpy(), tg.rand(3, generator=g2).numpy())
    tg.manual_seed(0)
    a = tg.randn(3)
    tg.manual_seed(0)
    g = tg.Generator().manual_seed(123)
    tg.randn(5, generator=g)                       # a private generator leaves the global one alone
    np.testing.assert_array_equal(tg.randn(3).numpy(), a.numpy())
    assert tg.randperm(5, generator=tg.Generator().manual_seed(1)).dtype == tg.int64
    assert tg.randint(0, 10, (3,)).shape == (3,) and tg.randint(10, (2, 2)).shape == (2, 2)
    with pytest.raises(RuntimeError, match="negative dimension"):
        tg.zeros(-1)


def test_seeds_are_64_bit_as_in_pytorch():
    for s in (0, 7, 2 ** 64 - 1, -1, -2 ** 63, 1.5, "3", True):
        assert tg.manual_seed(s).initial_seed() == torch.manual_seed(s).initial_seed(), s
    tg.manual_seed(-1)
    a = tg.rand(3)
    tg.manual_seed(2 ** 64 - 1)                    # the same seed: the same numbers
    np.testing.assert_array_equal(tg.rand(3).numpy(), a.numpy())
    for s in (2 ** 64, -2 ** 63 - 1):
        with pytest.raises(ValueError, match=r"manual_seed: the seed must be within \[-2\*\*63, 2\*\*64 - 1\]"):
            tg.manual_seed(s)
        with pytest.raises(ValueError):
            torch.manual_seed(s)
    tg.manual_seed(0)


def test_normal_and_multinomial_follow_their_distributions():
    tg.manual_seed(0)
    x = tg.normal(1.0, 0.5, (20000,))
    assert x.dtype == tg.float32 and abs(x.mean().item() - 1.0) < 0.02 and abs(x.std().item() - 0.5) < 0.02
    x = tg.normal(0, 0.01, size=(3, 2))
    assert x.shape == (3, 2)
    probs = tg.tensor([0.1, 0.0, 0.9])
    s = tg.multinomial(probs, 4000, replacement=True)
    counts = np.bincount(s.numpy(), minlength=3) / 4000
    assert s.dtype == tg.int64 and counts[1] == 0 and abs(counts[2] - 0.9) < 0.03
    with pytest.raises(RuntimeError, match="without replacement"):
        tg.multinomial(probs, 3)


def test_from_numpy_shares_memory_and_keeps_dtype_like_pytorch():
    a = np.arange(3.0)
    x, t = tg.from_numpy(a), torch.from_numpy(a)
    assert x.dtype == tg.float64 and str(t.dtype) == "torch.float64"
    a[0] = 7.0
    assert x[0].item() == t[0].item() == 7.0
    assert tg.tensor(a).dtype == tg.float32          # our documented difference: tensor() makes float32


def test_device_cuda_and_accelerator_report_the_truth():
    d = tg.device("cuda:0")
    assert d.type == "cuda" and d.index == 0 and d == "cuda" and repr(tg.device("cpu")) == "device(type='cpu')"
    x = tg.ones(2)
    assert x.device == "cpu" and x.device.type == "cpu" and x.to(tg.device("cpu")) is x
    assert tg.cuda.is_available() == tg.cuda_available()
    assert tg.cuda.device_count() == (1 if tg.cuda_available() else 0)
    assert tg.accelerator.is_available() == tg.cuda_available()
    acc = tg.accelerator.current_accelerator()
    assert (acc is None) != tg.cuda_available() and (acc is None or acc.type == "cuda")
    with pytest.raises(ValueError, match="unknown device"):
        tg.device("tpu")


def test_format_of_zero_dim_tensors():
    t = tg.tensor(3.14159)
    assert f"{t:.2f}" == f"{torch.tensor(3.14159):.2f}" == "3.14"
    assert "{:.6f}".format(tg.tensor(0.5)) == "0.500000"
    assert f"{tg.ones(2)}" == repr(tg.ones(2))
    with pytest.raises(TypeError, match="0-d"):
        f"{tg.ones(2):.2f}"


def test_gather_and_scatter_add_match_pytorch_with_gradients():
    idx = np.array([[0, 1], [2, 2], [3, 0]])
    x, t = tg.tensor(A, dtype="float64", requires_grad=True), torch.tensor(A, requires_grad=True)
    src = RNG.standard_normal((3, 2))
    s, ts = tg.tensor(src, dtype="float64", requires_grad=True), torch.tensor(src, requires_grad=True)
    out = x.gather(1, tg.tensor(idx)) * 2 + x.scatter_add(1, tg.tensor(idx), s)[:, :2]
    tout = t.gather(1, torch.tensor(idx)) * 2 + t.scatter_add(1, torch.tensor(idx), ts)[:, :2]
    close(out, tout)
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    close(x.grad, t.grad)
    close(s.grad, ts.grad)
    assert tg.gradcheck(lambda a: a.gather(0, tg.tensor([[2, 0, 1, 1]])), [tg.tensor(A, dtype="float64",
                                                                                     requires_grad=True)])
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.gather(1, tg.tensor([[4]]))


def test_view_as_nelement_repeat_index_select_masked_fill():
    x, t = tg.tensor(A, dtype="float64"), torch.tensor(A)
    close(x.view_as(tg.zeros(4, 3)), t.view_as(torch.zeros(4, 3)))
    assert x.nelement() == t.nelement() == 12 and x.dim() == 2
    close(x.repeat(2, 1, 3), t.repeat(2, 1, 3))
    close(x.index_select(1, tg.tensor([3, 0])), t.index_select(1, torch.tensor([3, 0])))
    close(x.masked_fill(x > 0, -1.0), t.masked_fill(t > 0, -1.0))


def test_python_operators_follow_pytorch_promotion():
    x = tg.linspace(-1, 1, 5)
    p = tg.tensor([1, 2, 3])
    assert (x.unsqueeze(-1) ** p).dtype == tg.float32       # PyTorch: float32 ** int64 -> float32
    assert (tg.ones(3) + tg.tensor(2.0, dtype=tg.float64)).dtype == tg.float32


def test_save_load_accept_pytorch_keywords(tmp_path):
    sd = tg.nn.Linear(2, 3).state_dict()
    tg.save(sd, tmp_path / "m.pth")
    back = tg.load(tmp_path / "m.pth", weights_only=True, map_location=tg.device("cpu"))
    assert set(back) == set(sd)
    np.testing.assert_array_equal(back["weight"].numpy(), sd["weight"].numpy())


def test_as_torch_runs_a_pytorch_program_unchanged(tmp_path):
    prog = tmp_path / "prog.py"
    prog.write_text(
        "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "x = torch.randn(8, 3)\nnet = nn.Sequential(nn.Linear(3, 2))\n"
        "print(type(net).__module__, F.relu(x).shape, len(DataLoader(TensorDataset(x), batch_size=4)))\n")
    out = subprocess.run([sys.executable, "-m", "tinygrad_zh.as_torch", str(prog)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "tinygrad_zh.nn.containers" and "torch.Size([8, 3]) 2" in out.stdout
    bad = tmp_path / "bad.py"
    bad.write_text("import torch.fx\n")
    out = subprocess.run([sys.executable, "-m", "tinygrad_zh.as_torch", str(bad)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode != 0 and "tinygrad_zh has no tinygrad_zh.fx" in out.stderr


def test_requires_grad_setter_refuses_what_pytorch_refuses():
    t = tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        t.requires_grad = True
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).requires_grad = True
    assert not t.requires_grad
    y = tg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False
    w = tg.zeros(2)
    w.requires_grad = True
    assert w.requires_grad and w.is_leaf


def test_every_name_the_compat_page_lists_exists_both_ways():
    """docs/pytorch_compat.md lists names that are both torch.xxx(x) and x.xxx(): each must exist."""
    import pathlib
    import re
    page = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "pytorch_compat.md").read_text("utf-8")
    both = re.search(r"以下每个既是.*?：`([^`]+)`", page, re.S).group(1).split()
    assert len(both) > 60
    missing = [n for n in both if not hasattr(tg, n) or not hasattr(tg.Tensor, n)]
    assert not missing, f"listed on the compat page but missing: {missing}"
    for n in both:
        assert hasattr(torch, n) and hasattr(torch.Tensor, n), f"{n} is not a PyTorch name of both kinds"
    methods = re.search(r"方法另有 `([^`]+)`", page).group(1).split()
    assert not [n for n in methods if not hasattr(tg.Tensor, n)]

"""GPU 测试（需要 CuPy 与 NVIDIA GPU；没有时整个文件被跳过）。

* every fused kernel of ``tinygrad_zh.cuda`` vs its NumPy reference, float32 and float64;
* forward values and gradients on ``cuda`` vs ``cpu`` for a list of ops and for every layer
  of ``tg.nn`` that exists (Linear, Embedding, LSTM, Conv2d, MaxPool2d, LayerNorm, BatchNorm);
* a model moved with ``.cuda()`` trained one Adam / AdamW step, compared with the same on CPU;
* ``tg.save`` of CUDA tensors, ``tg.load(..., map_location='cpu')``.

Run with ``pytest -m cuda``.
"""
import importlib
import pathlib

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.nn.functional as F
from tinygrad_zh import backend
from tinygrad_zh.cuda import reference as ref

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not backend.cuda_available(), reason="needs CuPy and an NVIDIA GPU")]

cp = backend.require_cuda() if backend.cuda_available() else None
DTYPES = (np.float32, np.float64)


def close(gpu, expected, dtype, what, scale=1.0):
    """Compare a CuPy (or NumPy) result with a NumPy reference, with a dtype-dependent tolerance."""
    got = cp.asnumpy(gpu) if cp is not None and isinstance(gpu, cp.ndarray) else np.asarray(gpu)
    assert got.dtype == np.dtype(dtype), f"{what}: dtype {got.dtype}, expected {np.dtype(dtype)}"
    tol = dict(rtol=1e-4, atol=1e-5 * scale) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12 * scale)
    np.testing.assert_allclose(got, expected, err_msg=what, **tol)


def g(a):
    return cp.asarray(a)


# ----------------------------------------------------------------------------- kernels vs references
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_cell_kernels(rng, dtype):
    B, H = 7, 33
    A = (rng.standard_normal((B, 4 * H)) * 3).astype(dtype)
    c_prev, dh, dc = rng.standard_normal((3, B, H)).astype(dtype)
    out = tg.cuda.lstm_cell_forward(g(A), g(c_prev))
    expect = ref.lstm_cell_forward(A, c_prev)
    for name, a, b in zip(("h", "c", "gates", "tanh_c"), out, expect):
        close(a, b, dtype, f"lstm_cell_forward {name}")
    for gh, gc in [(dh, dc), (dh, None), (None, dc)]:
        dA, dc_prev = tg.cuda.lstm_cell_backward(out[2], g(c_prev), out[3], None if gh is None else g(gh),
                                                 None if gc is None else g(gc))
        rdA, rdc = ref.lstm_cell_backward(expect[2], c_prev, expect[3], gh, gc)
        close(dA, rdA, dtype, "lstm_cell_backward dA")
        close(dc_prev, rdc, dtype, "lstm_cell_backward dc_prev")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("N, C", [(5, 1), (9, 3), (4, 300), (300, 1000)])
def test_softmax_ce_kernels(rng, dtype, N, C):
    x = (rng.standard_normal((N, C)) * 4).astype(dtype)
    x[0] += 1e4
    t = rng.integers(0, C, N)
    t[-1] = -100
    loss, lse = tg.cuda.softmax_ce_forward(g(x), g(t))
    rloss, rlse = ref.softmax_ce_forward(x, t)
    close(loss, rloss, dtype, "softmax_ce loss", scale=1e3)
    close(lse, rlse, dtype, "softmax_ce lse", scale=1e4)
    lse_host = cp.asnumpy(lse)
    for scale in (1.0 / N, rng.standard_normal(N).astype(dtype)):
        sc = scale if np.isscalar(scale) else g(scale)
        grad = tg.cuda.softmax_ce_backward(g(x), g(t), lse, sc)
        close(grad, ref.softmax_ce_backward(x, t, lse_host, scale), dtype, "softmax_ce grad")


def test_softmax_ce_rejects_bad_targets():
    with pytest.raises(IndexError, match="out of range"):
        tg.cuda.softmax_ce_forward(cp.zeros((2, 3), np.float32), cp.asarray([0, 5]))
    with pytest.raises(TypeError, match="CuPy arrays"):
        tg.cuda.softmax_ce_forward(np.zeros((2, 3), np.float32), cp.asarray([0, 1]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ref.ACTIVATIONS)
def test_activation_kernels(rng, name, dtype):
    x = (rng.standard_normal((37, 29)) * 3).astype(dtype)
    x[0, :3] = [0, 60, -60]
    y = tg.cuda.activation_forward(name, g(x).T)          # non-contiguous input
    close(y, ref.activation_forward(name, x.T), dtype, f"{name} forward")
    gy = rng.standard_normal(x.shape).astype(dtype)
    ry = ref.activation_forward(name, x)
    gx = tg.cuda.activation_backward(name, g(gy), x=g(x), y=g(ry))
    close(gx, ref.activation_backward(name, gy, x=x, y=ry), dtype, f"{name} backward")


def test_activation_grid_stride_covers_large_arrays():
    from tinygrad_zh.cuda import launch
    n = launch.MAX_BLOCKS * launch.BLOCK + 1000            # more items than threads in the grid
    x = cp.linspace(-1, 1, n, dtype=cp.float32)
    y = tg.cuda.activation_forward("relu", x)
    assert bool((y == cp.maximum(x, 0)).all())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay, decoupled", [(0.0, False), (0.01, False), (0.01, True)])
def test_adam_kernel(rng, dtype, weight_decay, decoupled):
    p0 = rng.standard_normal((64, 33)).astype(dtype)
    p, m, v = g(p0), cp.zeros(p0.shape, dtype), cp.zeros(p0.shape, dtype)
    rp, rm, rv = p0, np.zeros_like(p0), np.zeros_like(p0)
    for step in (1, 2, 3):
        grad = rng.standard_normal(p0.shape).astype(dtype)
        gg = g(grad)
        tg.cuda.adam_update(p, gg, m, v, 1e-3, 0.9, 0.999, 1e-8, weight_decay, step, decoupled)
        rp, rm, rv = ref.adam_step(rp, grad, rm, rv, 1e-3, 0.9, 0.999, 1e-8, weight_decay, step, decoupled)
        assert np.array_equal(cp.asnumpy(gg), grad), "adam_update modified the gradient"
    close(p, rp, dtype, "param")
    close(m, rm, dtype, "exp_avg")
    close(v, rv, dtype, "exp_avg_sq")


GEOMETRIES = [((2, 3, 9, 8), 3, 1, 1), ((1, 2, 7, 5), (3, 2), (2, 1), (1, 0)), ((4, 8, 16, 16), 2, 2, 0)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, k, s, p", GEOMETRIES)
def test_im2col_col2im_kernels(rng, dtype, shape, k, s, p):
    x = rng.standard_normal(shape).astype(dtype)
    col = tg.cuda.im2col(g(x), k, s, p)
    close(col, ref.im2col(x, k, s, p), dtype, "im2col")
    y = rng.standard_normal(col.shape).astype(dtype)
    close(tg.cuda.col2im(g(y), shape, k, s, p), ref.col2im(y, shape, k, s, p), dtype, "col2im")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, k, s, p", GEOMETRIES)
def test_maxpool_kernels(rng, dtype, shape, k, s, p):
    x = rng.integers(-3, 4, shape).astype(dtype)          # ties: the first maximum wins
    out, idx = tg.cuda.maxpool_forward(g(x), k, s, p)
    rout, ridx = ref.maxpool_forward(x, k, s, p)
    close(out, rout, dtype, "maxpool out")
    np.testing.assert_array_equal(cp.asnumpy(idx), ridx)
    gy = rng.standard_normal(rout.shape).astype(dtype)
    close(tg.cuda.maxpool_backward(g(gy), idx, shape, k, s, p),
          ref.maxpool_backward(gy, ridx, shape, k, s, p), dtype, "maxpool backward")


# ----------------------------------------------------------------------------- ops: cuda vs cpu
def _idx(device):
    return tg.tensor([0, 2, 0], device=device)


OPS = [  # (name, function of Tensors, input shapes)
    ("add_broadcast", lambda a, b: a + b, [(3, 4), (4,)]),
    ("sub", lambda a, b: a - b, [(3, 4), (3, 1)]),
    ("mul", lambda a, b: a * b, [(2, 3, 4), (3, 4)]),
    ("div", lambda a, b: a / (b * b + 1), [(3, 4), (3, 4)]),
    ("pow", lambda a: (a * a + 0.5) ** 1.5, [(3, 4)]),
    ("exp_log", lambda a: a.exp() + (a * a + 1).log(), [(3, 4)]),
    ("tanh_sigmoid", lambda a: a.tanh() * a.sigmoid(), [(3, 4)]),
    ("relu_gelu", lambda a: a.relu() + a.gelu(), [(3, 4)]),
    ("sum_mean", lambda a: a.sum(1) + a.mean(0).sum(), [(3, 4)]),
    ("max_dim", lambda a: a.max(1)[0], [(3, 4)]),
    ("amax", lambda a: a.amax(0), [(3, 4)]),
    ("var", lambda a: a.var(0), [(5, 4)]),
    ("logsumexp", lambda a: a.logsumexp(1), [(3, 4)]),
    ("matmul_batched", lambda a, b: a @ b, [(2, 3, 4), (4, 5)]),
    ("matmul_2d", lambda a, b: a @ b, [(3, 4), (4, 2)]),
    ("getitem_slice", lambda a: a[:, 1:3], [(3, 4)]),
    ("getitem_index", lambda a: a[_idx(a.device)], [(3, 4)]),
    ("reshape_permute", lambda a: a.reshape(4, 3).permute(1, 0), [(3, 4)]),
    ("cat_stack", lambda a, b: tg.cat([a, b], 0) * 2 + tg.stack([a, b], 0).reshape(4, 4), [(2, 4), (2, 4)]),
    ("softmax", lambda a: a.softmax(1), [(3, 5)]),
    ("log_softmax", lambda a: a.log_softmax(1), [(3, 5)]),
    ("cross_entropy", lambda a: tg.nn.functional.cross_entropy(a, tg.tensor([0, 4, 2], device=a.device)),
     [(3, 5)]),
]


def _run(fn, arrays, device, dtype, weights):
    ts = [tg.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in arrays]
    out = fn(*ts)
    outs = _flatten(out)
    loss = None
    for o, w in zip(outs, weights(outs)):
        if o.dtype.kind != "f":
            continue
        term = (o * tg.tensor(w, dtype=o.dtype, device=device)).sum()
        loss = term if loss is None else loss + term
    if loss is not None and loss.requires_grad:
        loss.backward()
    return [o.numpy() for o in outs], [None if t.grad is None else t.grad.numpy() for t in ts]


def _flatten(out):
    if isinstance(out, tg.Tensor):
        return [out]
    return [t for o in out for t in _flatten(o)]


def _weights(rng):
    cache = []

    def make(outs):
        if not cache:
            cache.extend(rng.standard_normal(o.shape) for o in outs)
        return cache
    return make


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, fn, shapes", OPS, ids=[o[0] for o in OPS])
def test_op_cuda_matches_cpu(rng, name, fn, shapes, dtype):
    arrays = [rng.standard_normal(s) for s in shapes]
    w = _weights(rng)
    cpu_out, cpu_grads = _run(fn, arrays, "cpu", dtype, w)
    gpu_out, gpu_grads = _run(fn, arrays, "cuda", dtype, w)
    dt = np.dtype(dtype).type
    for i, (a, b) in enumerate(zip(gpu_out, cpu_out)):
        close(a, b, dt, f"{name}: output {i}")
    for i, (a, b) in enumerate(zip(gpu_grads, cpu_grads)):
        assert (a is None) == (b is None), f"{name}: gradient {i} present on one device only"
        if a is not None:
            close(a, b, dt, f"{name}: gradient of input {i}")


# ----------------------------------------------------------------------------- layers: cuda vs cpu
def _layer_class(name):
    cls = getattr(tg.nn, name, None)
    for mod in ("conv", "rnn", "norm", "embedding", "linear"):
        if cls is not None:
            break
        try:
            cls = getattr(importlib.import_module(f"tinygrad_zh.nn.{mod}"), name, None)
        except ImportError:
            pass
    return cls


LAYERS = [  # (class name, constructor args, input shape or ("int", shape, high))
    ("Linear", (4, 3), (5, 4)),
    ("Embedding", (10, 4), ("int", (3, 5), 10)),
    ("LSTM", (4, 6, 2), (5, 3, 4)),
    ("Conv2d", (2, 3, 3, 1, 1), (2, 2, 6, 6)),
    ("MaxPool2d", (2,), (2, 3, 6, 6)),
    ("LayerNorm", (4,), (3, 4)),
    ("BatchNorm1d", (4,), (6, 4)),
    ("BatchNorm2d", (3,), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("name, args, shape", LAYERS, ids=[x[0] for x in LAYERS])
def test_layer_cuda_matches_cpu(rng, name, args, shape):
    cls = _layer_class(name)
    if cls is None:
        pytest.skip(f"tg.nn.{name} does not exist yet")
    tg.manual_seed(0)
    cpu = cls(*args)
    gpu = cls(*args)
    gpu.load_state_dict(cpu.state_dict())
    gpu.cuda()
    assert all(p.device == "cuda" for p in gpu.parameters())
    if shape[0] == "int":
        x = rng.integers(0, shape[2], shape[1])
        xs = {d: tg.tensor(x, device=d) for d in ("cpu", "cuda")}
    else:
        x = rng.standard_normal(shape)
        xs = {d: tg.tensor(x, dtype="float32", device=d, requires_grad=True) for d in ("cpu", "cuda")}
    outs = {}
    w = _weights(rng)
    for d, layer in (("cpu", cpu), ("cuda", gpu)):
        o = _flatten(layer(xs[d]))
        sum(((t * tg.tensor(wi, dtype=t.dtype, device=d)).sum() for t, wi in zip(o, w(o))),
            tg.tensor(0.0, device=d)).backward()
        outs[d] = [t.numpy() for t in o]
    for i, (a, b) in enumerate(zip(outs["cuda"], outs["cpu"])):
        close(a, b, np.float32, f"{name}: output {i}")
    if xs["cpu"].requires_grad:
        close(xs["cuda"].grad.numpy(), xs["cpu"].grad.numpy(), np.float32, f"{name}: input gradient")
    for (n, pc), (_, pg) in zip(cpu.named_parameters(), gpu.named_parameters()):
        close(pg.grad.numpy(), pc.grad.numpy(), np.float32, f"{name}: gradient of {n}")
    for (n, bc), (_, bg) in zip(cpu.state_dict().items(), gpu.state_dict().items()):
        close(bg.numpy(), bc.numpy(), bc.numpy().dtype.type, f"{name}: state {n} after forward")


# ----------------------------------------------------------------------------- training, save/load
@pytest.mark.parametrize("opt_name", ["Adam", "AdamW"])
def test_model_cuda_adam_step_matches_cpu(rng, opt_name, monkeypatch):
    nn = tg.nn
    calls = []
    adam_mod = importlib.import_module("tinygrad_zh.optim.adam")
    if hasattr(adam_mod, "_cuda_adam"):          # count the fused kernel calls
        def counting(*a, **k):
            calls.append(1)
            return tg.cuda.adam_update(*a, **k)
        monkeypatch.setattr(adam_mod, "_cuda_adam", counting)
    tg.manual_seed(0)
    cpu = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    gpu = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    gpu.load_state_dict(cpu.state_dict())
    gpu.cuda()
    x, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    models = {"cpu": cpu, "cuda": gpu}
    opt_cls = getattr(tg.optim, opt_name)
    opts = {d: opt_cls(m.parameters(), lr=1e-2, weight_decay=0.05) for d, m in models.items()}
    for _ in range(3):
        for d, m in models.items():
            opts[d].zero_grad()
            logits = m(tg.tensor(x, dtype="float32", device=d))
            loss = nn.functional.cross_entropy(logits, tg.tensor(y, device=d))
            loss.backward()
            opts[d].step()
    for (n, a), (_, b) in zip(cpu.state_dict().items(), gpu.state_dict().items()):
        assert b.device == "cuda"
        close(b.numpy(), a.numpy(), np.float32, f"{opt_name}: {n} after 3 steps", scale=10)
    if hasattr(adam_mod, "_cuda_adam"):
        assert len(calls) == 3 * len(list(gpu.parameters())), "the fused Adam kernel was not used"


def test_save_cuda_load_cpu(tmp_path):
    tg.manual_seed(0)
    m = tg.nn.Linear(3, 2).cuda()
    path = tmp_path / "linear.tg"
    tg.save(m.state_dict(), path)
    sd = tg.load(path, map_location="cpu")
    assert set(sd) == set(m.state_dict())
    for k, v in m.state_dict().items():
        assert sd[k].device == "cpu" and isinstance(sd[k].array, np.ndarray)
        np.testing.assert_array_equal(sd[k].numpy(), v.numpy())
    back = tg.load(path)                           # default: back to the device it was saved from
    assert all(t.device == "cuda" for t in back.values())


def test_page_08_runs_its_gpu_code_on_cuda(tmp_path):
    """docs/08_gpu.md's code takes its ``if tg.cuda_available():`` branch here (on the simulator
    without a GPU): the sigmoid and its gradient run on device arrays and match the CPU."""
    import sys
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    from test_docs import DOCS, run_page
    ns = run_page(DOCS / "08_gpu.md", tmp_path)
    assert ns["yc"].device == "cuda" and type(ns["yc"].array).__module__ == "cupy"
    assert ns["xc"].grad is not None and ns["xc"].grad.device == "cuda"


def test_moving_a_tensor_between_devices_is_part_of_the_graph_like_torch():
    """``y = x.to('cuda')`` of a tensor that requires grad is a node (as in PyTorch): the gradient is
    copied back to x's device. It used to give a new leaf (leaf x) or drop the graph (non-leaf x), so
    the gradient silently never reached x."""
    w = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    for make in (lambda: w, lambda: w * 2.0):                  # a leaf and a non-leaf
        w.grad = None
        x = make()
        y = x.to("cuda")
        assert y.device == "cuda" and y.requires_grad and not y.is_leaf and y.grad_fn is not None
        back = (y * y).to("cpu")                              # and back again: two device nodes
        assert back.device == "cpu" and back.requires_grad
        back.sum().backward()
        assert w.grad.device == "cpu"
        scale = 1.0 if x is w else 4.0                        # d/dw Σ (2w)² = 8w = 4·(2w)
        np.testing.assert_allclose(w.grad.numpy(), 2 * scale * w.detach().numpy())
    with tg.no_grad():
        assert not w.to("cuda").requires_grad
    leaf = tg.tensor([1.0], requires_grad=True).to("cuda")   # torch: a non-leaf; .grad is not kept
    assert not leaf.is_leaf


def test_recorded_in_place_on_a_view_on_cuda_matches_cpu():
    def run(device):
        x = tg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5, requires_grad=True)
        y = x.to(device) * 2.0
        y.reshape(-1)[1:3] = 0.0                  # through a view of a non-leaf (d2l's masked softmax)
        (y * y).sum().backward()
        return x.grad.numpy()
    np.testing.assert_allclose(run("cuda"), run("cpu"))
    np.testing.assert_allclose(run("cpu")[0], [-20.0, 0.0, 0.0])      # d(2x)²/dx = 8x; zeroed: 0


def test_conv_transpose2d_and_conv1d_on_cuda_match_cpu():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 5)).astype(np.float32)
    w = rng.standard_normal((3, 4, 3, 3)).astype(np.float32)
    w1 = rng.standard_normal((4, 3, 3)).astype(np.float32)
    res = []
    for device in ("cpu", "cuda"):
        xt, wt, w1t = (tg.tensor(a, requires_grad=True) for a in (x, w, w1))
        y = F.conv_transpose2d(xt.to(device), wt.to(device), stride=2, padding=1)
        z = F.conv1d(xt.to(device)[:, :, :, 0], w1t.to(device), padding=1)
        ((y * y).sum() + (z * z).sum()).backward()
        res.append([y.to("cpu").numpy(), z.to("cpu").numpy(), xt.grad.numpy(), wt.grad.numpy(), w1t.grad.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-4)


def test_interpolate_on_cuda_matches_cpu():
    rng = np.random.default_rng(0)
    x3 = rng.standard_normal((2, 3, 5)).astype(np.float32)
    x4 = rng.standard_normal((2, 3, 5, 4)).astype(np.float32)
    res = []
    for device in ("cpu", "cuda"):
        a, b = (tg.tensor(v, requires_grad=True) for v in (x3, x4))
        outs = [F.interpolate(a.to(device), size=8, mode="linear", align_corners=True),
                F.interpolate(b.to(device), scale_factor=(1.5, 0.7), mode="bilinear"),
                F.interpolate(b.to(device), size=(7, 9))]
        sum(((o * o).sum() for o in outs[1:]), (outs[0] * outs[0]).sum()).backward()
        assert all(o.device == device for o in outs)
        res.append([o.to("cpu").numpy() for o in outs] + [a.grad.numpy(), b.grad.numpy()])
    for got, want in zip(res[1], res[0]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

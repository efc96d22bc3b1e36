"""CUDA 模拟器的测试：它像 CuPy 一样严格，kernel 原样编译运行，以及它找出的问题修好了。

Tests of the CUDA simulator (``tinygrad_zh/cuda/sim``, ``TINYGRAD_ZH_CUDASIM=1``) and of the
defects it found. Marked ``cuda``; they run on the simulator (``tests/conftest.py`` switches it on
when there is no GPU). The tests that inspect the simulator itself skip on a real GPU.

1. CuPy's semantics where they differ from NumPy (flags, no implicit conversion, 0-d results,
   unhashable Device, no errstate, wrapped indices, uninitialised ``empty``).
2. Kernels: ``RawModule`` compiles CUDA source for the host; threads, blocks, ``__shared__``
   (static and dynamic), ``__syncthreads`` (and divergent-barrier detection), atomics, argument
   checks; every ``kernels/*.cu`` builds and exposes its entry points.
3. The defects: ``flags.writeable`` reads, ``ones_vector`` on an unhashable Device, ``Pow``'s
   errstate, int / float16 tensors reaching our kernels, device-to-host syncs inside a training
   step (counted), ``clip_grad_norm_`` on the device, deferred range checks.
4. Architecture: ``backend.py`` imports nothing from ``cuda/``.
"""
import ast
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_zh as tg
import tinygrad_zh.cuda  # noqa: F401  (plugs the CUDA backend in)
from tinygrad_zh import backend
from tinygrad_zh.cuda import sim

ROOT = pathlib.Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not backend.cuda_available(), reason="needs a GPU or the CUDA simulator")]

on_sim = pytest.mark.skipif(not (backend.cuda_available() and getattr(backend.require_cuda(), "is_simulator", False)),
                            reason="inspects the CUDA simulator (TINYGRAD_ZH_CUDASIM=1)")


@pytest.fixture
def cp():
    return backend.require_cuda()


# ============================================================================ 1. CuPy semantics
@on_sim
def test_arrays_behave_like_cupy(cp):
    a = cp.arange(6, dtype=cp.float32).reshape(2, 3)
    assert type(a).__module__ == "cupy" and isinstance(a, cp.ndarray)
    f = a.flags
    assert f.c_contiguous and not f.f_contiguous and not f.owndata       # a view of arange's memory
    assert not hasattr(f, "writeable")
    with pytest.raises(AttributeError):
        f.writeable
    assert cp.zeros(3).flags.owndata and a.T.flags.f_contiguous
    with pytest.raises(TypeError, match="Implicit conversion to a NumPy array"):
        np.asarray(a)
    with pytest.raises(TypeError, match="Unsupported type <class 'numpy.ndarray'>"):
        a + np.ones(3, np.float32)
    with pytest.raises(TypeError, match="Unsupported type"):
        cp.maximum(a, np.zeros(3))
    s = a.sum()
    assert isinstance(s, cp.ndarray) and s.shape == ()                  # 0-d, not a NumPy scalar
    assert isinstance(a[1, 2], cp.ndarray) and isinstance(a.max(), cp.ndarray)
    assert isinstance(np.exp(a), cp.ndarray)                            # __array_ufunc__ dispatch
    with pytest.raises(TypeError, match="unhashable"):
        hash(a)
    with pytest.raises(TypeError, match="unhashable"):
        {a.device: 1}
    assert a.device == cp.cuda.Device(0)
    assert not hasattr(cp, "errstate") and not hasattr(cp, "frompyfunc")
    with pytest.raises(TypeError):
        range(cp.asarray(3))                                            # no __index__ in CuPy
    assert a.get().dtype == np.float32 and cp.asnumpy(a).shape == (2, 3)


@on_sim
def test_indices_wrap_and_empty_is_garbage(cp):
    a = cp.arange(3)
    assert a[cp.asarray([1, 3, -4])].tolist() == [1, 0, 2]              # CuPy wraps around
    e = cp.empty(4, cp.float32)
    assert bool(cp.isnan(e).all())                                      # like reused device memory
    assert (cp.empty(2, cp.int64).get() == -1).all()


@on_sim
def test_sync_and_copy_counters(cp):
    a = cp.ones(3, cp.float32)
    with sim.count() as c:
        b = a * 2 + 1
        s = b.sum()
    assert c.d2h == 0 and c.h2d == 0
    with sim.count() as c:
        float(s), bool(s > 0), s.item(), b.get(), cp.asarray(np.zeros(2)), cp.asarray(0.5)
    assert (c.d2h, c.h2d) == (4, 2), c.report()
    assert "test_cudasim.py" in c.report("d2h")


@on_sim
def test_memory_pool_and_runtime(cp):
    pool = cp.get_default_memory_pool()
    before = pool.used_bytes()
    x = cp.zeros(1000, cp.float64)
    assert pool.used_bytes() == before + 8000
    del x
    assert pool.used_bytes() == before and pool.total_bytes() >= 8000
    pool.free_all_blocks()
    assert pool.total_bytes() == pool.used_bytes()
    assert cp.cuda.runtime.getDeviceCount() == 1
    with cp.cuda.Stream() as s:
        assert cp.cuda.get_current_stream() is s
    s.synchronize()
    assert "simulator" in tg.cuda.get_device_name()


# ============================================================================ 2. kernels
SRC = r'''
extern "C" __global__ void block_sum(const float* x, float* out, long long n) {
    __shared__ float buf[64];
    const unsigned t = threadIdx.x;
    const long long i = (long long)blockIdx.x * blockDim.x + t;
    buf[t] = i < n ? x[i] : 0.0f;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
        if (t < half) buf[t] += buf[t + half];
        __syncthreads();
    }
    if (t == 0) out[blockIdx.x] = buf[0];
}

extern "C" __global__ void reverse_dyn(const double* x, double* y) {
    extern __shared__ double tile[];
    const unsigned t = threadIdx.x, b = blockIdx.x * blockDim.x;
    tile[t] = x[b + t];
    __syncthreads();
    y[b + t] = tile[blockDim.x - 1 - t];
}

extern "C" __global__ void histogram(const long long* v, int* counts, double* total, long long n) {
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        atomicAdd(&counts[v[i]], 1);
        atomicAdd(total, (double)v[i]);
    }
}

extern "C" __global__ void coords(int* out) {
    const int k = ((blockIdx.y * gridDim.x + blockIdx.x) * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    out[k] = blockIdx.y * 1000 + blockIdx.x * 100 + threadIdx.y * 10 + threadIdx.x;
}

extern "C" __global__ void divergent(float* x) {
    if (threadIdx.x < 2) { __syncthreads(); } else { __syncthreads(); }
    x[threadIdx.x] = 1.0f;
}
'''


@on_sim
def test_raw_module_runs_threads_blocks_shared_memory_and_barriers(cp, rng):
    mod = cp.RawModule(code=SRC, options=("-std=c++14",))
    x = cp.asarray(rng.standard_normal(1000).astype(np.float32))
    out = cp.empty(16, cp.float32)
    mod.get_function("block_sum")((16,), (64,), (x, out, np.int64(1000)))
    np.testing.assert_allclose(out.get(), np.pad(x.get(), (0, 24)).reshape(16, 64).sum(1), rtol=1e-5, atol=1e-5)

    xd = cp.asarray(np.arange(96, dtype=np.float64))
    yd = cp.empty(96, cp.float64)
    mod.get_function("reverse_dyn")((3,), (32,), (xd, yd), shared_mem=32 * 8)
    assert (yd.get() == np.arange(96).reshape(3, 32)[:, ::-1].reshape(-1)).all()

    v = rng.integers(0, 5, 10000)
    counts, total = cp.zeros(5, cp.int32), cp.zeros(1, cp.float64)
    mod.get_function("histogram")((7,), (128,), (cp.asarray(v), counts, total, 10000))
    assert counts.tolist() == np.bincount(v, minlength=5).tolist() and total.item() == v.sum()

    c = cp.empty(2 * 3 * 4 * 2, cp.int32)
    mod.get_function("coords")((3, 2), (2, 4), (c,))
    got = c.get().reshape(2, 3, 4, 2)
    assert got[1, 2, 3, 1] == 1000 + 200 + 30 + 1 and got[0, 1, 2, 0] == 100 + 20


def _block_sums(cp, mod, seed):
    x = np.random.default_rng(seed).standard_normal(4096).astype(np.float32)
    out = cp.empty(64, cp.float32)
    mod.get_function("block_sum")((64,), (64,), (cp.asarray(x), out, np.int64(4096)))
    return out.get(), x.reshape(64, 64).sum(1)


@on_sim
def test_launches_from_several_threads_and_after_fork(cp):
    """The blocks of a launch run on a pool of worker threads (which sleep between launches):
    launches from several Python threads at once are serialised correctly, and a child forked
    while other threads are launching (it inherits none of the workers, and their locks may be
    held) starts a fresh pool instead of waiting forever or aborting."""
    import multiprocessing
    import threading
    mod = cp.RawModule(code=SRC)
    _block_sums(cp, mod, 0)                                  # the parent's pool exists before the forks
    errors, stop = [], threading.Event()

    def worker(seed):
        k = 0
        while not stop.is_set() or k < 20:
            got, want = _block_sums(cp, mod, seed * 1000 + k)
            if not np.allclose(got, want, rtol=1e-5, atol=1e-4):
                errors.append((seed, k))
            k += 1
    threads = [threading.Thread(target=worker, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(8):
            child = multiprocessing.get_context("fork").Process(target=_fork_child, args=(mod,))
            child.start()
            child.join(30)
            alive = child.is_alive()
            if alive:
                child.kill()
            assert not alive and child.exitcode == 0, "a kernel launch in a forked child hung or failed"
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []


def _fork_child(mod):
    got, want = _block_sums(backend.require_cuda(), mod, 7)
    sys.exit(0 if np.allclose(got, want, rtol=1e-5, atol=1e-4) else 1)


@on_sim
def test_raw_kernel_errors_are_caught(cp):
    mod = cp.RawModule(code=SRC)
    with pytest.raises(RuntimeError, match="divergent __syncthreads"):
        mod.get_function("divergent")((1,), (4,), (cp.zeros(4, cp.float32),))
    f = mod.get_function("block_sum")
    x = cp.zeros(64, cp.float32)
    with pytest.raises(TypeError, match="float32 pointer.*float64"):
        f((1,), (64,), (cp.zeros(64), x, 64))
    with pytest.raises(TypeError, match="argument 2 is int64, but a float64"):
        f((1,), (64,), (x, x, 64.0))
    with pytest.raises(TypeError, match="pointer"):
        f((1,), (64,), (np.zeros(64, np.float32), x, 64))
    with pytest.raises(TypeError, match="takes 3 arguments"):
        f((1,), (64,), (x, x))
    with pytest.raises(ValueError, match="exceeds the device limits"):
        f((1,), (2048,), (x, x, 64))
    with pytest.raises(RuntimeError, match="named symbol not found"):
        mod.get_function("nope")
    with pytest.raises(Exception, match="error"):
        cp.RawModule(code='extern "C" __global__ void bad(float* x) { x[0] = undefined_thing; }').get_function("bad")


@on_sim
@pytest.mark.parametrize("cu", sorted(p.name for p in (ROOT / "kernels").glob("*.cu")))
def test_every_kernel_file_builds_on_the_simulator(cu):
    import re
    from tinygrad_zh.cuda import launch
    names = re.findall(r'extern "C" __global__ void (\w+)\(', (ROOT / "kernels" / cu).read_text())
    assert names
    for n in names:
        assert launch.module(cu).get_function(n) is not None


# ============================================================================ 3. defects found
def test_ones_vector_on_device_arrays(cp):
    a = cp.zeros((3, 4), cp.float32)
    v = backend.ones_vector(a, 4)
    assert isinstance(v, cp.ndarray) and v.shape == (4,) and backend.ones_vector(a, 4) is v
    lin = tg.nn.Linear(4, 2).cuda()                          # bias gradient: a row sum via ones_vector
    lin(tg.randn(5, 4, device="cuda")).sum().backward()
    assert lin.bias.grad.device == "cuda"
    np.testing.assert_allclose(lin.bias.grad.numpy(), [5.0, 5.0])


def test_writeable_on_device_arrays(cp):
    a = cp.zeros((2, 3), cp.float32)
    assert backend.writeable(a) and backend.writeable(a.T)
    assert not backend.writeable(cp.broadcast_to(cp.zeros(3), (2, 3)))
    from tinygrad_zh.distributed import collectives
    from tinygrad_zh.distributed.backends import NCCLBackend

    class Group:                                             # what _check_tensor reads of a group
        device, name, DTYPES = "cuda", "nccl", NCCLBackend.DTYPES
    assert collectives._check_tensor(Group, "all_reduce", tg.zeros(3, device="cuda")) is None
    x = tg.zeros(3, device="cuda", requires_grad=True)       # autograd's first leaf gradient
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])


def test_pow_backward_on_device():
    a = tg.tensor([0.5, 2.0, 3.0], device="cuda", requires_grad=True)
    b = tg.tensor([2.0, 0.5, -1.0], device="cuda", requires_grad=True)
    (a ** b).sum().backward()
    an, bn = np.array([0.5, 2.0, 3.0], np.float32), np.array([2.0, 0.5, -1.0], np.float32)
    np.testing.assert_allclose(a.grad.numpy(), bn * an ** (bn - 1), rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), an ** bn * np.log(an), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "int64", "int32"])
def test_other_dtypes_fall_back_to_array_code(rng, dtype):
    """relu / max-pool / conv / cross-entropy / LSTM cell on dtypes our kernels do not handle."""
    x = (rng.standard_normal((2, 3, 6, 6)) * 3).astype(dtype)
    for fn in (lambda t: t.relu(), lambda t: tg.nn.functional.max_pool2d(t, 2)):
        cpu, gpu = fn(tg.tensor(x)), fn(tg.tensor(x, device="cuda"))
        assert gpu.dtype == cpu.dtype and gpu.device == "cuda"
        np.testing.assert_array_equal(gpu.numpy(), cpu.numpy())
    if dtype != "float16":
        return
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    out = {d: tg.nn.functional.conv2d(tg.tensor(x, device=d), tg.tensor(w, device=d), padding=1).numpy()
           for d in ("cpu", "cuda")}
    np.testing.assert_allclose(out["cuda"].astype(np.float32), out["cpu"].astype(np.float32), rtol=1e-2, atol=1e-2)
    logits, t = rng.standard_normal((5, 7)).astype(dtype), rng.integers(0, 7, 5)
    ce = {d: tg.nn.functional.cross_entropy(tg.tensor(logits, device=d), tg.tensor(t, device=d)).item()
          for d in ("cpu", "cuda")}
    assert math.isclose(ce["cuda"], ce["cpu"], rel_tol=1e-2)
    for name in ("sigmoid", "tanh", "gelu"):
        y = {d: getattr(tg.tensor(x[0, 0], device=d), name)().numpy() for d in ("cpu", "cuda")}
        np.testing.assert_allclose(y["cuda"].astype(np.float32), y["cpu"].astype(np.float32), rtol=1e-2, atol=1e-3)
    from tinygrad_zh.cuda import fused
    A, c0 = rng.standard_normal((3, 8)).astype(dtype), rng.standard_normal((3, 2)).astype(dtype)
    cp = backend.require_cuda()
    h = fused.lstm_cell_forward(cp.asarray(A), cp.asarray(c0))[0]
    assert h.dtype == np.float16


def _train_step(model, opt, x, y, clip=None):
    opt.zero_grad()
    loss = tg.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    if clip is not None:
        tg.nn.utils.clip_grad_norm_(model.parameters(), clip)
    opt.step()
    return loss


@on_sim
@pytest.mark.parametrize("opt_name", ["Adam", "SGD"])
def test_training_step_makes_no_device_to_host_sync(rng, opt_name):
    nn = tg.nn
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4)).cuda()
    opt = getattr(tg.optim, opt_name)(model.parameters(), lr=1e-2)
    x = tg.tensor(rng.standard_normal((32, 6)), dtype="float32", device="cuda")
    y = tg.tensor(rng.integers(0, 4, 32), device="cuda")
    _train_step(model, opt, x, y, clip=1.0)                 # warm-up: compile, allocate state
    with sim.count() as c:
        loss = _train_step(model, opt, x, y, clip=1.0)
    assert c.d2h == 0, "device-to-host syncs in a training step:\n" + c.report("d2h")
    assert c.h2d == 0, "host-to-device copies in a training step:\n" + c.report("h2d")
    with sim.count() as c:
        loss.item()
    assert c.d2h == 1, c.report("d2h")


@on_sim
def test_scalar_arithmetic_copies_nothing_to_the_device():
    """``x * 0.5`` must not copy the 0.5 from the host each time (needs Tensor._binary/_lift to use
    ``backend.scalar_array``)."""
    x = tg.ones(4, device="cuda", requires_grad=True)
    for i in range(2):                                       # the first pass may create constants
        x.grad = None
        with sim.count() as c:
            y = (x * 0.5 + 1) / 3 - x * 2
            y.sum().backward()
    assert c.h2d == 0, c.report("h2d")
    np.testing.assert_allclose(x.grad.numpy(), np.full(4, 0.5 / 3 - 2), rtol=1e-6)


def test_scalar_array_is_cached_per_device_dtype_and_value(cp):
    a = backend.scalar_array(0.5, np.dtype("float32"), "cuda")
    assert isinstance(a, cp.ndarray) and a.dtype == np.float32 and a.shape == ()
    assert backend.scalar_array(0.5, np.dtype("float32"), "cuda") is a
    assert backend.scalar_array(0.5, np.dtype("float64"), "cuda") is not a
    z, nz = backend.scalar_array(0.0, np.dtype("float32"), "cuda"), backend.scalar_array(-0.0, np.dtype("float32"), "cuda")
    assert z is not nz and math.copysign(1, float(nz)) == -1
    assert isinstance(backend.scalar_array(2, np.dtype("int64"), "cpu"), np.ndarray)


def test_cross_entropy_range_check_is_deferred_to_the_next_sync():
    logits = tg.zeros((3, 5), device="cuda", requires_grad=True)
    backend.raise_pending()
    loss = tg.nn.functional.cross_entropy(logits, tg.tensor([0, 7, 2], device="cuda"))
    with pytest.raises(IndexError, match="target 7 is out of range for 5 classes"):
        backend.raise_pending()
    loss = tg.nn.functional.cross_entropy(logits, tg.tensor([0, -100, 2], device="cuda"))   # ignored row
    loss.backward()
    backend.raise_pending()
    np.testing.assert_allclose(loss.item(), math.log(5), rtol=1e-6)
    assert np.all(logits.grad.numpy()[1] == 0)


def test_deferred_check_raises_at_item():
    """The sync the training loop makes anyway (``loss.item()``) reports the bad target (needs
    Tensor.item/numpy/tolist to call ``backend.raise_pending()`` first, or ``backend.to_host``)."""
    loss = tg.nn.functional.cross_entropy(tg.zeros((2, 3), device="cuda"), tg.tensor([0, 3], device="cuda"))
    try:
        with pytest.raises(IndexError, match="out of range"):
            loss.item()
    finally:
        backend._PENDING.clear()


def test_embedding_and_index_range_checks_are_deferred_on_device():
    """Embedding and tensor indices are checked on the device and reported at the next sync (the
    training loop's ``loss.item()``), naming the bad index; meanwhile the embedding reads a clipped,
    in-range row instead of wrapping around. On the CPU the same errors come at once."""
    backend.raise_pending()
    w = tg.randn(4, 3, device="cuda", requires_grad=True)
    with sim.count() as c:
        out = tg.nn.functional.embedding(tg.tensor([[0, 9], [3, 1]], device="cuda"), w)
    assert c.d2h == 0, c.report("d2h")
    with pytest.raises(IndexError, match="embedding: index 9 is out of range for an embedding table of 4 rows"):
        out.sum().item()
    backend.raise_pending()
    x = tg.randn(5, 2, device="cuda", requires_grad=True)
    with sim.count() as c:
        y = x[tg.tensor([1, -2, 4], device="cuda")]
        y.sum().backward()
    assert c.d2h == 0, c.report("d2h")
    backend.raise_pending()
    np.testing.assert_array_equal(x.grad.numpy(), np.array([[0, 0], [1, 1], [0, 0], [1, 1], [1, 1]]))
    x[tg.tensor([1, -7], device="cuda")]
    with pytest.raises(IndexError, match="index -7 is out of bounds for dimension 0 with size 5"):
        backend.raise_pending()
    with pytest.raises(IndexError, match="index -7 is out of bounds for dimension 0 with size 5"):
        x.detach().cpu()[tg.tensor([1, -7])]
    with pytest.raises(IndexError, match="embedding: index 9 is out of range"):
        tg.nn.functional.embedding(tg.tensor([9]), w.detach().cpu())


def test_bce_and_nll_range_checks_on_device():
    p = tg.tensor([0.2, 1.5], device="cuda")
    tg.nn.functional.binary_cross_entropy(p, tg.tensor([0.0, 1.0], device="cuda"))
    with pytest.raises(ValueError, match="probabilities in"):
        backend.raise_pending()
    logp = tg.zeros((2, 3), device="cuda")
    tg.nn.functional.nll_loss(logp, tg.tensor([1, 4], device="cuda"))
    with pytest.raises(IndexError, match="target 4 is out of range for 3 classes"):
        backend.raise_pending()
    with pytest.raises(IndexError, match="out of range"):                # CPU: at once, as before
        tg.nn.functional.nll_loss(tg.zeros((2, 3)), tg.tensor([1, 4]))


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.1, 100.0])
def test_clip_grad_norm_on_device_matches_cpu(rng, norm_type, max_norm):
    grads = [rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (4,), (2, 2, 2))]
    res = {}
    for d in ("cpu", "cuda"):
        ps = [tg.zeros(g.shape, device=d, requires_grad=True) for g in grads]
        for p, g in zip(ps, grads):
            p.grad = tg.tensor(g, device=d)
        total = tg.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=norm_type)
        assert total.device == d and total.dtype == np.float32 and total.shape == ()
        res[d] = (total.item(), [p.grad.numpy() for p in ps])
    assert math.isclose(res["cuda"][0], res["cpu"][0], rel_tol=1e-6)
    for a, b in zip(res["cuda"][1], res["cpu"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_clip_grad_norm_nonfinite_on_device():
    p = tg.zeros(2, device="cuda", requires_grad=True)
    p.grad = tg.tensor([1.0, float("inf")], device="cuda")
    tg.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="not finite"):
        backend.raise_pending()


# ============================================================================ 4. architecture
def test_backend_imports_nothing_from_cuda():
    tree = ast.parse((ROOT / "tinygrad_zh" / "backend.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith(("cuda", "tinygrad_zh.cuda")), ast.dump(node)
            assert not any(a.name.startswith("cuda") for a in node.names if node.level), ast.dump(node)
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("tinygrad_zh.cuda") for a in node.names)
    # the CUDA package plugs itself in from above, and importing it first works (no circle)
    assert backend._cuda_provider is tinygrad_zh.cuda._load_cupy_module
    for first in ("tinygrad_zh.cuda", "tinygrad_zh.cuda.register", "tinygrad_zh.ops.conv"):
        code = f"import {first}, tinygrad_zh.backend as b; assert b._cuda_provider is not None; print('ok')"
        r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
        assert r.returncode == 0 and "ok" in r.stdout, (first, r.stderr)


def test_import_tinygrad_zh_plugs_cuda_in():
    """``import tinygrad_zh`` alone makes device 'cuda' usable (needs ``from . import cuda`` in
    tinygrad_zh/__init__.py)."""
    code = "import tinygrad_zh as tg; x = tg.ones(3, device='cuda'); print(float(x.sum().item()))"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0 and "3.0" in r.stdout, r.stderr

"""CUDA kernel 的 CPU 测试：不需要 GPU。

Three layers, each checked element by element:

1. ``kernels/host/harness.cpp`` (built with g++ into a temporary directory, loaded with ctypes)
   runs the kernels' own ``TG_HD`` arithmetic on the CPU. The GPU entry points of
   ``tinygrad_zh.cuda`` are run end to end on it: a fake "cupy" (NumPy) replaces CuPy and every
   kernel launch calls the ``host_<kernel>`` function with exactly the arguments ``launch()``
   prepared (dtype, contiguity, scalar types), and the results are compared with the NumPy
   references of ``tinygrad_zh/cuda/reference.py``.
2. The references themselves are compared with the library's ops (``ops.lstm``, ``ops.conv``,
   ``ops.softmax``, the activations) and, when installed, with PyTorch.
3. Every ``kernels/*.cu`` compiles with ``nvcc -ptx`` for sm_80 and sm_90 without a warning
   (skipped when nvcc is not on PATH); the parameter lists of the kernels and of their host
   versions agree.
"""
import concurrent.futures
import ctypes
import math
import os
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import backend
from tinygrad_zh.cuda import fused as F
from tinygrad_zh.cuda import launch as L
from tinygrad_zh.cuda import reference as ref

ROOT = pathlib.Path(__file__).resolve().parents[1]
KDIR = ROOT / "kernels"
CU_FILES = sorted(p.name for p in KDIR.glob("*.cu"))
ARCHS = ("sm_80", "sm_90")
DTYPES = (np.float32, np.float64)
ROW_KERNELS = {"softmax_ce_fwd", "softmax_ce_bwd"}


def close(actual, expected, dtype, what, scale=1.0):
    """Element-wise comparison with a dtype-dependent tolerance and a message naming the output."""
    tol = dict(rtol=3e-5, atol=3e-6 * scale) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12 * scale)
    actual = np.asarray(actual)
    assert actual.dtype == np.dtype(dtype), f"{what}: dtype {actual.dtype}, expected {np.dtype(dtype)}"
    np.testing.assert_allclose(actual, expected, err_msg=what, **tol)


# ----------------------------------------------------------------------------- the host harness
class Host:
    """ctypes front end of the harness: ``host(name, dtype, *args)`` calls ``host_<name>_<f32|f64>``.

    Arrays become pointers (they must be C-contiguous), NumPy scalars keep their C type
    (np.int64 -> long long, np.float32 -> float, np.float64 -> double), Python ints become
    long long and Python floats the dtype's real type."""

    def __init__(self, lib):
        self.lib = lib

    def __call__(self, name, dtype, *args):
        fn = getattr(self.lib, f"host_{name}_{L.SUFFIX[np.dtype(dtype)]}")
        fn.restype = None
        real = ctypes.c_float if np.dtype(dtype) == np.float32 else ctypes.c_double
        cargs = []
        for a in args:
            if isinstance(a, np.ndarray):
                assert a.flags.c_contiguous, f"{name}: non-contiguous array reached the kernel"
                cargs.append(ctypes.c_void_p(a.ctypes.data))
            elif isinstance(a, np.float32):
                cargs.append(ctypes.c_float(a))
            elif isinstance(a, np.float64):
                cargs.append(ctypes.c_double(a))
            elif isinstance(a, (int, np.integer)):
                cargs.append(ctypes.c_longlong(int(a)))
            elif isinstance(a, float):
                cargs.append(real(a))
            else:
                raise TypeError(f"{name}: cannot pass {type(a).__name__}")
        fn(*cargs)


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler (g++) on PATH")
    out = tmp_path_factory.mktemp("harness") / "libtg_harness.so"
    cmd = [cxx, "-std=c++14", "-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
           "-I", str(KDIR), str(KDIR / "host" / "harness.cpp"), "-o", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), f"harness build failed:\n{' '.join(cmd)}\n{r.stderr}"
    return Host(ctypes.CDLL(str(out)))


class _FakeCupy:
    """NumPy dressed up as CuPy, just enough for tinygrad_zh.cuda (tests only)."""
    ndarray = np.ndarray

    class cuda:
        class Device:
            id = 0

    def __getattr__(self, name):
        return getattr(np, name)


class FakeKernel:
    """Stands in for a cupy.RawKernel: checks the launch configuration, then runs the host version."""

    def __init__(self, host, name, dtype, launches):
        self.host, self.name, self.dtype, self.launches = host, name, dtype, launches

    def __call__(self, grid, block, args):
        self.launches.append((self.name, grid, block))
        if self.name in ROW_KERNELS:
            assert block == (L.ROW_THREADS,), block
            self.host(self.name, self.dtype, *args, grid[0], block[0])
        else:
            assert block == (L.BLOCK,) and 1 <= grid[0] <= L.MAX_BLOCKS, (grid, block)
            n = args[[i for i, a in enumerate(args) if not isinstance(a, np.ndarray)][0]]
            assert grid[0] * block[0] >= min(int(n), L.MAX_BLOCKS * L.BLOCK)   # covers n
            self.host(self.name, self.dtype, *args)


@pytest.fixture
def gpu_on_cpu(host, monkeypatch):
    """Run tinygrad_zh.cuda's public functions with the host harness in place of the GPU.

    Returns the list of launches (kernel name, grid, block) made so far."""
    launches = []
    fake = _FakeCupy()
    monkeypatch.setattr(backend, "require_cuda", lambda: fake)

    def get_kernel(filename, name, dtype, op=None):
        suffix = L.kernel_suffix(op or name, dtype)
        src = (KDIR / filename).read_text()
        assert f'extern "C" __global__ void {name}_{suffix}(' in src, f"{name}_{suffix} not in {filename}"
        return FakeKernel(host, name, np.dtype(dtype), launches)

    monkeypatch.setattr(L, "get_kernel", get_kernel)
    return launches


def noncontig(a):
    """Same values as ``a`` but stored transposed (a non-C-contiguous view)."""
    return np.ascontiguousarray(a.T).T if a.ndim >= 2 else a[::-1].copy()[::-1]


# ----------------------------------------------------------------------------- LSTM cell
@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_cell_kernels_match_reference(gpu_on_cpu, rng, dtype):
    B, H = 3, 5
    A = (rng.standard_normal((B, 4 * H)) * 3).astype(dtype)
    A[0, :4] = [40, -40, 0, 1e-3]                         # saturated gates stay finite
    c_prev = rng.standard_normal((B, H)).astype(dtype)
    h, c, gates, tanh_c = F.lstm_cell_forward(A, c_prev)
    rh, rc, rgates, rtanh_c = ref.lstm_cell_forward(A, c_prev)
    for name, a, b in [("h", h, rh), ("c", c, rc), ("gates", gates, rgates), ("tanh_c", tanh_c, rtanh_c)]:
        close(a, b, dtype, f"lstm_cell_forward {name}")
    dh, dc = rng.standard_normal((2, B, H)).astype(dtype)
    for gh, gc in [(dh, dc), (dh, None), (None, dc)]:
        dA, dc_prev = F.lstm_cell_backward(gates, c_prev, tanh_c, gh, gc)
        rdA, rdc_prev = ref.lstm_cell_backward(rgates, c_prev, rtanh_c, gh, gc)
        close(dA, rdA, dtype, "lstm_cell_backward dA")
        close(dc_prev, rdc_prev, dtype, "lstm_cell_backward dc_prev")
    assert [name for name, *_ in gpu_on_cpu] == ["lstm_cell_fwd"] + ["lstm_cell_bwd"] * 3


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_cell_output_buffers_in_place_and_strided(gpu_on_cpu, rng, dtype):
    """Buffers as ops/lstm.py passes them: gates = A (in place), strided slices of bigger arrays."""
    B, H = 4, 3
    A = rng.standard_normal((B, 4 * H)).astype(dtype)
    c_prev = rng.standard_normal((B, H)).astype(dtype)
    expect = ref.lstm_cell_forward(A, c_prev)
    big = np.zeros((B, 3, H), dtype)                     # h written into big[:, 1] (strided)
    A_inplace = A.copy()
    h, c, gates, tanh_c = F.lstm_cell_forward(A_inplace, c_prev, gates=A_inplace, h=big[:, 1])
    assert gates is A_inplace and h.base is big
    close(big[:, 1], expect[0], dtype, "h in a strided buffer")
    close(A_inplace, expect[2], dtype, "gates written over A")
    assert not big[:, 0].any() and not big[:, 2].any(), "neighbouring slices were overwritten"
    dA_big = np.zeros((B, 2, 4 * H), dtype)
    dA, _ = F.lstm_cell_backward(expect[2], c_prev, expect[3], noncontig(c_prev), None, dA=dA_big[:, 0])
    close(dA_big[:, 0], ref.lstm_cell_backward(expect[2], c_prev, expect[3], c_prev, None)[0], dtype,
          "dA in a strided buffer")


def test_lstm_kernels_plug_into_ops_lstm(gpu_on_cpu, rng, monkeypatch):
    """The fused cell has the signatures of ops.lstm's array functions: a whole LSTM layer (both
    layouts) run with it gives the same outputs and gradients as the NumPy implementation."""
    lstm = pytest.importorskip("tinygrad_zh.ops.lstm")
    if not hasattr(lstm, "_CELL_KERNELS") or not hasattr(lstm, "LSTMLayerFn"):
        pytest.skip("ops.lstm has no pluggable cell kernels")
    T, B, D, H = 4, 2, 3, 5
    arrays = [rng.standard_normal(s) for s in [(T, B, D), (4 * H, D), (4 * H, H), (4 * H,), (4 * H,),
                                               (B, H), (B, H)]]

    def run(batch_first):
        ts = [tg.tensor(a.swapaxes(0, 1) if (i == 0 and batch_first) else a, dtype="float64",
                        requires_grad=True) for i, a in enumerate(arrays)]
        out, hT, cT = lstm.LSTMLayerFn.apply(*ts, batch_first=batch_first)
        ((out * out).sum() + (hT * cT).sum()).backward()
        return [out.numpy(), hT.numpy(), cT.numpy()] + [t.grad.numpy() for t in ts]

    for batch_first in (False, True):
        expected = run(batch_first)
        monkeypatch.setattr(lstm, "_CELL_KERNELS", {"cpu": (F.lstm_cell_forward, F.lstm_cell_backward)})
        n0 = len(gpu_on_cpu)
        got = run(batch_first)
        monkeypatch.setattr(lstm, "_CELL_KERNELS", {})
        assert len(gpu_on_cpu) - n0 == 2 * T, "the fused cell was not used for every step"
        for i, (a, b) in enumerate(zip(got, expected)):
            close(a, b, np.float64, f"LSTM layer (batch_first={batch_first}) result {i}")


# ----------------------------------------------------------------------------- softmax CE
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("C", [1, 3, 300])
def test_softmax_ce_kernels_match_reference(gpu_on_cpu, rng, dtype, C):
    N = 6
    x = (rng.standard_normal((N, C)) * 4).astype(dtype)
    x[1] += 1e4                                            # huge logits: stable thanks to the row max
    t = rng.integers(0, C, N)
    t[2] = -100                                            # ignored row
    loss, lse = F.softmax_ce_forward(x, t)
    rloss, rlse = ref.softmax_ce_forward(x, t)
    # row 1 sits at 1e4, where one float32 ulp is 1e-3: allow that much absolute difference
    close(loss, rloss, dtype, "softmax_ce loss", scale=1e3)
    close(lse, rlse, dtype, "softmax_ce lse", scale=1e4)
    assert loss[2] == 0 and np.isfinite(loss).all()
    for scale in (0.25, rng.standard_normal(N).astype(dtype)):
        g = F.softmax_ce_backward(x, t, lse, scale)
        close(g, ref.softmax_ce_backward(x, t, lse, scale), dtype, "softmax_ce grad")
        assert not g[2].any(), "the ignored row must get a zero gradient"
    assert gpu_on_cpu[0] == ("softmax_ce_fwd", (N,), (L.ROW_THREADS,))


@pytest.mark.parametrize("nthr", [1, 2, 32, 256])
@pytest.mark.parametrize("C", [1, 7, 300])
def test_softmax_ce_block_reduction_any_block_size(host, rng, nthr, C):
    """The host replay of the block reduction (strided partials + shared-memory tree) is right
    for blocks smaller than, equal to and larger than the row."""
    N = 3
    x = rng.standard_normal((N, C))
    t = rng.integers(0, C, N)
    loss, lse = np.empty(N), np.empty(N)
    host("softmax_ce_fwd", np.float64, x, t, loss, lse, C, -100, N, nthr)
    rloss, rlse = ref.softmax_ce_forward(x, t)
    close(loss, rloss, np.float64, "loss")
    close(lse, rlse, np.float64, "lse")


def test_softmax_ce_checks_targets(gpu_on_cpu):
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(IndexError, match="softmax_ce_forward: target 3 is out of range for 3 classes"):
        F.softmax_ce_forward(x, np.array([0, 3]))
    with pytest.raises(TypeError, match="integer class indices"):
        F.softmax_ce_forward(x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target \(2,\)"):
        F.softmax_ce_forward(x, np.array([0, 1, 2]))
    loss, _ = F.softmax_ce_forward(x, np.array([0, 7]), ignore_index=7)   # ignored: not range-checked
    assert loss[1] == 0


# ----------------------------------------------------------------------------- activations
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ref.ACTIVATIONS)
def test_activation_kernels_match_reference(gpu_on_cpu, rng, name, dtype):
    x = (rng.standard_normal((5, 7)) * 3).astype(dtype)
    x[0, :4] = [0, 60, -60, -1e-3]
    y = F.activation_forward(name, noncontig(x))
    close(y, ref.activation_forward(name, x), dtype, f"{name} forward")
    g = rng.standard_normal(x.shape).astype(dtype)
    gx = F.activation_backward(name, g, x=x, y=y)
    close(gx, ref.activation_backward(name, g, x=x, y=ref.activation_forward(name, x)), dtype,
          f"{name} backward")
    assert np.isfinite(y).all() and np.isfinite(gx).all()


def test_activation_errors(gpu_on_cpu):
    x = np.ones(3, np.float32)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        F.activation_forward("swish", x)
    with pytest.raises(ValueError, match="needs the forward output y"):
        F.activation_backward("tanh", x, x=x)
    with pytest.raises(TypeError, match="float32 or float64"):
        F.activation_forward("relu", x.astype(np.float16))
    with pytest.raises(TypeError, match="one dtype"):
        F.activation_backward("relu", x, x=x.astype(np.float64))


# ----------------------------------------------------------------------------- Adam
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay, decoupled", [(0.0, False), (0.1, False), (0.1, True)])
def test_adam_kernel_matches_reference(gpu_on_cpu, rng, dtype, weight_decay, decoupled):
    p0 = rng.standard_normal((4, 3)).astype(dtype)
    p = noncontig(p0)                       # in-place update must reach a non-contiguous parameter
    m, v = np.zeros_like(p0), np.zeros_like(p0)
    rp, rm, rv = p0.copy(), m.copy(), v.copy()
    for step in (1, 2, 3):
        g = rng.standard_normal(p0.shape).astype(dtype)
        g_before = g.copy()
        out = F.adam_update(p, g, m, v, 1e-2, 0.9, 0.999, 1e-8, weight_decay, step, decoupled)
        rp, rm, rv = ref.adam_step(rp, g, rm, rv, 1e-2, 0.9, 0.999, 1e-8, weight_decay, step, decoupled)
        assert out is p and np.array_equal(g, g_before), "grad must not be modified"
        close(p, rp, dtype, f"param after step {step}")
        close(m, rm, dtype, f"exp_avg after step {step}")
        close(v, rv, dtype, f"exp_avg_sq after step {step}")


def test_adam_errors(gpu_on_cpu):
    z = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="step must be >= 1"):
        F.adam_update(z, z, z, z, 1e-3, 0.9, 0.999, 1e-8, 0.0, 0)
    with pytest.raises(ValueError, match="of one shape"):
        F.adam_update(z, np.zeros(4, np.float32), z, z, 1e-3, 0.9, 0.999, 1e-8, 0.0, 1)


# ----------------------------------------------------------------------------- im2col / col2im
GEOMETRIES = [  # (x shape, kernel, stride, padding)
    ((2, 3, 5, 6), 3, 1, 1),
    ((1, 2, 7, 5), (3, 2), (2, 1), (1, 0)),
    ((2, 1, 4, 4), 2, 2, 0),
    ((1, 2, 6, 6), 3, 2, 1),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, k, s, p", GEOMETRIES)
def test_im2col_col2im_kernels_match_reference(gpu_on_cpu, rng, dtype, shape, k, s, p):
    x = rng.standard_normal(shape).astype(dtype)
    col = F.im2col(x, k, s, p)
    close(col, ref.im2col(x, k, s, p), dtype, "im2col")
    y = rng.standard_normal(col.shape).astype(dtype)
    dx = F.col2im(y, shape, k, s, p)
    close(dx, ref.col2im(y, shape, k, s, p), dtype, "col2im")
    # col2im is the adjoint of im2col: <im2col(x), y> = <x, col2im(y)>
    np.testing.assert_allclose(np.vdot(col, y), np.vdot(x, dx), rtol=1e-4 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, k, s, p", GEOMETRIES + [((1, 1, 5, 5), 2, 1, 1)])
def test_maxpool_kernels_match_reference(gpu_on_cpu, rng, dtype, shape, k, s, p):
    x = rng.integers(-3, 4, shape).astype(dtype)          # many ties: the first maximum must win
    out, idx = F.maxpool_forward(x, k, s, p)
    rout, ridx = ref.maxpool_forward(x, k, s, p)
    close(out, rout, dtype, "maxpool out")
    np.testing.assert_array_equal(idx, ridx, err_msg="maxpool argmax")
    assert idx.dtype == np.int64
    g = rng.standard_normal(out.shape).astype(dtype)
    close(F.maxpool_backward(g, idx, shape, k, s, p), ref.maxpool_backward(g, ridx, shape, k, s, p),
          dtype, "maxpool backward")


def test_maxpool_nan_propagates(gpu_on_cpu):
    x = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    out, idx = F.maxpool_forward(x, 2)
    assert np.isnan(out[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 1
    assert out[0, 0, 1, 1] == 15 and idx[0, 0, 1, 1] == 3


def test_window_errors(gpu_on_cpu):
    x = np.zeros((1, 1, 3, 3), np.float32)
    with pytest.raises(ValueError, match="does not fit"):
        F.im2col(x, 5)
    with pytest.raises(ValueError, match="at most half"):
        F.maxpool_forward(x, 2, 1, 2)
    with pytest.raises(ValueError, match=r"4-D input"):
        F.im2col(x[0], 2)


# ----------------------------------------------------------------------------- launch / sources
def test_launch_makes_inputs_contiguous_and_refuses_wrong_dtypes(gpu_on_cpu):
    x = np.arange(12, dtype=np.float64).reshape(3, 4)[:, ::2]          # strided view
    np.testing.assert_array_equal(F.activation_forward("relu", x), x)
    with pytest.raises(TypeError, match="float16"):
        L.launch("op", "activation.cu", "activation_fwd", np.float16, [], n=1)
    with pytest.raises(TypeError, match="passed to a float32 kernel"):
        L.launch("op", "activation.cu", "activation_fwd", np.float32, [x, L.Out(x), 1, 0], n=1)
    with pytest.raises(ValueError, match="exactly one of n"):
        L.launch("op", "activation.cu", "activation_fwd", np.float64, [x, L.Out(x.copy()), 1, 0])


def test_import_without_cupy_and_clear_error(monkeypatch):
    """Without CuPy (simulated by a provider that fails like a missing install), the kernels raise a
    clear error naming the prebuilt wheels and the simulator."""
    def no_cupy():
        raise ImportError("No module named 'cupy'")
    monkeypatch.setattr(backend, "_cuda_provider", no_cupy)
    monkeypatch.setattr(backend, "_cupy", None)
    monkeypatch.setattr(backend, "_cupy_error", None)
    with pytest.raises(RuntimeError, match="device 'cuda' is not available.*cupy-cuda12x.*cupy-cuda13x"
                                          ".*TINYGRAD_ZH_CUDASIM=1"):
        tg.cuda.activation_forward("relu", np.ones(3, np.float32))
    assert not tg.cuda.is_available()


def test_missing_cuda_libraries_name_the_package():
    from tinygrad_zh.cuda import missing_library_message

    class FakeCupy:                                  # CuPy built for CUDA 13
        class cuda:
            class runtime:
                runtimeGetVersion = staticmethod(lambda: 13000)
    assert "nvidia-cuda-nvrtc-cu13" in missing_library_message("nvrtc", FakeCupy)
    assert "nvidia-cublas-cu13" in missing_library_message("cublas", FakeCupy)
    assert "nvidia-nccl-cu12" in missing_library_message("nccl")
    assert "cupy-cuda13x[ctk]" in missing_library_message("nvrtc", FakeCupy)


def test_kernel_sources_found_and_expanded(tmp_path):
    dirs = L.kernel_dirs()
    assert dirs[0] == ROOT / "tinygrad_zh" / "kernels" and dirs[1] == KDIR
    assert L.kernel_dir() in dirs
    src = L.kernel_source("maxpool.cu")
    assert "#include \"" not in src and "#pragma once" not in src
    for header in ("common.cuh", "im2col.cuh", "maxpool.cuh"):
        assert src.count(f"// ---- begin {header}") == 1


def _kernel_signatures(text, prefix):
    """{name: [param types]} of the extern "C" functions in preprocessed source."""
    sigs = {}
    for name, params in re.findall(prefix + r'(\w+)\s*\(([^)]*)\)\s*\{', text):
        types = []
        for prm in params.split(","):
            prm = " ".join(prm.replace("const", " ").replace("*", " * ").split())
            types.append(re.sub(r"\s*\w+$", "", prm).replace(" *", "*"))
        sigs[name] = types
    return sigs


def test_kernel_and_host_signatures_agree(tmp_path):
    """Every kernel has f32 and f64 variants with the same parameters, its host version takes
    the same ones (row kernels: + rows, nthr), and fused.py launches only existing kernels."""
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no C++ compiler (g++) on PATH")
    all_cu = tmp_path / "all.cpp"
    all_cu.write_text("".join(f'#include "{f}"\n' for f in CU_FILES))

    def preprocess(path):
        r = subprocess.run([cxx, "-E", "-P", "-x", "c++", "-I", str(KDIR), str(path)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout

    kernels = _kernel_signatures(preprocess(all_cu), r'extern "C" __global__ void ')
    hosts = _kernel_signatures(preprocess(KDIR / "host" / "harness.cpp"), r'extern "C" void host_')
    bases = {k[:-4] for k in kernels}
    assert len(bases) == 11 and set(kernels) == {b + s for b in bases for s in ("_f32", "_f64")}
    for b in sorted(bases):
        f32, f64 = kernels[b + "_f32"], kernels[b + "_f64"]
        assert [t.replace("float", "double") for t in f32] == f64, b
        extra = ["long long", "long long"] if b in ROW_KERNELS else []
        for s in ("_f32", "_f64"):
            assert hosts[b + s] == kernels[b + s] + extra, f"host_{b}{s} differs from the kernel"
    fused_src = (ROOT / "tinygrad_zh" / "cuda" / "fused.py").read_text()
    launched = re.findall(r'launch\(op, "(\w+\.cu)", "(\w+)"', fused_src)
    assert {name for _, name in launched} == bases, "every kernel has exactly one Python entry point"
    for filename, name in launched:
        assert f'void {name}_f32(' in (KDIR / filename).read_text(), (filename, name)


# ----------------------------------------------------------------------------- nvcc
@pytest.fixture(scope="module")
def nvcc_jobs(tmp_path_factory):
    """Start every ``nvcc -ptx`` compile at once (a few in parallel); tests wait for their own."""
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not on PATH")
    out = tmp_path_factory.mktemp("ptx")
    expanded = out / "expanded"
    expanded.mkdir()
    jobs = {}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2)))

    def run(cmd):
        return subprocess.run(cmd, capture_output=True, text=True)

    flags = ["--Werror", "all-warnings", "-Xcompiler", "-Wall"]
    for arch in ARCHS:
        for f in CU_FILES:
            cmd = [nvcc, "-ptx", f"-arch={arch}", *flags, str(KDIR / f), "-o", str(out / f"{f}.{arch}.ptx")]
            jobs[(f, arch)] = (cmd, pool.submit(run, cmd))
    for f in ("maxpool.cu",):    # the source handed to NVRTC (deepest include chain), self-contained
        src = expanded / f
        src.write_text(L.kernel_source(f))
        cmd = [nvcc, "-ptx", "-arch=sm_80", *flags, *L.compile_options(), str(src), "-o", str(src) + ".ptx"]
        jobs[(f, "expanded")] = (cmd, pool.submit(run, cmd))
    yield jobs
    pool.shutdown(wait=True)


def _check_nvcc(job):
    cmd, fut = job
    r = fut.result()
    msg = f"{' '.join(cmd)}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert r.returncode == 0, "nvcc failed: " + msg
    assert not r.stderr.strip() and "warning" not in r.stdout.lower(), "nvcc printed warnings: " + msg
    assert pathlib.Path(cmd[-1]).stat().st_size > 0


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("cu", CU_FILES)
def test_nvcc_compiles_without_warnings(nvcc_jobs, cu, arch):
    _check_nvcc(nvcc_jobs[(cu, arch)])


@pytest.mark.parametrize("cu", ["maxpool.cu"])
def test_nvcc_compiles_loader_source(nvcc_jobs, cu):
    """What launch.module() gives NVRTC (headers inlined, -DTG_ROW_THREADS) compiles on its own."""
    _check_nvcc(nvcc_jobs[(cu, "expanded")])


# ----------------------------------------------------------------------------- references vs the library
@pytest.mark.parametrize("name", ref.ACTIVATIONS)
def test_activation_reference_matches_tensor_ops(rng, name):
    x = rng.standard_normal((4, 5)) * 3
    x[0, 0] = 0.0
    t = tg.tensor(x, dtype="float64", requires_grad=True)
    y = getattr(t, name)()
    g = rng.standard_normal(x.shape)
    y.backward(tg.tensor(g, dtype="float64"))
    np.testing.assert_allclose(ref.activation_forward(name, x), y.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ref.activation_backward(name, g, x=x, y=y.numpy()), t.grad.numpy(),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_softmax_ce_reference_matches_ops_softmax(rng, reduction):
    from tinygrad_zh.ops.softmax import SoftmaxCrossEntropy
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 4, 6)
    t[1] = -100
    xt = tg.tensor(x, dtype="float64", requires_grad=True)
    out = SoftmaxCrossEntropy.apply(xt, tg.tensor(t), ignore_index=-100, reduction=reduction)
    loss, lse = ref.softmax_ce_forward(x, t)
    expect = loss.sum() / 5 if reduction == "mean" else loss
    np.testing.assert_allclose(out.numpy(), expect, rtol=1e-12)
    out.sum().backward()
    scale = 1 / 5 if reduction == "mean" else 1.0
    np.testing.assert_allclose(xt.grad.numpy(), ref.softmax_ce_backward(x, t, lse, scale), rtol=1e-12, atol=1e-14)


def test_lstm_reference_matches_ops_lstm(rng):
    lstm = pytest.importorskip("tinygrad_zh.ops.lstm")
    fwd = getattr(lstm, "lstm_cell_forward_arrays", None)
    bwd = getattr(lstm, "lstm_cell_backward_arrays", None)
    if fwd is None or bwd is None:
        pytest.skip("ops.lstm has no cell array helpers")
    B, H = 3, 4
    A = rng.standard_normal((B, 4 * H)) * 2
    c_prev, dh, dc = rng.standard_normal((3, B, H))
    ours = ref.lstm_cell_forward(A, c_prev)
    theirs = fwd(A.copy(), c_prev)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    for gh, gc in [(dh, dc), (dh, None)]:
        for a, b in zip(ref.lstm_cell_backward(ours[2], c_prev, ours[3], gh, gc),
                        bwd(ours[2], c_prev, ours[3], gh, gc)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape, k, s, p", GEOMETRIES)
def test_conv_references_match_ops_conv(rng, shape, k, s, p):
    conv = pytest.importorskip("tinygrad_zh.ops.conv")
    names = ("im2col_arrays", "col2im_arrays", "maxpool_forward_arrays", "maxpool_backward_arrays")
    if not all(hasattr(conv, n) for n in names):
        pytest.skip("ops.conv has no array helpers")
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)     # noqa: E731
    K, S, P = pair(k), pair(s), pair(p)
    x = rng.integers(-3, 4, shape).astype(np.float64)
    col = ref.im2col(x, k, s, p)
    np.testing.assert_array_equal(col, conv.im2col_arrays(x, K, S, P))
    np.testing.assert_allclose(ref.col2im(col, shape, k, s, p), conv.col2im_arrays(col, shape, K, S, P),
                               rtol=1e-12)
    if P[0] * 2 <= K[0] and P[1] * 2 <= K[1]:
        out, idx = ref.maxpool_forward(x, k, s, p)
        tout, tidx = conv.maxpool_forward_arrays(x, K, S, P)
        np.testing.assert_array_equal(out, tout)
        np.testing.assert_array_equal(idx, tidx)
        g = rng.standard_normal(out.shape)
        np.testing.assert_allclose(ref.maxpool_backward(g, idx, shape, k, s, p),
                                   conv.maxpool_backward_arrays(g, tidx, shape, K, S, P), rtol=1e-12)


# ----------------------------------------------------------------------------- references vs PyTorch
def test_lstm_reference_matches_torch_autograd(rng):
    torch = pytest.importorskip("torch")
    B, H = 3, 4
    A = rng.standard_normal((B, 4 * H)) * 2
    c_prev, dh, dc = rng.standard_normal((3, B, H))
    At, ct = torch.tensor(A, requires_grad=True), torch.tensor(c_prev, requires_grad=True)
    ai, af, ag, ao = At.chunk(4, dim=1)
    c = torch.sigmoid(af) * ct + torch.sigmoid(ai) * torch.tanh(ag)
    h = torch.sigmoid(ao) * torch.tanh(c)
    torch.autograd.backward([h, c], [torch.tensor(dh), torch.tensor(dc)])
    rh, rc, gates, tanh_c = ref.lstm_cell_forward(A, c_prev)
    np.testing.assert_allclose(rh, h.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(rc, c.detach().numpy(), rtol=1e-12)
    dA, dc_prev = ref.lstm_cell_backward(gates, c_prev, tanh_c, dh, dc)
    np.testing.assert_allclose(dA, At.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dc_prev, ct.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("weight_decay, decoupled", [(0.0, False), (0.1, False), (0.1, True)])
def test_adam_reference_matches_torch(rng, weight_decay, decoupled):
    torch = pytest.importorskip("torch")
    p0 = rng.standard_normal((3, 4))
    tp = torch.tensor(p0, requires_grad=True)
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([tp], lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=weight_decay)
    p, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    for step in range(1, 5):
        g = rng.standard_normal(p0.shape)
        tp.grad = torch.tensor(g)
        opt.step()
        p, m, v = ref.adam_step(p, g, m, v, 1e-2, 0.9, 0.99, 1e-8, weight_decay, step, decoupled)
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape, k, s, p", GEOMETRIES)
def test_conv_references_match_torch(rng, shape, k, s, p):
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    x = rng.standard_normal(shape)
    N, C = shape[:2]
    col = ref.im2col(x, k, s, p)                     # (C·KH·KW, N·L); torch's unfold: (N, C·KH·KW, L)
    unf = tF.unfold(torch.tensor(x), k, padding=p, stride=s).numpy()
    np.testing.assert_allclose(col.reshape(col.shape[0], N, -1).transpose(1, 0, 2), unf, rtol=1e-12)
    oh, ow = ref.window_geometry("t", shape, k, s, p)[10:]
    y = rng.standard_normal(col.shape)
    fold = tF.fold(torch.tensor(y.reshape(y.shape[0], N, -1).transpose(1, 0, 2).copy()), shape[2:], k,
                   padding=p, stride=s).numpy()
    np.testing.assert_allclose(ref.col2im(y, shape, k, s, p), fold, rtol=1e-10, atol=1e-12)
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)     # noqa: E731
    K, P = pair(k), pair(p)
    if P[0] * 2 <= K[0] and P[1] * 2 <= K[1]:
        xt = torch.tensor(x, requires_grad=True)
        tout, tidx = tF.max_pool2d(xt, k, s, p, return_indices=True)
        out, idx = ref.maxpool_forward(x, k, s, p)
        np.testing.assert_array_equal(out, tout.detach().numpy())
        # torch's index is h·W + w in the plane; ours is the offset inside the window
        h = np.arange(oh)[:, None] * pair(s)[0] - P[0] + idx // K[1]
        w = np.arange(ow)[None, :] * pair(s)[1] - P[1] + idx % K[1]
        np.testing.assert_array_equal(h * shape[3] + w, tidx.numpy())
        g = rng.standard_normal(out.shape)
        tout.backward(torch.tensor(g))
        np.testing.assert_allclose(ref.maxpool_backward(g, idx, shape, k, s, p), xt.grad.numpy(), rtol=1e-12)


def test_gelu_reference_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal(50) * 4
    xt = torch.tensor(x, requires_grad=True)
    y = torch.nn.functional.gelu(xt)
    y.backward(torch.ones_like(y))
    np.testing.assert_allclose(ref.activation_forward("gelu", x), y.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ref.activation_backward("gelu", np.ones(50), x=x), xt.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
    assert math.isclose(ref.activation_forward("gelu", np.array([1.0]))[0], 0.8413447460685429, rel_tol=1e-12)

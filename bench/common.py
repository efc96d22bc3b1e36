"""基准测试的公共部分：计时（交错重复取中位数）、线程数、设备同步、运行环境的描述。

Shared by ``bench/run.py`` and its parts (``overhead.py``, ``memory.py``, ``scaling.py``).
"""
import ctypes
import ctypes.util
import os
import platform
import statistics
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    # this checkout's library, before any installed copy; but after the PYTHONPATH entries, so that
    # PYTHONPATH=/some/other/checkout benchmarks that library (e.g. an older commit unpacked with
    # `git archive`) with this benchmark code
    _pythonpath = {os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    _after = [i for i, e in enumerate(sys.path) if os.path.abspath(e or ".") in _pythonpath]
    sys.path.insert(max(_after, default=0) + 1, ROOT)
# the independent yardstick (../shared/bench): its hand-written NumPy reference is imported, when
# present, to compare memory against; nothing else here depends on it
SHARED_BENCH = os.path.join(os.path.dirname(ROOT), "shared", "bench")


def try_torch(device="cpu"):
    """The torch module, or None when PyTorch is not installed or (``device="cuda"``) has no CUDA:
    the tables then have no torch column."""
    try:
        import torch
    except ImportError:
        return None
    if device == "cuda" and not torch.cuda.is_available():
        return None
    return torch


def pin_malloc():
    """Ask glibc malloc to keep freed memory (no trimming, no mmap for big blocks): otherwise a step
    that frees and re-allocates large arrays page-faults them in afresh every time, and timings
    depend on what ran before.  Returns True on success (glibc only)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        trim_threshold, mmap_max = -1, -4               # M_TRIM_THRESHOLD, M_MMAP_MAX in malloc.h
        return bool(libc.mallopt(trim_threshold, 2 ** 31 - 1) and libc.mallopt(mmap_max, 0))
    except (OSError, AttributeError, TypeError):
        return False


def set_threads(n, torch=None):
    """Use ``n`` BLAS threads in NumPy (needs threadpoolctl) and in torch. Returns what NumPy got."""
    if torch is not None:
        torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(n, user_api="blas")
        return n
    except ImportError:
        return None


def numpy_blas():
    """(name and version, threads) of NumPy's BLAS (threadpoolctl), else from numpy.show_config."""
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info["user_api"] == "blas":
                return f"{info['internal_api']} {info['version']} ({info.get('architecture', '')})", \
                    info["num_threads"]
    except ImportError:
        pass
    try:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{cfg.get('name')} {cfg.get('version')}", None
    except Exception:                                   # older NumPy: no mode="dicts"
        return "unknown", None


def environment(torch=None, device="cpu"):
    """A dict describing the machine and the versions, for the JSON summary and docs/benchmarks.md."""
    blas, threads = numpy_blas()
    env = dict(python=platform.python_version(), numpy=np.__version__, numpy_blas=blas,
               numpy_blas_threads=threads, cpus=os.cpu_count(), machine=platform.machine(),
               processor=_cpu_name(), device=device)
    if torch is not None:
        env.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
        if device == "cuda" and torch.cuda.is_available():
            env["gpu"] = torch.cuda.get_device_name(0)
    if device == "cuda":
        from tinygrad_zh import backend
        try:
            cupy = backend.require_cuda()            # CuPy, or the simulator's stand-in
        except RuntimeError:
            env["cupy"] = None
        else:
            env["cupy"] = cupy.__version__
            if getattr(cupy, "is_simulator", False):
                env["gpu"] = "CUDA simulator (TINYGRAD_ZH_CUDASIM=1): timings are not GPU timings"
            name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
            env.setdefault("gpu", name.decode() if isinstance(name, bytes) else name)
    import tinygrad_zh
    env["tinygrad_zh"] = getattr(tinygrad_zh, "__version__", "?")
    env["tinygrad_zh_path"] = os.path.dirname(os.path.dirname(os.path.abspath(tinygrad_zh.__file__)))
    return env


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def synchronizer(device, torch=None):
    """A function that waits for the GPU to finish queued work (a no-op on the CPU): GPU calls return
    before the work is done, so a timer must wait before reading the clock."""
    if device != "cuda":
        return lambda: None
    from tinygrad_zh import backend
    fns = [backend.require_cuda().cuda.Device().synchronize]   # CuPy, or the simulator's stand-in
    if torch is not None:
        fns.append(torch.cuda.synchronize)
    return lambda: [f() for f in fns]


def interleaved_times(steps, repeats=5, min_repeat_s=0.5, sync=lambda: None, max_steps=None):
    """Median and minimum ms per call of each function in ``steps`` ({name: fn}).

    Each function is warmed up (2 calls), then timed ``repeats`` times; the repeats of the different
    functions alternate (A B A B …), so a burst of load from other programs hits all of them alike.
    One repeat runs enough calls to last ``min_repeat_s`` (at most ``max_steps``)."""
    n = {}
    for name, fn in steps.items():
        fn()
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        one = max(time.perf_counter() - t0, 1e-6)
        n[name] = max(1, min(int(min_repeat_s / one) + 1, max_steps or 10 ** 9))
    times = {name: [] for name in steps}
    for _ in range(repeats):
        for name, fn in steps.items():
            fn()                                    # one untimed call: caches warm for this function
            sync()
            t0 = time.perf_counter()
            for _ in range(n[name]):
                fn()
            sync()
            times[name].append((time.perf_counter() - t0) / n[name] * 1e3)
    return {name: dict(median_ms=statistics.median(t), min_ms=min(t), calls=n[name], repeats=repeats)
            for name, t in times.items()}

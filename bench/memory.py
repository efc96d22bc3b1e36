"""内存：一步训练的峰值（与手写 NumPy 对比），以及长时间训练是否有增长（泄漏）。

* **peak**: ``tracemalloc`` traces every NumPy buffer and Python object allocated after it starts.
  It is started before the model is built, so "peak" is everything a training step needs at its
  worst moment: parameters, optimizer state, the batch, activations kept for backward, gradients.
  The same is measured for the hand-written NumPy step of the yardstick (``../shared/bench/numpy_ref``,
  imported when that folder exists): ratio = tinygrad_zh peak / NumPy peak.
* **growth**: traced memory sampled while training for many steps; it must stay flat (a graph that
  is never freed, a list that keeps every loss, a cache that grows per step would all show here).

CPU only: tracemalloc does not see GPU memory.
"""
import gc
import os
import sys
import tracemalloc

import tinygrad_zh.nn.functional  # noqa: F401  (imported before tracemalloc starts: modules are not
import tinygrad_zh.optim  # noqa: F401             part of a step's memory)
from common import SHARED_BENCH
from models import tg_step

MB = 2 ** 20


def _numpy_reference():
    """(numpy_ref, workloads) modules of the yardstick, or (None, None) when it is not there."""
    if not os.path.isdir(SHARED_BENCH):
        return None, None
    if SHARED_BENCH not in sys.path:
        sys.path.append(SHARED_BENCH)
    import numpy_ref
    import workloads
    return numpy_ref, workloads


def _peak(build, warm_steps=2):
    """(MB traced after warm-up, peak MB during one more step) of the step that build() returns."""
    gc.collect()
    tracemalloc.start()
    try:
        step = build()
        for _ in range(warm_steps):         # the first step allocates optimizer state
            step()
        gc.collect()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return base / MB, peak / MB


def peak_memory(names):
    """{workload: {tg_peak_mb, numpy_peak_mb, ratio, tg_base_mb, numpy_base_mb}}."""
    numpy_ref, workloads = _numpy_reference()
    out = {}
    for name in names:
        tg_base, tg_peak = _peak(lambda: tg_step(name)[0])
        row = dict(tg_base_mb=round(tg_base, 1), tg_peak_mb=round(tg_peak, 1), numpy_base_mb=None,
                   numpy_peak_mb=None, ratio=None)
        if numpy_ref is not None:
            np_base, np_peak = _peak(lambda: numpy_ref.Workload(name, workloads.init_params(name),
                                                                workloads.make_data(name)).step)
            row.update(numpy_base_mb=round(np_base, 1), numpy_peak_mb=round(np_peak, 1),
                       ratio=round(tg_peak / np_peak, 3))
        out[name] = row
        gc.collect()
    return out


def growth(steps, samples=10):
    """Traced memory while training for ``steps`` steps: the MNIST MLP and a small LSTM language
    model.  {model: {"steps", "samples_kb", "growth_kb", "growth_second_half_kb"}}; growth = last
    sample − first sample."""
    models = {"mlp_mnist": dict(name="mlp_mnist"),
              "lstm_lm_small": dict(name="lstm_lm_char", embed=16, hidden=32, seq=16, batch=8)}
    out = {}
    for label, kw in models.items():
        step = tg_step(**kw)[0]
        for _ in range(max(3, steps // 50)):     # warm-up: optimizer state, caches, scratch buffers
            step()
        gc.collect()
        tracemalloc.start()
        try:
            every = max(1, steps // samples)
            kb = []
            for i in range(steps):
                step()
                if (i + 1) % every == 0:
                    gc.collect()
                    kb.append(round(tracemalloc.get_traced_memory()[0] / 1024, 1))
        finally:
            tracemalloc.stop()
        # NumPy keeps freed small buffers in a bounded cache, so the first samples may creep up by a few
        # KB; a leak keeps growing: the second half of the run is the telling number
        out[label] = dict(steps=steps, samples_kb=kb, growth_kb=round(kb[-1] - kb[0], 1),
                          growth_second_half_kb=round(kb[-1] - kb[len(kb) // 2 - 1], 1))
    return out

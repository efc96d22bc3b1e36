"""基准脚本在 cuda 上能跑通（没有 GPU 时在 CUDA 模拟器上）。

The benchmark's cuda mode runs end to end: ``python bench/run.py --smoke --device cuda`` (every
section once, smallest sizes) in a subprocess. On a machine without a GPU it runs on the CUDA
simulator (tests/conftest.py sets TINYGRAD_ZH_CUDASIM=1, which the subprocess inherits), so a bench
that would crash at first contact with a GPU (it once imported ``cupy`` directly, and asked PyTorch
for CUDA tensors it cannot make) fails here. The figures are not checked: simulator timings mean
nothing; real GPU figures come from ``bench/gpu_check.sh`` (docs/benchmarks.md).
"""
import json
import os
import pathlib
import subprocess
import sys

import pytest

import tinygrad_zh as tg

ROOT = pathlib.Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not tg.backend.cuda_available(), reason="needs a GPU or the CUDA simulator")]


# lstm_lm_word runs the same code as lstm_lm_char with a 10,000-word vocabulary: 10 s more on the simulator
WORKLOADS = "mlp_mnist,lstm_lm_char,cnn_binary,mlp_regression"


def test_bench_cuda_mode_runs_every_section():
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--device", "cuda", "--no-plots",
                        "--workloads", WORKLOADS],
                       cwd=ROOT, capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["env"]["device"] == "cuda" and out["args"]["smoke"] is True
    if getattr(tg.backend.require_cuda(), "is_simulator", False):
        assert "simulator" in out["env"]["gpu"]            # never passed off as GPU timings
    assert out["overhead"]["tg_us_per_op"] > 0
    assert out["memory"].startswith("not measured on cuda")
    assert set(out["scaling"]) == {"mlp_batch", "lstm_hidden", "lstm_seq"}
    assert all(len(points) == 1 and points[0]["tg_ms"] > 0 for points in out["scaling"].values())
    assert set(out["workloads"]) == set(WORKLOADS.split(","))
    assert all(row["tg_ms"] > 0 for row in out["workloads"].values())

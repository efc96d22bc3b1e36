#!/usr/bin/env bash
# gpu_check.sh —— 在一台真正有 NVIDIA GPU 的机器上一次检查 CUDA 路径（无网络，包已装好，< 8 分钟）。
#
# Run on a machine with an NVIDIA GPU, CuPy (cupy-cuda12x / cupy-cuda13x), PyTorch with CUDA and
# this repository's dev extras already installed; needs no network. Steps, each with a time limit:
#   1. preflight: CuPy and PyTorch see the GPU; every kernels/*.cu compiles with NVRTC (RawModule)
#      and each extern "C" kernel is found;
#   2. pytest -m cuda on the real GPU (the simulator is switched off: TINYGRAD_ZH_CUDASIM=0);
#   3. each example in examples/ on --device cuda for a few hundred steps (--max-steps);
#   4. the benchmark's cuda mode against PyTorch CUDA, quick (python bench/run.py --quick --device cuda).
# Writes one summary file (default bench/results/gpu_check-<date>.txt; or $1) with the device name,
# versions, each step's status and time, and the tail of each step's log; exit status = number of
# failed steps. Time limits: 60 + 150 + 6 x 25 + 110 = 470 s at most (< 8 min).
# Usage: bash bench/gpu_check.sh [summary-file]
set -u
cd "$(dirname "$0")/.."
export TINYGRAD_ZH_CUDASIM=0 PYTHONUNBUFFERED=1
PY=${PYTHON:-python}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=${1:-bench/results/gpu_check-$STAMP.txt}
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
FAILED=0
T0=$(date +%s)

note() { echo "$*" | tee -a "$OUT"; }

# step NAME LIMIT_SECONDS COMMAND...: run with a timeout, log to $LOGS/NAME.log, record the result
step() {
  local name=$1 limit=$2; shift 2
  local log="$LOGS/$name.log" s e rc
  s=$(date +%s)
  timeout --signal=TERM --kill-after=10 "$limit" "$@" > "$log" 2>&1
  rc=$?
  e=$(date +%s)
  if [ "$rc" -eq 0 ]; then status=PASS; else status="FAIL (exit $rc$([ "$rc" -eq 124 ] && echo ', timed out'))"; FAILED=$((FAILED + 1)); fi
  note "== $name: $status in $((e - s)) s  [$*]"
  tail -n 15 "$log" | sed 's/^/   | /' >> "$OUT"
}

note "tinygrad_zh GPU check $STAMP on $(hostname)  (commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/GPU: /' | tee -a "$OUT"

# ---- 1. preflight
cat > "$LOGS/preflight.py" <<'PYEOF'
import re, sys, time
import cupy, torch
import tinygrad_zh as tg
import tinygrad_zh.cuda
from tinygrad_zh import backend
from tinygrad_zh.cuda import launch
print("cupy", cupy.__version__, "CUDA runtime", cupy.cuda.runtime.runtimeGetVersion(),
      "driver", cupy.cuda.runtime.driverGetVersion())
n = cupy.cuda.runtime.getDeviceCount()
name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
print("cupy devices:", n, name.decode() if isinstance(name, bytes) else name)
assert n >= 1, "CuPy sees no GPU"
print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
assert torch.cuda.is_available(), "PyTorch does not see the GPU"
print("torch device:", torch.cuda.get_device_name(0))
assert backend.cuda_available(), backend._cupy_error
assert not getattr(backend.require_cuda(), "is_simulator", False), "the simulator is on"
print("tg.cuda.get_device_name():", tg.cuda.get_device_name())
print("NVRTC", cupy.cuda.nvrtc.getVersion())
for cu in sorted(p.name for p in launch.kernel_dir().glob("*.cu")):
    t = time.perf_counter()
    names = re.findall(r'extern "C" __global__ void (\w+)\(', (launch.kernel_dir() / cu).read_text())
    mod = launch.module(cu)
    for k in names:
        mod.get_function(k)
    print(f"NVRTC {cu}: {len(names)} kernels in {time.perf_counter() - t:.2f} s")
x = tg.randn(64, 10, device="cuda", requires_grad=True)
loss = tg.nn.functional.cross_entropy(x, tg.randint(0, 10, (64,), device="cuda"))
loss.backward()
cupy.cuda.Device().synchronize()
print("cross_entropy on cuda:", loss.item(), "grad", tuple(x.grad.shape))
PYEOF
step preflight 60 "$PY" "$LOGS/preflight.py"

# ---- 2. the GPU tests
step pytest-cuda 150 "$PY" -m pytest -q -m cuda -p no:cacheprovider -x --durations=5

# ---- 3. examples (a few hundred steps each on the GPU)
for ex in "mnist_mlp.py" "cnn_binary.py" "regression_mlp.py" "text_classifier.py --model bag" \
          "text_classifier.py --model lstm" "char_lstm.py --generate 50"; do
  nm=example-$(echo "$ex" | tr ' .' '__' | sed 's/--//g')
  # shellcheck disable=SC2086
  step "$nm" 25 "$PY" examples/$ex --device cuda --epochs 1 --max-steps 300 --quiet
done

# ---- 4. the benchmark's cuda mode against PyTorch CUDA (quick)
step bench-cuda-quick 110 "$PY" bench/run.py --quick --device cuda --no-plots

note "total: $(( $(date +%s) - T0 )) s, failed steps: $FAILED   (logs in $LOGS)"
echo "summary written to $OUT"
exit "$FAILED"

"""tinygrad_zh 自己的基准套件：每个运算的开销、内存、扩展曲线、五个示例模型的每步时间。

    python bench/run.py                      # everything on the CPU (a few minutes)
    python bench/run.py --quick              # fewer points and repeats, 1,000 steps of growth check
    python bench/run.py --smoke --device cuda   # every section once, smallest sizes: does it run? (CI, simulator)
    python bench/run.py --steps 2000         # memory growth over 2,000 steps instead of 10,000
    python bench/run.py --only overhead,memory
    python bench/run.py --device cuda        # GPU: tinygrad_zh (CuPy) against PyTorch CUDA
    python bench/run.py --replot run.log     # redraw docs/img/bench_*.png from a saved run's output

Sections (``--only`` picks some):

* ``overhead``: µs per op of a chain of 1,000 tiny element-wise ops, forward + backward, vs PyTorch.
* ``memory`` (CPU): peak traced memory of one training step of each workload vs the hand-written
  NumPy step of ``../shared/bench`` (when present), and memory growth over ``--steps`` steps.
* ``scaling``: MLP step time vs batch size, LSTM step time vs hidden size and sequence length,
  next to PyTorch; plotted to docs/img/bench_*.png (``--no-plots`` to skip).
* ``workloads``: ms per training step of the five example architectures (models.py) in
  tinygrad_zh, PyTorch and, on the CPU, the hand-written NumPy reference.

Timings alternate between the frameworks (common.interleaved_times) and report medians; glibc malloc
is pinned (common.pin_malloc) as in the yardstick.  The last line printed is a JSON summary.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import ROOT, environment, interleaved_times, pin_malloc, set_threads, synchronizer, try_torch  # noqa: E402
from models import CONFIGS, tg_step, torch_step  # noqa: E402

SECTIONS = ("overhead", "memory", "scaling", "workloads")


def _workloads(names, device, quick, sync, log, smoke=False):
    """ms/step of each workload in tinygrad_zh, PyTorch and (CPU) the yardstick's NumPy reference."""
    from memory import _numpy_reference
    torch = try_torch(device)
    numpy_ref, wl = _numpy_reference() if device == "cpu" else (None, None)
    out = {}
    for name in names:
        steps = {"tg": tg_step(name, device)[0]}
        if torch is not None:
            steps["torch"] = torch_step(name, device)[0]
        if numpy_ref is not None:
            steps["numpy"] = numpy_ref.Workload(name, wl.init_params(name), wl.make_data(name)).step
        res = interleaved_times(steps, repeats=1 if smoke else 3 if quick else 5,
                                min_repeat_s=0.0 if smoke else 0.3 if quick else 1.0, sync=sync)
        row = {f"{k}_ms": round(v["median_ms"], 3) for k, v in res.items()}
        for ref in ("torch", "numpy"):
            if f"{ref}_ms" in row:
                row[f"tg/{ref}"] = round(row["tg_ms"] / row[f"{ref}_ms"], 3)
        out[name] = row
        log(f"  {name:15s} " + "  ".join(f"{k} {v:9.3f}" if k.endswith("_ms") else f"{k} {v:.2f}"
                                         for k, v in row.items()))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer points and repeats (about a minute or two)")
    ap.add_argument("--smoke", action="store_true",
                    help="every section once at its smallest size, one repeat: checks that the benchmark runs "
                         "(CI runs it on the CUDA simulator); its figures mean nothing")
    ap.add_argument("--steps", type=int, default=None,
                    help="steps of the memory growth check (default 10000, --quick 1000)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=None,
                    help="BLAS threads for NumPy and torch (default: leave NumPy's, give torch the same)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {SECTIONS}")
    ap.add_argument("--workloads", default=",".join(CONFIGS), help="workloads of the memory/workloads sections")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--default-malloc", action="store_true", help="do not pin glibc malloc")
    ap.add_argument("--replot", metavar="LOG",
                    help="only redraw the plots from the JSON line (the last line) of an earlier run's output")
    args = ap.parse_args(argv)
    if args.replot:
        from scaling import plot
        with open(args.replot) as f:
            last = json.loads(f.read().strip().splitlines()[-1])
        for path in plot(last["scaling"], last["env"].get("device", "cpu")):
            print(os.path.relpath(path, ROOT))
        return
    sections = [s for s in args.only.split(",") if s]
    bad = set(sections) - set(SECTIONS)
    if bad:
        ap.error(f"unknown sections {sorted(bad)}; expected some of {SECTIONS}")
    names = [n for n in args.workloads.split(",") if n]
    args.quick = args.quick or args.smoke
    steps = args.steps if args.steps is not None else (100 if args.smoke else 1000 if args.quick else 10000)

    malloc = "default" if args.default_malloc else ("pinned" if pin_malloc() else "default (mallopt failed)")
    torch = try_torch()
    if args.device == "cuda":
        import tinygrad_zh.backend as backend
        backend.require_cuda()                       # a clear error when CuPy / a GPU is missing
        if torch is not None and not torch.cuda.is_available():
            print("torch has no CUDA here: timing tinygrad_zh alone")
            torch = None
    if args.threads:
        set_threads(args.threads, torch)
    elif torch is not None:
        from common import numpy_blas
        n = numpy_blas()[1]
        if n:
            torch.set_num_threads(n)                 # the same number of cores as NumPy's BLAS
    sync = synchronizer(args.device, torch)
    env = environment(torch, args.device)
    env["malloc"] = malloc
    print("env: " + ", ".join(f"{k}={v}" for k, v in env.items()), flush=True)
    summary = dict(env=env, args=vars(args))
    t_start = time.perf_counter()

    if "overhead" in sections:
        from overhead import per_op_overhead
        o = per_op_overhead(args.device, repeats=1 if args.smoke else 5 if args.quick else 9, sync=sync)
        summary["overhead"] = o
        print(f"\n[overhead] chain of {o['n_ops']} tiny ops, forward + backward: tinygrad_zh "
              f"{o['tg_us_per_op']} µs/op" + (f", PyTorch {o['torch_us_per_op']} µs/op, ratio "
                                             f"{o['ratio_tg_torch']}" if o["torch_us_per_op"] else ""),
              flush=True)

    if "memory" in sections and args.device == "cpu":
        from memory import growth, peak_memory
        print("\n[memory] peak of one training step (tracemalloc, MB)", flush=True)
        peak = peak_memory(names)
        for name, r in peak.items():
            print(f"  {name:15s} tinygrad_zh {r['tg_peak_mb']:8.1f}" +
                  (f"   numpy {r['numpy_peak_mb']:8.1f}   ratio {r['ratio']:.2f}" if r["ratio"] else ""),
                  flush=True)
        print(f"[memory] growth over {steps} steps (traced KB, sampled 10 times)", flush=True)
        grow = growth(steps)
        for name, r in grow.items():
            print(f"  {name:15s} growth {r['growth_kb']:+8.1f} KB (second half {r['growth_second_half_kb']:+.1f} KB)"
                  f"   samples {r['samples_kb']}", flush=True)
        summary["memory"] = dict(peak=peak, growth=grow)
    elif "memory" in sections:
        summary["memory"] = "not measured on cuda (tracemalloc sees host memory only)"

    if "scaling" in sections:
        from scaling import CURVES, plot, run_curve
        print("\n[scaling] ms per training step", flush=True)
        curves = {k: run_curve(k, args.quick, args.device, sync, smoke=args.smoke) for k in CURVES}
        summary["scaling"] = curves
        if not args.no_plots:
            summary["plots"] = [os.path.relpath(p, ROOT) for p in plot(curves, args.device)]
            print("  plots: " + ", ".join(summary["plots"]), flush=True)

    if "workloads" in sections:
        print("\n[workloads] ms per training step (median of interleaved repeats)", flush=True)
        summary["workloads"] = _workloads(names, args.device, args.quick, sync, print, smoke=args.smoke)

    summary["wall_s"] = round(time.perf_counter() - t_start, 1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

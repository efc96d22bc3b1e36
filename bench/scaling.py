"""扩展曲线：模型变大时每步时间怎么变，tinygrad_zh 与 PyTorch 并排。

* MLP (784-500-10, SGD): batch 16 → 1024.  Small batches show the fixed cost per step (Python,
  per-op overhead); large ones the matrix products (BLAS).
* LSTM language model (vocab 65, 2 layers, Adam): hidden size 100 → 800 at sequence length 35, and
  sequence length 35 → 280 at hidden size 200.  Work grows ~H² and ~T; the recurrence is T small
  matrix products per layer and direction, which is where fused native kernels (PyTorch) help most.

Each point times ``models.tg_step`` and ``models.torch_step`` in alternation (common.interleaved_times).
"""
import os

from common import ROOT, interleaved_times, try_torch
from models import tg_step, torch_step

CURVES = {
    "mlp_batch": dict(workload="mlp_mnist", param="batch", label="batch size",
                      full=[16, 32, 64, 128, 256, 512, 1024], quick=[16, 64, 256, 1024]),
    "lstm_hidden": dict(workload="lstm_lm_char", param="hidden", label="LSTM hidden size (seq 35)",
                        full=[100, 200, 400, 800], quick=[100, 200, 400]),
    "lstm_seq": dict(workload="lstm_lm_char", param="seq", label="sequence length (hidden 200)",
                     full=[35, 70, 140, 280], quick=[35, 70, 140]),
}


def run_curve(key, quick=False, device="cpu", sync=lambda: None, log=print, smoke=False):
    """[{value, tg_ms, torch_ms, ratio}] for the points of curve ``key`` (``smoke``: the first point,
    timed once)."""
    spec, torch = CURVES[key], try_torch(device)
    points = []
    for v in spec["quick" if quick else "full"][:1 if smoke else None]:
        kw = {spec["param"]: v}
        steps = {"tg": tg_step(spec["workload"], device, **kw)[0]}
        if torch is not None:
            steps["torch"] = torch_step(spec["workload"], device, **kw)[0]
        res = interleaved_times(steps, repeats=1 if smoke else 2 if quick else 3,
                                min_repeat_s=0.0 if smoke else 0.2 if quick else 0.5, sync=sync)
        row = dict(value=v, tg_ms=round(res["tg"]["median_ms"], 3),
                   torch_ms=round(res["torch"]["median_ms"], 3) if torch is not None else None)
        row["ratio"] = round(row["tg_ms"] / row["torch_ms"], 3) if row["torch_ms"] else None
        points.append(row)
        log(f"  {key:12s} {spec['param']}={v:<5d} tg {row['tg_ms']:10.2f} ms" +
            (f"   torch {row['torch_ms']:10.2f} ms   tg/torch {row['ratio']:.2f}" if row["torch_ms"] else ""))
    return points


def plot(curves, device="cpu", outdir=None):
    """One PNG per curve (docs/img/bench_<key>.png): ms/step against the size, log-log, with the
    tg/torch ratio written at each point.  Returns the written paths ([] without matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    outdir = outdir or os.path.join(ROOT, "docs", "img")
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for key, points in curves.items():
        spec = CURVES[key]
        xs = [p["value"] for p in points]
        fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=110)
        ax.plot(xs, [p["tg_ms"] for p in points], "o-", label="tinygrad_zh")
        if all(p["torch_ms"] for p in points):
            ax.plot(xs, [p["torch_ms"] for p in points], "s--", label="PyTorch")
            for p in points:
                ax.annotate(f"{p['ratio']:.2f}×", (p["value"], p["tg_ms"]), textcoords="offset points",
                            xytext=(0, 7), ha="center", fontsize=7)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(xs)
        ax.set_xticklabels([str(x) for x in xs])
        ax.set_xlabel(spec["label"])
        ax.set_ylabel("ms per training step")
        ax.set_title(f"{spec['workload']}: step time vs {spec['param']} ({device})\n"
                     "numbers: time ratio tinygrad_zh / PyTorch", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        suffix = "" if device == "cpu" else f"_{device}"
        path = os.path.join(outdir, f"bench_{key}{suffix}.png")
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths

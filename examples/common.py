"""示例共用的小工具：命令行参数、进度条、检查点、画图、最后一行 JSON。

Shared by every example so each script reads top to bottom as data -> model -> loss -> optimizer
-> loop -> evaluate, without copy-pasted plumbing.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))          # run from any directory without installing

import tinygrad_zh as tg  # noqa: E402

DATA_DIR = os.path.join(os.path.dirname(HERE), "data")


def make_parser(description, epochs, batch_size, lr):
    """The flags every example has (defaults are the example's fixed settings)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--data-dir", default=None, help="folder with the data files (default: the repo's data/)")
    p.add_argument("--max-steps", type=int, default=None, help="stop each epoch after this many steps (quick runs)")
    p.add_argument("--checkpoint", default=None, help="save model+optimizer+RNG here after every epoch")
    p.add_argument("--resume", default=None, help="continue exactly from a checkpoint")
    p.add_argument("--plot", default=None, help="write loss/metric curves to this PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    return p


def setup(args, dataset_folder):
    """Seed everything, check the device, and return the data folder for this example."""
    tg.manual_seed(args.seed)
    if args.device == "cuda":
        tg.backend.require_cuda()      # clear error that says how to install the GPU extra
    base = args.data_dir or DATA_DIR
    folder = os.path.join(base, dataset_folder)
    return folder if os.path.isdir(folder) else base


def log(args, *msg):
    if not args.quiet:
        print(*msg, flush=True)


def progress(args, loader, epoch, total=None):
    """A tqdm bar over the batches of one epoch (plain iteration with --quiet or without tqdm)."""
    total = total if total is not None else len(loader)
    if args.max_steps is not None:
        total = min(total, args.max_steps)
    if args.quiet:
        return _Plain(loader, total)
    try:
        from tqdm import tqdm
    except ImportError:
        return _Plain(loader, total)
    return tqdm(_limit(loader, total), total=total, desc=f"epoch {epoch}", unit="batch",
                leave=False, dynamic_ncols=True, mininterval=0.5)


def _limit(it, n):
    for i, x in enumerate(it):
        if i >= n:
            break
        yield x


class _Plain:
    def __init__(self, it, total):
        self.it, self.total = it, total

    def __iter__(self):
        return _limit(self.it, self.total)

    def set_postfix(self, **kw):
        pass

    def close(self):
        pass


class Meter:
    """Running mean of the loss and samples/s for the progress bar."""

    def __init__(self):
        self.loss_sum, self.n, self.t0 = 0.0, 0, time.perf_counter()

    def update(self, bar, loss, batch):
        self.loss_sum += loss * batch
        self.n += batch
        bar.set_postfix(loss=f"{self.loss_sum / self.n:.4f}",
                        samples_s=f"{self.n / max(time.perf_counter() - self.t0, 1e-9):.0f}",
                        refresh=False)

    @property
    def mean(self):
        return self.loss_sum / max(self.n, 1)


# ----------------------------------------------------------------------------- checkpoints
def save_checkpoint(path, model, optimizer, epoch, history, extra=None):
    """Atomic save of everything needed to continue exactly (tg.save writes a temp file, then renames)."""
    tg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
             "history": history, "rng": _rng_json(), "extra": extra or {}}, path)


def load_checkpoint(path, model, optimizer, map_location=None):
    """Restore model, optimizer and RNG; returns (next_epoch, history, extra)."""
    ck = tg.load(path, map_location=map_location)
    for key in ("model", "optimizer", "epoch", "rng"):
        if key not in ck:
            raise KeyError(f"--resume {path}: not an example checkpoint (missing key {key!r})")
    model.load_state_dict(ck["model"])       # raises naming the key if it is from another model
    optimizer.load_state_dict(ck["optimizer"])
    tg.random.set_rng_state(_rng_from_json(ck["rng"]))
    return int(ck["epoch"]) + 1, ck["history"], ck.get("extra", {})


def _rng_json():
    return json.dumps(tg.random.get_rng_state())


def _rng_from_json(s):
    return json.loads(s)


# ----------------------------------------------------------------------------- plots & output
def plot_history(path, history, title, loss_keys=None):
    """Loss curve (train/val) and the metric curves, one panel each, to a PNG.

    ``loss_keys`` names the curves of the left panel (default: names with loss/ppl/rmse in them).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator
    keys = [k for k in history if history[k]]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for k in keys:
        on_left = k in loss_keys if loss_keys is not None else ("loss" in k or "ppl" in k or "rmse" in k)
        ax = axes[0] if on_left else axes[1]
        xs = np.arange(1, len(history[k]) + 1)
        ax.plot(xs, history[k], marker="o", label=k)
    for ax, name in zip(axes, ("loss", "metric")):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))     # whole epochs on the x axis
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def finish(name, args, metrics, t0, **settings):
    """Print the final JSON line (always the very last line of output)."""
    out = {"example": name, **metrics, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
           "seed": args.seed, "device": args.device, "dtype": args.dtype, "max_steps": args.max_steps,
           **settings, "seconds": round(time.time() - t0, 2)}
    for k, v in out.items():
        if isinstance(v, float):
            out[k] = round(v, 6) if math.isfinite(v) else str(v)
    print(json.dumps(out), flush=True)
    return out

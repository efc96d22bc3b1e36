"""示例共用的小工具：命令行参数、进度条、检查点、画图、最后一行 JSON、数据并行。

Shared by every example so each script reads top to bottom as data -> model -> loss -> optimizer
-> loop -> evaluate, without copy-pasted plumbing.

Every run tells the truth:

* arguments and output paths are checked before any data is read (``--max-steps 0``, ``--epochs -1``,
  ``--lr nan``, ``--plot`` into a missing folder or without matplotlib are refused at once);
* ``--resume`` continues with the settings the checkpoint was trained with; a flag given on the
  command line that contradicts them (``--lr 0.5`` for a run trained with 0.01) is refused with a
  clear error, and the final JSON line reports the settings that were actually used;
* a loss that stops being finite stops the run with a message and a non-zero exit status
  (``--detect-anomaly`` then names the operation that produced the first NaN/inf gradient).
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))          # run from any directory without installing

import tinygrad_zh as tg  # noqa: E402

DATA_DIR = os.path.join(os.path.dirname(HERE), "data")


# settings that decide what a run computes: a resumed run must use the checkpoint's (examples add
# their own, e.g. --dataset, --model, --tokens); --epochs, --device, --data-dir, --quiet ... may change
RUN_SETTINGS = ("batch_size", "lr", "seed", "dtype", "max_steps")


class NonFiniteLossError(RuntimeError):
    """The training loss (or an evaluation metric) became NaN or infinite: the run stops."""


def positive_int(text):
    """argparse type: an integer >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {v}")
    return v


def nonnegative_int(text):
    """argparse type: an integer >= 0."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {v}")
    return v


def positive_float(text):
    """argparse type: a finite number > 0 (``nan``, ``inf``, 0 and negatives are refused)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {v}")
    return v


def make_parser(description, epochs, batch_size, lr):
    """The flags every example has (defaults are the example's fixed settings)."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=positive_int, default=epochs)
    p.add_argument("--batch-size", type=positive_int, default=batch_size)
    p.add_argument("--lr", type=positive_float, default=lr)
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--data-dir", default=None, help="folder with the data files (default: the repo's data/)")
    p.add_argument("--max-steps", type=positive_int, default=None,
                   help="stop each epoch after this many steps (quick runs)")
    p.add_argument("--checkpoint", default=None, help="save model+optimizer+RNG here after every epoch")
    p.add_argument("--resume", default=None,
                   help="continue exactly from a checkpoint (with the settings it was trained with)")
    p.add_argument("--plot", default=None, help="write loss/metric curves to this PNG")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    p.add_argument("--detect-anomaly", action="store_true",
                   help="backward raises at the first NaN/inf gradient, naming the operation (slower)")
    return p


def parse_args(parser, argv=None, settings=(), resolve=None):
    """Parse and check the command line before any data is read.

    ``settings``: this example's flags (dest names) that, with ``RUN_SETTINGS``, decide what the run
    computes. ``resolve(args)`` fills defaults that depend on other flags (e.g. the epochs of a
    dataset); it runs after the checkpoint's settings have been applied.

    With ``--resume``: settings not given on the command line are taken from the checkpoint; a given
    one that differs from the checkpoint's is an error (exit status 2, like any bad argument)."""
    args = parser.parse_args(argv)
    args.run_settings = tuple(RUN_SETTINGS) + tuple(settings)
    _check_outputs(parser, args)
    args.checkpoint_state, args.resumed_from_epoch = None, None
    if args.resume:
        ck = _read_checkpoint(parser, args.resume)
        recorded = (ck.get("extra") or {}).get("settings")
        if recorded is None:
            warnings.warn(f"--resume {args.resume}: the checkpoint does not record its settings (written by an "
                          f"older version); continuing with the command line's settings", stacklevel=2)
        else:
            _apply_recorded(parser, args, argv, recorded)
        args.checkpoint_state, args.resumed_from_epoch = ck, int(ck["epoch"])
    if resolve is not None:
        resolve(args)
    if args.resume and args.resumed_from_epoch >= args.epochs:
        parser.error(f"--resume {args.resume}: the checkpoint has already trained {args.resumed_from_epoch} "
                     f"epoch(s) and --epochs is {args.epochs}, so there is nothing left to train; pass "
                     f"--epochs {args.resumed_from_epoch + 1} or more")
    return args


def _option(parser, dest):
    for a in parser._actions:
        if a.dest == dest and a.option_strings:
            return a.option_strings[0]
    return "--" + dest.replace("_", "-")


def _explicit(parser, argv):
    """The dest names given on the command line (parsed again with every default replaced by a marker)."""
    marker = object()
    saved = [(a, a.default) for a in parser._actions]
    try:
        for a, _ in saved:
            a.default = marker
        ns = parser.parse_args(argv)
    finally:
        for a, d in saved:
            a.default = d
    return {k for k, v in vars(ns).items() if v is not marker}


def _apply_recorded(parser, args, argv, recorded):
    explicit = _explicit(parser, argv)
    conflicts = []
    for k in args.run_settings:
        if k not in recorded:
            continue
        if k in explicit and getattr(args, k) != recorded[k]:
            conflicts.append(f"{_option(parser, k)} {getattr(args, k)} (the checkpoint was trained with "
                             f"{recorded[k]})")
        else:
            setattr(args, k, recorded[k])
    if conflicts:
        parser.error(f"--resume {args.resume}: this run asks for " + "; ".join(conflicts) + ". A resumed run "
                     "continues exactly with the checkpoint's settings: drop these flags, or train a new run "
                     "without --resume")


def _read_checkpoint(parser, path):
    if not os.path.isfile(path):
        parser.error(f"--resume {path}: no such file")
    ck = tg.load(path)
    if not isinstance(ck, dict):
        raise KeyError(f"--resume {path}: not an example checkpoint (a {type(ck).__name__}, not a dict)")
    for key in ("model", "optimizer", "epoch", "rng"):
        if key not in ck:
            raise KeyError(f"--resume {path}: not an example checkpoint (missing key {key!r})")
    return ck


def _check_outputs(parser, args):
    """Output paths must be writable now, not after an hour of training."""
    for flag, path in (("--checkpoint", args.checkpoint), ("--plot", args.plot)):
        if path is None:
            continue
        if os.path.isdir(path):
            parser.error(f"{flag} {path}: is a folder; give a file name")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            parser.error(f"{flag} {path}: the folder {folder!r} does not exist (create it first)")
        if not os.access(folder, os.W_OK):
            parser.error(f"{flag} {path}: the folder {folder!r} is not writable")
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error(f"--plot {args.plot} needs matplotlib, which is not installed: pip install matplotlib "
                         f"(or run without --plot)")


def settings_of(args):
    """The run settings recorded in a checkpoint (see ``RUN_SETTINGS``)."""
    return {k: getattr(args, k) for k in args.run_settings}


def setup(args, dataset_folder):
    """Seed everything, check the device, and return the data folder for this example."""
    tg.manual_seed(args.seed)
    if args.device == "cuda":
        tg.backend.require_cuda()      # clear error that says how to install the GPU extra
    base = args.data_dir or DATA_DIR
    folder = os.path.join(base, dataset_folder)
    return folder if os.path.isdir(folder) else base


def anomaly_mode(args):
    """``with common.anomaly_mode(args):`` around the training loop: ``tg.autograd.detect_anomaly()``
    with ``--detect-anomaly``, else nothing."""
    return tg.autograd.detect_anomaly() if args.detect_anomaly else contextlib.nullcontext()


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
    """Running mean of the loss and samples/s for the progress bar; stops the run on a NaN/inf loss.

    ``Meter(args, epoch)``: ``update`` raises ``NonFiniteLossError`` naming the epoch and step as soon
    as a loss is not finite; ``mean`` raises if no step ran (never a made-up 0.0)."""

    def __init__(self, args=None, epoch=None):
        self.args, self.epoch = args, epoch
        self.loss_sum, self.n, self.steps, self.t0 = 0.0, 0, 0, time.perf_counter()

    def update(self, bar, loss, batch):
        self.steps += 1
        if not math.isfinite(loss):
            raise NonFiniteLossError(_diverged(self.args, f"epoch {self.epoch}, step {self.steps}: the training "
                                                          f"loss is {loss}"))
        if self.args is not None and getattr(self.args, "first_train_loss", None) is None:
            self.args.first_train_loss = loss        # the loss before the first update: where training started
        self.loss_sum += loss * batch
        self.n += batch
        bar.set_postfix(loss=f"{self.loss_sum / self.n:.4f}",
                        samples_s=f"{self.n / max(time.perf_counter() - self.t0, 1e-9):.0f}",
                        refresh=False)

    @property
    def mean(self):
        if self.n == 0:
            raise RuntimeError(f"epoch {self.epoch}: no training step ran (the training data gave no batch), "
                               f"so there is no training loss to report")
        return self.loss_sum / self.n


def _diverged(args, what):
    lr = f" (now {args.lr})" if args is not None and getattr(args, "lr", None) is not None else ""
    hint = ("" if args is not None and getattr(args, "detect_anomaly", False) else
            "; rerun with --detect-anomaly to find the operation that first produced NaN/inf")
    return f"{what}, not a finite number: training stopped. Try a smaller --lr{lr}{hint}"


def check_finite(args, epoch, **metrics):
    """After an epoch's evaluation: every metric must be a finite number, else the run stops."""
    bad = {k: v for k, v in metrics.items() if v is None or not math.isfinite(v)}
    if bad:
        raise NonFiniteLossError(_diverged(args, f"epoch {epoch}: " + ", ".join(f"{k} is {v}"
                                                                               for k, v in bad.items())))


# ----------------------------------------------------------------------------- checkpoints
def save_checkpoint(path, model, optimizer, epoch, history, extra=None, settings=None):
    """Atomic save of everything needed to continue exactly (tg.save writes a temp file, then renames).

    ``settings`` (``settings_of(args)``) go into ``extra["settings"]``: ``--resume`` checks them."""
    extra = dict(extra or {})
    if settings is not None:
        extra["settings"] = dict(settings)
    tg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
             "history": history, "rng": _rng_json(), "extra": extra}, path)


def load_checkpoint(path, model, optimizer, map_location=None, state=None):
    """Restore model, optimizer and RNG; returns (next_epoch, history, extra).

    ``state``: the checkpoint already read (``args.checkpoint_state``), else it is read from ``path``."""
    ck = state if state is not None else tg.load(path, map_location=map_location)
    for key in ("model", "optimizer", "epoch", "rng"):
        if key not in ck:
            raise KeyError(f"--resume {path}: not an example checkpoint (missing key {key!r})")
    model.load_state_dict(ck["model"])       # raises naming the key if it is from another model
    optimizer.load_state_dict(ck["optimizer"])
    tg.random.set_rng_state(_rng_from_json(ck["rng"]))
    return int(ck["epoch"]) + 1, ck["history"], ck.get("extra", {})


def end_classifier_epoch(args, model, optimizer, epoch, history, train_loss, test_loss, accuracy, save=True):
    """一个 epoch 结束：检查指标是有限数，记进 history，写检查点（``save``），打印一行日志。

    The end of an epoch of the classifiers (mnist_mlp, cnn_binary, text_classifier)."""
    check_finite(args, epoch, test_loss=test_loss)
    history["train_loss"].append(train_loss)
    history["test_loss"].append(test_loss)
    history["test_accuracy"].append(accuracy)
    if save:
        checkpoint(args, model, optimizer, epoch, history)
    log(args, f"epoch {epoch}: train loss {train_loss:.4f}  test loss {test_loss:.4f}  "
              f"test accuracy {accuracy:.4f}")


def checkpoint(args, model, optimizer, epoch, history):
    """After an epoch: ``save_checkpoint`` to ``--checkpoint`` (if given) with the run's settings and
    first training loss, so that ``--resume`` can check the one and report the other."""
    if args.checkpoint:
        save_checkpoint(args.checkpoint, model, optimizer, epoch, history, settings=settings_of(args),
                        extra={"first_train_loss": getattr(args, "first_train_loss", None)})


def resume(args, model, optimizer, history):
    """``--resume``: restore everything and return (first epoch to train, history); else (1, history).

    The optimizer's learning rate is the run's ``args.lr`` (the checkpoint's, see ``parse_args``)."""
    args.first_train_loss = None
    if not args.resume:
        return 1, history
    start, history, extra = load_checkpoint(args.resume, model, optimizer, state=args.checkpoint_state)
    args.first_train_loss = (extra or {}).get("first_train_loss")
    for group in optimizer.param_groups:
        group["lr"] = args.lr
    return start, history


def _rng_json():
    return json.dumps(tg.random.get_rng_state())


def _rng_from_json(s):
    return json.loads(s)


# ----------------------------------------------------------------------------- data parallelism
class Distributed:
    """What an example needs to know about data parallelism (see ``setup_distributed``).

    ::

        dist = common.setup_distributed(args.distributed, device=args.device)
        sampler = dist.sampler(train_set, seed=args.seed)          # None when not distributed
        # (a batchified text stream instead: train_data = dist.shard_rows(batchify(ids, args.batch_size)))
        train = DataLoader(train_set, batch_size=dist.local_batch(args.batch_size),
                           shuffle=sampler is None, sampler=sampler)
        model = dist.wrap(model)                                   # DDP, or the model itself
        if dist.is_main: print(...); save_checkpoint(...)          # rank 0 only
        dist.finish()

    Without ``--distributed`` every method is a no-op, so one script serves both cases. It sits on
    top of ``tg.distributed`` (process group), ``tg.nn.parallel`` (DDP) and ``tg.data.DistributedSampler``,
    which depend on ``tg.distributed`` only, never on each other or on this helper.
    """

    def __init__(self, enabled, rank=0, world_size=1):
        self.enabled, self.rank, self.world_size = enabled, rank, world_size

    @property
    def is_main(self):
        """True on rank 0: the only rank that prints, writes JSON lines, plots and saves checkpoints."""
        return self.rank == 0

    def local_batch(self, global_batch):
        """Split the global batch across ranks: each rank uses ``global_batch // world_size`` samples."""
        if global_batch % self.world_size:
            raise ValueError(f"--batch-size {global_batch} (the global batch) must be divisible by the "
                             f"number of ranks {self.world_size}")
        return global_batch // self.world_size

    def shard_rows(self, data):
        """This rank's contiguous block of rows of ``data`` (e.g. the (B, L) streams of a batchified
        corpus for truncated BPTT): rows ``[rank·B/N, (rank+1)·B/N)``; unchanged when not distributed."""
        if not self.enabled:
            return data
        rows = data.shape[0]
        if rows % self.world_size:
            raise ValueError(f"shard_rows: {rows} rows (the global batch) must be divisible by the number "
                             f"of ranks {self.world_size}")
        k = rows // self.world_size
        return data[self.rank * k:(self.rank + 1) * k]

    def sampler(self, dataset, shuffle=True, seed=0, drop_last=False):
        """A DistributedSampler for ``dataset`` (None when not distributed: use shuffle=True then).

        Its order for epoch e comes from (seed, e): call ``loader.set_epoch(epoch - 1)`` before every
        epoch, so that a resumed run continues with the right epoch's order."""
        if not self.enabled:
            return None
        from tinygrad_zh.data.sampler import DistributedSampler
        return DistributedSampler(dataset, self.world_size, self.rank, shuffle=shuffle, seed=seed,
                                  drop_last=drop_last)

    def wrap(self, model, **kwargs):
        """``DistributedDataParallel(model)`` when distributed, else ``model`` unchanged."""
        if not self.enabled:
            return model
        from tinygrad_zh.nn.parallel import DistributedDataParallel
        return DistributedDataParallel(model, **kwargs)

    def mean(self, value):
        """Average a Python number over ranks (e.g. a loss or an accuracy); unchanged when not distributed."""
        if not self.enabled:
            return value
        vals = tg.distributed.all_gather_object(float(value))
        return sum(vals) / len(vals)

    def finish(self):
        """Tear the process group down at the end of the script."""
        if self.enabled and tg.distributed.is_initialized():
            tg.distributed.destroy_process_group()


def setup_distributed(distributed, device="cpu"):
    """Initialize data parallelism when ``distributed`` is true (cpu -> MPI, cuda -> NCCL) and return a
    ``Distributed`` context; a no-op context otherwise."""
    if not distributed:
        return Distributed(False)
    if not tg.distributed.is_initialized():
        tg.distributed.init_process_group("nccl" if str(device).startswith("cuda") else "mpi")
    return Distributed(True, tg.distributed.get_rank(), tg.distributed.get_world_size())


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
    """Print the final JSON line (always the very last line of output): the metrics, the loss of the
    first training step (``first_train_loss``: where training started, before any update) and the
    settings the run actually used (after ``--resume``: the checkpoint's, plus ``resumed_from_epoch``)."""
    metrics = dict(metrics, first_train_loss=getattr(args, "first_train_loss", None))
    out = {"example": name, **metrics, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
           "seed": args.seed, "device": args.device, "dtype": args.dtype, "max_steps": args.max_steps,
           **settings}
    if getattr(args, "resumed_from_epoch", None) is not None:
        out["resumed_from_epoch"] = args.resumed_from_epoch
    out["seconds"] = round(time.time() - t0, 2)
    for k, v in out.items():
        if isinstance(v, float):
            out[k] = round(v, 6) if math.isfinite(v) else str(v)
    print(json.dumps(out), flush=True)
    return out

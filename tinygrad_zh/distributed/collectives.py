"""集合通信（collectives）：所有进程一起调用、一起完成的操作。

* ``all_reduce(t, op)``：每个 rank 的 ``t`` 被原地替换为所有 rank 的和 / 平均 / 最大 / 最小值；
* ``broadcast(t, src)``：把 ``src`` 号进程的 ``t`` 原地复制到每个 rank；
* ``barrier()``：等所有进程都走到这里。

Every call first exchanges a one-line description of itself (which collective, shape, dtype, op /
src, plus any local problem) with all ranks — a few bytes over MPI. If the descriptions differ,
*every* rank raises the same RuntimeError listing each rank's call, instead of hanging or silently
reducing mismatched memory. Tensors stay on their device: the MPI backend takes CPU tensors, NCCL
takes CUDA tensors; nothing is copied to the host.
"""
from ..backend import writeable
from ..tensor import Tensor
from . import process_group as _pg

REDUCE_OPS = ("sum", "mean", "max", "min")


def agree(group, call, local_error=None, payload=None):
    """Exchange ``call`` (a string describing this rank's collective) and return every rank's payload.

    Raises the same RuntimeError on every rank when some rank reported ``local_error`` or when the
    calls differ, naming each rank and what it passed."""
    infos = group.all_gather_object((call, local_error, payload))
    name = call.split("(", 1)[0]
    errors = [(r, e) for r, (_, e, _) in enumerate(infos) if e]
    if errors:
        raise RuntimeError(f"{name}: " + "; ".join(f"rank {r}: {e}" for r, e in errors))
    if any(c != infos[0][0] for c, _, _ in infos):
        shown = "; ".join(f"rank {r} called {c}" for r, (c, _, _) in enumerate(infos[:16]))
        more = f"; ... ({len(infos) - 16} more ranks)" if len(infos) > 16 else ""
        raise RuntimeError(f"{name}: the ranks disagree: {shown}{more}. Every rank must call the same "
                           f"collective, in the same order, with tensors of the same shape and dtype")
    return [p for _, _, p in infos]


def _check_tensor(group, op, tensor):
    """Local problems with ``tensor`` as a message (None when fine)."""
    if not isinstance(tensor, Tensor):
        return f"expected a tg.Tensor, got {type(tensor).__name__}"
    if tensor.device != group.device:
        other = "nccl" if tensor.device == "cuda" else "mpi"
        return (f"the {group.name!r} backend works on {group.device} tensors, got a {tensor.device} "
                f"tensor of shape {tensor.shape} (move it with .to({group.device!r}) or use "
                f"backend={other!r})")
    if str(tensor.dtype) not in group.DTYPES:
        return (f"dtype {tensor.dtype} is not supported (shape {tensor.shape}); expected one of "
                f"{', '.join(group.DTYPES)}")
    if not writeable(tensor.array):             # CuPy's flags have no .writeable
        return f"the tensor of shape {tensor.shape} is a read-only view; pass a writable tensor (.clone())"
    return None


def _describe(tensor):
    if isinstance(tensor, Tensor):
        return f"shape {tensor.shape}, {tensor.dtype}"
    return f"a {type(tensor).__name__}"


def all_reduce(tensor, op="sum"):
    """原地归约：``tensor`` 变成所有 rank 上该张量的 sum / mean / max / min。

    ``op="mean"`` needs a floating point tensor (it is the sum divided by the world size). Works on
    non-contiguous tensors (through a contiguous scratch copy on the same device). Returns ``tensor``.
    """
    g = _pg._require_group("all_reduce")
    err = _check_tensor(g, "all_reduce", tensor)
    if op not in REDUCE_OPS:
        err = f"unknown op {op!r}: expected one of {', '.join(map(repr, REDUCE_OPS))}"
    elif err is None and op == "mean" and tensor.dtype.kind != "f":
        err = (f"op='mean' needs a floating point tensor, got {tensor.dtype} (shape {tensor.shape}); "
               f"use op='sum' and divide")
    agree(g, f"all_reduce({_describe(tensor)}, op={op!r})", err)
    arr = tensor.array
    g.all_reduce_(arr, "sum" if op == "mean" else op)
    if op == "mean":
        arr /= g.world_size
    return tensor


def broadcast(tensor, src=0):
    """原地广播：每个 rank 的 ``tensor`` 变成 ``src`` 号 rank 上的值。Returns ``tensor``."""
    g = _pg._require_group("broadcast")
    err = _check_tensor(g, "broadcast", tensor)
    if not isinstance(src, int) or not 0 <= src < g.world_size:
        err = f"src={src!r} is not a rank of this group (world size {g.world_size})"
    agree(g, f"broadcast({_describe(tensor)}, src={src!r})", err)
    g.broadcast_(tensor.array, src)
    return tensor


def barrier():
    """等待所有 rank 都到达这里。"""
    g = _pg._require_group("barrier")
    agree(g, "barrier()")
    g.barrier()


def all_gather_object(obj):
    """Every rank's (small, picklable) ``obj`` as a list indexed by rank, e.g. to collect metrics."""
    g = _pg._require_group("all_gather_object")
    return agree(g, "all_gather_object()", payload=obj)

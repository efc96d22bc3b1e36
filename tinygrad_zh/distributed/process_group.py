"""进程组：谁是第几号进程（rank）、一共几个进程（world size）、用哪个通信后端。

A *process group* is the set of processes that train one model together. The launcher (``mpiexec -n
4 python train.py``) starts the processes; each one calls ``init_process_group()`` once and learns
its ``rank`` (0 … N-1) and the ``world_size`` N from MPI. There is one default group per process.

Failure policy (no silent hangs): a collective blocks until *every* rank has entered it, so a rank
that crashes would leave the others waiting forever. ``init_process_group`` therefore installs

* an exception hook: an uncaught exception on any rank prints the traceback prefixed with that rank
  and then aborts the whole job (``MPI_Abort``), which ends the other ranks too;
* an exit check: a rank whose interpreter exits (``sys.exit``, end of script) while the group is still
  initialized waits for the other ranks to exit as well; if they do not within
  ``TINYGRAD_ZH_DIST_EXIT_TIMEOUT`` seconds (default 60) they are stuck waiting for it, so it aborts
  the job with a message. Call ``destroy_process_group()`` at the end of a script to skip the check.

Disagreements that every rank can see (different shapes, a different collective) are raised as the
same error on all ranks, naming each rank's arguments; see ``collectives.py``.
"""
import atexit
import os
import sys
import time
import traceback

from .backends import MPIBackend, NCCLBackend

BACKENDS = ("mpi", "nccl")

_group = None               # the backend object of the default group, or None
_prev_excepthook = None
_atexit_registered = False


def _require_group(op):
    if _group is None:
        raise RuntimeError(f"{op}: the default process group is not initialized; call "
                           f"tg.distributed.init_process_group(backend='mpi' or 'nccl') first "
                           f"(and launch with: mpiexec -n <N> python <script>)")
    return _group


def init_process_group(backend="mpi"):
    """初始化默认进程组。``backend="mpi"``：CPU 张量（NumPy），``"nccl"``：GPU 张量（CuPy）。

    Rank and world size come from the launcher (``mpiexec -n N``); a plain ``python script.py`` is a
    group of one. Raises RuntimeError saying what to install when mpi4py / an MPI library (or, for
    NCCL, CuPy with NCCL) is missing. Calling it twice raises.
    """
    global _group, _prev_excepthook, _atexit_registered
    if backend not in BACKENDS:
        raise ValueError(f"init_process_group: unknown backend {backend!r}: expected 'mpi' (CPU tensors) "
                         f"or 'nccl' (GPU tensors)")
    if _group is not None:
        raise RuntimeError(f"init_process_group: the default process group is already initialized "
                           f"(backend {_group.name!r}); call destroy_process_group() first")
    _group = MPIBackend() if backend == "mpi" else NCCLBackend()
    _prev_excepthook = sys.excepthook
    sys.excepthook = _abort_on_uncaught
    if not _atexit_registered:
        atexit.register(_check_exit)
        _atexit_registered = True
    return _group


def destroy_process_group():
    """Release the default group (after a final barrier-free cleanup); restores the exception hook."""
    global _group, _prev_excepthook
    g = _require_group("destroy_process_group")
    try:
        g.destroy()
    finally:
        _group = None
        if _prev_excepthook is not None and sys.excepthook is _abort_on_uncaught:
            sys.excepthook = _prev_excepthook
        _prev_excepthook = None


def is_initialized():
    """True between init_process_group() and destroy_process_group()."""
    return _group is not None


def get_rank():
    """This process's rank, 0 … world_size-1."""
    return _require_group("get_rank").rank


def get_world_size():
    """Number of processes in the default group."""
    return _require_group("get_world_size").world_size


def get_backend():
    """'mpi' or 'nccl'."""
    return _require_group("get_backend").name


def _check_exit():
    """At interpreter exit with the group still up: make sure no other rank is left waiting."""
    g = _group
    if g is None or g.world_size == 1:
        return
    timeout = float(os.environ.get("TINYGRAD_ZH_DIST_EXIT_TIMEOUT", "60"))
    if g.exit_handshake(timeout):
        return                                   # every rank is exiting: a normal end
    prefix = f"[tinygrad_zh.distributed rank {g.rank}/{g.world_size}] "
    sys.stderr.write(f"{prefix}rank {g.rank} is exiting without destroy_process_group() and the other "
                     f"ranks did not exit within {timeout:g} s (they are probably waiting for it in a "
                     f"collective); aborting all {g.world_size} ranks\n")
    _abort(g)


def _abort_on_uncaught(exc_type, exc, tb):
    """Uncaught exception on one rank: report it with the rank, then end every rank (no hang)."""
    g = _group
    if g is None or g.world_size == 1 or issubclass(exc_type, KeyboardInterrupt):
        (_prev_excepthook or sys.__excepthook__)(exc_type, exc, tb)
        return
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    prefix = f"[tinygrad_zh.distributed rank {g.rank}/{g.world_size}] "
    sys.stderr.write("".join(prefix + line + "\n" for line in text.rstrip("\n").split("\n")))
    sys.stderr.write(f"{prefix}rank {g.rank} failed with {exc_type.__name__}; aborting all "
                     f"{g.world_size} ranks\n")
    _abort(g)


def _abort(g):
    """Flush, give the launcher a moment to forward this rank's last output (MPI_Abort tears the
    job down at once and what is still in the pipes to mpiexec can be lost), then end every rank."""
    sys.stdout.flush()
    sys.stderr.flush()
    time.sleep(0.5)
    g.abort(1)

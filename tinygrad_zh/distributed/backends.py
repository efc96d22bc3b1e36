"""通信后端：MPI（mpi4py，CPU 上的 NumPy 数组）与 NCCL（CuPy，GPU 上的 CuPy 数组）。

Both classes expose the same small set of *raw* operations on arrays, with no checking:

* ``all_reduce_(arr, op)``  in place, ``op`` in ``"sum" | "max" | "min"`` (``mean`` = sum, then divide,
  done by the caller),
* ``broadcast_(arr, src)``  in place,
* ``barrier()``,
* ``all_gather_object(obj)``  small Python objects (metadata: shapes, dtypes, masks), on the host.

We do not write a transport: MPI moves host memory, NCCL moves device memory directly between GPUs
(NVLink / PCIe / InfiniBand), so a CuPy tensor never visits the host.
The public, checked API lives in ``collectives.py``.
"""
import numpy as np

INSTALL_HINT = ('pip install "tinygrad_zh[distributed]"  (installs mpi4py and the mpich MPI library, '
                'which provides the mpiexec launcher)')


def import_mpi(what):
    """Import ``mpi4py.MPI`` or raise a RuntimeError that says what to install."""
    try:
        from mpi4py import MPI
    except Exception as e:  # ImportError, or an MPI library that fails to load
        raise RuntimeError(f"{what} needs mpi4py and an MPI library, which could not be loaded "
                           f"({type(e).__name__}: {e}). Install them with: {INSTALL_HINT}") from None
    return MPI


# ============================================================================ MPI (CPU)
class MPIBackend:
    """Collectives on NumPy arrays through ``mpi4py`` (one process per rank, launched by mpiexec)."""
    name = "mpi"
    device = "cpu"
    # dtypes MPI reduces natively; float16 is reduced in a float32 scratch copy
    DTYPES = ("float16", "float32", "float64", "int32", "int64", "uint8")

    def __init__(self, comm=None):
        self.MPI = import_mpi("init_process_group(backend='mpi')")
        self.comm = comm if comm is not None else self.MPI.COMM_WORLD
        self.rank, self.world_size = self.comm.Get_rank(), self.comm.Get_size()
        self._ops = {"sum": self.MPI.SUM, "max": self.MPI.MAX, "min": self.MPI.MIN}
        self._exit_comm = self.comm.Dup()     # private channel for the exit handshake (never mixes)

    def all_reduce_(self, arr, op):
        work = arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)
        if work.dtype == np.float16:                       # MPI has no half type: reduce in float32
            work = work.astype(np.float32)
        self.comm.Allreduce(self.MPI.IN_PLACE, work.reshape(-1), op=self._ops[op])
        if work is not arr:
            arr[...] = work                                # back into the caller's (strided) memory

    def broadcast_(self, arr, src):
        work = arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)
        view = work.reshape(-1).view(np.uint8)             # bytes: every dtype, float16 included
        self.comm.Bcast(view, root=src)
        if work is not arr:
            arr[...] = work

    def barrier(self):
        self.comm.Barrier()

    def all_gather_object(self, obj):
        return self.comm.allgather(obj)

    def exit_handshake(self, timeout):
        """True when every rank reaches this point within ``timeout`` seconds (non-blocking barrier)."""
        import time
        req = self._exit_comm.Ibarrier()
        deadline = time.monotonic() + timeout
        while not req.Test():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def abort(self, code=1):
        self.comm.Abort(code)

    def destroy(self):
        pass                       # MPI itself is finalized by mpi4py when the process exits


# ============================================================================ NCCL (GPU)
class _LocalControl:
    """Host-side channel for one process without MPI (NCCL with world size 1)."""
    rank, world_size = 0, 1

    def all_gather_object(self, obj):
        return [obj]

    def barrier(self):
        pass

    def exit_handshake(self, timeout):
        return True

    def abort(self, code=1):
        import os
        os._exit(code)


class NCCLBackend:
    """Collectives on CuPy arrays through NCCL (``cupy.cuda.nccl``), one GPU per process.

    NCCL needs a shared unique id to build its communicator: rank 0 creates it and MPI broadcasts it
    (so several processes are launched with ``mpiexec`` exactly as for the MPI backend). A single
    process (world size 1) needs no MPI at all. Small metadata (shapes, dtypes) travels over MPI on
    the host; the tensors themselves only over NCCL, device to device.
    """
    name = "nccl"
    device = "cuda"
    DTYPES = ("float16", "float32", "float64", "int32", "int64", "uint8")

    def __init__(self):
        from .. import backend
        cp = backend.require_cuda()
        try:
            nccl = getattr(cp.cuda, "nccl", None)   # the module CuPy (or the simulator) provides
            if nccl is None:                         # real CuPy loads it on import only
                import importlib
                nccl = importlib.import_module("cupy.cuda.nccl")
            if hasattr(nccl, "available") and not nccl.available:
                raise ImportError("this CuPy build has no NCCL support")
        except Exception as e:
            from ..cuda import missing_library_message
            raise RuntimeError(f"init_process_group(backend='nccl') needs CuPy built with NCCL "
                               f"({type(e).__name__}: {e}); {missing_library_message('nccl', cp)}; "
                               "or use backend='mpi' on CPU") from None
        self.cp, self.nccl = cp, nccl
        if _mpi_importable():
            self.control = MPIBackend()            # bootstrap + metadata over MPI
        elif (_launcher_world_size() or 1) > 1:
            import_mpi("init_process_group(backend='nccl') with several processes")
        else:
            self.control = _LocalControl()         # one process: nothing to exchange
        self.rank, self.world_size = self.control.rank, self.control.world_size
        ndev = cp.cuda.runtime.getDeviceCount()
        self.local_rank = _local_rank(self.control)
        cp.cuda.Device(self.local_rank % ndev).use()       # one GPU per process on each node
        uid = nccl.get_unique_id() if self.rank == 0 else None
        uid = self.control.all_gather_object(uid)[0]        # rank 0's id to everybody
        self.comm = nccl.NcclCommunicator(self.world_size, uid, self.rank)
        self._ops = {"sum": nccl.NCCL_SUM, "max": nccl.NCCL_MAX, "min": nccl.NCCL_MIN}
        self._types = {}
        for name, const in (("float16", "NCCL_FLOAT16"), ("float32", "NCCL_FLOAT32"),
                            ("float64", "NCCL_FLOAT64"), ("int32", "NCCL_INT32"), ("int64", "NCCL_INT64"),
                            ("uint8", "NCCL_UINT8")):
            if hasattr(nccl, const):
                self._types[np.dtype(name)] = getattr(nccl, const)

    def _stream(self):
        return self.cp.cuda.get_current_stream().ptr

    def all_reduce_(self, arr, op):
        work = arr if arr.flags.c_contiguous else self.cp.ascontiguousarray(arr)   # device copy
        self.comm.allReduce(work.data.ptr, work.data.ptr, work.size, self._types[work.dtype],
                            self._ops[op], self._stream())
        if work is not arr:
            arr[...] = work

    def broadcast_(self, arr, src):
        work = arr if arr.flags.c_contiguous else self.cp.ascontiguousarray(arr)
        self.comm.bcast(work.data.ptr, work.size, self._types[work.dtype], src, self._stream())
        if work is not arr:
            arr[...] = work

    def barrier(self):
        one = self.cp.ones(1, self.cp.float32)              # a tiny NCCL collective, then wait for it
        self.all_reduce_(one, "sum")
        self.cp.cuda.get_current_stream().synchronize()
        self.control.barrier()

    def all_gather_object(self, obj):
        return self.control.all_gather_object(obj)

    def exit_handshake(self, timeout):
        return self.control.exit_handshake(timeout)

    def abort(self, code=1):
        try:
            self.comm.abort()
        finally:
            self.control.abort(code)

    def destroy(self):
        self.cp.cuda.get_current_stream().synchronize()
        self.comm.destroy()


def _launcher_world_size():
    """World size announced by an MPI launcher (MPICH/Hydra: PMI_SIZE, Open MPI: OMPI_COMM_WORLD_SIZE)."""
    import os
    for key in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS"):
        if os.environ.get(key, "").isdigit():
            return int(os.environ[key])
    return None


def _mpi_importable():
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


def _local_rank(control):
    """Rank among the processes on this machine (picks the GPU)."""
    if isinstance(control, MPIBackend):
        node = control.comm.Split_type(control.MPI.COMM_TYPE_SHARED)
        r = node.Get_rank()
        node.Free()
        return r
    return 0

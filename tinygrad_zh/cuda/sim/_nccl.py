"""``cupy.cuda.nccl`` of the simulator: the NCCL API on host memory.

One process (world size 1): the collectives are copies. Several processes (``mpiexec``): the
buffers are reduced / broadcast with MPI (mpi4py), each rank's "device memory" being its own host
memory; the communicator's rank must be the MPI rank. Enough to run the NCCL backend's logic
(pointers, counts, dtype and op constants, streams) without a GPU.
"""
import ctypes
import os

import numpy as np

available = True
NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN, NCCL_AVG = 0, 1, 2, 3, 4
(NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_UINT32, NCCL_INT64, NCCL_UINT64, NCCL_FLOAT16,
 NCCL_FLOAT32, NCCL_FLOAT64) = 0, 1, 2, 3, 4, 5, 6, 7, 8
_DTYPES = {NCCL_INT8: np.int8, NCCL_UINT8: np.uint8, NCCL_INT32: np.int32, NCCL_UINT32: np.uint32,
           NCCL_INT64: np.int64, NCCL_UINT64: np.uint64, NCCL_FLOAT16: np.float16,
           NCCL_FLOAT32: np.float32, NCCL_FLOAT64: np.float64}


class NcclError(RuntimeError):
    pass


def get_version():
    return 22000


def get_unique_id():
    return tuple(os.urandom(128))


def _view(ptr, count, datatype):
    dt = np.dtype(_DTYPES[datatype])
    buf = (ctypes.c_char * (count * dt.itemsize)).from_address(ptr)
    return np.frombuffer(buf, dtype=dt, count=count)


class NcclCommunicator:
    def __init__(self, ndev, commId, rank):
        if not 0 <= rank < ndev:
            raise NcclError(f"NCCL_ERROR_INVALID_ARGUMENT: rank {rank} of {ndev}")
        self._n, self._rank, self._mpi = ndev, rank, None
        if ndev > 1:
            from mpi4py import MPI
            if MPI.COMM_WORLD.Get_size() != ndev or MPI.COMM_WORLD.Get_rank() != rank:
                raise NcclError("CUDA simulator NCCL: the communicator must match MPI.COMM_WORLD")
            self._mpi = MPI

    def rank_id(self):
        return self._rank

    def size(self):
        return self._n

    def device_id(self):
        return 0

    def allReduce(self, sendbuf, recvbuf, count, datatype, op, stream):
        src, dst = _view(sendbuf, count, datatype), _view(recvbuf, count, datatype)
        if self._mpi is None:
            if sendbuf != recvbuf:
                dst[...] = src
            return
        M = self._mpi
        mop = {NCCL_SUM: M.SUM, NCCL_PROD: M.PROD, NCCL_MAX: M.MAX, NCCL_MIN: M.MIN}[op]
        work = src.astype(np.float32) if src.dtype == np.float16 else src.copy()   # MPI has no float16
        out = np.empty_like(work)
        M.COMM_WORLD.Allreduce(work, out, op=mop)
        dst[...] = out

    def bcast(self, buff, count, datatype, root, stream):
        if self._mpi is not None:
            b = _view(buff, count, datatype)
            tmp = b.copy()
            self._mpi.COMM_WORLD.Bcast(tmp, root=root)
            b[...] = tmp

    def broadcast(self, sendbuf, recvbuf, count, datatype, root, stream):
        if sendbuf != recvbuf and self._rank == root:
            _view(recvbuf, count, datatype)[...] = _view(sendbuf, count, datatype)
        self.bcast(recvbuf, count, datatype, root, stream)

    def destroy(self):
        pass

    def abort(self):
        pass

"""tg.distributed：多进程数据并行训练（CPU 上用 MPI，GPU 上用 NCCL）。

数据并行：每个进程（rank）持有一份完整模型，各自处理全局 batch 的一部分；反向传播之后把各 rank 的
梯度求平均（all-reduce），于是每个 rank 做完全相同的参数更新，模型始终保持一致。

Launch N processes with MPI's launcher; each calls ``init_process_group`` once::

    mpiexec -n 2 python train.py

    import tinygrad_zh as tg
    from tinygrad_zh.nn.parallel import DistributedDataParallel
    from tinygrad_zh.data import DistributedSampler
    tg.distributed.init_process_group("mpi")           # "nccl" for CUDA tensors
    rank, world = tg.distributed.get_rank(), tg.distributed.get_world_size()
    model = DistributedDataParallel(model)
    sampler = DistributedSampler(train_set, seed=0)
    ...
    tg.distributed.destroy_process_group()

Collectives (all in place, every rank must call them in the same order with the same shapes):
``all_reduce(t, op="sum"|"mean"|"max"|"min")``, ``broadcast(t, src)``, ``barrier()``,
``all_gather_object(obj)``.

Importing this package never needs MPI; ``init_process_group`` raises a clear error naming
``pip install "tinygrad_zh[distributed]"`` (mpi4py + mpich) when it is missing.
See docs/distributed.md.

Dependencies go one way: ``tg.nn.parallel`` (DDP) and ``tg.data.DistributedSampler`` use this package;
this package imports neither of them (nor anything else from ``nn`` or ``data``). The examples'
one-stop helper that puts the three together lives in ``examples/common.py`` (``setup_distributed``).
"""
from .process_group import (destroy_process_group, get_backend, get_rank, get_world_size,
                            init_process_group, is_initialized)
from .collectives import all_gather_object, all_reduce, barrier, broadcast

__all__ = ["init_process_group", "destroy_process_group", "is_initialized", "get_rank", "get_world_size",
           "get_backend", "all_reduce", "broadcast", "barrier", "all_gather_object"]

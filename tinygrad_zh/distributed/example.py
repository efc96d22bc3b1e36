"""给示例脚本用的一站式帮手：几行代码把单进程训练变成数据并行训练。

::

    dist = tg.distributed.setup_example(args.distributed, device=args.device)
    sampler = dist.sampler(train_set, seed=args.seed)            # None when not distributed
    # (a batchified text stream instead: train_data = dist.shard_rows(batchify(ids, args.batch_size)))
    train = DataLoader(train_set, batch_size=dist.local_batch(args.batch_size),
                       shuffle=sampler is None, sampler=sampler)
    model = dist.wrap(model)                                     # DDP, or the model itself
    if dist.is_main: print(...); save_checkpoint(...)            # rank 0 only
    dist.finish()

Without ``--distributed`` every method is a no-op, so one script serves both cases.
"""
from . import process_group as _pg


class ExampleContext:
    """What an example needs to know about data parallelism (see ``setup_example``)."""

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
        """A DistributedSampler for ``dataset`` (None when not distributed: use shuffle=True then)."""
        if not self.enabled:
            return None
        from ..data.sampler import DistributedSampler
        return DistributedSampler(dataset, self.world_size, self.rank, shuffle=shuffle, seed=seed,
                                  drop_last=drop_last)

    def wrap(self, model, **kwargs):
        """``DistributedDataParallel(model)`` when distributed, else ``model`` unchanged."""
        if not self.enabled:
            return model
        from ..nn.parallel import DistributedDataParallel
        return DistributedDataParallel(model, **kwargs)

    def mean(self, value):
        """Average a Python number over ranks (e.g. a loss or an accuracy); unchanged when not distributed."""
        if not self.enabled:
            return value
        from .collectives import all_gather_object
        vals = all_gather_object(float(value))
        return sum(vals) / len(vals)

    def finish(self):
        """Tear the process group down at the end of the script."""
        if self.enabled and _pg.is_initialized():
            _pg.destroy_process_group()


def setup_example(distributed, device="cpu"):
    """Initialize data parallelism for an example script when ``distributed`` is true.

    Picks the backend from the device (cpu -> MPI, cuda -> NCCL) and returns an ``ExampleContext``
    with ``rank``, ``world_size``, ``is_main``, ``local_batch``, ``sampler``, ``shard_rows``, ``wrap``,
    ``mean`` and ``finish``.
    """
    if not distributed:
        return ExampleContext(False)
    if not _pg.is_initialized():
        _pg.init_process_group("nccl" if str(device).startswith("cuda") else "mpi")
    return ExampleContext(True, _pg.get_rank(), _pg.get_world_size())

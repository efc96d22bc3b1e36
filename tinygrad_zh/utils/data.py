"""``tinygrad_zh.utils.data``：``torch.utils.data`` 的同名接口，全部来自 ``tinygrad_zh.data``（这里不另写实现）。

    from tinygrad_zh.utils.data import DataLoader, TensorDataset, random_split
    # or, with ``import tinygrad_zh as torch``:  from torch.utils import data

Differences from PyTorch are documented where the names are defined (``tinygrad_zh/data/``):
``num_workers > 0`` runs the worker schedule inside this process, ``pin_memory`` changes nothing, and
float64 data without a chosen dtype is collated to float32.  The DataPipe names of
``torch.utils.data`` (deprecated there) are not provided.
"""
from ..data.dataloader import DataLoader, default_collate, default_convert
from ..data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset,
                            TensorDataset, random_split)
from ..data.sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                            SubsetRandomSampler, WeightedRandomSampler)
from ..data.worker import WorkerInfo, get_worker_info

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
           "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "WorkerInfo", "default_collate",
           "default_convert", "get_worker_info", "random_split"]

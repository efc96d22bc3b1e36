"""tg.data：数据集、DataLoader，以及仓库自带小数据集（MNIST、Tiny Shakespeare、TREC、葡萄酒质量、
翼型噪声）的读取函数。

Datasets and loaders (the same names as ``torch.utils.data``, which ``tinygrad_zh.utils.data``
re-exports)::

    ds = tg.data.TensorDataset(X, y)
    for xb, yb in tg.data.DataLoader(ds, batch_size=64, shuffle=True):
        ...

Readers for the shipped data (``data/`` at the repository root; see ``data_path``)::

    images, labels = tg.data.load_mnist(tg.data.data_path("mnist"), "train")
"""
import os

from .dataset import (ArrayDataset, ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset,
                      TensorDataset, random_split, split_arrays)
from .dataloader import DataLoader, default_collate, default_convert
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .worker import WorkerInfo, get_worker_info
from .idx import IDXError, load_mnist, parse_idx, read_idx, write_idx
from .text import (TREC_COARSE, TextCorpus, Vocab, batchify, bptt_windows, load_trec, num_bptt_windows,
                   pad_sequences, random_windows, read_trec, tokenize_words)
from .csv import load_airfoil, load_wine_quality, read_csv, standardize

_REPO_DATA = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "data"))


def data_path(*parts):
    """仓库自带数据的位置：``data_path("mnist")`` -> ``<repo>/data/mnist``.

    The environment variable ``TINYGRAD_ZH_DATA`` overrides the root folder (useful after
    ``pip install``, when the package no longer sits next to the repository's ``data/``).
    """
    root = os.environ.get("TINYGRAD_ZH_DATA") or _REPO_DATA
    return os.path.join(root, *parts)


__all__ = ["Dataset", "IterableDataset", "TensorDataset", "ArrayDataset", "Subset", "ConcatDataset", "ChainDataset",
           "StackDataset", "random_split", "split_arrays", "DataLoader", "default_collate", "default_convert",
           "get_worker_info", "WorkerInfo", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DistributedSampler", "IDXError", "read_idx", "parse_idx", "write_idx",
           "load_mnist", "Vocab", "TextCorpus", "tokenize_words", "batchify", "bptt_windows",
           "num_bptt_windows", "random_windows", "pad_sequences", "read_trec", "load_trec", "TREC_COARSE",
           "read_csv", "load_wine_quality", "load_airfoil", "standardize", "data_path"]

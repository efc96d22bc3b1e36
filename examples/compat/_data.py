"""兼容性示例共用的数据读取（只用 numpy / gzip / os，不依赖 torch 或 tinygrad_zh）。

Shared data readers for the compat programs: MNIST idx.gz files and Tiny Shakespeare, both shipped
in the repository's data/ folder. Returns plain NumPy arrays / str; each program turns them into
tensors itself, the way a learner would.
"""
import gzip
import os

import numpy as np

DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "data")

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


def _read_idx(path, magic, n):
    """读 idx 文件的前 n 条记录（大端头部）。Read the first n records of an idx(.gz) file."""
    with gzip.open(path, "rb") as f:
        head = np.frombuffer(f.read(8), dtype=">i4")
        if head[0] != magic:
            raise ValueError(f"{path}: magic {head[0]}, expected {magic}")
        count = int(head[1])
        if magic == IMAGES_MAGIC:
            rows, cols = (int(v) for v in np.frombuffer(f.read(8), dtype=">i4"))
            shape = (rows, cols)
        else:
            shape = ()
        n = count if n is None else min(n, count)
        size = int(np.prod(shape, dtype=np.int64)) if shape else 1
        raw = f.read(n * size)
    # frombuffer gives a read-only view of the bytes: copy, so torch.from_numpy gets a writable array
    return np.frombuffer(raw, dtype=np.uint8).reshape((n,) + shape).copy()


def load_mnist(n_train=5000, n_test=1000, data_dir=None):
    """MNIST 的前 n_train 张训练图和前 n_test 张测试图。

    Returns (train_images, train_labels, test_images, test_labels): images uint8 (n, 28, 28),
    labels uint8 (n,).
    """
    folder = os.path.join(data_dir or DATA_DIR, "mnist")
    out = []
    for stem, n in (("train", n_train), ("t10k", n_test)):
        out.append(_read_idx(os.path.join(folder, f"{stem}-images-idx3-ubyte.gz"), IMAGES_MAGIC, n))
        out.append(_read_idx(os.path.join(folder, f"{stem}-labels-idx1-ubyte.gz"), LABELS_MAGIC, n))
    return tuple(out)


def load_shakespeare(n_chars=20000, data_dir=None):
    """Tiny Shakespeare 的前 n_chars 个字符。The first n_chars characters of Tiny Shakespeare."""
    path = os.path.join(data_dir or DATA_DIR, "tinyshakespeare", "input.txt")
    with open(path, encoding="utf-8") as f:
        return f.read(n_chars)

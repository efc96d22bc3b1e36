"""tg.utils：与 ``torch.utils`` 对应的子包；目前只有 ``tg.utils.data``（即 ``tg.data`` 的数据集、采样器与
DataLoader），于是 ``from torch.utils.data import DataLoader, TensorDataset`` 这类代码在
``import tinygrad_zh as torch`` 后原样可用。"""
from . import data

__all__ = ["data"]

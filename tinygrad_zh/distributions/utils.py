"""分布共用的小工具：参数广播、概率与 logit 互换、按需计算的属性、从库的生成器抽随机数。

English: ``broadcast_all`` turns Python numbers into tensors and broadcasts every parameter to one
shape; ``probs_to_logits`` / ``logits_to_probs`` convert between the two parameterisations;
``lazy_property`` computes the other one on first use; ``draw`` makes a random tensor from the
library's generator (``tg.manual_seed`` makes it reproducible).
"""
import numbers

import numpy as np

from .. import backend, random
from ..factories import full
from ..tensor import Tensor, tensor


def broadcast_all(*values):
    """Python 数 -> 张量（dtype、设备取第一个张量参数的；都是数时取默认浮点类型），然后都广播成同一形状。

    广播用 expand（视图），梯度照常回到原来的参数。"""
    ref = next((v for v in values if isinstance(v, Tensor)), None)
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)) or isinstance(v, bool):
            raise ValueError(f"distribution parameters must be numbers or tensors, got {type(v).__name__}")
    dtype = ref.dtype if ref is not None and ref.dtype.kind == "f" else backend.DEFAULT_FLOAT
    device = ref.device if ref is not None else None
    ts = [v if isinstance(v, Tensor) else tensor(float(v), dtype=dtype, device=device) for v in values]
    try:
        shape = tuple(np.broadcast_shapes(*[t.shape for t in ts]))
    except ValueError:
        raise ValueError(f"distribution parameters of shapes {[t.shape for t in ts]} cannot be broadcast "
                         "to one shape") from None
    return tuple(t if t.shape == shape else t.expand(shape) for t in ts)


def as_tensor_param(value, name):
    """Categorical / Multinomial 的 probs、logits：张量原样用，数和列表转成默认浮点类型的张量。"""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (numbers.Number, list, tuple, np.ndarray)) and not isinstance(value, bool):
        return tensor(value, dtype=backend.DEFAULT_FLOAT)
    raise ValueError(f"`{name}` must be a tensor, got {type(value).__name__}")


def clamp_probs(probs):
    """把概率夹到 [eps, 1 - eps]（eps 是该浮点类型的机器精度），免得取对数时得到 ±inf。"""
    eps = float(np.finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """多类：logit = log p；二类（Bernoulli）：logit = log p − log(1 − p)（p 先夹到 [eps, 1 − eps]）。"""
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits, is_binary=False):
    """二类：p = σ(logit)；多类：p = softmax(logits)（沿最后一维）。"""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


class lazy_property:
    """第一次读取时才计算，结果存进实例（之后直接读存下的值）。用于 probs / logits 这种"给一个，算另一个"的参数。"""

    def __init__(self, fn):
        self.fn, self.name, self.__doc__ = fn, fn.__name__, fn.__doc__

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.name] = value
        return value


def draw(sampler, shape, like, dtype=None):
    """``sampler(rng, shape)`` 抽一个 NumPy 数组（库的生成器，CPU 上），放到 ``like`` 的设备上、转成 ``dtype``
    （默认取 ``like`` 的）。不在计算图里。"""
    arr = np.asarray(sampler(random.generator(), tuple(shape)))
    arr = arr.astype(dtype or like.dtype, copy=False)
    return Tensor._make(backend.to_device(arr, like.device), like.device, None, 0)


def nan_like(t, shape):
    """形状为 ``shape``、全是 NaN 的张量（dtype、设备取 ``t`` 的）：没有定义的均值、方差。"""
    return full(tuple(shape), float("nan"), dtype=t.dtype, device=t.device)

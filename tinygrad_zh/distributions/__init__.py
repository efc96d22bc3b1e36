"""概率分布（PyTorch 的 ``torch.distributions``）：抽样、对数概率、熵，参数可导。

::

    from torch.distributions import multinomial            # d2l 2.6：掷骰子
    counts = multinomial.Multinomial(10, torch.ones(6) / 6).sample((500,))
    dist = torch.distributions.Categorical(logits=net(x))   # 策略梯度
    a = dist.sample(); loss = -dist.log_prob(a) * reward

抽样用库的生成器（``tg.manual_seed`` 可复现；数值与 PyTorch 不同，分布相同）。每个分布一个文件，
文件名与 PyTorch 的子模块相同（``distributions.normal.Normal`` ……）。

English: Distribution, Bernoulli, Categorical, Multinomial, Normal and Uniform, with torch's names,
arguments, shapes, dtypes and ``validate_args`` behaviour; ``log_prob``/``entropy``/``rsample`` are
composed from Tensor ops, so gradients flow to the parameters.
"""
from . import bernoulli, categorical, constraints, distribution, multinomial, normal, uniform  # noqa: F401
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .multinomial import Multinomial
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Multinomial", "Normal", "Uniform", "constraints"]

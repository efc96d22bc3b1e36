"""tg.nn：层、损失函数、初始化（与 torch.nn 同名同参数）。

    import tinygrad_zh as tg
    from tinygrad_zh import nn
    import tinygrad_zh.nn.functional as F

    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    loss = nn.CrossEntropyLoss()(model(x), y)
"""
from .parameter import Parameter
from .module import Module
from . import functional, init, utils
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .linear import Flatten, Identity, Linear, Unflatten
from .embedding import Embedding
from .distance import CosineSimilarity
from .activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, PReLU, ReLU, ReLU6, SELU, SiLU, Sigmoid,
                         Softmax, Softplus, Tanh)
from .dropout import Dropout, Dropout1d, Dropout2d
from .norm import BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, LayerNorm
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .conv import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d,
                   Conv1d, Conv2d, ConvTranspose2d, MaxPool1d, MaxPool2d)
from .rnn import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell
from . import parallel  # noqa: F401,E402  (tg.nn.parallel.DistributedDataParallel)
from .attention import MultiheadAttention
from .upsample import Upsample

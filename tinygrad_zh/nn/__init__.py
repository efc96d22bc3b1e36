"""tg.nn：层、损失函数、初始化（与 torch.nn 同名同参数）。"""
from .parameter import Parameter
from .module import Module

"""练习 13：带动量的 SGD（PyTorch 的 torch.optim.SGD，dampening=0）

写函数 sgd_step(param, grad, velocity, lr, momentum=0.0, weight_decay=0.0, nesterov=False)，
返回 (新的 param, 新的 velocity)。param、grad、velocity 是同形的 NumPy 数组；第一步时 velocity 全为 0。
不要原地修改传进来的数组，返回新数组。

一步更新（λ = weight_decay，μ = momentum）：

    d ← grad + λ · param                 权重衰减（L2 正则）
    v ← μ · v + d                        速度：历史梯度的指数累积
    param ← param − lr · v               （nesterov=True 时用 d + μ · v 代替 v）

想一想：学习率 lr 乘在 v 的里面还是外面？判题时每一步的 lr 可能不同（学习率调度），
两种写法的结果就不一样了。momentum = 0 时就是普通的 SGD。

检查：python -m tinygrad_zh.exercises check sgd --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint sgd      讲解：docs/07_optimizers.md
"""
import numpy as np  # noqa: F401


def sgd_step(param, grad, velocity, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    # >>> 答案
    d = grad + weight_decay * param
    velocity = momentum * velocity + d
    step = d + momentum * velocity if nesterov else velocity
    return param - lr * step, velocity
    # <<< 答案

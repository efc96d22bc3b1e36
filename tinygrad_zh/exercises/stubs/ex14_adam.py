"""练习 14：Adam 的一步（PyTorch 的 torch.optim.Adam，amsgrad=False）

写函数 adam_step(param, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)，
返回 (新的 param, 新的 m, 新的 v)。t 是步数，第一步 t = 1；第一步时 m、v 全为 0。不要原地修改输入。

    g ← grad + λ · param                 （λ = weight_decay，L2 形式）
    m ← β₁ · m + (1 − β₁) · g            一阶矩：梯度的滑动平均（方向）
    v ← β₂ · v + (1 − β₂) · g²           二阶矩：梯度平方的滑动平均（尺度）
    m̂ ← m / (1 − β₁ᵗ)，  v̂ ← v / (1 − β₂ᵗ)   偏差修正：m、v 从 0 开始，前几步偏小
    param ← param − lr · m̂ / (√v̂ + ε)

判题时 ε 有时取 0.1，所以 ε 放在根号里面还是外面会有区别。

检查：python -m tinygrad_zh.exercises check adam --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint adam      讲解：docs/07_optimizers.md
"""
import numpy as np


def adam_step(param, grad, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    raise NotImplementedError("在这里写你的代码")

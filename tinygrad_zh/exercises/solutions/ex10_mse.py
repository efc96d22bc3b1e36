"""练习 10：均方误差 L = mean((pred − target)²)

写 MSELoss：forward(pred, target) 返回所有元素上 (pred − target)² 的平均值，一个 0 维数组
（np.asarray(...)）。pred、target 形状相同，有 N 个元素。backward(g) 里 g 是 0 维数组（∂总损失/∂L），
返回 (∂/∂pred, ∂/∂target)。

- 推导 ∂L/∂pred：平方带出什么系数？平均带出什么系数？
- ∂L/∂target 和 ∂L/∂pred 是什么关系？

检查：python -m tinygrad_zh.exercises check mse --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint mse      讲解：docs/03_matmul_softmax_ce.md
"""
import numpy as np

import tinygrad_zh as tg


class MSELoss(tg.Function):
    def forward(self, pred, target):
        # >>> 答案
        self.diff = pred - target
        return np.asarray(np.mean(self.diff * self.diff))
        # <<< 答案

    def backward(self, g):
        # >>> 答案
        grad = g * 2 * self.diff / self.diff.size
        return grad, -grad
        # <<< 答案

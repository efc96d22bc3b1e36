"""练习 15：LSTM 单步的反向

LSTMCell 的前向已经写好。输入 A 是四个门激活前的值，形状 (B, 4H)，按 [i | f | g | o] 排列
（A = x W_ihᵀ + h_prev W_hhᵀ + b，那部分是第 12 题的全连接层）；c_prev 是上一步的细胞状态 (B, H)。

    i = σ(Aᵢ)   f = σ(A_f)   g = tanh(A_g)   o = σ(Aₒ)
    c = f ⊙ c_prev + i ⊙ g
    h = o ⊙ tanh(c)

它有两个输出 (h, c)，所以 backward 收到两个上游梯度 dh = ∂L/∂h 和 dc = ∂L/∂c。如果损失只用到了
其中一个输出，另一个是 None（当作 0）。返回 (∂L/∂A, ∂L/∂c_prev)。

- c 影响损失有两条路：直接（dc），以及经过 h（h = o ⊙ tanh(c)）。先求到达 c 的总梯度 δc。
- 四个门：对 *激活之前* 的 A 求导，别忘了 σ' = σ(1 − σ)、tanh' = 1 − tanh²（用前向存下的输出）。
- 把四块按 [i | f | g | o] 的顺序拼成 (B, 4H)：np.concatenate([...], axis=1)。

检查：python -m tinygrad_zh.exercises check lstm_cell --dir <你的目录>
提示：python -m tinygrad_zh.exercises hint lstm_cell      讲解：docs/05_lstm_bptt.md
"""
import numpy as np

import tinygrad_zh as tg


def sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


class LSTMCell(tg.Function):
    n_outputs = 2                       # 两个输出：h 和 c

    def forward(self, A, c_prev):
        H = c_prev.shape[1]
        self.i = sigmoid(A[:, :H])
        self.f = sigmoid(A[:, H:2 * H])
        self.g = np.tanh(A[:, 2 * H:3 * H])
        self.o = sigmoid(A[:, 3 * H:])
        self.c_prev = c_prev
        c = self.f * c_prev + self.i * self.g
        self.tanh_c = np.tanh(c)
        h = self.o * self.tanh_c
        return h, c

    def backward(self, dh, dc):
        raise NotImplementedError("在这里写你的代码")

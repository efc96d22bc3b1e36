"""矩阵乘法 MatMul（1-D、2-D、带广播的批量 N-D）与融合的全连接 Linear（x @ Wᵀ + b）。

神经网络里绝大部分计算都在这里。链式法则落到矩阵上只有两条公式：Z = A·B 时，
∂L/∂A = ∂L/∂Z · Bᵀ，∂L/∂B = Aᵀ · ∂L/∂Z（只有这样写形状才对得上）。``Linear`` 把 matmul、转置和
加偏置合成一个节点，省掉两个中间节点和它们的梯度数组。

English: matrix product (1-D, 2-D, batched N-D with broadcasting) and the fused ``Linear`` node
(x @ Wᵀ + b); backward uses ∂L/∂A = G·Bᵀ and ∂L/∂B = Aᵀ·G.
"""
from ..autograd import Function
from ..backend import array_module, ones_vector
from .elementwise import unbroadcast
from ..errors import TensorError


def _swap(a):
    return a.swapaxes(-1, -2)


class MatMul(Function):
    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise TensorError(f"matmul: both arguments must be at least 1-D, got shapes {a.shape} and {b.shape}")
        ka = a.shape[-1]
        kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if ka != kb:
            raise TensorError(f"matmul: shapes {a.shape} and {b.shape} are not aligned: "
                             f"{ka} (last dim of the first) != {kb} (" +
                             ("first" if b.ndim == 1 else "second to last") + " dim of the second)")
        self.a, self.b = a, b
        try:
            return a @ b
        except ValueError:
            raise TensorError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not broadcast") from None

    def backward(self, g):
        """Z = A·B:  ∂L/∂A = ∂L/∂Z · Bᵀ,  ∂L/∂B = Aᵀ · ∂L/∂Z —— 形状对得上的唯一写法；批量维按广播求和。"""
        a, b = self.a, self.b
        # 1-D 参数先补成矩阵（PyTorch 的约定），算完再去掉补上的维
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        xp = array_module(g)
        g2 = g
        if b.ndim == 1:                 # 补回被去掉的列维 m（先补后面的，0-d 的 g 也能处理）
            g2 = xp.expand_dims(g2, -1)
        if a.ndim == 1:                 # 补回被去掉的行维 n
            g2 = xp.expand_dims(g2, -2)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = g2 @ _swap(b2)
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            if a2.ndim > 2 and b2.ndim == 2:
                # 共享权重：把批量维摊平成一次大矩阵乘（一次 BLAS 调用而不是逐批再求和）
                gb = a2.reshape(-1, a2.shape[-1]).T @ g2.reshape(-1, g2.shape[-1])
            else:
                gb = unbroadcast(_swap(a2) @ g2, b2.shape)
            gb = gb.reshape(b.shape)
        return ga, gb


class Linear(Function):
    """y = x Wᵀ + b，一个节点代替 matmul + 转置 + 加偏置三个节点。x: (…, in), W: (out, in), b: (out,)"""

    def forward(self, x, w, b=None):
        if x.shape[-1] != w.shape[1]:
            raise TensorError(f"linear: input has {x.shape[-1]} features (shape {x.shape}) but the weight "
                             f"expects {w.shape[1]} (weight shape {w.shape})")
        # (…, in) 摊平成 (M, in)：一次 2-D GEMM，比 NumPy 对 3-D 输入逐批调用 BLAS 快一倍左右
        # （不连续的 x，例如 batch_first LSTM 的输出，在这里复制一次；它比输出小得多）
        x2 = x.reshape(-1, x.shape[-1])
        self.x2, self.x_shape, self.w, self.has_b = x2, x.shape, w, b is not None
        y = x2 @ w.T
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (w.shape[0],))

    def backward(self, g):
        """y = x Wᵀ + b:  ∂L/∂x = g W,  ∂L/∂W = gᵀ x,  ∂L/∂b = Σ_batch g —— 偏置被加到每一行，所以梯度按行求和。"""
        g2 = g.reshape(-1, g.shape[-1])
        gx = (g2 @ self.w).reshape(self.x_shape) if self.needs_input_grad[0] else None
        gw = g2.T @ self.x2 if self.needs_input_grad[1] else None
        if not self.has_b:
            return gx, gw
        gb = None
        if self.needs_input_grad[2]:
            gb = ones_vector(g2, len(g2)) @ g2        # 按行求和写成一次 BLAS gemv（比 sum(0) 快）
        return gx, gw, gb

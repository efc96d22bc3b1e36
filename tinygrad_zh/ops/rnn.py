"""融合的 Elman RNN 层：整段序列 ``RNNLayerFn``（一次前向 + 一次完整的 BPTT），语义与 PyTorch 的 nn.RNN 相同。

RNN 的一步（φ = tanh 或 relu）::

    hₜ = φ(xₜ Wᵢₕᵀ + bᵢₕ + h₍ₜ₋₁₎ Wₕₕᵀ + bₕₕ)

和 ``ops/lstm.py``、``ops/gru.py`` 一样：所有时间步的输入投影 x Wᵢₕᵀ 是一次大矩阵乘；循环里每步只有
一次 ``h Wₕₕᵀ``；反向每步一次 ``dA Wₕₕ``，最后 dWᵢₕ、dWₕₕ、dx 各一次大矩阵乘。导数只用保存的
输出 hₜ 表示：tanh' = 1 − h²，relu' = [h > 0]，不需要保存任何预激活值。
``rnn_layer_forward_arrays`` / ``rnn_layer_backward_arrays`` 是唯一的实现。
"""
from ..autograd import Function
from ..backend import array_module, ones_vector
from .lstm import _check_layer, _state_buffer
from ..errors import TensorError

NONLINEARITIES = ("tanh", "relu")


def _activate(xp, a, nonlinearity):
    """φ(a) in place."""
    if nonlinearity == "tanh":
        xp.tanh(a, out=a)
    else:
        xp.maximum(a, 0, out=a)
    return a


def _activation_grad(xp, h, dh, nonlinearity, out):
    """out = dh ⊙ φ'(a), written with the output h = φ(a)."""
    if nonlinearity == "tanh":
        xp.multiply(h, h, out=out)
        xp.subtract(1, out, out=out)
        out *= dh
    else:
        xp.multiply(dh, h > 0, out=out)
    return out


def rnn_layer_forward_arrays(x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity="tanh", reverse=False):
    """Whole-sequence forward of one Elman RNN layer on *time-major* arrays.

    Args:
        x: (T, B, D), C-contiguous; w_ih (H, D), w_hh (H, H), b_ih / b_hh (H,) or None; h0 (B, H).
        nonlinearity: "tanh" or "relu".
        reverse: run from the last step to the first (``out[t]`` is still the output at time t).
    Returns:
        (out (T, B, H), h_T, hs): hs is the state buffer of ``ops.lstm._state_buffer`` (h0 and
        every hₜ), which is all backward needs.
    """
    xp = array_module(x)
    T, B, D = x.shape
    H = w_hh.shape[1]
    pre = x.reshape(-1, D) @ w_ih.T                # 所有步的输入投影一次算完
    if b_ih is not None:
        pre += b_ih
    if b_hh is not None:
        pre += b_hh                                # 两个偏置都是常数项，可以提前加上
    pre = pre.reshape(T, B, H)
    hs, out, _ = _state_buffer(xp, T, B, H, x.dtype, h0, reverse)
    w_hh_t = w_hh.T
    h = h0
    for k in range(T):
        t = T - 1 - k if reverse else k
        h_new = out[t]
        xp.matmul(h, w_hh_t, out=h_new)
        h_new += pre[t]
        h = _activate(xp, h_new, nonlinearity)
    h_T = h0.copy() if T == 0 else h
    return out, h_T, hs


def rnn_layer_backward_arrays(dout, dh_T, x, w_ih, w_hh, hs, nonlinearity="tanh", need=(True,) * 6,
                              reverse=False):
    """BPTT for ``rnn_layer_forward_arrays`` (time-major);
    need/returns (dx, dw_ih, dw_hh, db_ih, db_hh, dh0)."""
    xp = array_module(x)
    T = hs.shape[0] - 1
    B, H = hs.shape[1], hs.shape[2]
    hout, hprev = (hs[:T], hs[1:]) if reverse else (hs[1:], hs[:T])
    dA = xp.empty((T, B, H), x.dtype)
    dh = xp.zeros((B, H), x.dtype) if dh_T is None else dh_T.copy()
    for k in range(T - 1, -1, -1):
        t = T - 1 - k if reverse else k
        if dout is not None:
            dh += dout[t]
        _activation_grad(xp, hout[t], dh, nonlinearity, out=dA[t])
        if k > 0 or need[5]:
            xp.matmul(dA[t], w_hh, out=dh)        # ∂L/∂h₍ₜ₋₁₎ = dAₜ Wₕₕ
    dA2 = dA.reshape(-1, H)
    dx = dw_ih = dw_hh = db = None
    if need[0]:
        dx = (dA2 @ w_ih).reshape(x.shape)
    if need[1]:
        dw_ih = dA2.T @ x.reshape(-1, x.shape[2])
    if need[2]:                                   # h₀…h₍T₋₁₎ 连续排在 hs 里：dWₕₕ 一次矩阵乘
        dw_hh = dA2.T @ hprev.reshape(-1, H)
    db_ih = db_hh = None
    if need[3] or need[4]:                        # ∂L/∂bᵢₕ = ∂L/∂bₕₕ = Σₜ dAₜ（两个独立的数组）
        db = ones_vector(dA2, dA2.shape[0]) @ dA2
        db_ih = db if need[3] else None
        db_hh = (db.copy() if need[3] else db) if need[4] else None
    return dx, dw_ih, dw_hh, db_ih, db_hh, (dh if need[5] else None)


class RNNLayerFn(Function):
    """One whole Elman RNN layer over a sequence as a single graph node.

    ``RNNLayerFn.apply(x, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity="tanh", batch_first=False,
    reverse=False)`` (or without the biases) -> (out, h_T).  x: (T, B, D) or (B, T, D) with
    ``batch_first``; h0: (B, H).
    """
    n_outputs = 2

    def forward(self, x, w_ih, w_hh, *rest, nonlinearity="tanh", batch_first=False, reverse=False):
        if len(rest) == 3:
            b_ih, b_hh, h0 = rest
        elif len(rest) == 1:
            (h0,), b_ih, b_hh = rest, None, None
        else:
            raise TypeError("rnn_layer: expected inputs (x, w_ih, w_hh, [b_ih, b_hh,] h0), got "
                            f"{3 + len(rest)} tensors")
        if nonlinearity not in NONLINEARITIES:
            raise TensorError(f"rnn_layer: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        x_tm = _check_layer("rnn_layer", 1, x, w_ih, w_hh, b_ih, b_hh, h0, batch_first)
        out, h_T, self.hs = rnn_layer_forward_arrays(x_tm, w_ih, w_hh, b_ih, b_hh, h0, nonlinearity, reverse)
        self.x, self.w_ih, self.w_hh = x_tm, w_ih, w_hh
        self.nonlinearity, self.batch_first, self.reverse = nonlinearity, batch_first, reverse
        self.has_bias = b_ih is not None
        return (out.swapaxes(0, 1) if batch_first else out), h_T

    def backward(self, dout, dh_T):
        """hₜ = φ(Aₜ)，Aₜ = xₜWᵢₕᵀ + bᵢₕ + h₍ₜ₋₁₎Wₕₕᵀ + bₕₕ：dAₜ = (dhₜ + dAₜ₊₁Wₕₕ) ⊙ φ'(Aₜ)
        （tanh' = 1 − hₜ²，relu' = [hₜ > 0]），dWᵢₕ = Σ dAₜᵀxₜ，dWₕₕ = Σ dAₜᵀh₍ₜ₋₁₎，dbᵢₕ = dbₕₕ = Σ dAₜ
        —— 每一步的梯度既流向这一步的输入，也经 Wₕₕ 流回上一步的状态。"""
        n = self.needs_input_grad
        need = n if self.has_bias else (n[0], n[1], n[2], False, False, n[3])
        if dout is not None and self.batch_first:
            dout = dout.swapaxes(0, 1)
        dx, dw_ih, dw_hh, db_ih, db_hh, dh0 = rnn_layer_backward_arrays(
            dout, dh_T, self.x, self.w_ih, self.w_hh, self.hs, self.nonlinearity, need, self.reverse)
        if dx is not None and self.batch_first:
            dx = dx.swapaxes(0, 1)
        if not self.has_bias:
            return dx, dw_ih, dw_hh, dh0
        return dx, dw_ih, dw_hh, db_ih, db_hh, dh0

"""融合的 GRU：整段序列 ``GRULayerFn``（一次前向 + 一次完整的 BPTT），语义与 PyTorch 相同。

GRU 的一步（门的顺序 r, z, n，与 PyTorch 相同）::

    X = x Wᵢₕᵀ + bᵢₕ          H = h₍ₜ₋₁₎ Wₕₕᵀ + bₕₕ          (B, 3H)，各切成 r, z, n 三段
    r = σ(X_r + H_r)     z = σ(X_z + H_z)
    n = tanh(X_n + r ⊙ H_n)                  ← 注意 r 乘的是 *整个* H_n（含 bₕₙ），所以要保存 H_n
    hₜ = (1 - z) ⊙ n + z ⊙ h₍ₜ₋₁₎ = n + z ⊙ (h₍ₜ₋₁₎ - n)

和 ``ops/lstm.py`` 一样：所有时间步的 X 是一次大矩阵乘；每步只有一次 ``h Wₕₕᵀ``；反向每步一次
``dH Wₕₕ``，最后 dWᵢₕ、dWₕₕ、dx 各一次大矩阵乘；导数全部用保存的门值 (r, z, n) 与 H_n 表示。
``gru_cell_forward_arrays`` / ``gru_cell_backward_arrays`` 是唯一的实现（CUDA 内核要与之一致）。
"""
from ..autograd import Function
from ..backend import array_module, ones_vector
from .lstm import _check_layer, _state_buffer


def _split3(a):
    H = a.shape[-1] // 3
    return a[..., :H], a[..., H:2 * H], a[..., 2 * H:]


def gru_cell_forward_arrays(xw, hw, h_prev, gates=None, h=None, tmp=None):
    """One GRU step on raw arrays (the reference implementation).

    Args:
        xw: (B, 3H) input part x Wᵢₕᵀ + bᵢₕ, order r, z, n; hw: (B, 3H) hidden part h Wₕₕᵀ + bₕₕ.
        h_prev: (B, H).
        gates, h, tmp: optional buffers ((B, 3H), (B, H), (B, H)); ``gates`` may be ``xw``.
    Returns:
        (h, gates): the new hidden state and the activations [r | z | n] backward needs
        (together with ``hw``'s n part).
    """
    xp = array_module(xw)
    H = h_prev.shape[-1]
    if gates is None:
        gates = xp.empty_like(xw)
    if h is None:
        h = xp.empty_like(h_prev)
    if tmp is None:
        tmp = xp.empty_like(h_prev)
    rz = gates[..., :2 * H]
    xp.add(xw[..., :2 * H], hw[..., :2 * H], out=rz)
    rz *= 0.5                                     # σ(a) = ½ tanh(a/2) + ½：不会溢出
    xp.tanh(rz, out=rz)
    rz *= 0.5
    rz += 0.5
    r, z, n = _split3(gates)
    xp.multiply(r, hw[..., 2 * H:], out=tmp)
    xp.add(xw[..., 2 * H:], tmp, out=n)
    xp.tanh(n, out=n)
    xp.subtract(h_prev, n, out=h)
    h *= z
    h += n                                        # h = n + z⊙(h_prev - n)
    return h, gates


def gru_cell_backward_arrays(gates, hw_n, h_prev, dh, dxw=None, dhw=None, dh_prev=None, tmp=None):
    """Backward of one GRU step, in terms of saved activations.

    Args:
        gates: (B, 3H) [r | z | n]; hw_n: (B, H) the n part of h Wₕₕᵀ + bₕₕ; h_prev: (B, H);
        dh: (B, H) gradient w.r.t. the new h.
        dxw, dhw, dh_prev, tmp: optional buffers ((B, 3H), (B, 3H), (B, H), (B, 2H)).
    Returns:
        (dxw, dhw, dh_prev_direct): gradients w.r.t. xw, hw, and the *direct* part dh ⊙ z of the
        gradient w.r.t. h_prev (the caller adds dhw Wₕₕ).

    Formulas::

        dAₙ = dh ⊙ (1-z) ⊙ (1-n²)        dA_z = dh ⊙ (h_prev - n) ⊙ z(1-z)
        dA_r = dAₙ ⊙ H_n ⊙ r(1-r)
        dxw = [dA_r, dA_z, dAₙ]          dhw = [dA_r, dA_z, dAₙ ⊙ r]
    """
    xp = array_module(gates)
    H = h_prev.shape[-1]
    if dxw is None:
        dxw = xp.empty_like(gates)
    if dhw is None:
        dhw = xp.empty_like(gates)
    if dh_prev is None:
        dh_prev = xp.empty_like(h_prev)
    if tmp is None:
        tmp = xp.empty(gates.shape[:-1] + (2 * H,), gates.dtype)
    r, z, n = _split3(gates)
    dr, dz, dn = _split3(dxw)
    tmp_h = tmp[..., :H]
    xp.subtract(1, z, out=dn)
    dn *= dh
    xp.multiply(n, n, out=tmp_h)
    xp.subtract(1, tmp_h, out=tmp_h)
    dn *= tmp_h                                   # dAₙ
    xp.subtract(h_prev, n, out=dz)
    dz *= dh
    xp.multiply(dn, hw_n, out=dr)
    rz = gates[..., :2 * H]
    drz = dxw[..., :2 * H]
    xp.subtract(1, rz, out=tmp)
    tmp *= rz
    drz *= tmp                                    # σ' = σ(1-σ) for r and z at once
    dhw[..., :2 * H] = drz
    xp.multiply(dn, r, out=dhw[..., 2 * H:])
    xp.multiply(dh, z, out=dh_prev)
    return dxw, dhw, dh_prev


def gru_layer_forward_arrays(x, w_ih, w_hh, b_ih, b_hh, h0, reverse=False):
    """Whole-sequence forward of one GRU layer on *time-major* arrays (x (T, B, D), C-contiguous;
    ``reverse``: from the last step to the first).

    Returns (out (T, B, H), h_T, cache=(gates (T, B, 3H), hws (T, B, 3H), hs)); hs is the state
    buffer of ``ops.lstm._state_buffer``."""
    xp = array_module(x)
    T, B, D = x.shape
    H = w_hh.shape[1]
    gates = x.reshape(-1, D) @ w_ih.T            # 所有步的输入投影一次算完，原地变成门值
    if b_ih is not None:
        gates += b_ih
    gates = gates.reshape(T, B, 3 * H)
    hws = xp.empty((T, B, 3 * H), x.dtype)
    hs, out, _ = _state_buffer(xp, T, B, H, x.dtype, h0, reverse)
    tmp = xp.empty((B, H), x.dtype)
    w_hh_t = w_hh.T
    h = h0
    for k in range(T):
        t = T - 1 - k if reverse else k
        hw = hws[t]
        xp.matmul(h, w_hh_t, out=hw)
        if b_hh is not None:
            hw += b_hh
        h_prev, h = h, out[t]
        gru_cell_forward_arrays(gates[t], hw, h_prev, gates=gates[t], h=h, tmp=tmp)
    h_T = h0.copy() if T == 0 else h
    return out, h_T, (gates, hws, hs)


def gru_layer_backward_arrays(dout, dh_T, x, w_ih, w_hh, cache, need=(True,) * 6, reverse=False):
    """BPTT for ``gru_layer_forward_arrays`` (time-major);
    need/returns (dx, dw_ih, dw_hh, db_ih, db_hh, dh0)."""
    xp = array_module(x)
    gates, hws, hs = cache
    T, B, H3 = hws.shape
    H = H3 // 3
    hprev = hs[1:] if reverse else hs[:T]
    dxw = xp.empty_like(gates)
    dhw = xp.empty_like(gates)
    tmp = xp.empty((B, 2 * H), x.dtype)
    direct = xp.empty((B, H), x.dtype)
    dh = xp.zeros((B, H), x.dtype) if dh_T is None else dh_T.copy()
    for k in range(T - 1, -1, -1):
        t = T - 1 - k if reverse else k
        if dout is not None:
            dh += dout[t]
        gru_cell_backward_arrays(gates[t], hws[t][:, 2 * H:], hprev[t], dh,
                                 dxw=dxw[t], dhw=dhw[t], dh_prev=direct, tmp=tmp)
        if k > 0 or need[5]:
            xp.matmul(dhw[t], w_hh, out=dh)   # ∂L/∂h₍ₜ₋₁₎ = dHₜ Wₕₕ + dh ⊙ z
            dh += direct
    dx2 = dxw.reshape(-1, H3)
    dh2 = dhw.reshape(-1, H3)
    dx = dw_ih = dw_hh = db_ih = db_hh = None
    if need[0]:
        dx = (dx2 @ w_ih).reshape(x.shape)
    if need[1]:
        dw_ih = dx2.T @ x.reshape(-1, x.shape[2])
    if need[2]:                                 # h₀…h₍T₋₁₎ 已连续排在 hs 里：dWₕₕ 一次矩阵乘
        dw_hh = dh2.T @ hprev.reshape(-1, H)
    if need[3]:
        db_ih = ones_vector(dx2, dx2.shape[0]) @ dx2
    if need[4]:
        db_hh = ones_vector(dh2, dh2.shape[0]) @ dh2
    return dx, dw_ih, dw_hh, db_ih, db_hh, (dh if need[5] else None)


class GRULayerFn(Function):
    """One whole GRU layer over a sequence as a single graph node.

    ``GRULayerFn.apply(x, w_ih, w_hh, b_ih, b_hh, h0, batch_first=False, reverse=False)`` (or without
    the biases) -> (out, h_T).  x: (T, B, D) or (B, T, D) with ``batch_first``; h0: (B, H);
    ``reverse`` runs from the last step to the first (bidirectional GRUs).
    """
    n_outputs = 2

    def forward(self, x, w_ih, w_hh, *rest, batch_first=False, reverse=False):
        if len(rest) == 3:
            b_ih, b_hh, h0 = rest
        elif len(rest) == 1:
            (h0,), b_ih, b_hh = rest, None, None
        else:
            raise TypeError("gru_layer: expected inputs (x, w_ih, w_hh, [b_ih, b_hh,] h0), got "
                            f"{3 + len(rest)} tensors")
        x_tm = _check_layer("gru_layer", 3, x, w_ih, w_hh, b_ih, b_hh, h0, batch_first)
        out, h_T, self.cache = gru_layer_forward_arrays(x_tm, w_ih, w_hh, b_ih, b_hh, h0, reverse)
        self.x, self.w_ih, self.w_hh = x_tm, w_ih, w_hh
        self.batch_first, self.reverse, self.has_bias = batch_first, reverse, b_ih is not None
        return (out.swapaxes(0, 1) if batch_first else out), h_T

    def backward(self, dout, dh_T):
        """GRU 的 BPTT：每步 dAₙ = dh·(1-z)·(1-n²)，dA_z = dh·(h_prev-n)·z(1-z)，
        dA_r = dAₙ·Hₙ·r(1-r)；dh_prev = dh·z + [dA_r, dA_z, dAₙ·r] Wₕₕ
        —— 共享的权重把各时间步的梯度加起来，最后各用一次大矩阵乘完成。"""
        n = self.needs_input_grad
        if self.has_bias:
            need = (n[0], n[1], n[2], n[3], n[4], n[5])
        else:
            need = (n[0], n[1], n[2], False, False, n[3])
        if dout is not None and self.batch_first:
            dout = dout.swapaxes(0, 1)
        dx, dw_ih, dw_hh, db_ih, db_hh, dh0 = gru_layer_backward_arrays(
            dout, dh_T, self.x, self.w_ih, self.w_hh, self.cache, need, self.reverse)
        if dx is not None and self.batch_first:
            dx = dx.swapaxes(0, 1)
        if not self.has_bias:
            return dx, dw_ih, dw_hh, dh0
        return dx, dw_ih, dw_hh, db_ih, db_hh, dh0

"""融合的 LSTM：单步 ``LSTMCellFn`` 与整段序列 ``LSTMLayerFn``（一次前向 + 一次完整的 BPTT）。

LSTM 的一步（门的顺序与 PyTorch 相同：i, f, g, o）::

    A = x Wᵢₕᵀ + bᵢₕ + h₍ₜ₋₁₎ Wₕₕᵀ + bₕₕ          (B, 4H)，切成 aᵢ, a_f, a_g, aₒ
    i = σ(aᵢ)   f = σ(a_f)   g = tanh(a_g)   o = σ(aₒ)
    cₜ = f ⊙ c₍ₜ₋₁₎ + i ⊙ g
    hₜ = o ⊙ tanh(cₜ)

用小运算拼出来，一步就有十几个图节点；一条 35 步、2 层的序列就是上千个节点，每个节点都要分配
临时数组。这里把一步（乃至整条序列）写成 **一个** Function：

* 前向只保存门的激活值 (i, f, g, o)、c 和 tanh(c)；反向完全用这些 *输出* 表示导数
  （σ' = σ(1-σ)，tanh' = 1 - tanh²），不需要保存任何预激活值。
* 整层版本：所有时间步的输入投影 ``x Wᵢₕᵀ`` 是 **一次** 大矩阵乘；循环里每步只剩一次
  ``h Wₕₕᵀ``；反向每步一次 ``dA Wₕₕ``，然后 dWᵢₕ、dWₕₕ、dx 各是一次大矩阵乘。
* 逐元素运算都用 ``out=`` 原地写进预先分配好的缓冲区，不产生临时数组。
* σ(x) 写成 (1 + tanh(x/2)) / 2：与 1/(1+e⁻ˣ) 相等，但 |x| 很大时也不会溢出；
  而且四个门可以用 **一次** tanh 调用算完（sigmoid 门先乘 ½，之后再做仿射变换）。

下面的数组函数（``lstm_cell_forward_arrays`` / ``lstm_cell_backward_arrays`` 及整层版本）是唯一的
NumPy/CuPy 实现：Function 调用它们，CUDA kernel 必须与它们算出相同的结果。可以用
``register_cell_kernels(device, forward, backward)`` 接入某个设备专用的融合单元（签名与数组函数相同）。

English: the array functions below (``lstm_cell_forward_arrays`` / ``lstm_cell_backward_arrays`` and the
layer versions) are the single NumPy/CuPy implementation: the Functions call them, and a CUDA
kernel must reproduce them.  A device-specific fused cell can be plugged in with
``register_cell_kernels(device, forward, backward)`` (same signatures as the array functions).
"""
import numpy as np

from ..autograd import Function
from ..backend import array_module, device_of, ones_vector
from ..errors import TensorError

# ----------------------------------------------------------------------------- 常数
_CONSTS = {}


def _gate_consts(xp, dtype, H):
    """四个门 [i | f | g | o] 每一列的常数（按数组模块、dtype 和 H 缓存）。

    有了它们，四个门可以用同一组整块数组运算算完：sigmoid 列先乘 0.5 再做 tanh，最后乘 0.5 加 0.5；
    tanh 列乘 1 加 0。反向时局部导数统一写成 (1 - y)(y + kink)：sigmoid 列得到 y(1-y)，tanh 列得到 1-y²。

    scale: 0.5 on sigmoid columns, 1 on the tanh column — σ(a) = 0.5·tanh(0.5·a) + 0.5
    shift: 0.5 on sigmoid columns, 0 on the tanh column
    kink:  0 on sigmoid columns, 1 on the tanh column — derivative = (1 - y)(y + kink), i.e.
           y(1-y) for a sigmoid output y and (1-y)(1+y) = 1-y² for a tanh output y.
    """
    key = (xp.__name__, np.dtype(dtype).str, H)
    c = _CONSTS.get(key)
    if c is None:
        scale = np.full(4 * H, 0.5, dtype)
        scale[2 * H:3 * H] = 1
        shift = np.full(4 * H, 0.5, dtype)
        shift[2 * H:3 * H] = 0
        kink = np.zeros(4 * H, dtype)
        kink[2 * H:3 * H] = 1
        c = _CONSTS[key] = tuple(xp.asarray(a) for a in (scale, shift, kink))
    return c


def _split4(a):
    H = a.shape[-1] // 4
    return a[..., :H], a[..., H:2 * H], a[..., 2 * H:3 * H], a[..., 3 * H:]


# ----------------------------------------------------------------------------- 单步（数组）
def lstm_gates_arrays(A, out=None):
    """由预激活值 A (..., 4H) 算出门的激活值 [σ(aᵢ) | σ(a_f) | tanh(a_g) | σ(aₒ)]。

    ``out`` 可以就是 ``A``（原地计算）。整块数组只过四遍：乘系数、tanh、乘系数、加偏移。
    English: ``out`` may be ``A`` itself (in place).  Four whole-array passes: scale, tanh, scale, shift."""
    xp = array_module(A)
    scale, shift, _ = _gate_consts(xp, A.dtype, A.shape[-1] // 4)
    if out is None:
        out = xp.empty_like(A)
    xp.multiply(A, scale, out=out)
    xp.tanh(out, out=out)
    out *= scale
    out += shift
    return out


def lstm_cell_forward_arrays(A, c_prev, gates=None, c=None, tanh_c=None, h=None):
    """在原始数组上做 LSTM 的一步（参考实现）：c = f⊙c_prev + i⊙g，h = o⊙tanh(c)。
    One LSTM step on raw arrays (the reference implementation).

    Args:
        A: gate pre-activations (B, 4H), order i, f, g, o.
        c_prev: previous cell state (B, H).
        gates, c, tanh_c, h: optional output buffers ((B, 4H), (B, H), (B, H), (B, H));
            ``gates`` may be ``A`` (overwritten in place).
    Returns:
        (h, c, gates, tanh_c): new hidden state, new cell state, and what backward needs.
    """
    xp = array_module(A)
    gates = lstm_gates_arrays(A, out=gates)
    i, f, g, o = _split4(gates)
    if c is None:
        c = xp.empty_like(c_prev)
    if h is None:
        h = xp.empty_like(c_prev)
    if tanh_c is None:
        tanh_c = xp.empty_like(c_prev)
    xp.multiply(i, g, out=h)            # h 先当作 i⊙g 的临时缓冲
    xp.multiply(f, c_prev, out=c)
    c += h                              # 新的细胞状态：c = f⊙c_prev + i⊙g
    xp.tanh(c, out=tanh_c)
    xp.multiply(o, tanh_c, out=h)       # 新的隐状态：h = o⊙tanh(c)
    return h, c, gates, tanh_c


def lstm_cell_backward_arrays(gates, c_prev, tanh_c, dh, dc, dA=None, dc_prev=None, tmp=None):
    """LSTM 一步的反向，只用前向保存的门激活值写出（不需要预激活值）。
    Backward of one LSTM step, written only with saved gate activations.

    Args:
        gates: (B, 4H) activations [i | f | g | o] from the forward pass.
        c_prev, tanh_c: (B, H) previous cell state and tanh of the new cell state.
        dh, dc: (B, H) gradients w.r.t. the step's outputs h and c (``None`` = zeros).
        dA, dc_prev, tmp: optional output/scratch buffers ((B, 4H), (B, H), (B, 4H)). ``dc_prev``
            must not alias ``dc``.
    Returns:
        (dA, dc_prev): gradient w.r.t. the pre-activations A and w.r.t. c_prev.

    公式（δc 是到达 cₜ 的全部梯度：来自下一步的 dc，加上经由 hₜ = o⊙tanh cₜ 传来的部分）::

        δc    = dc + dh ⊙ o ⊙ (1 - tanh²c)
        dAᵢ   = δc ⊙ g ⊙ i(1-i)         dA_f = δc ⊙ c_prev ⊙ f(1-f)
        dA_g  = δc ⊙ i ⊙ (1-g²)         dAₒ  = dh ⊙ tanh c ⊙ o(1-o)
        dc_prev = δc ⊙ f
    """
    xp = array_module(gates)
    i, f, g, o = _split4(gates)
    if dh is None:
        dh = xp.zeros_like(c_prev)
    if dA is None:
        dA = xp.empty_like(gates)
    if dc_prev is None:
        dc_prev = xp.empty_like(c_prev)
    if tmp is None:
        tmp = xp.empty_like(gates)
    dai, daf, dag, dao = _split4(dA)
    dct = dc_prev                       # δc 就放在 dc_prev 的缓冲里，最后再乘 f
    xp.multiply(tanh_c, tanh_c, out=dct)
    xp.subtract(1, dct, out=dct)
    dct *= o
    dct *= dh
    if dc is not None:
        dct += dc
    xp.multiply(dct, g, out=dai)
    xp.multiply(dct, c_prev, out=daf)
    xp.multiply(dct, i, out=dag)
    xp.multiply(dh, tanh_c, out=dao)
    # 四个门的局部导数一次算完：(1 - y)(y + kink)，sigmoid 门 = y(1-y)，tanh 门 = 1-y²
    _, _, kink = _gate_consts(xp, gates.dtype, gates.shape[-1] // 4)
    xp.subtract(1, gates, out=tmp)
    dA *= tmp
    xp.add(gates, kink, out=tmp)
    dA *= tmp
    dct *= f                            # 细胞状态的梯度沿遗忘门传回上一步：dc_prev = δc ⊙ f
    return dA, dc_prev


# 旧名字（GPU 内核的对照测试用）：参考实现就是上面两个函数
lstm_cell_reference = lstm_cell_forward_arrays
lstm_cell_backward_reference = lstm_cell_backward_arrays

_CELL_KERNELS = {}


def register_cell_kernels(device, forward, backward):
    """让 ``device`` 上的数组改用融合的 ``forward``/``backward``（签名同 ``lstm_cell_forward_arrays`` /
    ``lstm_cell_backward_arrays``，结果写进给定的缓冲区）。"""
    _CELL_KERNELS[device] = (forward, backward)


def _cell_impl(arr):
    return _CELL_KERNELS.get(device_of(arr), (lstm_cell_forward_arrays, lstm_cell_backward_arrays))


def _check_float(op, **arrays):
    dtypes = {k: a.dtype for k, a in arrays.items()}
    first = next(iter(dtypes.values()))
    if first.kind != "f" or any(d != first for d in dtypes.values()):
        raise TypeError(f"{op}: expected floating point arrays of one dtype, got " +
                        ", ".join(f"{k}: {d}" for k, d in dtypes.items()))


class LSTMCellFn(Function):
    """(A, c_prev) -> (h, c)：融合成一个节点的 LSTM 单步；A = x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ (B, 4H)。"""
    n_outputs = 2

    def forward(self, A, c_prev):
        if A.ndim != 2 or c_prev.ndim != 2 or A.shape[1] != 4 * c_prev.shape[1] \
                or A.shape[0] != c_prev.shape[0]:
            raise TensorError(f"lstm_cell: expected gate pre-activations (B, 4H) and c_prev (B, H), got "
                             f"{A.shape} and {c_prev.shape}")
        _check_float("lstm_cell", A=A, c_prev=c_prev)
        fwd, _ = _cell_impl(A)
        h, c, self.gates, self.tanh_c = fwd(A, c_prev)
        self.c_prev = c_prev
        return h, c

    def backward(self, dh, dc):
        """h = o·tanh c,  c = f·c_prev + i·g：
        δc = dc + dh·o·(1-tanh²c)；dAᵢ = δc·g·i(1-i)，dA_f = δc·c_prev·f(1-f)，dA_g = δc·i·(1-g²)，
        dAₒ = dh·tanh c·o(1-o)；dc_prev = δc·f —— 导数全部用前向保存的门值（输出）表示。"""
        _, bwd = _cell_impl(self.gates)
        dA, dc_prev = bwd(self.gates, self.c_prev, self.tanh_c, dh, dc)
        return (dA if self.needs_input_grad[0] else None,
                dc_prev if self.needs_input_grad[1] else None)


# ----------------------------------------------------------------------------- 整层（数组）
def _state_buffer(xp, T, B, H, dtype, h0, reverse):
    """(T+1, B, H) 的缓冲区，依次放 h0 和每个 hₜ：这样输出 h₁…h_T 与"上一步"的状态 h₀…h₍T₋₁₎ 都是它的
    连续视图，算 dWₕₕ 时不必复制。
    English: (T+1, B, H) buffer holding h0 and every hₜ, so that both the outputs h₁…h_T and the
    "previous" states h₀…h₍T₋₁₎ are contiguous views of it (no copy for dWₕₕ):
    forward:  hs = [h0, h_0, …, h_{T-1}]  -> out = hs[1:],  hprev = hs[:-1]
    reverse:  hs = [h_0, …, h_{T-1}, h0]  -> out = hs[:-1], hprev = hs[1:]  (time runs backwards)."""
    hs = xp.empty((T + 1, B, H), dtype)
    if reverse:
        hs[T] = h0
        return hs, hs[:T], hs[1:]
    hs[0] = h0
    return hs, hs[1:], hs[:T]


def lstm_layer_forward_arrays(x, w_ih, w_hh, b, h0, c0, reverse=False):
    """在 *时间优先* 的原始数组上，对一层 LSTM 做整段序列的前向。
    Whole-sequence forward of one LSTM layer on raw *time-major* arrays.

    Args:
        x: (T, B, D), C-contiguous.  w_ih (4H, D), w_hh (4H, H), b (4H,) or None (= b_ih + b_hh),
        h0/c0 (B, H).
        reverse: run the recurrence from the last time step to the first (the backward direction
            of a bidirectional LSTM); ``out[t]`` is still the output at time t.
    Returns:
        (out (T, B, H), h_T, c_T, cache): cache = (gates (T, B, 4H), hs, cs, tanh_cs) where hs is the
        state buffer of ``_state_buffer`` and cs (T+1, B, H), tanh_cs (T, B, H) are in *processing*
        order (cs[0] = c0, cs[k+1] = the cell state after k+1 steps).
    """
    xp = array_module(x)
    T, B, D = x.shape
    H = w_hh.shape[1]
    fwd, _ = _cell_impl(x)
    # 所有时间步的输入投影：一次大矩阵乘，结果直接当作门缓冲（之后原地变成门的激活值）
    gates = x.reshape(-1, D) @ w_ih.T
    if b is not None:
        gates += b
    gates = gates.reshape(T, B, 4 * H)
    hs, out, _ = _state_buffer(xp, T, B, H, x.dtype, h0, reverse)
    cs = xp.empty((T + 1, B, H), x.dtype)
    cs[0] = c0
    tanh_cs = xp.empty((T, B, H), x.dtype)
    rec = xp.empty((B, 4 * H), x.dtype)
    w_hh_t = w_hh.T                      # 转置视图：BLAS 直接按转置读取，不复制
    h = h0
    for k in range(T):
        t = T - 1 - k if reverse else k
        g_t = gates[t]
        xp.matmul(h, w_hh_t, out=rec)    # 每步唯一的矩阵乘：h₍ₜ₋₁₎ Wₕₕᵀ
        g_t += rec
        h = out[t]
        fwd(g_t, cs[k], gates=g_t, c=cs[k + 1], tanh_c=tanh_cs[k], h=h)
    h_T = h0.copy() if T == 0 else h
    return out, h_T, cs[T], (gates, hs, cs, tanh_cs)


def lstm_layer_backward_arrays(dout, dh_T, dc_T, x, w_ih, w_hh, cache,
                               need=(True, True, True, True, True, True), reverse=False):
    """``lstm_layer_forward_arrays`` 的完整随时间反向传播（BPTT，时间优先）：从最后一步倒推回第一步。
    Full backpropagation through time for ``lstm_layer_forward_arrays`` (time-major).

    Args:
        dout: (T, B, H) gradient w.r.t. out (any strides) or None; dh_T, dc_T: (B, H) or None.
        need: which of (dx, dw_ih, dw_hh, db, dh0, dc0) to compute.
    Returns:
        (dx, dw_ih, dw_hh, db, dh0, dc0), None where not needed.
    """
    xp = array_module(x)
    gates, hs, cs, tanh_cs = cache
    T, B, H = tanh_cs.shape
    _, bwd = _cell_impl(x)
    dA = xp.empty_like(gates)
    tmp = xp.empty((B, 4 * H), x.dtype)
    dc_bufs = (xp.empty((B, H), x.dtype), xp.empty((B, H), x.dtype))
    dh = xp.zeros((B, H), x.dtype) if dh_T is None else dh_T.copy()
    dc = dc_T
    for k in range(T - 1, -1, -1):       # 按前向的逆序走回去
        t = T - 1 - k if reverse else k
        if dout is not None:
            dh += dout[t]                # hₜ 的梯度 = 来自输出的 + 来自下一步的
        dc_new = dc_bufs[k % 2]
        bwd(gates[t], cs[k], tanh_cs[k], dh, dc, dA=dA[t], dc_prev=dc_new, tmp=tmp)
        dc = dc_new
        if k > 0 or need[4]:
            xp.matmul(dA[t], w_hh, out=dh)   # 每步一次：∂L/∂h₍ₜ₋₁₎ = dAₜ Wₕₕ
    dA2 = dA.reshape(-1, 4 * H)
    dx = dw_ih = dw_hh = db = None
    if need[0]:
        dx = (dA2 @ w_ih).reshape(x.shape)
    if need[1]:
        dw_ih = dA2.T @ x.reshape(-1, x.shape[2])
    if need[2]:                          # h₀…h₍T₋₁₎ 已连续排在 hs 里：dWₕₕ 一次矩阵乘
        hprev = hs[1:] if reverse else hs[:T]
        dw_hh = dA2.T @ hprev.reshape(-1, H)
    if need[3]:
        db = ones_vector(dA2, dA2.shape[0]) @ dA2
    dh0 = dh if need[4] else None
    dc0 = None
    if need[5]:
        dc0 = xp.zeros((B, H), x.dtype) if dc is None else (dc.copy() if dc is dc_T else dc)
    return dx, dw_ih, dw_hh, db, dh0, dc0


def _check_layer(op, gates, x, w_ih, w_hh, b_ih, b_hh, h0, batch_first):
    """检查一层循环网络（RNN：gates=1，GRU：3）的输入形状与 dtype，返回按时间优先排列的输入。
    Shape and dtype checks of one recurrent layer before its forward; returns the time-major input."""
    if x.ndim != 3:
        raise TensorError(f"{op}: expected a 3-D input ({'B, T' if batch_first else 'T, B'}, D), "
                         f"got shape {x.shape}")
    B, D = (x.shape[0] if batch_first else x.shape[1]), x.shape[2]
    H = w_hh.shape[1] if w_hh.ndim == 2 else -1
    G = gates * H
    if (w_ih.shape != (G, D) or w_hh.shape != (G, H) or h0.shape != (B, H) or
            (b_ih is not None and (b_ih.shape != (G,) or b_hh.shape != (G,)))):
        g = "" if gates == 1 else str(gates)
        raise TensorError(
            f"{op}: inconsistent shapes: x {x.shape} (batch_first={batch_first}), w_ih "
            f"{w_ih.shape}, w_hh {w_hh.shape}, " +
            ("" if b_ih is None else f"b_ih {b_ih.shape}, b_hh {b_hh.shape}, ") +
            f"h0 {h0.shape}; expected w_ih ({g}H, D), w_hh ({g}H, H), biases ({g}H,), h0 (B, H) "
            f"with D={D}, B={B}")
    arrays = dict(x=x, w_ih=w_ih, w_hh=w_hh, h0=h0)
    if b_ih is not None:
        arrays.update(b_ih=b_ih, b_hh=b_hh)
    _check_float(op, **arrays)
    return _time_major(x, batch_first)       # 内部按时间优先计算（见 LSTMLayerFn）


def _time_major(a, batch_first):
    """(B, T, …) -> C 连续的 (T, B, …) 数组（a 本来就是转置视图时不用复制）。"""
    xp = array_module(a)
    return xp.ascontiguousarray(a.swapaxes(0, 1) if batch_first else a)


class LSTMLayerFn(Function):
    """一整层 LSTM 跑完整段序列，在计算图里只是一个节点。

    ``reverse`` 表示从最后一步算到第一步（双向 LSTM 的反方向）。
    English: one whole LSTM layer over a sequence as a single graph node.
    ``LSTMLayerFn.apply(x, w_ih, w_hh, b_ih, b_hh, h0, c0, batch_first=False, reverse=False)`` (or
    without the two biases) -> (out, h_T, c_T).  x: (T, B, D) or (B, T, D) with ``batch_first``;
    h0, c0: (B, H); ``reverse`` runs from the last step to the first (bidirectional LSTMs).
    """
    n_outputs = 3

    def forward(self, x, w_ih, w_hh, *rest, batch_first=False, reverse=False):
        if len(rest) == 4:
            b_ih, b_hh, h0, c0 = rest
        elif len(rest) == 2:
            (h0, c0), b_ih, b_hh = rest, None, None
        else:
            raise TypeError("lstm_layer: expected inputs (x, w_ih, w_hh, [b_ih, b_hh,] h0, c0), got "
                            f"{3 + len(rest)} tensors")
        self._check(x, w_ih, w_hh, b_ih, b_hh, h0, c0, batch_first)
        b = None if b_ih is None else b_ih + b_hh
        # 内部一律按时间优先 (T, B, ·) 计算：每一步的数据都是连续的一块内存。batch_first 的输入/输出
        # 只是转置视图（上一层的输出转置回来正好连续，不需要复制）。
        x_tm = _time_major(x, batch_first)
        out, h_T, c_T, self.cache = lstm_layer_forward_arrays(x_tm, w_ih, w_hh, b, h0, c0, reverse)
        self.x, self.w_ih, self.w_hh = x_tm, w_ih, w_hh
        self.batch_first, self.reverse, self.has_bias = batch_first, reverse, b_ih is not None
        return (out.swapaxes(0, 1) if batch_first else out), h_T, c_T

    @staticmethod
    def _check(x, w_ih, w_hh, b_ih, b_hh, h0, c0, batch_first):
        if x.ndim != 3:
            raise TensorError(f"lstm_layer: expected a 3-D input ({'B, T' if batch_first else 'T, B'}, D), "
                             f"got shape {x.shape}")
        B = x.shape[0] if batch_first else x.shape[1]
        D = x.shape[2]
        H = w_hh.shape[1] if w_hh.ndim == 2 else -1
        bad = (w_ih.shape != (4 * H, D) or w_hh.shape != (4 * H, H) or h0.shape != (B, H)
               or c0.shape != (B, H) or (b_ih is not None and (b_ih.shape != (4 * H,) or
                                                              b_hh.shape != (4 * H,))))
        if bad:
            raise TensorError(
                f"lstm_layer: inconsistent shapes: x {x.shape} (batch_first={batch_first}), "
                f"w_ih {w_ih.shape}, w_hh {w_hh.shape}, " +
                ("" if b_ih is None else f"b_ih {b_ih.shape}, b_hh {b_hh.shape}, ") +
                f"h0 {h0.shape}, c0 {c0.shape}; expected w_ih (4H, D), w_hh (4H, H), biases (4H,), "
                f"h0/c0 (B, H) with D={D}, B={B}")
        arrays = dict(x=x, w_ih=w_ih, w_hh=w_hh, h0=h0, c0=c0)
        if b_ih is not None:
            arrays.update(b_ih=b_ih, b_hh=b_hh)
        _check_float("lstm_layer", **arrays)

    def backward(self, dout, dh_T, dc_T):
        """整段序列的 BPTT：从 t = T-1 倒推到 0，每步
        dAₜ = cell_backward(门值ₜ, c₍ₜ₋₁₎, tanh cₜ, dhₜ, dcₜ)，dh₍ₜ₋₁₎ = dAₜ Wₕₕ（+ 输出在 t-1 的梯度），
        最后 dWᵢₕ = Σₜ dAₜᵀ xₜ，dWₕₕ = Σₜ dAₜᵀ h₍ₜ₋₁₎，db = Σₜ dAₜ，dx = dA Wᵢₕ
        —— 权重在每个时间步共享，所以它们的梯度是各步之和，拼成一次大矩阵乘。"""
        n = self.needs_input_grad
        if self.has_bias:
            need = (n[0], n[1], n[2], n[3] or n[4], n[5], n[6])
        else:
            need = (n[0], n[1], n[2], False, n[3], n[4])
        if dout is not None and self.batch_first:
            dout = dout.swapaxes(0, 1)
        dx, dw_ih, dw_hh, db, dh0, dc0 = lstm_layer_backward_arrays(
            dout, dh_T, dc_T, self.x, self.w_ih, self.w_hh, self.cache, need, self.reverse)
        if dx is not None and self.batch_first:
            dx = dx.swapaxes(0, 1)
        if not self.has_bias:
            return dx, dw_ih, dw_hh, dh0, dc0
        db_ih = db if n[3] else None
        db_hh = (db.copy() if n[3] else db) if n[4] else None   # 两个偏置梯度相同，但不共享内存
        return dx, dw_ih, dw_hh, db_ih, db_hh, dh0, dc0


# ----------------------------------------------------------------------------- Tensor 层面的函数
def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """在 Tensor 上做 LSTM 的一步：input (B, D)，hx = (h, c) 各为 (B, H)，或 None（全零）。

    门的预激活值来自两个融合的 ``Linear``，门的计算是单个节点 ``LSTMCellFn``。
    Returns (h', c').  The gate pre-activations come from two fused ``Linear`` ops; the gate
    maths is the single node ``LSTMCellFn``."""
    from ..tensor import Tensor
    from .matmul import Linear
    B, H = input.shape[0], w_hh.shape[1]
    if hx is None:
        z = Tensor._make(input._xp.zeros((B, H), input.dtype), input.device, None, 0)
        hx = (z, z)
    h, c = hx
    if input.ndim != 2 or h.shape != (B, H) or c.shape != (B, H) or w_ih.shape != (4 * H, input.shape[1]):
        raise TensorError(f"lstm_cell: expected input (B, D), h and c (B, H), w_ih (4H, D), w_hh (4H, H); "
                         f"got input {input.shape}, h {h.shape}, c {c.shape}, w_ih {w_ih.shape}, "
                         f"w_hh {w_hh.shape}")
    a = Linear.apply(input, w_ih) if b_ih is None else Linear.apply(input, w_ih, b_ih)
    a = a + (Linear.apply(h, w_hh) if b_hh is None else Linear.apply(h, w_hh, b_hh))
    return LSTMCellFn.apply(a, c)

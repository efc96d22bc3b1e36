"""练习 9–12、15–17 的判题规格：矩阵乘法、MSE、softmax 交叉熵、全连接层、LSTM 单步、im2col 卷积、最大池化。"""
import numpy as np
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

from ._grading import Case, OpSpec, float_arrays, seeded_arrays

side = st.integers(1, 4)


# ----------------------------------------------------------------------------- 09 matmul
@st.composite
def matmul_cases(draw):
    n, k, m = draw(side), draw(side), draw(side)
    return Case(("A", "B"), (draw(float_arrays((n, k))), draw(float_arrays((k, m)))))


def _matmul_mistakes(case, ups, correct):
    A, B = case.arrays
    G = ups[0]
    out = []
    if B.shape[0] == B.shape[1]:
        out.append((0, G @ B, "∂L/∂A = G Bᵀ：B 要转置（形状 (n,m)·(m,k) = (n,k)）。"))
    if A.shape[0] == A.shape[1]:
        out.append((1, A @ G, "∂L/∂B = Aᵀ G：A 要转置（形状 (k,n)·(n,m) = (k,m)）。"))
    return out


def _matmul_errors(case, exc, where):
    if where == "backward" and isinstance(exc, ValueError):
        return ["矩阵形状对不上。设 A: (n,k)，B: (k,m)，G = ∂L/∂C: (n,m)。∂L/∂A 必须是 (n,k)，只有 G Bᵀ 的形状对得上；"
                "∂L/∂B 必须是 (k,m)，只有 Aᵀ G 对得上。"]
    return []


def matmul_specs():
    return (OpSpec("MatMul", matmul_cases(), lambda A, B: A @ B, mistakes=_matmul_mistakes,
                   error_hints=_matmul_errors),)


# ----------------------------------------------------------------------------- 10 mse
@st.composite
def mse_cases(draw):
    shape = tuple(draw(st.lists(side, min_size=1, max_size=2)))
    return Case(("pred", "target"), (draw(float_arrays(shape)), draw(float_arrays(shape))))


def _mse(pred, target):
    return np.asarray(np.mean((pred - target) ** 2))


def _mse_mistakes(case, ups, correct):
    p, t = case.arrays
    n = p.size
    return [(0, ups[0] * 2 * (p - t), f"loss 是 {n} 个元素的 *平均*：每个元素的梯度还要除以 N = {n}。"),
            (1, ups[0] * 2 * (p - t) / n, "target 在 (pred − target)² 里带负号：∂L/∂target = −∂L/∂pred。")]


def mse_specs():
    return (OpSpec("MSELoss", mse_cases(), _mse, mistakes=_mse_mistakes),)


# ----------------------------------------------------------------------------- 11 softmax cross-entropy
@st.composite
def ce_cases(draw):
    n, c = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    logits = draw(float_arrays((n, c), min_value=-4, max_value=4))
    logits = logits + draw(st.sampled_from([0.0, 0.0, 800.0]))          # 大的 logits：朴素的 exp 会溢出
    target = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=np.int64)
    return Case(("logits",), (logits,), {"target": target})


def _log_softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _ce(logits, target):
    return np.asarray(-_log_softmax(logits)[np.arange(len(target)), target].mean())


def _ce_mistakes(case, ups, correct):
    x, = case.arrays
    t = case.kwargs["target"]
    n = len(t)
    p = np.exp(_log_softmax(x))
    onehot = np.zeros_like(x)
    onehot[np.arange(n), t] = 1
    u = ups[0]
    return [(0, u * p / n, "忘了减去 one-hot：∂L/∂x = (softmax(x) − onehot(y)) / N，正确类别那一格要减 1。"),
            (0, -u * onehot / n, "漏了 softmax 项：log-sum-exp 对 x 的导数是 softmax(x)，所以 ∂L/∂x = (p − onehot) / N。"),
            (0, u * (p - onehot), f"loss 是 N = {n} 行的平均：每行的梯度要除以 N。")]


def _ce_forward_hints(case, mine, expected):
    if not np.all(np.isfinite(mine)):
        return ["exp 溢出了：logits 很大时 e^x 变成 inf。先减去每行的最大值 x − max(x)（softmax 不变），"
                "再用 log-sum-exp 算 log softmax。"]
    n = len(case.kwargs["target"])
    if n > 1 and mine.shape == expected.shape and np.allclose(mine, expected * n):
        return [f"loss 要对 N = {n} 行取 *平均*（mean），你算的是总和。"]
    return []


def ce_specs():
    return (OpSpec("SoftmaxCrossEntropy", ce_cases(), _ce, mistakes=_ce_mistakes, forward_hints=_ce_forward_hints),)


# ----------------------------------------------------------------------------- 12 linear
@st.composite
def linear_cases(draw):
    n, i, o = draw(side), draw(side), draw(side)
    return Case(("x", "W", "b"), (draw(float_arrays((n, i))), draw(float_arrays((o, i))), draw(float_arrays((o,)))))


def _linear_mistakes(case, ups, correct):
    x, W, b = case.arrays
    G = ups[0]
    out = []
    if W.shape[0] == W.shape[1]:
        out.append((0, G @ W.T, "y = x Wᵀ + b，所以 ∂L/∂x = G W（W 的形状是 (out, in)，不用再转置）。"))
        out.append((1, x.T @ G, "∂L/∂W = Gᵀ x（形状 (out,N)·(N,in) = (out,in)），你算的是它的转置 xᵀ G。"))
    return out


def _linear_shapes(case, i, shape):
    if i == 2:
        return ["b 被加到了每一行（每个样本）上：∂L/∂b 要对 batch 维求和，g.sum(axis=0)。"]
    if i == 1:
        return ["∂L/∂W 要和 W 同形 (out, in)：是 Gᵀ x（(out,N)·(N,in)），不是它的转置 xᵀ G。"]
    return []


def linear_specs():
    return (OpSpec("Linear", linear_cases(), lambda x, W, b: x @ W.T + b, mistakes=_linear_mistakes,
                   shape_hints=_linear_shapes, error_hints=_matmul_errors_linear),)


def _matmul_errors_linear(case, exc, where):
    if where == "backward" and isinstance(exc, ValueError):
        return ["矩阵形状对不上。x: (N,in)，W: (out,in)，G = ∂L/∂y: (N,out)。∂L/∂x 必须是 (N,in) = G W；"
                "∂L/∂W 必须是 (out,in) = Gᵀ x；∂L/∂b 是 (out,) = G 按行求和。"]
    return []


# ----------------------------------------------------------------------------- 15 lstm cell
def _sig(x):
    return 0.5 * (1 + np.tanh(0.5 * x))


def lstm_forward(A, c_prev):
    H = c_prev.shape[1]
    i, f, o = _sig(A[:, :H]), _sig(A[:, H:2 * H]), _sig(A[:, 3 * H:])
    g = np.tanh(A[:, 2 * H:3 * H])
    c = f * c_prev + i * g
    return o * np.tanh(c), c


def lstm_backward(A, c_prev, dh, dc, tanh_prime=True, use_dc=True, f_uses_c=False, sig_prime=True,
                  tanh_prime_g=True, keep_f=True, o_uses_c=False):
    """The LSTM cell's backward with switches that reproduce typical mistakes."""
    H = c_prev.shape[1]
    i, f, o = _sig(A[:, :H]), _sig(A[:, H:2 * H]), _sig(A[:, 3 * H:])
    g = np.tanh(A[:, 2 * H:3 * H])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    dh = np.zeros_like(c) if dh is None else dh
    dct = dh * o * ((1 - tc * tc) if tanh_prime else 1)
    if dc is not None and use_dc:
        dct = dct + dc
    sp = (lambda s: s * (1 - s)) if sig_prime else (lambda s: 1.0)
    dA = np.concatenate([dct * g * sp(i), dct * (c if f_uses_c else c_prev) * sp(f),
                         dct * i * ((1 - g * g) if tanh_prime_g else g * (1 - g)),
                         dh * (c if o_uses_c else tc) * sp(o)], axis=1)
    return dA, (dct * f if keep_f else dct)


@st.composite
def lstm_cases(draw):
    B, H = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    A = draw(float_arrays((B, 4 * H), min_value=-2.5, max_value=2.5))
    c_prev = draw(float_arrays((B, H), min_value=-2, max_value=2))
    return Case(("A", "c_prev"), (A, c_prev), outputs=draw(st.sampled_from(["all", 0, 1])))


_LSTM_MISTAKES = (
    (dict(tanh_prime=False), "δc 里漏了 tanh 的导数：h = o ⊙ tanh(c)，所以经过 h 到达 c 的梯度是 dh ⊙ o ⊙ (1 − tanh²c)。"),
    (dict(use_dc=False), "忘了加上直接传给 c 的梯度 dc：c 既影响 h，又是下一步的输入，δc = dc + dh ⊙ o ⊙ (1 − tanh²c)。"),
    (dict(f_uses_c=True), "遗忘门的梯度要乘 *上一步* 的 c_prev（c = f ⊙ c_prev + i ⊙ g），不是新的 c。"),
    (dict(sig_prime=False), "漏了 sigmoid 门的导数：dA 对的是激活 *之前* 的值，还要乘 σ'(a) = s(1 − s)。"),
    (dict(tanh_prime_g=False), "候选值 g = tanh(a_g)，它的导数是 1 − g²，不是 sigmoid 的 g(1 − g)。"),
    (dict(keep_f=False), "∂L/∂c_prev = δc ⊙ f：c = f ⊙ c_prev + …，别忘了乘遗忘门 f。"),
    (dict(o_uses_c=True), "输出门的梯度是 dh ⊙ tanh(c) ⊙ o(1 − o)：乘的是 tanh(c)，不是 c。"),
)


def _lstm_mistakes(case, ups, correct):
    A, c_prev = case.arrays
    out = []
    for flags, hint in _LSTM_MISTAKES:
        dA, dcp = lstm_backward(A, c_prev, ups[0], ups[1], **flags)
        out += [(0, dA, hint), (1, dcp, hint)]
    return out


def _lstm_errors(case, exc, where):
    if where == "backward" and isinstance(exc, TypeError) and "NoneType" in str(exc):
        return ["dh 或 dc 可能是 None（损失只用到了 h 或只用到了 c）：把 None 当成全 0。"]
    return []


def lstm_specs():
    return (OpSpec("LSTMCell", lstm_cases(), lstm_forward, n_outputs=2, mistakes=_lstm_mistakes,
                   error_hints=_lstm_errors, out_names=("h", "c")),)


# ----------------------------------------------------------------------------- 16 conv2d (im2col)
def conv_forward(x, w, b, stride=1, padding=0):
    k = w.shape[2]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]   # (N,C,OH,OW,k,k)
    return np.einsum("ncijkl,ockl->noij", win, w) + b[None, :, None, None]


def _conv_dx_assign(x, w, G, stride, padding, by_kernel):
    """dx when col2im *assigns* instead of adding (overlapping windows lose contributions)."""
    N, C, H, W = x.shape
    k = w.shape[2]
    OH, OW = G.shape[2:]
    dcols = np.einsum("noij,ockl->ncklij", G, w)                   # (N,C,k,k,OH,OW)
    dxp = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    if by_kernel:
        for p in range(k):
            for q in range(k):
                dxp[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride] = dcols[:, :, p, q]
    else:
        for i in range(OH):
            for j in range(OW):
                dxp[:, :, i * stride:i * stride + k, j * stride:j * stride + k] = dcols[:, :, :, :, i, j]
    return dxp[:, :, padding:padding + H, padding:padding + W]


@st.composite
def conv_cases(draw):
    N, C, O = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k, stride, padding = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
    H, W = draw(st.integers(k, k + 2)), draw(st.integers(k, k + 2))
    x = draw(seeded_arrays((N, C, H, W)))
    w = draw(seeded_arrays((O, C, k, k)))
    b = draw(seeded_arrays((O,)))
    return Case(("x", "w", "b"), (x, w, b), {"stride": stride, "padding": padding})


HINT_COL2IM = ("col2im 里要 *累加*（+=），不能赋值：窗口重叠时（stride < 卷积核），同一个输入像素出现在好几列里，"
               "每一列都把梯度送回它，要全部加起来。")


def _conv_mistakes(case, ups, correct):
    x, w, b = case.arrays
    s, p = case.kwargs["stride"], case.kwargs["padding"]
    return [(0, _conv_dx_assign(x, w, ups[0], s, p, True), HINT_COL2IM),
            (0, _conv_dx_assign(x, w, ups[0], s, p, False), HINT_COL2IM)]


def _conv_shapes(case, i, shape):
    x, w, b = case.arrays
    p = case.kwargs["padding"]
    if i == 0 and p and tuple(shape) == (x.shape[0], x.shape[1], x.shape[2] + 2 * p, x.shape[3] + 2 * p):
        return [f"这是补零之后的形状：col2im 得到的是 padding 后图像的梯度，要裁掉四周的 {p} 圈："
                "dx_pad[:, :, p:p+H, p:p+W]。"]
    if i == 2:
        return ["偏置加到了每个样本、每个输出位置上：∂L/∂b 要对 N、OH、OW 三个维度求和，g.sum(axis=(0, 2, 3))。"]
    return []


def _conv_forward_hints(case, mine, expected):
    x, w, b = case.arrays
    flipped = conv_forward(x, w[:, :, ::-1, ::-1].copy(), b, **case.kwargs)
    if mine.shape == flipped.shape and np.allclose(mine, flipped) and not np.allclose(flipped, expected):
        return ["卷积核被翻转了：深度学习里的\"卷积\"其实是互相关（cross-correlation），窗口和卷积核逐元素相乘，不翻转。"]
    return []


def conv_specs():
    return (OpSpec("Conv2d", conv_cases(), conv_forward, mistakes=_conv_mistakes, shape_hints=_conv_shapes,
                   forward_hints=_conv_forward_hints, max_examples=20),)


# ----------------------------------------------------------------------------- 17 max-pool
def pool_forward(x, kernel_size=2, stride=2):
    win = sliding_window_view(x, (kernel_size, kernel_size), axis=(2, 3))[:, :, ::stride, ::stride]
    return win.max(axis=(4, 5))


def _pool_backward_variant(x, G, k, s, mode):
    dx = np.zeros_like(x)
    OH, OW = G.shape[2:]
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(OH):
                for j in range(OW):
                    win = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    sl = (n, c, slice(i * s, i * s + k), slice(j * s, j * s + k))
                    g = G[n, c, i, j]
                    if mode == "spread":
                        dx[sl] += g
                    elif mode == "mean":
                        dx[sl] += g / (k * k)
                    elif mode == "first":
                        dx[n, c, i * s, j * s] += g
                    elif mode == "assign":
                        a, bb = np.unravel_index(np.argmax(win), win.shape)
                        dx[n, c, i * s + a, j * s + bb] = g
    return dx


@st.composite
def pool_cases(draw):
    k = draw(st.integers(2, 3))
    s = draw(st.integers(1, k))
    N, C = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    H, W = draw(st.integers(k, k + 3)), draw(st.integers(k, k + 2))
    x = draw(seeded_arrays((N, C, H, W), distinct=True))
    return Case(("x",), (x,), {"kernel_size": k, "stride": s})


_POOL_HINTS = {
    "spread": "梯度只流向每个窗口里的 *最大值* 那一个元素：max 的输出只由它决定，其余元素的梯度是 0。你把 g 给了整个窗口。",
    "mean": "这是平均池化的梯度（g/k² 给窗口里每个元素）。最大池化只把 g 交给窗口里的最大值。",
    "first": "梯度要交给窗口里的最大值所在的位置（前向时用 argmax 记下来），不是窗口左上角的元素。",
    "assign": ("窗口重叠时（stride < kernel_size），同一个元素可能是好几个窗口的最大值，每个窗口都要把梯度送给它：用 +=，"
               "不要用 =。"),
}


def _pool_mistakes(case, ups, correct):
    x, = case.arrays
    k, s = case.kwargs["kernel_size"], case.kwargs["stride"]
    return [(0, _pool_backward_variant(x, ups[0], k, s, m), h) for m, h in _POOL_HINTS.items()]


def pool_specs():
    return (OpSpec("MaxPool2d", pool_cases(), pool_forward, mistakes=_pool_mistakes),)


__all__ = ["matmul_specs", "mse_specs", "ce_specs", "linear_specs", "lstm_specs", "conv_specs", "pool_specs",
           "lstm_forward", "lstm_backward", "conv_forward", "pool_forward"]

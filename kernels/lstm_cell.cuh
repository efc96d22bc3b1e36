// lstm_cell.cuh —— 融合的 LSTM 单元：一个线程负责 (b, j) 这一个隐藏单元的全部运算。
//
// Layout (row-major, contiguous):  A (B, 4H) gate pre-activations in the order i, f, g, o;
// c_prev, h, c, tanh_c (B, H); gates (B, 4H) holds the activations i, f, g, o (saved for backward).
//   i = σ(A_i)  f = σ(A_f)  g = tanh(A_g)  o = σ(A_o)
//   c = f ⊙ c_prev + i ⊙ g          h = o ⊙ tanh(c)
#pragma once
#include "common.cuh"

// k ∈ [0, B·H):  b = k / H, j = k % H.
template <typename T>
TG_HD inline void lstm_cell_fwd_at(long long k, long long H, const T* A, const T* c_prev,
                                   T* h, T* c, T* gates, T* tanh_c) {
    const long long b = k / H, j = k % H;
    const T* a = A + b * 4 * H;
    T* s = gates + b * 4 * H;
    const T i = tg_sigmoid(a[j]);
    const T f = tg_sigmoid(a[H + j]);
    const T g = tg_tanh(a[2 * H + j]);
    const T o = tg_sigmoid(a[3 * H + j]);
    const T cn = f * c_prev[k] + i * g;
    const T tc = tg_tanh(cn);
    s[j] = i;
    s[H + j] = f;
    s[2 * H + j] = g;
    s[3 * H + j] = o;
    c[k] = cn;
    tanh_c[k] = tc;
    h[k] = o * tc;
}

// 反向（一次算完 dA 与 dc_prev）：
//   dc_tot = dc + dh ⊙ o ⊙ (1 - tanh²c)      （c 既直接输出，又经 h 输出，两路梯度相加）
//   dA_i = dc_tot ⊙ g ⊙ i(1-i)       dA_f = dc_tot ⊙ c_prev ⊙ f(1-f)
//   dA_g = dc_tot ⊙ i ⊙ (1-g²)        dA_o = dh ⊙ tanh c ⊙ o(1-o)
//   dc_prev = dc_tot ⊙ f
template <typename T>
TG_HD inline void lstm_cell_bwd_at(long long k, long long H, const T* dh, const T* dc,
                                   const T* gates, const T* c_prev, const T* tanh_c,
                                   T* dA, T* dc_prev) {
    const long long b = k / H, j = k % H;
    const T* s = gates + b * 4 * H;
    T* d = dA + b * 4 * H;
    const T i = s[j], f = s[H + j], g = s[2 * H + j], o = s[3 * H + j];
    const T tc = tanh_c[k];
    const T dct = dc[k] + dh[k] * o * (T(1) - tc * tc);
    d[j] = dct * g * i * (T(1) - i);
    d[H + j] = dct * c_prev[k] * f * (T(1) - f);
    d[2 * H + j] = dct * i * (T(1) - g * g);
    d[3 * H + j] = dh[k] * tc * o * (T(1) - o);
    dc_prev[k] = dct * f;
}

// activation.cuh —— 逐元素激活函数及其导数（op 编号与 tinygrad_zh/cuda/fused.py 的 ACTIVATIONS 一致）。
//
//   relu     y = max(x, 0)                 dy/dx = [x > 0]
//   sigmoid  y = σ(x)                      dy/dx = y (1 - y)
//   tanh     y = tanh x                    dy/dx = 1 - y²
//   gelu     y = x Φ(x), Φ(x) = ½(1 + erf(x/√2))     dy/dx = Φ(x) + x φ(x), φ(x) = e^{-x²/2}/√(2π)
#pragma once
#include "common.cuh"

#define TG_ACT_RELU 0
#define TG_ACT_SIGMOID 1
#define TG_ACT_TANH 2
#define TG_ACT_GELU 3

template <typename T>
TG_HD inline T gelu_cdf(T x) {
    return T(0.5) * (T(1) + tg_erf(x * T(0.70710678118654752440)));  // 1/√2
}

template <typename T>
TG_HD inline T act_fwd(long long op, T x) {
    switch (op) {
        case TG_ACT_RELU: return x > T(0) ? x : T(0);
        case TG_ACT_SIGMOID: return tg_sigmoid(x);
        case TG_ACT_TANH: return tg_tanh(x);
        default: return x * gelu_cdf(x);  // TG_ACT_GELU
    }
}

// 反向：gy 为上游梯度；x 为输入，y 为前向输出（sigmoid / tanh 用 y，relu / gelu 用 x）。
template <typename T>
TG_HD inline T act_bwd(long long op, T gy, T x, T y) {
    switch (op) {
        case TG_ACT_RELU: return x > T(0) ? gy : T(0);
        case TG_ACT_SIGMOID: return gy * y * (T(1) - y);
        case TG_ACT_TANH: return gy * (T(1) - y * y);
        default: {  // TG_ACT_GELU
            const T pdf = tg_exp(T(-0.5) * x * x) * T(0.39894228040143267794);  // 1/√(2π)
            return gy * (gelu_cdf(x) + x * pdf);
        }
    }
}

template <typename T>
TG_HD inline void activation_fwd_at(long long k, long long op, const T* x, T* y) {
    y[k] = act_fwd(op, x[k]);
}

template <typename T>
TG_HD inline void activation_bwd_at(long long k, long long op, const T* gy, const T* x, const T* y,
                                    T* gx) {
    gx[k] = act_bwd(op, gy[k], x[k], y[k]);
}

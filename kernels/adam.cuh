// adam.cuh —— 一个 kernel 完成 Adam / AdamW 对一个参数的整步更新（与 PyTorch 的更新规则一致）。
//
//   Adam  (L2):       g ← g + λ p
//   AdamW (解耦):      p ← p (1 - lr λ)
//   m ← β₁ m + (1-β₁) g          v ← β₂ v + (1-β₂) g²
//   p ← p - step_size · m / (√v / bc2_sqrt + ε)
// with step_size = lr / (1 - β₁ᵗ) and bc2_sqrt = √(1 - β₂ᵗ) computed once on the host
// (the bias corrections depend only on the step t, not on the element).
#pragma once
#include "common.cuh"

template <typename T>
TG_HD inline void adam_update_at(long long k, T* p, const T* grad, T* m, T* v, long long decoupled,
                                 T lr, T beta1, T beta2, T eps, T weight_decay, T step_size,
                                 T bc2_sqrt) {
    T pk = p[k];
    T g = grad[k];
    if (weight_decay != T(0)) {
        if (decoupled) {
            pk = pk * (T(1) - lr * weight_decay);
        } else {
            g = g + weight_decay * pk;
        }
    }
    const T mk = beta1 * m[k] + (T(1) - beta1) * g;
    const T vk = beta2 * v[k] + (T(1) - beta2) * g * g;
    m[k] = mk;
    v[k] = vk;
    p[k] = pk - step_size * mk / (tg_sqrt(vk) / bc2_sqrt + eps);
}

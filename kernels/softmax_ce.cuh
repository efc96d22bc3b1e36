// softmax_ce.cuh —— 融合的 softmax + 交叉熵，按行计算（logits (N, C)，target (N,) 为 long long）。
//
//   m = max_k x_k,   lse = m + log Σ_k e^{x_k - m}      （先减最大值：e 的幂 ≤ 1，不会上溢）
//   loss = lse - x_t      （t == ignore_index 的行 loss = 0）
//   ∂loss/∂x_k = softmax_k - [k == t] = e^{x_k - lse} - [k == t]，再乘以每行的 scale
//
// On the GPU one block of TG_ROW_THREADS threads handles one row: thread `tid` looks at columns
// tid, tid + nthr, ... and the partial results are combined by a tree reduction in shared memory.
// The per-thread and per-step functions below are TG_HD so that the host harness can replay the
// same reduction order exactly.
#pragma once
#include "common.cuh"

#ifndef TG_ROW_THREADS
#define TG_ROW_THREADS 256  // threads per block for row kernels; must be a power of two
#endif

// 一个线程负责的列的最大值（用 row[0] 作初值：没有分到列的线程也返回一个合法值）。
template <typename T>
TG_HD inline T ce_thread_max(const T* row, long long C, long long tid, long long nthr) {
    T m = row[0];
    for (long long k = tid; k < C; k += nthr) m = tg_max(m, row[k]);
    return m;
}

// 一个线程负责的列上 Σ e^{x - m}。
template <typename T>
TG_HD inline T ce_thread_sumexp(const T* row, long long C, T m, long long tid, long long nthr) {
    T s = T(0);
    for (long long k = tid; k < C; k += nthr) s += tg_exp(row[k] - m);
    return s;
}

// 树形归约的一步：buf[tid] ⊕= buf[tid + half]（is_max 选 max，否则求和）。
template <typename T>
TG_HD inline void ce_tree_step(T* buf, long long tid, long long half, bool is_max) {
    buf[tid] = is_max ? tg_max(buf[tid], buf[tid + half]) : buf[tid] + buf[tid + half];
}

template <typename T>
TG_HD inline T ce_row_loss(const T* row, long long C, long long t, T lse, long long ignore_index) {
    if (t == ignore_index || t < 0 || t >= C) return T(0);  // out of range is rejected in Python
    return lse - row[t];
}

// 一个元素的梯度：(softmax - onehot) * scale。
template <typename T>
TG_HD inline T ce_grad(T x, T lse, bool is_target, T scale) {
    return (tg_exp(x - lse) - (is_target ? T(1) : T(0))) * scale;
}

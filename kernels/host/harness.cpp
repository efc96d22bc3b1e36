// harness.cpp —— 在 CPU 上运行与 GPU kernel 完全相同的算术（同一批 TG_HD 函数），供测试与 NumPy 对照。
//
// Built by tests/test_kernels.py with
//     g++ -std=c++14 -O2 -Wall -Wextra -Werror -shared -fPIC -I kernels kernels/host/harness.cpp
// and loaded with ctypes. Every `host_<kernel>_<f32|f64>` function takes the same arguments as the
// CUDA kernel of that name and replaces the grid-stride loop with a plain loop over k. The row
// kernels (softmax_ce_*) take two more arguments, rows and nthr (= gridDim.x, blockDim.x of the
// launch): the block's strided partial results and its shared-memory tree reduction are replayed
// in the same order as on the GPU.
#include <vector>

#include "activation.cuh"
#include "adam.cuh"
#include "im2col.cuh"
#include "lstm_cell.cuh"
#include "maxpool.cuh"
#include "softmax_ce.cuh"

namespace {

template <typename T>
T tree_reduce(std::vector<T>& buf, bool is_max) {
    for (long long half = (long long)buf.size() / 2; half > 0; half /= 2)
        for (long long tid = 0; tid < half; ++tid) ce_tree_step(buf.data(), tid, half, is_max);
    return buf[0];
}

// Row kernels: the host version takes the kernel's arguments followed by (rows, nthr), i.e. the
// launch's gridDim.x and blockDim.x, and replays every block and thread of that launch.
template <typename T>
void softmax_ce_fwd_host(const T* logits, const long long* target, T* loss, T* lse, long long C,
                         long long ignore_index, long long rows, long long nthr) {
    std::vector<T> buf(nthr);
    for (long long r = 0; r < rows; ++r) {
        const T* row = logits + r * C;
        for (long long tid = 0; tid < nthr; ++tid) buf[tid] = ce_thread_max(row, C, tid, nthr);
        const T m = tree_reduce(buf, true);
        for (long long tid = 0; tid < nthr; ++tid) buf[tid] = ce_thread_sumexp(row, C, m, tid, nthr);
        const T l = m + tg_log(tree_reduce(buf, false));
        lse[r] = l;
        loss[r] = ce_row_loss(row, C, target[r], l, ignore_index);
    }
}

template <typename T>
void softmax_ce_bwd_host(const T* logits, const long long* target, const T* lse, const T* scale,
                         T* grad, long long C, long long ignore_index, long long rows,
                         long long nthr) {
    for (long long r = 0; r < rows; ++r) {
        const long long t = target[r];
        const T s = (t == ignore_index) ? T(0) : scale[r];
        for (long long tid = 0; tid < nthr; ++tid)
            for (long long k = tid; k < C; k += nthr)
                grad[r * C + k] = ce_grad(logits[r * C + k], lse[r], k == t, s);
    }
}

}  // namespace

#define TG_WINDOW_INIT TgWindow{N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW}

// All exported functions for one floating type T with name suffix SUF (f32 / f64).
#define TG_HOST_EXPORTS(T, SUF)                                                                 \
    extern "C" void host_lstm_cell_fwd_##SUF(const T* A, const T* c_prev, T* h, T* c, T* gates, \
                                             T* tanh_c, long long n, long long H) {             \
        for (long long k = 0; k < n; ++k) lstm_cell_fwd_at<T>(k, H, A, c_prev, h, c, gates, tanh_c); \
    }                                                                                           \
    extern "C" void host_lstm_cell_bwd_##SUF(const T* dh, const T* dc, const T* gates,          \
                                             const T* c_prev, const T* tanh_c, T* dA,           \
                                             T* dc_prev, long long n, long long H) {            \
        for (long long k = 0; k < n; ++k)                                                       \
            lstm_cell_bwd_at<T>(k, H, dh, dc, gates, c_prev, tanh_c, dA, dc_prev);              \
    }                                                                                           \
    extern "C" void host_softmax_ce_fwd_##SUF(const T* logits, const long long* target, T* loss, \
                                              T* lse, long long C, long long ignore_index,      \
                                              long long rows, long long nthr) {                 \
        softmax_ce_fwd_host<T>(logits, target, loss, lse, C, ignore_index, rows, nthr);         \
    }                                                                                           \
    extern "C" void host_softmax_ce_bwd_##SUF(const T* logits, const long long* target,         \
                                              const T* lse, const T* scale, T* grad,            \
                                              long long C, long long ignore_index,              \
                                              long long rows, long long nthr) {                 \
        softmax_ce_bwd_host<T>(logits, target, lse, scale, grad, C, ignore_index, rows, nthr);  \
    }                                                                                           \
    extern "C" void host_activation_fwd_##SUF(const T* x, T* y, long long n, long long op) {    \
        for (long long k = 0; k < n; ++k) activation_fwd_at<T>(k, op, x, y);                    \
    }                                                                                           \
    extern "C" void host_activation_bwd_##SUF(const T* gy, const T* x, const T* y, T* gx,       \
                                              long long n, long long op) {                      \
        for (long long k = 0; k < n; ++k) activation_bwd_at<T>(k, op, gy, x, y, gx);            \
    }                                                                                           \
    extern "C" void host_adam_update_##SUF(T* p, const T* grad, T* m, T* v, long long n,        \
                                           long long decoupled, T lr, T beta1, T beta2, T eps,  \
                                           T weight_decay, T step_size, T bc2_sqrt) {           \
        for (long long k = 0; k < n; ++k)                                                       \
            adam_update_at<T>(k, p, grad, m, v, decoupled, lr, beta1, beta2, eps, weight_decay, \
                              step_size, bc2_sqrt);                                             \
    }                                                                                           \
    extern "C" void host_im2col_##SUF(const T* x, T* col, long long n, TG_WINDOW_PARAMS) {      \
        for (long long k = 0; k < n; ++k) im2col_at<T>(k, TG_WINDOW_INIT, x, col);              \
    }                                                                                           \
    extern "C" void host_col2im_##SUF(const T* col, T* x, long long n, TG_WINDOW_PARAMS) {      \
        for (long long k = 0; k < n; ++k) col2im_at<T>(k, TG_WINDOW_INIT, col, x);              \
    }                                                                                           \
    extern "C" void host_maxpool_fwd_##SUF(const T* x, T* out, long long* idx, long long n,     \
                                           TG_WINDOW_PARAMS) {                                  \
        for (long long k = 0; k < n; ++k) maxpool_fwd_at<T>(k, TG_WINDOW_INIT, x, out, idx);    \
    }                                                                                           \
    extern "C" void host_maxpool_bwd_##SUF(const T* gout, const long long* idx, T* gx,          \
                                           long long n, TG_WINDOW_PARAMS) {                     \
        for (long long k = 0; k < n; ++k) maxpool_bwd_at<T>(k, TG_WINDOW_INIT, gout, idx, gx);  \
    }

TG_HOST_EXPORTS(float, f32)
TG_HOST_EXPORTS(double, f64)

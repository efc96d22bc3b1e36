// softmax_ce.cu —— softmax 交叉熵前向 / 反向：每行一个 block，共享内存做归约。
// Launch with gridDim.x = N rows and blockDim.x = TG_ROW_THREADS (tinygrad_zh/cuda/launch.py).
#include "softmax_ce.cuh"

// 整个 block 对 buf[0..TG_ROW_THREADS) 做树形归约，结果留在 buf[0]（所有线程都能读到）。
template <typename T>
__device__ void ce_block_reduce(T* buf, bool is_max) {
    const long long tid = threadIdx.x;
    __syncthreads();
    for (long long half = TG_ROW_THREADS / 2; half > 0; half /= 2) {
        if (tid < half) ce_tree_step(buf, tid, half, is_max);
        __syncthreads();
    }
}

template <typename T>
__device__ void softmax_ce_fwd_kernel(const T* logits, const long long* target, T* loss, T* lse,
                                      long long C, long long ignore_index) {
    __shared__ T buf[TG_ROW_THREADS];
    const long long r = blockIdx.x, tid = threadIdx.x;
    const T* row = logits + r * C;
    buf[tid] = ce_thread_max(row, C, tid, (long long)TG_ROW_THREADS);
    ce_block_reduce(buf, true);
    const T m = buf[0];
    __syncthreads();  // everyone has read buf[0] before it is overwritten
    buf[tid] = ce_thread_sumexp(row, C, m, tid, (long long)TG_ROW_THREADS);
    ce_block_reduce(buf, false);
    if (tid == 0) {
        const T l = m + tg_log(buf[0]);
        lse[r] = l;
        loss[r] = ce_row_loss(row, C, target[r], l, ignore_index);
    }
}

template <typename T>
__device__ void softmax_ce_bwd_kernel(const T* logits, const long long* target, const T* lse,
                                      const T* scale, T* grad, long long C, long long ignore_index) {
    const long long r = blockIdx.x;
    const long long t = target[r];
    const T s = (t == ignore_index) ? T(0) : scale[r];
    const T l = lse[r];
    for (long long k = threadIdx.x; k < C; k += blockDim.x)
        grad[r * C + k] = ce_grad(logits[r * C + k], l, k == t, s);
}

extern "C" __global__ void softmax_ce_fwd_f32(const float* logits, const long long* target,
                                              float* loss, float* lse, long long C,
                                              long long ignore_index) {
    softmax_ce_fwd_kernel<float>(logits, target, loss, lse, C, ignore_index);
}

extern "C" __global__ void softmax_ce_fwd_f64(const double* logits, const long long* target,
                                              double* loss, double* lse, long long C,
                                              long long ignore_index) {
    softmax_ce_fwd_kernel<double>(logits, target, loss, lse, C, ignore_index);
}

extern "C" __global__ void softmax_ce_bwd_f32(const float* logits, const long long* target,
                                              const float* lse, const float* scale, float* grad,
                                              long long C, long long ignore_index) {
    softmax_ce_bwd_kernel<float>(logits, target, lse, scale, grad, C, ignore_index);
}

extern "C" __global__ void softmax_ce_bwd_f64(const double* logits, const long long* target,
                                              const double* lse, const double* scale,
                                              double* grad, long long C, long long ignore_index) {
    softmax_ce_bwd_kernel<double>(logits, target, lse, scale, grad, C, ignore_index);
}

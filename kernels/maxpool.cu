// maxpool.cu —— MaxPool2d 前向（值 + argmax）与反向（按 argmax 汇集梯度，无需原子操作）。
// Geometry arguments after n, always in this order: N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW.
#include "maxpool.cuh"

template <typename T>
__device__ void maxpool_fwd_kernel(const T* x, T* out, long long* idx, long long n, TgWindow q) {
    TG_GRID_STRIDE(k, n) maxpool_fwd_at<T>(k, q, x, out, idx);
}

template <typename T>
__device__ void maxpool_bwd_kernel(const T* gout, const long long* idx, T* gx, long long n,
                                   TgWindow q) {
    TG_GRID_STRIDE(k, n) maxpool_bwd_at<T>(k, q, gout, idx, gx);
}

extern "C" __global__ void maxpool_fwd_f32(const float* x, float* out, long long* idx, long long n,
                                           TG_WINDOW_PARAMS) {
    maxpool_fwd_kernel<float>(x, out, idx, n, TgWindow TG_WINDOW_ARGS);
}

extern "C" __global__ void maxpool_fwd_f64(const double* x, double* out, long long* idx,
                                           long long n, TG_WINDOW_PARAMS) {
    maxpool_fwd_kernel<double>(x, out, idx, n, TgWindow TG_WINDOW_ARGS);
}

extern "C" __global__ void maxpool_bwd_f32(const float* gout, const long long* idx, float* gx,
                                           long long n, TG_WINDOW_PARAMS) {
    maxpool_bwd_kernel<float>(gout, idx, gx, n, TgWindow TG_WINDOW_ARGS);
}

extern "C" __global__ void maxpool_bwd_f64(const double* gout, const long long* idx, double* gx,
                                           long long n, TG_WINDOW_PARAMS) {
    maxpool_bwd_kernel<double>(gout, idx, gx, n, TgWindow TG_WINDOW_ARGS);
}

// activation.cu —— relu / sigmoid / tanh / gelu 的前向与反向，一个 kernel 按 op 编号分派。
#include "activation.cuh"

template <typename T>
__device__ void activation_fwd_kernel(const T* x, T* y, long long n, long long op) {
    TG_GRID_STRIDE(k, n) activation_fwd_at<T>(k, op, x, y);
}

template <typename T>
__device__ void activation_bwd_kernel(const T* gy, const T* x, const T* y, T* gx, long long n,
                                      long long op) {
    TG_GRID_STRIDE(k, n) activation_bwd_at<T>(k, op, gy, x, y, gx);
}

extern "C" __global__ void activation_fwd_f32(const float* x, float* y, long long n, long long op) {
    activation_fwd_kernel<float>(x, y, n, op);
}

extern "C" __global__ void activation_fwd_f64(const double* x, double* y, long long n,
                                              long long op) {
    activation_fwd_kernel<double>(x, y, n, op);
}

extern "C" __global__ void activation_bwd_f32(const float* gy, const float* x, const float* y,
                                              float* gx, long long n, long long op) {
    activation_bwd_kernel<float>(gy, x, y, gx, n, op);
}

extern "C" __global__ void activation_bwd_f64(const double* gy, const double* x, const double* y,
                                              double* gx, long long n, long long op) {
    activation_bwd_kernel<double>(gy, x, y, gx, n, op);
}

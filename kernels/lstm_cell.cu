// lstm_cell.cu —— LSTM 单元前向 / 反向 kernel（float 与 double 各一份 extern "C" 入口）。
// 数学在 lstm_cell.cuh 里（主机与设备共用）；这里只有网格跨步循环。
#include "lstm_cell.cuh"

template <typename T>
__device__ void lstm_cell_fwd_kernel(const T* A, const T* c_prev, T* h, T* c, T* gates,
                                     T* tanh_c, long long n, long long H) {
    TG_GRID_STRIDE(k, n) lstm_cell_fwd_at<T>(k, H, A, c_prev, h, c, gates, tanh_c);
}

template <typename T>
__device__ void lstm_cell_bwd_kernel(const T* dh, const T* dc, const T* gates, const T* c_prev,
                                     const T* tanh_c, T* dA, T* dc_prev, long long n, long long H) {
    TG_GRID_STRIDE(k, n) lstm_cell_bwd_at<T>(k, H, dh, dc, gates, c_prev, tanh_c, dA, dc_prev);
}

extern "C" __global__ void lstm_cell_fwd_f32(const float* A, const float* c_prev, float* h,
                                             float* c, float* gates, float* tanh_c, long long n,
                                             long long H) {
    lstm_cell_fwd_kernel<float>(A, c_prev, h, c, gates, tanh_c, n, H);
}

extern "C" __global__ void lstm_cell_fwd_f64(const double* A, const double* c_prev, double* h,
                                             double* c, double* gates, double* tanh_c, long long n,
                                             long long H) {
    lstm_cell_fwd_kernel<double>(A, c_prev, h, c, gates, tanh_c, n, H);
}

extern "C" __global__ void lstm_cell_bwd_f32(const float* dh, const float* dc, const float* gates,
                                             const float* c_prev, const float* tanh_c, float* dA,
                                             float* dc_prev, long long n, long long H) {
    lstm_cell_bwd_kernel<float>(dh, dc, gates, c_prev, tanh_c, dA, dc_prev, n, H);
}

extern "C" __global__ void lstm_cell_bwd_f64(const double* dh, const double* dc,
                                             const double* gates, const double* c_prev,
                                             const double* tanh_c, double* dA, double* dc_prev,
                                             long long n, long long H) {
    lstm_cell_bwd_kernel<double>(dh, dc, gates, c_prev, tanh_c, dA, dc_prev, n, H);
}

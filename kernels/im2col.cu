// im2col.cu —— Conv2d 的 im2col（前向）与 col2im（反向 / 转置卷积）。
// Geometry arguments after n, always in this order: N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW.
#include "im2col.cuh"

template <typename T>
__device__ void im2col_kernel(const T* x, T* col, long long n, TgWindow q) {
    TG_GRID_STRIDE(k, n) im2col_at<T>(k, q, x, col);
}

template <typename T>
__device__ void col2im_kernel(const T* col, T* x, long long n, TgWindow q) {
    TG_GRID_STRIDE(k, n) col2im_at<T>(k, q, col, x);
}

extern "C" __global__ void im2col_f32(const float* x, float* col, long long n, TG_WINDOW_PARAMS) {
    im2col_kernel<float>(x, col, n, TgWindow TG_WINDOW_ARGS);
}

extern "C" __global__ void im2col_f64(const double* x, double* col, long long n,
                                      TG_WINDOW_PARAMS) {
    im2col_kernel<double>(x, col, n, TgWindow TG_WINDOW_ARGS);
}

extern "C" __global__ void col2im_f32(const float* col, float* x, long long n, TG_WINDOW_PARAMS) {
    col2im_kernel<float>(col, x, n, TgWindow TG_WINDOW_ARGS);
}

extern "C" __global__ void col2im_f64(const double* col, double* x, long long n,
                                      TG_WINDOW_PARAMS) {
    col2im_kernel<double>(col, x, n, TgWindow TG_WINDOW_ARGS);
}

// adam.cu —— 融合的 Adam / AdamW：读一次 p、g、m、v，写回 p、m、v（原地更新，grad 只读）。
#include "adam.cuh"

template <typename T>
__device__ void adam_update_kernel(T* p, const T* grad, T* m, T* v, long long n,
                                   long long decoupled, T lr, T beta1, T beta2, T eps,
                                   T weight_decay, T step_size, T bc2_sqrt) {
    TG_GRID_STRIDE(k, n)
    adam_update_at<T>(k, p, grad, m, v, decoupled, lr, beta1, beta2, eps, weight_decay, step_size,
                      bc2_sqrt);
}

extern "C" __global__ void adam_update_f32(float* p, const float* grad, float* m, float* v,
                                           long long n, long long decoupled, float lr, float beta1,
                                           float beta2, float eps, float weight_decay,
                                           float step_size, float bc2_sqrt) {
    adam_update_kernel<float>(p, grad, m, v, n, decoupled, lr, beta1, beta2, eps, weight_decay,
                              step_size, bc2_sqrt);
}

extern "C" __global__ void adam_update_f64(double* p, const double* grad, double* m, double* v,
                                           long long n, long long decoupled, double lr,
                                           double beta1, double beta2, double eps,
                                           double weight_decay, double step_size,
                                           double bc2_sqrt) {
    adam_update_kernel<double>(p, grad, m, v, n, decoupled, lr, beta1, beta2, eps, weight_decay,
                               step_size, bc2_sqrt);
}

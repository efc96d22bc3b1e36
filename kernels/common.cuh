// common.cuh —— 所有 kernel 共用的小工具：TG_HD 宏、float/double 数学函数重载、网格跨步循环。
//
// The same header is compiled three ways:
//   * by nvcc (the .cu files, `nvcc -ptx`):           __CUDACC__ defined
//   * by NVRTC at run time (cupy.RawModule):           __CUDACC__ and __CUDACC_RTC__ defined
//   * by plain g++ (kernels/host/harness.cpp, tests):  neither defined
// so every piece of arithmetic lives in `TG_HD inline` functions that run on host and device alike.
#pragma once

#ifdef __CUDACC__
#define TG_HD __host__ __device__
#else
#define TG_HD
#endif

#ifndef __CUDACC_RTC__
#include <math.h>  // NVRTC has no system headers; there the math functions are built in
#endif

// Kernel ABI of this project (tinygrad_zh/cuda/launch.py relies on it):
//   arrays -> pointers to C-contiguous data, every integer -> long long, every real -> T.

// ---- float / double overloads, so that templates call the right precision -------------------
TG_HD inline float tg_exp(float x) { return expf(x); }
TG_HD inline double tg_exp(double x) { return exp(x); }
TG_HD inline float tg_log(float x) { return logf(x); }
TG_HD inline double tg_log(double x) { return log(x); }
TG_HD inline float tg_tanh(float x) { return tanhf(x); }
TG_HD inline double tg_tanh(double x) { return tanh(x); }
TG_HD inline float tg_erf(float x) { return erff(x); }
TG_HD inline double tg_erf(double x) { return erf(x); }
TG_HD inline float tg_sqrt(float x) { return sqrtf(x); }
TG_HD inline double tg_sqrt(double x) { return sqrt(x); }

template <typename T>
TG_HD inline T tg_max(T a, T b) {
    return (a > b || a != a) ? a : b;  // a != a: NaN wins, like NumPy's max
}

// σ(x) = 1 / (1 + e^{-x})，数值稳定写法：只对非正数求 e 的幂，永远不会上溢。
template <typename T>
TG_HD inline T tg_sigmoid(T x) {
    if (x >= T(0)) {
        return T(1) / (T(1) + tg_exp(-x));
    }
    T e = tg_exp(x);
    return e / (T(1) + e);
}

#ifdef __CUDACC__
// 网格跨步循环：任意大小的 grid 都能覆盖 [0, n)，每个线程处理 k, k + 总线程数, ...
#define TG_GRID_STRIDE(k, n)                                                          \
    for (long long k = (long long)blockIdx.x * blockDim.x + threadIdx.x; k < (n);     \
         k += (long long)gridDim.x * blockDim.x)
#endif

// im2col.cuh —— 卷积的 im2col / col2im（NCHW，步长 stride，零填充 padding）。
//
// x (N, C, H, W)  <->  col (C, KH, KW, N, OH, OW), i.e. (C·KH·KW, N·OH·OW) when flattened
// (the layout of ops/conv.py's im2col_arrays):
//   col[c, ki, kj, n, oh, ow] = x[n, c, oh·SH - PH + ki, ow·SW - PW + kj]   (0 outside the image)
// 有了 col，整个卷积就是一次矩阵乘：out (F, N·OH·OW) = W (F, C·KH·KW) @ col。
// col2im 是 im2col 的转置（伴随）：把 col 的每个元素加回它来自的像素，重叠窗口的贡献相加。
// It is written as a gather (one thread per pixel sums every window entry that read it), so it
// needs no atomics and its result does not depend on thread scheduling.
#pragma once
#include "common.cuh"

// 卷积 / 池化的几何参数（所有 kernel 共用；OH = (H + 2PH - KH) / SH + 1，由 Python 计算并检查）。
struct TgWindow {
    long long N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW;
};

// Kernel parameter list of the geometry and the matching TgWindow initialiser (used by the .cu files).
#define TG_WINDOW_PARAMS                                                                  \
    long long N, long long C, long long H, long long W, long long KH, long long KW,       \
        long long SH, long long SW, long long PH, long long PW, long long OH, long long OW
#define TG_WINDOW_ARGS {N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW}

// k ∈ [0, C·KH·KW·N·OH·OW): one col element.
template <typename T>
TG_HD inline void im2col_at(long long k, const TgWindow& q, const T* x, T* col) {
    long long t = k;
    const long long ow = t % q.OW; t /= q.OW;
    const long long oh = t % q.OH; t /= q.OH;
    const long long n = t % q.N; t /= q.N;
    const long long kj = t % q.KW; t /= q.KW;
    const long long ki = t % q.KH;
    const long long c = t / q.KH;
    const long long h = oh * q.SH - q.PH + ki;
    const long long w = ow * q.SW - q.PW + kj;
    const bool inside = h >= 0 && h < q.H && w >= 0 && w < q.W;
    col[k] = inside ? x[((n * q.C + c) * q.H + h) * q.W + w] : T(0);
}

// 输出位置 o 的窗口起点 o·S - P 覆盖 [o·S - P, o·S - P + K)；像素 h 被哪些 o 覆盖？
// o·S ≤ h + P 且 o·S > h + P - K  =>  o ∈ [lo, hi]，再截到 [0, O)。
TG_HD inline void tg_window_range(long long h, long long K, long long S, long long P, long long O,
                                  long long* lo, long long* hi) {
    const long long top = h + P;                      // o·S ≤ top
    long long a = top - K + 1;                        // o·S ≥ a
    *lo = a <= 0 ? 0 : (a + S - 1) / S;
    *hi = top < 0 ? -1 : top / S;
    if (*hi > O - 1) *hi = O - 1;
}

// k ∈ [0, N·C·H·W): one pixel of dx = col2im(col).
template <typename T>
TG_HD inline void col2im_at(long long k, const TgWindow& q, const T* col, T* x) {
    long long t = k;
    const long long w = t % q.W; t /= q.W;
    const long long h = t % q.H; t /= q.H;
    const long long c = t % q.C;
    const long long n = t / q.C;
    long long oh0, oh1, ow0, ow1;
    tg_window_range(h, q.KH, q.SH, q.PH, q.OH, &oh0, &oh1);
    tg_window_range(w, q.KW, q.SW, q.PW, q.OW, &ow0, &ow1);
    T s = T(0);
    for (long long oh = oh0; oh <= oh1; ++oh) {
        const long long ki = h + q.PH - oh * q.SH;
        for (long long ow = ow0; ow <= ow1; ++ow) {
            const long long kj = w + q.PW - ow * q.SW;
            s += col[((((c * q.KH + ki) * q.KW + kj) * q.N + n) * q.OH + oh) * q.OW + ow];
        }
    }
    x[k] = s;
}

// maxpool.cuh —— 二维最大池化（NCHW），前向同时记录 argmax，反向按 argmax 把梯度送回。
//
// out[n, c, oh, ow] = max over the window rows oh·SH - PH + [0, KH), cols ow·SW - PW + [0, KW)
// (positions outside the image are ignored, i.e. padding acts like -inf);
// idx holds the winner's offset ki·KW + kj inside its window (the convention of ops/conv.py's
// maxpool_forward_arrays). Ties go to the first offset in row-major order; NaN wins (propagates).
// 反向：dx[h, w] = Σ_{窗口 o 的最大值来自 (h, w)} dout[o] —— 梯度只回到"赢家"。
#pragma once
#include "im2col.cuh"  // TgWindow, tg_window_range

// k ∈ [0, N·C·OH·OW).  Python checks PH ≤ KH/2 and PW ≤ KW/2, so every window sees a pixel.
template <typename T>
TG_HD inline void maxpool_fwd_at(long long k, const TgWindow& q, const T* x, T* out,
                                 long long* idx) {
    long long t = k;
    const long long ow = t % q.OW; t /= q.OW;
    const long long oh = t % q.OH; t /= q.OH;  // t = n·C + c
    const T* plane = x + t * q.H * q.W;
    T best = T(0);
    long long arg = -1;
    for (long long ki = 0; ki < q.KH; ++ki) {
        const long long h = oh * q.SH - q.PH + ki;
        if (h < 0 || h >= q.H) continue;
        for (long long kj = 0; kj < q.KW; ++kj) {
            const long long w = ow * q.SW - q.PW + kj;
            if (w < 0 || w >= q.W) continue;
            const T v = plane[h * q.W + w];
            if (arg < 0 || v > best || (v != v && best == best)) {
                best = v;
                arg = ki * q.KW + kj;
            }
        }
    }
    out[k] = best;
    idx[k] = arg;
}

// k ∈ [0, N·C·H·W): one pixel of dx, gathered from the windows that contain it.
template <typename T>
TG_HD inline void maxpool_bwd_at(long long k, const TgWindow& q, const T* gout,
                                 const long long* idx, T* gx) {
    long long t = k;
    const long long w = t % q.W; t /= q.W;
    const long long h = t % q.H; t /= q.H;  // t = n·C + c
    long long oh0, oh1, ow0, ow1;
    tg_window_range(h, q.KH, q.SH, q.PH, q.OH, &oh0, &oh1);
    tg_window_range(w, q.KW, q.SW, q.PW, q.OW, &ow0, &ow1);
    T s = T(0);
    for (long long oh = oh0; oh <= oh1; ++oh) {
        const long long ki = h + q.PH - oh * q.SH;  // (h, w) sits at offset (ki, kj) of window o
        for (long long ow = ow0; ow <= ow1; ++ow) {
            const long long kj = w + q.PW - ow * q.SW;
            const long long o = (t * q.OH + oh) * q.OW + ow;
            if (idx[o] == ki * q.KW + kj) s += gout[o];
        }
    }
    gx[k] = s;
}

/*
 * The block loop of the depthwise backward weights (f32_dwconv_backward.c),
 * compiled once per ISA: f32_dwconv_backward__<isa>.c defines
 * DW_BACKWARD_BLOCK and includes this. Plain C with the channel loops marked
 * omp simd, so each copy vectorizes at its own width (and contracts to FMA
 * where the file's flags allow).
 */
#include "depthwise/f32_dwconv.h"

#include <string.h>

#ifdef _OPENMP
#define DW_SIMD _Pragma("omp simd")
#else
#define DW_SIMD
#endif

/* a[k] += sum over i < count, in i order, of x[i * x_step + k] * y[i * y_step + k],
 * k < width: the tile's sums stay in registers along the output row (a
 * memory accumulator costs a load and a store per multiply-add). */
static inline __attribute__((always_inline)) void dw_row_tile(float *restrict a,
                                                               const float *restrict x,
                                                               int64_t x_step,
                                                               const float *restrict y,
                                                               int64_t y_step, int64_t count,
                                                               int64_t width)
{
    float t[64];
    DW_SIMD
    for (int64_t k = 0; k < width; ++k) {
        t[k] = a[k];
    }
    for (int64_t i = 0; i < count; ++i) {
        const float *xi = x + i * x_step;
        const float *yi = y + i * y_step;
        DW_SIMD
        for (int64_t k = 0; k < width; ++k) {
            t[k] += xi[k] * yi[k];
        }
    }
    DW_SIMD
    for (int64_t k = 0; k < width; ++k) {
        a[k] = t[k];
    }
}

/* dw_row_tile for the three taps of a 3-wide kernel row at once over 32
 * channels: each pixel's dy is loaded once for three multiply-adds. a: the
 * kw = 0 accumulator (kw at a + kw * a_step); x: the kw = 0 input of the
 * first pixel (kw at x + kw * x_tap). Each sum still runs in pixel order. */
static inline __attribute__((always_inline)) void dw_row_taps3(float *restrict a, int64_t a_step,
                                                                const float *restrict x,
                                                                int64_t x_step, int64_t x_tap,
                                                                const float *restrict y,
                                                                int64_t y_step, int64_t count)
{
    float t0[32], t1[32], t2[32];
    DW_SIMD
    for (int64_t k = 0; k < 32; ++k) {
        t0[k] = a[k];
        t1[k] = a[a_step + k];
        t2[k] = a[2 * a_step + k];
    }
    for (int64_t i = 0; i < count; ++i) {
        const float *xi = x + i * x_step;
        const float *yi = y + i * y_step;
        DW_SIMD
        for (int64_t k = 0; k < 32; ++k) {
            t0[k] += xi[k] * yi[k];
            t1[k] += xi[x_tap + k] * yi[k];
            t2[k] += xi[2 * x_tap + k] * yi[k];
        }
    }
    DW_SIMD
    for (int64_t k = 0; k < 32; ++k) {
        a[k] = t0[k];
        a[a_step + k] = t1[k];
        a[2 * a_step + k] = t2[k];
    }
}

/* The channels of one tap over pixels [0, count) of a row, in tiles. */
static inline void dw_row_channels(float *a, const float *in, int64_t x_step, const float *g,
                                   int64_t y_step, int64_t count, int64_t channels)
{
    int64_t c = 0;
    for (; c + 64 <= channels; c += 64) {
        dw_row_tile(a + c, in + c, x_step, g + c, y_step, count, 64);
    }
    for (; c + 16 <= channels; c += 16) {
        dw_row_tile(a + c, in + c, x_step, g + c, y_step, count, 16);
    }
    if (c < channels) {
        dw_row_tile(a + c, in + c, x_step, g + c, y_step, count, channels - c);
    }
}

/* Output columns [*lo, *hi) whose tap at offset kw * dilation lands inside the input row. */
static inline void dw_column_range(const conv4j_problem *p, int64_t kw, int64_t *lo, int64_t *hi)
{
    const int64_t before = p->pad_left - kw * p->dilation_w; /* iw = ow * s - before */
    const int64_t last = p->in_w - 1 + before;               /* ow * s <= last */
    *lo = before <= 0 ? 0 : (before + p->stride_w - 1) / p->stride_w;
    *hi = last < 0 ? 0 : last / p->stride_w + 1;
    *hi = *hi < p->out_w ? *hi : p->out_w;
    *lo = *lo < *hi ? *lo : *hi;
}

void DW_BACKWARD_BLOCK(const conv4j_problem *p, const float *x, const float *dy, float *dw,
                       float *db, int64_t c0, int64_t channels, float *acc)
{
    const int64_t m = p->out_channels / p->in_channels;
    const int64_t width = channels * m; /* output channels of the block */
    const int64_t taps = p->kernel_d * p->kernel_h * p->kernel_w;
    memset(acc, 0, (size_t)(taps * width) * sizeof(float));
    double bias[CONV4J_DWCONV_BACKWARD_BLOCK * 8];
    const int with_bias = db != NULL && width <= CONV4J_DWCONV_BACKWARD_BLOCK * 8;
    if (with_bias) {
        memset(bias, 0, sizeof bias);
    }
    /* Per output row (n, od, oh) and valid tap, the row's pixels in ow order:
     * every element still sums its pixels in (n, od, oh, ow) order. */
    for (int64_t n = 0; n < p->batch; ++n) {
        for (int64_t od = 0; od < p->out_d; ++od) {
            int64_t kd_begin, kd_end;
            conv4j_tap_range(od, p->stride_d, p->pad_front, p->dilation_d, p->kernel_d, p->in_d,
                             &kd_begin, &kd_end);
            for (int64_t oh = 0; oh < p->out_h; ++oh) {
                int64_t kh_begin, kh_end;
                conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h,
                                 p->in_h, &kh_begin, &kh_end);
                const float *g_row = dy + n * p->out.n + od * p->out.d + oh * p->out.h + c0 * m;
                if (with_bias) {
                    for (int64_t ow = 0; ow < p->out_w; ++ow) {
                        const float *g = g_row + ow * p->out.w;
                        DW_SIMD
                        for (int64_t k = 0; k < width; ++k) {
                            bias[k] += (double)g[k];
                        }
                    }
                }
                for (int64_t kd = kd_begin; kd < kd_end; ++kd) {
                    const int64_t id = od * p->stride_d - p->pad_front + kd * p->dilation_d;
                    for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
                        const int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                        float *a_row = acc + (kd * p->kernel_h + kh) * p->kernel_w * width;
                        const float *x_row = x + n * p->in.n + id * p->in.d + ih * p->in.h + c0;
                        const int64_t x_step = p->stride_w * p->in.w;
                        /* m = 1, 3 wide: the columns every tap reaches [mid_lo,
                         * mid_hi) in one pass; each tap's own edges before and
                         * after it, so every sum still runs in column order. */
                        int64_t mid_lo = 0, mid_hi = 0;
                        if (m == 1 && p->kernel_w == 3 && channels >= 32) {
                            int64_t lo0, hi0, lo2, hi2;
                            dw_column_range(p, 0, &lo0, &hi0);
                            dw_column_range(p, 2, &lo2, &hi2);
                            mid_lo = lo0 > lo2 ? lo0 : lo2;
                            mid_hi = hi0 < hi2 ? hi0 : hi2;
                            mid_hi = mid_hi > mid_lo ? mid_hi : mid_lo;
                        }
                        for (int pass = 0; pass < 3; ++pass) {
                            if (pass == 1) {
                                if (mid_hi == mid_lo) {
                                    continue;
                                }
                                const float *in = x_row + (mid_lo * p->stride_w - p->pad_left) *
                                                              p->in.w;
                                const float *g = g_row + mid_lo * p->out.w;
                                int64_t c = 0;
                                for (; c + 32 <= channels; c += 32) {
                                    dw_row_taps3(a_row + c, width, in + c, x_step,
                                                 p->dilation_w * p->in.w, g + c, p->out.w,
                                                 mid_hi - mid_lo);
                                }
                                for (int64_t kw = 0; c < channels && kw < 3; ++kw) {
                                    dw_row_channels(a_row + kw * width + c,
                                                    in + kw * p->dilation_w * p->in.w + c,
                                                    x_step, g + c, p->out.w, mid_hi - mid_lo,
                                                    channels - c);
                                }
                                continue;
                            }
                            for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                                int64_t lo, hi;
                                dw_column_range(p, kw, &lo, &hi);
                                if (mid_hi > mid_lo) { /* this pass's edge only */
                                    hi = pass == 0 ? (mid_lo < hi ? mid_lo : hi) : hi;
                                    lo = pass == 2 ? (mid_hi > lo ? mid_hi : lo) : lo;
                                } else if (pass != 0) {
                                    continue; /* nothing fused: pass 0 did the whole row */
                                }
                                if (lo >= hi) {
                                    continue;
                                }
                                const int64_t iw =
                                    lo * p->stride_w - p->pad_left + kw * p->dilation_w;
                                const float *in = x_row + iw * p->in.w;
                                const float *g = g_row + lo * p->out.w;
                                float *a = a_row + kw * width;
                                if (m == 1) {
                                    dw_row_channels(a, in, x_step, g, p->out.w, hi - lo, channels);
                                    continue;
                                }
                                for (int64_t ow = 0; ow < hi - lo; ++ow) {
                                    const float *xi = in + ow * x_step;
                                    const float *gi = g + ow * p->out.w;
                                    for (int64_t c = 0; c < channels; ++c) {
                                        for (int64_t j = 0; j < m; ++j) {
                                            a[c * m + j] += xi[c] * gi[c * m + j];
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    for (int64_t tap = 0; tap < taps; ++tap) {
        memcpy(dw + tap * p->out_channels + c0 * m, acc + tap * width,
               (size_t)width * sizeof(float));
    }
    if (db != NULL) {
        for (int64_t k = 0; k < width; ++k) {
            if (with_bias) {
                db[c0 * m + k] = (float)bias[k];
                continue;
            }
            double sum = 0.0; /* very large multipliers: one pass per channel */
            for (int64_t q = 0; q < p->batch * p->out_d * p->out_h * p->out_w; ++q) {
                sum += (double)dy[q * p->out_channels + c0 * m + k];
            }
            db[c0 * m + k] = (float)sum;
        }
    }
}

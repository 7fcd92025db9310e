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
                        for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                            int64_t lo, hi;
                            dw_column_range(p, kw, &lo, &hi);
                            if (lo == hi) {
                                continue;
                            }
                            const int64_t iw = lo * p->stride_w - p->pad_left + kw * p->dilation_w;
                            const float *in = x + n * p->in.n + id * p->in.d + ih * p->in.h +
                                              iw * p->in.w + c0;
                            const float *g = g_row + lo * p->out.w;
                            float *a =
                                acc + ((kd * p->kernel_h + kh) * p->kernel_w + kw) * width;
                            const int64_t x_step = p->stride_w * p->in.w;
                            if (m == 1) {
                                int64_t c = 0;
                                for (; c + 64 <= channels; c += 64) {
                                    dw_row_tile(a + c, in + c, x_step, g + c, p->out.w, hi - lo,
                                                64);
                                }
                                for (; c + 16 <= channels; c += 16) {
                                    dw_row_tile(a + c, in + c, x_step, g + c, p->out.w, hi - lo,
                                                16);
                                }
                                if (c < channels) {
                                    dw_row_tile(a + c, in + c, x_step, g + c, p->out.w, hi - lo,
                                                channels - c);
                                }
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

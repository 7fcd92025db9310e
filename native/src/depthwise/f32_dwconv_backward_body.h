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
    for (int64_t n = 0; n < p->batch; ++n) {
        for (int64_t od = 0; od < p->out_d; ++od) {
            int64_t kd_begin, kd_end;
            conv4j_tap_range(od, p->stride_d, p->pad_front, p->dilation_d, p->kernel_d, p->in_d,
                             &kd_begin, &kd_end);
            for (int64_t oh = 0; oh < p->out_h; ++oh) {
                int64_t kh_begin, kh_end;
                conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h,
                                 p->in_h, &kh_begin, &kh_end);
                for (int64_t ow = 0; ow < p->out_w; ++ow) {
                    int64_t kw_begin, kw_end;
                    conv4j_tap_range(ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w,
                                     p->in_w, &kw_begin, &kw_end);
                    const float *g = dy + n * p->out.n + od * p->out.d + oh * p->out.h +
                                     ow * p->out.w + c0 * m;
                    if (with_bias) {
                        DW_SIMD
                        for (int64_t k = 0; k < width; ++k) {
                            bias[k] += (double)g[k];
                        }
                    }
                    for (int64_t kd = kd_begin; kd < kd_end; ++kd) {
                        const int64_t id = od * p->stride_d - p->pad_front + kd * p->dilation_d;
                        for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
                            const int64_t ih =
                                oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                            for (int64_t kw = kw_begin; kw < kw_end; ++kw) {
                                const int64_t iw =
                                    ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                                const float *in = x + n * p->in.n + id * p->in.d + ih * p->in.h +
                                                  iw * p->in.w + c0;
                                float *a =
                                    acc + ((kd * p->kernel_h + kh) * p->kernel_w + kw) * width;
                                if (m == 1) {
                                    DW_SIMD
                                    for (int64_t c = 0; c < channels; ++c) {
                                        a[c] += in[c] * g[c];
                                    }
                                } else {
                                    for (int64_t c = 0; c < channels; ++c) {
                                        for (int64_t j = 0; j < m; ++j) {
                                            a[c * m + j] += in[c] * g[c * m + j];
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

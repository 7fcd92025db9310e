/*
 * Backward weights of a depthwise convolution (groups == Cin, any channel
 * multiplier m), channels_last: dW[tap][c*m + j] = sum over output pixels of
 * x[input pixel of tap][c] * dy[pixel][c*m + j]. A GEMM per group would be
 * m x taps, too small for the micro-kernel; this loop streams dy and x once
 * per block of channels, vectorized over the channels. Taps in the padding
 * are skipped, as in the reference. Work items are channel blocks and each
 * element is summed over the pixels in order, so the result does not depend
 * on the thread count.
 */
#include "depthwise/f32_dwconv.h"

#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Input channels per work item. */
#define BLOCK_CHANNELS 16

static size_t slice_floats(const conv4j_problem *p)
{
    const int64_t multiplier = p->out_channels / p->in_channels;
    return (size_t)(p->kernel_h * p->kernel_w * BLOCK_CHANNELS * multiplier);
}

const char *conv4j_dwconv_backward_weights_reject(const conv4j_problem *p)
{
    if (p->groups != p->in_channels || p->groups == 1) {
        return "not depthwise";
    }
    if (p->layout != CONV4J_LAYOUT_CHANNELS_LAST) {
        return "needs channels_last";
    }
    return NULL;
}

size_t conv4j_dwconv_backward_weights_workspace_size(const conv4j_problem *p, int32_t slices)
{
    return slice_floats(p) * sizeof(float) * (size_t)slices;
}

static void block_gradient(const conv4j_problem *p, const float *x, const float *dy, float *dw,
                           float *db, int64_t c0, float *acc)
{
    const int64_t m = p->out_channels / p->in_channels;
    const int64_t channels = p->in_channels - c0 < BLOCK_CHANNELS ? p->in_channels - c0
                                                                  : BLOCK_CHANNELS;
    const int64_t width = channels * m; /* output channels of the block */
    const int64_t taps = p->kernel_h * p->kernel_w;
    memset(acc, 0, (size_t)(taps * width) * sizeof(float));
    double bias[BLOCK_CHANNELS * 64];
    const int with_bias = db != NULL && width <= BLOCK_CHANNELS * 64;
    if (with_bias) {
        memset(bias, 0, sizeof bias);
    }
    for (int64_t n = 0; n < p->batch; ++n) {
        for (int64_t oh = 0; oh < p->out_h; ++oh) {
            int64_t kh_begin, kh_end;
            conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h,
                             &kh_begin, &kh_end);
            for (int64_t ow = 0; ow < p->out_w; ++ow) {
                int64_t kw_begin, kw_end;
                conv4j_tap_range(ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w,
                                 p->in_w, &kw_begin, &kw_end);
                const float *g = dy + n * p->out.n + oh * p->out.h + ow * p->out.w + c0 * m;
                if (with_bias) {
                    for (int64_t k = 0; k < width; ++k) {
                        bias[k] += (double)g[k];
                    }
                }
                for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
                    const int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                    for (int64_t kw = kw_begin; kw < kw_end; ++kw) {
                        const int64_t iw = ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                        const float *in = x + n * p->in.n + ih * p->in.h + iw * p->in.w + c0;
                        float *a = acc + (kh * p->kernel_w + kw) * width;
                        if (m == 1) {
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
            for (int64_t q = 0; q < p->batch * p->out_h * p->out_w; ++q) {
                sum += (double)dy[q * p->out_channels + c0 * m + k];
            }
            db[c0 * m + k] = (float)sum;
        }
    }
}

void conv4j_dwconv_backward_weights_run(const conv4j_problem *p, const float *input,
                                        const float *output_gradient, float *kernel_gradient,
                                        float *bias_gradient, void *workspace, int32_t threads)
{
    const int64_t blocks = (p->in_channels + BLOCK_CHANNELS - 1) / BLOCK_CHANNELS;
    float *slices = workspace;
    const size_t per_slice = slice_floats(p);
#ifdef _OPENMP
    if (threads > 1 && blocks > 1) {
        const int team = (int)(threads < blocks ? threads : blocks);
#pragma omp parallel num_threads(team)
        {
            float *acc = slices + per_slice * (size_t)omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
            for (int64_t b = 0; b < blocks; ++b) {
                block_gradient(p, input, output_gradient, kernel_gradient, bias_gradient,
                               b * BLOCK_CHANNELS, acc);
            }
        }
        return;
    }
#else
    (void)threads;
#endif
    for (int64_t b = 0; b < blocks; ++b) {
        block_gradient(p, input, output_gradient, kernel_gradient, bias_gradient,
                       b * BLOCK_CHANNELS, slices);
    }
}

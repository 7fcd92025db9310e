/*
 * The reference convolution: one output element at a time, taps in the
 * padding skipped one by one, accumulated in double (a float product is exact
 * in double), so its only real rounding is the final one to float. Kept
 * deliberately naive and independent of the fast kernels' index tricks.
 */
#include "reference/f32_conv_reference.h"

#include <string.h>

void conv4j_reference_compute(const conv4j_problem *p, const float *input, const float *kernel,
                              const float *bias, float *output)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t cout_per_group = p->out_channels_per_group;
    for (int64_t n = 0; n < p->batch; ++n) {
        for (int64_t oh = 0; oh < p->out_h; ++oh) {
            for (int64_t ow = 0; ow < p->out_w; ++ow) {
                for (int64_t co = 0; co < p->out_channels; ++co) {
                    const int64_t group = co / cout_per_group;
                    double sum = 0.0;
                    for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
                        const int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                        if (ih < 0 || ih >= p->in_h) {
                            continue;
                        }
                        for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                            const int64_t iw = ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                            if (iw < 0 || iw >= p->in_w) {
                                continue;
                            }
                            for (int64_t ci = 0; ci < cin_per_group; ++ci) {
                                const int64_t c = group * cin_per_group + ci;
                                const float x = input[n * p->in.n + ih * p->in.h + iw * p->in.w +
                                                      c * p->in.c];
                                const float w =
                                    kernel[((kh * p->kernel_w + kw) * cin_per_group + ci) *
                                               p->out_channels +
                                           co];
                                sum += (double)x * (double)w;
                            }
                        }
                    }
                    if (bias != NULL) {
                        sum += (double)bias[co];
                    }
                    output[n * p->out.n + oh * p->out.h + ow * p->out.w + co * p->out.c] =
                        conv4j_activate((float)sum, p->activation);
                }
            }
        }
    }
}

void conv4j_reference_pack(const conv4j_problem *problem, const float *kernel,
                           float *packed_kernel)
{
    memcpy(packed_kernel, kernel, (size_t)conv4j_kernel_count(problem) * sizeof(float));
}

/* Backward data: every (dy pixel, tap) pair that the forward pass maps onto
 * this dx pixel, found by solving ih = oh * stride - pad + kh * dilation. */
void conv4j_reference_backward_data(const conv4j_problem *p, const float *output_gradient,
                                    const float *kernel, const float *bias, float *input_gradient)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t cout_per_group = p->out_channels_per_group;
    for (int64_t n = 0; n < p->batch; ++n) {
        for (int64_t ih = 0; ih < p->in_h; ++ih) {
            for (int64_t iw = 0; iw < p->in_w; ++iw) {
                for (int64_t c = 0; c < p->in_channels; ++c) {
                    const int64_t group = c / cin_per_group;
                    const int64_t ci = c % cin_per_group;
                    double sum = 0.0;
                    for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
                        const int64_t h = ih + p->pad_top - kh * p->dilation_h;
                        if (h < 0 || h % p->stride_h != 0 || h / p->stride_h >= p->out_h) {
                            continue;
                        }
                        const int64_t oh = h / p->stride_h;
                        for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                            const int64_t w = iw + p->pad_left - kw * p->dilation_w;
                            if (w < 0 || w % p->stride_w != 0 || w / p->stride_w >= p->out_w) {
                                continue;
                            }
                            const int64_t ow = w / p->stride_w;
                            for (int64_t j = 0; j < cout_per_group; ++j) {
                                const int64_t co = group * cout_per_group + j;
                                const float dy = output_gradient[n * p->out.n + oh * p->out.h +
                                                                 ow * p->out.w + co * p->out.c];
                                const float weight =
                                    kernel[((kh * p->kernel_w + kw) * cin_per_group + ci) *
                                               p->out_channels +
                                           co];
                                sum += (double)dy * (double)weight;
                            }
                        }
                    }
                    if (bias != NULL) {
                        sum += (double)bias[c];
                    }
                    input_gradient[n * p->in.n + ih * p->in.h + iw * p->in.w + c * p->in.c] =
                        conv4j_activate((float)sum, p->activation);
                }
            }
        }
    }
}

void conv4j_reference_backward_weights(const conv4j_problem *p, const float *input,
                                       const float *output_gradient, float *kernel_gradient,
                                       float *bias_gradient)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t cout_per_group = p->out_channels_per_group;
    for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
        for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
            for (int64_t ci = 0; ci < cin_per_group; ++ci) {
                for (int64_t co = 0; co < p->out_channels; ++co) {
                    const int64_t c = co / cout_per_group * cin_per_group + ci;
                    double sum = 0.0;
                    for (int64_t n = 0; n < p->batch; ++n) {
                        for (int64_t oh = 0; oh < p->out_h; ++oh) {
                            const int64_t ih = oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                            if (ih < 0 || ih >= p->in_h) {
                                continue;
                            }
                            for (int64_t ow = 0; ow < p->out_w; ++ow) {
                                const int64_t iw =
                                    ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                                if (iw < 0 || iw >= p->in_w) {
                                    continue;
                                }
                                const float x = input[n * p->in.n + ih * p->in.h + iw * p->in.w +
                                                      c * p->in.c];
                                const float dy = output_gradient[n * p->out.n + oh * p->out.h +
                                                                 ow * p->out.w + co * p->out.c];
                                sum += (double)x * (double)dy;
                            }
                        }
                    }
                    kernel_gradient[((kh * p->kernel_w + kw) * cin_per_group + ci) *
                                        p->out_channels +
                                    co] = (float)sum;
                }
            }
        }
    }
    if (bias_gradient != NULL) {
        for (int64_t co = 0; co < p->out_channels; ++co) {
            double sum = 0.0;
            for (int64_t n = 0; n < p->batch; ++n) {
                for (int64_t oh = 0; oh < p->out_h; ++oh) {
                    for (int64_t ow = 0; ow < p->out_w; ++ow) {
                        sum += (double)output_gradient[n * p->out.n + oh * p->out.h +
                                                       ow * p->out.w + co * p->out.c];
                    }
                }
            }
            bias_gradient[co] = (float)sum;
        }
    }
}

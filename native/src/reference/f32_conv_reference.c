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
        for (int64_t od = 0; od < p->out_d; ++od) {
            for (int64_t oh = 0; oh < p->out_h; ++oh) {
                for (int64_t ow = 0; ow < p->out_w; ++ow) {
                    for (int64_t co = 0; co < p->out_channels; ++co) {
                        const int64_t group = co / cout_per_group;
                        double sum = 0.0;
                        for (int64_t kd = 0; kd < p->kernel_d; ++kd) {
                            const int64_t id =
                                od * p->stride_d - p->pad_front + kd * p->dilation_d;
                            if (id < 0 || id >= p->in_d) {
                                continue;
                            }
                            for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
                                const int64_t ih =
                                    oh * p->stride_h - p->pad_top + kh * p->dilation_h;
                                if (ih < 0 || ih >= p->in_h) {
                                    continue;
                                }
                                for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                                    const int64_t iw =
                                        ow * p->stride_w - p->pad_left + kw * p->dilation_w;
                                    if (iw < 0 || iw >= p->in_w) {
                                        continue;
                                    }
                                    const int64_t tap = (kd * p->kernel_h + kh) * p->kernel_w + kw;
                                    for (int64_t ci = 0; ci < cin_per_group; ++ci) {
                                        const int64_t c = group * cin_per_group + ci;
                                        const float x =
                                            input[n * p->in.n + id * p->in.d + ih * p->in.h +
                                                  iw * p->in.w + c * p->in.c];
                                        const float w =
                                            kernel[(tap * cin_per_group + ci) * p->out_channels +
                                                   co];
                                        sum += (double)x * (double)w;
                                    }
                                }
                            }
                        }
                        if (bias != NULL) {
                            sum += (double)bias[co];
                        }
                        output[n * p->out.n + od * p->out.d + oh * p->out.h + ow * p->out.w +
                               co * p->out.c] = conv4j_activate((float)sum, p->activation);
                    }
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
 * this dx pixel, found by solving i = o * stride - pad + k * dilation per axis. */
static int source_index(int64_t i, int64_t pad, int64_t k, int64_t dilation, int64_t stride,
                        int64_t out, int64_t *o)
{
    const int64_t t = i + pad - k * dilation;
    if (t < 0 || t % stride != 0 || t / stride >= out) {
        return 0;
    }
    *o = t / stride;
    return 1;
}

void conv4j_reference_backward_data(const conv4j_problem *p, const float *output_gradient,
                                    const float *kernel, const float *bias, float *input_gradient)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t cout_per_group = p->out_channels_per_group;
    for (int64_t n = 0; n < p->batch; ++n) {
        for (int64_t id = 0; id < p->in_d; ++id) {
            for (int64_t ih = 0; ih < p->in_h; ++ih) {
                for (int64_t iw = 0; iw < p->in_w; ++iw) {
                    for (int64_t c = 0; c < p->in_channels; ++c) {
                        const int64_t group = c / cin_per_group;
                        const int64_t ci = c % cin_per_group;
                        double sum = 0.0;
                        for (int64_t kd = 0; kd < p->kernel_d; ++kd) {
                            int64_t od;
                            if (!source_index(id, p->pad_front, kd, p->dilation_d, p->stride_d,
                                              p->out_d, &od)) {
                                continue;
                            }
                            for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
                                int64_t oh;
                                if (!source_index(ih, p->pad_top, kh, p->dilation_h, p->stride_h,
                                                  p->out_h, &oh)) {
                                    continue;
                                }
                                for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                                    int64_t ow;
                                    if (!source_index(iw, p->pad_left, kw, p->dilation_w,
                                                      p->stride_w, p->out_w, &ow)) {
                                        continue;
                                    }
                                    const int64_t tap = (kd * p->kernel_h + kh) * p->kernel_w + kw;
                                    for (int64_t j = 0; j < cout_per_group; ++j) {
                                        const int64_t co = group * cout_per_group + j;
                                        const float dy =
                                            output_gradient[n * p->out.n + od * p->out.d +
                                                            oh * p->out.h + ow * p->out.w +
                                                            co * p->out.c];
                                        const float weight =
                                            kernel[(tap * cin_per_group + ci) * p->out_channels +
                                                   co];
                                        sum += (double)dy * (double)weight;
                                    }
                                }
                            }
                        }
                        if (bias != NULL) {
                            sum += (double)bias[c];
                        }
                        input_gradient[n * p->in.n + id * p->in.d + ih * p->in.h + iw * p->in.w +
                                       c * p->in.c] = conv4j_activate((float)sum, p->activation);
                    }
                }
            }
        }
    }
}

/* The input index of a tap, or -1 in the padding. */
static int64_t tap_input(int64_t o, int64_t stride, int64_t pad, int64_t k, int64_t dilation,
                         int64_t in)
{
    const int64_t i = o * stride - pad + k * dilation;
    return i < 0 || i >= in ? -1 : i;
}

void conv4j_reference_backward_weights(const conv4j_problem *p, const float *input,
                                       const float *output_gradient, float *kernel_gradient,
                                       float *bias_gradient)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t cout_per_group = p->out_channels_per_group;
    const int64_t taps = p->kernel_d * p->kernel_h * p->kernel_w;
    for (int64_t tap = 0; tap < taps; ++tap) {
        const int64_t kd = tap / (p->kernel_h * p->kernel_w);
        const int64_t kh = tap / p->kernel_w % p->kernel_h;
        const int64_t kw = tap % p->kernel_w;
        for (int64_t ci = 0; ci < cin_per_group; ++ci) {
            for (int64_t co = 0; co < p->out_channels; ++co) {
                const int64_t c = co / cout_per_group * cin_per_group + ci;
                double sum = 0.0;
                for (int64_t n = 0; n < p->batch; ++n) {
                    for (int64_t od = 0; od < p->out_d; ++od) {
                        const int64_t id =
                            tap_input(od, p->stride_d, p->pad_front, kd, p->dilation_d, p->in_d);
                        if (id < 0) {
                            continue;
                        }
                        for (int64_t oh = 0; oh < p->out_h; ++oh) {
                            const int64_t ih =
                                tap_input(oh, p->stride_h, p->pad_top, kh, p->dilation_h, p->in_h);
                            if (ih < 0) {
                                continue;
                            }
                            for (int64_t ow = 0; ow < p->out_w; ++ow) {
                                const int64_t iw = tap_input(ow, p->stride_w, p->pad_left, kw,
                                                             p->dilation_w, p->in_w);
                                if (iw < 0) {
                                    continue;
                                }
                                const float x = input[n * p->in.n + id * p->in.d + ih * p->in.h +
                                                      iw * p->in.w + c * p->in.c];
                                const float dy =
                                    output_gradient[n * p->out.n + od * p->out.d + oh * p->out.h +
                                                    ow * p->out.w + co * p->out.c];
                                sum += (double)x * (double)dy;
                            }
                        }
                    }
                }
                kernel_gradient[(tap * cin_per_group + ci) * p->out_channels + co] = (float)sum;
            }
        }
    }
    if (bias_gradient != NULL) {
        const int64_t pixels = p->out_d * p->out_h * p->out_w;
        for (int64_t co = 0; co < p->out_channels; ++co) {
            double sum = 0.0;
            for (int64_t n = 0; n < p->batch; ++n) {
                for (int64_t pixel = 0; pixel < pixels; ++pixel) {
                    const int64_t od = pixel / (p->out_h * p->out_w);
                    const int64_t oh = pixel / p->out_w % p->out_h;
                    const int64_t ow = pixel % p->out_w;
                    sum += (double)output_gradient[n * p->out.n + od * p->out.d + oh * p->out.h +
                                                   ow * p->out.w + co * p->out.c];
                }
            }
            bias_gradient[co] = (float)sum;
        }
    }
}

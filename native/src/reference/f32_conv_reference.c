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

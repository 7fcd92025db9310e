/*
 * The direct convolution: weights packed per output channel as
 * [Cout][KH][KW][Cin/g] so the reduction over input channels is contiguous
 * (and so is the input in channels_last), float accumulation, bias and
 * activation applied in the output write, OpenMP over output rows (n, oh).
 *
 * This file holds what every ISA shares (it accepts every flat problem, packs, needs
 * no workspace); the loop is f32_conv_direct_body.h, compiled per ISA by
 * f32_conv_direct__<isa>.c and reached through the ISA config.
 */
#include "direct/f32_conv_direct.h"

const char *conv4j_direct_reject(const conv4j_problem *problem)
{
    /* Its rows are (n, oh) of one depth slice. */
    return conv4j_problem_is_flat(problem) ? NULL : "rank 3";
}

size_t conv4j_direct_packed_kernel_count(const conv4j_problem *problem)
{
    return (size_t)conv4j_kernel_count(problem);
}

void conv4j_direct_pack(const conv4j_problem *p, const float *kernel, float *packed_kernel)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    for (int64_t co = 0; co < p->out_channels; ++co) {
        for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
            for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                const int64_t tap = kh * p->kernel_w + kw;
                float *dst = packed_kernel + (co * p->kernel_h * p->kernel_w + tap) * cin_per_group;
                const float *src = kernel + tap * cin_per_group * p->out_channels + co;
                for (int64_t ci = 0; ci < cin_per_group; ++ci) {
                    dst[ci] = src[ci * p->out_channels];
                }
            }
        }
    }
}

/*
 * The direct convolution: weights packed per output channel as
 * [Cout][KD][KH][KW][Cin/g] so the reduction over input channels is contiguous
 * (and so is the input in channels_last), float accumulation, bias and
 * activation applied in the output write, OpenMP over output rows (n, od, oh).
 *
 * This file holds what every ISA shares (it accepts everything, packs, needs
 * no workspace); the loop is f32_conv_direct_body.h, compiled per ISA by
 * f32_conv_direct__<isa>.c and reached through the ISA config.
 */
#include "direct/f32_conv_direct.h"

const char *conv4j_direct_reject(const conv4j_problem *problem)
{
    (void)problem;
    return NULL;
}

size_t conv4j_direct_packed_kernel_count(const conv4j_problem *problem)
{
    return (size_t)conv4j_kernel_count(problem);
}

void conv4j_direct_pack(const conv4j_problem *p, const float *kernel, float *packed_kernel)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t taps = p->kernel_d * p->kernel_h * p->kernel_w;
    for (int64_t co = 0; co < p->out_channels; ++co) {
        for (int64_t tap = 0; tap < taps; ++tap) { /* (kd, kh, kw) row-major in both */
            float *dst = packed_kernel + (co * taps + tap) * cin_per_group;
            const float *src = kernel + tap * cin_per_group * p->out_channels + co;
            for (int64_t ci = 0; ci < cin_per_group; ++ci) {
                dst[ci] = src[ci * p->out_channels];
            }
        }
    }
}

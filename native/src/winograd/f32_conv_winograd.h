/*
 * Winograd F(4x4, 3x3) convolution for 3x3, stride 1, dilation 1,
 * channels_last, ungrouped problems with at least
 * CONV4J_WINOGRAD_MIN_CHANNELS input and output channels. Built once per ISA
 * from f32_conv_winograd.c: every function name ends in the ISA suffix
 * (_scalar, _avx2).
 */
#ifndef CONV4J_F32_CONV_WINOGRAD_H
#define CONV4J_F32_CONV_WINOGRAD_H

#include "internal.h"

/* Below this many input channels the fan-in-scaled error bound the tests
 * check no longer covers Winograd's error (see README, "Winograd
 * accuracy"), and below it on either side the transforms do not pay. */
#define CONV4J_WINOGRAD_MIN_CHANNELS 16

#define CONV4J_DECLARE_WINOGRAD(suffix)                                                          \
    const char *conv4j_winograd_reject_##suffix(const conv4j_problem *problem);                  \
    size_t conv4j_winograd_packed_kernel_count_##suffix(const conv4j_problem *problem);          \
    void conv4j_winograd_pack_##suffix(const conv4j_problem *problem, const float *kernel,       \
                                       float *packed_kernel);                                    \
    size_t conv4j_winograd_workspace_size_##suffix(const conv4j_problem *problem);               \
    void conv4j_winograd_run_##suffix(const conv4j_problem *problem, const float *packed_kernel, \
                                      const float *bias, const float *input, float *output,      \
                                      void *workspace, int32_t threads);

CONV4J_DECLARE_WINOGRAD(scalar)
#ifdef CONV4J_HAVE_AVX2_KERNELS
CONV4J_DECLARE_WINOGRAD(avx2)
#endif

#endif /* CONV4J_F32_CONV_WINOGRAD_H */

/*
 * The direct convolution, built once per ISA from f32_conv_direct.c: every
 * function name ends in the ISA suffix (_scalar, _avx2).
 */
#ifndef CONV4J_F32_CONV_DIRECT_H
#define CONV4J_F32_CONV_DIRECT_H

#include "internal.h"

#define CONV4J_DECLARE_DIRECT(suffix)                                                          \
    const char *conv4j_direct_reject_##suffix(const conv4j_problem *problem);                  \
    size_t conv4j_direct_packed_kernel_count_##suffix(const conv4j_problem *problem);          \
    void conv4j_direct_pack_##suffix(const conv4j_problem *problem, const float *kernel,       \
                                     float *packed_kernel);                                    \
    size_t conv4j_direct_workspace_size_##suffix(const conv4j_problem *problem);               \
    void conv4j_direct_run_##suffix(const conv4j_problem *problem, const float *packed_kernel, \
                                    const float *bias, const float *input, float *output,      \
                                    void *workspace, int32_t threads);

CONV4J_DECLARE_DIRECT(scalar)
#ifdef CONV4J_HAVE_AVX2_KERNELS
CONV4J_DECLARE_DIRECT(avx2)
#endif

#endif /* CONV4J_F32_CONV_DIRECT_H */

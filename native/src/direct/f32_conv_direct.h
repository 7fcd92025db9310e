/*
 * The direct convolution: reject, pack and workspace are shared by every
 * ISA; the loop has one copy per ISA, reached through the ISA config.
 */
#ifndef CONV4J_F32_CONV_DIRECT_H
#define CONV4J_F32_CONV_DIRECT_H

#include "internal.h"

const char *conv4j_direct_reject(const conv4j_problem *problem);
size_t conv4j_direct_packed_kernel_count(const conv4j_problem *problem);
void conv4j_direct_pack(const conv4j_problem *problem, const float *kernel, float *packed_kernel);

/* threads >= 1; bias may be NULL. */
typedef void (*conv4j_direct_run_fn)(const conv4j_problem *problem, const float *packed_kernel,
                                     const float *bias, const float *input, float *output,
                                     int32_t threads);

void conv4j_direct_run__scalar(const conv4j_problem *problem, const float *packed_kernel,
                               const float *bias, const float *input, float *output,
                               int32_t threads);
#ifdef CONV4J_HAVE_AVX2_KERNELS
void conv4j_direct_run__avx2(const conv4j_problem *problem, const float *packed_kernel,
                             const float *bias, const float *input, float *output,
                             int32_t threads);
#endif
#ifdef CONV4J_HAVE_AVX512_KERNELS
void conv4j_direct_run__avx512(const conv4j_problem *problem, const float *packed_kernel,
                               const float *bias, const float *input, float *output,
                               int32_t threads);
#endif
#ifdef CONV4J_HAVE_NEON_KERNELS
void conv4j_direct_run__neon(const conv4j_problem *problem, const float *packed_kernel,
                             const float *bias, const float *input, float *output,
                             int32_t threads);
#endif

#endif /* CONV4J_F32_CONV_DIRECT_H */

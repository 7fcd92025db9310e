/*
 * Convolution as GEMM over the 6x16 micro-kernel (f32_gemm.h), channels_last:
 * M = N * Hout * Wout output pixels, K = KH * KW * Cin/g, N = Cout/g, per
 * group. The input is never copied whole: each 6-pixel tile gets pointers to
 * its input rows (XNNPACK's indirection, padding taps pointing at a zero
 * row); only pixels at the border of a merged window are packed per tile.
 * Weights are packed once per plan; bias and relu are fused into the write.
 *
 * Rows of the algorithm table (plan.c):
 *   gemm_1x1_avx2  1x1 kernels, unpadded (one GEMM when stride 1)
 *   igemm_avx2     any channels_last convolution
 *   igemm_scalar   the same with the portable micro-kernel
 */
#ifndef CONV4J_F32_CONV_GEMM_H
#define CONV4J_F32_CONV_GEMM_H

#include "internal.h"

const char *conv4j_gemm_1x1_reject(const conv4j_problem *problem);
const char *conv4j_igemm_reject(const conv4j_problem *problem);
size_t conv4j_gemm_packed_kernel_count(const conv4j_problem *problem);
void conv4j_gemm_pack(const conv4j_problem *problem, const float *kernel, float *packed_kernel);
size_t conv4j_gemm_workspace_size(const conv4j_problem *problem);

void conv4j_gemm_run_scalar(const conv4j_problem *problem, const float *packed_kernel,
                            const float *bias, const float *input, float *output,
                            void *workspace, int32_t threads);
#ifdef CONV4J_HAVE_AVX2_KERNELS
void conv4j_gemm_run_avx2(const conv4j_problem *problem, const float *packed_kernel,
                          const float *bias, const float *input, float *output, void *workspace,
                          int32_t threads);
#endif

#endif /* CONV4J_F32_CONV_GEMM_H */

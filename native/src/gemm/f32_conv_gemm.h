/*
 * Convolution as GEMM over the ISA config's micro-kernel (f32_gemm.h),
 * channels_last: M = N * Dout * Hout * Wout output pixels, K = KD * KH * KW * Cin/g,
 * N = Cout/g, per group. The input is never copied whole: each MR-pixel tile
 * gets pointers to its input rows (XNNPACK's indirection, padding taps
 * pointing at a zero row); only pixels at the border of a merged window are
 * packed per tile. Weights are packed once per layer in the config's NR-wide
 * panels; bias and relu are fused into the write.
 *
 * Rows of the algorithm table (plan.c):
 *   gemm_1x1  1x1 kernels, unpadded (one GEMM when stride 1)
 *   igemm     any channels_last convolution
 */
#ifndef CONV4J_F32_CONV_GEMM_H
#define CONV4J_F32_CONV_GEMM_H

#include "internal.h"

const char *conv4j_gemm_1x1_reject(const conv4j_problem *problem, const conv4j_isa_config *config);
const char *conv4j_igemm_reject(const conv4j_problem *problem, const conv4j_isa_config *config);
size_t conv4j_gemm_packed_kernel_count(const conv4j_problem *problem,
                                       const conv4j_isa_config *config);
void conv4j_gemm_pack(const conv4j_problem *problem, const conv4j_isa_config *config,
                      const float *kernel, float *packed_kernel);
size_t conv4j_gemm_workspace_size(const conv4j_problem *problem, const conv4j_isa_config *config,
                                  int32_t slices);

void conv4j_gemm_run(const conv4j_problem *problem, const conv4j_isa_config *config,
                     const float *packed_kernel, const float *bias, const float *input,
                     float *output, void *workspace, int32_t threads);

/* The work items of conv4j_gemm_run, and items [begin, end) of them on the
 * calling thread over a one-thread workspace (conv4j_gemm_workspace_size
 * with 1 slice): each output element is computed exactly as by
 * conv4j_gemm_run, so callers may spread items over their own team. */
int64_t conv4j_gemm_items(const conv4j_problem *problem, const conv4j_isa_config *config);
void conv4j_gemm_run_items(const conv4j_problem *problem, const conv4j_isa_config *config,
                           const float *packed_kernel, const float *bias, const float *input,
                           float *output, void *workspace, int64_t begin, int64_t end);

#endif /* CONV4J_F32_CONV_GEMM_H */

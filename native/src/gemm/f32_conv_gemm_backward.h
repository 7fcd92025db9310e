/*
 * The backward passes on the forward GEMM machinery (f32_conv_gemm.h) and
 * the ISA config's micro-kernel, channels_last.
 *
 * Backward data (bwd_data_gemm): dx is a sum over (dy pixel, tap) pairs with
 * ih = oh * s - pad + kh * d. Split dx by the phase rho = (ih + pad) mod s
 * per axis: the taps that reach a phase are those with kh * d = rho (mod s),
 * a fixed period apart, and over them the phase is a stride-1 correlation of
 * dy with the flipped, channel-transposed tap subset (dilation d / gcd(s, d),
 * pads possibly negative = dy rows it never reads). Each phase runs through
 * conv4j_gemm_run; stride 1 is one phase written straight into dx, larger
 * strides write a phase into scratch and copy it to its dx pixels. Nothing
 * is zero-stuffed. The packing (every phase's sub-kernel, per group, in the
 * config's NR panels) depends on the kernel, strides and dilations only.
 *
 * Backward weights (bwd_weights_gemm): per group, dW[(tap, ci)][co] =
 * sum over output pixels q of X[q][(tap, ci)] * dy[q][co], a GEMM with the
 * rows of dW as M and pixels as K. Work items own blocks of dW rows and run
 * over every pixel in chunks of a fixed size, accumulating into dW in chunk
 * order, so each element's sum order depends only on the problem: the result
 * is bit-identical for any thread count.
 */
#ifndef CONV4J_F32_CONV_GEMM_BACKWARD_H
#define CONV4J_F32_CONV_GEMM_BACKWARD_H

#include "internal.h"

const char *conv4j_bwd_data_gemm_reject(const conv4j_problem *problem,
                                        const conv4j_isa_config *config);
size_t conv4j_bwd_data_gemm_packed_kernel_count(const conv4j_problem *problem,
                                                const conv4j_isa_config *config);
void conv4j_bwd_data_gemm_pack(const conv4j_problem *problem, const conv4j_isa_config *config,
                               const float *kernel, float *packed_kernel);
size_t conv4j_bwd_data_gemm_workspace_size(const conv4j_problem *problem,
                                           const conv4j_isa_config *config, int32_t slices);
/* input: dy, output: dx, bias over Cin. */
void conv4j_bwd_data_gemm_run(const conv4j_problem *problem, const conv4j_isa_config *config,
                              const float *packed_kernel, const float *bias, const float *input,
                              float *output, void *workspace, int32_t threads);

const char *conv4j_bwd_weights_gemm_reject(const conv4j_problem *problem,
                                           const conv4j_isa_config *config);
size_t conv4j_bwd_weights_gemm_workspace_size(const conv4j_problem *problem,
                                              const conv4j_isa_config *config, int32_t slices);
void conv4j_bwd_weights_gemm_run(const conv4j_problem *problem, const conv4j_isa_config *config,
                                 const float *input, const float *output_gradient,
                                 float *kernel_gradient, float *bias_gradient, void *workspace,
                                 int32_t threads);

#endif /* CONV4J_F32_CONV_GEMM_BACKWARD_H */

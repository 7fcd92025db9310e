/*
 * The backward passes on the forward GEMM machinery (f32_conv_gemm.h) and
 * the ISA config's micro-kernel, channels_last.
 *
 * Backward data (bwd_data_gemm): dx is a sum over (dy pixel, tap) pairs with
 * ih = oh * s - pad + kh * d. Split dx by the phase rho = (ih + pad) mod s
 * per axis (D, H, W): the taps that reach a phase are those with
 * kh * d = rho (mod s), a fixed period apart, and over them the phase is a
 * stride-1 correlation of dy with the flipped, channel-transposed tap
 * subset (dilation d / gcd(s, d), negative pads = dy rows it never reads,
 * cropped off). Each phase runs
 * through conv4j_gemm_run, which writes the phase's pixels (every s-th dx
 * pixel) in place through its output strides; bwd_data_dwconv's phases run
 * on the depthwise row (or volume) kernels into scratch, copied to their dx
 * pixels (stride 1: straight into dx). Nothing is zero-stuffed.
 * The packing (every phase's sub-kernel, taps flipped) depends on the
 * kernel, strides and dilations only.
 *
 * Backward weights (bwd_weights_gemm): per group, dW^T[co][(tap, ci)] =
 * sum over output pixels q of dy^T[co][q] * X[q][(tap, ci)]: dy transposed
 * once is A (rows read in place), x's patches packed per chunk of pixels
 * are B. Work items own column blocks and run over every pixel in chunks of
 * a fixed size, accumulating in chunk order, so each element's sum order
 * depends only on the problem: the result is bit-identical for any thread
 * count. dW^T is transposed into the Keras layout at the end.
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

/* bwd_data_dwconv: depthwise with multiplier 1, each phase a forward
 * depthwise convolution on the config's row kernels. */
const char *conv4j_bwd_data_dwconv_reject(const conv4j_problem *problem,
                                          const conv4j_isa_config *config);
size_t conv4j_bwd_data_dwconv_packed_kernel_count(const conv4j_problem *problem,
                                                  const conv4j_isa_config *config);
void conv4j_bwd_data_dwconv_pack(const conv4j_problem *problem, const conv4j_isa_config *config,
                                 const float *kernel, float *packed_kernel);
size_t conv4j_bwd_data_dwconv_workspace_size(const conv4j_problem *problem,
                                             const conv4j_isa_config *config, int32_t slices);
void conv4j_bwd_data_dwconv_run(const conv4j_problem *problem, const conv4j_isa_config *config,
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

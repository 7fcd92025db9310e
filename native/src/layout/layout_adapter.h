/*
 * channels_first through a channels_last kernel: the plan transposes the
 * NCHW input to NHWC in per-call workspace, runs the kernel on the
 * channels_last form of the problem, and transposes the NHWC result back.
 * Kernels that only vectorize over contiguous channels thus serve both
 * layouts without a second code path.
 */
#ifndef CONV4J_LAYOUT_ADAPTER_H
#define CONV4J_LAYOUT_ADAPTER_H

#include "internal.h"

/* The same convolution with channels_last tensors (strides recomputed). */
void conv4j_layout_channels_last_problem(const conv4j_problem *p, conv4j_problem *channels_last);

/* Whether the NCHW and NHWC forms of the input (output) are the same bytes:
 * one channel, or one pixel per image. Then that side needs no copy. */
int conv4j_layout_input_is_shared(const conv4j_problem *p);
int conv4j_layout_output_is_shared(const conv4j_problem *p);

/* Workspace bytes the adapter needs in front of the kernel's own (64-byte
 * aligned pieces), or 0 when the sum does not fit in size_t. */
size_t conv4j_layout_workspace_size(const conv4j_problem *p, size_t kernel_workspace);

/* The kernel's workspace inside the adapter's (after the two tensors). */
void *conv4j_layout_kernel_workspace(const conv4j_problem *p, void *workspace);

/* Runs the algorithm on the channels_last problem cl between the two
 * transposes, with the config's kernels and transposes. Backward data reads
 * dy (the output's shape) and writes dx (the input's). */
void conv4j_layout_run(const conv4j_problem *p, const conv4j_problem *cl,
                       const conv4j_algorithm_entry *algorithm, const conv4j_isa_config *config,
                       const float *packed_kernel, const float *bias, const float *input,
                       float *output, void *workspace, int32_t threads);

/* For each of count rows x cols matrices: dst = transpose(src), with the
 * config's tile transposes, over at most threads threads. */
void conv4j_layout_transpose(const conv4j_isa_config *config, const float *src, float *dst,
                             int64_t count, int64_t rows, int64_t cols, int32_t threads);

/* Backward weights: transposes x and dy, then runs the algorithm's
 * run_weights on cl (dw is in the Keras layout either way). */
void conv4j_layout_run_weights(const conv4j_problem *p, const conv4j_problem *cl,
                               const conv4j_algorithm_entry *algorithm,
                               const conv4j_isa_config *config, const float *input,
                               const float *output_gradient, float *kernel_gradient,
                               float *bias_gradient, void *workspace, int32_t threads);

#endif /* CONV4J_LAYOUT_ADAPTER_H */

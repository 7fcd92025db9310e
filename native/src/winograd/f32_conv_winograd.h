/*
 * Winograd F(4x4, 3x3) convolution for 3x3, stride 1, dilation 1,
 * channels_last, ungrouped problems with at least
 * CONV4J_WINOGRAD_MIN_CHANNELS input and output channels; opt-in (AUTO takes
 * it only with CONV4J_FLAG_ALLOW_WINOGRAD). One driver for every ISA: its
 * transforms and tile GEMMs come from the ISA config.
 */
#ifndef CONV4J_F32_CONV_WINOGRAD_H
#define CONV4J_F32_CONV_WINOGRAD_H

#include "internal.h"

/* Below this many input channels the fan-in-scaled error bound the tests
 * check no longer covers Winograd's error (see README, "Winograd
 * accuracy"), and below it on either side the transforms do not pay. */
#define CONV4J_WINOGRAD_MIN_CHANNELS 16

const char *conv4j_winograd_reject(const conv4j_problem *problem, const conv4j_isa_config *config);
size_t conv4j_winograd_packed_kernel_count(const conv4j_problem *problem,
                                           const conv4j_isa_config *config);
void conv4j_winograd_pack(const conv4j_problem *problem, const conv4j_isa_config *config,
                          const float *kernel, float *packed_kernel);
size_t conv4j_winograd_workspace_size(const conv4j_problem *problem,
                                      const conv4j_isa_config *config, int32_t slices);
void conv4j_winograd_run(const conv4j_problem *problem, const conv4j_isa_config *config,
                         const float *packed_kernel, const float *bias, const float *input,
                         float *output, void *workspace, int32_t threads);

#endif /* CONV4J_F32_CONV_WINOGRAD_H */

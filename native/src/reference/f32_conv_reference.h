/* The plain reference convolution: the definition every kernel is tested against. */
#ifndef CONV4J_F32_CONV_REFERENCE_H
#define CONV4J_F32_CONV_REFERENCE_H

#include "internal.h"

/* kernel in the Keras layout [KH][KW][Cin/g][Cout]; bias may be NULL. */
void conv4j_reference_compute(const conv4j_problem *problem, const float *input,
                              const float *kernel, const float *bias, float *output);

/* The algorithm-table entry points (the packed kernel is the Keras kernel). */
const char *conv4j_reference_reject(const conv4j_problem *problem);
size_t conv4j_reference_packed_kernel_count(const conv4j_problem *problem);
void conv4j_reference_pack(const conv4j_problem *problem, const float *kernel,
                           float *packed_kernel);
size_t conv4j_reference_workspace_size(const conv4j_problem *problem);
void conv4j_reference_run(const conv4j_problem *problem, const float *packed_kernel,
                          const float *bias, const float *input, float *output, void *workspace,
                          int32_t threads);

#endif /* CONV4J_F32_CONV_REFERENCE_H */

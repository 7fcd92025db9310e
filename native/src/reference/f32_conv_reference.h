/* The plain reference convolution: the definition every kernel is tested against. */
#ifndef CONV4J_F32_CONV_REFERENCE_H
#define CONV4J_F32_CONV_REFERENCE_H

#include "internal.h"

/* kernel in the Keras layout [KD][KH][KW][Cin/g][Cout]; bias may be NULL. */
void conv4j_reference_compute(const conv4j_problem *problem, const float *input,
                              const float *kernel, const float *bias, float *output);

/* The algorithm table's packing: the Keras kernel itself. */
void conv4j_reference_pack(const conv4j_problem *problem, const float *kernel,
                           float *packed_kernel);

#endif /* CONV4J_F32_CONV_REFERENCE_H */

/* The plain reference convolution: the definition every kernel is tested against. */
#ifndef CONV4J_F32_CONV_REFERENCE_H
#define CONV4J_F32_CONV_REFERENCE_H

#include "internal.h"

/* kernel in the Keras layout [KH][KW][Cin/g][Cout]; bias may be NULL. */
void conv4j_reference_compute(const conv4j_problem *problem, const float *input,
                              const float *kernel, const float *bias, float *output);

/* Backward data: dy [N, Ho, Wo, Cout] -> dx [N, H, W, Cin] (the problem's
 * layout), bias over Cin may be NULL, activation applied to dx. */
void conv4j_reference_backward_data(const conv4j_problem *problem, const float *output_gradient,
                                    const float *kernel, const float *bias, float *input_gradient);

/* Backward weights: dw in the Keras layout, db [Cout] when not NULL; each
 * element one double sum over N * Ho * Wo products, rounded once. */
void conv4j_reference_backward_weights(const conv4j_problem *problem, const float *input,
                                       const float *output_gradient, float *kernel_gradient,
                                       float *bias_gradient);

/* The algorithm table's packing: the Keras kernel itself. */
void conv4j_reference_pack(const conv4j_problem *problem, const float *kernel,
                           float *packed_kernel);

#endif /* CONV4J_F32_CONV_REFERENCE_H */

/* What plan.c needs of conv4j_weights (weights.c); not part of the API. */
#ifndef CONV4J_WEIGHTS_H
#define CONV4J_WEIGHTS_H

#include "internal.h"

/* Whether p has the weights' kernel tensor (rank, channels, kernel, groups)
 * and, when the weights have a bias, the propagation that bias is for. */
int conv4j_weights_match(const conv4j_weights *weights, const conv4j_problem *p);
/* Whether a weight is NaN or +-Inf (see conv4j_problem.kernel_nonfinite). */
int conv4j_weights_nonfinite(const conv4j_weights *weights);
/* The bias copy, NULL when the layer has none. */
const float *conv4j_weights_bias(const conv4j_weights *weights);
/* One more reference, dropped by conv4j_weights_destroy. */
void conv4j_weights_retain(conv4j_weights *weights);
/* The kernel packed for entry under config (p: the plan's kernel problem),
 * packing it on first use; NULL when memory runs out. Valid while the
 * weights live. */
const float *conv4j_weights_packed(conv4j_weights *weights, const conv4j_algorithm_entry *entry,
                                   const conv4j_isa_config *config, const conv4j_problem *p);

#endif /* CONV4J_WEIGHTS_H */

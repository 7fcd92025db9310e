/* ISA levels as sets of feature flags (see cpu_features.c). */
#ifndef CONV4J_CPU_FEATURES_H
#define CONV4J_CPU_FEATURES_H

#include "conv4j.h"

#define CONV4J_ISA_BIT(isa) (1u << (unsigned)(isa))

/* Bit CONV4J_ISA_BIT(level) set for each level the CPU and OS support. */
unsigned conv4j_isa_levels_detected(void);
/* The same, less the levels CONV4J_MAX_ISA caps off; scalar is always in. */
unsigned conv4j_isa_levels_active(void);

#endif /* CONV4J_CPU_FEATURES_H */

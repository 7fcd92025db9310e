/*
 * Running a test under one ISA config: ctest sets CONV4J_TEST_CONFIG to a
 * config name (scalar, avx2, avx512, avx512-twin, neon, neon-twin; config/isa_config.h)
 * and the test makes every plan with it. A config this machine cannot run
 * is a loud skip (exit TEST_SKIPPED, which ctest reports as Skipped), never a
 * quiet pass; .ci/run then checks that every level the CPU offers was tested.
 */
#ifndef CONV4J_TEST_CONFIG_H
#define CONV4J_TEST_CONFIG_H

#include <stdio.h>
#include <stdlib.h>

#include "config/isa_config.h"

#define TEST_SKIPPED 77

/* 1 when the test should run (under the requested config, if any); 0 after
 * printing why it cannot, and the caller returns TEST_SKIPPED. */
static inline int test_use_config(void)
{
    const char *name = getenv("CONV4J_TEST_CONFIG");
    if (name == NULL || name[0] == '\0') {
        printf("config in use: %s (dispatch)\n", conv4j_isa_config_active()->name);
        return 1;
    }
    const conv4j_isa_config *config = conv4j_isa_config_named(name);
    if (config == NULL) {
        printf("CONFIG NOT TESTED: %s is not built into this library\n", name);
        return 0;
    }
    if (!conv4j_isa_config_runnable(config)) {
        printf("CONFIG NOT TESTED: %s needs %s, which this CPU (or CONV4J_MAX_ISA) lacks\n", name,
               conv4j_isa_name(config->isa));
        return 0;
    }
    conv4j_isa_config_set_for_tests(config);
    printf("config in use: %s%s%s\n", config->name, config->twin_of ? ", the twin of " : "",
           config->twin_of ? config->twin_of : "");
    return 1;
}

#endif /* CONV4J_TEST_CONFIG_H */

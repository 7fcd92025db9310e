/*
 * The algorithms in the order AUTO tries them; a forced algorithm tries only
 * its own rows. The reference accepts everything, so AUTO always finds one.
 * Each row is ISA-neutral: the plan's ISA config supplies its kernels. Rows
 * whose algorithm predates the configs get a thin adapter here. Each
 * propagation has its own table, like oneDNN's forward / backward data /
 * backward weights primitives; the forward one is first.
 */
#include "internal.h"

#include "config/isa_config.h"
#include "depthwise/f32_dwconv.h"
#include "direct/f32_conv_direct.h"
#include "gemm/f32_conv_gemm.h"
#include "gemm/f32_conv_gemm_backward.h"
#include "reference/f32_conv_reference.h"
#include "winograd/f32_conv_winograd.h"

static const char *dwconv_reject(const conv4j_problem *p, const conv4j_isa_config *config)
{
    (void)config;
    return conv4j_dwconv_reject(p);
}

static size_t dwconv_packed_count(const conv4j_problem *p, const conv4j_isa_config *config)
{
    (void)config;
    return conv4j_dwconv_packed_kernel_count(p);
}

static void dwconv_pack(const conv4j_problem *p, const conv4j_isa_config *config,
                        const float *kernel, float *packed)
{
    (void)config;
    conv4j_dwconv_pack(p, kernel, packed);
}

static size_t no_workspace(const conv4j_problem *p, const conv4j_isa_config *config,
                           int32_t slices)
{
    (void)p;
    (void)config;
    (void)slices;
    return 0;
}

static void dwconv_run(const conv4j_problem *p, const conv4j_isa_config *config,
                       const float *packed, const float *bias, const float *input, float *output,
                       void *workspace, int32_t threads)
{
    (void)workspace;
    conv4j_dwconv_run_with(p, config->dwconv_row, config->dwconv_plane, packed, bias, input,
                           output, threads);
}

static const char *direct_reject(const conv4j_problem *p, const conv4j_isa_config *config)
{
    (void)config;
    return conv4j_direct_reject(p);
}

static size_t kernel_sized(const conv4j_problem *p, const conv4j_isa_config *config)
{
    (void)config;
    return (size_t)conv4j_kernel_count(p);
}

static void direct_pack(const conv4j_problem *p, const conv4j_isa_config *config,
                        const float *kernel, float *packed)
{
    (void)config;
    conv4j_direct_pack(p, kernel, packed);
}

static void direct_run(const conv4j_problem *p, const conv4j_isa_config *config,
                       const float *packed, const float *bias, const float *input, float *output,
                       void *workspace, int32_t threads)
{
    (void)workspace;
    config->direct_run(p, packed, bias, input, output, threads);
}

static const char *reference_reject(const conv4j_problem *p, const conv4j_isa_config *config)
{
    (void)p;
    (void)config;
    return NULL;
}

static void reference_pack(const conv4j_problem *p, const conv4j_isa_config *config,
                           const float *kernel, float *packed)
{
    (void)config;
    conv4j_reference_pack(p, kernel, packed);
}

static void reference_run(const conv4j_problem *p, const conv4j_isa_config *config,
                          const float *packed, const float *bias, const float *input,
                          float *output, void *workspace, int32_t threads)
{
    (void)config;
    (void)workspace;
    (void)threads; /* single-threaded by definition */
    conv4j_reference_compute(p, input, packed, bias, output);
}

static const conv4j_algorithm_entry table[] = {
    /* Depthwise first: the only kernel that vectorizes a groups == Cin
     * problem over its channels. */
    {"dwconv", CONV4J_ALGORITHM_DEPTHWISE, dwconv_reject, dwconv_packed_count, dwconv_pack,
     no_workspace, dwconv_run, NULL, 0},
    /* Winograd (opt-in: plan.c skips it under AUTO without the allow flag)
     * does about a quarter of the multiplications where it applies. */
    {"winograd_f4x4_3x3", CONV4J_ALGORITHM_WINOGRAD, conv4j_winograd_reject,
     conv4j_winograd_packed_kernel_count, conv4j_winograd_pack, conv4j_winograd_workspace_size,
     conv4j_winograd_run, NULL, 0},
    /* GEMM ahead of direct: its register-blocked micro-kernel wins wherever
     * it has two or more output channels per group to fill a tile (AUTO
     * leaves depthwise and Cout/g == 1 to the others). */
    {"gemm_1x1", CONV4J_ALGORITHM_GEMM, conv4j_gemm_1x1_reject, conv4j_gemm_packed_kernel_count,
     conv4j_gemm_pack, conv4j_gemm_workspace_size, conv4j_gemm_run, NULL, 0},
    {"igemm", CONV4J_ALGORITHM_GEMM, conv4j_igemm_reject, conv4j_gemm_packed_kernel_count,
     conv4j_gemm_pack, conv4j_gemm_workspace_size, conv4j_gemm_run, NULL, 0},
    {"direct", CONV4J_ALGORITHM_DIRECT, direct_reject, kernel_sized, direct_pack, no_workspace,
     direct_run, NULL, 0},
    {"reference", CONV4J_ALGORITHM_REFERENCE, reference_reject, kernel_sized, reference_pack,
     no_workspace, reference_run, NULL, 0},
};

const conv4j_algorithm_entry *conv4j_algorithm_table(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}

static void reference_backward_data_run(const conv4j_problem *p, const conv4j_isa_config *config,
                                        const float *packed, const float *bias,
                                        const float *input, float *output, void *workspace,
                                        int32_t threads)
{
    (void)config;
    (void)workspace;
    (void)threads;
    conv4j_reference_backward_data(p, input, packed, bias, output);
}

/* Backward data: the phases on the forward GEMM, then the plain loop. */
static const conv4j_algorithm_entry backward_data_table[] = {
    {"bwd_data_gemm", CONV4J_ALGORITHM_GEMM, conv4j_bwd_data_gemm_reject,
     conv4j_bwd_data_gemm_packed_kernel_count, conv4j_bwd_data_gemm_pack,
     conv4j_bwd_data_gemm_workspace_size, conv4j_bwd_data_gemm_run, NULL, 1},
    {"bwd_data_reference", CONV4J_ALGORITHM_REFERENCE, reference_reject, kernel_sized,
     reference_pack, no_workspace, reference_backward_data_run, NULL, 0},
};

static void reference_backward_weights_run(const conv4j_problem *p,
                                           const conv4j_isa_config *config, const float *input,
                                           const float *output_gradient, float *kernel_gradient,
                                           float *bias_gradient, void *workspace, int32_t threads)
{
    (void)config;
    (void)workspace;
    (void)threads;
    conv4j_reference_backward_weights(p, input, output_gradient, kernel_gradient, bias_gradient);
}

/* Backward weights: no packing (the plan has no kernel). */
static const conv4j_algorithm_entry backward_weights_table[] = {
    {"bwd_weights_gemm", CONV4J_ALGORITHM_GEMM, conv4j_bwd_weights_gemm_reject, NULL, NULL,
     conv4j_bwd_weights_gemm_workspace_size, NULL, conv4j_bwd_weights_gemm_run, 0},
    {"bwd_weights_reference", CONV4J_ALGORITHM_REFERENCE, reference_reject, NULL, NULL,
     no_workspace, NULL, reference_backward_weights_run, 0},
};

const conv4j_algorithm_entry *conv4j_algorithm_table_for(conv4j_propagation propagation,
                                                         size_t *count)
{
    switch (propagation) {
    case CONV4J_PROPAGATION_BACKWARD_DATA:
        *count = sizeof backward_data_table / sizeof backward_data_table[0];
        return backward_data_table;
    case CONV4J_PROPAGATION_BACKWARD_WEIGHTS:
        *count = sizeof backward_weights_table / sizeof backward_weights_table[0];
        return backward_weights_table;
    case CONV4J_PROPAGATION_FORWARD:
        break;
    }
    return conv4j_algorithm_table(count);
}

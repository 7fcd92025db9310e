/*
 * The ISA configs (see isa_config.h), widest first: the dispatch takes the
 * first non-twin entry whose level is active. Adding an ISA is one entry here.
 */
#include "config/isa_config.h"

#include <pthread.h>
#include <string.h>

#include "cpu/cpu_features.h"
#include "cpu/peak.h"
#include "cpu/peak_avx512.h"
#include "gemm/f32_igemm_8x12.h"
#include "gemm/f32_igemm_x32.h"

static const conv4j_isa_config configs[] = {
#ifdef CONV4J_HAVE_AVX512_KERNELS
    /* 14x32 fills 28 of the 32 zmm registers with accumulators (measured
     * against 12x32 and 8x32: equal on large M, 8 % ahead at M = 49). */
    {
        .name = "avx512",
        .isa = CONV4J_ISA_AVX512,
        .twin_of = NULL,
        .gemm_mr = CONV4J_F32_IGEMM_X32_MR,
        .gemm_nr = CONV4J_F32_IGEMM_X32_NR,
        .igemm = conv4j_f32_igemm_14x32__avx512,
        .winograd_lanes = 16,
        .winograd_input = conv4j_winograd_input_block16__avx512,
        .winograd_output = conv4j_winograd_output_block16__avx512,
        .dwconv_row = conv4j_dwconv_row__avx512,
        .dwconv_plane = conv4j_dwconv_plane__avx512,
        .dwconv_volume = conv4j_dwconv_volume_row__avx512,
        .direct_run = conv4j_direct_run__avx512,
        /* The 8x8 AVX2 transpose: the 16x16 one is no faster on the
         * adapter's copies (44 against 62 us, 32 x 12544). */
        .transpose_tile = conv4j_transpose_tile__avx2,
        .peak_chunk = conv4j_peak_chunk_avx512,
    },
#endif
#ifdef CONV4J_HAVE_AVX2_KERNELS
    {
        .name = "avx2",
        .isa = CONV4J_ISA_AVX2,
        .twin_of = NULL,
        .gemm_mr = CONV4J_F32_IGEMM_6X16_MR,
        .gemm_nr = CONV4J_F32_IGEMM_6X16_NR,
        .igemm = conv4j_f32_igemm_6x16__avx2,
        .winograd_lanes = 8,
        .winograd_input = conv4j_winograd_input_block8__avx2,
        .winograd_output = conv4j_winograd_output_block8__avx2,
        .dwconv_row = conv4j_dwconv_row__avx2,
        .dwconv_plane = conv4j_dwconv_plane__avx2,
        .dwconv_volume = conv4j_dwconv_volume_row__avx2,
        .direct_run = conv4j_direct_run__avx2,
        .transpose_tile = conv4j_transpose_tile__avx2,
        .peak_chunk = conv4j_peak_chunk_avx2,
    },
#endif
#ifdef CONV4J_HAVE_NEON_KERNELS
    /* AArch64 Advanced SIMD: 8x12 fills 24 of the 32 q registers with
     * accumulators (gemm/f32_igemm_8x12.h); 4-lane Winograd transforms and
     * depthwise vectors; 4x4 register transposes. */
    {
        .name = "neon",
        .isa = CONV4J_ISA_NEON,
        .twin_of = NULL,
        .gemm_mr = CONV4J_F32_IGEMM_8X12_MR,
        .gemm_nr = CONV4J_F32_IGEMM_8X12_NR,
        .igemm = conv4j_f32_igemm_8x12__neon,
        .winograd_lanes = 4,
        .winograd_input = conv4j_winograd_input_block4__neon,
        .winograd_output = conv4j_winograd_output_block4__neon,
        .dwconv_row = conv4j_dwconv_row__neon,
        .dwconv_plane = conv4j_dwconv_plane__neon,
        .dwconv_volume = conv4j_dwconv_volume_row__neon,
        .direct_run = conv4j_direct_run__neon,
        .transpose_tile = conv4j_transpose_tile__neon,
        .peak_chunk = conv4j_peak_chunk_neon,
    },
#endif
    /* The portable config, and the avx2 config's twin: the same 6x16 tile,
     * packing and loop order in plain C. */
    {
        .name = "scalar",
        .isa = CONV4J_ISA_SCALAR,
        .twin_of = NULL,
        .gemm_mr = CONV4J_F32_IGEMM_6X16_MR,
        .gemm_nr = CONV4J_F32_IGEMM_6X16_NR,
        .igemm = conv4j_f32_igemm_6x16__scalar,
        .winograd_lanes = 8,
        .winograd_input = conv4j_winograd_input_block8__scalar,
        .winograd_output = conv4j_winograd_output_block8__scalar,
        .dwconv_row = conv4j_dwconv_row__scalar,
        .dwconv_plane = conv4j_dwconv_plane__scalar,
        .dwconv_volume = conv4j_dwconv_volume_row__scalar,
        .direct_run = conv4j_direct_run__scalar,
        .transpose_tile = conv4j_transpose_tile__scalar,
        .peak_chunk = conv4j_peak_chunk_scalar,
    },
    /* The avx512 config's twin: its 14x32 tile and 32-column packing, its
     * 16-lane Winograd transforms, and the depthwise rows that sum in the
     * avx512 rows' order, all in portable C, so any machine tests them. */
    {
        .name = "avx512-twin",
        .isa = CONV4J_ISA_SCALAR,
        .twin_of = "avx512",
        .gemm_mr = CONV4J_F32_IGEMM_X32_MR,
        .gemm_nr = CONV4J_F32_IGEMM_X32_NR,
        .igemm = conv4j_f32_igemm_14x32__scalar,
        .winograd_lanes = 16,
        .winograd_input = conv4j_winograd_input_block16__scalar,
        .winograd_output = conv4j_winograd_output_block16__scalar,
        .dwconv_row = conv4j_dwconv_row__scalar,
        .dwconv_plane = conv4j_dwconv_plane__scalar,
        .dwconv_volume = conv4j_dwconv_volume_row__scalar,
        .direct_run = conv4j_direct_run__scalar,
        .transpose_tile = conv4j_transpose_tile__scalar,
        .peak_chunk = conv4j_peak_chunk_scalar,
    },
    /* The neon config's twin: its 8x12 tile and 12-column packing, its
     * 4-lane Winograd transforms, in portable C, so x86 CI tests them too.
     * The depthwise rows sum in the order every pair shares. */
    {
        .name = "neon-twin",
        .isa = CONV4J_ISA_SCALAR,
        .twin_of = "neon",
        .gemm_mr = CONV4J_F32_IGEMM_8X12_MR,
        .gemm_nr = CONV4J_F32_IGEMM_8X12_NR,
        .igemm = conv4j_f32_igemm_8x12__scalar,
        .winograd_lanes = 4,
        .winograd_input = conv4j_winograd_input_block4__scalar,
        .winograd_output = conv4j_winograd_output_block4__scalar,
        .dwconv_row = conv4j_dwconv_row__scalar,
        .dwconv_plane = conv4j_dwconv_plane__scalar,
        .dwconv_volume = conv4j_dwconv_volume_row__scalar,
        .direct_run = conv4j_direct_run__scalar,
        .transpose_tile = conv4j_transpose_tile__scalar,
        .peak_chunk = conv4j_peak_chunk_scalar,
    },
};

#define CONFIG_COUNT (sizeof configs / sizeof configs[0])

static const conv4j_isa_config *dispatched;
static const conv4j_isa_config *for_tests;
static pthread_once_t dispatch_once = PTHREAD_ONCE_INIT;

int conv4j_isa_config_runnable(const conv4j_isa_config *config)
{
    return (conv4j_isa_levels_active() & CONV4J_ISA_BIT(config->isa)) != 0;
}

static void dispatch(void)
{
    for (size_t i = 0; i < CONFIG_COUNT; ++i) {
        if (configs[i].twin_of == NULL && conv4j_isa_config_runnable(&configs[i])) {
            dispatched = &configs[i];
            return;
        }
    }
    dispatched = conv4j_isa_config_named("scalar"); /* unreachable: scalar is always runnable */
}

const conv4j_isa_config *conv4j_isa_config_active(void)
{
    if (for_tests != NULL) {
        return for_tests;
    }
    pthread_once(&dispatch_once, dispatch);
    return dispatched;
}

size_t conv4j_isa_config_count(void)
{
    return CONFIG_COUNT;
}

const conv4j_isa_config *conv4j_isa_config_at(size_t index)
{
    return index < CONFIG_COUNT ? &configs[index] : NULL;
}

const conv4j_isa_config *conv4j_isa_config_named(const char *name)
{
    for (size_t i = 0; i < CONFIG_COUNT; ++i) {
        if (strcmp(configs[i].name, name) == 0) {
            return &configs[i];
        }
    }
    return NULL;
}

void conv4j_isa_config_set_for_tests(const conv4j_isa_config *config)
{
    for_tests = config;
}

/* The ISA in use is the active config's: a level the CPU has but this build
 * has no kernels for is not in use. */
conv4j_isa conv4j_active_isa(void)
{
    return conv4j_isa_config_active()->isa;
}

/*
 * One micro-kernel configuration per ISA, chosen once from the CPU features
 * (XNNPACK's gemm-config is the model). A config names everything
 * ISA-specific the algorithms use: the GEMM tile (MR rows x NR columns, the
 * packed-B panel width) and its micro-kernel, the Winograd transforms, the
 * depthwise and direct loops, the layout transposes and the FMA probe.
 *
 * The one way to make an ISA variant of a kernel: a file `name__isa.c`,
 * compiled with that ISA's flags (native/CMakeLists.txt), reached only
 * through its config. The algorithm drivers (gemm/, winograd/, depthwise/,
 * direct/, layout/) are compiled once at baseline flags and take every
 * ISA-specific piece from the config the plan was made with. Adding an ISA
 * means: its kernel files, one entry in isa_config.c, their CMake flags.
 *
 * A twin is a portable config with the same packing and loop order as an
 * ISA's own (the avx512 kernels' scalar twin): the dispatch never chooses it,
 * the tests run it on any machine, so a host without that ISA still checks
 * the packing, tiling and tails its kernels rely on.
 */
#ifndef CONV4J_ISA_CONFIG_H
#define CONV4J_ISA_CONFIG_H

#include <stdint.h>

#include "conv4j.h"
#include "depthwise/f32_dwconv.h"
#include "direct/f32_conv_direct.h"
#include "gemm/f32_gemm.h"
#include "layout/transpose.h"
#include "winograd/f32_winograd_transform.h"

typedef struct conv4j_isa_config {
    const char *name;   /* "scalar", "avx2", "avx512", "neon"; twins: "avx512-twin", "neon-twin" */
    conv4j_isa isa;     /* the level its kernels need (scalar for twins) */
    const char *twin_of; /* NULL, or the config whose packing and loops this one copies */

    /* GEMM: tiles of gemm_mr rows by panels of gemm_nr packed-B columns. */
    int64_t gemm_mr;
    int64_t gemm_nr;
    conv4j_f32_igemm_tile_fn igemm;

    /* Winograd transforms over winograd_lanes channels per vector. */
    int64_t winograd_lanes;
    conv4j_winograd_input_block_fn winograd_input;
    conv4j_winograd_output_block_fn winograd_output;

    /* Depthwise rows: channels_last (a row per (n, oh)) and channels_first
     * (a plane per (n, c)). */
    conv4j_dwconv_row_fn dwconv_row;
    conv4j_dwconv_row_fn dwconv_plane;
    /* ... and rows (n, od, oh) of rank 3 with a depth axis, channels_last. */
    conv4j_dwconv_row_fn dwconv_volume;

    /* The direct loop. */
    conv4j_direct_run_fn direct_run;

    /* Tile transposes for the channels_first adapter. */
    conv4j_transpose_tile_fn transpose_tile;

    /* The FMA-throughput probe at this ISA's vector width. */
    int64_t (*peak_chunk)(int64_t iterations, float *sink);
} conv4j_isa_config;

/* The config of the widest level the CPU, the OS and CONV4J_MAX_ISA allow;
 * chosen once (or the one a test set). */
const conv4j_isa_config *conv4j_isa_config_active(void);

/* Every config built into the library, twins included, for tests. */
size_t conv4j_isa_config_count(void);
const conv4j_isa_config *conv4j_isa_config_at(size_t index);
const conv4j_isa_config *conv4j_isa_config_named(const char *name);
/* Whether this machine may run the config's kernels (its level is active). */
int conv4j_isa_config_runnable(const conv4j_isa_config *config);

/* Tests only, single-threaded, before plans are made: plans made from now on
 * use config (NULL restores the dispatch's choice). */
void conv4j_isa_config_set_for_tests(const conv4j_isa_config *config);

#endif /* CONV4J_ISA_CONFIG_H */

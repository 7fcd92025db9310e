/*
 * The Winograd F(4x4, 3x3) transforms, the per-ISA part of
 * f32_conv_winograd.c: the input transform of a block of tiles into V and
 * the output transform of M (+ bias, relu) into the output. One body
 * (f32_winograd_transform_body.h) is compiled per ISA and lane count by the
 * f32_winograd_transform<lanes>__<isa>.c files and reached through the ISA
 * config.
 */
#ifndef CONV4J_F32_WINOGRAD_TRANSFORM_H
#define CONV4J_F32_WINOGRAD_TRANSFORM_H

#include "internal.h"

#define CONV4J_WINOGRAD_TILE_OUT 4   /* output tile edge m */
#define CONV4J_WINOGRAD_TILE_IN 6    /* input tile edge m + r - 1 */
#define CONV4J_WINOGRAD_POSITIONS 36 /* TILE_IN * TILE_IN GEMMs */

/* Geometry of one call (f32_conv_winograd.c computes it). */
typedef struct conv4j_winograd_layout {
    int64_t tiles_h, tiles_w, tiles;   /* tiles per image */
    int64_t padded_cout;               /* Cout rounded up to the GEMM's NR columns */
    int64_t v_stride;                  /* floats per V row: Cin rounded up to the lanes */
    int64_t max_block_tiles;           /* sizes a workspace slice */
    size_t slice_bytes;
} conv4j_winograd_layout;

/* Tiles [first_tile, first_tile + tiles) of the batch into
 * V[36][tiles][v_stride] (zeros for padding). */
typedef void (*conv4j_winograd_input_block_fn)(const conv4j_problem *p,
                                               const conv4j_winograd_layout *l,
                                               const float *input, int64_t first_tile,
                                               int64_t tiles, float *v);
/* M[36][tiles][m_stride] (output channels from co_begin) -> output channels
 * [co_begin, co_end) of those tiles, with bias and the activation. */
typedef void (*conv4j_winograd_output_block_fn)(const conv4j_problem *p,
                                                const conv4j_winograd_layout *l, const float *m,
                                                int64_t m_stride, const float *bias,
                                                float *output, int64_t first_tile, int64_t tiles,
                                                int64_t co_begin, int64_t co_end);

#define CONV4J_DECLARE_WINOGRAD_TRANSFORMS(lanes, isa)                                          \
    void conv4j_winograd_input_block##lanes##__##isa(const conv4j_problem *p,                   \
                                                     const conv4j_winograd_layout *l,           \
                                                     const float *input, int64_t first_tile,    \
                                                     int64_t tiles, float *v);                  \
    void conv4j_winograd_output_block##lanes##__##isa(                                          \
        const conv4j_problem *p, const conv4j_winograd_layout *l, const float *m,               \
        int64_t m_stride, const float *bias, float *output, int64_t first_tile, int64_t tiles,  \
        int64_t co_begin, int64_t co_end);

CONV4J_DECLARE_WINOGRAD_TRANSFORMS(4, scalar)
CONV4J_DECLARE_WINOGRAD_TRANSFORMS(8, scalar)
CONV4J_DECLARE_WINOGRAD_TRANSFORMS(16, scalar)
#ifdef CONV4J_HAVE_AVX2_KERNELS
CONV4J_DECLARE_WINOGRAD_TRANSFORMS(8, avx2)
#endif
#ifdef CONV4J_HAVE_AVX512_KERNELS
CONV4J_DECLARE_WINOGRAD_TRANSFORMS(16, avx512)
#endif
#ifdef CONV4J_HAVE_NEON_KERNELS
CONV4J_DECLARE_WINOGRAD_TRANSFORMS(4, neon)
#endif

#endif /* CONV4J_F32_WINOGRAD_TRANSFORM_H */

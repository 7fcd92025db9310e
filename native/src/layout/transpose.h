/* Tile transposes for the layout adapter: dst[c][r] = src[r][c] for
 * r in [r0, r1), c in [c0, c1) of a rows x cols matrix (dst is cols x rows).
 * Nothing outside the tile is read or written. One variant per ISA, each in
 * transpose__<isa>.c compiled with that ISA's flags, all of this signature. */
#ifndef CONV4J_TRANSPOSE_H
#define CONV4J_TRANSPOSE_H

#include <stdint.h>

typedef void (*conv4j_transpose_tile_fn)(const float *src, float *dst, int64_t rows, int64_t cols,
                                         int64_t r0, int64_t c0, int64_t r1, int64_t c1);

void conv4j_transpose_tile__scalar(const float *src, float *dst, int64_t rows, int64_t cols,
                                   int64_t r0, int64_t c0, int64_t r1, int64_t c1);
#ifdef CONV4J_HAVE_AVX2_KERNELS
void conv4j_transpose_tile__avx2(const float *src, float *dst, int64_t rows, int64_t cols,
                                 int64_t r0, int64_t c0, int64_t r1, int64_t c1);
#endif
#ifdef CONV4J_HAVE_AVX512_KERNELS
void conv4j_transpose_tile__avx512(const float *src, float *dst, int64_t rows, int64_t cols,
                                   int64_t r0, int64_t c0, int64_t r1, int64_t c1);
#endif
#ifdef CONV4J_HAVE_NEON_KERNELS
void conv4j_transpose_tile__neon(const float *src, float *dst, int64_t rows, int64_t cols,
                                 int64_t r0, int64_t c0, int64_t r1, int64_t c1);
#endif

#endif /* CONV4J_TRANSPOSE_H */

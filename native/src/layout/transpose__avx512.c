/*
 * The layout adapter's transpose with AVX-512 F (this file alone gets the
 * -mavx512* flags): 16 x 16 blocks transposed in zmm registers. The ragged
 * edges use the same block with opmasks: only the first nr source rows are
 * loaded, each over its first nc columns, and only the first nc destination
 * rows are stored, each over its first nr floats, so nothing outside the
 * tile is read or written.
 */
#include <immintrin.h>

#include "layout/transpose.h"

#define TR_INLINE static inline __attribute__((always_inline))

/* dst[j][i] = src[i][j] for i < nr, j < nc (both in 1..16); full: nr = nc = 16. */
TR_INLINE void transpose_16x16(const float *src, int64_t src_stride, float *dst,
                               int64_t dst_stride, int nr, int nc, const int full)
{
    const __mmask16 column_mask = (__mmask16)((1u << nc) - 1u);
    const __mmask16 row_mask = (__mmask16)((1u << nr) - 1u);
    __m512 r[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
        if (full) {
            r[i] = _mm512_loadu_ps(src + i * src_stride);
        } else {
            r[i] = i < nr ? _mm512_maskz_loadu_ps(column_mask, src + i * src_stride)
                          : _mm512_setzero_ps();
        }
    }
    /* Pairs of rows interleaved: t[2k], t[2k+1] from rows 2k, 2k+1. */
    __m512 t[16];
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
        t[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
    }
    /* u[4g + m], 128-bit lane L: column 4L + m of rows 4g .. 4g + 3. */
    __m512 u[16];
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {
        u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xee);
        u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xee);
    }
    /* Gather lane L of u[m], u[4 + m], u[8 + m], u[12 + m] into column 4L + m. */
#pragma GCC unroll 4
    for (int m = 0; m < 4; ++m) {
        const __m512 even_a = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88);  /* lanes 0, 2 */
        const __m512 odd_a = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xdd);   /* lanes 1, 3 */
        const __m512 even_b = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
        const __m512 odd_b = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xdd);
        const __m512 col[4] = {
            _mm512_shuffle_f32x4(even_a, even_b, 0x88), /* column m */
            _mm512_shuffle_f32x4(odd_a, odd_b, 0x88),   /* column 4 + m */
            _mm512_shuffle_f32x4(even_a, even_b, 0xdd), /* column 8 + m */
            _mm512_shuffle_f32x4(odd_a, odd_b, 0xdd),   /* column 12 + m */
        };
#pragma GCC unroll 4
        for (int l = 0; l < 4; ++l) {
            const int j = 4 * l + m;
            if (full) {
                _mm512_storeu_ps(dst + j * dst_stride, col[l]);
            } else if (j < nc) {
                _mm512_mask_storeu_ps(dst + j * dst_stride, row_mask, col[l]);
            }
        }
    }
}

void conv4j_transpose_tile__avx512(const float *src, float *dst, int64_t rows, int64_t cols,
                                   int64_t r0, int64_t c0, int64_t r1, int64_t c1)
{
    /* Down the source columns, so each destination line fills contiguously. */
    for (int64_t c = c0; c < c1; c += 16) {
        const int nc = c1 - c < 16 ? (int)(c1 - c) : 16;
        for (int64_t r = r0; r < r1; r += 16) {
            const int nr = r1 - r < 16 ? (int)(r1 - r) : 16;
            if (nr == 16 && nc == 16) {
                transpose_16x16(src + r * cols + c, cols, dst + c * rows + r, rows, 16, 16, 1);
            } else {
                transpose_16x16(src + r * cols + c, cols, dst + c * rows + r, rows, nr, nc, 0);
            }
        }
    }
}

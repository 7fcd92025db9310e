/*
 * The layout adapter's transpose with AVX2 (this file alone gets -mavx2):
 * 8 x 8 blocks transposed in registers, the ragged edges element by element.
 */
#include <immintrin.h>

#include "layout/transpose.h"

static inline void transpose_8x8(const float *src, int64_t src_stride, float *dst,
                                 int64_t dst_stride)
{
    const __m256 r0 = _mm256_loadu_ps(src + 0 * src_stride);
    const __m256 r1 = _mm256_loadu_ps(src + 1 * src_stride);
    const __m256 r2 = _mm256_loadu_ps(src + 2 * src_stride);
    const __m256 r3 = _mm256_loadu_ps(src + 3 * src_stride);
    const __m256 r4 = _mm256_loadu_ps(src + 4 * src_stride);
    const __m256 r5 = _mm256_loadu_ps(src + 5 * src_stride);
    const __m256 r6 = _mm256_loadu_ps(src + 6 * src_stride);
    const __m256 r7 = _mm256_loadu_ps(src + 7 * src_stride);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1);
    const __m256 t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3);
    const __m256 t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5);
    const __m256 t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7);
    const __m256 t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    _mm256_storeu_ps(dst + 0 * dst_stride, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + 1 * dst_stride, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * dst_stride, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * dst_stride, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * dst_stride, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * dst_stride, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * dst_stride, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * dst_stride, _mm256_permute2f128_ps(u3, u7, 0x31));
}

void conv4j_transpose_tile__avx2(const float *src, float *dst, int64_t rows, int64_t cols,
                                 int64_t r0, int64_t c0, int64_t r1, int64_t c1)
{
    const int64_t r8 = r0 + (r1 - r0) / 8 * 8;
    const int64_t c8 = c0 + (c1 - c0) / 8 * 8;
    /* Down the source columns, so each destination line fills contiguously. */
    for (int64_t c = c0; c < c8; c += 8) {
        for (int64_t r = r0; r < r8; r += 8) {
            transpose_8x8(src + r * cols + c, cols, dst + c * rows + r, rows);
        }
    }
    /* The ragged right columns and bottom rows. */
    for (int64_t c = c8; c < c1; ++c) {
        for (int64_t r = r0; r < r1; ++r) {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
    for (int64_t c = c0; c < c8; ++c) {
        for (int64_t r = r8; r < r1; ++r) {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

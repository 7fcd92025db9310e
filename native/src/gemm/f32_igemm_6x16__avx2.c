/*
 * The AVX2+FMA micro-kernel: 6 rows x 16 columns in 12 ymm accumulators; per
 * step of k, two loads of packed B and one broadcast of A per row. A column
 * tail of at most 8 runs an 8-wide copy (half the FMAs); C tails use masked
 * loads and stores, so nothing outside the m x n tile is touched. Compiled
 * with -mavx2 -mfma (CMake, x86-64 only).
 */
#include "gemm/f32_gemm.h"

#include <immintrin.h>

#define MR CONV4J_F32_IGEMM_6X16_MR
#define NR CONV4J_F32_IGEMM_6X16_NR

/* Unrolling the k loop trims its counter and branch work, which matters
 * when k is short (a 1x1 layer with 64 input channels); the order of the
 * FMAs, and so every sum, stays the same. */
#if defined(__clang__)
#define UNROLL_K _Pragma("unroll 4")
#elif defined(__GNUC__)
#define UNROLL_K _Pragma("GCC unroll 4")
#else
#define UNROLL_K
#endif

/* mask_table + 8 - count: the first count lanes set. */
static const int32_t mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

static inline __m256i lane_mask(int64_t count)
{
    return _mm256_loadu_si256((const __m256i *)(mask_table + 8 - count));
}

/* One row of 8 columns (count lanes valid) through the epilogue. */
static inline void store_8(float *out, __m256 sum, const float *bias, int64_t count,
                           const conv4j_f32_gemm_epilogue *epilogue)
{
    if (count >= 8) {
        if (epilogue->accumulate) {
            sum = _mm256_add_ps(_mm256_loadu_ps(out), sum);
        }
        if (bias != NULL) {
            sum = _mm256_add_ps(sum, _mm256_loadu_ps(bias));
        }
        if (epilogue->relu) {
            /* max(0, v) returns its second operand for NaN: NaN passes. */
            sum = _mm256_max_ps(_mm256_setzero_ps(), sum);
        }
        _mm256_storeu_ps(out, sum);
    } else if (count > 0) {
        const __m256i mask = lane_mask(count);
        if (epilogue->accumulate) {
            sum = _mm256_add_ps(_mm256_maskload_ps(out, mask), sum);
        }
        if (bias != NULL) {
            sum = _mm256_add_ps(sum, _mm256_maskload_ps(bias, mask));
        }
        if (epilogue->relu) {
            sum = _mm256_max_ps(_mm256_setzero_ps(), sum);
        }
        _mm256_maskstore_ps(out, mask, sum);
    }
}

/* Columns [0, width) of one 16-wide panel, width in (8, 16]. */
static inline void panel_16(int64_t m, int64_t width, int64_t segments, int64_t segment_length,
                            const float *const *a, const float *b, float *c, int64_t ldc,
                            const float *bias, const conv4j_f32_gemm_epilogue *epilogue)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int64_t s = 0; s < segments; ++s) {
        const float *a0 = a[s * MR + 0];
        const float *a1 = a[s * MR + 1];
        const float *a2 = a[s * MR + 2];
        const float *a3 = a[s * MR + 3];
        const float *a4 = a[s * MR + 4];
        const float *a5 = a[s * MR + 5];
        UNROLL_K
        for (int64_t p = 0; p < segment_length; ++p) {
            const __m256 b0 = _mm256_loadu_ps(b);
            const __m256 b1 = _mm256_loadu_ps(b + 8);
            b += NR;
            __m256 v = _mm256_broadcast_ss(a0 + p);
            c00 = _mm256_fmadd_ps(v, b0, c00);
            c01 = _mm256_fmadd_ps(v, b1, c01);
            v = _mm256_broadcast_ss(a1 + p);
            c10 = _mm256_fmadd_ps(v, b0, c10);
            c11 = _mm256_fmadd_ps(v, b1, c11);
            v = _mm256_broadcast_ss(a2 + p);
            c20 = _mm256_fmadd_ps(v, b0, c20);
            c21 = _mm256_fmadd_ps(v, b1, c21);
            v = _mm256_broadcast_ss(a3 + p);
            c30 = _mm256_fmadd_ps(v, b0, c30);
            c31 = _mm256_fmadd_ps(v, b1, c31);
            v = _mm256_broadcast_ss(a4 + p);
            c40 = _mm256_fmadd_ps(v, b0, c40);
            c41 = _mm256_fmadd_ps(v, b1, c41);
            v = _mm256_broadcast_ss(a5 + p);
            c50 = _mm256_fmadd_ps(v, b0, c50);
            c51 = _mm256_fmadd_ps(v, b1, c51);
        }
    }
    const float *bias_high = bias == NULL ? NULL : bias + 8;
    if (m == MR && width == NR) {
        /* The common full tile: stores straight from the accumulators, no
         * spill to an indexable array. */
        store_8(c, c00, bias, 8, epilogue);
        store_8(c + 8, c01, bias_high, 8, epilogue);
        store_8(c + ldc, c10, bias, 8, epilogue);
        store_8(c + ldc + 8, c11, bias_high, 8, epilogue);
        store_8(c + 2 * ldc, c20, bias, 8, epilogue);
        store_8(c + 2 * ldc + 8, c21, bias_high, 8, epilogue);
        store_8(c + 3 * ldc, c30, bias, 8, epilogue);
        store_8(c + 3 * ldc + 8, c31, bias_high, 8, epilogue);
        store_8(c + 4 * ldc, c40, bias, 8, epilogue);
        store_8(c + 4 * ldc + 8, c41, bias_high, 8, epilogue);
        store_8(c + 5 * ldc, c50, bias, 8, epilogue);
        store_8(c + 5 * ldc + 8, c51, bias_high, 8, epilogue);
        return;
    }
    const __m256 sums[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                                {c30, c31}, {c40, c41}, {c50, c51}};
    for (int64_t i = 0; i < m; ++i) {
        float *out = c + i * ldc;
        store_8(out, sums[i][0], bias, 8, epilogue);
        store_8(out + 8, sums[i][1], bias_high, width - 8, epilogue);
    }
}

/* Columns [0, width) of one 16-wide panel, width in (8, 16], for a tile of
 * m <= 3 rows (the last tile of a small image): half the FMAs of panel_16,
 * each row's sum in the same order. */
static inline void panel_16_short(int64_t m, int64_t width, int64_t segments,
                                  int64_t segment_length, const float *const *a,
                                  const float *b, float *c, int64_t ldc, const float *bias,
                                  const conv4j_f32_gemm_epilogue *epilogue)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    for (int64_t s = 0; s < segments; ++s) {
        const float *a0 = a[s * MR + 0];
        const float *a1 = a[s * MR + 1];
        const float *a2 = a[s * MR + 2];
        UNROLL_K
        for (int64_t p = 0; p < segment_length; ++p) {
            const __m256 b0 = _mm256_loadu_ps(b);
            const __m256 b1 = _mm256_loadu_ps(b + 8);
            b += NR;
            __m256 v = _mm256_broadcast_ss(a0 + p);
            c00 = _mm256_fmadd_ps(v, b0, c00);
            c01 = _mm256_fmadd_ps(v, b1, c01);
            v = _mm256_broadcast_ss(a1 + p);
            c10 = _mm256_fmadd_ps(v, b0, c10);
            c11 = _mm256_fmadd_ps(v, b1, c11);
            v = _mm256_broadcast_ss(a2 + p);
            c20 = _mm256_fmadd_ps(v, b0, c20);
            c21 = _mm256_fmadd_ps(v, b1, c21);
        }
    }
    const __m256 sums[3][2] = {{c00, c01}, {c10, c11}, {c20, c21}};
    const float *bias_high = bias == NULL ? NULL : bias + 8;
    for (int64_t i = 0; i < m; ++i) {
        float *out = c + i * ldc;
        store_8(out, sums[i][0], bias, 8, epilogue);
        store_8(out + 8, sums[i][1], bias_high, width - 8, epilogue);
    }
}

/* Columns [0, width) of a panel whose width is at most 8: the low half only. */
static inline void panel_8(int64_t m, int64_t width, int64_t segments, int64_t segment_length,
                           const float *const *a, const float *b, float *c, int64_t ldc,
                           const float *bias, const conv4j_f32_gemm_epilogue *epilogue)
{
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps();
    __m256 c3 = _mm256_setzero_ps(), c4 = _mm256_setzero_ps(), c5 = _mm256_setzero_ps();
    for (int64_t s = 0; s < segments; ++s) {
        const float *a0 = a[s * MR + 0];
        const float *a1 = a[s * MR + 1];
        const float *a2 = a[s * MR + 2];
        const float *a3 = a[s * MR + 3];
        const float *a4 = a[s * MR + 4];
        const float *a5 = a[s * MR + 5];
        UNROLL_K
        for (int64_t p = 0; p < segment_length; ++p) {
            const __m256 b0 = _mm256_loadu_ps(b);
            b += NR;
            c0 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + p), b0, c0);
            c1 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + p), b0, c1);
            c2 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + p), b0, c2);
            c3 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + p), b0, c3);
            c4 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + p), b0, c4);
            c5 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + p), b0, c5);
        }
    }
    const __m256 sums[MR] = {c0, c1, c2, c3, c4, c5};
    for (int64_t i = 0; i < m; ++i) {
        store_8(c + i * ldc, sums[i], bias, width, epilogue);
    }
}

void conv4j_f32_igemm_6x16__avx2(int64_t m, int64_t n, int64_t segments, int64_t segment_length,
                                 const float *const *a, const float *packed_b, float *c,
                                 int64_t ldc, const conv4j_f32_gemm_epilogue *epilogue)
{
    const int64_t k = segments * segment_length;
    const float *bias = epilogue->bias;
    for (int64_t column = 0; column < n; column += NR) {
        const int64_t width = n - column < NR ? n - column : NR;
        const float *b = packed_b + (column / NR) * k * NR;
        const float *panel_bias = bias == NULL ? NULL : bias + column;
        if (width > 8 && m <= 3) {
            panel_16_short(m, width, segments, segment_length, a, b, c + column, ldc,
                           panel_bias, epilogue);
        } else if (width > 8) {
            panel_16(m, width, segments, segment_length, a, b, c + column, ldc, panel_bias,
                     epilogue);
        } else {
            panel_8(m, width, segments, segment_length, a, b, c + column, ldc, panel_bias,
                    epilogue);
        }
    }
}

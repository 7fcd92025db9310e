/*
 * The AVX-512 micro-kernel: MR rows x 32 columns in 2 MR zmm accumulators;
 * per step of k, two 16-float loads of packed B and one broadcast of A per
 * row, feeding two FMAs. Register budget at MR = 14: 28 accumulators, 2 B
 * vectors, the broadcasts in the rest of the 32 zmm registers.
 *
 * Tails: a panel with at most 16 columns left computes only 16 (half the
 * FMAs); a tile of m <= 12, 8, 4, 2 or 1 rows runs a copy of that many rows,
 * so a short last tile costs about what its rows need (below 4 rows the FMA
 * latency binds, yet the 1- and 2-row copies measured 20-25% faster than the
 * 4-row one). C and bias tails go through opmask loads and stores, so
 * nothing outside the m x n tile, A's extents or packed B's extent is read
 * or written. The order of the FMAs per output
 * element is plain k order whatever the copy, so every result is the same.
 *
 * Compiled with -mavx512f -mavx512vl -mavx512bw -mavx512dq -mfma (CMake,
 * x86-64 only). X32_MR and X32_NAME may be overridden on the command line
 * to build the other tile heights the benchmark compares (their a[] stride
 * is then X32_MR).
 */
#include "gemm/f32_igemm_x32.h"

#include <immintrin.h>

#ifndef X32_MR
#define X32_MR CONV4J_F32_IGEMM_X32_MR
#endif
#ifndef X32_NAME
#define X32_NAME conv4j_f32_igemm_14x32__avx512
#endif

#define MR X32_MR
#define NR CONV4J_F32_IGEMM_X32_NR

#if MR > 14 || MR < 4
#error "X32_MR must be in [4, 14]: 2 MR accumulators + 2 B vectors + broadcasts <= 32 zmm"
#endif

/* The row loops are unrolled completely (so every accumulator is one
 * register); the k loop 4 times, which trims counter and branch work when k
 * is short without changing the order of the FMAs. */
#if defined(__clang__)
#define UNROLL_ROWS _Pragma("unroll")
#define UNROLL_K _Pragma("unroll 4")
#define ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(__GNUC__)
#define UNROLL_ROWS _Pragma("GCC unroll 16")
#define UNROLL_K _Pragma("GCC unroll 4")
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define UNROLL_ROWS
#define UNROLL_K
#define ALWAYS_INLINE inline
#endif

/* One row of 16 columns through the epilogue; mask selects the valid lanes. */
static ALWAYS_INLINE void store_16(float *out, __m512 sum, const float *bias, __mmask16 mask,
                                   const conv4j_f32_gemm_epilogue *epilogue)
{
    if (mask == (__mmask16)0xFFFF) {
        if (epilogue->accumulate) {
            sum = _mm512_add_ps(_mm512_loadu_ps(out), sum);
        }
        if (bias != NULL) {
            sum = _mm512_add_ps(sum, _mm512_loadu_ps(bias));
        }
        if (epilogue->relu) {
            /* vmaxps returns its second operand when either is NaN: with v
             * second, max(0, v) passes NaN through. */
            sum = _mm512_max_ps(_mm512_setzero_ps(), sum);
        }
        _mm512_storeu_ps(out, sum);
    } else {
        /* Masked-off lanes are neither read (no fault) nor written. */
        if (epilogue->accumulate) {
            sum = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, out), sum);
        }
        if (bias != NULL) {
            sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask, bias));
        }
        if (epilogue->relu) {
            sum = _mm512_max_ps(_mm512_setzero_ps(), sum);
        }
        _mm512_mask_storeu_ps(out, mask, sum);
    }
}

/*
 * Columns [0, width) of one panel for rows [0, m), computing `rows` rows
 * (m <= rows <= MR) and 32 columns when wide, else 16 (width <= 16). Both
 * are constants at every call, so each call is its own straight-line copy.
 */
static ALWAYS_INLINE void panel(const int rows, const int wide, int64_t m, int64_t width,
                                int64_t segments, int64_t segment_length,
                                const float *const *a, const float *b, float *c, int64_t ldc,
                                const float *bias, const conv4j_f32_gemm_epilogue *epilogue)
{
    __m512 lo[MR], hi[MR];
    UNROLL_ROWS
    for (int i = 0; i < MR; ++i) {
        lo[i] = _mm512_setzero_ps();
        hi[i] = _mm512_setzero_ps();
    }
    for (int64_t s = 0; s < segments; ++s) {
        const float *row[MR];
        UNROLL_ROWS
        for (int i = 0; i < MR; ++i) {
            row[i] = i < rows ? a[s * MR + i] : a[s * MR];
        }
        UNROLL_K
        for (int64_t p = 0; p < segment_length; ++p) {
            const __m512 b0 = _mm512_loadu_ps(b);
            const __m512 b1 = wide ? _mm512_loadu_ps(b + 16) : _mm512_setzero_ps();
            b += NR;
            UNROLL_ROWS
            for (int i = 0; i < MR; ++i) {
                if (i < rows) {
                    const __m512 v = _mm512_set1_ps(row[i][p]);
                    lo[i] = _mm512_fmadd_ps(v, b0, lo[i]);
                    if (wide) {
                        hi[i] = _mm512_fmadd_ps(v, b1, hi[i]);
                    }
                }
            }
        }
    }
    const __mmask16 mask_lo =
        width >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << width) - 1u);
    const __mmask16 mask_hi =
        width >= 32 ? (__mmask16)0xFFFF
                    : (__mmask16)((1u << (width > 16 ? width - 16 : 0)) - 1u);
    const float *bias_hi = bias == NULL ? NULL : bias + 16;
    UNROLL_ROWS
    for (int i = 0; i < MR; ++i) {
        if (i < rows && i < m) {
            float *out = c + i * ldc;
            store_16(out, lo[i], bias, mask_lo, epilogue);
            if (wide) {
                store_16(out + 16, hi[i], bias_hi, mask_hi, epilogue);
            }
        }
    }
}

/* One panel: the copy with the fewest rows that covers m, full or half width. */
static ALWAYS_INLINE void panel_rows(const int wide, int64_t m, int64_t width, int64_t segments,
                                     int64_t segment_length, const float *const *a,
                                     const float *b, float *c, int64_t ldc, const float *bias,
                                     const conv4j_f32_gemm_epilogue *epilogue)
{
    if (m <= 1) {
        panel(1, wide, m, width, segments, segment_length, a, b, c, ldc, bias, epilogue);
    } else if (m <= 2) {
        panel(2, wide, m, width, segments, segment_length, a, b, c, ldc, bias, epilogue);
    } else if (m <= 4) {
        panel(4, wide, m, width, segments, segment_length, a, b, c, ldc, bias, epilogue);
#if MR > 8
    } else if (m <= 8) {
        panel(8, wide, m, width, segments, segment_length, a, b, c, ldc, bias, epilogue);
#endif
#if MR > 12
    } else if (m <= 12) {
        panel(12, wide, m, width, segments, segment_length, a, b, c, ldc, bias, epilogue);
#endif
    } else {
        panel(MR, wide, m, width, segments, segment_length, a, b, c, ldc, bias, epilogue);
    }
}

void X32_NAME(int64_t m, int64_t n, int64_t segments, int64_t segment_length,
              const float *const *a, const float *packed_b, float *c, int64_t ldc,
              const conv4j_f32_gemm_epilogue *epilogue)
{
    const int64_t k = segments * segment_length;
    const float *bias = epilogue->bias;
    for (int64_t column = 0; column < n; column += NR) {
        const int64_t width = n - column < NR ? n - column : NR;
        const float *b = packed_b + (column / NR) * k * NR;
        const float *panel_bias = bias == NULL ? NULL : bias + column;
        if (width > 16) {
            panel_rows(1, m, width, segments, segment_length, a, b, c + column, ldc, panel_bias,
                       epilogue);
        } else {
            panel_rows(0, m, width, segments, segment_length, a, b, c + column, ldc, panel_bias,
                       epilogue);
        }
    }
}

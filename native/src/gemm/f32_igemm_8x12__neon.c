/*
 * The NEON micro-kernel (gemm/f32_igemm_8x12.h): 8 rows x 12 columns in 24
 * q-register accumulators. The k loop runs four elements at a time: one
 * 128-bit load of A per row gives four k values, and FMLA by element
 * (vfmaq_laneq_f32) multiplies each B vector by one of them, so A needs no
 * broadcast loads. Rows 0-3 and rows 4-7 take turns: 4 A vectors + 3 B
 * vectors + 24 accumulators = 31 of the 32 registers; the second half
 * reloads the 12 B vectors (L1 hits) instead of keeping them, which would
 * need 36. Per 4 k: 8 A loads, 24 B loads, 96 FMLA (3 FMLA per load). The
 * last k % 4 elements take one A broadcast load (LD1R) per row.
 *
 * Column tails compute the whole 12-wide panel (packed B is zero-padded to
 * it) and store only the columns below n, through a 4-float bounce buffer
 * for the last partial vector, so nothing outside the m x n tile is read or
 * written. Advanced SIMD is baseline on AArch64: no flags needed.
 */
#include "gemm/f32_igemm_8x12.h"

#include <arm_neon.h>
#include <string.h>

#define MR CONV4J_F32_IGEMM_8X12_MR
#define NR CONV4J_F32_IGEMM_8X12_NR

/* The first count floats (count >= 4: a whole vector), zeros past them. */
static inline float32x4_t load_n(const float *p, int64_t count)
{
    if (count >= 4) {
        return vld1q_f32(p);
    }
    float lanes[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(lanes, p, (size_t)count * sizeof(float));
    return vld1q_f32(lanes);
}

static inline void store_n(float *p, float32x4_t v, int64_t count)
{
    if (count >= 4) {
        vst1q_f32(p, v);
        return;
    }
    float lanes[4];
    vst1q_f32(lanes, v);
    memcpy(p, lanes, (size_t)count * sizeof(float));
}

/* v < 0 ? 0 : v, as the scalar loop: NaN compares false and passes, -0 stays. */
static inline float32x4_t relu(float32x4_t v)
{
    return vbslq_f32(vcltzq_f32(v), vdupq_n_f32(0.0f), v);
}

/* Up to 4 columns of one row through the epilogue. */
static inline void store_4(float *out, float32x4_t sum, const float *bias, int64_t count,
                           const conv4j_f32_gemm_epilogue *epilogue)
{
    if (epilogue->accumulate) {
        sum = vaddq_f32(load_n(out, count), sum);
    }
    if (bias != NULL) {
        sum = vaddq_f32(sum, load_n(bias, count));
    }
    if (epilogue->relu) {
        sum = relu(sum);
    }
    store_n(out, sum, count);
}

/* Row i's three accumulators += the three B vectors times lane `lane` of x. */
#define FMA_LANE(i, x, lane)                                                                    \
    do {                                                                                        \
        c##i##0 = vfmaq_laneq_f32(c##i##0, b0, x, lane);                                        \
        c##i##1 = vfmaq_laneq_f32(c##i##1, b1, x, lane);                                        \
        c##i##2 = vfmaq_laneq_f32(c##i##2, b2, x, lane);                                        \
    } while (0)

/* k element `lane` of the current four for rows r0..r3 (A in x0..x3). */
#define STEP(bp, lane, r0, r1, r2, r3)                                                          \
    do {                                                                                        \
        b0 = vld1q_f32((bp) + (lane) * NR);                                                     \
        b1 = vld1q_f32((bp) + (lane) * NR + 4);                                                 \
        b2 = vld1q_f32((bp) + (lane) * NR + 8);                                                 \
        FMA_LANE(r0, x0, lane);                                                                 \
        FMA_LANE(r1, x1, lane);                                                                 \
        FMA_LANE(r2, x2, lane);                                                                 \
        FMA_LANE(r3, x3, lane);                                                                 \
    } while (0)

/* One k element for row i from a broadcast load of A. */
#define FMA_DUP(i, ai)                                                                          \
    do {                                                                                        \
        const float32x4_t v = vld1q_dup_f32((ai) + p);                                          \
        c##i##0 = vfmaq_f32(c##i##0, b0, v);                                                    \
        c##i##1 = vfmaq_f32(c##i##1, b1, v);                                                    \
        c##i##2 = vfmaq_f32(c##i##2, b2, v);                                                    \
    } while (0)

/* Columns [0, width) of one 12-wide panel, width in [1, 12]. */
static void panel_12(int64_t m, int64_t width, int64_t segments, int64_t segment_length,
                     const float *const *a, const float *b, float *c, int64_t ldc,
                     const float *bias, const conv4j_f32_gemm_epilogue *epilogue)
{
    const float32x4_t zero = vdupq_n_f32(0.0f);
    float32x4_t c00 = zero, c01 = zero, c02 = zero, c10 = zero, c11 = zero, c12 = zero;
    float32x4_t c20 = zero, c21 = zero, c22 = zero, c30 = zero, c31 = zero, c32 = zero;
    float32x4_t c40 = zero, c41 = zero, c42 = zero, c50 = zero, c51 = zero, c52 = zero;
    float32x4_t c60 = zero, c61 = zero, c62 = zero, c70 = zero, c71 = zero, c72 = zero;
    for (int64_t s = 0; s < segments; ++s) {
        const float *a0 = a[s * MR + 0];
        const float *a1 = a[s * MR + 1];
        const float *a2 = a[s * MR + 2];
        const float *a3 = a[s * MR + 3];
        const float *a4 = a[s * MR + 4];
        const float *a5 = a[s * MR + 5];
        const float *a6 = a[s * MR + 6];
        const float *a7 = a[s * MR + 7];
        int64_t p = 0;
        for (; p + 4 <= segment_length; p += 4) {
            float32x4_t b0, b1, b2;
            const float *bp = b;
            float32x4_t x0 = vld1q_f32(a0 + p);
            float32x4_t x1 = vld1q_f32(a1 + p);
            float32x4_t x2 = vld1q_f32(a2 + p);
            float32x4_t x3 = vld1q_f32(a3 + p);
            STEP(bp, 0, 0, 1, 2, 3);
            STEP(bp, 1, 0, 1, 2, 3);
            STEP(bp, 2, 0, 1, 2, 3);
            STEP(bp, 3, 0, 1, 2, 3);
            /* The compiler must not keep the first half's 12 B vectors for
             * the second (36 registers, spills): it loses track of bp. */
            __asm__("" : "+r"(bp));
            x0 = vld1q_f32(a4 + p);
            x1 = vld1q_f32(a5 + p);
            x2 = vld1q_f32(a6 + p);
            x3 = vld1q_f32(a7 + p);
            STEP(bp, 0, 4, 5, 6, 7);
            STEP(bp, 1, 4, 5, 6, 7);
            STEP(bp, 2, 4, 5, 6, 7);
            STEP(bp, 3, 4, 5, 6, 7);
            b += 4 * NR;
        }
        for (; p < segment_length; ++p) {
            const float32x4_t b0 = vld1q_f32(b);
            const float32x4_t b1 = vld1q_f32(b + 4);
            const float32x4_t b2 = vld1q_f32(b + 8);
            b += NR;
            FMA_DUP(0, a0);
            FMA_DUP(1, a1);
            FMA_DUP(2, a2);
            FMA_DUP(3, a3);
            FMA_DUP(4, a4);
            FMA_DUP(5, a5);
            FMA_DUP(6, a6);
            FMA_DUP(7, a7);
        }
    }
    if (m == MR && width == NR) {
        /* The common full tile: stores straight from the accumulators. */
        const float *b4 = bias == NULL ? NULL : bias + 4;
        const float *b8 = bias == NULL ? NULL : bias + 8;
#define STORE_ROW(i)                                                                            \
    do {                                                                                        \
        store_4(c + (i) * ldc, c##i##0, bias, 4, epilogue);                                     \
        store_4(c + (i) * ldc + 4, c##i##1, b4, 4, epilogue);                                   \
        store_4(c + (i) * ldc + 8, c##i##2, b8, 4, epilogue);                                   \
    } while (0)
        STORE_ROW(0);
        STORE_ROW(1);
        STORE_ROW(2);
        STORE_ROW(3);
        STORE_ROW(4);
        STORE_ROW(5);
        STORE_ROW(6);
        STORE_ROW(7);
#undef STORE_ROW
        return;
    }
    const float32x4_t sums[MR][3] = {{c00, c01, c02}, {c10, c11, c12}, {c20, c21, c22},
                                     {c30, c31, c32}, {c40, c41, c42}, {c50, c51, c52},
                                     {c60, c61, c62}, {c70, c71, c72}};
    for (int64_t i = 0; i < m; ++i) {
        float *out = c + i * ldc;
        for (int64_t v = 0; v < 3 && 4 * v < width; ++v) {
            store_4(out + 4 * v, sums[i][v], bias == NULL ? NULL : bias + 4 * v, width - 4 * v,
                    epilogue);
        }
    }
}

void conv4j_f32_igemm_8x12__neon(int64_t m, int64_t n, int64_t segments, int64_t segment_length,
                                 const float *const *a, const float *packed_b, float *c,
                                 int64_t ldc, const conv4j_f32_gemm_epilogue *epilogue)
{
    const int64_t k = segments * segment_length;
    const float *bias = epilogue->bias;
    for (int64_t column = 0; column < n; column += NR) {
        const int64_t width = n - column < NR ? n - column : NR;
        panel_12(m, width, segments, segment_length, a, packed_b + (column / NR) * k * NR,
                 c + column, ldc, bias == NULL ? NULL : bias + column, epilogue);
    }
}

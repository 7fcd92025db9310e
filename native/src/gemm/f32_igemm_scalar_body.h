/*
 * The portable indirect-GEMM micro-kernel (contract in gemm/f32_gemm.h),
 * one body for every tile: the scalar config's 6x16 and the twins of the
 * avx512 (14x32) and neon (8x12) kernels. The file that includes it defines
 *   IGEMM_MR, IGEMM_NR  the tile (rows, packed-B panel width)
 *   IGEMM_HALF          columns a panel with at most that many left computes
 *                       instead of IGEMM_NR, as the SIMD kernel it twins
 *                       does (0: no half path)
 *   IGEMM_NAME          the function's name
 * Loop order, the same as the SIMD kernels': panel by panel; per panel
 * segment by segment, k element by element, one running sum per output
 * element started from zero; then C, bias, relu. Products and sums round
 * separately unless the compiler contracts them, so a twin matches its SIMD
 * kernel within the gamma(k + 2) bound, not bit for bit.
 */
#include "gemm/f32_gemm.h"

#if !defined(IGEMM_MR) || !defined(IGEMM_NR) || !defined(IGEMM_HALF) || !defined(IGEMM_NAME)
#error "define IGEMM_MR, IGEMM_NR, IGEMM_HALF and IGEMM_NAME before including f32_igemm_scalar_body.h"
#endif

/* Columns [0, width) of one panel for rows [0, m), computing `columns` of
 * them; inlined once per constant. Rows past m are not computed: their sums
 * would be dropped, and no element's order depends on them. */
static inline void panel(int64_t m, int64_t width, int columns, int64_t segments,
                         int64_t segment_length, const float *const *a, const float *b, float *c,
                         int64_t ldc, const float *bias, const conv4j_f32_gemm_epilogue *epilogue)
{
    float acc[IGEMM_MR][IGEMM_NR] = {{0.0f}};
    for (int64_t s = 0; s < segments; ++s) {
        const float *const *rows = a + s * IGEMM_MR;
        for (int64_t p = 0; p < segment_length; ++p) {
            for (int64_t i = 0; i < m; ++i) {
                const float value = rows[i][p];
                for (int j = 0; j < columns; ++j) {
                    acc[i][j] += value * b[j];
                }
            }
            b += IGEMM_NR;
        }
    }
    for (int64_t i = 0; i < m; ++i) {
        float *out = c + i * ldc;
        for (int64_t j = 0; j < width; ++j) {
            float v = acc[i][j];
            if (epilogue->accumulate) {
                v = out[j] + v;
            }
            if (bias != NULL) {
                v += bias[j];
            }
            if (epilogue->relu && v < 0.0f) { /* NaN compares false: it passes */
                v = 0.0f;
            }
            out[j] = v;
        }
    }
}

void IGEMM_NAME(int64_t m, int64_t n, int64_t segments, int64_t segment_length,
                const float *const *a, const float *packed_b, float *c, int64_t ldc,
                const conv4j_f32_gemm_epilogue *epilogue)
{
    const int64_t k = segments * segment_length;
    for (int64_t column = 0; column < n; column += IGEMM_NR) {
        const int64_t width = n - column < IGEMM_NR ? n - column : IGEMM_NR;
        const float *b = packed_b + (column / IGEMM_NR) * k * IGEMM_NR;
        const float *bias = epilogue->bias == NULL ? NULL : epilogue->bias + column;
        if (IGEMM_HALF > 0 && width <= IGEMM_HALF) {
            panel(m, width, IGEMM_HALF, segments, segment_length, a, b, c + column, ldc, bias,
                  epilogue);
        } else {
            panel(m, width, IGEMM_NR, segments, segment_length, a, b, c + column, ldc, bias,
                  epilogue);
        }
    }
}

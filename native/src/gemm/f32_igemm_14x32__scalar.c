/*
 * The portable twin of the AVX-512 32-column micro-kernel: the same tile
 * (MR rows x 32 columns), the same NR = 32 packing, the same loop order
 * (panel by panel; per panel segment by segment, k element by element, one
 * running sum per output element started from zero; then C, bias, relu) and
 * the same 16-column half path for a panel with at most 16 columns left. It
 * runs on any machine, so the tile logic is tested everywhere.
 *
 * Each step rounds the product and the sum separately unless the compiler
 * contracts them into an FMA (GCC with -std=c11 does not; Clang may where
 * the target has FMA), so the results match the AVX-512 kernel's within
 * the gamma(k + 2) bound, not bit-for-bit (gemm/f32_igemm_x32.h).
 */
#include "gemm/f32_igemm_x32.h"

#define MR CONV4J_F32_IGEMM_X32_MR
#define NR CONV4J_F32_IGEMM_X32_NR

/* Columns [0, width) of one panel for rows [0, m), computing `columns` (16
 * or 32) of them; inlined once per constant. Rows past m are not computed:
 * their sums would be dropped, and no element's order depends on them. */
static inline void panel(int64_t m, int64_t width, int columns, int64_t segments,
                         int64_t segment_length, const float *const *a, const float *b, float *c,
                         int64_t ldc, const float *bias, const conv4j_f32_gemm_epilogue *epilogue)
{
    float acc[MR][NR] = {{0.0f}};
    for (int64_t s = 0; s < segments; ++s) {
        const float *const *rows = a + s * MR;
        for (int64_t p = 0; p < segment_length; ++p) {
            for (int64_t i = 0; i < m; ++i) {
                const float value = rows[i][p];
                for (int j = 0; j < columns; ++j) {
                    acc[i][j] += value * b[j];
                }
            }
            b += NR;
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

void conv4j_f32_igemm_14x32__scalar(int64_t m, int64_t n, int64_t segments,
                                    int64_t segment_length, const float *const *a,
                                    const float *packed_b, float *c, int64_t ldc,
                                    const conv4j_f32_gemm_epilogue *epilogue)
{
    const int64_t k = segments * segment_length;
    for (int64_t column = 0; column < n; column += NR) {
        const int64_t width = n - column < NR ? n - column : NR;
        const float *b = packed_b + (column / NR) * k * NR;
        const float *bias = epilogue->bias == NULL ? NULL : epilogue->bias + column;
        if (width > 16) {
            panel(m, width, 32, segments, segment_length, a, b, c + column, ldc, bias, epilogue);
        } else {
            panel(m, width, 16, segments, segment_length, a, b, c + column, ldc, bias, epilogue);
        }
    }
}

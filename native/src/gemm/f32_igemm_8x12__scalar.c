/*
 * The portable twin of the NEON 8x12 micro-kernel (gemm/f32_igemm_8x12.h):
 * the same tile, the same NR = 12 packing, the same loop order (panel by
 * panel; per panel segment by segment, k element by element, one running sum
 * per output element started from zero; then C, bias, relu). It runs on any
 * machine, so x86 CI tests the tiling and tails the neon config relies on.
 */
#include "gemm/f32_igemm_8x12.h"

#define MR CONV4J_F32_IGEMM_8X12_MR
#define NR CONV4J_F32_IGEMM_8X12_NR

/* Columns [0, width) of one panel, for all MR rows (rows >= m repeat a
 * readable row; their sums are dropped), as the NEON kernel does. */
static void panel(int64_t m, int64_t width, int64_t segments, int64_t segment_length,
                  const float *const *a, const float *b, float *c, int64_t ldc,
                  const float *bias, const conv4j_f32_gemm_epilogue *epilogue)
{
    float acc[MR][NR] = {{0.0f}};
    for (int64_t s = 0; s < segments; ++s) {
        const float *const *rows = a + s * MR;
        for (int64_t p = 0; p < segment_length; ++p) {
            for (int i = 0; i < MR; ++i) {
                const float value = rows[i][p];
                for (int j = 0; j < NR; ++j) {
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

void conv4j_f32_igemm_8x12__scalar(int64_t m, int64_t n, int64_t segments,
                                   int64_t segment_length, const float *const *a,
                                   const float *packed_b, float *c, int64_t ldc,
                                   const conv4j_f32_gemm_epilogue *epilogue)
{
    const int64_t k = segments * segment_length;
    for (int64_t column = 0; column < n; column += NR) {
        const int64_t width = n - column < NR ? n - column : NR;
        const float *b = packed_b + (column / NR) * k * NR;
        const float *bias = epilogue->bias == NULL ? NULL : epilogue->bias + column;
        panel(m, width, segments, segment_length, a, b, c + column, ldc, bias, epilogue);
    }
}

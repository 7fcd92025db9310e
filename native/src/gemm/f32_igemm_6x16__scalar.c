/*
 * The portable micro-kernel: the same tile, packing and summation order as
 * the AVX2 one, in plain C (the compiler vectorizes the rows of columns). A
 * panel with at most 8 columns left computes only 8, as the AVX2 kernel does.
 */
#include "gemm/f32_gemm.h"

#define MR CONV4J_F32_IGEMM_6X16_MR
#define NR CONV4J_F32_IGEMM_6X16_NR

/* Columns [0, width) of one panel, computing `columns` (8 or 16) of them;
 * inlined once per constant. */
static inline void panel(int64_t m, int64_t width, int columns, int64_t segments,
                         int64_t segment_length, const float *const *a, const float *b, float *c,
                         int64_t ldc, const float *bias, const conv4j_f32_gemm_epilogue *epilogue)
{
    float acc[MR][NR] = {{0.0f}};
    for (int64_t s = 0; s < segments; ++s) {
        const float *const *rows = a + s * MR;
        for (int64_t p = 0; p < segment_length; ++p) {
            for (int i = 0; i < MR; ++i) {
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
            if (epilogue->relu && v < 0.0f) {
                v = 0.0f;
            }
            out[j] = v;
        }
    }
}

void conv4j_f32_igemm_6x16__scalar(int64_t m, int64_t n, int64_t segments,
                                   int64_t segment_length, const float *const *a,
                                   const float *packed_b, float *c, int64_t ldc,
                                   const conv4j_f32_gemm_epilogue *epilogue)
{
    const int64_t k = segments * segment_length;
    for (int64_t column = 0; column < n; column += NR) {
        const int64_t width = n - column < NR ? n - column : NR;
        const float *b = packed_b + (column / NR) * k * NR;
        const float *bias = epilogue->bias == NULL ? NULL : epilogue->bias + column;
        if (width > 8) {
            panel(m, width, 16, segments, segment_length, a, b, c + column, ldc, bias, epilogue);
        } else {
            panel(m, width, 8, segments, segment_length, a, b, c + column, ldc, bias, epilogue);
        }
    }
}

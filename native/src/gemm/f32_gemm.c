/*
 * B packing and the plain-GEMM driver shared by every ISA's micro-kernel.
 */
#include "gemm/f32_gemm.h"

#include <string.h>

size_t conv4j_f32_gemm_packed_b_count(int64_t k, int64_t n)
{
    const int64_t panels = (n + CONV4J_F32_GEMM_NR - 1) / CONV4J_F32_GEMM_NR;
    return (size_t)(panels * k * CONV4J_F32_GEMM_NR);
}

void conv4j_f32_gemm_pack_b(int64_t k, int64_t n, const float *b, int64_t ldb, float *packed)
{
    for (int64_t column = 0; column < n; column += CONV4J_F32_GEMM_NR) {
        const int64_t width = n - column < CONV4J_F32_GEMM_NR ? n - column : CONV4J_F32_GEMM_NR;
        for (int64_t row = 0; row < k; ++row) {
            memcpy(packed, b + row * ldb + column, (size_t)width * sizeof(float));
            for (int64_t j = width; j < CONV4J_F32_GEMM_NR; ++j) {
                packed[j] = 0.0f;
            }
            packed += CONV4J_F32_GEMM_NR;
        }
    }
}

void conv4j_f32_gemm_run(conv4j_f32_igemm_tile_fn tile, int64_t m, int64_t n, int64_t k,
                         const float *a, int64_t lda, const float *packed_b, float *c,
                         int64_t ldc, const conv4j_f32_gemm_epilogue *epilogue)
{
    const float *rows[CONV4J_F32_GEMM_MR];
    for (int64_t row = 0; row < m; row += CONV4J_F32_GEMM_MR) {
        const int64_t height = m - row < CONV4J_F32_GEMM_MR ? m - row : CONV4J_F32_GEMM_MR;
        for (int64_t i = 0; i < CONV4J_F32_GEMM_MR; ++i) {
            /* Rows past m repeat the last one: readable, and dropped. */
            rows[i] = a + (row + (i < height ? i : height - 1)) * lda;
        }
        tile(height, n, 1, k, rows, packed_b, c + row * ldc, ldc, epilogue);
    }
}

void conv4j_f32_gemm_scalar(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                            const float *packed_b, float *c, int64_t ldc, int accumulate)
{
    const conv4j_f32_gemm_epilogue epilogue = {NULL, 0, accumulate};
    conv4j_f32_gemm_run(conv4j_f32_igemm_6x16__scalar, m, n, k, a, lda, packed_b, c, ldc,
                        &epilogue);
}

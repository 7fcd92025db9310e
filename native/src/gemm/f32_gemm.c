/*
 * B packing and the plain-GEMM driver shared by every ISA's micro-kernel.
 */
#include "gemm/f32_gemm.h"

#include <string.h>

size_t conv4j_f32_gemm_packed_b_count(int64_t k, int64_t n, int64_t nr)
{
    const int64_t panels = (n + nr - 1) / nr;
    return (size_t)(panels * k * nr);
}

void conv4j_f32_gemm_pack_b(int64_t k, int64_t n, const float *b, int64_t ldb, int64_t nr,
                            float *packed)
{
    for (int64_t column = 0; column < n; column += nr) {
        const int64_t width = n - column < nr ? n - column : nr;
        for (int64_t row = 0; row < k; ++row) {
            memcpy(packed, b + row * ldb + column, (size_t)width * sizeof(float));
            for (int64_t j = width; j < nr; ++j) {
                packed[j] = 0.0f;
            }
            packed += nr;
        }
    }
}

void conv4j_f32_gemm_run(conv4j_f32_igemm_tile_fn tile, int64_t mr, int64_t m, int64_t n,
                         int64_t k, const float *a, int64_t lda, const float *packed_b, float *c,
                         int64_t ldc, const conv4j_f32_gemm_epilogue *epilogue)
{
    const float *rows[CONV4J_F32_GEMM_MAX_MR];
    for (int64_t row = 0; row < m; row += mr) {
        const int64_t height = m - row < mr ? m - row : mr;
        for (int64_t i = 0; i < mr; ++i) {
            /* Rows past m repeat the last one: readable, and dropped. */
            rows[i] = a + (row + (i < height ? i : height - 1)) * lda;
        }
        tile(height, n, 1, k, rows, packed_b, c + row * ldc, ldc, epilogue);
    }
}

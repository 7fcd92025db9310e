/*
 * B packing for the 32-column micro-kernels (gemm/f32_igemm_x32.h): the
 * layout of conv4j_f32_gemm_pack_b with panels of 32 columns instead of 16.
 */
#include "gemm/f32_igemm_x32.h"

#include <string.h>

#define NR CONV4J_F32_IGEMM_X32_NR

size_t conv4j_f32_igemm_x32_packed_b_count(int64_t k, int64_t n)
{
    const int64_t panels = (n + NR - 1) / NR;
    return (size_t)(panels * k * NR);
}

void conv4j_f32_igemm_x32_pack_b(int64_t k, int64_t n, const float *b, int64_t ldb,
                                 float *packed)
{
    for (int64_t column = 0; column < n; column += NR) {
        const int64_t width = n - column < NR ? n - column : NR;
        for (int64_t row = 0; row < k; ++row) {
            memcpy(packed, b + row * ldb + column, (size_t)width * sizeof(float));
            for (int64_t j = width; j < NR; ++j) {
                packed[j] = 0.0f;
            }
            packed += NR;
        }
    }
}

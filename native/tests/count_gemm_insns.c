/*
 * For counting dynamic instructions per multiply-add of the neon config's
 * GEMM micro-kernel against the scalar path, under qemu (aarch64 builds
 * only; built, not run by ctest). Calls one tile function `reps` times on
 * an 8-row (6 for the scalar config's 6x16) x 48-column x k = 256 tile:
 *   count_gemm_insns <0 neon 8x12 | 1 scalar 6x16 | 2 neon-twin 8x12> <reps>
 * With `qemu-aarch64-static -singlestep -d exec,nochain -D log` every
 * executed instruction is one "Trace" line; the difference between reps = 3
 * and reps = 1, halved, is one call (startup cancels out). README,
 * Platforms, "NEON" has the figures.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gemm/f32_gemm.h"
#include "gemm/f32_igemm_8x12.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s <0|1|2> <reps>\n", argv[0]);
        return 2;
    }
    const int which = atoi(argv[1]);
    const int reps = atoi(argv[2]);
    const int64_t k = 256;
    const int64_t n = 48;
    const int64_t mr = which == 1 ? CONV4J_F32_IGEMM_6X16_MR : CONV4J_F32_IGEMM_8X12_MR;
    const int64_t nr = which == 1 ? CONV4J_F32_IGEMM_6X16_NR : CONV4J_F32_IGEMM_8X12_NR;
    float *a = malloc(sizeof(float) * 8 * k);
    float *b = malloc(sizeof(float) * k * n);
    float *packed = malloc(sizeof(float) * conv4j_f32_gemm_packed_b_count(k, n, nr));
    float *c = malloc(sizeof(float) * 8 * n);
    if (a == NULL || b == NULL || packed == NULL || c == NULL) {
        return 1;
    }
    for (int64_t i = 0; i < 8 * k; ++i) {
        a[i] = (float)(i % 7) * 0.25f;
    }
    for (int64_t i = 0; i < k * n; ++i) {
        b[i] = (float)(i % 5) * 0.5f;
    }
    conv4j_f32_gemm_pack_b(k, n, b, n, nr, packed);
    const float *rows[8];
    for (int i = 0; i < 8; ++i) {
        rows[i] = a + i * k;
    }
    const conv4j_f32_gemm_epilogue plain = {NULL, 0, 0};
    const conv4j_f32_igemm_tile_fn tile = which == 0   ? conv4j_f32_igemm_8x12__neon
                                          : which == 1 ? conv4j_f32_igemm_6x16__scalar
                                                       : conv4j_f32_igemm_8x12__scalar;
    for (int r = 0; r < reps; ++r) {
        tile(mr, n, 1, k, rows, packed, c, n, &plain);
    }
    printf("%lld multiply-adds per call, c[0] = %g\n", (long long)(mr * n * k), c[0]);
    free(a);
    free(b);
    free(packed);
    free(c);
    return 0;
}

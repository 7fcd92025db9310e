/*
 * The 32-column indirect-GEMM micro-kernels: an AVX-512 kernel and its
 * portable scalar twin, with the same tile, packing and summation order.
 *
 * Both have exactly the conv4j_f32_igemm_tile_fn signature and contract of
 * gemm/f32_gemm.h (m <= MR rows, n columns over several panels, `segments`
 * x `segment_length` indirect A pointers a[s * MR + i], rows >= m repeat
 * readable pointers, epilogue accumulate / bias / relu with NaN passing
 * relu), with MR = CONV4J_F32_IGEMM_X32_MR and panels of
 * NR = CONV4J_F32_IGEMM_X32_NR = 32 columns:
 *
 *   panel j holds rows 0..k-1 of columns [32 j, 32 j + 32) as k consecutive
 *   groups of 32 floats (columns past n zero); panel j starts at
 *   packed_b + j * k * 32 (conv4j_f32_gemm_pack_b with nr = 32).
 *
 * Summation order per output element: one chain of multiply-adds in plain k
 * order (segment by segment, element by element), started from zero; then
 * C (accumulate), then bias, then relu. The AVX-512 kernel fuses each
 * multiply-add (FMA, one rounding), so its results are reproducible and
 * independent of tiling and threads: bit-for-bit what a loop of C99 fmaf()
 * in that order gives. The scalar twin rounds the product and the sum
 * separately unless the compiler contracts them, so it agrees with the
 * AVX-512 kernel within the usual gamma(k + 2) bound, not bit-for-bit.
 *
 * A panel with at most 16 columns left computes only 16 (half the work),
 * in both kernels.
 *
 * For the driver (tests/bench_gemm_x32.c, one Zen 5 core, 1 MB L2; medians
 * of 7 runs): call the tile over the whole K and all N; do not split K.
 * K = 4608 x N = 512 (9 MB of packed B, streamed from L3) ran at 88% of the
 * 512-bit peak unsplit; K blocks of 512 / 256 / 128 rows (B block 1 MB /
 * 512 KB / 256 KB) ran 7% / 14% / 23% slower for the extra C passes, and a
 * K split replaces the single FMA chain per element by block sums, so the
 * results would depend on the block size. Running the panels (N blocks of
 * 32 columns, one panel = K x 128 bytes) outside the row tiles keeps one
 * panel in L2 with the same summation order: -2% to +4%, optional.
 *
 * The _avx512 kernel exists only when CONV4J_HAVE_AVX512_KERNELS is defined
 * and may run only on a CPU with AVX-512 F/VL/BW/DQ and an OS that saves ZMM
 * and opmask state.
 */
#ifndef CONV4J_F32_IGEMM_X32_H
#define CONV4J_F32_IGEMM_X32_H

#include <stddef.h>
#include <stdint.h>

#include "gemm/f32_gemm.h"

#define CONV4J_F32_IGEMM_X32_MR 14
#define CONV4J_F32_IGEMM_X32_NR 32

/* Packing: conv4j_f32_gemm_pack_b / conv4j_f32_gemm_packed_b_count with
 * nr = CONV4J_F32_IGEMM_X32_NR (the layout above). MR <= CONV4J_F32_GEMM_MAX_MR. */

void conv4j_f32_igemm_14x32__scalar(int64_t m, int64_t n, int64_t segments,
                                    int64_t segment_length, const float *const *a,
                                    const float *packed_b, float *c, int64_t ldc,
                                    const conv4j_f32_gemm_epilogue *epilogue);
#ifdef CONV4J_HAVE_AVX512_KERNELS
void conv4j_f32_igemm_14x32__avx512(int64_t m, int64_t n, int64_t segments,
                                    int64_t segment_length, const float *const *a,
                                    const float *packed_b, float *c, int64_t ldc,
                                    const conv4j_f32_gemm_epilogue *epilogue);
#endif

#endif /* CONV4J_F32_IGEMM_X32_H */

/*
 * The 12-column indirect-GEMM micro-kernels of the neon config: a NEON
 * kernel and its portable scalar twin, with the same tile, packing and
 * summation order.
 *
 * Both have exactly the conv4j_f32_igemm_tile_fn signature and contract of
 * gemm/f32_gemm.h (m <= MR rows, n columns over several panels, `segments`
 * x `segment_length` indirect A pointers a[s * MR + i], rows >= m repeat
 * readable pointers, epilogue accumulate / bias / relu with NaN passing
 * relu), with MR = 8 and panels of NR = 12 columns (conv4j_f32_gemm_pack_b
 * with nr = 12: panel j holds rows 0..k-1 of columns [12 j, 12 j + 12) as k
 * groups of 12 floats, zero past n).
 *
 * 8 x 12 is sized for AArch64's 32 128-bit registers: 24 accumulators (8
 * rows x 3 vectors of 4 columns), 4 A vectors (4 rows x 4 k each) and 3 B
 * vectors: 31 registers.
 *
 * Summation order per output element: one chain of multiply-adds in plain k
 * order (segment by segment, element by element), started from zero; then
 * C (accumulate), then bias, then relu. The NEON kernel fuses each
 * multiply-add (FMLA, one rounding); the twin rounds product and sum
 * separately unless the compiler contracts them, so the two agree within
 * the gamma(k + 2) bound.
 *
 * The _neon kernel exists only when CONV4J_HAVE_NEON_KERNELS is defined
 * (aarch64 builds) and may run only where the neon level is active.
 */
#ifndef CONV4J_F32_IGEMM_8X12_H
#define CONV4J_F32_IGEMM_8X12_H

#include <stddef.h>
#include <stdint.h>

#include "gemm/f32_gemm.h"

#define CONV4J_F32_IGEMM_8X12_MR 8
#define CONV4J_F32_IGEMM_8X12_NR 12

void conv4j_f32_igemm_8x12__scalar(int64_t m, int64_t n, int64_t segments,
                                   int64_t segment_length, const float *const *a,
                                   const float *packed_b, float *c, int64_t ldc,
                                   const conv4j_f32_gemm_epilogue *epilogue);
#ifdef CONV4J_HAVE_NEON_KERNELS
void conv4j_f32_igemm_8x12__neon(int64_t m, int64_t n, int64_t segments, int64_t segment_length,
                                 const float *const *a, const float *packed_b, float *c,
                                 int64_t ldc, const conv4j_f32_gemm_epilogue *epilogue);
#endif

#endif /* CONV4J_F32_IGEMM_8X12_H */

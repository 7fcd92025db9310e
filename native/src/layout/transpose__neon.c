/*
 * The layout adapter's transpose with NEON (AArch64 baseline): 4 x 4 blocks
 * transposed in registers (two rounds of TRN1/TRN2, on 32-bit then 64-bit
 * elements), the ragged edges element by element.
 */
#include <arm_neon.h>

#include "layout/transpose.h"

static inline void transpose_4x4(const float *src, int64_t src_stride, float *dst,
                                 int64_t dst_stride)
{
    const float32x4_t r0 = vld1q_f32(src + 0 * src_stride);
    const float32x4_t r1 = vld1q_f32(src + 1 * src_stride);
    const float32x4_t r2 = vld1q_f32(src + 2 * src_stride);
    const float32x4_t r3 = vld1q_f32(src + 3 * src_stride);
    /* t01 = {a0 b0 a2 b2}, {a1 b1 a3 b3}; t23 likewise for rows 2 and 3. */
    const float32x4x2_t t01 = vtrnq_f32(r0, r1);
    const float32x4x2_t t23 = vtrnq_f32(r2, r3);
    /* Pairs of 64-bit halves: column j = {a_j b_j c_j d_j}. */
    const float64x2_t l0 = vreinterpretq_f64_f32(t01.val[0]);
    const float64x2_t l1 = vreinterpretq_f64_f32(t01.val[1]);
    const float64x2_t h0 = vreinterpretq_f64_f32(t23.val[0]);
    const float64x2_t h1 = vreinterpretq_f64_f32(t23.val[1]);
    vst1q_f32(dst + 0 * dst_stride, vreinterpretq_f32_f64(vtrn1q_f64(l0, h0)));
    vst1q_f32(dst + 1 * dst_stride, vreinterpretq_f32_f64(vtrn1q_f64(l1, h1)));
    vst1q_f32(dst + 2 * dst_stride, vreinterpretq_f32_f64(vtrn2q_f64(l0, h0)));
    vst1q_f32(dst + 3 * dst_stride, vreinterpretq_f32_f64(vtrn2q_f64(l1, h1)));
}

void conv4j_transpose_tile__neon(const float *src, float *dst, int64_t rows, int64_t cols,
                                 int64_t r0, int64_t c0, int64_t r1, int64_t c1)
{
    const int64_t r4 = r0 + (r1 - r0) / 4 * 4;
    const int64_t c4 = c0 + (c1 - c0) / 4 * 4;
    /* Down the source columns, so each destination line fills contiguously. */
    for (int64_t c = c0; c < c4; c += 4) {
        for (int64_t r = r0; r < r4; r += 4) {
            transpose_4x4(src + r * cols + c, cols, dst + c * rows + r, rows);
        }
    }
    /* The ragged right columns and bottom rows. */
    for (int64_t c = c4; c < c1; ++c) {
        for (int64_t r = r0; r < r1; ++r) {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
    for (int64_t c = c0; c < c4; ++c) {
        for (int64_t r = r4; r < r1; ++r) {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

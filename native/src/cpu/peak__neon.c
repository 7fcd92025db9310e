/* The peak probe's NEON loop: 12 independent 128-bit FMA chains (enough to
 * cover 4-cycle FMLA latency on 2 to 4 FMA pipes, e.g. Neoverse N1/V1 and
 * Apple cores). AArch64 baseline; peak.c calls it only through the neon
 * config.
 *
 * FMLA accumulates in place (d += n * m), so the chain runs through the
 * accumulator: a round adds x * y, the next subtracts it again (FMLS), and
 * the chains stay near their start instead of growing. Written as the x86
 * loops' a = a * m + c, every FMLA would need a register copy first. */
#include "cpu/peak.h"

#include <arm_neon.h>

#define PEAK_ROUND(op)                                                                          \
    do {                                                                                        \
        a0 = op(a0, x, y);                                                                      \
        a1 = op(a1, x, y);                                                                      \
        a2 = op(a2, x, y);                                                                      \
        a3 = op(a3, x, y);                                                                      \
        a4 = op(a4, x, y);                                                                      \
        a5 = op(a5, x, y);                                                                      \
        a6 = op(a6, x, y);                                                                      \
        a7 = op(a7, x, y);                                                                      \
        a8 = op(a8, x, y);                                                                      \
        a9 = op(a9, x, y);                                                                      \
        a10 = op(a10, x, y);                                                                    \
        a11 = op(a11, x, y);                                                                    \
    } while (0)

int64_t conv4j_peak_chunk_neon(int64_t iterations, float *sink)
{
    const float32x4_t x = vdupq_n_f32(0.9999999f);
    const float32x4_t y = vdupq_n_f32(1e-7f);
    const float32x4_t c = y;
    float32x4_t a0 = vdupq_n_f32(*sink), a1 = vaddq_f32(a0, c), a2 = vaddq_f32(a1, c),
                a3 = vaddq_f32(a2, c), a4 = vaddq_f32(a3, c), a5 = vaddq_f32(a4, c),
                a6 = vaddq_f32(a5, c), a7 = vaddq_f32(a6, c), a8 = vaddq_f32(a7, c),
                a9 = vaddq_f32(a8, c), a10 = vaddq_f32(a9, c), a11 = vaddq_f32(a10, c);
    int64_t i = 0;
    for (; i + 2 <= iterations; i += 2) {
        PEAK_ROUND(vfmaq_f32);
        PEAK_ROUND(vfmsq_f32);
    }
    if (i < iterations) {
        PEAK_ROUND(vfmaq_f32);
    }
    float32x4_t s = vaddq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)),
                              vaddq_f32(vaddq_f32(a4, a5), vaddq_f32(a6, a7)));
    s = vaddq_f32(s, vaddq_f32(vaddq_f32(a8, a9), vaddq_f32(a10, a11)));
    /* The mean of the chains less their spread (0..11 c): about where a0
     * started, so successive chunks do not drift. */
    *sink = (vgetq_lane_f32(s, 0) - 66.0f * 1e-7f) / 12;
    return iterations * 12 * 4 * 2; /* 12 FMAs of 4 lanes, 2 flops each */
}

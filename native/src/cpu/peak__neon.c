/* The peak probe's NEON loop: 12 independent 128-bit FMLA chains (enough to
 * cover 4-cycle FMLA latency on 2 to 4 FMA pipes, e.g. Neoverse N1/V1 and
 * Apple cores). AArch64 baseline; peak.c calls it only through the neon
 * config. */
#include "cpu/peak.h"

#include <arm_neon.h>

int64_t conv4j_peak_chunk_neon(int64_t iterations, float *sink)
{
    const float32x4_t m = vdupq_n_f32(0.9999999f);
    const float32x4_t c = vdupq_n_f32(1e-7f);
    float32x4_t a0 = vdupq_n_f32(*sink), a1 = vaddq_f32(a0, c), a2 = vaddq_f32(a1, c),
                a3 = vaddq_f32(a2, c), a4 = vaddq_f32(a3, c), a5 = vaddq_f32(a4, c),
                a6 = vaddq_f32(a5, c), a7 = vaddq_f32(a6, c), a8 = vaddq_f32(a7, c),
                a9 = vaddq_f32(a8, c), a10 = vaddq_f32(a9, c), a11 = vaddq_f32(a10, c);
    for (int64_t i = 0; i < iterations; ++i) {
        /* c + a * m, one rounding. */
        a0 = vfmaq_f32(c, a0, m);
        a1 = vfmaq_f32(c, a1, m);
        a2 = vfmaq_f32(c, a2, m);
        a3 = vfmaq_f32(c, a3, m);
        a4 = vfmaq_f32(c, a4, m);
        a5 = vfmaq_f32(c, a5, m);
        a6 = vfmaq_f32(c, a6, m);
        a7 = vfmaq_f32(c, a7, m);
        a8 = vfmaq_f32(c, a8, m);
        a9 = vfmaq_f32(c, a9, m);
        a10 = vfmaq_f32(c, a10, m);
        a11 = vfmaq_f32(c, a11, m);
    }
    float32x4_t s = vaddq_f32(vaddq_f32(vaddq_f32(a0, a1), vaddq_f32(a2, a3)),
                              vaddq_f32(vaddq_f32(a4, a5), vaddq_f32(a6, a7)));
    s = vaddq_f32(s, vaddq_f32(vaddq_f32(a8, a9), vaddq_f32(a10, a11)));
    *sink = vgetq_lane_f32(s, 0) / 12; /* the chains tend to 1: the next chunk starts there */
    return iterations * 12 * 4 * 2;    /* 12 FMLAs of 4 lanes, 2 flops each */
}

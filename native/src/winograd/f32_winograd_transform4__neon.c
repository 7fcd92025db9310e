/* The Winograd transforms on 4-lane NEON vectors (AArch64 baseline). */
#include <arm_neon.h>

#define WINOGRAD_LANES 4
#define WINOGRAD_ISA neon

typedef float32x4_t wvec;
static inline wvec wv_load(const float *p) { return vld1q_f32(p); }
static inline void wv_store(float *p, wvec v) { vst1q_f32(p, v); }
static inline wvec wv_zero(void) { return vdupq_n_f32(0.0f); }
static inline wvec wv_add(wvec a, wvec b) { return vaddq_f32(a, b); }
static inline wvec wv_sub(wvec a, wvec b) { return vsubq_f32(a, b); }
static inline wvec wv_madd(wvec acc, float s, wvec x) { return vfmaq_n_f32(acc, x, s); }
/* x < 0 ? 0 : x: a NaN x compares false and stays NaN. */
static inline wvec wv_relu(wvec x) { return vbslq_f32(vcltzq_f32(x), vdupq_n_f32(0.0f), x); }

#include "winograd/f32_winograd_transform_body.h"

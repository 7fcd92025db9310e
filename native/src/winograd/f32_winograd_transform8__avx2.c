/* The Winograd transforms on 8-lane AVX2 vectors (-mavx2 -mfma). */
#include <immintrin.h>

#define WINOGRAD_LANES 8
#define WINOGRAD_ISA avx2

typedef __m256 wvec;
static inline wvec wv_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void wv_store(float *p, wvec v) { _mm256_storeu_ps(p, v); }
static inline wvec wv_zero(void) { return _mm256_setzero_ps(); }
static inline wvec wv_add(wvec a, wvec b) { return _mm256_add_ps(a, b); }
static inline wvec wv_sub(wvec a, wvec b) { return _mm256_sub_ps(a, b); }
static inline wvec wv_madd(wvec acc, float s, wvec x)
{
    return _mm256_fmadd_ps(_mm256_set1_ps(s), x, acc);
}
/* max(0, x) returns its second operand for NaN: a NaN x stays NaN. */
static inline wvec wv_relu(wvec x) { return _mm256_max_ps(_mm256_setzero_ps(), x); }

#include "winograd/f32_winograd_transform_body.h"

/* The Winograd transforms on 16-lane AVX-512 vectors (AVX-512 flags). */
#include <immintrin.h>

#define WINOGRAD_LANES 16
#define WINOGRAD_ISA avx512

typedef __m512 wvec;
static inline wvec wv_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void wv_store(float *p, wvec v) { _mm512_storeu_ps(p, v); }
static inline wvec wv_zero(void) { return _mm512_setzero_ps(); }
static inline wvec wv_add(wvec a, wvec b) { return _mm512_add_ps(a, b); }
static inline wvec wv_sub(wvec a, wvec b) { return _mm512_sub_ps(a, b); }
static inline wvec wv_madd(wvec acc, float s, wvec x)
{
    return _mm512_fmadd_ps(_mm512_set1_ps(s), x, acc);
}
/* max(0, x) returns its second operand for NaN: a NaN x stays NaN. */
static inline wvec wv_relu(wvec x) { return _mm512_max_ps(_mm512_setzero_ps(), x); }

#include "winograd/f32_winograd_transform_body.h"

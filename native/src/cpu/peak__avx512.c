/* The peak probe's AVX-512 loop: 12 independent 512-bit FMA chains, the AVX2
 * loop of peak__avx2.c at twice the width (12 chains cover FMA latency x
 * throughput on current x86 cores: 4 cycles x 2 pipes on Zen 5). Compiled
 * with the AVX-512 flags (CMake, this file only). */
#include "cpu/peak_avx512.h"

#include <immintrin.h>

int64_t conv4j_peak_chunk_avx512(int64_t iterations, float *sink)
{
    const __m512 m = _mm512_set1_ps(0.9999999f);
    const __m512 c = _mm512_set1_ps(1e-7f);
    __m512 a0 = _mm512_set1_ps(*sink), a1 = _mm512_add_ps(a0, c), a2 = _mm512_add_ps(a1, c),
           a3 = _mm512_add_ps(a2, c), a4 = _mm512_add_ps(a3, c), a5 = _mm512_add_ps(a4, c),
           a6 = _mm512_add_ps(a5, c), a7 = _mm512_add_ps(a6, c), a8 = _mm512_add_ps(a7, c),
           a9 = _mm512_add_ps(a8, c), a10 = _mm512_add_ps(a9, c), a11 = _mm512_add_ps(a10, c);
    for (int64_t i = 0; i < iterations; ++i) {
        a0 = _mm512_fmadd_ps(a0, m, c);
        a1 = _mm512_fmadd_ps(a1, m, c);
        a2 = _mm512_fmadd_ps(a2, m, c);
        a3 = _mm512_fmadd_ps(a3, m, c);
        a4 = _mm512_fmadd_ps(a4, m, c);
        a5 = _mm512_fmadd_ps(a5, m, c);
        a6 = _mm512_fmadd_ps(a6, m, c);
        a7 = _mm512_fmadd_ps(a7, m, c);
        a8 = _mm512_fmadd_ps(a8, m, c);
        a9 = _mm512_fmadd_ps(a9, m, c);
        a10 = _mm512_fmadd_ps(a10, m, c);
        a11 = _mm512_fmadd_ps(a11, m, c);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                             _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    float lanes[16];
    _mm512_storeu_ps(lanes, s);
    *sink = lanes[0] / 12; /* the chains tend to 1: the next chunk starts there */
    return iterations * 12 * 16 * 2; /* 12 FMAs of 16 lanes, 2 flops each */
}

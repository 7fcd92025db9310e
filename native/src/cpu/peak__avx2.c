/* The peak probe's AVX2 loop: 12 independent 256-bit FMA chains, enough to
 * cover FMA latency × throughput on current x86 cores. Compiled with -mavx2
 * -mfma (CMake, this file only); peak.c calls it only when the active ISA is
 * avx2. */
#include "cpu/peak.h"

#include <immintrin.h>

int64_t conv4j_peak_chunk_avx2(int64_t iterations, float *sink)
{
    const __m256 m = _mm256_set1_ps(0.9999999f);
    const __m256 c = _mm256_set1_ps(1e-7f);
    __m256 a0 = _mm256_set1_ps(*sink), a1 = _mm256_add_ps(a0, c), a2 = _mm256_add_ps(a1, c),
           a3 = _mm256_add_ps(a2, c), a4 = _mm256_add_ps(a3, c), a5 = _mm256_add_ps(a4, c),
           a6 = _mm256_add_ps(a5, c), a7 = _mm256_add_ps(a6, c), a8 = _mm256_add_ps(a7, c),
           a9 = _mm256_add_ps(a8, c), a10 = _mm256_add_ps(a9, c), a11 = _mm256_add_ps(a10, c);
    for (int64_t i = 0; i < iterations; ++i) {
        a0 = _mm256_fmadd_ps(a0, m, c);
        a1 = _mm256_fmadd_ps(a1, m, c);
        a2 = _mm256_fmadd_ps(a2, m, c);
        a3 = _mm256_fmadd_ps(a3, m, c);
        a4 = _mm256_fmadd_ps(a4, m, c);
        a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c);
        a7 = _mm256_fmadd_ps(a7, m, c);
        a8 = _mm256_fmadd_ps(a8, m, c);
        a9 = _mm256_fmadd_ps(a9, m, c);
        a10 = _mm256_fmadd_ps(a10, m, c);
        a11 = _mm256_fmadd_ps(a11, m, c);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                             _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    *sink = lanes[0] / 12; /* the chains tend to 1: the next chunk starts there */
    return iterations * 12 * 8 * 2; /* 12 FMAs of 8 lanes, 2 flops each */
}

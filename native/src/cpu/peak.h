/* The FMA-throughput probe's per-ISA loops (see peak.c). */
#ifndef CONV4J_PEAK_H
#define CONV4J_PEAK_H

#include <stdint.h>

/* Runs `iterations` rounds over 12 independent multiply-add chains, stores a
 * value derived from the chains in *sink (so nothing is optimized away) and
 * returns the floating-point operations done. */
int64_t conv4j_peak_chunk_scalar(int64_t iterations, float *sink);
#ifdef CONV4J_HAVE_AVX2_KERNELS
int64_t conv4j_peak_chunk_avx2(int64_t iterations, float *sink);
#endif
#ifdef CONV4J_HAVE_NEON_KERNELS
int64_t conv4j_peak_chunk_neon(int64_t iterations, float *sink);
#endif

#endif /* CONV4J_PEAK_H */

/* The FMA-throughput probe's AVX-512 loop (see peak.h for the contract of a
 * chunk: `iterations` rounds over 12 independent multiply-add chains, a value
 * derived from the chains stored in *sink, the flops done returned). */
#ifndef CONV4J_PEAK_AVX512_H
#define CONV4J_PEAK_AVX512_H

#include <stdint.h>

#ifdef CONV4J_HAVE_AVX512_KERNELS
/* May run only on a CPU with AVX-512F and OS-enabled ZMM state. */
int64_t conv4j_peak_chunk_avx512(int64_t iterations, float *sink);
#endif

#endif /* CONV4J_PEAK_AVX512_H */

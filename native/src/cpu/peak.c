/*
 * conv4j_measure_peak_gflops: the machine's fp32 multiply-add throughput, the
 * ceiling the benchmarks report kernels against. Every thread runs the active
 * ISA's chunk loop until the shared deadline; the rate is all flops over the
 * wall time from the common start.
 */
#define _POSIX_C_SOURCE 200809L

#include "conv4j.h"
#include "config/isa_config.h"
#include "cpu/peak.h"

#include <math.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* About half a millisecond per chunk with AVX2: fine-grained deadline checks. */
#define PEAK_CHUNK_ITERATIONS 100000

int64_t conv4j_peak_chunk_scalar(int64_t iterations, float *sink)
{
    const float m = 0.9999999f;
    const float c = 1e-7f;
    float a[12];
    for (int j = 0; j < 12; ++j) {
        a[j] = *sink + (float)j * c;
    }
    for (int64_t i = 0; i < iterations; ++i) {
        for (int j = 0; j < 12; ++j) {
            a[j] = a[j] * m + c;
        }
    }
    float s = 0;
    for (int j = 0; j < 12; ++j) {
        s += a[j];
    }
    *sink = s / 12; /* the chains tend to 1: the next chunk starts there */
    return iterations * 12 * 2;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef int64_t (*peak_chunk_fn)(int64_t, float *);

static int64_t run_until(peak_chunk_fn chunk, double deadline, float *sink)
{
    int64_t flops = 0;
    do {
        flops += chunk(PEAK_CHUNK_ITERATIONS, sink);
    } while (now_seconds() < deadline);
    return flops;
}

double conv4j_measure_peak_gflops(int32_t threads, double seconds)
{
    if (threads < 0 || !(seconds > 0.0 && seconds <= 60.0)) {
        return -1.0;
    }
    /* The active config's vector width: 512-bit chains where avx512 runs. */
    const peak_chunk_fn chunk = conv4j_isa_config_active()->peak_chunk;
    const int32_t team = threads == 0 ? conv4j_max_threads() : threads;
    /* A fifth of the time first, untimed, so the clock has ramped up. */
    const double warmup = seconds / 5;
    double start = 0;
    int64_t flops = 0;
    float sink_total = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(team) reduction(+ : flops, sink_total)
#endif
    {
        float sink = 1.0f;
        run_until(chunk, now_seconds() + warmup, &sink);
#ifdef _OPENMP
#pragma omp barrier
#pragma omp single
#endif
        start = now_seconds(); /* the single's barrier publishes it */
        flops += run_until(chunk, start + seconds, &sink);
        sink_total += sink;
    }
    const double elapsed = now_seconds() - start;
    (void)team;
    /* The sink keeps the chains alive; it is finite for every chain. */
    if (!isfinite(sink_total) || elapsed <= 0) {
        return -1.0;
    }
    return (double)flops / elapsed * 1e-9;
}

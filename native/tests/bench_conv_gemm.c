/*
 * Wall-clock benchmark of the GEMM convolution path (algorithm GEMM through
 * conv4j_plan_create + conv4j_plan_execute) on the shapes of
 * shared/bench-shapes.csv, at 1 and 2 threads. Reports, per shape and thread
 * count, the median ms of many calls, GFLOP/s (2 N Ho Wo Cout KH KW Cin/g)
 * and % of conv4j_measure_peak_gflops(1, 0.5) (times the thread count).
 *
 * Also the 10th percentile: on a loaded machine other processes only add
 * time, so the fast tail tracks the code better than the median does.
 *
 * Last column: median process CPU time per call divided by the thread
 * count (run with OMP_WAIT_POLICY=passive): the work, without the time the
 * scheduler gave to other processes.
 *
 * Built, never run by ctest. Usage:
 *   bench_conv_gemm [seconds per cell, default 0.4] [shape name filter]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conv4j.h"
#include "test_util.h"
#include "gemm/f32_conv_gemm.h"

typedef struct shape {
    const char *name;
    int rank, n, h, w, cin, cout, kh, kw, sh, sw, dh, dw, groups, same;
} shape;

static const shape shapes[] = {
    {"r50_conv1", 2, 1, 224, 224, 3, 64, 7, 7, 2, 2, 1, 1, 1, 1},
    {"r50_3x3_56", 2, 1, 56, 56, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1},
    {"r50_1x1_56", 2, 1, 56, 56, 64, 256, 1, 1, 1, 1, 1, 1, 1, 0},
    {"r50_3x3_28", 2, 1, 28, 28, 128, 128, 3, 3, 1, 1, 1, 1, 1, 1},
    {"r50_3x3_14", 2, 1, 14, 14, 256, 256, 3, 3, 1, 1, 1, 1, 1, 1},
    {"r50_3x3_7", 2, 1, 7, 7, 512, 512, 3, 3, 1, 1, 1, 1, 1, 1},
    {"vgg_3x3_224", 2, 1, 224, 224, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1},
    {"batch8_3x3_56", 2, 8, 56, 56, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1},
    {"tcn1d", 1, 1, 1, 4096, 128, 128, 1, 3, 1, 1, 1, 1, 1, 1},
    {"wavenet1d", 1, 1, 1, 16000, 64, 64, 1, 2, 1, 1, 1, 8, 1, 0},
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU seconds of the whole process: what the call cost in work, whatever
 * the scheduler took from it (run with OMP_WAIT_POLICY=passive so that
 * waiting threads sleep instead of adding spin time). */
static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare(const void *x, const void *y)
{
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Keras padding along one axis. */
static void pad_of(int same, int in, int k, int s, int d, int *before, int *after, int *out)
{
    if (!same) {
        *before = *after = 0;
        *out = (in - (k - 1) * d - 1) / s + 1;
        return;
    }
    *out = (in + s - 1) / s;
    int total = (*out - 1) * s + (k - 1) * d + 1 - in;
    total = total < 0 ? 0 : total;
    *before = total / 2;
    *after = total - total / 2;
}

static float *random_floats(size_t count)
{
    float *x = malloc(count * sizeof(float));
    for (size_t i = 0; i < count; ++i) {
        x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    }
    return x;
}

#define MAX_VARIANTS 8
#define MAX_SAMPLES 20000

int main(int argc, char **argv)
{
    /* One variant: the driver as built (the rows below once compared several). */
    const int variant_of[MAX_VARIANTS] = {0};
    const int variants = 1;
    const double seconds = argc > 1 ? atof(argv[1]) : 0.4;
    const char *filter = argc > 2 ? argv[2] : NULL;
    const double peak = conv4j_measure_peak_gflops(1, 0.5);
    printf("isa %s, peak %.1f GFLOP/s per thread, %d variant(s)\n",
           conv4j_isa_name(conv4j_active_isa()), peak, variants);
    printf("%-14s %2s %3s %9s %8s %7s %9s %8s %7s %9s\n", "shape", "t", "var", "median_ms", "GFLOP/s",
           "%peak", "p10_ms", "GFLOP/s", "%peak", "cpu_ms/t");
    static double samples[MAX_VARIANTS][MAX_SAMPLES];
    static double cpu_samples[MAX_VARIANTS][MAX_SAMPLES];
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; ++si) {
        const shape *s = &shapes[si];
        if (filter != NULL && strstr(s->name, filter) == NULL) {
            continue;
        }
        conv4j_conv_desc d;
        memset(&d, 0, sizeof d);
        int oh, ow;
        d.rank = s->rank;
        d.batch = s->n;
        d.in_channels = s->cin;
        d.out_channels = s->cout;
        d.groups = s->groups;
        d.layout = CONV4J_LAYOUT_CHANNELS_LAST;
        d.algorithm = CONV4J_ALGORITHM_GEMM;
        if (s->rank == 1) {
            d.in_size[0] = s->w;
            d.kernel[0] = s->kw;
            d.stride[0] = s->sw;
            d.dilation[0] = s->dw;
            pad_of(s->same, s->w, s->kw, s->sw, s->dw, &d.pad_before[0], &d.pad_after[0], &ow);
            oh = 1;
        } else {
            d.in_size[0] = s->h;
            d.in_size[1] = s->w;
            d.kernel[0] = s->kh;
            d.kernel[1] = s->kw;
            d.stride[0] = s->sh;
            d.stride[1] = s->sw;
            d.dilation[0] = s->dh;
            d.dilation[1] = s->dw;
            pad_of(s->same, s->h, s->kh, s->sh, s->dh, &d.pad_before[0], &d.pad_after[0], &oh);
            pad_of(s->same, s->w, s->kw, s->sw, s->dw, &d.pad_before[1], &d.pad_after[1], &ow);
        }
        const size_t in_count = (size_t)s->n * s->h * s->w * s->cin;
        const size_t out_count = (size_t)s->n * oh * ow * s->cout;
        const size_t kernel_count = (size_t)s->kh * s->kw * (s->cin / s->groups) * s->cout;
        float *input = random_floats(in_count);
        float *kernel = random_floats(kernel_count);
        float *bias = random_floats((size_t)s->cout);
        float *output = malloc(out_count * sizeof(float));
        conv4j_plan *plan = NULL;
        const conv4j_status created = conv4j_plan_create(&d, kernel, bias, &plan);
        if (created != CONV4J_OK) {
            printf("%-14s plan failed\n", s->name);
            continue;
        }
        const size_t ws_size = conv4j_plan_workspace_size(plan);
        void *ws = ws_size ? test_aligned_alloc(ws_size) : NULL;
        const double flops = 2.0 * s->n * oh * ow * s->cout * s->kh * s->kw *
                             (double)(s->cin / s->groups);
        for (int threads = 1; threads <= 2; ++threads) {
            /* Warm-up, and the calls per round from a first timing. */
            double t0 = now();
            int warm = 0;
            while (now() - t0 < 0.05 || warm < 3) {
                for (int v = 0; v < variants; ++v) {
                    conv4j_plan_execute(plan, input, output, ws, ws_size, threads);
                }
                ++warm;
            }
            const double per_call = (now() - t0) / (warm * variants);
            int calls = (int)(seconds / per_call / variants);
            calls = calls < 5 ? 5 : calls > MAX_SAMPLES ? MAX_SAMPLES : calls;
            /* Rounds of a few calls per variant, variants interleaved. */
            const int per_round = per_call > 0.002 ? 1 : 5;
            int taken = 0;
            while (taken < calls) {
                for (int v = 0; v < variants; ++v) {
                    for (int r = 0; r < per_round && taken + r < calls; ++r) {
                        const double c = cpu_now();
                        const double a = now();
                        conv4j_plan_execute(plan, input, output, ws, ws_size, threads);
                        samples[v][taken + r] = now() - a;
                        cpu_samples[v][taken + r] = cpu_now() - c;
                    }
                }
                taken += per_round;
            }
            if (taken > calls) {
                taken = calls;
            }
            for (int v = 0; v < variants; ++v) {
                qsort(samples[v], (size_t)taken, sizeof(double), compare);
                qsort(cpu_samples[v], (size_t)taken, sizeof(double), compare);
                const double cpu = cpu_samples[v][taken / 2];
                const double median = samples[v][taken / 2];
                const double low = samples[v][taken / 10];
                const double gflops = flops / median * 1e-9;
                const double low_gflops = flops / low * 1e-9;
                printf("%-14s %2d %3d %9.4f %8.1f %6.1f%% %9.4f %8.1f %6.1f%% %9.4f\n", s->name,
                       threads, variant_of[v], median * 1e3, gflops,
                       100.0 * gflops / (peak * threads), low * 1e3, low_gflops,
                       100.0 * low_gflops / (peak * threads), cpu * 1e3 / threads);
            }
            fflush(stdout);
        }
        test_aligned_free(ws);
        conv4j_plan_destroy(plan);
        free(input);
        free(kernel);
        free(bias);
        free(output);
    }
    return 0;
}

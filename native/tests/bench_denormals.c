/*
 * How much slower each algorithm runs when the input is denormal (|x| < FLT_MIN, so products
 * and sums are denormal too) than on normal values of the same shape. A timing program, not a
 * test: timings on a shared machine are noisy, so it prints the median of several runs per
 * case and asserts nothing. README "Reliability" records its figures.
 *
 * Usage: bench_denormals [runs]   (threads = 1; every forced algorithm that accepts a shape;
 *        times are the calling thread's CPU time, steadier than wall time on a loaded machine)
 */
#define _POSIX_C_SOURCE 199309L
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "test_util.h"

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time: the machine is shared */
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds per call over runs, each run long enough (>= 20 ms) to time. */
static double median_call_seconds(const conv4j_plan *plan, const float *input, float *output,
                                  int runs)
{
    int calls = 1;
    for (;;) {
        const double start = now_seconds();
        for (int i = 0; i < calls; ++i) {
            conv4j_plan_execute(plan, input, output, NULL, 0, 1);
        }
        if (now_seconds() - start >= 0.02 || calls >= (1 << 20)) {
            break;
        }
        calls *= 2;
    }
    double times[64];
    if (runs > 64) {
        runs = 64;
    }
    for (int r = 0; r < runs; ++r) {
        const double start = now_seconds();
        for (int i = 0; i < calls; ++i) {
            conv4j_plan_execute(plan, input, output, NULL, 0, 1);
        }
        times[r] = (now_seconds() - start) / calls;
    }
    qsort(times, (size_t)runs, sizeof times[0], compare_doubles);
    return times[runs / 2];
}

int main(int argc, char **argv)
{
    const int runs = argc > 1 ? atoi(argv[1]) : 7;
    struct {
        const char *name;
        conv4j_conv_desc desc;
    } shapes[3];
    shapes[0].name = "3x3 s1 24x24x32->32";
    shapes[0].desc = test_desc_2d(1, 24, 24, 32, 3, 3, 32);
    shapes[0].desc.pad_before[0] = shapes[0].desc.pad_before[1] = 1;
    shapes[0].desc.pad_after[0] = shapes[0].desc.pad_after[1] = 1;
    shapes[1].name = "1x1 28x28x64->64";
    shapes[1].desc = test_desc_2d(1, 28, 28, 64, 1, 1, 64);
    shapes[2].name = "depthwise 3x3 32x32x64";
    shapes[2].desc = test_desc_2d(1, 32, 32, 64, 3, 3, 64);
    shapes[2].desc.groups = 64;

    printf("isa %s; threads 1; median of %d runs; denormal input = normal input * 2^-130\n",
           conv4j_isa_name(conv4j_active_isa()), runs);
    printf("%-24s %-10s %12s %12s %8s\n", "shape", "algorithm", "normal us", "denormal us",
           "ratio");
    test_rng rng = {UINT64_C(0x6A09E667F3BCC908)};
    for (int s = 0; s < 3; ++s) {
        conv4j_conv_desc d = shapes[s].desc;
        const int64_t in_count = test_input_count(&d);
        const int64_t kernel_count = test_kernel_count(&d);
        const int64_t out_count = test_output_count(&d);
        float *normal = malloc((size_t)in_count * sizeof(float));
        float *denormal = malloc((size_t)in_count * sizeof(float));
        float *kernel = malloc((size_t)kernel_count * sizeof(float));
        float *output = malloc((size_t)out_count * sizeof(float));
        if (!normal || !denormal || !kernel || !output) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        for (int64_t i = 0; i < in_count; ++i) {
            normal[i] = 0.5f + 0.5f * test_rng_float(&rng);
            denormal[i] = ldexpf(normal[i], -130); /* about 7e-40: below FLT_MIN = 1.2e-38 */
        }
        for (int64_t i = 0; i < kernel_count; ++i) {
            kernel[i] = 0.5f + 0.5f * test_rng_float(&rng);
        }
        for (int a = CONV4J_ALGORITHM_DIRECT; a <= CONV4J_ALGORITHM_DEPTHWISE; ++a) {
            d.algorithm = a;
            conv4j_plan *plan = NULL;
            if (conv4j_plan_create(&d, kernel, NULL, &plan) != CONV4J_OK) {
                continue;
            }
            const double t_normal = median_call_seconds(plan, normal, output, runs);
            const double t_denormal = median_call_seconds(plan, denormal, output, runs);
            int denormal_outputs = 0;
            for (int64_t i = 0; i < out_count; ++i) {
                denormal_outputs += output[i] != 0.0f && fabsf(output[i]) < FLT_MIN;
            }
            printf("%-24s %-10s %12.1f %12.1f %7.2fx  (%d of %lld outputs denormal)\n",
                   shapes[s].name, conv4j_algorithm_name((conv4j_algorithm)a), t_normal * 1e6,
                   t_denormal * 1e6, t_denormal / t_normal, denormal_outputs,
                   (long long)out_count);
            conv4j_plan_destroy(plan);
        }
        free(normal);
        free(denormal);
        free(kernel);
        free(output);
    }
    return 0;
}

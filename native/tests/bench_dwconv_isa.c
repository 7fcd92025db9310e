/*
 * Timing of each ISA's depthwise pair through conv4j_dwconv_run_with at 1 thread (built, not
 * run by ctest):
 *   mbv2_dw_112     N=1, 112x112x32, 3x3 stride 1, same padding -> 112x112x32
 *   mbv2_dw_112_s2  N=1, 112x112x96, 3x3 stride 2, same padding -> 56x56x96
 * in channels_last (the row functions), and the stride-1 shape also in channels_first (the
 * plane functions); and 28x28x64 stride 1 and 2, small enough to stay in L2, for the kernels'
 * own speed; and each ISA's tile transpose on the layout adapter's NCHW -> NHWC copy of a
 * 32 x 112 x 112 image (64 x 64 tiles). Prints the median microseconds of [reps] runs (default 51) and GFLOP/s
 * counted as 2*N*Ho*Wo*C*9. Usage: bench_dwconv_isa [reps]
 */
#define _POSIX_C_SOURCE 199309L
#include <time.h>

#include "test_util.h"

#include "depthwise/f32_dwconv.h"
#include "layout/transpose.h"

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int compare_double(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct pair {
    const char *name;
    conv4j_dwconv_row_fn row, plane;
    conv4j_transpose_tile_fn transpose;
} pair;

static int cpu_runs(const char *isa)
{
#if (defined(__x86_64__) || defined(__amd64__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (strcmp(isa, "avx2") == 0) {
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    if (strcmp(isa, "avx512") == 0) {
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
    }
#endif
    return strcmp(isa, "scalar") == 0;
}

static void bench(const char *label, int32_t size, int32_t channels, int32_t stride,
                  conv4j_layout layout, const pair *pairs, int pair_count, int reps)
{
    conv4j_conv_desc d = test_desc_2d(1, size, size, channels, 3, 3, channels);
    d.groups = channels;
    d.layout = layout;
    d.stride[0] = d.stride[1] = stride;
    /* TF SAME: total pad (out-1)*s + 3 - in, the extra one after. */
    const int32_t out = (size + stride - 1) / stride;
    const int32_t total = (out - 1) * stride + 3 - size;
    d.pad_before[0] = d.pad_before[1] = total / 2;
    d.pad_after[0] = d.pad_after[1] = total - total / 2;
    conv4j_problem p;
    if (conv4j_problem_init(&d, &p) != CONV4J_OK) {
        fprintf(stderr, "%s: bad shape\n", label);
        return;
    }
    test_conv_buffers b;
    if (test_conv_buffers_alloc(&b, &d) != 0) {
        fprintf(stderr, "%s: out of memory\n", label);
        return;
    }
    test_rng rng = {UINT64_C(0x9E3779B97F4A7C15)};
    test_conv_buffers_fill(&b, &rng);
    float *packed = malloc(conv4j_dwconv_packed_kernel_count(&p) * sizeof(float));
    conv4j_dwconv_pack(&p, b.kernel, packed);
    const double flops = 2.0 * (double)p.batch * (double)p.out_h * (double)p.out_w *
                         (double)p.in_channels * 9.0;
    double *times = malloc((size_t)reps * sizeof(double));
    for (int i = 0; i < pair_count; ++i) {
        for (int warm = 0; warm < 5; ++warm) {
            conv4j_dwconv_run_with(&p, pairs[i].row, pairs[i].plane, packed, b.bias, b.input,
                                   b.output, 1);
        }
        for (int r = 0; r < reps; ++r) {
            const double start = now_us();
            conv4j_dwconv_run_with(&p, pairs[i].row, pairs[i].plane, packed, b.bias, b.input,
                                   b.output, 1);
            times[r] = now_us() - start;
        }
        qsort(times, (size_t)reps, sizeof(double), compare_double);
        const double median = times[reps / 2];
        printf("%-16s %-14s %-7s median %9.1f us  (min %9.1f)  %6.2f GFLOP/s\n", label,
               layout == CONV4J_LAYOUT_CHANNELS_LAST ? "channels_last" : "channels_first",
               pairs[i].name, median, times[0], flops / median / 1e3);
    }
    free(times);
    free(packed);
    test_conv_buffers_free(&b);
}

/* One image [rows][cols] -> [cols][rows] in the layout adapter's 64 x 64 tiles. */
static void bench_transpose(const char *label, int64_t rows, int64_t cols, const pair *pairs,
                            int pair_count, int reps)
{
    float *src = malloc((size_t)(rows * cols) * sizeof(float));
    float *dst = malloc((size_t)(rows * cols) * sizeof(float));
    test_rng rng = {UINT64_C(0x9E3779B97F4A7C15)};
    test_fill_random(&rng, src, rows * cols);
    double *times = malloc((size_t)reps * sizeof(double));
    for (int i = 0; i < pair_count; ++i) {
        for (int r = -5; r < reps; ++r) {
            const double start = now_us();
            for (int64_t r0 = 0; r0 < rows; r0 += 64) {
                for (int64_t c0 = 0; c0 < cols; c0 += 64) {
                    pairs[i].transpose(src, dst, rows, cols, r0, c0,
                                       r0 + 64 < rows ? r0 + 64 : rows,
                                       c0 + 64 < cols ? c0 + 64 : cols);
                }
            }
            if (r >= 0) {
                times[r] = now_us() - start;
            }
        }
        qsort(times, (size_t)reps, sizeof(double), compare_double);
        printf("%-16s %-14s %-7s median %9.1f us  (min %9.1f)  %6.2f GB/s moved\n", label,
               "transpose", pairs[i].name, times[reps / 2], times[0],
               2.0 * 4.0 * (double)(rows * cols) / times[reps / 2] / 1e3);
    }
    free(times);
    free(src);
    free(dst);
}

int main(int argc, char **argv)
{
    const int reps = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 51;
    pair pairs[4];
    int count = 0;
    pairs[count++] = (pair){"scalar", conv4j_dwconv_row__scalar, conv4j_dwconv_plane__scalar,
                            conv4j_transpose_tile__scalar};
#ifdef CONV4J_HAVE_AVX2_KERNELS
    if (cpu_runs("avx2")) {
        pairs[count++] = (pair){"avx2", conv4j_dwconv_row__avx2, conv4j_dwconv_plane__avx2,
                                conv4j_transpose_tile__avx2};
    } else {
        printf("avx2: this CPU lacks avx2, not timed\n");
    }
#endif
#ifdef CONV4J_HAVE_AVX512_KERNELS
    if (cpu_runs("avx512")) {
        pairs[count++] = (pair){"avx512", conv4j_dwconv_row__avx512, conv4j_dwconv_plane__avx512,
                                conv4j_transpose_tile__avx512};
    } else {
        printf("avx512: this CPU lacks avx512, not timed\n");
    }
#endif
#ifdef CONV4J_HAVE_NEON_KERNELS
    /* Advanced SIMD is baseline on AArch64. */
    pairs[count++] = (pair){"neon", conv4j_dwconv_row__neon, conv4j_dwconv_plane__neon,
                            conv4j_transpose_tile__neon};
#endif
    (void)cpu_runs;
    printf("1 thread, median of %d runs\n", reps);
    bench("mbv2_dw_112", 112, 32, 1, CONV4J_LAYOUT_CHANNELS_LAST, pairs, count, reps);
    bench("mbv2_dw_112_s2", 112, 96, 2, CONV4J_LAYOUT_CHANNELS_LAST, pairs, count, reps);
    bench("mbv2_dw_112", 112, 32, 1, CONV4J_LAYOUT_CHANNELS_FIRST, pairs, count, reps);
    /* L2-resident (200 KB in, 200 KB out): the kernels' own speed, not memory bandwidth. */
    bench("dw_28x28x64", 28, 64, 1, CONV4J_LAYOUT_CHANNELS_LAST, pairs, count, reps);
    bench("dw_28x28x64_s2", 28, 64, 2, CONV4J_LAYOUT_CHANNELS_LAST, pairs, count, reps);
    bench("dw_28x28x64", 28, 64, 1, CONV4J_LAYOUT_CHANNELS_FIRST, pairs, count, reps);
    /* The layout adapter's input copy for mbv2_dw_112 in channels_first: [32][112*112]. */
    bench_transpose("nchw_112x112x32", 32, 112 * 112, pairs, count, reps);
    return 0;
}

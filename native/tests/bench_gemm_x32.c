/*
 * Single-thread GFLOP/s of the 32-column AVX-512 micro-kernel candidates
 * (14x32, 12x32, 8x32: one source, gemm/f32_igemm_14x32__avx512.c, built
 * with X32_MR overridden) and of the AVX2 6x16 kernel, on the GEMM shapes
 * ResNet-50 and a TCN create, driven as the convolution driver drives them:
 * the whole M in MR-row tiles, each tile over all N with A given as
 * per-segment pointers into the (padded, NHWC) input. Then, on the long-K
 * shapes, the same product with K split into blocks (accumulate epilogue
 * for the blocks after the first) or the panel loop outside the row loop,
 * to see whether keeping the B block in L2 pays.
 *
 * Built, never run by ctest; needs AVX-512 F/VL/BW/DQ. Medians of several
 * timed samples (the machine is shared). Usage: bench_gemm_x32 [seconds
 * per sample, default 0.05].
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/peak_avx512.h"
#include "gemm/f32_gemm.h"
#include "gemm/f32_igemm_x32.h"

#define SAMPLES 9
#define MAX_MR 16

void bench_igemm_14x32__avx512(int64_t, int64_t, int64_t, int64_t, const float *const *,
                               const float *, float *, int64_t, const conv4j_f32_gemm_epilogue *);
void bench_igemm_12x32__avx512(int64_t, int64_t, int64_t, int64_t, const float *const *,
                               const float *, float *, int64_t, const conv4j_f32_gemm_epilogue *);
void bench_igemm_8x32__avx512(int64_t, int64_t, int64_t, int64_t, const float *const *,
                              const float *, float *, int64_t, const conv4j_f32_gemm_epilogue *);

typedef struct kernel {
    const char *name;
    conv4j_f32_igemm_tile_fn tile;
    int64_t mr, nr;
} kernel;

static const kernel kernels[] = {
    {"avx512 14x32", bench_igemm_14x32__avx512, 14, 32},
    {"avx512 12x32", bench_igemm_12x32__avx512, 12, 32},
    {"avx512  8x32", bench_igemm_8x32__avx512, 8, 32},
    {"avx2    6x16", conv4j_f32_igemm_6x16__avx2, 6, 16},
};
#define KERNEL_COUNT (sizeof kernels / sizeof kernels[0])

/* A convolution as an indirect GEMM: output pixel r = (oy, ox), segment s =
 * kernel row ky, the piece kw * C floats of the padded NHWC input. */
typedef struct shape {
    const char *name;
    int64_t out_h, out_w, in_h, in_w, channels, kh, kw, stride, dilation, n;
} shape;

static const shape shapes[] = {
    /* 1x1, 64 -> 256 channels on 56x56: M 3136, K 64, N 256 */
    {"r50_1x1_56", 56, 56, 56, 56, 64, 1, 1, 1, 1, 256},
    /* 7x7 stride 2 on 224x224x3 (padded to 229): M 12544, K 7 x 21, N 64 */
    {"r50_conv1", 112, 112, 229, 229, 3, 7, 7, 2, 1, 64},
    /* 3x3, 64 channels on 56x56 (padded 58): M 3136, K 3 x 192, N 64 */
    {"r50_3x3_56", 56, 56, 58, 58, 64, 3, 3, 1, 1, 64},
    /* 3x3, 512 channels on 7x7 (padded 9): M 49, K 3 x 1536, N 512 */
    {"r50_3x3_7", 7, 7, 9, 9, 512, 3, 3, 1, 1, 512},
    /* 1-D, kernel 3, dilation 2, 128 -> 128 channels over 4096 steps:
     * M 4096, K 3 x 128, N 128 */
    {"tcn1d", 1, 4096, 1, 4100, 128, 3, 1, 1, 2, 128},
    /* 3x3, 256 channels on 14x14 (padded 16): M 196, K 3 x 768, N 256 */
    {"r50_3x3_14", 14, 14, 16, 16, 256, 3, 3, 1, 1, 256},
};
#define SHAPE_COUNT (sizeof shapes / sizeof shapes[0])

/* In the 1-D shape the kernel taps run down the "rows" of a 3 x 4100 view,
 * so segment s is the row s * dilation... expressed as: piece(r, s) =
 * input + ((oy * stride + s * dilation) * in_w + ox * stride) * C, except
 * for the 1-D case where the taps step along x (see piece()). */
static const float *piece(const shape *sh, const float *input, int64_t r, int64_t s)
{
    const int64_t oy = r / sh->out_w, ox = r % sh->out_w;
    if (sh->out_h == 1 && sh->kw == 1) { /* 1-D: tap s at x + s * dilation */
        return input + (ox * sh->stride + s * sh->dilation) * sh->channels;
    }
    return input + ((oy * sh->stride + s * sh->dilation) * sh->in_w + ox * sh->stride) *
                       sh->channels;
}

static int64_t shape_m(const shape *sh) { return sh->out_h * sh->out_w; }
static int64_t shape_length(const shape *sh) { return sh->kw * sh->channels; }
static int64_t shape_k(const shape *sh) { return sh->kh * shape_length(sh); }

/* This thread's CPU time, not wall time: the machine is shared, and time
 * slices given to other processes would otherwise count against a kernel. */
static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_double(const void *x, const void *y)
{
    const double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

typedef struct problem {
    const shape *sh;
    const kernel *kr;
    const float *input, *packed, *bias;
    float *c;
    const float **table; /* per tile: kh * MR pointers, as the driver builds them */
    int64_t k_block;     /* 0: no K blocking (one call per tile over all N) */
    int panel_outer;     /* 1: loop panels outside row tiles, full K */
} problem;

static void build_table(problem *p)
{
    const shape *sh = p->sh;
    const int64_t m = shape_m(sh), mr = p->kr->mr, tiles = (m + mr - 1) / mr;
    const float **t = malloc((size_t)(tiles * sh->kh * mr) * sizeof(*t));
    for (int64_t tile = 0; tile < tiles; ++tile) {
        const int64_t row = tile * mr, h = m - row < mr ? m - row : mr;
        for (int64_t s = 0; s < sh->kh; ++s) {
            for (int64_t i = 0; i < mr; ++i) {
                t[(tile * sh->kh + s) * mr + i] = piece(sh, p->input, row + (i < h ? i : h - 1), s);
            }
        }
    }
    p->table = t;
}

static void run(const problem *p)
{
    const shape *sh = p->sh;
    const int64_t m = shape_m(sh), n = sh->n, mr = p->kr->mr, nr = p->kr->nr;
    const int64_t segments = sh->kh, length = shape_length(sh), k = shape_k(sh);
    const conv4j_f32_gemm_epilogue full = {p->bias, 1, 0};
    if (p->k_block == 0 && !p->panel_outer) {
        for (int64_t row = 0, tile = 0; row < m; row += mr, ++tile) {
            const int64_t h = m - row < mr ? m - row : mr;
            p->kr->tile(h, n, segments, length, p->table + tile * segments * mr, p->packed,
                        p->c + row * n, n, &full);
        }
        return;
    }
    if (p->panel_outer) {
        for (int64_t column = 0; column < n; column += nr) {
            const int64_t w = n - column < nr ? n - column : nr;
            const float *b = p->packed + (column / nr) * k * nr;
            const conv4j_f32_gemm_epilogue e = {p->bias + column, 1, 0};
            for (int64_t row = 0, tile = 0; row < m; row += mr, ++tile) {
                const int64_t h = m - row < mr ? m - row : mr;
                p->kr->tile(h, w, segments, length, p->table + tile * segments * mr, b,
                            p->c + row * n + column, n, &e);
            }
        }
        return;
    }
    /* K blocks of k_block (dividing the segment length): block by block,
     * every row tile, every panel; C accumulates after the first block, the
     * bias and relu come with the last. */
    const int64_t kb = p->k_block, blocks = k / kb;
    for (int64_t block = 0; block < blocks; ++block) {
        const int64_t k0 = block * kb, s = k0 / length, offset = k0 % length;
        const conv4j_f32_gemm_epilogue e = {block == blocks - 1 ? p->bias : NULL,
                                            block == blocks - 1, block > 0};
        for (int64_t row = 0, tile = 0; row < m; row += mr, ++tile) {
            const int64_t h = m - row < mr ? m - row : mr;
            const float *a[MAX_MR];
            for (int64_t i = 0; i < mr; ++i) {
                a[i] = p->table[(tile * segments + s) * mr + i] + offset;
            }
            for (int64_t column = 0; column < n; column += nr) {
                const int64_t w = n - column < nr ? n - column : nr;
                conv4j_f32_gemm_epilogue ec = e;
                ec.bias = e.bias == NULL ? NULL : e.bias + column;
                p->kr->tile(h, w, 1, kb, a, p->packed + (column / nr) * k * nr + k0 * nr,
                            p->c + row * n + column, n, &ec);
            }
        }
    }
}

/* One sample: GFLOP/s over repeated runs of at least `seconds`. */
static double sample(const problem *p, double seconds)
{
    const double flops = 2.0 * (double)shape_m(p->sh) * (double)p->sh->n * (double)shape_k(p->sh);
    int64_t reps = 0;
    const double start = now_seconds();
    double elapsed;
    do {
        run(p);
        ++reps;
        elapsed = now_seconds() - start;
    } while (elapsed < seconds);
    return flops * (double)reps / elapsed * 1e-9;
}

/* Median GFLOP/s of each problem over SAMPLES rounds, the problems taking
 * turns within a round so that a busy spell of the machine hits them all. */
static void measure_all(const problem *problems, size_t count, double seconds, double *medians)
{
    double(*rates)[SAMPLES] = malloc(count * sizeof *rates);
    for (size_t j = 0; j < count; ++j) {
        run(&problems[j]); /* warm */
    }
    for (int i = 0; i < SAMPLES; ++i) {
        for (size_t j = 0; j < count; ++j) {
            rates[j][i] = sample(&problems[j], seconds);
        }
    }
    for (size_t j = 0; j < count; ++j) {
        qsort(rates[j], SAMPLES, sizeof rates[j][0], compare_double);
        medians[j] = rates[j][SAMPLES / 2];
    }
    free(rates);
}

static double peak_gflops(void)
{
    double rates[SAMPLES];
    float sink = 1.0f;
    conv4j_peak_chunk_avx512(2000000, &sink); /* warm the clock */
    for (int i = 0; i < SAMPLES; ++i) {
        const double start = now_seconds();
        const int64_t flops = conv4j_peak_chunk_avx512(2000000, &sink);
        rates[i] = (double)flops / (now_seconds() - start) * 1e-9;
    }
    qsort(rates, SAMPLES, sizeof rates[0], compare_double);
    if (sink != sink) {
        return -1.0;
    }
    return rates[SAMPLES / 2];
}

static float *random_floats(size_t count, uint64_t seed)
{
    float *x = malloc(count * sizeof(float));
    for (size_t i = 0; i < count; ++i) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        x[i] = (float)((int32_t)(seed >> 40) - (1 << 23)) / (float)(1 << 24);
    }
    return x;
}

/* What one tile of m rows costs the library's kernel (MR = 14, K = 3 x 192,
 * B hot), against a full tile: the short-row copies and the 16-column half
 * path at work. */
static void short_tiles(double seconds)
{
    enum { MR = CONV4J_F32_IGEMM_X32_MR, SEGMENTS = 3, LENGTH = 192, K = SEGMENTS * LENGTH };
    float *input = random_floats((size_t)(SEGMENTS * MR * LENGTH), 7);
    float *b = random_floats((size_t)(K * 32), 8);
    float *packed = malloc(conv4j_f32_gemm_packed_b_count(K, 32, 32) * sizeof(float));
    float c[MR * 32];
    conv4j_f32_gemm_pack_b(K, 32, b, 32, 32, packed);
    const float *a[SEGMENTS * MR];
    for (int s = 0; s < SEGMENTS; ++s) {
        for (int i = 0; i < MR; ++i) {
            a[s * MR + i] = input + (s * MR + i) * LENGTH;
        }
    }
    const conv4j_f32_gemm_epilogue e = {NULL, 0, 0};
    printf("\nShort tiles, library kernel %dx32, K %d: ns per tile call (median)\n", MR, K);
    printf("  %4s %10s %10s\n", "m", "n = 32", "n = 16");
    for (int m = 1; m <= MR; ++m) {
        double ns[2];
        for (int half = 0; half <= 1; ++half) {
            double times[SAMPLES];
            for (int i = 0; i < SAMPLES; ++i) {
                int64_t reps = 0;
                const double start = now_seconds();
                double elapsed;
                do {
                    for (int r = 0; r < 100; ++r) {
                        conv4j_f32_igemm_14x32__avx512(m, half ? 16 : 32, SEGMENTS, LENGTH, a,
                                                       packed, c, 32, &e);
                    }
                    reps += 100;
                    elapsed = now_seconds() - start;
                } while (elapsed < seconds / 10);
                times[i] = elapsed / (double)reps * 1e9;
            }
            qsort(times, SAMPLES, sizeof times[0], compare_double);
            ns[half] = times[SAMPLES / 2];
        }
        printf("  %4d %10.0f %10.0f\n", m, ns[0], ns[1]);
    }
    free(input);
    free(b);
    free(packed);
}

int main(int argc, char **argv)
{
    const double seconds = argc > 1 ? atof(argv[1]) : 0.05;
    const double peak = peak_gflops();
    printf("512-bit FMA peak, 1 thread, per second of thread CPU time (median of %d): "
           "%.1f GFLOP/s\n\n", SAMPLES, peak);
    printf("%-12s %6s %5s %4s  %s\n", "shape", "M", "K", "N", "GFLOP/s (% of peak) per kernel");
    printf("%-12s %6s %5s %4s ", "", "", "", "");
    for (size_t ki = 0; ki < KERNEL_COUNT; ++ki) {
        printf(" %16s", kernels[ki].name);
    }
    printf("\n");
    for (size_t si = 0; si < SHAPE_COUNT; ++si) {
        const shape *sh = &shapes[si];
        const int64_t m = shape_m(sh), k = shape_k(sh), n = sh->n;
        const size_t in_count = (size_t)(sh->in_h * sh->in_w * sh->channels);
        float *input = random_floats(in_count, 1 + si);
        float *b = random_floats((size_t)(k * n), 100 + si);
        float *bias = random_floats((size_t)n, 200 + si);
        float *c = malloc((size_t)(m * n) * sizeof(float));
        printf("%-12s %6lld %5lld %4lld ", sh->name, (long long)m, (long long)k, (long long)n);
        fflush(stdout);
        problem problems[KERNEL_COUNT];
        for (size_t ki = 0; ki < KERNEL_COUNT; ++ki) {
            const kernel *kr = &kernels[ki];
            float *packed;
            if (kr->nr == 32) {
                packed = malloc(conv4j_f32_gemm_packed_b_count(k, n, 32) * sizeof(float));
                conv4j_f32_gemm_pack_b(k, n, b, n, 32, packed);
            } else {
                packed = malloc(conv4j_f32_gemm_packed_b_count(k, n, 16) * sizeof(float));
                conv4j_f32_gemm_pack_b(k, n, b, n, 16, packed);
            }
            const problem p = {sh, kr, input, packed, bias, c, NULL, 0, 0};
            problems[ki] = p;
            build_table(&problems[ki]);
        }
        double rates[KERNEL_COUNT];
        measure_all(problems, KERNEL_COUNT, seconds, rates);
        for (size_t ki = 0; ki < KERNEL_COUNT; ++ki) {
            printf(" %7.1f (%5.1f%%)", rates[ki], 100.0 * rates[ki] / peak);
            free((void *)problems[ki].table);
            free((void *)problems[ki].packed);
        }
        printf("\n");
        free(input);
        free(b);
        free(bias);
        free(c);
    }

    /* K blocking: the shapes whose packed B outgrows the 1 MB L2. */
    printf("\nK blocking (avx512 kernels; B block = k_block x N x 4 bytes; "
           "'panel-outer' = full K, panels outside the row tiles)\n");
    static const int64_t blocks[] = {0, -1, 1536, 768, 512, 384, 256, 192, 128, 64};
    for (size_t si = 0; si < SHAPE_COUNT; ++si) {
        const shape *sh = &shapes[si];
        const int64_t m = shape_m(sh), k = shape_k(sh), n = sh->n, length = shape_length(sh);
        if (k * n * 4 <= (1 << 20) / 2) {
            continue; /* B already fits L2 with room */
        }
        const size_t in_count = (size_t)(sh->in_h * sh->in_w * sh->channels);
        float *input = random_floats(in_count, 1 + si);
        float *b = random_floats((size_t)(k * n), 100 + si);
        float *bias = random_floats((size_t)n, 200 + si);
        float *c = malloc((size_t)(m * n) * sizeof(float));
        printf("%s (M %lld, K %lld, N %lld, packed B %.1f MB):\n", sh->name, (long long)m,
               (long long)k, (long long)n, (double)(k * n * 4) / (1 << 20));
        for (size_t ki = 0; ki < KERNEL_COUNT; ++ki) {
            const kernel *kr = &kernels[ki];
            if (kr->nr != 32) {
                continue;
            }
            float *packed = malloc(conv4j_f32_gemm_packed_b_count(k, n, 32) * sizeof(float));
            conv4j_f32_gemm_pack_b(k, n, b, n, 32, packed);
            printf("  %s:", kr->name);
            fflush(stdout);
            problem problems[sizeof blocks / sizeof blocks[0]];
            int64_t chosen[sizeof blocks / sizeof blocks[0]];
            size_t count = 0;
            for (size_t bi = 0; bi < sizeof blocks / sizeof blocks[0]; ++bi) {
                problem p = {sh, kr, input, packed, bias, c, NULL, 0, 0};
                if (blocks[bi] == -1) {
                    p.panel_outer = 1;
                } else if (blocks[bi] > 0) {
                    if (length % blocks[bi] != 0 || blocks[bi] >= k) {
                        continue;
                    }
                    p.k_block = blocks[bi];
                }
                build_table(&p);
                chosen[count] = blocks[bi];
                problems[count++] = p;
            }
            double rates[sizeof blocks / sizeof blocks[0]];
            measure_all(problems, count, seconds, rates);
            for (size_t j = 0; j < count; ++j) {
                if (chosen[j] == 0) {
                    printf(" none %.1f", rates[j]);
                } else if (chosen[j] == -1) {
                    printf(" | panel-outer %.1f", rates[j]);
                } else {
                    printf(" | %lld (%.0f KB) %.1f", (long long)chosen[j],
                           (double)(chosen[j] * n * 4) / 1024, rates[j]);
                }
                free((void *)problems[j].table);
            }
            printf("\n");
            free(packed);
        }
        free(input);
        free(b);
        free(bias);
        free(c);
    }
    short_tiles(seconds);
    printf("\npeak again at the end: %.1f GFLOP/s\n", peak_gflops());
    return 0;
}

/* Tiny shared helpers for the conv4j C tests: checks, a summary, a PRNG and
 * descriptor builders. Header-only so every test stays one executable. */
#ifndef CONV4J_TEST_UTIL_H
#define CONV4J_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <malloc.h>
#endif

#include "conv4j.h"

static int test_check_count;
static int test_failure_count;

/* Prints only the first failures so a broken kernel does not flood the log. */
#define TEST_PRINTED_FAILURES 30
#define CHECK(condition, ...)                                                  \
    do {                                                                       \
        ++test_check_count;                                                    \
        if (!(condition)) {                                                    \
            if (++test_failure_count <= TEST_PRINTED_FAILURES) {               \
                fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__,         \
                        __LINE__, #condition);                                 \
                fprintf(stderr, __VA_ARGS__);                                  \
                fputc('\n', stderr);                                           \
            }                                                                  \
        }                                                                      \
    } while (0)

#define CHECK_STATUS(expression, expected)                                     \
    do {                                                                       \
        const conv4j_status check_status_got_ = (expression);                  \
        CHECK(check_status_got_ == (expected), "got %d (%s), expected %d (%s)", \
              (int)check_status_got_, conv4j_status_string(check_status_got_),  \
              (int)(expected), conv4j_status_string(expected));                 \
    } while (0)

static inline int test_summary(const char *name)
{
    printf("%s: %d checks, %d failures -> %s\n", name, test_check_count,
           test_failure_count, test_failure_count == 0 ? "PASS" : "FAIL");
    return test_failure_count == 0 ? 0 : 1;
}

/* 64-byte aligned memory for a caller workspace, freed with test_aligned_free. Windows' C
 * runtime has neither aligned_alloc nor posix_memalign, only _aligned_malloc. */
static inline void *test_aligned_alloc(size_t size)
{
#ifdef _WIN32
    return _aligned_malloc(size, 64);
#else
    return aligned_alloc(64, (size + 63) / 64 * 64); /* C11: a multiple of the alignment */
#endif
}

static inline void test_aligned_free(void *memory)
{
#ifdef _WIN32
    _aligned_free(memory);
#else
    free(memory);
#endif
}

/* xorshift64*: small, fixed-seed reproducible on every platform. */
typedef struct test_rng {
    uint64_t state;
} test_rng;

static inline uint64_t test_rng_next(test_rng *rng)
{
    rng->state ^= rng->state >> 12;
    rng->state ^= rng->state << 25;
    rng->state ^= rng->state >> 27;
    return rng->state * UINT64_C(2685821657736338717);
}

/* Uniform in [low, high]. */
static inline int32_t test_rng_int(test_rng *rng, int32_t low, int32_t high)
{
    return low + (int32_t)(test_rng_next(rng) % (uint64_t)(high - low + 1));
}

/* Uniform in [-1, 1) on a 2^-23 grid. */
static inline float test_rng_float(test_rng *rng)
{
    return (float)((int32_t)(test_rng_next(rng) >> 40) - (1 << 23)) / (float)(1 << 23);
}

/* count values from test_rng_float, drawn in order. */
static inline void test_fill_random(test_rng *rng, float *values, int64_t count)
{
    for (int64_t i = 0; i < count; ++i) {
        values[i] = test_rng_float(rng);
    }
}

/* The one optional flag a test takes ([--expect-isa=scalar] for the runs ctest repeats with the
 * ISA capped): 1 when given, 0 when not, -1 after printing the usage for anything else (exit 2). */
static inline int test_flag_arg(int argc, char **argv, const char *flag)
{
    int given = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], flag) == 0) {
            given = 1;
        } else {
            fprintf(stderr, "usage: %s [%s]\n", argv[0], flag);
            return -1;
        }
    }
    return given;
}

/* A valid-padding, stride-1, undilated, ungrouped, channels_last descriptor. */
static inline conv4j_conv_desc test_desc_1d(int32_t batch, int32_t length, int32_t in_channels,
                                            int32_t kernel, int32_t out_channels)
{
    conv4j_conv_desc d;
    memset(&d, 0, sizeof d);
    d.rank = 1;
    d.batch = batch;
    d.in_size[0] = length;
    d.in_channels = in_channels;
    d.out_channels = out_channels;
    d.kernel[0] = kernel;
    d.stride[0] = 1;
    d.dilation[0] = 1;
    d.groups = 1;
    d.layout = CONV4J_LAYOUT_CHANNELS_LAST;
    d.activation = CONV4J_ACTIVATION_NONE;
    d.algorithm = CONV4J_ALGORITHM_AUTO;
    return d;
}

static inline conv4j_conv_desc test_desc_2d(int32_t batch, int32_t height, int32_t width,
                                            int32_t in_channels, int32_t kernel_h,
                                            int32_t kernel_w, int32_t out_channels)
{
    conv4j_conv_desc d = test_desc_1d(batch, height, in_channels, kernel_h, out_channels);
    d.rank = 2;
    d.in_size[1] = width;
    d.kernel[1] = kernel_w;
    d.stride[1] = 1;
    d.dilation[1] = 1;
    return d;
}

/* Rank 3: D, H, W at indices 0, 1, 2 (test_desc_2d plus a leading depth axis). */
static inline conv4j_conv_desc test_desc_3d(int32_t batch, int32_t depth, int32_t height,
                                            int32_t width, int32_t in_channels, int32_t kernel_d,
                                            int32_t kernel_h, int32_t kernel_w,
                                            int32_t out_channels)
{
    conv4j_conv_desc d = test_desc_2d(batch, depth, height, in_channels, kernel_d, kernel_h,
                                      out_channels);
    d.rank = 3;
    d.in_size[2] = width;
    d.kernel[2] = kernel_w;
    d.stride[2] = 1;
    d.dilation[2] = 1;
    return d;
}

static inline int64_t test_spatial(const conv4j_conv_desc *d, const int32_t sizes[3])
{
    int64_t product = 1;
    for (int i = 0; i < d->rank && i < 3; ++i) {
        product *= sizes[i];
    }
    return product;
}

static inline int64_t test_input_count(const conv4j_conv_desc *d)
{
    return (int64_t)d->batch * test_spatial(d, d->in_size) * d->in_channels;
}

static inline int64_t test_kernel_count(const conv4j_conv_desc *d)
{
    return test_spatial(d, d->kernel) * (d->in_channels / d->groups) * d->out_channels;
}

/* Output element count, or -1 when the descriptor is invalid. */
static inline int64_t test_output_count(const conv4j_conv_desc *d)
{
    int32_t out[3];
    if (conv4j_output_size(d, out) != CONV4J_OK) {
        return -1;
    }
    return (int64_t)d->batch * test_spatial(d, out) * d->out_channels;
}

/* The caller's buffers of one convolution, zero-filled, sized for a valid descriptor. */
typedef struct test_conv_buffers {
    int64_t input_count, kernel_count, bias_count, output_count;
    float *input, *kernel, *bias, *output;
} test_conv_buffers;

static inline void test_conv_buffers_free(test_conv_buffers *b)
{
    free(b->input);
    free(b->kernel);
    free(b->bias);
    free(b->output);
    memset(b, 0, sizeof *b);
}

/* 0 on success; -1, with nothing left to free, for an invalid descriptor or out of memory. */
static inline int test_conv_buffers_alloc(test_conv_buffers *b, const conv4j_conv_desc *d)
{
    memset(b, 0, sizeof *b);
    b->output_count = test_output_count(d);
    if (b->output_count < 0) {
        return -1;
    }
    b->input_count = test_input_count(d);
    b->kernel_count = test_kernel_count(d);
    b->bias_count = d->out_channels;
    /* At least one element each: calloc(0) may return NULL. */
    b->input = calloc((size_t)(b->input_count > 0 ? b->input_count : 1), sizeof(float));
    b->kernel = calloc((size_t)(b->kernel_count > 0 ? b->kernel_count : 1), sizeof(float));
    b->bias = calloc((size_t)(b->bias_count > 0 ? b->bias_count : 1), sizeof(float));
    b->output = calloc((size_t)(b->output_count > 0 ? b->output_count : 1), sizeof(float));
    if (b->input && b->kernel && b->bias && b->output) {
        return 0;
    }
    test_conv_buffers_free(b);
    return -1;
}

/* Random input, kernel and bias, drawn in that order. */
static inline void test_conv_buffers_fill(test_conv_buffers *b, test_rng *rng)
{
    test_fill_random(rng, b->input, b->input_count);
    test_fill_random(rng, b->kernel, b->kernel_count);
    test_fill_random(rng, b->bias, b->bias_count);
}

/* What the data of a case looks like (issue 12): the accuracy contract must hold on all of them. */
typedef enum test_data_kind {
    TEST_DATA_DENSE = 0,   /* uniform in [-1, 1) */
    TEST_DATA_SPARSE,      /* nine in ten exactly 0, the rest uniform */
    TEST_DATA_POST_RELU,   /* max(x, 0) with whole all-zero rectangles of pixels (input only) */
    TEST_DATA_LARGE_RANGE, /* random sign, magnitude 10^[-3, 3] */
    TEST_DATA_MIXED_SIGN,  /* input ~0.75 + small noise, weights alternating sign: outputs cancel */
    TEST_DATA_KINDS
} test_data_kind;

static inline const char *test_data_kind_name(test_data_kind kind)
{
    static const char *const names[] = {"dense", "sparse", "post-relu", "large-range", "mixed-sign"};
    return kind >= 0 && kind < TEST_DATA_KINDS ? names[kind] : "?";
}

/* Uniform in [0, 1). */
static inline double test_rng_unit(test_rng *rng)
{
    return (double)(test_rng_next(rng) >> 11) / 9007199254740992.0;
}

/* count values of one kind; is_input says whether they are an input tensor (mixed-sign data is
 * a positive input against alternating weights). Post-relu fills here lack the zero rectangles:
 * test_fill_input_kind adds them. */
static inline void test_fill_kind(test_rng *rng, float *values, int64_t count, test_data_kind kind,
                                  int is_input)
{
    for (int64_t i = 0; i < count; ++i) {
        float v = test_rng_float(rng);
        switch (kind) {
        case TEST_DATA_SPARSE:
            v = test_rng_int(rng, 0, 9) == 0 ? v : 0.0f;
            break;
        case TEST_DATA_POST_RELU:
            v = is_input ? (v > 0.0f ? v : 0.0f) : v;
            break;
        case TEST_DATA_LARGE_RANGE: {
            const double magnitude = pow(10.0, -3.0 + 6.0 * test_rng_unit(rng));
            v = (float)(v < 0.0f ? -magnitude : magnitude);
            break;
        }
        case TEST_DATA_MIXED_SIGN:
            v = is_input ? 0.75f + v / 64.0f : (i % 2 == 0 ? 1.0f : -1.0f) * (0.5f + fabsf(v) / 2.0f);
            break;
        default:
            break;
        }
        values[i] = v;
    }
}

/* An input tensor of desc of one kind; post-relu also zeroes one to three rectangles of whole
 * pixels (every channel), up to half of each spatial size, so that many outputs see only zeros. */
static inline void test_fill_input_kind(test_rng *rng, const conv4j_conv_desc *d, float *input,
                                        test_data_kind kind)
{
    const int64_t count = test_input_count(d);
    test_fill_kind(rng, input, count, kind, 1);
    if (kind != TEST_DATA_POST_RELU) {
        return;
    }
    /* Rank 3 merges D and H, which are adjacent in both layouts. */
    const int32_t h = d->rank == 1 ? 1 : d->rank == 2 ? d->in_size[0] : d->in_size[0] * d->in_size[1];
    const int32_t w = d->in_size[d->rank - 1];
    const int32_t c = d->in_channels;
    const int rectangles = test_rng_int(rng, 1, 3);
    for (int r = 0; r < rectangles; ++r) {
        const int32_t n = test_rng_int(rng, 0, d->batch - 1);
        const int32_t rh = test_rng_int(rng, 1, h > 1 ? (h + 1) / 2 : 1);
        const int32_t rw = test_rng_int(rng, 1, w > 1 ? (w + 1) / 2 : 1);
        const int32_t y0 = test_rng_int(rng, 0, h - rh);
        const int32_t x0 = test_rng_int(rng, 0, w - rw);
        for (int32_t y = y0; y < y0 + rh; ++y) {
            for (int32_t x = x0; x < x0 + rw; ++x) {
                for (int32_t ch = 0; ch < c; ++ch) {
                    const int64_t at = d->layout == CONV4J_LAYOUT_CHANNELS_LAST
                                           ? (((int64_t)n * h + y) * w + x) * c + ch
                                           : (((int64_t)n * c + ch) * h + y) * w + x;
                    input[at] = 0.0f;
                }
            }
        }
    }
}

/* Loop bounds for "every algorithm" and "threads 0, 1 and 2". */
#define TEST_ALGORITHM_COUNT 6
static inline conv4j_algorithm test_algorithm(int index)
{
    return (conv4j_algorithm)index; /* AUTO, DIRECT, REFERENCE, GEMM, WINOGRAD, DEPTHWISE */
}
#define TEST_THREAD_COUNTS 3 /* threads = index: 0 (all), 1, 2 */

/* AUTO, DIRECT and REFERENCE take every valid problem; the specialized
 * algorithms may refuse one with CONV4J_ERR_UNSUPPORTED when forced. */
static inline int test_algorithm_accepts_all(conv4j_algorithm algorithm)
{
    return algorithm == CONV4J_ALGORITHM_AUTO || algorithm == CONV4J_ALGORITHM_DIRECT ||
           algorithm == CONV4J_ALGORITHM_REFERENCE;
}

/* Creates a plan forcing desc->algorithm. Returns NULL, after checking that
 * the refusal was CONV4J_ERR_UNSUPPORTED from an algorithm allowed to refuse,
 * when it does not accept the problem. */
static inline conv4j_plan *test_plan_or_refusal(const conv4j_conv_desc *desc, const float *kernel,
                                                const float *bias)
{
    conv4j_plan *plan = NULL;
    const conv4j_status status = conv4j_plan_create(desc, kernel, bias, &plan);
    const conv4j_algorithm algorithm = (conv4j_algorithm)desc->algorithm;
    if (test_algorithm_accepts_all(algorithm)) {
        CHECK_STATUS(status, CONV4J_OK);
    } else {
        CHECK(status == CONV4J_OK || status == CONV4J_ERR_UNSUPPORTED,
              "forced %s: status %d (%s)", conv4j_algorithm_name(algorithm), (int)status,
              conv4j_status_string(status));
    }
    CHECK((status == CONV4J_OK) == (plan != NULL), "status %d but plan %p", (int)status,
          (void *)plan);
    return plan;
}

/* A value from the tile tails: one below, at and one above multiples of the
 * SIMD widths 8 and 16 (and the 6-row GEMM tile), plus 1. */
static inline int32_t test_tail_value(test_rng *rng, int32_t low, int32_t high)
{
    static const int32_t tails[] = {1,  2,  5,  6,  7,  8,  9,  12, 13, 15, 16, 17, 23, 24,
                                    25, 31, 32, 33, 47, 48, 49, 63, 64, 65, 70};
    const int count = (int)(sizeof tails / sizeof tails[0]);
    for (int attempt = 0; attempt < 8; ++attempt) {
        const int32_t value = tails[test_rng_int(rng, 0, count - 1)];
        if (value >= low && value <= high) {
            return value;
        }
    }
    return test_rng_int(rng, low, high);
}

#endif /* CONV4J_TEST_UTIL_H */

/* The rounding-error bound of the C tests and fuzz targets as a reusable check:
 *
 *   |got - ref| <= 2 * gamma(n + 1) * M + u * |ref| + FLT_MIN
 *
 * u = 2^-24, gamma(m) = m u / (1 - m u), n = KH * KW * Cin / groups taps per output, M the
 * reference run on |x|, |w|, |b| (see test_plan_vs_reference.c for why this holds for any
 * summation order). Non-finite values: the class must match the reference exactly (NaN, +Inf,
 * -Inf); a finite result where the reference is not, or the reverse, fails.
 *
 * Header-only; needs test_util.h first. */
#ifndef CONV4J_TEST_BOUND_H
#define CONV4J_TEST_BOUND_H

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "test_util.h"

typedef struct test_oracle {
    int64_t count;
    double gamma;
    float *reference; /* conv4j_reference_conv on the data */
    float *magnitude; /* the same on |data|, without activation */
} test_oracle;

/* 0 on success; the oracle owns two buffers until test_oracle_free. */
static inline int test_oracle_init(test_oracle *o, const conv4j_conv_desc *desc, const float *input,
                                   const float *kernel, const float *bias)
{
    memset(o, 0, sizeof *o);
    o->count = test_output_count(desc);
    if (o->count < 0) {
        return -1;
    }
    const int64_t in_count = test_input_count(desc);
    const int64_t kernel_count = test_kernel_count(desc);
    o->reference = malloc((size_t)o->count * sizeof(float));
    o->magnitude = malloc((size_t)o->count * sizeof(float));
    float *abs_input = malloc((size_t)in_count * sizeof(float));
    float *abs_kernel = malloc((size_t)kernel_count * sizeof(float));
    float *abs_bias = malloc((size_t)desc->out_channels * sizeof(float));
    int status = -1;
    if (o->reference && o->magnitude && abs_input && abs_kernel && abs_bias) {
        for (int64_t i = 0; i < in_count; ++i) {
            abs_input[i] = fabsf(input[i]);
        }
        for (int64_t i = 0; i < kernel_count; ++i) {
            abs_kernel[i] = fabsf(kernel[i]);
        }
        for (int32_t i = 0; bias != NULL && i < desc->out_channels; ++i) {
            abs_bias[i] = fabsf(bias[i]);
        }
        conv4j_conv_desc plain = *desc;
        plain.algorithm = CONV4J_ALGORITHM_AUTO;
        conv4j_conv_desc magnitude_desc = plain;
        magnitude_desc.activation = CONV4J_ACTIVATION_NONE;
        if (conv4j_reference_conv(&plain, input, kernel, bias, o->reference) == CONV4J_OK &&
            conv4j_reference_conv(&magnitude_desc, abs_input, abs_kernel,
                                  bias != NULL ? abs_bias : NULL, o->magnitude) == CONV4J_OK) {
            status = 0;
        }
    }
    free(abs_input);
    free(abs_kernel);
    free(abs_bias);
    const double u = ldexp(1.0, -24);
    const double taps = (double)kernel_count / desc->out_channels + 1.0;
    o->gamma = taps * u / (1.0 - taps * u);
    return status;
}

static inline void test_oracle_free(test_oracle *o)
{
    free(o->reference);
    free(o->magnitude);
    o->reference = NULL;
    o->magnitude = NULL;
}

/* The largest |got - reference| allowed for element i (meaningful where the reference is finite). */
static inline double test_oracle_bound(const test_oracle *o, int64_t i)
{
    const double u = ldexp(1.0, -24);
    return 2.0 * o->gamma * (double)o->magnitude[i] + u * fabs((double)o->reference[i]) + FLT_MIN;
}

/* Whether one element is acceptable. */
static inline int test_oracle_accepts(const test_oracle *o, int64_t i, float got)
{
    const float ref = o->reference[i];
    if (isnan(ref)) {
        return isnan(got);
    }
    if (isinf(ref)) {
        return got == ref;
    }
    if (!isfinite(got)) {
        return 0;
    }
    return fabs((double)got - (double)ref) <= test_oracle_bound(o, i);
}

/* Number of elements outside the bound; the first is printed with what, unless CHECK has
 * already printed all the failures it prints (a broken kernel must not flood the log). */
static inline int64_t test_oracle_mismatches(const test_oracle *o, const float *got, const char *what)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < o->count; ++i) {
        if (!test_oracle_accepts(o, i, got[i])) {
            if (bad == 0 && test_failure_count < TEST_PRINTED_FAILURES) {
                fprintf(stderr, "%s: element %lld got %.9g reference %.9g magnitude %.9g\n", what,
                        (long long)i, (double)got[i], (double)o->reference[i],
                        (double)o->magnitude[i]);
            }
            ++bad;
        }
    }
    return bad;
}

/* One line naming a descriptor, for failure messages. */
static inline void test_describe(const conv4j_conv_desc *d, char *text, size_t capacity)
{
    snprintf(text, capacity,
             "rank=%d N=%d in=%dx%d Cin=%d Cout=%d k=%dx%d s=%dx%d d=%dx%d pad=%d,%d/%d,%d "
             "groups=%d layout=%d act=%d",
             d->rank, d->batch, d->in_size[0], d->in_size[1], d->in_channels, d->out_channels,
             d->kernel[0], d->kernel[1], d->stride[0], d->stride[1], d->dilation[0],
             d->dilation[1], d->pad_before[0], d->pad_before[1], d->pad_after[0],
             d->pad_after[1], d->groups, d->layout, d->activation);
}

/* Every algorithm code after AUTO, including those still being written: a forced algorithm
 * that answers CONV4J_ERR_UNSUPPORTED is skipped for that case, and the tests count what ran. */
#define TEST_FIRST_FORCED_ALGORITHM CONV4J_ALGORITHM_DIRECT
#define TEST_LAST_FORCED_ALGORITHM CONV4J_ALGORITHM_DEPTHWISE

#endif /* CONV4J_TEST_BOUND_H */

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
             "rank=%d N=%d in=%dx%dx%d Cin=%d Cout=%d k=%dx%dx%d s=%dx%dx%d d=%dx%dx%d "
             "pad=%d,%d,%d/%d,%d,%d groups=%d layout=%d act=%d",
             d->rank, d->batch, d->in_size[0], d->in_size[1], d->in_size[2], d->in_channels,
             d->out_channels, d->kernel[0], d->kernel[1], d->kernel[2], d->stride[0],
             d->stride[1], d->stride[2], d->dilation[0], d->dilation[1], d->dilation[2],
             d->pad_before[0], d->pad_before[1], d->pad_before[2], d->pad_after[0],
             d->pad_after[1], d->pad_after[2], d->groups, d->layout, d->activation);
}

/* ---- Winograd F(4x4, 3x3)'s own bound (README "Semantics") ----
 *
 *   |got - exact| <= gamma(Cin + 18) * (T + |b|),
 *   T(i, j) = sum_c sum_{k,l in 3x3} sum_{p,q in the 6x6 tile} K[i][k][p] K[j][l][q] |w(k,l,c)| |x(p,q,c)|
 *
 * with K[i][k][p] = sum_xi |A^T|(i,xi) |G|(xi,k) |B^T|(xi,p) from the transform matrices of
 * native/src/winograd/f32_conv_winograd.c (points 0, -1, 1, 1/2, -2). Each term of the result is
 * a product of a tap, a pixel, transform coefficients and at most Cin + 18 factors (1 + delta):
 * <= 4 roundings in each 1-D input transform (two), 1 for the filter transform rounded to float,
 * Cin in the channel sum, <= 4 in each 1-D output transform (two), 1 for the bias; Higham's
 * gamma(Cin + 18) bounds their product, and |sum of terms| <= T. A direct sum is the same
 * expression with K = 1 where p = i + k and 0 elsewhere; max K = 14/3, so
 * T <= (14/3)^2 * sum_c (sum_{3x3} |w_c|) (sum_{6x6 tile} |x_c|). Tests allow twice the bound plus
 * u |ref| + FLT_MIN, as for the direct-sum bound. */
#define TEST_WINOGRAD_ROUNDINGS 18

static inline void test_winograd_k(double k_out[4][3][6])
{
    static const double bt[6][6] = {{1, -1.5, -2, 1.5, 1, 0},  {0, 1, -2.5, 0.5, 1, 0},
                                     {0, -1, 0.5, 2.5, 1, 0},   {0, -2, -1, 2, 1, 0},
                                     {0, 0.5, -1, -0.5, 1, 0}, {0, 1, -1.5, -2, 1.5, 1}};
    static const double g[6][3] = {{1.0, 0.0, 0.0},
                                   {-1.0 / 3, 1.0 / 3, -1.0 / 3},
                                   {1.0 / 3, 1.0 / 3, 1.0 / 3},
                                   {-16.0 / 15, -8.0 / 15, -4.0 / 15},
                                   {1.0 / 15, -2.0 / 15, 4.0 / 15},
                                   {0.0, 0.0, 1.0}};
    static const double at[4][6] = {
        {1, 1, 1, 1, 1, 0}, {0, -1, 1, 0.5, -2, 0}, {0, 1, 1, 0.25, 4, 0}, {0, -1, 1, 0.125, -8, 1}};
    for (int i = 0; i < 4; ++i) {
        for (int k = 0; k < 3; ++k) {
            for (int p = 0; p < 6; ++p) {
                double sum = 0.0, exact = 0.0;
                for (int xi = 0; xi < 6; ++xi) {
                    sum += fabs(at[i][xi]) * fabs(g[xi][k]) * fabs(bt[xi][p]);
                    exact += at[i][xi] * g[xi][k] * bt[xi][p];
                }
                /* The matrices compute the correlation: A^T[(G w) . (B^T x)](i) = sum_k x(i + k) w(k). */
                CHECK(fabs(exact - (p == i + k ? 1.0 : 0.0)) < 1e-12, "winograd transforms: (%d,%d,%d) = %g",
                      i, k, p, exact);
                k_out[i][k][p] = sum;
            }
        }
    }
}

static inline int64_t test_tensor_index(const conv4j_conv_desc *d, int32_t channels, int64_t h,
                                        int64_t w, int64_t n, int64_t y, int64_t x, int64_t c)
{
    return d->layout == CONV4J_LAYOUT_CHANNELS_LAST ? ((n * h + y) * w + x) * channels + c
                                                    : ((n * channels + c) * h + y) * w + x;
}

/* T of every output of a 2-D 3x3 stride-1 descriptor (either layout), without the bias; 0 on success. */
static inline int test_winograd_magnitude(const conv4j_conv_desc *d, const float *input, const float *kernel,
                                          double *t_out)
{
    int32_t out[3];
    if (d->rank != 2 || d->kernel[0] != 3 || d->kernel[1] != 3 || conv4j_output_size(d, out) != CONV4J_OK) {
        return -1;
    }
    double kk[4][3][6];
    test_winograd_k(kk);
    const int64_t cin = d->in_channels, cout = d->out_channels;
    const int64_t tiles_h = (out[0] + 3) / 4, tiles_w = (out[1] + 3) / 4;
    double *e = malloc((size_t)cin * 144 * sizeof(double)); /* E_c[i][k][j][l] */
    double *t = malloc((size_t)cout * 16 * sizeof(double));
    if (e == NULL || t == NULL) {
        free(e);
        free(t);
        return -1;
    }
    for (int64_t n = 0; n < d->batch; ++n) {
        for (int64_t ty = 0; ty < tiles_h; ++ty) {
            for (int64_t tx = 0; tx < tiles_w; ++tx) {
                const int64_t y0 = ty * 4 - d->pad_before[0], x0 = tx * 4 - d->pad_before[1];
                for (int64_t c = 0; c < cin; ++c) {
                    double tile[6][6];
                    for (int p = 0; p < 6; ++p) {
                        for (int q = 0; q < 6; ++q) {
                            const int64_t y = y0 + p, x = x0 + q;
                            const int inside = y >= 0 && y < d->in_size[0] && x >= 0 && x < d->in_size[1];
                            tile[p][q] = inside ? fabs((double)input[test_tensor_index(
                                                      d, d->in_channels, d->in_size[0], d->in_size[1], n, y, x, c)])
                                                : 0.0;
                        }
                    }
                    double half[4][3][6]; /* sum_p K[i][k][p] tile[p][q] */
                    for (int i = 0; i < 4; ++i) {
                        for (int k = 0; k < 3; ++k) {
                            for (int q = 0; q < 6; ++q) {
                                double sum = 0.0;
                                for (int p = 0; p < 6; ++p) {
                                    sum += kk[i][k][p] * tile[p][q];
                                }
                                half[i][k][q] = sum;
                            }
                        }
                    }
                    double *ec = e + c * 144;
                    for (int i = 0; i < 4; ++i) {
                        for (int k = 0; k < 3; ++k) {
                            for (int j = 0; j < 4; ++j) {
                                for (int l = 0; l < 3; ++l) {
                                    double sum = 0.0;
                                    for (int q = 0; q < 6; ++q) {
                                        sum += kk[j][l][q] * half[i][k][q];
                                    }
                                    ec[((i * 3 + k) * 4 + j) * 3 + l] = sum;
                                }
                            }
                        }
                    }
                }
                memset(t, 0, (size_t)cout * 16 * sizeof(double));
                for (int64_t c = 0; c < cin; ++c) {
                    const double *ec = e + c * 144;
                    for (int64_t co = 0; co < cout; ++co) {
                        double *tc = t + co * 16;
                        for (int k = 0; k < 3; ++k) {
                            for (int l = 0; l < 3; ++l) {
                                const double w = fabs((double)kernel[((k * 3 + l) * cin + c) * cout + co]);
                                if (w == 0.0) {
                                    continue;
                                }
                                for (int i = 0; i < 4; ++i) {
                                    for (int j = 0; j < 4; ++j) {
                                        tc[i * 4 + j] += w * ec[((i * 3 + k) * 4 + j) * 3 + l];
                                    }
                                }
                            }
                        }
                    }
                }
                for (int i = 0; i < 4 && ty * 4 + i < out[0]; ++i) {
                    for (int j = 0; j < 4 && tx * 4 + j < out[1]; ++j) {
                        for (int64_t co = 0; co < cout; ++co) {
                            t_out[test_tensor_index(d, d->out_channels, out[0], out[1], n, ty * 4 + i, tx * 4 + j,
                                                    co)] = t[co * 16 + i * 4 + j];
                        }
                    }
                }
            }
        }
    }
    free(e);
    free(t);
    return 0;
}

/* The output channel of output element i. */
static inline int64_t test_output_channel(const conv4j_conv_desc *d, int64_t i)
{
    int32_t out[3];
    conv4j_output_size(d, out);
    return d->layout == CONV4J_LAYOUT_CHANNELS_LAST ? i % d->out_channels
                                                    : i / test_spatial(d, out) % d->out_channels;
}

/* Twice the Winograd bound plus the reference's rounding, for element i with magnitude t. */
static inline double test_winograd_bound(const conv4j_conv_desc *d, double t, const float *bias, int64_t i,
                                         float ref)
{
    const double u = ldexp(1.0, -24);
    const double m = (double)d->in_channels + TEST_WINOGRAD_ROUNDINGS;
    const double gamma = m * u / (1.0 - m * u);
    const double b = bias != NULL ? fabs((double)bias[test_output_channel(d, i)]) : 0.0;
    return 2.0 * gamma * (t + b) + u * fabs((double)ref) + FLT_MIN;
}

/* Elements of a Winograd result outside its bound (non-finite references as test_oracle_accepts
 * has them); the first is printed with what; worst (if not NULL) takes the largest ratio. */
static inline int64_t test_winograd_mismatches(const test_oracle *o, const conv4j_conv_desc *d,
                                               const float *input, const float *kernel, const float *bias,
                                               const float *got, const char *what, double *worst)
{
    double *t = calloc((size_t)(o->count > 0 ? o->count : 1), sizeof(double));
    if (t == NULL || test_winograd_magnitude(d, input, kernel, t) != 0) {
        free(t);
        CHECK(0, "%s: no winograd magnitude (out of memory or not a 3x3 Conv2D)", what);
        return o->count;
    }
    int64_t bad = 0;
    for (int64_t i = 0; i < o->count; ++i) {
        const float ref = o->reference[i];
        int ok;
        if (!isfinite(ref) || !isfinite(got[i])) {
            ok = test_oracle_accepts(o, i, got[i]);
        } else {
            const double ratio = fabs((double)got[i] - (double)ref) / test_winograd_bound(d, t[i], bias, i, ref);
            ok = ratio <= 1.0;
            if (worst != NULL && ratio > *worst) {
                *worst = ratio;
            }
        }
        if (!ok) {
            if (bad == 0 && test_failure_count < TEST_PRINTED_FAILURES) {
                fprintf(stderr, "%s: element %lld got %.9g reference %.9g winograd magnitude %.9g\n", what,
                        (long long)i, (double)got[i], (double)ref, t[i]);
            }
            ++bad;
        }
    }
    free(t);
    return bad;
}

/* Every algorithm code after AUTO, including those still being written: a forced algorithm
 * that answers CONV4J_ERR_UNSUPPORTED is skipped for that case, and the tests count what ran. */
#define TEST_FIRST_FORCED_ALGORITHM CONV4J_ALGORITHM_DIRECT
#define TEST_LAST_FORCED_ALGORITHM CONV4J_ALGORITHM_DEPTHWISE

/* A test that forces every algorithm passes vacuously if a specialized one refuses every shape:
 * each must have run at least runs[REFERENCE] / divisor[a] times (the reference takes every
 * shape; divisor 0 skips an algorithm). Prints and checks; what names the test. */
static inline void test_check_shares(const char *what, const long runs[TEST_LAST_FORCED_ALGORITHM + 1],
                                     const int divisor[TEST_LAST_FORCED_ALGORITHM + 1])
{
    const long all = runs[CONV4J_ALGORITHM_REFERENCE];
    for (int a = TEST_FIRST_FORCED_ALGORITHM; a <= TEST_LAST_FORCED_ALGORITHM; ++a) {
        if (divisor[a] <= 0) {
            continue;
        }
        const long minimum = (all + divisor[a] - 1) / divisor[a];
        CHECK(runs[a] >= minimum && minimum > 0, "%s: %s ran %ld times, expected at least %ld (1/%d of the %ld "
              "runs the reference made)", what, conv4j_algorithm_name((conv4j_algorithm)a), runs[a], minimum,
              divisor[a], all);
    }
}

#endif /* CONV4J_TEST_BOUND_H */

/*
 * The backward passes (CONV4J_PROPAGATION_BACKWARD_DATA / _WEIGHTS) against
 * their plain-loop references, under the ISA config CONV4J_TEST_CONFIG names:
 *
 *   backward data    |got - ref| <= 2 gamma(KH*KW*Cout/g + 1) M + u |ref| + FLT_MIN,
 *                    M the reference on |dy|, |w|, |b| (the forward pass's direct-sum bound
 *                    with the roles of Cin and Cout swapped);
 *   backward weights |got - ref| <= 2 gamma(N*Ho*Wo + 1) M + u |ref| + FLT_MIN,
 *                    M = sum |x * dy| over the same terms (README "Accuracy").
 *
 * Ranks 1 to 3 (every fourth random case has a depth axis). Also: a worked
 * example with exact values, the adjoint identities
 * <conv(x, w), dy> = <x, dx> = <w, dw>, bit-identical results at 1, 2 and 3
 * threads (CONV4J_FLAG_FULL_TEAM), packing shared across shapes, and the
 * refusals.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_bound.h"
#include "test_config.h"

#define DEFAULT_CASES 400

static int64_t element_count(const conv4j_conv_desc *d, int output)
{
    return output ? test_output_count(d) : test_input_count(d);
}

static void fill_abs(const float *from, float *to, int64_t count)
{
    for (int64_t i = 0; i < count; ++i) {
        to[i] = fabsf(from[i]);
    }
}

static double gamma_of(double n)
{
    const double u = ldexp(1.0, -24);
    return n * u / (1.0 - n * u);
}

/* One random axis: sizes up to max_in, TF "same" or random pads (some past
 * (k-1)*d, so dy has rows no dx pixel reads), strides up to 3, dilation up to 3. */
static void random_axis(test_rng *rng, conv4j_conv_desc *d, int axis, int32_t max_in)
{
    d->kernel[axis] = test_rng_int(rng, 1, 4);
    d->stride[axis] = test_rng_int(rng, 0, 2) == 0 ? 1 : test_rng_int(rng, 1, 3);
    d->dilation[axis] = test_rng_int(rng, 0, 3) == 0 ? test_rng_int(rng, 2, 3) : 1;
    d->in_size[axis] = test_rng_int(rng, 1, max_in);
    const int32_t span = (d->kernel[axis] - 1) * d->dilation[axis] + 1;
    if (test_rng_int(rng, 0, 1) == 0) {
        const int32_t out = (d->in_size[axis] + d->stride[axis] - 1) / d->stride[axis];
        int32_t total = (out - 1) * d->stride[axis] + span - d->in_size[axis];
        total = total < 0 ? 0 : total;
        d->pad_before[axis] = total / 2;
        d->pad_after[axis] = total - total / 2;
    } else {
        d->pad_before[axis] = test_rng_int(rng, 0, 4);
        d->pad_after[axis] = test_rng_int(rng, 0, 4);
    }
    while (d->in_size[axis] + d->pad_before[axis] + d->pad_after[axis] < span) {
        ++d->in_size[axis];
    }
}

/* rank 0: 1 or 2 at random. Rank 3 keeps each axis small (its cases cost a cube). */
static conv4j_conv_desc random_desc(test_rng *rng, int32_t rank)
{
    rank = rank == 0 ? test_rng_int(rng, 1, 2) : rank;
    conv4j_conv_desc d = rank == 1   ? test_desc_1d(1, 1, 1, 1, 1)
                         : rank == 2 ? test_desc_2d(1, 1, 1, 1, 1, 1, 1)
                                     : test_desc_3d(1, 1, 1, 1, 1, 1, 1, 1, 1);
    d.batch = test_rng_int(rng, 1, 3);
    d.layout = test_rng_int(rng, 0, 2) == 0 ? CONV4J_LAYOUT_CHANNELS_FIRST
                                            : CONV4J_LAYOUT_CHANNELS_LAST;
    d.in_channels = test_tail_value(rng, 1, 24);
    switch (test_rng_int(rng, 0, 3)) {
    case 0: /* depthwise, multiplier 1 or 2 */
        d.groups = d.in_channels;
        d.out_channels = d.in_channels * test_rng_int(rng, 1, 2);
        break;
    case 1: { /* a divisor */
        int32_t g = test_rng_int(rng, 1, d.in_channels);
        while (d.in_channels % g != 0) {
            --g;
        }
        d.groups = g;
        d.out_channels = g * test_rng_int(rng, 1, 5);
        break;
    }
    default:
        d.groups = 1;
        d.out_channels = test_tail_value(rng, 1, 24);
        break;
    }
    for (int axis = 0; axis < rank; ++axis) {
        random_axis(rng, &d, axis, rank == 3 ? 6 : 11);
    }
    return d;
}

static conv4j_plan *make_plan(const conv4j_conv_desc *d, const float *kernel, const float *bias)
{
    conv4j_plan *plan = NULL;
    CHECK_STATUS(conv4j_plan_create(d, kernel, bias, &plan), CONV4J_OK);
    return plan;
}

/* Runs a backward-data plan at threads 1, 2, 3 (full team) and checks they agree bit for bit;
 * the first result stays in dx. */
static void run_data(const conv4j_conv_desc *d, const float *kernel, const float *bias,
                     const float *dy, float *dx, float *scratch, int64_t count, const char *text)
{
    conv4j_plan *plan = make_plan(d, kernel, bias);
    if (plan == NULL) {
        return;
    }
    for (int32_t threads = 1; threads <= 3; ++threads) {
        float *target = threads == 1 ? dx : scratch;
        CHECK_STATUS(conv4j_plan_execute(plan, dy, target, NULL, 0, threads), CONV4J_OK);
        if (threads > 1) {
            CHECK(memcmp(dx, scratch, (size_t)count * sizeof(float)) == 0,
                  "backward data differs at %d threads: %s (%s)", threads, text,
                  conv4j_plan_explain(plan));
        }
    }
    conv4j_plan_destroy(plan);
}

static void run_weights(const conv4j_conv_desc *d, const float *x, const float *dy, float *dw,
                        float *db, float *scratch_w, float *scratch_b, int64_t kernel_count,
                        const char *text)
{
    conv4j_plan *plan = make_plan(d, NULL, NULL);
    if (plan == NULL) {
        return;
    }
    for (int32_t threads = 1; threads <= 3; ++threads) {
        float *w = threads == 1 ? dw : scratch_w;
        float *b = threads == 1 ? db : scratch_b;
        CHECK_STATUS(conv4j_plan_execute_backward_weights(plan, x, dy, w, b, NULL, 0, threads),
                     CONV4J_OK);
        if (threads > 1) {
            CHECK(memcmp(dw, scratch_w, (size_t)kernel_count * sizeof(float)) == 0 &&
                      memcmp(db, scratch_b, (size_t)d->out_channels * sizeof(float)) == 0,
                  "backward weights differ at %d threads: %s (%s)", threads, text,
                  conv4j_plan_explain(plan));
        }
    }
    conv4j_plan_destroy(plan);
}

typedef struct case_data {
    int64_t x_count, y_count, k_count;
    float *x, *dy, *w, *bias, *dx, *dw, *db;
    float *ref, *mag, *abs_a, *abs_b, *abs_c, *scratch, *scratch_b;
} case_data;

static int case_alloc(case_data *c, const conv4j_conv_desc *d)
{
    memset(c, 0, sizeof *c);
    c->x_count = element_count(d, 0);
    c->y_count = element_count(d, 1);
    c->k_count = test_kernel_count(d);
    const int64_t most = c->x_count > c->y_count ? c->x_count : c->y_count;
    const int64_t big = most > c->k_count ? most : c->k_count;
    const int64_t channels = d->in_channels > d->out_channels ? d->in_channels : d->out_channels;
    float **all[] = {&c->x, &c->dy, &c->w, &c->bias, &c->dx, &c->dw, &c->db, &c->ref,
                     &c->mag, &c->abs_a, &c->abs_b, &c->abs_c, &c->scratch, &c->scratch_b};
    /* ref also holds dw and db side by side. */
    const int64_t sizes[] = {c->x_count,   c->y_count, c->k_count, channels, c->x_count,
                             c->k_count,   channels,   big + channels, big, big, big,
                             channels,     big,        channels};
    int ok = 1;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
        *all[i] = calloc((size_t)sizes[i], sizeof(float)); /* exact: valgrind sees any overrun */
        ok = ok && *all[i] != NULL;
    }
    return ok ? 0 : -1;
}

static void case_free(case_data *c)
{
    float *all[] = {c->x, c->dy, c->w, c->bias, c->dx, c->dw, c->db, c->ref,
                    c->mag, c->abs_a, c->abs_b, c->abs_c, c->scratch, c->scratch_b};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i) {
        free(all[i]);
    }
}

/* Both passes of one descriptor through `algorithm` against the references. */
static void check_case(const conv4j_conv_desc *forward, test_rng *rng, conv4j_algorithm algorithm,
                       int64_t *bad)
{
    case_data c;
    if (case_alloc(&c, forward) != 0) {
        CHECK(0, "out of memory");
        return;
    }
    test_fill_random(rng, c.x, c.x_count);
    test_fill_random(rng, c.dy, c.y_count);
    test_fill_random(rng, c.w, c.k_count);
    test_fill_random(rng, c.bias, forward->in_channels);
    const int with_bias = test_rng_int(rng, 0, 1);
    char text[256];

    /* Backward data. */
    conv4j_conv_desc d = *forward;
    d.propagation = CONV4J_PROPAGATION_BACKWARD_DATA;
    d.activation = test_rng_int(rng, 0, 1);
    d.flags = CONV4J_FLAG_FULL_TEAM;
    d.algorithm = algorithm;
    test_describe(&d, text, sizeof text);
    const float *bias = with_bias ? c.bias : NULL;
    run_data(&d, c.w, bias, c.dy, c.dx, c.scratch, c.x_count, text);
    test_oracle data;
    CHECK(test_oracle_init(&data, &d, c.dy, c.w, bias) == 0, "oracle: %s", text);
    const int64_t data_bad = test_oracle_mismatches(&data, c.dx, text);
    CHECK(data_bad == 0, "backward data: %lld elements outside the bound: %s", (long long)data_bad,
          text);
    test_oracle_free(&data);
    *bad += data_bad;

    /* Backward weights: dw then db against a REFERENCE plan, M from |x|, |dy|. */
    conv4j_conv_desc bw = *forward;
    bw.propagation = CONV4J_PROPAGATION_BACKWARD_WEIGHTS;
    bw.activation = CONV4J_ACTIVATION_NONE;
    bw.flags = CONV4J_FLAG_FULL_TEAM;
    /* Forced DEPTHWISE is for the data pass; AUTO picks the weights pass's depthwise row. */
    bw.algorithm = algorithm == CONV4J_ALGORITHM_DEPTHWISE ? CONV4J_ALGORITHM_AUTO : algorithm;
    test_describe(&bw, text, sizeof text);
    /* dw and db side by side, the oracle's order. */
    float *gradients = c.ref;
    run_weights(&bw, c.x, c.dy, gradients, gradients + c.k_count, c.scratch, c.scratch_b,
                c.k_count, text);
    test_oracle weights;
    CHECK(test_oracle_init_backward_weights(&weights, &bw, c.x, c.dy) == 0, "oracle: %s", text);
    const int64_t weights_bad = test_oracle_mismatches(&weights, gradients, text);
    CHECK(weights_bad == 0, "backward weights: %lld of dw, db outside the bound: %s",
          (long long)weights_bad, text);
    test_oracle_free(&weights);
    *bad += weights_bad;
    case_free(&c);
}

/* <conv(x, w), dy> = <x, dx> = <w, dw> in double, each side within
 * (gamma(n) + u) S of the exact value, S = <conv(|x|, |w|), |dy|>. */
static void check_adjoint(const conv4j_conv_desc *forward, test_rng *rng)
{
    case_data c;
    if (case_alloc(&c, forward) != 0) {
        CHECK(0, "out of memory");
        return;
    }
    test_fill_random(rng, c.x, c.x_count);
    test_fill_random(rng, c.dy, c.y_count);
    test_fill_random(rng, c.w, c.k_count);
    conv4j_conv_desc f = *forward;
    f.activation = CONV4J_ACTIVATION_NONE;
    conv4j_plan *plan = make_plan(&f, c.w, NULL);
    conv4j_conv_desc d = f;
    d.propagation = CONV4J_PROPAGATION_BACKWARD_DATA;
    conv4j_plan *data = make_plan(&d, c.w, NULL);
    conv4j_conv_desc bw = f;
    bw.propagation = CONV4J_PROPAGATION_BACKWARD_WEIGHTS;
    conv4j_plan *weights = make_plan(&bw, NULL, NULL);
    if (plan != NULL && data != NULL && weights != NULL) {
        float *y = c.ref;
        CHECK_STATUS(conv4j_plan_execute(plan, c.x, y, NULL, 0, 0), CONV4J_OK);
        CHECK_STATUS(conv4j_plan_execute(data, c.dy, c.dx, NULL, 0, 0), CONV4J_OK);
        CHECK_STATUS(conv4j_plan_execute_backward_weights(weights, c.x, c.dy, c.dw, NULL, NULL, 0, 0),
                     CONV4J_OK);
        fill_abs(c.x, c.abs_a, c.x_count);
        fill_abs(c.w, c.abs_b, c.k_count);
        CHECK_STATUS(conv4j_reference_conv(&f, c.abs_a, c.abs_b, NULL, c.mag), CONV4J_OK);
        double yy = 0, xx = 0, ww = 0, s = 0;
        for (int64_t i = 0; i < c.y_count; ++i) {
            yy += (double)y[i] * c.dy[i];
            s += (double)c.mag[i] * fabs((double)c.dy[i]);
        }
        for (int64_t i = 0; i < c.x_count; ++i) {
            xx += (double)c.x[i] * c.dx[i];
        }
        for (int64_t i = 0; i < c.k_count; ++i) {
            ww += (double)c.w[i] * c.dw[i];
        }
        const int64_t pixels = c.y_count / f.out_channels;
        const int64_t taps = test_spatial(&f, f.kernel);
        int64_t n = pixels;
        n = taps * (f.in_channels / f.groups) > n ? taps * (f.in_channels / f.groups) : n;
        n = taps * (f.out_channels / f.groups) > n ? taps * (f.out_channels / f.groups) : n;
        /* Each side: (gamma(n) + u) S from its float results, plus 2^-40 S for the double sums. */
        const double tolerance = 2.0 * (2.0 * (gamma_of((double)n) + ldexp(1.0, -24)) + ldexp(1.0, -40)) * s +
                                 FLT_MIN;
        char text[256];
        test_describe(&f, text, sizeof text);
        CHECK(fabs(yy - xx) <= tolerance, "<y,dy> %.17g vs <x,dx> %.17g (tol %.3g): %s", yy, xx,
              tolerance, text);
        CHECK(fabs(yy - ww) <= tolerance, "<y,dy> %.17g vs <w,dw> %.17g (tol %.3g): %s", yy, ww,
              tolerance, text);
    }
    conv4j_plan_destroy(plan);
    conv4j_plan_destroy(data);
    conv4j_plan_destroy(weights);
    case_free(&c);
}

/* Conv1D k=3 s=2 pads 1/1 over x = 1..5: every value by hand. */
static void check_worked_example(void)
{
    const float x[5] = {1, 2, 3, 4, 5};
    const float w[3] = {1, 2, 3};
    const float dy[3] = {1, 10, 100};
    const float bias[1] = {0.5f};
    conv4j_conv_desc d = test_desc_1d(1, 5, 1, 3, 1);
    d.stride[0] = 2;
    d.pad_before[0] = 1;
    d.pad_after[0] = 1;
    for (int algorithm = 0; algorithm < 2; ++algorithm) {
        d.algorithm = algorithm == 0 ? CONV4J_ALGORITHM_GEMM : CONV4J_ALGORITHM_REFERENCE;
        /* dx[i] = sum over (o, k) with 2o - 1 + k = i of dy[o] w[k]. */
        d.propagation = CONV4J_PROPAGATION_BACKWARD_DATA;
        float dx[5];
        conv4j_plan *plan = make_plan(&d, w, NULL);
        if (plan != NULL) {
            CHECK_STATUS(conv4j_plan_execute(plan, dy, dx, NULL, 0, 1), CONV4J_OK);
            const float expected[5] = {2, 13, 20, 130, 200};
            for (int i = 0; i < 5; ++i) {
                CHECK(dx[i] == expected[i], "%s dx[%d] = %g, expected %g",
                      conv4j_algorithm_name(d.algorithm), i, dx[i], expected[i]);
            }
            conv4j_plan_destroy(plan);
        }
        /* As a transposed layer with bias 0.5 and relu: only dx[4] = 2 * 0.25 + 0.5 stays. */
        d.activation = CONV4J_ACTIVATION_RELU;
        plan = make_plan(&d, w, bias);
        if (plan != NULL) {
            const float negative[3] = {-1, -10, 0.25f};
            CHECK_STATUS(conv4j_plan_execute(plan, negative, dx, NULL, 0, 1), CONV4J_OK);
            const float expected[5] = {0, 0, 0, 0, 1.0f};
            for (int i = 0; i < 5; ++i) {
                CHECK(dx[i] == expected[i], "%s relu dx[%d] = %g, expected %g",
                      conv4j_algorithm_name(d.algorithm), i, dx[i], expected[i]);
            }
            conv4j_plan_destroy(plan);
        }
        d.activation = CONV4J_ACTIVATION_NONE;
        /* dw[k] = sum_o x[2o - 1 + k] dy[o]; db = sum dy. */
        d.propagation = CONV4J_PROPAGATION_BACKWARD_WEIGHTS;
        plan = make_plan(&d, NULL, NULL);
        if (plan != NULL) {
            float dw[3], db[1];
            CHECK_STATUS(conv4j_plan_execute_backward_weights(plan, x, dy, dw, db, NULL, 0, 1),
                         CONV4J_OK);
            const float expected[3] = {420, 531, 42};
            for (int i = 0; i < 3; ++i) {
                CHECK(dw[i] == expected[i], "%s dw[%d] = %g, expected %g",
                      conv4j_algorithm_name(d.algorithm), i, dw[i], expected[i]);
            }
            CHECK(db[0] == 111.0f, "db = %g, expected 111", db[0]);
            conv4j_plan_destroy(plan);
        }
        d.propagation = CONV4J_PROPAGATION_FORWARD;
    }
}

static void check_refusals(void)
{
    conv4j_conv_desc d = test_desc_2d(2, 6, 5, 4, 3, 3, 6);
    float kernel[3 * 3 * 4 * 6] = {0};
    float bias[6] = {0};
    float x[2 * 6 * 5 * 4] = {0}, dy[2 * 4 * 3 * 6] = {0}, dw[3 * 3 * 4 * 6];
    conv4j_plan *plan = NULL;
    char line[1024];

    d.propagation = 3;
    CHECK_STATUS(conv4j_output_size(&d, NULL), CONV4J_ERR_INVALID_PROPAGATION);
    CHECK_STATUS(conv4j_plan_create(&d, kernel, NULL, &plan), CONV4J_ERR_INVALID_PROPAGATION);
    CHECK(plan == NULL, "plan not reset");
    d.propagation = -1;
    CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_ERR_INVALID_PROPAGATION);

    /* Backward weights: no activation, no kernel needed, its own execute. */
    d.propagation = CONV4J_PROPAGATION_BACKWARD_WEIGHTS;
    d.activation = CONV4J_ACTIVATION_RELU;
    CHECK_STATUS(conv4j_plan_create(&d, NULL, NULL, &plan), CONV4J_ERR_INVALID_ACTIVATION);
    d.activation = CONV4J_ACTIVATION_NONE;
    CHECK_STATUS(conv4j_plan_create(&d, NULL, NULL, &plan), CONV4J_OK);
    if (plan != NULL) {
        CHECK(strstr(conv4j_plan_explain(plan), "bwd_weights_gemm") != NULL &&
                  strstr(conv4j_plan_explain(plan), "pass=backward_weights") != NULL,
              "explain: %s", conv4j_plan_explain(plan));
        CHECK_STATUS(conv4j_plan_execute(plan, x, dw, NULL, 0, 1), CONV4J_ERR_INVALID_PROPAGATION);
        CHECK_STATUS(conv4j_plan_execute_backward_weights(plan, NULL, dy, dw, NULL, NULL, 0, 1),
                     CONV4J_ERR_NULL_POINTER);
        CHECK_STATUS(conv4j_plan_execute_backward_weights(plan, x, dy, NULL, NULL, NULL, 0, 1),
                     CONV4J_ERR_NULL_POINTER);
        CHECK_STATUS(conv4j_plan_execute_backward_weights(plan, x, dy, dw, NULL, NULL, 0, -1),
                     CONV4J_ERR_INVALID_THREADS);
        if (conv4j_plan_workspace_size(plan) > 0) {
            char small[64];
            CHECK_STATUS(conv4j_plan_execute_backward_weights(plan, x, dy, dw, NULL, small, 1, 1),
                         CONV4J_ERR_WORKSPACE_TOO_SMALL);
        }
        conv4j_plan_destroy(plan);
    }
    CHECK_STATUS(conv4j_reference_conv(&d, x, kernel, NULL, dw), CONV4J_ERR_INVALID_PROPAGATION);

    /* Only AUTO, GEMM, REFERENCE (and DEPTHWISE for depthwise backward data) have backward rows. */
    const conv4j_algorithm forward_only[] = {CONV4J_ALGORITHM_DIRECT, CONV4J_ALGORITHM_WINOGRAD,
                                             CONV4J_ALGORITHM_DEPTHWISE};
    for (int p = CONV4J_PROPAGATION_BACKWARD_DATA; p <= CONV4J_PROPAGATION_BACKWARD_WEIGHTS; ++p) {
        for (size_t i = 0; i < 3; ++i) {
            d.propagation = p;
            d.algorithm = forward_only[i];
            CHECK_STATUS(conv4j_plan_create(&d, kernel, NULL, &plan), CONV4J_ERR_UNSUPPORTED);
            CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_OK);
            CHECK(strstr(line, "unsupported") != NULL, "explain: %s", line);
        }
    }
    d.algorithm = CONV4J_ALGORITHM_AUTO;

    /* Backward data: a forward plan's execute_backward_weights is refused,
     * channels_first goes through the adapter, non-finite weights fall back. */
    d.propagation = CONV4J_PROPAGATION_BACKWARD_DATA;
    CHECK_STATUS(conv4j_plan_create(&d, kernel, NULL, &plan), CONV4J_OK);
    if (plan != NULL) {
        CHECK(strstr(conv4j_plan_explain(plan), "bwd_data_gemm") != NULL, "explain: %s",
              conv4j_plan_explain(plan));
        CHECK_STATUS(conv4j_plan_execute_backward_weights(plan, x, dy, dw, NULL, NULL, 0, 1),
                     CONV4J_ERR_INVALID_PROPAGATION);
        conv4j_plan_destroy(plan);
    }
    d.layout = CONV4J_LAYOUT_CHANNELS_FIRST;
    CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_OK);
    CHECK(strstr(line, "bwd_data_gemm") != NULL && strstr(line, "via nchw->nhwc") != NULL,
          "explain: %s", line);
    d.layout = CONV4J_LAYOUT_CHANNELS_LAST;
    kernel[5] = INFINITY;
    CHECK_STATUS(conv4j_plan_create(&d, kernel, NULL, &plan), CONV4J_OK);
    if (plan != NULL) {
        CHECK(conv4j_plan_algorithm(plan) == CONV4J_ALGORITHM_REFERENCE &&
                  strstr(conv4j_plan_explain(plan), "non-finite") != NULL,
              "explain: %s", conv4j_plan_explain(plan));
        conv4j_plan_destroy(plan);
    }
    kernel[5] = 0.0f;
    conv4j_conv_desc depthwise = test_desc_2d(1, 6, 5, 4, 3, 3, 4);
    depthwise.groups = 4;
    depthwise.propagation = CONV4J_PROPAGATION_BACKWARD_DATA;
    depthwise.stride[0] = 2;
    CHECK_STATUS(conv4j_explain(&depthwise, line, sizeof line), CONV4J_OK);
    CHECK(strstr(line, "-> bwd_data_dwconv") != NULL, "explain: %s", line);
    depthwise.propagation = CONV4J_PROPAGATION_BACKWARD_WEIGHTS;
    depthwise.out_channels = 8; /* multiplier 2 */
    CHECK_STATUS(conv4j_explain(&depthwise, line, sizeof line), CONV4J_OK);
    CHECK(strstr(line, "-> bwd_weights_dwconv") != NULL, "explain: %s", line);

    /* Rank 3 runs on the fast rows of both passes (not the reference loops). */
    conv4j_conv_desc volume = test_desc_3d(1, 5, 6, 7, 4, 3, 3, 3, 8);
    volume.stride[0] = 2;
    volume.dilation[2] = 2;
    for (int depthwise_case = 0; depthwise_case < 2; ++depthwise_case) {
        volume.groups = depthwise_case ? 4 : 1;
        volume.out_channels = depthwise_case ? 4 : 8;
        volume.propagation = CONV4J_PROPAGATION_BACKWARD_DATA;
        CHECK_STATUS(conv4j_explain(&volume, line, sizeof line), CONV4J_OK);
        CHECK(strstr(line, depthwise_case ? "-> bwd_data_dwconv" : "-> bwd_data_gemm") != NULL,
              "explain: %s", line);
        volume.propagation = CONV4J_PROPAGATION_BACKWARD_WEIGHTS;
        CHECK_STATUS(conv4j_explain(&volume, line, sizeof line), CONV4J_OK);
        CHECK(strstr(line, depthwise_case ? "-> bwd_weights_dwconv" : "-> bwd_weights_gemm") !=
                  NULL,
              "explain: %s", line);
    }

    /* A stride far past the input: no loop over its 2^30 phases, the reference instead. */
    conv4j_conv_desc huge = test_desc_1d(1, 5, 2, 1, 3);
    huge.stride[0] = 1 << 30;
    huge.propagation = CONV4J_PROPAGATION_BACKWARD_DATA;
    CHECK_STATUS(conv4j_explain(&huge, line, sizeof line), CONV4J_OK);
    CHECK(strstr(line, "-> bwd_data_reference") != NULL &&
              strstr(line, "more stride phases than input pixels") != NULL,
          "explain: %s", line);
    /* Three int32 strides whose product would overflow int64. */
    conv4j_conv_desc huge3 = test_desc_3d(1, 2, 2, 2, 1, 1, 1, 1, 1);
    huge3.stride[0] = huge3.stride[1] = huge3.stride[2] = INT32_MAX;
    huge3.propagation = CONV4J_PROPAGATION_BACKWARD_DATA;
    CHECK_STATUS(conv4j_explain(&huge3, line, sizeof line), CONV4J_OK);
    CHECK(strstr(line, "-> bwd_data_reference") != NULL &&
              strstr(line, "more stride phases than input pixels") != NULL,
          "explain: %s", line);

    /* Weights carry the bias of their propagation. */
    conv4j_weights *forward_weights = NULL, *plain_weights = NULL, *data_weights = NULL;
    conv4j_conv_desc f = d;
    f.propagation = CONV4J_PROPAGATION_FORWARD;
    CHECK_STATUS(conv4j_weights_create(&f, kernel, bias, &forward_weights), CONV4J_OK);
    CHECK_STATUS(conv4j_weights_create(&f, kernel, NULL, &plain_weights), CONV4J_OK);
    CHECK_STATUS(conv4j_weights_create(&d, kernel, bias, &data_weights), CONV4J_OK);
    if (forward_weights != NULL && plain_weights != NULL && data_weights != NULL) {
        CHECK_STATUS(conv4j_plan_create_with_weights(&d, forward_weights, &plan),
                     CONV4J_ERR_WEIGHTS_MISMATCH);
        CHECK_STATUS(conv4j_plan_create_with_weights(&f, data_weights, &plan),
                     CONV4J_ERR_WEIGHTS_MISMATCH);
        /* Without a bias, one weights object serves both passes; backward data
         * packs once per stride, whatever the batch. */
        conv4j_plan *a = NULL, *b = NULL, *c = NULL, *e = NULL;
        CHECK_STATUS(conv4j_plan_create_with_weights(&f, plain_weights, &a), CONV4J_OK);
        CHECK_STATUS(conv4j_plan_create_with_weights(&d, plain_weights, &b), CONV4J_OK);
        conv4j_conv_desc other = d;
        other.batch = 3;
        other.in_size[0] = 9;
        CHECK_STATUS(conv4j_plan_create_with_weights(&other, plain_weights, &c), CONV4J_OK);
        CHECK(conv4j_weights_pack_count(plain_weights) == 2, "pack count %lld, expected 2",
              (long long)conv4j_weights_pack_count(plain_weights));
        other.stride[0] = 2;
        CHECK_STATUS(conv4j_plan_create_with_weights(&other, plain_weights, &e), CONV4J_OK);
        CHECK(conv4j_weights_pack_count(plain_weights) == 3, "pack count %lld, expected 3",
              (long long)conv4j_weights_pack_count(plain_weights));
        conv4j_conv_desc bw = f;
        bw.propagation = CONV4J_PROPAGATION_BACKWARD_WEIGHTS;
        conv4j_plan *g = NULL;
        CHECK_STATUS(conv4j_plan_create_with_weights(&bw, forward_weights, &g), CONV4J_OK);
        conv4j_plan_destroy(a);
        conv4j_plan_destroy(b);
        conv4j_plan_destroy(c);
        conv4j_plan_destroy(e);
        conv4j_plan_destroy(g);
    }
    conv4j_weights_destroy(forward_weights);
    conv4j_weights_destroy(plain_weights);
    conv4j_weights_destroy(data_weights);
}

int main(void)
{
    if (!test_use_config()) {
        return TEST_SKIPPED;
    }
    const char *cases_text = getenv("CONV4J_TEST_CASES");
    int cases = cases_text != NULL ? atoi(cases_text) / 10 : DEFAULT_CASES;
    cases = cases > 20 ? cases : 20;
    check_worked_example();
    check_refusals();
    test_rng rng = {0x5eed0bac4a11ULL};
    int64_t bad = 0;
    /* Every fourth case is rank 3 (depth phases, depth patch runs). */
    for (int i = 0; i < cases; ++i) {
        const int rank3 = i % 4 == 1;
        const conv4j_conv_desc d = random_desc(&rng, rank3 ? 3 : 0);
        const int depthwise = d.groups == d.in_channels && d.groups > 1 && d.out_channels == d.groups;
        /* Rank 3 alternates GEMM and AUTO (depthwise: the dwconv rows of both passes). */
        conv4j_algorithm algorithm = i % 4 == 3 || i % 8 == 5 ? CONV4J_ALGORITHM_AUTO
                                                              : CONV4J_ALGORITHM_GEMM;
        if (depthwise && (rank3 ? i % 8 == 1 : i % 2 == 0)) {
            algorithm = CONV4J_ALGORITHM_DEPTHWISE; /* bwd_data_dwconv */
        }
        check_case(&d, &rng, algorithm, &bad);
        if (i % 8 == 0) {
            check_adjoint(&d, &rng);
        }
    }
    /* Larger layers: several pixel chunks of dW, column blocks, many tiles. */
    for (int i = 0; i < 4; ++i) {
        conv4j_conv_desc d = test_desc_2d(2, 19 + i, 17, 24 + 8 * i, 3, 3, 40 - 4 * i);
        d.stride[0] = d.stride[1] = 1 + i % 2;
        d.pad_before[0] = d.pad_before[1] = 1;
        d.pad_after[0] = d.pad_after[1] = i % 2 == 0 ? 1 : 0;
        d.groups = i == 3 ? 4 : 1;
        d.layout = i == 2 ? CONV4J_LAYOUT_CHANNELS_FIRST : CONV4J_LAYOUT_CHANNELS_LAST;
        check_case(&d, &rng, CONV4J_ALGORITHM_AUTO, &bad);
    }
    /* Rank-3 layers: a Conv3DTranspose-like 2x upsampling (k 4, s 2), a
     * 3x3x3 layer over several dW chunks, and a depthwise one. */
    for (int i = 0; i < 3; ++i) {
        conv4j_conv_desc d = test_desc_3d(2, 5 + i, 7, 6, 16, i == 0 ? 4 : 3, i == 0 ? 4 : 3,
                                          i == 0 ? 4 : 3, i == 2 ? 16 : 24);
        for (int axis = 0; axis < 3; ++axis) {
            d.stride[axis] = i == 0 ? 2 : 1 + axis % 2;
            d.pad_before[axis] = 1;
            d.pad_after[axis] = i == 0 ? 2 : 1;
        }
        d.groups = i == 2 ? 16 : 1;
        d.layout = i == 1 ? CONV4J_LAYOUT_CHANNELS_FIRST : CONV4J_LAYOUT_CHANNELS_LAST;
        check_case(&d, &rng, i == 2 ? CONV4J_ALGORITHM_DEPTHWISE : CONV4J_ALGORITHM_AUTO, &bad);
    }
    printf("%d random cases, %lld elements outside the bounds\n", cases, (long long)bad);
    return test_summary("test_backward");
}

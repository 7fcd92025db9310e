/*
 * Random descriptors (fixed seed) through every algorithm and thread count,
 * compared with conv4j_reference_conv under a rounding-error bound:
 *
 *   |got - ref| <= 2 * gamma(n + 1) * M + u * |ref| + FLT_MIN
 *
 * with u = 2^-24, gamma(m) = m u / (1 - m u), n = KH * KW * Cin / groups taps
 * per output and M the reference run on |x|, |w|, |b|. A float sum of n
 * products plus a bias is within gamma(n + 1) * M of the exact value in any
 * order; the reference is the exact value rounded once (u * |ref|); relu is
 * 1-Lipschitz so it does not widen the gap; FLT_MIN absorbs underflow.
 *
 * Also checks that the result does not depend on the thread count, and which
 * kernel AUTO picks. Usage: test_plan_vs_reference [--expect-isa=scalar]
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config/isa_config.h"
#include "test_bound.h"
#include "test_config.h"

/* CONV4J_TEST_CASES overrides it (the sanitizer build runs fewer). */
#define DEFAULT_CASES 4000
#define MAX_CHANNELS 17
/* Each specialized algorithm must accept at least cases / MIN_SHARE of them;
 * its family alone is cases / FAMILY_COUNT. */
#define MIN_SHARE 20

/* One spatial axis: size, kernel, stride, dilation and pads, with the
 * special shapes (kernel equal to the input, 1-wide kernel) mixed in. */
static void random_axis(test_rng *rng, int32_t *in, int32_t *kernel, int32_t *stride,
                        int32_t *dilation, int32_t *pad_before, int32_t *pad_after)
{
    *in = test_rng_int(rng, 1, 9);
    *stride = test_rng_int(rng, 1, 4) == 1 ? 1 : test_rng_int(rng, 1, 3);
    *dilation = test_rng_int(rng, 1, 3) == 1 ? test_rng_int(rng, 2, 3) : 1;
    *pad_before = test_rng_int(rng, 0, 3) == 0 ? test_rng_int(rng, 0, 3) : 0;
    *pad_after = test_rng_int(rng, 0, 3) == 0 ? test_rng_int(rng, 0, 3) : 0;
    switch (test_rng_int(rng, 0, 5)) {
    case 0: /* kernel covers the whole input: output size 1 */
        *kernel = *in;
        *dilation = 1;
        *pad_before = 0;
        *pad_after = 0;
        break;
    case 1:
        *kernel = 1;
        break;
    default:
        *kernel = test_rng_int(rng, 1, *in < 5 ? *in : 5);
        break;
    }
}

static int32_t random_divisor(test_rng *rng, int32_t value)
{
    int32_t divisors[MAX_CHANNELS];
    int count = 0;
    for (int32_t d = 1; d <= value; ++d) {
        if (value % d == 0) {
            divisors[count++] = d;
        }
    }
    return divisors[test_rng_int(rng, 0, count - 1)];
}

/* The general family: anything valid, small channel counts. */
static conv4j_conv_desc random_general_desc(test_rng *rng)
{
    for (;;) {
        conv4j_conv_desc d;
        memset(&d, 0, sizeof d);
        d.rank = test_rng_int(rng, 1, 2);
        d.batch = test_rng_int(rng, 1, 3);
        d.layout = test_rng_int(rng, 0, 1);
        d.activation = test_rng_int(rng, 0, 1);
        d.in_channels = test_rng_int(rng, 1, MAX_CHANNELS);
        if (test_rng_int(rng, 0, 3) == 0) {
            d.groups = d.in_channels; /* depthwise */
        } else if (test_rng_int(rng, 0, 1) == 0) {
            d.groups = 1;
        } else {
            d.groups = random_divisor(rng, d.in_channels);
        }
        d.out_channels = d.groups * test_rng_int(rng, 1, MAX_CHANNELS / d.groups);
        for (int axis = 0; axis < d.rank; ++axis) {
            random_axis(rng, &d.in_size[axis], &d.kernel[axis], &d.stride[axis],
                        &d.dilation[axis], &d.pad_before[axis], &d.pad_after[axis]);
        }
        if (conv4j_output_size(&d, NULL) == CONV4J_OK) {
            return d;
        }
    }
}

/* Sizes and pads of one axis around a fixed kernel: "same", "valid" or a
 * random pad, with the input grown until the output is not empty. */
static void fit_axis(test_rng *rng, conv4j_conv_desc *d, int axis, int32_t max_in)
{
    const int32_t span = (d->kernel[axis] - 1) * d->dilation[axis] + 1;
    d->in_size[axis] = test_tail_value(rng, 1, max_in);
    switch (test_rng_int(rng, 0, 2)) {
    case 0: { /* TF same */
        const int32_t out = (d->in_size[axis] + d->stride[axis] - 1) / d->stride[axis];
        int32_t total = (out - 1) * d->stride[axis] + span - d->in_size[axis];
        total = total < 0 ? 0 : total;
        d->pad_before[axis] = total / 2;
        d->pad_after[axis] = total - total / 2;
        break;
    }
    case 1: /* valid */
        d->pad_before[axis] = 0;
        d->pad_after[axis] = 0;
        break;
    default:
        d->pad_before[axis] = test_rng_int(rng, 0, 2);
        d->pad_after[axis] = test_rng_int(rng, 0, 2);
        break;
    }
    while (d->in_size[axis] + d->pad_before[axis] + d->pad_after[axis] < span) {
        ++d->in_size[axis];
    }
}

static conv4j_conv_desc family_base(test_rng *rng, int32_t rank)
{
    conv4j_conv_desc d = rank == 1 ? test_desc_1d(1, 1, 1, 1, 1) : test_desc_2d(1, 1, 1, 1, 1, 1, 1);
    d.batch = test_rng_int(rng, 1, 2);
    d.layout = test_rng_int(rng, 0, 3) == 0 ? CONV4J_LAYOUT_CHANNELS_FIRST
                                            : CONV4J_LAYOUT_CHANNELS_LAST;
    d.activation = test_rng_int(rng, 0, 1);
    return d;
}

/* 3x3 stride 1 undilated ungrouped, 8..70 channels: what Winograd takes. */
static conv4j_conv_desc random_winograd_desc(test_rng *rng)
{
    conv4j_conv_desc d = family_base(rng, 2);
    d.batch = 1;
    d.in_channels = test_tail_value(rng, 8, 70);
    d.out_channels = test_tail_value(rng, 8, 70);
    d.kernel[0] = d.kernel[1] = 3;
    fit_axis(rng, &d, 0, 9);
    fit_axis(rng, &d, 1, 9);
    return d;
}

/* Ungrouped 1x1 and small k x k with channel and width tails: GEMM's share. */
static conv4j_conv_desc random_gemm_desc(test_rng *rng)
{
    conv4j_conv_desc d = family_base(rng, test_rng_int(rng, 1, 2));
    d.in_channels = test_tail_value(rng, 1, 40);
    d.out_channels = test_tail_value(rng, 1, 40);
    const int one_by_one = test_rng_int(rng, 0, 1);
    for (int axis = 0; axis < d.rank; ++axis) {
        d.kernel[axis] = one_by_one ? 1 : test_rng_int(rng, 1, 3);
        d.stride[axis] = test_rng_int(rng, 0, 3) == 0 ? 2 : 1;
        d.dilation[axis] = !one_by_one && test_rng_int(rng, 0, 3) == 0 ? 2 : 1;
        fit_axis(rng, &d, axis, 17);
    }
    return d;
}

/* groups == Cin, mostly multiplier 1: 3x3 stride 1 and 2, and any k. */
static conv4j_conv_desc random_depthwise_desc(test_rng *rng)
{
    conv4j_conv_desc d = family_base(rng, test_rng_int(rng, 0, 3) == 0 ? 1 : 2);
    d.in_channels = test_tail_value(rng, 1, 49);
    d.groups = d.in_channels;
    d.out_channels = d.in_channels * (test_rng_int(rng, 0, 4) == 0 ? 2 : 1);
    const int three = test_rng_int(rng, 0, 1);
    for (int axis = 0; axis < d.rank; ++axis) {
        d.kernel[axis] = three ? 3 : test_rng_int(rng, 1, 5);
        d.stride[axis] = test_rng_int(rng, 1, 2);
        d.dilation[axis] = !three && test_rng_int(rng, 0, 3) == 0 ? 2 : 1;
        fit_axis(rng, &d, axis, 17);
    }
    return d;
}

/* First layers and sequences: 1..4 input channels, wide kernels, stride 2,
 * and long dilated causal Conv1D. */
static conv4j_conv_desc random_small_cin_desc(test_rng *rng)
{
    const int32_t rank = test_rng_int(rng, 1, 2);
    conv4j_conv_desc d = family_base(rng, rank);
    d.in_channels = test_rng_int(rng, 1, 4);
    d.out_channels = test_tail_value(rng, 1, 33);
    for (int axis = 0; axis < d.rank; ++axis) {
        d.kernel[axis] = test_rng_int(rng, 1, rank == 1 ? 5 : 7);
        d.stride[axis] = rank == 2 && test_rng_int(rng, 0, 1) ? 2 : 1;
        d.dilation[axis] = rank == 1 && test_rng_int(rng, 0, 1) ? test_rng_int(rng, 2, 8) : 1;
        fit_axis(rng, &d, axis, rank == 1 ? 70 : 17);
    }
    if (rank == 1 && test_rng_int(rng, 0, 1)) { /* causal */
        d.pad_before[0] = (d.kernel[0] - 1) * d.dilation[0];
        d.pad_after[0] = 0;
    }
    return d;
}

/* Rank 3 (Conv3D): small volumes, any groups, strides, dilations and
 * asymmetric pads on each axis; a quarter depthwise. */
static conv4j_conv_desc random_rank3_desc(test_rng *rng)
{
    for (;;) {
        conv4j_conv_desc d = test_desc_3d(test_rng_int(rng, 1, 2), 1, 1, 1, 1, 1, 1, 1, 1);
        d.layout = test_rng_int(rng, 0, 1);
        d.activation = test_rng_int(rng, 0, 1);
        d.in_channels = test_tail_value(rng, 1, 24);
        const int kind = test_rng_int(rng, 0, 3);
        d.groups = kind == 0 ? d.in_channels : kind == 1 ? random_divisor(rng, d.in_channels) : 1;
        const int32_t per_group = test_rng_int(rng, 0, 2) == 0 ? 1 : test_rng_int(rng, 1, 17);
        d.out_channels = d.groups * per_group;
        if (d.out_channels > 48) {
            d.out_channels = d.groups;
        }
        for (int axis = 0; axis < 3; ++axis) {
            d.kernel[axis] = test_rng_int(rng, 1, 3);
            d.stride[axis] = test_rng_int(rng, 0, 2) == 0 ? 2 : 1;
            d.dilation[axis] = test_rng_int(rng, 0, 4) == 0 ? 2 : 1;
            fit_axis(rng, &d, axis, axis == 2 ? 9 : 6);
        }
        if (conv4j_output_size(&d, NULL) == CONV4J_OK) {
            return d;
        }
    }
}

/* Depthwise with a channel multiplier M > 1 (Keras' depth_multiplier):
 * groups == Cin, Cout = Cin * M, ranks 1 to 3. */
static conv4j_conv_desc random_multiplier_desc(test_rng *rng)
{
    const int32_t rank = test_rng_int(rng, 1, 3);
    conv4j_conv_desc d = rank == 3 ? test_desc_3d(1, 1, 1, 1, 1, 1, 1, 1, 1) : family_base(rng, rank);
    d.batch = test_rng_int(rng, 1, 2);
    d.layout = test_rng_int(rng, 0, 2) == 0 ? CONV4J_LAYOUT_CHANNELS_FIRST
                                            : CONV4J_LAYOUT_CHANNELS_LAST;
    d.activation = test_rng_int(rng, 0, 1);
    d.in_channels = test_tail_value(rng, 1, rank == 3 ? 17 : 33);
    d.groups = d.in_channels;
    d.out_channels = d.in_channels * test_rng_int(rng, 2, 5);
    for (int axis = 0; axis < rank; ++axis) {
        d.kernel[axis] = test_rng_int(rng, 1, rank == 1 ? 5 : 3);
        d.stride[axis] = test_rng_int(rng, 1, 2);
        d.dilation[axis] = test_rng_int(rng, 0, 3) == 0 ? 2 : 1;
        fit_axis(rng, &d, axis, rank == 3 ? 6 : 17);
    }
    return d;
}

#define FAMILY_COUNT 10

/* Four in ten cases are general; the rest come from families the specialized
 * kernels accept, so every algorithm is exercised on its tails. */
static conv4j_conv_desc random_desc(test_rng *rng, int index)
{
    conv4j_conv_desc d;
    switch (index % FAMILY_COUNT) {
    case 0:
        d = random_winograd_desc(rng);
        break;
    case 1:
        d = random_gemm_desc(rng);
        break;
    case 2:
        d = random_depthwise_desc(rng);
        break;
    case 3:
        d = random_small_cin_desc(rng);
        break;
    case 4:
        d = random_rank3_desc(rng);
        break;
    case 5:
        d = random_multiplier_desc(rng);
        break;
    default:
        d = random_general_desc(rng);
        break;
    }
    if (conv4j_output_size(&d, NULL) != CONV4J_OK) {
        d = random_general_desc(rng); /* a family's bug must not abort the run */
    }
    /* Every other case on the full team, so threads 0 and 2 reach the threaded code even below
     * the small-call cutoff. */
    if (index % 2 == 1) {
        d.flags |= CONV4J_FLAG_FULL_TEAM;
    }
    return d;
}

/* Random data of a kind drawn per case: half dense, the rest sparse, post-relu (with all-zero
 * rectangles), large-range or mixed-sign (test_util.h). */
static void fill_case_data(test_rng *rng, test_conv_buffers *b, const conv4j_conv_desc *d)
{
    test_conv_buffers_fill(b, rng);
    const test_data_kind kind =
        test_rng_int(rng, 0, 1) == 0 ? TEST_DATA_DENSE : (test_data_kind)test_rng_int(rng, 1, TEST_DATA_KINDS - 1);
    if (kind != TEST_DATA_DENSE) {
        test_fill_input_kind(rng, d, b->input, kind);
        test_fill_kind(rng, b->kernel, b->kernel_count, kind, 0);
    }
}

/* Plans each algorithm accepted, by test_algorithm index; the same over the
 * rank-3 and the multiplier cases alone. */
static int accepted[TEST_ALGORITHM_COUNT];
static int accepted_rank3[TEST_ALGORITHM_COUNT];
static int accepted_multiplier[TEST_ALGORITHM_COUNT];
static int rank3_cases;
static int rank3_depthwise_cases; /* groups == Cin > 1 */
static int accepted_rank3_depthwise[TEST_ALGORITHM_COUNT];
static int multiplier_cases;

static void check_case(test_rng *rng, const conv4j_conv_desc *base)
{
    conv4j_conv_desc d = *base;
    test_conv_buffers b;
    if (test_conv_buffers_alloc(&b, &d) != 0) {
        CHECK(0, "out of memory");
        return;
    }
    const int64_t out_count = b.output_count;
    float *first_output = malloc((size_t)out_count * sizeof(float));
    fill_case_data(rng, &b, &d);
    const int with_bias = test_rng_int(rng, 0, 1);
    const float *bias = with_bias ? b.bias : NULL;
    test_oracle oracle;
    const int ready = test_oracle_init(&oracle, &d, b.input, b.kernel, bias) == 0;
    CHECK(ready && first_output != NULL, "reference failed or out of memory");
    if (!ready || first_output == NULL) {
        goto done;
    }
    char text[256];
    test_describe(&d, text, sizeof text);
    /* The depthwise kernel's share: depthwise with a multiplier > 1 (one
     * input channel is a dense convolution, GEMM's). */
    const int multiplier =
        d.in_channels > 1 && d.groups == d.in_channels && d.out_channels > d.in_channels;
    rank3_cases += d.rank == 3;
    const int rank3_depthwise = d.rank == 3 && d.in_channels > 1 && d.groups == d.in_channels;
    rank3_depthwise_cases += rank3_depthwise;
    multiplier_cases += multiplier;

    for (int a = 0; a < TEST_ALGORITHM_COUNT; ++a) {
        d.algorithm = test_algorithm(a);
        conv4j_plan *plan = test_plan_or_refusal(&d, b.kernel, bias);
        if (plan == NULL) {
            continue;
        }
        ++accepted[a];
        accepted_rank3[a] += d.rank == 3;
        accepted_rank3_depthwise[a] += rank3_depthwise;
        accepted_multiplier[a] += multiplier;
        for (int32_t threads = 0; threads < TEST_THREAD_COUNTS; ++threads) {
            float *target = threads == 0 ? first_output : b.output;
            for (int64_t i = 0; i < out_count; ++i) {
                target[i] = NAN; /* an unwritten element fails the bound */
            }
            CHECK_STATUS(conv4j_plan_execute(plan, b.input, target, NULL, 0, threads), CONV4J_OK);
            char what[64];
            snprintf(what, sizeof what, "%s threads=%d", conv4j_algorithm_name(d.algorithm),
                     (int)threads);
            /* Winograd has its own bound (test_bound.h): its error depends on the whole 6x6 tile. */
            const int64_t bad = conv4j_plan_algorithm(plan) == CONV4J_ALGORITHM_WINOGRAD
                                    ? test_winograd_mismatches(&oracle, &d, b.input, b.kernel, bias, target,
                                                               what, NULL)
                                    : test_oracle_mismatches(&oracle, target, what);
            CHECK(bad == 0, "%s: %lld elements outside the bound (%s)", what, (long long)bad, text);
            if (threads > 0) {
                CHECK(memcmp(first_output, b.output, (size_t)out_count * sizeof(float)) == 0,
                      "%s: result differs from threads=0", what);
            }
        }
        conv4j_plan_destroy(plan);
    }
done:
    test_oracle_free(&oracle);
    free(first_output);
    test_conv_buffers_free(&b);
}

static int has_text(const char *text, const char *part)
{
    return strstr(text, part) != NULL;
}

/* Which kernel AUTO and DIRECT pick on this CPU and ISA cap. */
static void check_choice(int expect_scalar)
{
    const conv4j_isa active = conv4j_active_isa();
    if (expect_scalar) {
        CHECK(active == CONV4J_ISA_SCALAR, "CONV4J_MAX_ISA=scalar but active isa is %s",
              conv4j_isa_name(active));
    }
    const float kernel[9] = {0};
    conv4j_conv_desc d = test_desc_2d(1, 8, 8, 1, 3, 3, 1);
    for (int a = 0; a < 2; ++a) { /* AUTO, DIRECT */
        d.algorithm = test_algorithm(a);
        conv4j_plan *plan = NULL;
        CHECK_STATUS(conv4j_plan_create(&d, kernel, NULL, &plan), CONV4J_OK);
        if (plan == NULL) {
            continue;
        }
        const char *explain = conv4j_plan_explain(plan);
        printf("%s: %s\n", conv4j_algorithm_name(d.algorithm), explain);
        CHECK(has_text(explain, "conv4j: rank=2 N=1 in=8x8x1 out=6x6x1 k=3x3"),
              "explain: %s", explain);
        CHECK(conv4j_plan_algorithm(plan) == CONV4J_ALGORITHM_DIRECT, "%s chose %s",
              conv4j_algorithm_name(d.algorithm),
              conv4j_algorithm_name(conv4j_plan_algorithm(plan)));
        /* The explain line names the config that runs: the active one. */
        const conv4j_isa_config *config = conv4j_isa_config_active();
        char expected[64];
        snprintf(expected, sizeof expected, "-> direct_%s (isa %s)", config->name,
                 conv4j_isa_name(config->isa));
        CHECK(has_text(explain, expected), "explain: %s, expected %s", explain, expected);
        CHECK(!expect_scalar || strcmp(config->name, "scalar") == 0, "capped to scalar, config %s",
              config->name);
        CHECK(expect_scalar || config->isa == active || !conv4j_isa_config_named(
                                                            conv4j_isa_name(active)),
              "active isa %s has a config but %s runs", conv4j_isa_name(active), config->name);
        conv4j_plan_destroy(plan);
    }
}

/* Rank 3: AUTO runs the indirect GEMM on a dense Conv3D, the direct loop on
 * one output channel per group; Winograd refuses with "rank 3" in the explain
 * line, also when forced. */
static void check_rank3_explain(void)
{
    conv4j_conv_desc d = test_desc_3d(2, 4, 5, 6, 16, 3, 3, 3, 16);
    char line[1024];
    CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_OK);
    printf("rank 3 auto: %s\n", line);
    CHECK(has_text(line, "conv4j: rank=3 N=2 in=4x5x6x16 out=2x3x4x16 k=3x3x3"), "explain: %s", line);
    CHECK(has_text(line, "-> igemm_"), "rank 3 AUTO: %s", line);
    d.algorithm = CONV4J_ALGORITHM_WINOGRAD;
    CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_OK);
    CHECK(has_text(line, "winograd_f4x4_3x3 (rank 3)"), "forced winograd: %s", line);
    conv4j_plan *plan = (conv4j_plan *)&plan;
    static const float kernel[3 * 3 * 3 * 16 * 16];
    CHECK_STATUS(conv4j_plan_create(&d, kernel, NULL, &plan), CONV4J_ERR_UNSUPPORTED);
    CHECK(plan == NULL, "refused plan not NULL");
    d.algorithm = CONV4J_ALGORITHM_AUTO;
    d.groups = 8;
    d.out_channels = 8;
    CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_OK);
    CHECK(has_text(line, "-> direct_") && has_text(line, "igemm (one output channel per group)"),
          "rank 3, one output channel per group: %s", line);
    /* A 1x1x1 stride-1 Conv3D is one plain GEMM; a rank-3 depthwise layer
     * (multiplier 2) runs on the depthwise driver's volume rows. */
    d = test_desc_3d(1, 3, 4, 5, 8, 1, 1, 1, 24);
    CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_OK);
    CHECK(has_text(line, "-> gemm_1x1_"), "rank 3 1x1x1: %s", line);
    d = test_desc_3d(1, 3, 4, 5, 8, 3, 3, 3, 16);
    d.groups = 8;
    CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_OK);
    CHECK(has_text(line, "-> dwconv_"), "rank 3 depthwise: %s", line);
    /* DepthwiseConv2D with depth_multiplier 3: AUTO runs the depthwise kernel. */
    d = test_desc_2d(1, 9, 9, 8, 3, 3, 24);
    d.groups = 8;
    CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_OK);
    printf("multiplier 3 auto: %s\n", line);
    CHECK(has_text(line, "-> dwconv_"), "multiplier 3 AUTO: %s", line);
}

int main(int argc, char **argv)
{
    if (!test_use_config()) {
        return TEST_SKIPPED;
    }
    const int expect_scalar = test_flag_arg(argc, argv, "--expect-isa=scalar");
    if (expect_scalar < 0) {
        return 2;
    }
    printf("cpu isa %s, active isa %s, features: %s, max threads %d\n",
           conv4j_isa_name(conv4j_cpu_isa()), conv4j_isa_name(conv4j_active_isa()),
           conv4j_cpu_features(), (int)conv4j_max_threads());
    check_choice(expect_scalar);
    check_rank3_explain();

    test_rng rng = {UINT64_C(0x9E3779B97F4A7C15)};
    const char *cases_text = getenv("CONV4J_TEST_CASES");
    const int cases = cases_text != NULL && atoi(cases_text) >= 100 ? atoi(cases_text) : DEFAULT_CASES;
    for (int i = 0; i < cases; ++i) {
        const conv4j_conv_desc d = random_desc(&rng, i);
        check_case(&rng, &d);
    }
    /* Fixed shapes for the GEMM driver's special paths at every config's
     * tile (14 and 6 rows): tiles of one output row at the top or bottom
     * that leave their padding segments out (wide windows and taps, one and
     * two padded kernel rows, several panels with a tail, so per-panel
     * calls), deep padded inputs that go by taps, and 1x1 rows pointed a
     * stride apart with a short last tile. */
    static const int32_t fixed[][9] = {
        /* batch, H, W, Cin, Cout, K, pad, relu, dilation */
        {1, 7, 7, 128, 80, 3, 1, 1, 1},
        {2, 14, 14, 24, 40, 3, 1, 0, 1},
        {1, 14, 14, 128, 48, 3, 1, 1, 1},
        {1, 6, 6, 16, 20, 3, 1, 0, 1},
        {1, 6, 6, 16, 36, 5, 2, 1, 1},
        {1, 14, 14, 20, 70, 5, 2, 0, 1},
        {2, 7, 14, 9, 17, 3, 2, 0, 2},
        {2, 9, 9, 16, 33, 1, 0, 1, 1},
        {3, 5, 7, 130, 64, 1, 0, 0, 1},
    };
    for (size_t f = 0; f < sizeof fixed / sizeof fixed[0]; ++f) {
        conv4j_conv_desc d;
        memset(&d, 0, sizeof d);
        d.rank = 2;
        d.batch = fixed[f][0];
        d.in_size[0] = fixed[f][1];
        d.in_size[1] = fixed[f][2];
        d.in_channels = fixed[f][3];
        d.out_channels = fixed[f][4];
        d.groups = 1;
        d.layout = CONV4J_LAYOUT_CHANNELS_LAST;
        d.activation = fixed[f][7] ? CONV4J_ACTIVATION_RELU : CONV4J_ACTIVATION_NONE;
        for (int axis = 0; axis < 2; ++axis) {
            d.kernel[axis] = fixed[f][5];
            d.stride[axis] = 1;
            d.dilation[axis] = fixed[f][8];
            d.pad_before[axis] = d.pad_after[axis] = fixed[f][6];
        }
        check_case(&rng, &d);
    }

    /* A specialized algorithm that refuses everything would pass the
     * comparisons vacuously: each must take a fair share of the cases. */
    for (int a = 0; a < TEST_ALGORITHM_COUNT; ++a) {
        const conv4j_algorithm algorithm = test_algorithm(a);
        const int minimum = test_algorithm_accepts_all(algorithm) ? cases : cases / MIN_SHARE;
        printf("%s accepted %d of %d cases (%d of %d rank 3, %d of %d with a multiplier)\n",
               conv4j_algorithm_name(algorithm), accepted[a], cases, accepted_rank3[a],
               rank3_cases, accepted_multiplier[a], multiplier_cases);
        CHECK(accepted[a] >= minimum, "%s accepted %d of %d cases, expected at least %d",
              conv4j_algorithm_name(algorithm), accepted[a], cases, minimum);
    }
    /* The fast paths of issue 13: GEMM takes every channels_last rank-3
     * case (the adapter the channels_first ones), the depthwise kernel every
     * case with a multiplier and every rank-3 depthwise one, AUTO too. */
    CHECK(rank3_cases >= cases / FAMILY_COUNT && multiplier_cases >= cases / FAMILY_COUNT,
          "%d rank-3 and %d multiplier cases of %d", rank3_cases, multiplier_cases, cases);
    CHECK(accepted_rank3[CONV4J_ALGORITHM_GEMM] == rank3_cases, "GEMM accepted %d of %d rank-3 cases",
          accepted_rank3[CONV4J_ALGORITHM_GEMM], rank3_cases);
    CHECK(accepted_multiplier[CONV4J_ALGORITHM_DEPTHWISE] == multiplier_cases &&
              accepted_multiplier[CONV4J_ALGORITHM_AUTO] == multiplier_cases,
          "depthwise accepted %d of %d cases with a multiplier",
          accepted_multiplier[CONV4J_ALGORITHM_DEPTHWISE], multiplier_cases);
    CHECK(rank3_depthwise_cases >= cases / (4 * FAMILY_COUNT) &&
              accepted_rank3_depthwise[CONV4J_ALGORITHM_DEPTHWISE] == rank3_depthwise_cases,
          "depthwise accepted %d of %d rank-3 depthwise cases",
          accepted_rank3_depthwise[CONV4J_ALGORITHM_DEPTHWISE], rank3_depthwise_cases);
    return test_summary(expect_scalar ? "test_plan_vs_reference (isa capped to scalar)"
                                      : "test_plan_vs_reference");
}

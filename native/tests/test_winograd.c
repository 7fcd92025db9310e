/*
 * Winograd F(4x4, 3x3) against conv4j_reference_conv on its tails: output
 * sizes 1..9 (below, at and above the 4-wide tile and two tiles), channel
 * counts around the 8-lane transforms and the 16-column GEMM panels, batch
 * 1..3 (tile blocks span images), valid / same / asymmetric explicit pads,
 * both layouts (channels_first through the plan's layout adapter),
 * bias and relu, threads 1 and 2 (bit-identical). The error bound is
 * test_bound.h's (derived in test_plan_vs_reference.c); README "Winograd accuracy"
 * says why it holds for Winograd from 16 input channels on, and this test
 * reports the largest error / bound ratio it saw.
 *
 * Also: what Winograd refuses, the CONV4J_FLAG_NO_WINOGRAD flag, unknown
 * flag bits, and AUTO's choice. Usage: test_winograd [--expect-isa=scalar]
 */
#include <math.h>
#include <stdlib.h>

#include "test_bound.h"
#include "test_config.h"

#define CASES 240

static double worst_ratio;

static int has_text(const char *text, const char *part)
{
    return strstr(text, part) != NULL;
}

/* Runs d (forced Winograd) at threads 1 and 2 and compares with the reference. */
static void check_case(test_rng *rng, const conv4j_conv_desc *d, int with_bias)
{
    if (test_output_count(d) < 0) {
        return; /* empty output: not a Winograd question */
    }
    test_conv_buffers b;
    if (test_conv_buffers_alloc(&b, d) != 0) {
        CHECK(0, "out of memory");
        return;
    }
    const int64_t out_count = b.output_count;
    float *input = b.input, *kernel = b.kernel, *output = b.output;
    const float *bias = with_bias ? b.bias : NULL;
    float *output2 = malloc((size_t)(out_count > 0 ? out_count : 1) * sizeof(float));
    test_conv_buffers_fill(&b, rng);
    test_oracle oracle;
    const int ready = test_oracle_init(&oracle, d, input, kernel, bias) == 0;
    CHECK(ready && output2 != NULL, "reference failed or out of memory");

    conv4j_plan *plan = NULL;
    CHECK_STATUS(conv4j_plan_create(d, kernel, bias, &plan), CONV4J_OK);
    if (plan != NULL && ready && output2 != NULL) {
        CHECK(conv4j_plan_algorithm(plan) == CONV4J_ALGORITHM_WINOGRAD, "chose %s",
              conv4j_algorithm_name(conv4j_plan_algorithm(plan)));
        for (int64_t i = 0; i < out_count; ++i) {
            output[i] = NAN; /* an unwritten element fails the bound */
            output2[i] = NAN;
        }
        /* A caller-given workspace of exactly the plan's size, then the plan's own. */
        const size_t workspace_size = conv4j_plan_workspace_size(plan);
        void *workspace = NULL;
        if (workspace_size > 0) {
            workspace = test_aligned_alloc(workspace_size);
            CHECK(workspace != NULL, "test_aligned_alloc");
        }
        CHECK_STATUS(conv4j_plan_execute(plan, input, output, workspace, workspace_size, 1),
                     CONV4J_OK);
        CHECK_STATUS(conv4j_plan_execute(plan, input, output2, NULL, 0, 2), CONV4J_OK);
        test_aligned_free(workspace);

        for (int64_t i = 0; i < out_count; ++i) {
            const double ratio = fabs((double)output[i] - oracle.reference[i]) /
                                 test_oracle_bound(&oracle, i);
            if (ratio > worst_ratio || ratio != ratio) {
                worst_ratio = ratio;
            }
        }
        char text[256];
        test_describe(d, text, sizeof text);
        const int64_t bad = test_oracle_mismatches(&oracle, output, text);
        CHECK(bad == 0, "%lld elements outside the bound (%s)", (long long)bad, text);
        CHECK(memcmp(output, output2, (size_t)out_count * sizeof(float)) == 0,
              "threads 1 and 2 differ (N=%d %dx%d Cin=%d Cout=%d)", d->batch, d->in_size[0],
              d->in_size[1], d->in_channels, d->out_channels);
    }
    conv4j_plan_destroy(plan);
    test_oracle_free(&oracle);
    free(output2);
    test_conv_buffers_free(&b);
}

static void random_pads(test_rng *rng, conv4j_conv_desc *d)
{
    switch (test_rng_int(rng, 0, 2)) {
    case 0: /* valid */
        break;
    case 1: /* same: 1 before and after for a 3x3 kernel at stride 1 */
        for (int axis = 0; axis < 2; ++axis) {
            d->pad_before[axis] = 1;
            d->pad_after[axis] = 1;
        }
        break;
    default: /* explicit, asymmetric, up to the largest Winograd takes */
        for (int axis = 0; axis < 2; ++axis) {
            d->pad_before[axis] = test_rng_int(rng, 0, 2);
            d->pad_after[axis] = test_rng_int(rng, 0, 2);
        }
        break;
    }
}

static void check_tails(void)
{
    static const int32_t channels[] = {16, 17, 23, 24, 25, 31, 32, 33, 40, 47, 48, 49};
    const int channel_count = (int)(sizeof channels / sizeof channels[0]);
    test_rng rng = {UINT64_C(0x57A11E5EED)};
    for (int c = 0; c < CASES; ++c) {
        conv4j_conv_desc d = test_desc_2d(test_rng_int(&rng, 1, 3), test_rng_int(&rng, 1, 11),
                                          test_rng_int(&rng, 1, 11),
                                          channels[test_rng_int(&rng, 0, channel_count - 1)], 3, 3,
                                          channels[test_rng_int(&rng, 0, channel_count - 1)]);
        random_pads(&rng, &d);
        /* channels_first runs through the plan's layout adapter. */
        d.layout = test_rng_int(&rng, 0, 3) == 0 ? CONV4J_LAYOUT_CHANNELS_FIRST
                                                 : CONV4J_LAYOUT_CHANNELS_LAST;
        d.activation = test_rng_int(&rng, 0, 1) ? CONV4J_ACTIVATION_RELU : CONV4J_ACTIVATION_NONE;
        d.algorithm = CONV4J_ALGORITHM_WINOGRAD;
        check_case(&rng, &d, test_rng_int(&rng, 0, 1));
    }
    /* A few large channel counts, where the GEMMs are long. */
    const int32_t large[][2] = {{128, 64}, {64, 130}, {256, 32}};
    for (int c = 0; c < 3; ++c) {
        conv4j_conv_desc d = test_desc_2d(2, 9, 7, large[c][0], 3, 3, large[c][1]);
        d.pad_before[0] = d.pad_before[1] = d.pad_after[0] = d.pad_after[1] = 1;
        d.algorithm = CONV4J_ALGORITHM_WINOGRAD;
        check_case(&rng, &d, 1);
    }
}

/* Status and explain line of a plan for d, or of its refusal. */
static conv4j_status plan_status(const conv4j_conv_desc *d, conv4j_algorithm *chosen,
                                 char *explain, size_t capacity)
{
    const int64_t kernel_count = test_kernel_count(d);
    float *kernel = calloc((size_t)(kernel_count > 0 ? kernel_count : 1), sizeof(float));
    conv4j_plan *plan = NULL;
    const conv4j_status status = conv4j_plan_create(d, kernel, NULL, &plan);
    *chosen = conv4j_plan_algorithm(plan);
    snprintf(explain, capacity, "%s", plan != NULL ? conv4j_plan_explain(plan) : "");
    conv4j_plan_destroy(plan);
    free(kernel);
    return status;
}

static void check_choice(int expect_scalar)
{
    char explain[1024];
    conv4j_algorithm chosen;
    const conv4j_conv_desc eligible = test_desc_2d(1, 8, 8, 16, 3, 3, 16);

    /* Opt-in: without the flag AUTO passes Winograd over and says why. */
    conv4j_conv_desc d = eligible;
    CHECK_STATUS(plan_status(&d, &chosen, explain, sizeof explain), CONV4J_OK);
    CHECK(chosen != CONV4J_ALGORITHM_WINOGRAD, "AUTO chose %s without the allow flag",
          conv4j_algorithm_name(chosen));
    CHECK(has_text(explain, "(opt-in, not allowed by flag)"), "explain: %s", explain);
    d.flags = CONV4J_FLAG_ALLOW_WINOGRAD;
    CHECK_STATUS(plan_status(&d, &chosen, explain, sizeof explain), CONV4J_OK);
    CHECK(chosen == CONV4J_ALGORITHM_WINOGRAD, "AUTO chose %s", conv4j_algorithm_name(chosen));
    CHECK(has_text(explain, expect_scalar ? "-> winograd_f4x4_3x3_scalar (isa scalar)"
                                          : "-> winograd_f4x4_3x3_"),
          "explain: %s", explain);
#ifdef CONV4J_HAVE_AVX2_KERNELS
    if (!expect_scalar && conv4j_cpu_isa() == CONV4J_ISA_AVX2) {
        CHECK(has_text(explain, "-> winograd_f4x4_3x3_avx2 (isa avx2)"), "explain: %s", explain);
    }
#endif

    /* The refusing flag wins over the allowing one; forcing is refused. */
    d.flags = CONV4J_FLAG_NO_WINOGRAD | CONV4J_FLAG_ALLOW_WINOGRAD;
    CHECK_STATUS(plan_status(&d, &chosen, explain, sizeof explain), CONV4J_OK);
    CHECK(chosen != CONV4J_ALGORITHM_WINOGRAD && chosen != CONV4J_ALGORITHM_AUTO, "AUTO chose %s",
          conv4j_algorithm_name(chosen));
    CHECK(has_text(explain, "(disabled by flag)"), "explain: %s", explain);
    d.algorithm = CONV4J_ALGORITHM_WINOGRAD;
    CHECK_STATUS(plan_status(&d, &chosen, explain, sizeof explain), CONV4J_ERR_UNSUPPORTED);

    /* Unknown flag bits are invalid, before any algorithm is considered. */
    d = eligible;
    d.flags = CONV4J_FLAGS_ALL + 1;
    CHECK_STATUS(conv4j_output_size(&d, NULL), CONV4J_ERR_INVALID_FLAGS);
    d.flags = INT32_MIN;
    CHECK_STATUS(plan_status(&d, &chosen, explain, sizeof explain), CONV4J_ERR_INVALID_FLAGS);
    CHECK(strstr(conv4j_status_string(CONV4J_ERR_INVALID_FLAGS), "flags") != NULL, "%s",
          conv4j_status_string(CONV4J_ERR_INVALID_FLAGS));

    /* What forced Winograd refuses, and AUTO passes over with the reason. */
    struct {
        conv4j_conv_desc desc;
        const char *reason;
    } refused[9];
    int count = 0;
    refused[count].desc = eligible;
    refused[count].desc.in_channels = 15;
    refused[count++].reason = "needs >= 16 input and output channels";
    refused[count].desc = eligible;
    refused[count].desc.out_channels = 8;
    refused[count++].reason = "needs >= 16 input and output channels";
    refused[count].desc = eligible;
    refused[count].desc.stride[1] = 2;
    refused[count++].reason = "needs stride 1 and dilation 1";
    refused[count].desc = eligible;
    refused[count].desc.dilation[0] = 2;
    refused[count++].reason = "needs stride 1 and dilation 1";
    refused[count].desc = eligible;
    refused[count].desc.groups = 2;
    refused[count++].reason = "needs groups == 1";
    refused[count].desc = eligible;
    refused[count].desc.pad_after[0] = 3;
    refused[count++].reason = "needs pads <= 2";
    refused[count].desc = test_desc_2d(1, 8, 8, 16, 5, 5, 16);
    refused[count++].reason = "needs a 3x3 Conv2D kernel";
    refused[count].desc = test_desc_1d(1, 8, 16, 3, 16);
    refused[count++].reason = "needs a 3x3 Conv2D kernel";
    refused[count].desc = test_desc_2d(1, 7, 7, 512, 3, 3, 512); /* ResNet-50's last 3x3 */
    refused[count].desc.pad_before[0] = refused[count].desc.pad_before[1] = 1;
    refused[count].desc.pad_after[0] = refused[count].desc.pad_after[1] = 1;
    refused[count++].reason = "too few 4x4 tiles";
    for (int i = 0; i < count; ++i) {
        d = refused[i].desc;
        d.flags = CONV4J_FLAG_ALLOW_WINOGRAD;
        CHECK_STATUS(plan_status(&d, &chosen, explain, sizeof explain), CONV4J_OK);
        CHECK(chosen != CONV4J_ALGORITHM_WINOGRAD, "case %d: AUTO chose winograd", i);
        CHECK(has_text(explain, refused[i].reason), "case %d: explain: %s", i, explain);
        d.algorithm = CONV4J_ALGORITHM_WINOGRAD;
        CHECK_STATUS(plan_status(&d, &chosen, explain, sizeof explain), CONV4J_ERR_UNSUPPORTED);
    }
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
    CHECK(!expect_scalar || conv4j_active_isa() == CONV4J_ISA_SCALAR, "active isa %s",
          conv4j_isa_name(conv4j_active_isa()));
    check_choice(expect_scalar);
    check_tails();
    printf("largest |winograd - reference| / bound: %.4f\n", worst_ratio);
    return test_summary(expect_scalar ? "test_winograd (isa capped to scalar)" : "test_winograd");
}

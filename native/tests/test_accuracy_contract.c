/*
 * The accuracy contract (README "Semantics", issue 12), checked where it can break:
 *
 * 1. Default paths. AUTO without flags and every algorithm AUTO may pick (direct, reference,
 *    GEMM, depthwise) meet the direct-sum bound per output on dense, sparse, post-relu,
 *    large-range and mixed-sign data, with and without bias, and an output whose window has only
 *    zero products is exactly the bias (after relu exactly max(bias, 0)). Includes the issue's
 *    repro: 3x3, 16 input channels, no bias, post-relu input with all-zero regions.
 *
 * 2. Winograd (forced) against its own bound, which depends on the whole 6x6 input tile
 *    (test_bound.h derives it): |got - exact| <= gamma(Cin + 18) * (T + |b|), T the tile's
 *    pixels and taps weighted by the transform matrices' magnitudes.
 *
 * 3. Paths above the blocking thresholds: GEMM splits its packed weights into blocks when
 *    K * Cout/g > 64 Ki floats, Winograd blocks tiles, and K-blocking may start past K ~ 1024:
 *    a few cases with K up to 4608 and K * Cout up to ~4.5x the threshold, every algorithm at
 *    threads 1, 2, 3 and 7 with CONV4J_FLAG_FULL_TEAM (ctest sets OMP_NUM_THREADS=8 so the
 *    workspaces have 7 slices), results bit-identical across thread counts; each algorithm must
 *    run a minimum number of multi-threaded calls.
 *
 * Usage: test_accuracy_contract [--expect-isa=scalar]
 */
#include <math.h>
#include <stdlib.h>

#include "test_bound.h"
#include "test_config.h"

#define TEAM_FLAGS CONV4J_FLAG_FULL_TEAM

static const int thread_counts[] = {1, 2, 3, 7};
#define THREAD_COUNT_COUNT 4

/* Multi-threaded (threads >= 2, full team) calls per algorithm code, over the whole test. */
static int multi_threaded_runs[TEST_ALGORITHM_COUNT];
static int accepted_runs[TEST_ALGORITHM_COUNT];
static double worst_winograd_ratio;          /* |error| / Winograd bound */
static int64_t winograd_beyond_direct;       /* its outputs outside the direct-sum bound */
static double worst_default_ratio;           /* default paths, |error| / direct-sum bound */
static int64_t zero_window_outputs;

/* ---- one case ---- */

typedef struct case_data {
    conv4j_conv_desc desc;
    test_conv_buffers b;
    const float *bias;     /* b.bias or NULL */
    float *window_sum;     /* reference on |x|, |w|, no bias: 0 where every product is 0 */
    test_oracle oracle;
    int ready;
} case_data;

static int case_init(case_data *cd, test_rng *rng, const conv4j_conv_desc *d, test_data_kind kind,
                     int with_bias)
{
    memset(cd, 0, sizeof *cd);
    cd->desc = *d;
    cd->desc.algorithm = CONV4J_ALGORITHM_AUTO;
    cd->desc.flags = 0;
    if (test_conv_buffers_alloc(&cd->b, &cd->desc) != 0) {
        CHECK(0, "out of memory");
        return -1;
    }
    test_fill_input_kind(rng, &cd->desc, cd->b.input, kind);
    test_fill_kind(rng, cd->b.kernel, cd->b.kernel_count, kind, 0);
    test_fill_kind(rng, cd->b.bias, cd->b.bias_count, kind == TEST_DATA_MIXED_SIGN ? TEST_DATA_DENSE : kind, 0);
    cd->bias = with_bias ? cd->b.bias : NULL;
    cd->window_sum = malloc((size_t)cd->b.output_count * sizeof(float));
    float *abs_input = malloc((size_t)cd->b.input_count * sizeof(float));
    float *abs_kernel = malloc((size_t)cd->b.kernel_count * sizeof(float));
    int ok = cd->window_sum != NULL && abs_input != NULL && abs_kernel != NULL &&
             test_oracle_init(&cd->oracle, &cd->desc, cd->b.input, cd->b.kernel, cd->bias) == 0;
    if (ok) {
        for (int64_t i = 0; i < cd->b.input_count; ++i) {
            abs_input[i] = fabsf(cd->b.input[i]);
        }
        for (int64_t i = 0; i < cd->b.kernel_count; ++i) {
            abs_kernel[i] = fabsf(cd->b.kernel[i]);
        }
        conv4j_conv_desc plain = cd->desc;
        plain.activation = CONV4J_ACTIVATION_NONE;
        ok = conv4j_reference_conv(&plain, abs_input, abs_kernel, NULL, cd->window_sum) == CONV4J_OK;
    }
    free(abs_input);
    free(abs_kernel);
    CHECK(ok, "reference failed or out of memory");
    cd->ready = ok;
    return ok ? 0 : -1;
}

static void case_free(case_data *cd)
{
    free(cd->window_sum);
    test_oracle_free(&cd->oracle);
    test_conv_buffers_free(&cd->b);
}

static float activated_bias(const conv4j_conv_desc *d, const float *bias, int64_t co)
{
    const float b = bias != NULL ? bias[co] : 0.0f;
    return d->activation == CONV4J_ACTIVATION_RELU && b < 0.0f ? 0.0f : b;
}


/* Runs algorithm (flags added, on the full team) at every thread count; checks the direct-sum
 * bound and exact zero windows (default paths) or the Winograd bound, and bit-identical results. */
static void run_algorithm(case_data *cd, conv4j_algorithm algorithm, int32_t flags, const char *label)
{
    conv4j_conv_desc d = cd->desc;
    d.algorithm = algorithm;
    d.flags = flags | TEAM_FLAGS;
    conv4j_plan *plan = test_plan_or_refusal(&d, cd->b.kernel, cd->bias);
    if (plan == NULL) {
        return;
    }
    const conv4j_algorithm chosen = conv4j_plan_algorithm(plan);
    const int winograd = chosen == CONV4J_ALGORITHM_WINOGRAD;
    CHECK(!winograd || algorithm == CONV4J_ALGORITHM_WINOGRAD || (flags & CONV4J_FLAG_ALLOW_WINOGRAD),
          "%s: chose winograd without being asked: %s", label, conv4j_plan_explain(plan));
    const int64_t count = cd->b.output_count;
    float *first = malloc((size_t)count * sizeof(float));
    float *out = malloc((size_t)count * sizeof(float));
    CHECK(first != NULL && out != NULL, "out of memory");
    char text[256];
    test_describe(&d, text, sizeof text);
    ++accepted_runs[algorithm];
    for (int ti = 0; ti < THREAD_COUNT_COUNT && first != NULL && out != NULL; ++ti) {
        const int32_t threads = thread_counts[ti];
        float *target = ti == 0 ? first : out;
        for (int64_t i = 0; i < count; ++i) {
            target[i] = NAN; /* an unwritten element fails the bound */
        }
        CHECK_STATUS(conv4j_plan_execute(plan, cd->b.input, target, NULL, 0, threads), CONV4J_OK);
        if (threads >= 2) {
            ++multi_threaded_runs[algorithm];
        }
        char what[384];
        snprintf(what, sizeof what, "%s threads=%d (%s)", label, (int)threads, text);
        if (winograd) {
            const int64_t bad = test_winograd_mismatches(&cd->oracle, &d, cd->b.input, cd->b.kernel, cd->bias,
                                                         target, what, &worst_winograd_ratio);
            CHECK(bad == 0, "%s: %lld elements outside the winograd bound", what, (long long)bad);
            for (int64_t i = 0; i < count; ++i) {
                winograd_beyond_direct += !test_oracle_accepts(&cd->oracle, i, target[i]);
            }
        } else {
            const int64_t bad = test_oracle_mismatches(&cd->oracle, target, what);
            CHECK(bad == 0, "%s: %lld elements outside the direct-sum bound", what, (long long)bad);
            int64_t bad_zero = 0;
            for (int64_t i = 0; i < count; ++i) {
                const double ratio = fabs((double)target[i] - (double)cd->oracle.reference[i]) /
                                     test_oracle_bound(&cd->oracle, i);
                worst_default_ratio = ratio > worst_default_ratio ? ratio : worst_default_ratio;
                if (cd->window_sum[i] != 0.0f) {
                    continue;
                }
                ++zero_window_outputs;
                const float expected = activated_bias(&d, cd->bias, test_output_channel(&d, i));
                if (target[i] != expected) {
                    if (bad_zero++ == 0 && test_failure_count < TEST_PRINTED_FAILURES) {
                        fprintf(stderr, "%s: element %lld reads only zeros, got %.9g, expected exactly %.9g\n",
                                what, (long long)i, (double)target[i], (double)expected);
                    }
                }
            }
            CHECK(bad_zero == 0, "%s: %lld zero-window elements are not exactly the bias", what,
                  (long long)bad_zero);
        }
        if (ti > 0) {
            CHECK(memcmp(first, out, (size_t)count * sizeof(float)) == 0, "%s: differs from threads=1", what);
        }
    }
    free(first);
    free(out);
    conv4j_plan_destroy(plan);
}

/* Every default path, then forced Winograd against its own bound. */
static void check_all(test_rng *rng, const conv4j_conv_desc *d, test_data_kind kind, int with_bias)
{
    case_data cd;
    if (case_init(&cd, rng, d, kind, with_bias) == 0) {
        char label[96];
        for (int a = 0; a < TEST_ALGORITHM_COUNT; ++a) {
            const conv4j_algorithm algorithm = test_algorithm(a);
            snprintf(label, sizeof label, "%s %s%s", conv4j_algorithm_name(algorithm),
                     test_data_kind_name(kind), with_bias ? "" : " no-bias");
            run_algorithm(&cd, algorithm, 0, label);
        }
    }
    case_free(&cd);
}

static conv4j_conv_desc desc_2d(int32_t n, int32_t h, int32_t w, int32_t cin, int32_t k, int32_t cout,
                                int32_t pad, int32_t groups, int32_t layout, int32_t activation)
{
    conv4j_conv_desc d = test_desc_2d(n, h, w, cin, k, k, cout);
    d.pad_before[0] = d.pad_before[1] = d.pad_after[0] = d.pad_after[1] = pad;
    d.groups = groups;
    d.layout = layout;
    d.activation = activation;
    return d;
}

/* Shapes of every family (3x3 Winograd-sized, 1x1, depthwise, 1-D causal, grouped, channels_first)
 * on every kind of data, with and without bias. */
static void check_data_kinds(test_rng *rng)
{
    const conv4j_conv_desc shapes[] = {
        desc_2d(1, 11, 10, 16, 3, 16, 1, 1, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_NONE),
        desc_2d(2, 9, 13, 17, 3, 24, 0, 1, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_RELU),
        desc_2d(1, 7, 9, 33, 3, 20, 2, 1, CONV4J_LAYOUT_CHANNELS_FIRST, CONV4J_ACTIVATION_NONE),
        desc_2d(1, 8, 8, 24, 1, 40, 0, 1, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_RELU),
        desc_2d(1, 12, 12, 24, 3, 24, 1, 24, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_RELU),
        desc_2d(1, 10, 10, 16, 3, 32, 1, 4, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_NONE),
    };
    const int shape_count = (int)(sizeof shapes / sizeof shapes[0]);
    for (int s = 0; s < shape_count; ++s) {
        for (int kind = 0; kind < TEST_DATA_KINDS; ++kind) {
            check_all(rng, &shapes[s], (test_data_kind)kind, (s + kind) % 2);
        }
    }
    /* Conv3D (3x3x3, pads 1 and asymmetric) and a rank-3 depthwise layer with a
     * multiplier of 2, on every kind of data. */
    conv4j_conv_desc volume = test_desc_3d(1, 5, 6, 7, 16, 3, 3, 3, 20);
    volume.pad_before[0] = volume.pad_before[1] = volume.pad_before[2] = 1;
    volume.pad_after[0] = volume.pad_after[2] = 1;
    conv4j_conv_desc volume_dw = test_desc_3d(2, 4, 6, 5, 12, 3, 3, 3, 24);
    volume_dw.groups = 12;
    volume_dw.pad_before[1] = volume_dw.pad_after[1] = 1;
    volume_dw.activation = CONV4J_ACTIVATION_RELU;
    for (int kind = 0; kind < TEST_DATA_KINDS; ++kind) {
        check_all(rng, &volume, (test_data_kind)kind, kind % 2);
        check_all(rng, &volume_dw, (test_data_kind)kind, (kind + 1) % 2);
    }
    /* A causal dilated Conv1D over post-relu and sparse sequences. */
    conv4j_conv_desc causal = test_desc_1d(2, 40, 12, 3, 20);
    causal.dilation[0] = 2;
    causal.pad_before[0] = 4;
    check_all(rng, &causal, TEST_DATA_POST_RELU, 0);
    check_all(rng, &causal, TEST_DATA_SPARSE, 1);
}

/* Issue 12's repro: 13x13x16 post-relu with zero regions, 3x3 valid, 24 filters, no bias -> 11x11x24
 * = 2904 outputs. AUTO must give exactly 0 wherever the window reads only zeros. */
static void check_issue_repro(test_rng *rng)
{
    const conv4j_conv_desc d =
        desc_2d(1, 13, 13, 16, 3, 24, 0, 1, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_NONE);
    case_data cd;
    if (case_init(&cd, rng, &d, TEST_DATA_POST_RELU, 0) != 0) {
        case_free(&cd);
        return;
    }
    /* A fixed zero band besides the random rectangles: input rows 0..5; then the oracle again. */
    for (int64_t i = 0; i < 6 * 13 * 16; ++i) {
        cd.b.input[i] = 0.0f;
    }
    test_oracle_free(&cd.oracle);
    float *abs_input = malloc((size_t)cd.b.input_count * sizeof(float));
    float *abs_kernel = malloc((size_t)cd.b.kernel_count * sizeof(float));
    int ok = abs_input != NULL && abs_kernel != NULL &&
             test_oracle_init(&cd.oracle, &cd.desc, cd.b.input, cd.b.kernel, NULL) == 0;
    if (ok) {
        for (int64_t i = 0; i < cd.b.input_count; ++i) {
            abs_input[i] = fabsf(cd.b.input[i]);
        }
        for (int64_t i = 0; i < cd.b.kernel_count; ++i) {
            abs_kernel[i] = fabsf(cd.b.kernel[i]);
        }
        ok = conv4j_reference_conv(&cd.desc, abs_input, abs_kernel, NULL, cd.window_sum) == CONV4J_OK;
    }
    free(abs_input);
    free(abs_kernel);
    CHECK(ok, "issue repro: reference failed");
    if (ok) {
        int64_t zeros = 0;
        for (int64_t i = 0; i < cd.b.output_count; ++i) {
            zeros += cd.window_sum[i] == 0.0f;
        }
        CHECK(zeros >= 4 * 11 * 24, "issue repro: only %lld zero-window outputs", (long long)zeros);
        run_algorithm(&cd, CONV4J_ALGORITHM_AUTO, 0, "issue-12 repro AUTO");
        /* What the issue saw: Winograd, allowed, leaves noise where Keras has 0 (reported, not a failure). */
        conv4j_conv_desc w = cd.desc;
        w.flags = CONV4J_FLAG_ALLOW_WINOGRAD;
        conv4j_plan *plan = NULL;
        float *out = malloc((size_t)cd.b.output_count * sizeof(float));
        if (conv4j_plan_create(&w, cd.b.kernel, NULL, &plan) == CONV4J_OK && out != NULL) {
            conv4j_plan_execute(plan, cd.b.input, out, NULL, 0, 1);
            int64_t noisy = 0;
            for (int64_t i = 0; i < cd.b.output_count; ++i) {
                noisy += cd.window_sum[i] == 0.0f && out[i] != 0.0f;
            }
            printf("issue-12 repro: %lld of %lld outputs read only zeros; AUTO gives exactly 0 in all, "
                   "%s (allowed) leaves %lld non-zero\n", (long long)zeros, (long long)cd.b.output_count,
                   conv4j_algorithm_name(conv4j_plan_algorithm(plan)), (long long)noisy);
        }
        free(out);
        conv4j_plan_destroy(plan);
    }
    case_free(&cd);
}

/* Above every blocking threshold, at threads 1, 2, 3 and 7 on the full team. */
static void check_blocking(test_rng *rng, int few)
{
    conv4j_conv_desc shapes[8];
    int count = 0;
    /* K = 4608, K * Cout = 294 912 floats (4.5x the GEMM weight block). */
    shapes[count++] = desc_2d(1, 4, 4, 512, 3, 64, 1, 1, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_RELU);
    /* Winograd-shaped, K = 2304, tiles in several blocks (N = 3). */
    shapes[count++] = desc_2d(3, 8, 8, 256, 3, 96, 1, 1, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_NONE);
    /* 1x1, K = 1024, K * Cout = 2 x 64 Ki. */
    shapes[count++] = desc_2d(1, 5, 7, 1024, 1, 128, 0, 1, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_NONE);
    /* Grouped: K = 1152 per group, K * Cout/g = 147 456. */
    shapes[count++] = desc_2d(1, 5, 5, 256, 3, 256, 1, 2, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_RELU);
    if (!few) {
        /* K = 1440, Cout = 200 (not a multiple of 16), odd sizes. */
        shapes[count++] = desc_2d(2, 5, 6, 160, 3, 200, 1, 1, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_NONE);
        /* Conv1D, k 5, K = 1500, K * Cout = 150 000. */
        shapes[count] = test_desc_1d(2, 13, 300, 5, 100);
        shapes[count].pad_before[0] = 4;
        ++count;
        /* Depthwise, many channels: its channel blocks. */
        shapes[count++] = desc_2d(1, 9, 9, 520, 3, 520, 1, 520, CONV4J_LAYOUT_CHANNELS_LAST, CONV4J_ACTIVATION_NONE);
        /* Winograd-shaped through the channels_first adapter, K = 1152. */
        shapes[count++] = desc_2d(2, 9, 7, 128, 3, 130, 1, 1, CONV4J_LAYOUT_CHANNELS_FIRST, CONV4J_ACTIVATION_RELU);
    }
    for (int s = 0; s < count; ++s) {
        check_all(rng, &shapes[s], (test_data_kind)(s % TEST_DATA_KINDS), s % 2 == 0);
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
    printf("cpu isa %s, active isa %s, max threads %d\n", conv4j_isa_name(conv4j_cpu_isa()),
           conv4j_isa_name(conv4j_active_isa()), (int)conv4j_max_threads());
    /* Workspaces get one slice per OpenMP thread at plan time: 7 threads need 7 slices. */
    CHECK(conv4j_max_threads() >= 7,
          "max threads %d: run with OMP_NUM_THREADS=8 (ctest does) so that threads 3 and 7 are real",
          (int)conv4j_max_threads());
    double kk[4][3][6];
    test_winograd_k(kk); /* checks the matrices compute the correlation */
    double largest = 0.0;
    for (int i = 0; i < 72; ++i) {
        largest = kk[i / 18][i / 6 % 3][i % 6] > largest ? kk[i / 18][i / 6 % 3][i % 6] : largest;
    }
    CHECK(fabs(largest - 14.0 / 3.0) < 1e-12, "max K = %.17g, README says 14/3", largest);
    const char *cases_text = getenv("CONV4J_TEST_CASES");
    const int few = cases_text != NULL && atoi(cases_text) > 0 && atoi(cases_text) < 1000;

    test_rng rng = {UINT64_C(0xACC0C0A7AC7)};
    check_issue_repro(&rng);
    check_data_kinds(&rng);
    check_blocking(&rng, few);

    /* Each algorithm must have run, and run on a team: a refusing kernel or a serial cutoff would
     * make the comparisons above vacuous. */
    const int minimum_accepted[TEST_ALGORITHM_COUNT] = {20, 20, 20, 12, 8, 3};
    for (int a = 0; a < TEST_ALGORITHM_COUNT; ++a) {
        printf("%s: %d plans, %d multi-threaded calls\n", conv4j_algorithm_name(test_algorithm(a)),
               accepted_runs[a], multi_threaded_runs[a]);
        CHECK(accepted_runs[a] >= minimum_accepted[a], "%s accepted %d cases, expected at least %d",
              conv4j_algorithm_name(test_algorithm(a)), accepted_runs[a], minimum_accepted[a]);
        CHECK(multi_threaded_runs[a] >= 3 * minimum_accepted[a],
              "%s ran %d multi-threaded calls, expected at least %d",
              conv4j_algorithm_name(test_algorithm(a)), multi_threaded_runs[a], 3 * minimum_accepted[a]);
    }
    printf("default paths: largest |error| / direct-sum bound %.4f; %lld zero-window outputs exact\n",
           worst_default_ratio, (long long)zero_window_outputs);
    printf("winograd: largest |error| / winograd bound %.4f; %lld of its outputs outside the direct-sum "
           "bound\n", worst_winograd_ratio, (long long)winograd_beyond_direct);
    return test_summary(expect_scalar ? "test_accuracy_contract (isa capped to scalar)"
                                      : "test_accuracy_contract");
}

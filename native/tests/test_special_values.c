/*
 * NaN and +-Inf through every algorithm, as IEEE 754 says for a sum of products: an output is
 * NaN when any of its taps is NaN, or is Inf times 0, or when +Inf and -Inf meet; it is +-Inf
 * when infinite terms of one sign dominate; otherwise it is finite and within the usual bound.
 * The C reference (double accumulation) is the oracle for the class of every element; relu
 * keeps NaN (TensorFlow's choice), maps -Inf to 0 and keeps +Inf.
 *
 * The guarantee checked for every algorithm: no finite result where the reference is not, and
 * the reverse. Only Winograd may turn an output of a tile that holds a non-finite input into
 * NaN where the direct sum gives +-Inf or a finite value (its transforms compute Inf - Inf), so
 * for it a NaN is accepted wherever the image holds a non-finite value; it never gives a wrong
 * finite value. Prints how many runs each algorithm made.
 */
#include "test_bound.h"
#include "test_config.h"

static long runs_per_algorithm[TEST_LAST_FORCED_ALGORITHM + 1];
static int64_t nonfinite_outputs; /* reference outputs that are NaN or +-Inf, over all cases */

/* Replaces a few values of each kind; the rest stay in [-1, 1). */
static void sprinkle(test_rng *rng, float *values, int64_t count, int specials)
{
    static const float kinds[] = {NAN, INFINITY, -INFINITY, 0.0f};
    for (int i = 0; i < specials; ++i) {
        values[test_rng_int(rng, 0, (int32_t)count - 1)] = kinds[test_rng_int(rng, 0, 3)];
    }
}

static int image_has_nonfinite(const conv4j_conv_desc *d, const float *input, int64_t n)
{
    const int64_t per_image = test_input_count(d) / d->batch;
    for (int64_t i = n * per_image; i < (n + 1) * per_image; ++i) {
        if (!isfinite(input[i])) {
            return 1;
        }
    }
    return 0;
}

static void run_case(test_rng *rng, conv4j_conv_desc d, int input_specials, int kernel_specials,
                     int bias_special)
{
    test_conv_buffers b;
    if (test_conv_buffers_alloc(&b, &d) != 0) {
        CHECK(0, "out of memory");
        return;
    }
    test_conv_buffers_fill(&b, rng);
    const int64_t out_count = b.output_count;
    float *input = b.input, *kernel = b.kernel, *bias = b.bias, *output = b.output;
    sprinkle(rng, input, b.input_count, input_specials);
    sprinkle(rng, kernel, b.kernel_count, kernel_specials);
    if (bias_special) {
        sprinkle(rng, bias, d.out_channels, 1);
    }
    test_oracle oracle;
    CHECK(test_oracle_init(&oracle, &d, input, kernel, bias) == 0, "oracle failed");
    int64_t nonfinite_reference = 0;
    for (int64_t i = 0; i < out_count; ++i) {
        nonfinite_reference += !isfinite(oracle.reference[i]);
    }
    nonfinite_outputs += nonfinite_reference;

    const int64_t per_image = out_count / d.batch;
    for (int a = TEST_FIRST_FORCED_ALGORITHM; a <= TEST_LAST_FORCED_ALGORITHM; ++a) {
        d.algorithm = a;
        conv4j_plan *plan = NULL;
        const conv4j_status status = conv4j_plan_create(&d, kernel, bias, &plan);
        if (status == CONV4J_ERR_UNSUPPORTED) {
            continue;
        }
        CHECK_STATUS(status, CONV4J_OK);
        if (plan == NULL) {
            continue;
        }
        for (int32_t threads = 1; threads <= 2; ++threads) {
            CHECK_STATUS(conv4j_plan_execute(plan, input, output, NULL, 0, threads), CONV4J_OK);
            int64_t bad = 0;
            for (int64_t i = 0; i < out_count; ++i) {
                if (test_oracle_accepts(&oracle, i, output[i])) {
                    continue;
                }
                if (a == CONV4J_ALGORITHM_WINOGRAD && isnan(output[i]) &&
                    image_has_nonfinite(&d, input, i / per_image)) {
                    continue;
                }
                if (bad++ == 0) {
                    char text[256];
                    test_describe(&d, text, sizeof text);
                    CHECK(0, "%s threads=%d: element %lld got %g, reference %g (%s)",
                          conv4j_algorithm_name((conv4j_algorithm)a), (int)threads, (long long)i,
                          (double)output[i], (double)oracle.reference[i], text);
                }
            }
            ++runs_per_algorithm[a];
        }
        conv4j_plan_destroy(plan);
    }
    test_oracle_free(&oracle);
    test_conv_buffers_free(&b);
}

/* The exact IEEE cases on a 1-tap, 1-channel convolution, through every algorithm. */
static void exact_cases(void)
{
    static const struct {
        float x, w, b;
        int relu;
        float expected;
    } cases[] = {
        {NAN, 1.0f, 0.0f, 0, NAN},          {NAN, 1.0f, 0.0f, 1, NAN}, /* relu(NaN) = NaN */
        {INFINITY, 0.0f, 0.0f, 0, NAN},     /* Inf * 0 */
        {INFINITY, 2.0f, 0.0f, 0, INFINITY}, {INFINITY, -2.0f, 0.0f, 0, -INFINITY},
        {INFINITY, -2.0f, 0.0f, 1, 0.0f},   /* relu(-Inf) = 0 */
        {INFINITY, 1.0f, -INFINITY, 0, NAN}, /* Inf - Inf */
        {1.0f, 1.0f, INFINITY, 1, INFINITY}, {1.0f, NAN, 0.0f, 0, NAN},
        {-0.0f, 1.0f, 0.0f, 0, 0.0f},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        conv4j_conv_desc d = test_desc_1d(1, 1, 1, 1, 1);
        d.activation = cases[c].relu ? CONV4J_ACTIVATION_RELU : CONV4J_ACTIVATION_NONE;
        for (int a = TEST_FIRST_FORCED_ALGORITHM; a <= TEST_LAST_FORCED_ALGORITHM; ++a) {
            d.algorithm = a;
            conv4j_plan *plan = NULL;
            const float w = cases[c].w;
            const float b = cases[c].b;
            const conv4j_status status = conv4j_plan_create(&d, &w, &b, &plan);
            if (status == CONV4J_ERR_UNSUPPORTED) {
                continue;
            }
            CHECK_STATUS(status, CONV4J_OK);
            if (plan == NULL) {
                continue;
            }
            float y = 42.0f;
            CHECK_STATUS(conv4j_plan_execute(plan, &cases[c].x, &y, NULL, 0, 1), CONV4J_OK);
            const float e = cases[c].expected;
            CHECK(isnan(e) ? isnan(y) : y == e, "%s case %zu: x=%g w=%g b=%g relu=%d gave %g, "
                  "expected %g", conv4j_algorithm_name((conv4j_algorithm)a), c,
                  (double)cases[c].x, (double)w, (double)b, cases[c].relu, (double)y, (double)e);
            conv4j_plan_destroy(plan);
        }
    }
}

int main(void)
{
    if (!test_use_config()) {
        return TEST_SKIPPED;
    }
    exact_cases();
    test_rng rng = {UINT64_C(0x3C6EF372FE94F82B)};
    for (int round = 0; round < 12; ++round) {
        for (int relu = 0; relu <= 1; ++relu) {
            /* Shapes each kernel family serves: 3x3 dense, 1x1, depthwise, Conv1D, Winograd,
             * Conv3D and rank-3 depthwise with a multiplier. */
            conv4j_conv_desc shapes[7];
            shapes[0] = test_desc_2d(2, 9, 10, 8, 3, 3, 17);
            shapes[0].pad_before[0] = shapes[0].pad_before[1] = 1;
            shapes[0].pad_after[0] = shapes[0].pad_after[1] = 1;
            shapes[1] = test_desc_2d(1, 4, 9, 16, 1, 1, 9);
            shapes[2] = test_desc_2d(1, 8, 8, 16, 3, 3, 16);
            shapes[2].groups = 16;
            shapes[3] = test_desc_1d(2, 40, 6, 3, 8);
            shapes[3].dilation[0] = 2;
            shapes[3].pad_before[0] = 4;
            /* Large enough for Winograd (16+ channels, channels_last is its only layout). */
            shapes[4] = test_desc_2d(1, 8, 9, 16, 3, 3, 17);
            shapes[4].pad_before[0] = shapes[4].pad_before[1] = 1;
            shapes[4].pad_after[0] = shapes[4].pad_after[1] = 1;
            shapes[5] = test_desc_3d(1, 4, 5, 6, 4, 3, 3, 3, 9);
            shapes[5].pad_before[0] = shapes[5].pad_before[1] = shapes[5].pad_before[2] = 1;
            shapes[5].pad_after[1] = 1;
            shapes[6] = test_desc_3d(2, 3, 4, 5, 6, 2, 3, 3, 12);
            shapes[6].groups = 6;
            shapes[6].pad_after[2] = 2;
            for (int s = 0; s < 7; ++s) {
                shapes[s].activation = relu ? CONV4J_ACTIVATION_RELU : CONV4J_ACTIVATION_NONE;
                shapes[s].layout = round % 3 == 2 ? CONV4J_LAYOUT_CHANNELS_FIRST
                                                  : CONV4J_LAYOUT_CHANNELS_LAST;
                run_case(&rng, shapes[s], 1 + round % 4, round % 2, round % 5 == 0);
            }
        }
    }
    for (int a = TEST_FIRST_FORCED_ALGORITHM; a <= TEST_LAST_FORCED_ALGORITHM; ++a) {
        printf("special values: %-10s %4ld runs\n", conv4j_algorithm_name((conv4j_algorithm)a),
               runs_per_algorithm[a]);
    }
    printf("special values: %lld non-finite reference outputs per run\n",
           (long long)nonfinite_outputs);
    CHECK(runs_per_algorithm[CONV4J_ALGORITHM_REFERENCE] > 0, "the reference never ran");
    /* GEMM refuses non-finite kernels with padding, Winograd any non-finite kernel, depthwise
     * takes two families of seven: 248, 28 and 96 of 336 when written. */
    const int divisor[TEST_LAST_FORCED_ALGORITHM + 1] = {
        [CONV4J_ALGORITHM_DIRECT] = 1, [CONV4J_ALGORITHM_GEMM] = 2, [CONV4J_ALGORITHM_WINOGRAD] = 14,
        [CONV4J_ALGORITHM_DEPTHWISE] = 10};
    test_check_shares("special values", runs_per_algorithm, divisor);
    CHECK(nonfinite_outputs > 1000, "too few non-finite outputs (%lld): the cases are too weak",
          (long long)nonfinite_outputs);
    return test_summary("test_special_values");
}

/*
 * libFuzzer target: a descriptor decoded from the bytes (mostly in the ranges the kernels
 * serve, sometimes with one field replaced by a raw int32), random data, a forced algorithm
 * (any code, valid or not), a thread count and an optional caller workspace.
 *
 * Valid descriptor: the plan either refuses with CONV4J_ERR_UNSUPPORTED (a forced algorithm
 * may) or is created, and its result stays within test_bound.h's bound of the C reference.
 * Invalid descriptor: plan_create, output_size and reference_conv all return the same error
 * status and no plan. Anything else aborts, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "test_bound.h"

/* Keeps one execution in the low milliseconds under ASan. */
#define MAX_ELEMENTS 8192
#define MAX_MULTIPLY_ADDS 250000

static conv4j_conv_desc decode(fuzz_input *in, uint8_t flags)
{
    conv4j_conv_desc d;
    memset(&d, 0, sizeof d);
    d.rank = (flags & 1) ? 2 : 1; /* 2 may become 3 below */
    d.layout = (flags >> 1) & 1;
    d.activation = (flags >> 2) & 1;
    d.algorithm = fuzz_range(in, -1, 6); /* -1 and 6 are not algorithms */
    d.batch = fuzz_range(in, 1, 3);
    d.in_channels = fuzz_range(in, 1, 20);
    /* groups: 1, Cin (depthwise) or some divisor of Cin. */
    switch (fuzz_range(in, 0, 2)) {
    case 0:
        d.groups = 1;
        break;
    case 1:
        d.groups = d.in_channels;
        break;
    default: {
        int32_t g = fuzz_range(in, 1, d.in_channels);
        while (d.in_channels % g != 0) {
            --g;
        }
        d.groups = g;
        break;
    }
    }
    d.out_channels = d.groups * fuzz_range(in, 1, d.groups > 4 ? 2 : 20 / d.groups);
    for (int axis = 0; axis < d.rank; ++axis) {
        d.in_size[axis] = fuzz_range(in, 1, d.rank == 1 ? 64 : 20);
        d.kernel[axis] = fuzz_range(in, 1, 7);
        d.stride[axis] = fuzz_range(in, 1, 4);
        d.dilation[axis] = fuzz_range(in, 1, 3);
        d.pad_before[axis] = fuzz_range(in, 0, 6);
        d.pad_after[axis] = fuzz_range(in, 0, 6);
    }
    if (d.rank == 2 && (fuzz_byte(in) & 1)) {
        /* Rank 3: the two axes become D and H of a small volume, plus a W axis. */
        d.rank = 3;
        for (int axis = 0; axis < 2; ++axis) {
            d.in_size[axis] = 1 + (d.in_size[axis] - 1) % 8;
        }
        d.in_size[2] = fuzz_range(in, 1, 8);
        d.kernel[2] = fuzz_range(in, 1, 4);
        d.stride[2] = fuzz_range(in, 1, 3);
        d.dilation[2] = fuzz_range(in, 1, 2);
        d.pad_before[2] = fuzz_range(in, 0, 3);
        d.pad_after[2] = fuzz_range(in, 0, 3);
    }
    if (flags & 0x40) {
        /* One field of the struct replaced by a raw value: validation's turn. */
        int32_t fields[sizeof d / sizeof(int32_t)];
        memcpy(fields, &d, sizeof d);
        fields[fuzz_byte(in) % (sizeof d / sizeof(int32_t))] = fuzz_int32(in);
        memcpy(&d, fields, sizeof d);
    }
    return d;
}

static void check_invalid(const conv4j_conv_desc *d, conv4j_status status)
{
    FUZZ_REQUIRE(fuzz_known_error(status), "status %d", (int)status);
    static const float one = 1.0f;
    float out = 0.0f;
    conv4j_plan *plan = (conv4j_plan *)&out; /* must be overwritten with NULL */
    const conv4j_status create = conv4j_plan_create(d, &one, &one, &plan);
    FUZZ_REQUIRE(create == status, "plan_create %d, output_size %d", (int)create, (int)status);
    FUZZ_REQUIRE(plan == NULL, "failed plan_create left a plan");
    conv4j_weights *weights = (conv4j_weights *)&out;
    const conv4j_status weighed = conv4j_weights_create(d, &one, &one, &weights);
    FUZZ_REQUIRE(weighed == status, "weights_create %d, output_size %d", (int)weighed,
                 (int)status);
    FUZZ_REQUIRE(weights == NULL, "failed weights_create left weights");
    /* The reference validates the same way; with an invalid algorithm value it still does. */
    const conv4j_status reference = conv4j_reference_conv(d, &one, &one, NULL, &out);
    FUZZ_REQUIRE(reference == status, "reference_conv %d, output_size %d", (int)reference,
                 (int)status);
}

/* flags bit 0x80: the plan comes from conv4j_weights instead of plan_create. */
static void check_valid(fuzz_input *in, const conv4j_conv_desc *d, uint8_t flags)
{
    const int64_t in_count = test_input_count(d);
    const int64_t kernel_count = test_kernel_count(d);
    const int64_t out_count = test_output_count(d);
    if (in_count > MAX_ELEMENTS || kernel_count > MAX_ELEMENTS || out_count > MAX_ELEMENTS ||
        out_count * (kernel_count / d->out_channels) > MAX_MULTIPLY_ADDS) {
        return; /* valid but too slow for a fuzz iteration */
    }
    test_rng rng = {fuzz_uint64(in) | 1};
    test_conv_buffers b;
    FUZZ_REQUIRE(test_conv_buffers_alloc(&b, d) == 0, "out of memory");
    test_conv_buffers_fill(&b, &rng);
    float *input = b.input, *kernel = b.kernel, *bias = b.bias, *output = b.output;
    const float *bias_or_null = (flags & 8) ? bias : NULL;
    test_oracle oracle;
    FUZZ_REQUIRE(test_oracle_init(&oracle, d, input, kernel, bias_or_null) == 0, "oracle");

    conv4j_plan *plan = NULL;
    conv4j_status status;
    if (flags & 0x80) {
        /* Through shared weights, whose owner lets go before the plan runs. */
        conv4j_weights *weights = NULL;
        FUZZ_REQUIRE(conv4j_weights_create(d, kernel, bias_or_null, &weights) == CONV4J_OK,
                     "weights_create refused a valid descriptor");
        status = conv4j_plan_create_with_weights(d, weights, &plan);
        conv4j_weights_destroy(weights);
    } else {
        status = conv4j_plan_create(d, kernel, bias_or_null, &plan);
    }
    if (status == CONV4J_ERR_UNSUPPORTED) {
        FUZZ_REQUIRE(d->algorithm != CONV4J_ALGORITHM_AUTO, "AUTO found no algorithm");
        FUZZ_REQUIRE(plan == NULL, "refused plan left behind");
    } else {
        FUZZ_REQUIRE(status == CONV4J_OK && plan != NULL, "plan_create gave %d", (int)status);
        const conv4j_algorithm chosen = conv4j_plan_algorithm(plan);
        FUZZ_REQUIRE(d->algorithm == CONV4J_ALGORITHM_AUTO || (int32_t)chosen == d->algorithm,
                     "forced %d, got %d", (int)d->algorithm, (int)chosen);
        /* The caller's buffers are not kept: scribbling on them must not change the result. */
        memset(kernel, 0xff, (size_t)kernel_count * sizeof(float));
        memset(bias, 0xff, (size_t)d->out_channels * sizeof(float));

        const int32_t threads = (flags & 0x10) ? 2 : 1;
        const size_t workspace_size = conv4j_plan_workspace_size(plan);
        void *workspace = NULL;
        if ((flags & 0x20) && workspace_size > 0) {
            workspace = test_aligned_alloc(workspace_size);
            FUZZ_REQUIRE(workspace != NULL, "out of memory");
            FUZZ_REQUIRE(conv4j_plan_execute(plan, input, output, workspace, workspace_size - 1,
                                             threads) == CONV4J_ERR_WORKSPACE_TOO_SMALL,
                         "a short workspace was accepted");
        }
        for (int64_t i = 0; i < out_count; ++i) {
            output[i] = NAN;
        }
        const conv4j_status run =
            conv4j_plan_execute(plan, input, output, workspace, workspace_size, threads);
        FUZZ_REQUIRE(run == CONV4J_OK, "execute gave %d", (int)run);
        char what[128];
        snprintf(what, sizeof what, "fuzz_conv %s threads=%d", conv4j_algorithm_name(chosen),
                 (int)threads);
        FUZZ_REQUIRE(test_oracle_mismatches(&oracle, output, what) == 0, "%s: %s", what,
                     conv4j_plan_explain(plan));
        test_aligned_free(workspace);
        conv4j_plan_destroy(plan);
    }
    test_oracle_free(&oracle);
    test_conv_buffers_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_input in = {data, size, 0};
    const uint8_t flags = fuzz_byte(&in);
    const conv4j_conv_desc d = decode(&in, flags);
    int32_t out_size[3] = {-1, -1, -1};
    const conv4j_status status = conv4j_output_size(&d, out_size);
    if (status != CONV4J_OK) {
        check_invalid(&d, status);
        return 0;
    }
    FUZZ_REQUIRE(out_size[0] >= 1 && out_size[1] >= 1, "output size %d x %d", out_size[0],
                 out_size[1]);
    check_valid(&in, &d, flags);
    return 0;
}

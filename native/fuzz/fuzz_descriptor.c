/*
 * libFuzzer target: the bytes are the raw conv4j_conv_desc (any int32 in any field), the
 * validation's worst case. Checks, independently of descriptor.c:
 *  - every call returns a defined status, never crashes, never creates a plan on failure;
 *  - a valid descriptor has the output size of Keras' formula and element counts that fit in
 *    int32 (refusing CONV4J_ERR_SIZE_OVERFLOW otherwise is checked the other way round too);
 *  - a small valid one runs on every algorithm that accepts it: zero weights and input with a
 *    bias of 1 give 1 (or relu(1)) everywhere, so each output element is written exactly
 *    (backward data: dx, bias over Cin; backward weights: dw and db all 0).
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "test_bound.h"

#define MAX_ELEMENTS 4096

/* Keras output length of one axis, or 0 when the dilated kernel does not fit. */
static int64_t keras_extent(int64_t in, int64_t before, int64_t after, int64_t kernel,
                            int64_t stride, int64_t dilation)
{
    const int64_t padded = in + before + after;
    const int64_t span = (kernel - 1) * dilation + 1;
    return padded < span ? 0 : (padded - span) / stride + 1;
}

/* Whether every field is in range, axis by axis, as the header documents. */
static int fields_valid(const conv4j_conv_desc *d)
{
    if (d->rank != 1 && d->rank != 2) {
        return 0;
    }
    if ((d->layout != 0 && d->layout != 1) || (d->activation != 0 && d->activation != 1) ||
        d->algorithm < 0 || d->algorithm > CONV4J_ALGORITHM_DEPTHWISE) {
        return 0;
    }
#ifdef CONV4J_FLAGS_ALL /* descriptors with a flags field (added with the Winograd switch) */
    if ((d->flags & ~CONV4J_FLAGS_ALL) != 0) {
        return 0;
    }
#endif
    if (d->propagation < CONV4J_PROPAGATION_FORWARD ||
        d->propagation > CONV4J_PROPAGATION_BACKWARD_WEIGHTS) {
        return 0;
    }
    if (d->propagation == CONV4J_PROPAGATION_BACKWARD_WEIGHTS && d->activation != 0) {
        return 0; /* backward weights take no activation */
    }
    if (d->batch < 1 || d->in_channels < 1 || d->out_channels < 1 || d->groups < 1 ||
        d->in_channels % d->groups != 0 || d->out_channels % d->groups != 0) {
        return 0;
    }
    for (int axis = 0; axis < d->rank; ++axis) {
        if (d->in_size[axis] < 1 || d->kernel[axis] < 1 || d->stride[axis] < 1 ||
            d->dilation[axis] < 1 || d->pad_before[axis] < 0 || d->pad_after[axis] < 0) {
            return 0;
        }
    }
    return 1;
}

static int64_t saturating_product(const int64_t *factors, int count)
{
    int64_t product = 1;
    for (int i = 0; i < count; ++i) {
        if (factors[i] != 0 && product > INT64_MAX / 4 / factors[i]) {
            return INT64_MAX / 4;
        }
        product *= factors[i];
    }
    return product;
}

/* Backward weights of zero x and dy: every dw and db element written as 0. */
static void run_small_weights(const conv4j_conv_desc *given, const test_conv_buffers *b)
{
    conv4j_conv_desc d = *given;
    float *db = malloc((size_t)d.out_channels * sizeof(float));
    FUZZ_REQUIRE(db != NULL, "out of memory");
    for (int a = CONV4J_ALGORITHM_AUTO; a <= CONV4J_ALGORITHM_DEPTHWISE; ++a) {
        d.algorithm = a;
        conv4j_plan *plan = NULL;
        const conv4j_status status = conv4j_plan_create(&d, NULL, NULL, &plan);
        if (status == CONV4J_ERR_UNSUPPORTED && a != CONV4J_ALGORITHM_AUTO) {
            FUZZ_REQUIRE(plan == NULL, "refused plan left behind");
            continue;
        }
        FUZZ_REQUIRE(status == CONV4J_OK && plan != NULL, "algorithm %d: status %d", a,
                     (int)status);
        for (int64_t i = 0; i < b->kernel_count; ++i) {
            b->kernel[i] = NAN;
        }
        for (int32_t i = 0; i < d.out_channels; ++i) {
            db[i] = NAN;
        }
        FUZZ_REQUIRE(conv4j_plan_execute_backward_weights(plan, b->input, b->output, b->kernel, db,
                                                          NULL, 0, 1 + (a & 1)) == CONV4J_OK,
                     "execute_backward_weights");
        for (int64_t i = 0; i < b->kernel_count; ++i) {
            FUZZ_REQUIRE(b->kernel[i] == 0.0f, "%s: dw element %lld is %g, expected 0",
                         conv4j_plan_explain(plan), (long long)i, (double)b->kernel[i]);
        }
        for (int32_t i = 0; i < d.out_channels; ++i) {
            FUZZ_REQUIRE(db[i] == 0.0f, "db element %d is %g, expected 0", i, (double)db[i]);
        }
        conv4j_plan_destroy(plan);
    }
    free(db);
}

static void run_small(const conv4j_conv_desc *given)
{
    test_conv_buffers b; /* zero input and weights */
    FUZZ_REQUIRE(test_conv_buffers_alloc(&b, given) == 0, "out of memory");
    if (given->propagation == CONV4J_PROPAGATION_BACKWARD_WEIGHTS) {
        run_small_weights(given, &b);
        test_conv_buffers_free(&b);
        return;
    }
    /* Backward data reads the output-shaped tensor and writes the input-shaped one. */
    const int backward = given->propagation == CONV4J_PROPAGATION_BACKWARD_DATA;
    float *bias = malloc((size_t)(given->in_channels > given->out_channels ? given->in_channels
                                                                            : given->out_channels) *
                         sizeof(float));
    FUZZ_REQUIRE(bias != NULL, "out of memory");
    const float *input = backward ? b.output : b.input;
    const float *kernel = b.kernel;
    float *output = backward ? b.input : b.output;
    const int64_t out_count = backward ? b.input_count : b.output_count;
    const int32_t bias_count = backward ? given->in_channels : given->out_channels;
    for (int32_t i = 0; i < bias_count; ++i) {
        bias[i] = 1.0f;
    }
    conv4j_conv_desc d = *given;
    for (int a = CONV4J_ALGORITHM_AUTO; a <= CONV4J_ALGORITHM_DEPTHWISE; ++a) {
        d.algorithm = a;
        conv4j_plan *plan = NULL;
        const conv4j_status status = conv4j_plan_create(&d, kernel, bias, &plan);
        if (status == CONV4J_ERR_UNSUPPORTED && a != CONV4J_ALGORITHM_AUTO) {
            FUZZ_REQUIRE(plan == NULL, "refused plan left behind");
            continue;
        }
        FUZZ_REQUIRE(status == CONV4J_OK && plan != NULL, "algorithm %d: status %d", a,
                     (int)status);
        for (int64_t i = 0; i < out_count; ++i) {
            output[i] = NAN;
        }
        FUZZ_REQUIRE(conv4j_plan_execute(plan, input, output, NULL, 0, 1 + (a & 1)) == CONV4J_OK,
                     "execute");
        for (int64_t i = 0; i < out_count; ++i) {
            FUZZ_REQUIRE(output[i] == 1.0f, "%s: element %lld is %g, expected the bias 1",
                         conv4j_plan_explain(plan), (long long)i, (double)output[i]);
        }
        conv4j_plan_destroy(plan);
    }
    free(bias);
    test_conv_buffers_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    conv4j_conv_desc d;
    memset(&d, 0, sizeof d);
    memcpy(&d, data, size < sizeof d ? size : sizeof d);
    fuzz_input in = {data, size, sizeof d};
    /* Small-range mode: bytes beyond the struct fold the big fields into small ones, so the
     * fuzzer also reaches valid descriptors that can run. */
    if (fuzz_byte(&in) & 1) {
        int32_t fields[sizeof d / sizeof(int32_t)];
        memcpy(fields, &d, sizeof d);
        for (size_t i = 0; i < sizeof d / sizeof(int32_t); ++i) {
            fields[i] = (int32_t)((uint32_t)fields[i] % 9u);
        }
        memcpy(&d, fields, sizeof d);
    }

    int32_t out_size[3] = {-7, -7, -7};
    const conv4j_status status = conv4j_output_size(&d, out_size);
    FUZZ_REQUIRE(status == CONV4J_OK || fuzz_known_error(status), "status %d", (int)status);
    FUZZ_REQUIRE(conv4j_output_size(&d, NULL) == status, "output_size(NULL) differs");
    if (!fields_valid(&d)) {
        FUZZ_REQUIRE(status != CONV4J_OK, "accepted an out-of-range field");
    }

    if (fields_valid(&d)) {
        const int rank2 = d.rank == 2;
        const int64_t in_h = rank2 ? d.in_size[0] : 1;
        const int64_t in_w = rank2 ? d.in_size[1] : d.in_size[0];
        const int64_t out_h = rank2 ? keras_extent(d.in_size[0], d.pad_before[0], d.pad_after[0],
                                                   d.kernel[0], d.stride[0], d.dilation[0])
                                    : 1;
        const int64_t out_w = keras_extent(d.in_size[rank2], d.pad_before[rank2],
                                           d.pad_after[rank2], d.kernel[rank2], d.stride[rank2],
                                           d.dilation[rank2]);
        const int64_t pad_h = rank2 ? (int64_t)d.pad_before[0] + d.pad_after[0] : 0;
        const int64_t pad_w = (int64_t)d.pad_before[rank2] + d.pad_after[rank2];
        const int64_t k_h = rank2 ? d.kernel[0] : 1;
        const int64_t counts[4][4] = {
            {d.batch, in_h, in_w, d.in_channels},
            {d.batch, in_h + pad_h, in_w + pad_w, d.in_channels},
            {d.batch, out_h, out_w, d.out_channels},
            {k_h, d.kernel[rank2], d.in_channels / d.groups, d.out_channels},
        };
        int overflow = 0;
        for (int c = 0; c < 4; ++c) {
            overflow |= saturating_product(counts[c], 4) > INT32_MAX;
        }
        overflow |= in_h + pad_h > INT32_MAX || in_w + pad_w > INT32_MAX;
        if (status == CONV4J_OK) {
            FUZZ_REQUIRE(!overflow, "accepted element counts beyond INT32_MAX");
            FUZZ_REQUIRE(out_size[0] == (rank2 ? out_h : out_w) && out_size[1] == (rank2 ? out_w : 1),
                         "output %d x %d, Keras says %lld x %lld", out_size[0], out_size[1],
                         (long long)out_h, (long long)out_w);
        } else if (overflow) {
            FUZZ_REQUIRE(status == CONV4J_ERR_SIZE_OVERFLOW, "overflow reported as %d",
                         (int)status);
        } else {
            FUZZ_REQUIRE(status == CONV4J_ERR_EMPTY_OUTPUT && (out_h < 1 || out_w < 1),
                         "valid fields refused with %d", (int)status);
        }
    }

    if (status != CONV4J_OK) {
        static const float one = 1.0f;
        conv4j_plan *plan = (conv4j_plan *)&d;
        FUZZ_REQUIRE(conv4j_plan_create(&d, &one, NULL, &plan) == status && plan == NULL,
                     "plan_create disagrees with output_size %d", (int)status);
        return 0;
    }
    const int64_t in_count = test_input_count(&d);
    const int64_t kernel_count = test_kernel_count(&d);
    const int64_t out_count = test_output_count(&d);
    if (in_count <= MAX_ELEMENTS && kernel_count <= MAX_ELEMENTS && out_count <= MAX_ELEMENTS) {
        run_small(&d);
    }
    return 0;
}

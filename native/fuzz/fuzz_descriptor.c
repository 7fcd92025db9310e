/*
 * libFuzzer target: the bytes are the raw conv4j_conv_desc (any int32 in any field), the
 * validation's worst case. Checks, independently of descriptor.c:
 *  - every call returns a defined status, never crashes, never creates a plan on failure;
 *  - a valid descriptor has the output size of Keras' formula and element counts that fit in
 *    int32 (refusing CONV4J_ERR_SIZE_OVERFLOW otherwise is checked the other way round too);
 *  - a small valid one runs on every algorithm that accepts it: zero weights and input with a
 *    bias of 1 give 1 (or relu(1)) everywhere, so each output element is written exactly.
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
    if (d->rank < 1 || d->rank > 3) {
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
    if (d->propagation != CONV4J_PROPAGATION_FORWARD) { /* the only one built so far */
        return 0;
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

static void run_small(const conv4j_conv_desc *given)
{
    test_conv_buffers b; /* zero input and weights */
    FUZZ_REQUIRE(test_conv_buffers_alloc(&b, given) == 0, "out of memory");
    const float *input = b.input, *kernel = b.kernel, *bias = b.bias;
    float *output = b.output;
    const int64_t out_count = b.output_count;
    for (int32_t i = 0; i < given->out_channels; ++i) {
        b.bias[i] = 1.0f;
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
        /* Axes as (D, H, W): a rank below 3 has 1-long leading axes, unpadded. */
        int64_t in[3], out[3], padded[3], kernel[3];
        for (int axis = 0; axis < 3; ++axis) {
            const int given = axis - (3 - d.rank); /* the descriptor's index, < 0 when absent */
            in[axis] = given < 0 ? 1 : d.in_size[given];
            kernel[axis] = given < 0 ? 1 : d.kernel[given];
            padded[axis] =
                given < 0 ? 1 : in[axis] + (int64_t)d.pad_before[given] + d.pad_after[given];
            out[axis] = given < 0 ? 1
                                  : keras_extent(in[axis], d.pad_before[given], d.pad_after[given],
                                                 kernel[axis], d.stride[given], d.dilation[given]);
        }
        const int64_t counts[4][5] = {
            {d.batch, in[0], in[1], in[2], d.in_channels},
            {d.batch, padded[0], padded[1], padded[2], d.in_channels},
            {d.batch, out[0], out[1], out[2], d.out_channels},
            {kernel[0], kernel[1], kernel[2], d.in_channels / d.groups, d.out_channels},
        };
        int overflow = 0;
        for (int c = 0; c < 4; ++c) {
            overflow |= saturating_product(counts[c], 5) > INT32_MAX;
        }
        for (int axis = 0; axis < 3; ++axis) {
            overflow |= padded[axis] > INT32_MAX;
        }
        if (status == CONV4J_OK) {
            FUZZ_REQUIRE(!overflow, "accepted element counts beyond INT32_MAX");
            /* Written in descriptor order, 1 past the rank. */
            for (int i = 0; i < 3; ++i) {
                const int64_t expected = i < d.rank ? out[3 - d.rank + i] : 1;
                FUZZ_REQUIRE(out_size[i] == expected, "output size %d is %d, Keras says %lld", i,
                             out_size[i], (long long)expected);
            }
        } else if (overflow) {
            FUZZ_REQUIRE(status == CONV4J_ERR_SIZE_OVERFLOW, "overflow reported as %d",
                         (int)status);
        } else {
            FUZZ_REQUIRE(status == CONV4J_ERR_EMPTY_OUTPUT && (out[0] < 1 || out[1] < 1 || out[2] < 1),
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

/*
 * conv4j_weights: a layer's weights are packed once per algorithm and shared
 * by the plans of every input shape. A new batch size, length or image size
 * makes a light plan without packing again (conv4j_weights_pack_count), the
 * plans' results equal conv4j_plan_create's bit for bit, a plan outlives the
 * caller's reference to its weights, a different kernel tensor is refused,
 * concurrent plan creation packs once, and conv4j_explain says why a forced
 * algorithm refuses. Prints what a new shape costs (not asserted: timing).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include <math.h>

#include "test_util.h"

/* Runs desc through a plan made from weights and through conv4j_plan_create
 * on the same kernel and bias: the outputs must be the same bits. */
static void check_same_as_plan_create(conv4j_weights *weights, const conv4j_conv_desc *d,
                                      const float *kernel, const float *bias, test_rng *rng)
{
    test_conv_buffers b;
    if (test_conv_buffers_alloc(&b, d) != 0) {
        CHECK(0, "buffers");
        return;
    }
    test_fill_random(rng, b.input, b.input_count);
    float *expected = calloc((size_t)b.output_count, sizeof(float));
    conv4j_plan *shared = NULL;
    conv4j_plan *own = NULL;
    CHECK_STATUS(conv4j_plan_create_with_weights(d, weights, &shared), CONV4J_OK);
    CHECK_STATUS(conv4j_plan_create(d, kernel, bias, &own), CONV4J_OK);
    if (shared != NULL && own != NULL && expected != NULL) {
        CHECK(conv4j_plan_algorithm(shared) == conv4j_plan_algorithm(own), "algorithms differ");
        CHECK_STATUS(conv4j_plan_execute(shared, b.input, b.output, NULL, 0, 1), CONV4J_OK);
        CHECK_STATUS(conv4j_plan_execute(own, b.input, expected, NULL, 0, 1), CONV4J_OK);
        CHECK(memcmp(b.output, expected, (size_t)b.output_count * sizeof(float)) == 0,
              "plan from shared weights differs from conv4j_plan_create (N=%d)", (int)d->batch);
    }
    conv4j_plan_destroy(shared);
    conv4j_plan_destroy(own);
    free(expected);
    test_conv_buffers_free(&b);
}

static void check_new_shapes_do_not_repack(void)
{
    test_rng rng = {UINT64_C(0x5EED0011)};
    conv4j_conv_desc d = test_desc_2d(1, 12, 12, 24, 3, 3, 40);
    d.pad_before[0] = d.pad_before[1] = d.pad_after[0] = d.pad_after[1] = 1;
    test_conv_buffers layer;
    if (test_conv_buffers_alloc(&layer, &d) != 0) {
        CHECK(0, "buffers");
        return;
    }
    test_conv_buffers_fill(&layer, &rng);
    conv4j_weights *weights = NULL;
    CHECK_STATUS(conv4j_weights_create(&d, layer.kernel, layer.bias, &weights), CONV4J_OK);
    CHECK(conv4j_weights_pack_count(weights) == 0, "packed before any plan");

    /* Batch sizes, image sizes and pads change; the kernel tensor does not. */
    const int32_t batches[] = {1, 7, 3, 8};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; ++i) {
        conv4j_conv_desc shape = d;
        shape.batch = batches[i];
        shape.in_size[0] = 12 + (int32_t)i;
        shape.in_size[1] = 9 + 2 * (int32_t)i;
        shape.pad_after[1] = (int32_t)(i % 2);
        check_same_as_plan_create(weights, &shape, layer.kernel, layer.bias, &rng);
        CHECK(conv4j_weights_pack_count(weights) == 1,
              "shape %zu (N=%d): packed %lld times, expected once", i, (int)shape.batch,
              (long long)conv4j_weights_pack_count(weights));
    }
    /* Another algorithm packs once more, then never again. */
    conv4j_conv_desc direct = d;
    direct.algorithm = CONV4J_ALGORITHM_DIRECT;
    for (int32_t n = 1; n <= 3; ++n) {
        direct.batch = n;
        check_same_as_plan_create(weights, &direct, layer.kernel, layer.bias, &rng);
    }
    CHECK(conv4j_weights_pack_count(weights) == 2, "direct: packed %lld times in all",
          (long long)conv4j_weights_pack_count(weights));

    /* A different kernel tensor is refused, whatever else matches. */
    conv4j_conv_desc other = d;
    conv4j_plan *plan = NULL;
    other.in_channels = 12;
    CHECK_STATUS(conv4j_plan_create_with_weights(&other, weights, &plan), CONV4J_ERR_WEIGHTS_MISMATCH);
    CHECK(plan == NULL, "plan set on mismatch");
    other = d;
    other.out_channels = 20;
    CHECK_STATUS(conv4j_plan_create_with_weights(&other, weights, &plan), CONV4J_ERR_WEIGHTS_MISMATCH);
    other = d;
    other.kernel[1] = 5;
    other.pad_before[1] = other.pad_after[1] = 2;
    CHECK_STATUS(conv4j_plan_create_with_weights(&other, weights, &plan), CONV4J_ERR_WEIGHTS_MISMATCH);
    other = d;
    other.groups = 2;
    other.in_channels = 48;
    CHECK_STATUS(conv4j_plan_create_with_weights(&other, weights, &plan), CONV4J_ERR_WEIGHTS_MISMATCH);
    other = d; /* the same numbers as a rank-3 layer with KD = 1 */
    other.rank = 3;
    other.in_size[2] = 1;
    other.kernel[2] = 1;
    other.stride[2] = other.dilation[2] = 1;
    CHECK_STATUS(conv4j_plan_create_with_weights(&other, weights, &plan), CONV4J_ERR_WEIGHTS_MISMATCH);
    CHECK_STATUS(conv4j_plan_create_with_weights(NULL, weights, &plan), CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_plan_create_with_weights(&d, NULL, &plan), CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_plan_create_with_weights(&d, weights, NULL), CONV4J_ERR_NULL_POINTER);
    /* Strides, dilations, layout and activation are the plan's own. */
    other = d;
    other.stride[0] = 2;
    other.activation = CONV4J_ACTIVATION_RELU;
    other.layout = CONV4J_LAYOUT_CHANNELS_FIRST;
    check_same_as_plan_create(weights, &other, layer.kernel, layer.bias, &rng);

    /* The plan keeps the weights alive after the caller lets go. */
    CHECK_STATUS(conv4j_plan_create_with_weights(&d, weights, &plan), CONV4J_OK);
    conv4j_weights_destroy(weights);
    if (plan != NULL) {
        float *expected = calloc((size_t)layer.output_count, sizeof(float));
        CHECK_STATUS(conv4j_reference_conv(&d, layer.input, layer.kernel, layer.bias, expected),
                     CONV4J_OK);
        CHECK_STATUS(conv4j_plan_execute(plan, layer.input, layer.output, NULL, 0, 2), CONV4J_OK);
        double worst = 0;
        for (int64_t i = 0; i < layer.output_count; ++i) {
            const double diff = fabs((double)layer.output[i] - expected[i]);
            worst = diff > worst ? diff : worst;
        }
        CHECK(worst < 1e-3, "after the weights' owner let go: largest difference %g", worst);
        free(expected);
    }
    conv4j_plan_destroy(plan);
    conv4j_weights_destroy(NULL);
    CHECK(conv4j_weights_pack_count(NULL) == 0, "NULL weights");
    test_conv_buffers_free(&layer);
}

typedef struct creator {
    conv4j_weights *weights;
    conv4j_conv_desc desc;
    conv4j_status status;
} creator;

static void *create_plans(void *arg)
{
    creator *c = arg;
    c->status = CONV4J_OK;
    for (int i = 0; i < 50 && c->status == CONV4J_OK; ++i) {
        conv4j_conv_desc d = c->desc;
        d.batch = 1 + i % 5;
        conv4j_plan *plan = NULL;
        c->status = conv4j_plan_create_with_weights(&d, c->weights, &plan);
        conv4j_plan_destroy(plan);
    }
    return NULL;
}

static void check_concurrent_creation_packs_once(void)
{
    test_rng rng = {UINT64_C(0xC0C0A)};
    const conv4j_conv_desc d = test_desc_2d(1, 9, 9, 32, 3, 3, 48);
    test_conv_buffers layer;
    if (test_conv_buffers_alloc(&layer, &d) != 0) {
        CHECK(0, "buffers");
        return;
    }
    test_conv_buffers_fill(&layer, &rng);
    conv4j_weights *weights = NULL;
    CHECK_STATUS(conv4j_weights_create(&d, layer.kernel, NULL, &weights), CONV4J_OK);
    creator creators[6];
    pthread_t threads[6];
    for (int t = 0; t < 6; ++t) {
        creators[t].weights = weights;
        creators[t].desc = d;
        CHECK(pthread_create(&threads[t], NULL, create_plans, &creators[t]) == 0, "thread");
    }
    for (int t = 0; t < 6; ++t) {
        pthread_join(threads[t], NULL);
        CHECK_STATUS(creators[t].status, CONV4J_OK);
    }
    CHECK(conv4j_weights_pack_count(weights) == 1, "6 threads x 50 plans packed %lld times",
          (long long)conv4j_weights_pack_count(weights));
    conv4j_weights_destroy(weights);
    test_conv_buffers_free(&layer);
}

static void check_explain_of_a_refusal(void)
{
    conv4j_conv_desc d = test_desc_2d(1, 8, 8, 16, 5, 5, 16);
    d.algorithm = CONV4J_ALGORITHM_WINOGRAD;
    char line[1024];
    CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_OK);
    CHECK(strstr(line, "-> unsupported (algorithm winograd") != NULL &&
              strstr(line, "winograd_f4x4_3x3 (needs a 3x3 Conv2D kernel)") != NULL,
          "explain: %s", line);
    char tiny[8];
    CHECK_STATUS(conv4j_explain(&d, tiny, sizeof tiny), CONV4J_OK);
    CHECK(strlen(tiny) == sizeof tiny - 1, "truncated to the capacity");
    d.in_channels = 0;
    CHECK_STATUS(conv4j_explain(&d, line, sizeof line), CONV4J_ERR_INVALID_SIZE);
    CHECK_STATUS(conv4j_explain(NULL, line, sizeof line), CONV4J_ERR_NULL_POINTER);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* What a new input shape costs: a light plan from shared weights, against a
 * plan that packs (ResNet-50's 3x3 layer at 28x28x128). Median of 21. */
static void print_new_shape_cost(void)
{
    conv4j_conv_desc d = test_desc_2d(1, 28, 28, 128, 3, 3, 128);
    d.pad_before[0] = d.pad_before[1] = d.pad_after[0] = d.pad_after[1] = 1;
    test_conv_buffers layer;
    if (test_conv_buffers_alloc(&layer, &d) != 0) {
        CHECK(0, "buffers");
        return;
    }
    conv4j_weights *weights = NULL;
    CHECK_STATUS(conv4j_weights_create(&d, layer.kernel, layer.bias, &weights), CONV4J_OK);
    double light[21];
    double packing[21];
    for (int i = 0; i < 21; ++i) {
        conv4j_conv_desc shape = d;
        shape.batch = 1 + i;
        conv4j_plan *plan = NULL;
        double start = seconds_now();
        conv4j_plan_create_with_weights(&shape, weights, &plan);
        light[i] = seconds_now() - start;
        conv4j_plan_destroy(plan);
        start = seconds_now();
        conv4j_plan_create(&shape, layer.kernel, layer.bias, &plan);
        packing[i] = seconds_now() - start;
        conv4j_plan_destroy(plan);
    }
    for (int i = 1; i < 21; ++i) { /* insertion sort: two small arrays */
        for (int j = i; j > 0 && light[j] < light[j - 1]; --j) {
            const double t = light[j];
            light[j] = light[j - 1];
            light[j - 1] = t;
        }
        for (int j = i; j > 0 && packing[j] < packing[j - 1]; --j) {
            const double t = packing[j];
            packing[j] = packing[j - 1];
            packing[j - 1] = t;
        }
    }
    printf("new input shape, 3x3 128->128 layer: %.1f us with shared weights, %.1f us when "
           "the plan packs (medians of 21)\n",
           light[10] * 1e6, packing[10] * 1e6);
    conv4j_weights_destroy(weights);
    test_conv_buffers_free(&layer);
}

/* A Conv3D layer's weights serve volumes of any depth, height, width and
 * batch with one packing; another depth of kernel is another layer. */
static void check_rank3_shapes(void)
{
    test_rng rng = {UINT64_C(0x5EED0033)};
    conv4j_conv_desc d = test_desc_3d(1, 4, 5, 6, 8, 3, 3, 3, 12);
    d.pad_before[0] = d.pad_before[1] = d.pad_before[2] = 1;
    d.pad_after[0] = d.pad_after[1] = d.pad_after[2] = 1;
    test_conv_buffers layer;
    if (test_conv_buffers_alloc(&layer, &d) != 0) {
        CHECK(0, "buffers");
        return;
    }
    test_conv_buffers_fill(&layer, &rng);
    conv4j_weights *weights = NULL;
    CHECK_STATUS(conv4j_weights_create(&d, layer.kernel, layer.bias, &weights), CONV4J_OK);
    for (int32_t i = 0; i < 3 && weights != NULL; ++i) {
        conv4j_conv_desc shape = d;
        shape.batch = 1 + i;
        shape.in_size[0] = 2 + 3 * i;
        shape.in_size[1] = 7 - i;
        shape.in_size[2] = 3 + i;
        check_same_as_plan_create(weights, &shape, layer.kernel, layer.bias, &rng);
        CHECK(conv4j_weights_pack_count(weights) == 1, "rank 3 shape %d: packed %lld times", (int)i,
              (long long)conv4j_weights_pack_count(weights));
    }
    conv4j_conv_desc other = d;
    other.kernel[0] = 2;
    conv4j_plan *plan = NULL;
    CHECK_STATUS(conv4j_plan_create_with_weights(&other, weights, &plan), CONV4J_ERR_WEIGHTS_MISMATCH);
    CHECK(plan == NULL, "plan set on a kernel-depth mismatch");
    conv4j_weights_destroy(weights);
    test_conv_buffers_free(&layer);
}

int main(void)
{
    check_new_shapes_do_not_repack();
    check_rank3_shapes();
    check_concurrent_creation_packs_once();
    check_explain_of_a_refusal();
    print_new_shape_cost();
    return test_summary("test_weights");
}

/*
 * Guard-page tests, as MLAS does them: every buffer the API reads or writes (input, kernel,
 * bias, output) lives in its own mapping with an inaccessible page right after its last byte
 * (or, in the second placement, right before its first byte), so a SIMD over-read or
 * over-write in any kernel faults (SIGSEGV) instead of passing silently.
 *
 * Shapes sit on tile edges: widths and channel counts one below, at and one above 8 and 16,
 * and 5..7 around the 6-row GEMM tile, in the patterns each algorithm serves (1x1, 3x3 stride 1,
 * Winograd-sized 3x3 with 15..17 channels, depthwise stride 1 and 2, first-layer 7x7/2 over 3
 * channels, causal dilated Conv1D, channels_first). Every forced algorithm code 1..5 runs with threads 1 and 2; an algorithm
 * that answers CONV4J_ERR_UNSUPPORTED for a shape is skipped there. Results are checked against
 * the reference with the bound of test_bound.h. Prints how many runs each algorithm made.
 * POSIX mmap or Windows VirtualAlloc (test_pages.h).
 */
#define _DEFAULT_SOURCE
#include "test_pages.h"

#include "test_bound.h"
#include "test_config.h"

typedef struct guarded {
    void *mapping;
    size_t mapping_bytes;
    float *data;
} guarded;

/* count floats in their own mapping; at_end: the last float touches the guard page after it,
 * else the first float starts a page right after a guard page. */
static int guarded_alloc(guarded *g, int64_t count, int at_end)
{
    const size_t page = test_page_size();
    const size_t bytes = (size_t)count * sizeof(float);
    const size_t data_pages = (bytes + page - 1) / page;
    g->mapping_bytes = (data_pages + 1) * page;
    g->mapping = test_pages_map(g->mapping_bytes);
    if (g->mapping == NULL) {
        return -1;
    }
    char *base = g->mapping;
    if (at_end) {
        char *guard = base + data_pages * page;
        if (test_pages_forbid(guard, page) != 0) {
            return -1;
        }
        g->data = (float *)(guard - bytes);
    } else {
        if (test_pages_forbid(base, page) != 0) {
            return -1;
        }
        g->data = (float *)(base + page);
    }
    return 0;
}

static void guarded_free(guarded *g)
{
    if (g->mapping != NULL) {
        test_pages_unmap(g->mapping, g->mapping_bytes);
    }
    memset(g, 0, sizeof *g);
}

static long runs_per_algorithm[TEST_LAST_FORCED_ALGORITHM + 1];
static long unsupported_per_algorithm[TEST_LAST_FORCED_ALGORITHM + 1];
static long shapes_tried;

static void fill(test_rng *rng, float *values, int64_t count)
{
    for (int64_t i = 0; i < count; ++i) {
        values[i] = test_rng_float(rng);
    }
}

static void run_shape(test_rng *rng, conv4j_conv_desc d)
{
    const int64_t in_count = test_input_count(&d);
    const int64_t kernel_count = test_kernel_count(&d);
    const int64_t out_count = test_output_count(&d);
    char text[256];
    test_describe(&d, text, sizeof text);
    CHECK(out_count > 0, "invalid shape in the table: %s", text);
    if (out_count <= 0) {
        return;
    }
    ++shapes_tried;
    for (int at_end = 1; at_end >= 0; --at_end) {
        guarded input, kernel, bias, output;
        memset(&input, 0, sizeof input);
        memset(&kernel, 0, sizeof kernel);
        memset(&bias, 0, sizeof bias);
        memset(&output, 0, sizeof output);
        if (guarded_alloc(&input, in_count, at_end) || guarded_alloc(&kernel, kernel_count, at_end) ||
            guarded_alloc(&bias, d.out_channels, at_end) ||
            guarded_alloc(&output, out_count, at_end)) {
            CHECK(0, "mmap/mprotect failed");
            guarded_free(&input);
            guarded_free(&kernel);
            guarded_free(&bias);
            guarded_free(&output);
            return;
        }
        fill(rng, input.data, in_count);
        fill(rng, kernel.data, kernel_count);
        fill(rng, bias.data, d.out_channels);
        test_oracle oracle;
        CHECK(test_oracle_init(&oracle, &d, input.data, kernel.data, bias.data) == 0,
              "oracle failed: %s", text);
        for (int a = TEST_FIRST_FORCED_ALGORITHM; a <= TEST_LAST_FORCED_ALGORITHM; ++a) {
            d.algorithm = a;
            conv4j_plan *plan = NULL;
            const conv4j_status status = conv4j_plan_create(&d, kernel.data, bias.data, &plan);
            if (status == CONV4J_ERR_UNSUPPORTED) {
                ++unsupported_per_algorithm[a];
                continue;
            }
            CHECK_STATUS(status, CONV4J_OK);
            if (plan == NULL) {
                continue;
            }
            for (int32_t threads = 1; threads <= 2; ++threads) {
                for (int64_t i = 0; i < out_count; ++i) {
                    output.data[i] = NAN; /* an unwritten element fails the bound */
                }
                CHECK_STATUS(conv4j_plan_execute(plan, input.data, output.data, NULL, 0, threads),
                             CONV4J_OK);
                char what[320];
                snprintf(what, sizeof what, "%s threads=%d guard=%s %s",
                         conv4j_algorithm_name((conv4j_algorithm)a), (int)threads,
                         at_end ? "after" : "before", text);
                const int64_t bad = test_oracle_mismatches(&oracle, output.data, what);
                CHECK(bad == 0, "%s: %lld elements outside the bound", what, (long long)bad);
                ++runs_per_algorithm[a];
            }
            conv4j_plan_destroy(plan);
        }
        test_oracle_free(&oracle);
        guarded_free(&input);
        guarded_free(&kernel);
        guarded_free(&bias);
        guarded_free(&output);
    }
}

/* Edge values of the 8- and 16-float vectors and the 6-row GEMM tile. */
static const int32_t edges[] = {5, 6, 7, 8, 9, 15, 16, 17};
#define EDGE_COUNT ((int)(sizeof edges / sizeof edges[0]))

int main(void)
{
    if (!test_use_config()) {
        return TEST_SKIPPED;
    }
    test_rng rng = {UINT64_C(0xB7E151628AED2A6B)};
    for (int e = 0; e < EDGE_COUNT; ++e) {
        const int32_t v = edges[e];
        const int32_t other = edges[(e + 3) % EDGE_COUNT]; /* a second tail, out of phase */
        conv4j_conv_desc d;

        /* 1x1: GEMM rows = output pixels, columns = Cout, depth = Cin. */
        run_shape(&rng, test_desc_2d(1, 2, v, v, 1, 1, other));
        run_shape(&rng, test_desc_2d(2, 1, other, v, 1, 1, v));
        /* 3x3 stride 1, SAME-style padding: Winograd and implicit GEMM. */
        d = test_desc_2d(1, v, v, other, 3, 3, v);
        d.pad_before[0] = d.pad_before[1] = d.pad_after[0] = d.pad_after[1] = 1;
        run_shape(&rng, d);
        d = test_desc_2d(1, 4, other, v, 3, 3, other);
        d.activation = CONV4J_ACTIVATION_RELU;
        run_shape(&rng, d);
        /* Winograd-sized: 3x3 stride 1, pads 1 and 2, 15..17 channels around its 16-channel
         * minimum, widths across 4-wide output tiles. */
        d = test_desc_2d(1, 3 + e % 4, v, 15 + e % 3, 3, 3, 16 + (e / 3) % 2);
        d.pad_before[0] = d.pad_before[1] = d.pad_after[0] = d.pad_after[1] = 1 + e % 2;
        run_shape(&rng, d);
        /* Depthwise 3x3, stride 1 and 2, multiplier 1 and 2. */
        d = test_desc_2d(1, 5, v, v, 3, 3, v);
        d.groups = v;
        d.pad_before[0] = d.pad_before[1] = d.pad_after[0] = d.pad_after[1] = 1;
        run_shape(&rng, d);
        d = test_desc_2d(1, 6, other, v, 3, 3, 2 * v);
        d.groups = v;
        d.stride[0] = d.stride[1] = 2;
        d.pad_after[0] = d.pad_after[1] = 1;
        run_shape(&rng, d);
        /* First layer: 7x7 stride 2 over 3 channels, TF SAME pads (2 before, 3 after on even). */
        d = test_desc_2d(1, 9, v + 6, 3, 7, 7, v);
        d.stride[0] = d.stride[1] = 2;
        d.pad_before[0] = d.pad_before[1] = 2;
        d.pad_after[0] = d.pad_after[1] = 3;
        run_shape(&rng, d);
        /* Conv1D causal (pad before = (k-1)*dilation), dilated, long-ish sequence. */
        d = test_desc_1d(2, 4 * v, v, 3, other);
        d.dilation[0] = 2;
        d.pad_before[0] = 4;
        run_shape(&rng, d);
        d = test_desc_1d(1, v, other, 5, v);
        run_shape(&rng, d);
        /* channels_first. */
        d = test_desc_2d(1, 3, v, other, 3, 3, v);
        d.layout = CONV4J_LAYOUT_CHANNELS_FIRST;
        run_shape(&rng, d);
        /* Grouped, neither depthwise nor dense. */
        d = test_desc_2d(1, 3, v, 2 * v, 3, 1, 2 * other);
        d.groups = 2;
        run_shape(&rng, d);
        /* Conv3D: 3x3x3 with pads 1 (windows cut on every face), depthwise with a
         * multiplier of 2 at stride 2, and channels_first through the adapter. */
        d = test_desc_3d(1, 3, 3, v, other, 3, 3, 3, v);
        d.pad_before[0] = d.pad_before[1] = d.pad_before[2] = 1;
        d.pad_after[0] = d.pad_after[1] = d.pad_after[2] = 1;
        run_shape(&rng, d);
        d = test_desc_3d(1, 4, 3, other, v, 2, 3, 3, 2 * v);
        d.groups = v;
        d.stride[0] = d.stride[2] = 2;
        d.pad_after[1] = d.pad_after[2] = 1;
        run_shape(&rng, d);
        d = test_desc_3d(1, 2, 3, v, other, 2, 1, 3, v);
        d.layout = CONV4J_LAYOUT_CHANNELS_FIRST;
        run_shape(&rng, d);
    }

    long total = 0;
    printf("guard pages: %ld shapes x 2 placements\n", shapes_tried);
    for (int a = TEST_FIRST_FORCED_ALGORITHM; a <= TEST_LAST_FORCED_ALGORITHM; ++a) {
        printf("  %-10s %6ld runs (%ld shape placements unsupported)\n",
               conv4j_algorithm_name((conv4j_algorithm)a), runs_per_algorithm[a],
               unsupported_per_algorithm[a]);
        total += runs_per_algorithm[a];
    }
    printf("guard pages: %ld guarded runs in total\n", total);
    CHECK(runs_per_algorithm[CONV4J_ALGORITHM_REFERENCE] > 0, "the reference never ran");
    /* Shares of the reference's runs: direct takes every shape, GEMM the channels_last ones,
     * Winograd (forced) and depthwise their few families (20 and 32 of 384 when written). */
    const int divisor[TEST_LAST_FORCED_ALGORITHM + 1] = {
        [CONV4J_ALGORITHM_DIRECT] = 1, [CONV4J_ALGORITHM_GEMM] = 2, [CONV4J_ALGORITHM_WINOGRAD] = 25,
        [CONV4J_ALGORITHM_DEPTHWISE] = 25};
    test_check_shares("guard pages", runs_per_algorithm, divisor);
    return test_summary("test_guard_pages");
}

/*
 * Every status a bad argument can produce, triggered on purpose and asserted
 * exactly, through conv4j_output_size, conv4j_plan_create (which must leave
 * *plan_out NULL) and conv4j_reference_conv; plus execute's own checks and
 * the names of every status.
 */
#include <stdlib.h>

#include "test_util.h"

/* Big enough for every valid descriptor below; overflow cases never read it. */
static float scratch_kernel[256];
static float scratch_input[256];
static float scratch_output[256];

static conv4j_conv_desc valid_2d(void)
{
    return test_desc_2d(1, 4, 4, 2, 3, 3, 2);
}

/* The same descriptor fault must give the same status everywhere. */
static void expect(const char *name, const conv4j_conv_desc *desc, conv4j_status expected)
{
    int32_t out[3] = {-7, -7, -7};
    const conv4j_status size_status = conv4j_output_size(desc, out);
    CHECK(size_status == expected, "%s: conv4j_output_size gave %s, expected %s", name,
          conv4j_status_string(size_status), conv4j_status_string(expected));

    conv4j_plan *plan = (conv4j_plan *)&plan; /* any non-NULL garbage */
    const conv4j_status plan_status = conv4j_plan_create(desc, scratch_kernel, NULL, &plan);
    CHECK(plan_status == expected, "%s: conv4j_plan_create gave %s, expected %s", name,
          conv4j_status_string(plan_status), conv4j_status_string(expected));
    if (expected != CONV4J_OK) {
        CHECK(plan == NULL, "%s: plan_out not reset to NULL on failure", name);
    }
    conv4j_plan_destroy(expected == CONV4J_OK ? plan : NULL);

    if (expected != CONV4J_OK) { /* an OK descriptor may be too big for the scratch */
        const conv4j_status reference_status = conv4j_reference_conv(
            desc, scratch_input, scratch_kernel, NULL, scratch_output);
        CHECK(reference_status == expected, "%s: conv4j_reference_conv gave %s, expected %s",
              name, conv4j_status_string(reference_status), conv4j_status_string(expected));
    }
}

static void null_pointers(void)
{
    const conv4j_conv_desc d = valid_2d();
    conv4j_plan *plan = (conv4j_plan *)&plan;
    CHECK_STATUS(conv4j_output_size(NULL, NULL), CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_plan_create(NULL, scratch_kernel, NULL, &plan), CONV4J_ERR_NULL_POINTER);
    CHECK(plan == NULL, "NULL desc: plan_out not reset");
    plan = (conv4j_plan *)&plan;
    CHECK_STATUS(conv4j_plan_create(&d, NULL, NULL, &plan), CONV4J_ERR_NULL_POINTER);
    CHECK(plan == NULL, "NULL kernel: plan_out not reset");
    CHECK_STATUS(conv4j_plan_create(&d, scratch_kernel, NULL, NULL), CONV4J_ERR_NULL_POINTER);

    /* NULL wins over any descriptor fault. */
    conv4j_conv_desc bad = d;
    bad.rank = 4;
    CHECK_STATUS(conv4j_plan_create(&bad, NULL, NULL, &plan), CONV4J_ERR_NULL_POINTER);

    CHECK_STATUS(conv4j_reference_conv(NULL, scratch_input, scratch_kernel, NULL, scratch_output),
                 CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_reference_conv(&d, NULL, scratch_kernel, NULL, scratch_output),
                 CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_reference_conv(&d, scratch_input, NULL, NULL, scratch_output),
                 CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_reference_conv(&d, scratch_input, scratch_kernel, NULL, NULL),
                 CONV4J_ERR_NULL_POINTER);
    /* bias is optional */
    CHECK_STATUS(conv4j_reference_conv(&d, scratch_input, scratch_kernel, NULL, scratch_output),
                 CONV4J_OK);
}

static void descriptor_faults(void)
{
    conv4j_conv_desc d;
    d = valid_2d();
    expect("valid", &d, CONV4J_OK);

    d = valid_2d();
    d.rank = 0;
    expect("rank 0", &d, CONV4J_ERR_INVALID_RANK);
    d.rank = 4;
    expect("rank 4", &d, CONV4J_ERR_INVALID_RANK);
    d.rank = -1;
    expect("rank -1", &d, CONV4J_ERR_INVALID_RANK);

    d = valid_2d();
    d.layout = 2;
    expect("layout 2", &d, CONV4J_ERR_INVALID_LAYOUT);
    d.layout = -1;
    expect("layout -1", &d, CONV4J_ERR_INVALID_LAYOUT);
    d = valid_2d();
    d.activation = 2;
    expect("activation 2", &d, CONV4J_ERR_INVALID_ACTIVATION);
    d.activation = -1;
    expect("activation -1", &d, CONV4J_ERR_INVALID_ACTIVATION);
    d = valid_2d();
    d.algorithm = 6;
    expect("algorithm 6", &d, CONV4J_ERR_INVALID_ALGORITHM);
    d.algorithm = -1;
    expect("algorithm -1", &d, CONV4J_ERR_INVALID_ALGORITHM);

    const int32_t bad_sizes[] = {0, -1, INT32_MIN};
    for (int i = 0; i < 3; ++i) {
        const int32_t v = bad_sizes[i];
        d = valid_2d(); d.batch = v;           expect("batch", &d, CONV4J_ERR_INVALID_SIZE);
        d = valid_2d(); d.in_size[0] = v;      expect("height", &d, CONV4J_ERR_INVALID_SIZE);
        d = valid_2d(); d.in_size[1] = v;      expect("width", &d, CONV4J_ERR_INVALID_SIZE);
        d = valid_2d(); d.in_channels = v;     expect("in channels", &d, CONV4J_ERR_INVALID_SIZE);
        d = valid_2d(); d.out_channels = v;    expect("out channels", &d, CONV4J_ERR_INVALID_SIZE);
        d = valid_2d(); d.kernel[0] = v;       expect("kernel h", &d, CONV4J_ERR_INVALID_KERNEL);
        d = valid_2d(); d.kernel[1] = v;       expect("kernel w", &d, CONV4J_ERR_INVALID_KERNEL);
        d = valid_2d(); d.stride[0] = v;       expect("stride h", &d, CONV4J_ERR_INVALID_STRIDE);
        d = valid_2d(); d.stride[1] = v;       expect("stride w", &d, CONV4J_ERR_INVALID_STRIDE);
        d = valid_2d(); d.dilation[0] = v;     expect("dilation h", &d, CONV4J_ERR_INVALID_DILATION);
        d = valid_2d(); d.dilation[1] = v;     expect("dilation w", &d, CONV4J_ERR_INVALID_DILATION);
        d = valid_2d(); d.groups = v;          expect("groups", &d, CONV4J_ERR_INVALID_GROUPS);
        if (v < 0) {
            d = valid_2d(); d.pad_before[0] = v; expect("pad top", &d, CONV4J_ERR_INVALID_PADDING);
            d = valid_2d(); d.pad_before[1] = v; expect("pad left", &d, CONV4J_ERR_INVALID_PADDING);
            d = valid_2d(); d.pad_after[0] = v;  expect("pad bottom", &d, CONV4J_ERR_INVALID_PADDING);
            d = valid_2d(); d.pad_after[1] = v;  expect("pad right", &d, CONV4J_ERR_INVALID_PADDING);
        }
    }

    /* Cin = 2, Cout = 2 */
    d = valid_2d();
    d.groups = 3;
    expect("groups divide neither", &d, CONV4J_ERR_INVALID_GROUPS);
    d = valid_2d();
    d.in_channels = 4;
    d.out_channels = 3;
    d.groups = 2;
    expect("groups not dividing Cout", &d, CONV4J_ERR_INVALID_GROUPS);
    d = valid_2d();
    d.in_channels = 3;
    d.out_channels = 4;
    d.groups = 2;
    expect("groups not dividing Cin", &d, CONV4J_ERR_INVALID_GROUPS);
    d = valid_2d();
    d.groups = 2;
    expect("depthwise", &d, CONV4J_OK);

    /* Rank 1 ignores index 1 of every spatial array. */
    d = test_desc_1d(1, 4, 1, 3, 1);
    d.in_size[1] = -5;
    d.kernel[1] = 0;
    d.stride[1] = -1;
    d.dilation[1] = 0;
    d.pad_before[1] = -3;
    d.pad_after[1] = -3;
    expect("rank 1 ignores index 1", &d, CONV4J_OK);
    int32_t out[3] = {0, 0, 0};
    CHECK_STATUS(conv4j_output_size(&d, out), CONV4J_OK);
    CHECK(out[0] == 2 && out[1] == 1, "rank 1 output size %d,%d", out[0], out[1]);

    /* The fixed check order: the earliest fault wins. */
    d = valid_2d();
    d.layout = 9;
    d.batch = 0;
    expect("layout before size", &d, CONV4J_ERR_INVALID_LAYOUT);
    d = valid_2d();
    d.kernel[0] = 0;
    d.stride[0] = 0;
    d.pad_before[0] = -1;
    expect("kernel before stride", &d, CONV4J_ERR_INVALID_KERNEL);
    d = valid_2d();
    d.dilation[1] = 0;
    d.pad_after[1] = -1;
    d.groups = 0;
    expect("dilation before padding", &d, CONV4J_ERR_INVALID_DILATION);
    d = valid_2d();
    d.pad_after[1] = -1;
    d.groups = 0;
    expect("padding before groups", &d, CONV4J_ERR_INVALID_PADDING);
}

static conv4j_conv_desc valid_3d(void)
{
    return test_desc_3d(1, 3, 4, 4, 2, 2, 3, 3, 2); /* input 96, kernel 72 (120 with a longer axis), output 16 floats */
}

/* Rank 3: every axis of every spatial array is checked, index 2 included;
 * rank 2 ignores index 2 as rank 1 ignores index 1. */
static void rank3_faults(void)
{
    conv4j_conv_desc d = valid_3d();
    expect("rank 3 valid", &d, CONV4J_OK);
    const int32_t bad_sizes[] = {0, -1, INT32_MIN};
    for (int axis = 0; axis < 3; ++axis) {
        for (int i = 0; i < 3; ++i) {
            const int32_t v = bad_sizes[i];
            d = valid_3d(); d.in_size[axis] = v;  expect("rank 3 size", &d, CONV4J_ERR_INVALID_SIZE);
            d = valid_3d(); d.kernel[axis] = v;   expect("rank 3 kernel", &d, CONV4J_ERR_INVALID_KERNEL);
            d = valid_3d(); d.stride[axis] = v;   expect("rank 3 stride", &d, CONV4J_ERR_INVALID_STRIDE);
            d = valid_3d(); d.dilation[axis] = v; expect("rank 3 dilation", &d, CONV4J_ERR_INVALID_DILATION);
            if (v < 0) {
                d = valid_3d(); d.pad_before[axis] = v;
                expect("rank 3 pad before", &d, CONV4J_ERR_INVALID_PADDING);
                d = valid_3d(); d.pad_after[axis] = v;
                expect("rank 3 pad after", &d, CONV4J_ERR_INVALID_PADDING);
            }
        }
        /* Empty output on each axis alone: a kernel one longer than the input. */
        d = valid_3d();
        d.kernel[axis] = d.in_size[axis] + 1;
        expect("rank 3 kernel longer than input", &d, CONV4J_ERR_EMPTY_OUTPUT);
        d.pad_after[axis] = 1;
        expect("rank 3 padding makes room", &d, CONV4J_OK);
    }

    d = valid_2d();
    d.in_size[2] = -5;
    d.kernel[2] = 0;
    d.stride[2] = -1;
    d.dilation[2] = 0;
    d.pad_before[2] = -3;
    d.pad_after[2] = -3;
    expect("rank 2 ignores index 2", &d, CONV4J_OK);

    /* Output sizes in descriptor order: D: floor((5 + 1 + 0 - 3) / 2) + 1 = 2;
     * H: floor((7 + 0 + 2 - (2 * 2 + 1)) / 1) + 1 = 5; W: floor((6 - 1) / 3) + 1 = 2. */
    d = test_desc_3d(2, 5, 7, 6, 1, 3, 3, 1, 1);
    d.stride[0] = 2;
    d.pad_before[0] = 1;
    d.dilation[1] = 2;
    d.pad_after[1] = 2;
    d.stride[2] = 3;
    int32_t out[3] = {0, 0, 0};
    CHECK_STATUS(conv4j_output_size(&d, out), CONV4J_OK);
    CHECK(out[0] == 2 && out[1] == 5 && out[2] == 2, "rank 3 output size %d,%d,%d, expected 2,5,2",
          out[0], out[1], out[2]);
    /* Rank 2 writes 1 past its rank. */
    d = test_desc_2d(1, 5, 6, 1, 2, 3, 1);
    out[2] = -7;
    CHECK_STATUS(conv4j_output_size(&d, out), CONV4J_OK);
    CHECK(out[0] == 4 && out[1] == 4 && out[2] == 1, "rank 2 output size %d,%d,%d", out[0], out[1],
          out[2]);

    /* Overflow over the five-dimensional counts: each would fit as 2-D. */
    d = test_desc_3d(1, 2048, 1024, 1024, 1, 1, 1, 1, 1);
    expect("rank 3 input 2^31", &d, CONV4J_ERR_SIZE_OVERFLOW);
    d = test_desc_3d(1, 1024, 1024, 1024, 1, 1, 1, 1, 1);
    expect("rank 3 input 2^30 fits", &d, CONV4J_OK); /* validation only */
    d.pad_before[0] = 512;
    d.pad_after[0] = 512;
    expect("rank 3 padded depth 2^31", &d, CONV4J_ERR_SIZE_OVERFLOW);
    d = test_desc_3d(1, 4, 1, 1, 1, 1, 1, 1, 1);
    d.pad_after[0] = INT32_MAX;
    expect("rank 3 padded depth beyond int32", &d, CONV4J_ERR_SIZE_OVERFLOW);
    d = test_desc_3d(1, 256, 256, 1, 1, 1, 1, 1, 1);
    d.pad_before[2] = 32767;
    d.pad_after[2] = 32767;
    expect("rank 3 padded width 2^32", &d, CONV4J_ERR_SIZE_OVERFLOW);
    d = test_desc_3d(1, 64, 64, 64, 1, 1, 1, 1, 8192);
    expect("rank 3 output 2^31", &d, CONV4J_ERR_SIZE_OVERFLOW);
    d = test_desc_3d(1, 256, 256, 256, 128, 256, 256, 256, 1);
    expect("rank 3 kernel count 2^31", &d, CONV4J_ERR_SIZE_OVERFLOW);
    /* Overflow before an empty output, also on the depth axis. */
    d = test_desc_3d(1, 2048, 1024, 1024, 1, 2049, 1, 1, 1);
    expect("rank 3 overflow before empty", &d, CONV4J_ERR_SIZE_OVERFLOW);
    /* A rank-3 descriptor's rank is checked before its sizes. */
    d = valid_3d();
    d.rank = 4;
    d.in_size[2] = 0;
    expect("rank before size", &d, CONV4J_ERR_INVALID_RANK);
}

static void output_extents(void)
{
    conv4j_conv_desc d;
    d = test_desc_2d(1, 4, 4, 1, 5, 3, 1);
    expect("kernel taller than input", &d, CONV4J_ERR_EMPTY_OUTPUT);
    d.pad_after[0] = 1;
    expect("padding makes room", &d, CONV4J_OK);
    d = test_desc_1d(1, 4, 1, 3, 1);
    d.dilation[0] = 2;
    expect("dilated kernel wider than input", &d, CONV4J_ERR_EMPTY_OUTPUT);
    d.dilation[0] = INT32_MAX;
    d.kernel[0] = INT32_MAX;
    expect("dilated extent beyond int32", &d, CONV4J_ERR_EMPTY_OUTPUT);

    int32_t out[3];
    d = test_desc_2d(1, 7, 9, 1, 3, 2, 1);
    d.stride[0] = 2;
    d.stride[1] = 3;
    d.dilation[1] = 2;
    d.pad_before[0] = 1;
    d.pad_after[1] = 2;
    CHECK_STATUS(conv4j_output_size(&d, out), CONV4J_OK);
    /* H: floor((7 + 1 - 3) / 2) + 1 = 3; W: floor((9 + 2 - 3) / 3) + 1 = 3 */
    CHECK(out[0] == 3 && out[1] == 3, "output size %d,%d, expected 3,3", out[0], out[1]);
}

/* None of these may allocate: they fail in validation. */
static void size_overflow(void)
{
    conv4j_conv_desc d;
    d = test_desc_2d(65536, 65536, 65536, 1, 1, 1, 1);
    expect("input count 2^48", &d, CONV4J_ERR_SIZE_OVERFLOW);
    d = test_desc_2d(INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, 1, 1, INT32_MAX);
    expect("every size INT32_MAX", &d, CONV4J_ERR_SIZE_OVERFLOW);
    d = test_desc_2d(1, 40000, 40000, 1, 1, 1, 1);
    expect("input 1.6e9 fits", &d, CONV4J_OK); /* validation only: nothing allocated */
    d.pad_before[0] = 10000;
    d.pad_after[0] = 10000;
    d.pad_before[1] = 10000;
    d.pad_after[1] = 10000;
    expect("padded input 3.6e9", &d, CONV4J_ERR_SIZE_OVERFLOW);
    d = test_desc_1d(1, 4, 1, 1, 1);
    d.pad_before[0] = INT32_MAX;
    expect("padded extent beyond int32", &d, CONV4J_ERR_SIZE_OVERFLOW);
    d = test_desc_2d(1, 1, 1, 65536, 1, 1, 65536);
    expect("kernel count 2^32", &d, CONV4J_ERR_SIZE_OVERFLOW);
    d = test_desc_2d(1, 1024, 1024, 1, 1, 1, 4096);
    expect("output count 2^32", &d, CONV4J_ERR_SIZE_OVERFLOW);
    /* Overflow is checked before an empty output. */
    d = test_desc_2d(65536, 65536, 65536, 1, 65537, 1, 1);
    expect("overflow before empty", &d, CONV4J_ERR_SIZE_OVERFLOW);
}

static void execute_faults(void)
{
    const conv4j_conv_desc d = valid_2d(); /* input 32, kernel 36, output 8 floats */
    conv4j_plan *plan = NULL;
    CHECK_STATUS(conv4j_plan_create(&d, scratch_kernel, NULL, &plan), CONV4J_OK);
    if (plan == NULL) {
        return;
    }
    CHECK_STATUS(conv4j_plan_execute(NULL, scratch_input, scratch_output, NULL, 0, 1),
                 CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_plan_execute(plan, NULL, scratch_output, NULL, 0, 1),
                 CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_plan_execute(plan, scratch_input, NULL, NULL, 0, 1),
                 CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_plan_execute(plan, scratch_input, scratch_output, NULL, 0, -1),
                 CONV4J_ERR_INVALID_THREADS);
    CHECK_STATUS(conv4j_plan_execute(plan, scratch_input, scratch_output, NULL, 0, INT32_MIN),
                 CONV4J_ERR_INVALID_THREADS);
    CHECK_STATUS(conv4j_plan_execute(plan, scratch_input, scratch_output, NULL, 0, 0), CONV4J_OK);
    CHECK_STATUS(conv4j_plan_execute(plan, scratch_input, scratch_output, NULL, 0, 1000),
                 CONV4J_OK);

    conv4j_plan_destroy(plan);

    /* A plan without scratch takes any workspace; one with scratch (GEMM's
     * row pointers) refuses a buffer one byte short and takes the exact size. */
    for (int with_scratch = 0; with_scratch <= 1; ++with_scratch) {
        conv4j_conv_desc w = d;
        w.algorithm = with_scratch ? CONV4J_ALGORITHM_GEMM : CONV4J_ALGORITHM_REFERENCE;
        plan = NULL;
        CHECK_STATUS(conv4j_plan_create(&w, scratch_kernel, NULL, &plan), CONV4J_OK);
        if (plan == NULL) {
            continue;
        }
        const size_t needed = conv4j_plan_workspace_size(plan);
        CHECK((needed > 0) == with_scratch, "%s: workspace size %zu",
              conv4j_algorithm_name(w.algorithm), needed);
        static _Alignas(64) unsigned char space[1 << 16];
        if (needed == 0) {
            CHECK_STATUS(conv4j_plan_execute(plan, scratch_input, scratch_output, space, 1, 1),
                         CONV4J_OK);
            CHECK_STATUS(conv4j_plan_execute(plan, scratch_input, scratch_output, space, 0, 1),
                         CONV4J_OK);
        } else if (needed <= sizeof space) {
            CHECK_STATUS(
                conv4j_plan_execute(plan, scratch_input, scratch_output, space, needed - 1, 1),
                CONV4J_ERR_WORKSPACE_TOO_SMALL);
            CHECK_STATUS(conv4j_plan_execute(plan, scratch_input, scratch_output, space, needed, 1),
                         CONV4J_OK);
        } else {
            CHECK(0, "workspace size %zu larger than expected", needed);
        }
        conv4j_plan_destroy(plan);
    }

    /* NULL plan accessors are harmless. */
    conv4j_plan_destroy(NULL);
    CHECK(conv4j_plan_workspace_size(NULL) == 0, "workspace size of NULL plan");
    CHECK(conv4j_plan_explain(NULL) != NULL, "explain of NULL plan");
}

static void names(void)
{
    for (int s = 0; s <= CONV4J_ERR_OUT_OF_MEMORY + 1; ++s) {
        const char *text = conv4j_status_string((conv4j_status)s);
        CHECK(text != NULL && text[0] != '\0', "status %d has no string", s);
    }
    CHECK(conv4j_status_string((conv4j_status)-1) != NULL, "status -1");
    CHECK(conv4j_status_string((conv4j_status)1000) != NULL, "status 1000");
    CHECK(strcmp(conv4j_status_string((conv4j_status)1000),
                 conv4j_status_string(CONV4J_ERR_OUT_OF_MEMORY)) != 0,
          "an unknown status reads like a known one");
    CHECK(strcmp(conv4j_algorithm_name(CONV4J_ALGORITHM_AUTO), "auto") == 0, "auto");
    CHECK(strcmp(conv4j_algorithm_name(CONV4J_ALGORITHM_DIRECT), "direct") == 0, "direct");
    CHECK(strcmp(conv4j_algorithm_name(CONV4J_ALGORITHM_REFERENCE), "reference") == 0,
          "reference");
    CHECK(conv4j_algorithm_name((conv4j_algorithm)7) != NULL, "unknown algorithm name");
    CHECK(strcmp(conv4j_version(), CONV4J_VERSION_STRING) == 0, "version %s", conv4j_version());
}

int main(void)
{
    null_pointers();
    descriptor_faults();
    rank3_faults();
    output_extents();
    size_overflow();
    execute_faults();
    names();
    return test_summary("test_validation");
}

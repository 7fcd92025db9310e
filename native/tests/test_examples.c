/*
 * Small hand-computed convolutions, checked exactly (every value is a small
 * integer or half-integer, so float arithmetic is exact in any order) through
 * conv4j_reference_conv and through a plan of every algorithm and thread
 * count.
 */
#include <math.h>
#include <stdlib.h>

#include "test_util.h"
#include "test_config.h"

/* TensorFlow "same": out = ceil(in / s), smaller half of the pad before. */
static void same_pads(int32_t in, int32_t kernel, int32_t stride, int32_t dilation,
                      int32_t *before, int32_t *after)
{
    const int32_t out = (in + stride - 1) / stride;
    int32_t total = (out - 1) * stride + (kernel - 1) * dilation + 1 - in;
    if (total < 0) {
        total = 0;
    }
    *before = total / 2;
    *after = total - *before;
}

/* Exact, except for Winograd whose transforms use fractions such as 1/6:
 * there a relative 2^-16 (far below any indexing mistake on these values). */
static void check_values_within(const char *name, const char *how, const float *got,
                                const float *expected, int64_t count, conv4j_algorithm chosen)
{
    const double slack = chosen == CONV4J_ALGORITHM_WINOGRAD ? 1.0 / 65536.0 : 0.0;
    for (int64_t i = 0; i < count; ++i) {
        const double error = fabs((double)got[i] - (double)expected[i]);
        const double bound = slack * (fabs((double)expected[i]) + 1.0);
        CHECK(got[i] == expected[i] || error <= bound,
              "%s via %s: element %lld is %g, expected %g", name, how, (long long)i,
              (double)got[i], (double)expected[i]);
    }
}

static void check_values(const char *name, const char *how, const float *got,
                         const float *expected, int64_t count)
{
    check_values_within(name, how, got, expected, count, CONV4J_ALGORITHM_REFERENCE);
}

/* Examples each algorithm accepted; every algorithm must take some. */
static int accepted[TEST_ALGORITHM_COUNT];

static void run_case(const char *name, conv4j_conv_desc desc, const float *input,
                     const float *kernel, const float *bias, const float *expected,
                     int64_t expected_count)
{
    const int64_t count = test_output_count(&desc);
    CHECK(count == expected_count, "%s: output count %lld, expected %lld", name,
          (long long)count, (long long)expected_count);
    if (count != expected_count || count < 1) {
        return;
    }
    float *output = malloc((size_t)count * sizeof(float));
    if (output == NULL) {
        CHECK(0, "out of memory");
        return;
    }

    for (int64_t i = 0; i < count; ++i) {
        output[i] = -12345.0f;
    }
    CHECK_STATUS(conv4j_reference_conv(&desc, input, kernel, bias, output), CONV4J_OK);
    check_values(name, "conv4j_reference_conv", output, expected, count);

    for (int a = 0; a < TEST_ALGORITHM_COUNT; ++a) {
        desc.algorithm = test_algorithm(a);
        conv4j_plan *plan = test_plan_or_refusal(&desc, kernel, bias);
        if (plan == NULL) {
            continue;
        }
        ++accepted[a];
        const conv4j_algorithm chosen = conv4j_plan_algorithm(plan);
        CHECK(chosen != CONV4J_ALGORITHM_AUTO, "%s: plan reports algorithm auto", name);
        CHECK(desc.algorithm == CONV4J_ALGORITHM_AUTO || chosen == (conv4j_algorithm)desc.algorithm,
              "%s: forced %s but plan chose %s", name, conv4j_algorithm_name(desc.algorithm),
              conv4j_algorithm_name(chosen));
        for (int32_t threads = 0; threads < TEST_THREAD_COUNTS; ++threads) {
            for (int64_t i = 0; i < count; ++i) {
                output[i] = -12345.0f;
            }
            CHECK_STATUS(conv4j_plan_execute(plan, input, output, NULL, 0, threads), CONV4J_OK);
            char how[96];
            snprintf(how, sizeof how, "plan %s threads=%d", conv4j_algorithm_name(desc.algorithm),
                     (int)threads);
            check_values_within(name, how, output, expected, count, chosen);
        }
        conv4j_plan_destroy(plan);
    }
    free(output);
}

#define COUNT(array) ((int64_t)(sizeof(array) / sizeof((array)[0])))

static void tutorial_conv1d(void)
{
    const float input[] = {0, 0, 0, 1, 1, 0, 0, 0};
    const float kernel[] = {0, 1, 0};
    const float bias[] = {0};
    const float expected[] = {0, 0, 1, 1, 0, 0};
    run_case("tutorial conv1d", test_desc_1d(1, 8, 1, 3, 1), input, kernel, bias, expected,
             COUNT(expected));
}

static void tutorial_conv2d(void)
{
    float image[8 * 8];
    for (int r = 0; r < 8; ++r) {
        for (int c = 0; c < 8; ++c) {
            image[r * 8 + c] = (c == 3 || c == 4) ? 1.0f : 0.0f;
        }
    }
    const float kernel[] = {0, 1, 0, 0, 1, 0, 0, 1, 0};
    const float bias[] = {0};
    float expected[6 * 6];
    const float row[] = {0, 0, 3, 3, 0, 0};
    for (int r = 0; r < 6; ++r) {
        memcpy(expected + r * 6, row, sizeof row);
    }
    run_case("tutorial conv2d", test_desc_2d(1, 8, 8, 1, 3, 3, 1), image, kernel, bias, expected,
             COUNT(expected));
}

static void bias_and_relu(void)
{
    const float input[] = {0, 0, 0, 1, 1, 0, 0, 0};
    const float kernel[] = {0, 1, 0};
    const float bias[] = {-0.5f};
    const float linear[] = {-0.5f, -0.5f, 0.5f, 0.5f, -0.5f, -0.5f};
    const float relu[] = {0, 0, 0.5f, 0.5f, 0, 0};
    conv4j_conv_desc d = test_desc_1d(1, 8, 1, 3, 1);
    run_case("bias", d, input, kernel, bias, linear, COUNT(linear));
    d.activation = CONV4J_ACTIVATION_RELU;
    run_case("bias relu", d, input, kernel, bias, relu, COUNT(relu));

    const float no_bias[] = {0, 0, 1, 1, 0, 0};
    d.activation = CONV4J_ACTIVATION_NONE;
    run_case("NULL bias", d, input, kernel, NULL, no_bias, COUNT(no_bias));
}

static void batch_of_two(void)
{
    const float input[] = {0, 0, 0, 1, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    const float kernel[] = {0, 1, 0};
    const float expected[] = {0, 0, 1, 1, 0, 0, 2, 3, 4, 5, 6, 7};
    run_case("batch 2", test_desc_1d(2, 8, 1, 3, 1), input, kernel, NULL, expected,
             COUNT(expected));
}

static void same_padding(void)
{
    int32_t before;
    int32_t after;
    same_pads(5, 3, 2, 1, &before, &after);
    CHECK(before == 1 && after == 1, "same pads in=5 k=3 s=2: %d/%d", before, after);
    same_pads(4, 2, 1, 1, &before, &after);
    CHECK(before == 0 && after == 1, "same pads in=4 k=2 s=1: %d/%d", before, after);
    same_pads(5, 3, 1, 2, &before, &after);
    CHECK(before == 2 && after == 2, "same pads in=5 k=3 d=2: %d/%d", before, after);
    same_pads(6, 1, 3, 1, &before, &after);
    CHECK(before == 0 && after == 0, "same pads in=6 k=1 s=3: %d/%d", before, after);

    {
        const float input[] = {1, 2, 3, 4, 5};
        const float kernel[] = {1, 1, 1};
        const float expected[] = {3, 9, 9}; /* [0,1,2] [2,3,4] [4,5,0] */
        conv4j_conv_desc d = test_desc_1d(1, 5, 1, 3, 1);
        d.stride[0] = 2;
        same_pads(5, 3, 2, 1, &d.pad_before[0], &d.pad_after[0]);
        run_case("same 1d k=3 s=2", d, input, kernel, NULL, expected, COUNT(expected));
    }
    {
        const float input[] = {1, 2, 3, 4};
        const float kernel[] = {1, 10};
        const float expected[] = {21, 32, 43, 4}; /* even kernel: the extra pad goes after */
        conv4j_conv_desc d = test_desc_1d(1, 4, 1, 2, 1);
        same_pads(4, 2, 1, 1, &d.pad_before[0], &d.pad_after[0]);
        run_case("same 1d k=2", d, input, kernel, NULL, expected, COUNT(expected));
    }
    {
        const float input[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        const float kernel[] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
        const float expected[] = {12, 21, 16, 27, 45, 33, 24, 39, 28};
        conv4j_conv_desc d = test_desc_2d(1, 3, 3, 1, 3, 3, 1);
        same_pads(3, 3, 1, 1, &d.pad_before[0], &d.pad_after[0]);
        same_pads(3, 3, 1, 1, &d.pad_before[1], &d.pad_after[1]);
        run_case("same 2d 3x3", d, input, kernel, NULL, expected, COUNT(expected));
    }
}

static void causal_padding(void)
{
    const float input[] = {1, 2, 3, 4};
    const float kernel[] = {1, 10}; /* tap 0 sees the earlier sample */
    {
        const float expected[] = {10, 21, 32, 43};
        conv4j_conv_desc d = test_desc_1d(1, 4, 1, 2, 1);
        d.pad_before[0] = 1; /* (k - 1) * d */
        run_case("causal", d, input, kernel, NULL, expected, COUNT(expected));
    }
    {
        const float expected[] = {10, 20, 31, 42};
        conv4j_conv_desc d = test_desc_1d(1, 4, 1, 2, 1);
        d.dilation[0] = 2;
        d.pad_before[0] = 2;
        run_case("causal dilation 2", d, input, kernel, NULL, expected, COUNT(expected));
    }
}

static void stride_and_dilation(void)
{
    const float input[] = {1, 2, 3, 4, 5, 6};
    const float kernel[] = {1, 1};
    {
        const float expected[] = {3, 7, 11};
        conv4j_conv_desc d = test_desc_1d(1, 6, 1, 2, 1);
        d.stride[0] = 2;
        run_case("stride 2", d, input, kernel, NULL, expected, COUNT(expected));
    }
    {
        const float expected[] = {4, 6, 8, 10};
        conv4j_conv_desc d = test_desc_1d(1, 6, 1, 2, 1);
        d.dilation[0] = 2;
        run_case("dilation 2", d, input, kernel, NULL, expected, COUNT(expected));
    }
    {
        const float image[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        const float ones[] = {1, 1, 1, 1};
        const float expected[] = {20}; /* the four corners */
        conv4j_conv_desc d = test_desc_2d(1, 3, 3, 1, 2, 2, 1);
        d.dilation[0] = 2;
        d.dilation[1] = 2;
        run_case("dilation 2x2", d, image, ones, NULL, expected, COUNT(expected));
    }
    {
        /* 4x4 image, 2x2 kernel picking the top-left tap, stride 2x2 */
        float image[16];
        for (int i = 0; i < 16; ++i) {
            image[i] = (float)(i + 1);
        }
        const float kernel2[] = {1, 0, 0, 0};
        const float expected[] = {1, 3, 9, 11};
        conv4j_conv_desc d = test_desc_2d(1, 4, 4, 1, 2, 2, 1);
        d.stride[0] = 2;
        d.stride[1] = 2;
        run_case("stride 2x2", d, image, kernel2, NULL, expected, COUNT(expected));
    }
}

static void groups(void)
{
    {
        /* Cin 4 in 2 groups, Cout 2: kernel [1][2][2] indexed [ci][co]. */
        const float input[] = {1, 2, 3, 4};
        const float kernel[] = {1, 10, 100, 1000};
        const float expected[] = {1 * 1 + 2 * 100, 3 * 10 + 4 * 1000};
        conv4j_conv_desc d = test_desc_1d(1, 1, 4, 1, 2);
        d.groups = 2;
        run_case("groups 2", d, input, kernel, NULL, expected, COUNT(expected));
    }
    {
        /* Depthwise, multiplier 2: outputs 0,1 read channel 0, 2,3 channel 1. */
        const float input[] = {1, 10, 2, 20};
        const float kernel[] = {1, 2, 3, 4};
        const float expected[] = {1, 2, 30, 40, 2, 4, 60, 80};
        conv4j_conv_desc d = test_desc_1d(1, 2, 2, 1, 4);
        d.groups = 2;
        run_case("depthwise", d, input, kernel, NULL, expected, COUNT(expected));
    }
}

static void channels_first(void)
{
    /* 3x3 image 1..9, 2x2 kernel, Cout 2: channel 0 sums the window,
     * channel 1 takes its top-left. Kernel [KH][KW][1][Cout]. */
    const float image[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float kernel[] = {1, 1, 1, 0, 1, 0, 1, 0};
    {
        const float expected[] = {12, 1, 16, 2, 24, 4, 28, 5};
        run_case("two outputs channels_last", test_desc_2d(1, 3, 3, 1, 2, 2, 2), image, kernel,
                 NULL, expected, COUNT(expected));
    }
    {
        const float expected[] = {12, 16, 24, 28, 1, 2, 4, 5};
        conv4j_conv_desc d = test_desc_2d(1, 3, 3, 1, 2, 2, 2);
        d.layout = CONV4J_LAYOUT_CHANNELS_FIRST;
        run_case("two outputs channels_first", d, image, kernel, NULL, expected,
                 COUNT(expected));
    }
    {
        /* [1, 2, 1, 2] planes {1,2} and {3,4}, 1x1 kernel {1, 10}. */
        const float input[] = {1, 2, 3, 4};
        const float one_by_one[] = {1, 10};
        const float expected[] = {31, 42};
        conv4j_conv_desc d = test_desc_2d(1, 1, 2, 2, 1, 1, 1);
        d.layout = CONV4J_LAYOUT_CHANNELS_FIRST;
        run_case("two inputs channels_first", d, input, one_by_one, NULL, expected,
                 COUNT(expected));
    }
    {
        /* Conv1D [1, 2, 3]: rows {1,2,3} and {4,5,6}; kernel [K=2][2][1]. */
        const float input[] = {1, 2, 3, 4, 5, 6};
        const float kernel1d[] = {1, 10, 100, 1000};
        const float expected[] = {1 + 40 + 200 + 5000, 2 + 50 + 300 + 6000};
        conv4j_conv_desc d = test_desc_1d(1, 3, 2, 2, 1);
        d.layout = CONV4J_LAYOUT_CHANNELS_FIRST;
        run_case("conv1d channels_first", d, input, kernel1d, NULL, expected, COUNT(expected));
    }
}

/* conv4j_plan_create copies the kernel and bias: the caller may free them. */
static void plan_owns_its_weights(void)
{
    const float input[] = {0, 0, 0, 1, 1, 0, 0, 0};
    const float expected[] = {-0.5f, -0.5f, 0.5f, 0.5f, -0.5f, -0.5f};
    const conv4j_conv_desc d = test_desc_1d(1, 8, 1, 3, 1);
    for (int a = 0; a < TEST_ALGORITHM_COUNT; ++a) {
        conv4j_conv_desc forced = d;
        forced.algorithm = test_algorithm(a);
        float *kernel = malloc(3 * sizeof(float));
        float *bias = malloc(sizeof(float));
        if (kernel == NULL || bias == NULL) {
            CHECK(0, "out of memory");
            free(kernel);
            free(bias);
            return;
        }
        kernel[0] = 0;
        kernel[1] = 1;
        kernel[2] = 0;
        bias[0] = -0.5f;
        conv4j_plan *plan = test_plan_or_refusal(&forced, kernel, bias);
        kernel[1] = 100; /* scribble, then free: the plan must not notice */
        bias[0] = 100;
        free(kernel);
        free(bias);
        if (plan == NULL) {
            continue;
        }
        float output[6];
        CHECK_STATUS(conv4j_plan_execute(plan, input, output, NULL, 0, 1), CONV4J_OK);
        check_values("plan owns its weights", conv4j_algorithm_name(forced.algorithm), output,
                     expected, 6);
        conv4j_plan_destroy(plan);
    }
}

/* Value of input element (h, w, c): small distinct integers. */
static float pattern(int32_t h, int32_t w, int32_t c)
{
    return (float)(h * 7 + w * 3 + c * 5 % 11 - 9);
}

/* Writes pattern() into a [1, H, W, C] or [1, C, H, W] tensor. */
static void fill_pattern(float *x, int32_t height, int32_t width, int32_t channels,
                         conv4j_layout layout)
{
    for (int32_t h = 0; h < height; ++h) {
        for (int32_t w = 0; w < width; ++w) {
            for (int32_t c = 0; c < channels; ++c) {
                const int64_t at = layout == CONV4J_LAYOUT_CHANNELS_LAST
                                       ? ((int64_t)h * width + w) * channels + c
                                       : ((int64_t)c * height + h) * width + w;
                x[at] = pattern(h, w, c);
            }
        }
    }
}

static int64_t output_index(int32_t h, int32_t w, int32_t c, int32_t height, int32_t width,
                            int32_t channels, conv4j_layout layout)
{
    return layout == CONV4J_LAYOUT_CHANNELS_LAST ? ((int64_t)h * width + w) * channels + c
                                                 : ((int64_t)c * height + h) * width + w;
}

/* Depthwise 3x3, multiplier 1, 9 channels (one past the 8-float vector):
 * channel c has the single tap (c % 3, c / 3 % 3) of weight c + 1, so its
 * output is (c + 1) * x(oh*s + tap_h - pad, ow*s + tap_w - pad, c) + bias. */
static void depthwise_3x3(void)
{
    enum { H = 5, W = 6, C = 9 };
    float kernel[3 * 3 * C];
    float bias[C];
    memset(kernel, 0, sizeof kernel);
    for (int32_t c = 0; c < C; ++c) {
        kernel[((c % 3) * 3 + c / 3 % 3) * C + c] = (float)(c + 1);
        bias[c] = (float)(c % 2 ? -1 : 2);
    }
    float input[H * W * C];
    float expected[H * W * C];
    for (int layout = 0; layout < 2; ++layout) {
        for (int32_t stride = 1; stride <= 2; ++stride) {
            conv4j_conv_desc d = test_desc_2d(1, H, W, C, 3, 3, C);
            d.groups = C;
            d.layout = layout;
            d.stride[0] = d.stride[1] = stride;
            d.pad_before[0] = d.pad_before[1] = 1; /* "same" for stride 1 */
            d.pad_after[0] = d.pad_after[1] = stride == 1 ? 1 : 0;
            const int32_t out_h = (H + d.pad_before[0] + d.pad_after[0] - 3) / stride + 1;
            const int32_t out_w = (W + d.pad_before[1] + d.pad_after[1] - 3) / stride + 1;
            fill_pattern(input, H, W, C, (conv4j_layout)layout);
            for (int32_t oh = 0; oh < out_h; ++oh) {
                for (int32_t ow = 0; ow < out_w; ++ow) {
                    for (int32_t c = 0; c < C; ++c) {
                        const int32_t h = oh * stride + c % 3 - 1;
                        const int32_t w = ow * stride + c / 3 % 3 - 1;
                        const float x = h >= 0 && h < H && w >= 0 && w < W ? pattern(h, w, c) : 0;
                        expected[output_index(oh, ow, c, out_h, out_w, C,
                                              (conv4j_layout)layout)] =
                            (float)(c + 1) * x + bias[c];
                    }
                }
            }
            run_case(stride == 1 ? "depthwise 3x3 same" : "depthwise 3x3 stride 2", d, input,
                     kernel, bias, expected, (int64_t)out_h * out_w * C);
        }
    }
}

/* A dense 3x3 "same" layer with channel counts past the 8/16 tiles:
 * output co = x(h, w, co % Cin) + 2 x(h, w-1, (co+1) % Cin)
 *           + 3 x(h-1, w, (co+2) % Cin) + bias, zeros outside the image. */
static void dense_3x3(int32_t in_channels, int32_t out_channels, int32_t kernel_size)
{
    enum { H = 5, W = 7, MAX_C = 17 };
    float kernel[3 * 3 * MAX_C * MAX_C];
    float bias[MAX_C];
    float input[H * W * MAX_C];
    float expected[H * W * MAX_C];
    const int32_t center = kernel_size / 2;
    memset(kernel, 0, sizeof kernel);
    for (int32_t co = 0; co < out_channels; ++co) {
        const int32_t taps[3][3] = {{center, center, co % in_channels},
                                    {center, center - 1, (co + 1) % in_channels},
                                    {center - 1, center, (co + 2) % in_channels}};
        for (int t = 0; t < (kernel_size == 1 ? 1 : 3); ++t) {
            const int32_t at = (taps[t][0] * kernel_size + taps[t][1]) * in_channels + taps[t][2];
            kernel[at * out_channels + co] += (float)(t + 1);
        }
        bias[co] = (float)(co % 3) - 1.0f;
    }
    for (int layout = 0; layout < 2; ++layout) {
        conv4j_conv_desc d = test_desc_2d(1, H, W, in_channels, kernel_size, kernel_size,
                                          out_channels);
        d.layout = layout;
        d.pad_before[0] = d.pad_before[1] = d.pad_after[0] = d.pad_after[1] = center;
        d.activation = CONV4J_ACTIVATION_RELU;
        fill_pattern(input, H, W, in_channels, (conv4j_layout)layout);
        for (int32_t h = 0; h < H; ++h) {
            for (int32_t w = 0; w < W; ++w) {
                for (int32_t co = 0; co < out_channels; ++co) {
                    float sum = pattern(h, w, co % in_channels) + bias[co];
                    if (kernel_size == 3) {
                        sum += w > 0 ? 2 * pattern(h, w - 1, (co + 1) % in_channels) : 0;
                        sum += h > 0 ? 3 * pattern(h - 1, w, (co + 2) % in_channels) : 0;
                    }
                    expected[output_index(h, w, co, H, W, out_channels, (conv4j_layout)layout)] =
                        sum > 0 ? sum : 0;
                }
            }
        }
        char name[64];
        snprintf(name, sizeof name, "dense %dx%d Cin=%d Cout=%d layout=%d", (int)kernel_size,
                 (int)kernel_size, (int)in_channels, (int)out_channels, layout);
        run_case(name, d, input, kernel, bias, expected, (int64_t)H * W * out_channels);
    }
}

/* Conv3D: a 2x2x2 kernel over a 2x2x2 volume is one dot product, worked by
 * hand; then a 3x2x2 kernel with depth stride 2 and asymmetric pads on every
 * axis, in both layouts, whose three non-zero taps per output channel give
 * each output as a short sum of exactly representable pattern values. */
static void conv3d(void)
{
    const float volume[] = {1, 2, 3, 4, 5, 6, 7, 8}; /* [d][h][w] */
    const float picks[] = {1, 0, 0, -1, 0, 0.5f, 0, 2}; /* taps (0,0,0), (0,1,1), (1,0,1), (1,1,1) */
    const float bias[] = {0.25f};
    const float dot[] = {1 - 4 + 3 + 16 + 0.25f};
    run_case("conv3d one dot", test_desc_3d(1, 2, 2, 2, 1, 2, 2, 2, 1), volume, picks, bias, dot,
             COUNT(dot));

    enum { N = 2, D = 5, H = 4, W = 3, CI = 2, CO = 3, KD = 3, KH = 2, KW = 2 };
    enum { OD = 3, OH = 4, OW = 3 }; /* (5+1+1-3)/2+1, (4+1+0-2)+1, (3+0+1-2)+1 */
    float input[N * D * H * W * CI];
    float kernel[KD * KH * KW * CI * CO] = {0};
    float bias3[CO];
    float expected[N * OD * OH * OW * CO];
    /* Output channel co: 1 x (0,0,0, ci co%2) + 2 x (2,1,1, ci (co+1)%2) - 1 x (1,1,0, ci 0). */
    const int32_t taps[3][4] = {{0, 0, 0, 1}, {2, 1, 1, 2}, {1, 1, 0, -1}};
    for (int32_t co = 0; co < CO; ++co) {
        const int32_t channel[3] = {co % 2, (co + 1) % 2, 0};
        for (int t = 0; t < 3; ++t) {
            const int32_t at = ((taps[t][0] * KH + taps[t][1]) * KW + taps[t][2]) * CI + channel[t];
            kernel[at * CO + co] = (float)taps[t][3];
        }
        bias3[co] = 0.5f * (float)co - 0.5f;
    }
    for (int layout = 0; layout < 2; ++layout) {
        for (int32_t n = 0; n < N; ++n) {
            for (int32_t z = 0; z < D; ++z) {
                for (int32_t y = 0; y < H; ++y) {
                    for (int32_t x = 0; x < W; ++x) {
                        for (int32_t c = 0; c < CI; ++c) {
                            const int64_t at =
                                layout == 0 ? ((((int64_t)n * D + z) * H + y) * W + x) * CI + c
                                            : ((((int64_t)n * CI + c) * D + z) * H + y) * W + x;
                            input[at] = (float)(n * 64 + z * 16 + y * 4 + x) * 0.25f +
                                        (float)c * 0.125f - 8.0f;
                        }
                    }
                }
            }
        }
        for (int32_t n = 0; n < N; ++n) {
            for (int32_t z = 0; z < OD; ++z) {
                for (int32_t y = 0; y < OH; ++y) {
                    for (int32_t x = 0; x < OW; ++x) {
                        for (int32_t co = 0; co < CO; ++co) {
                            const int32_t channel[3] = {co % 2, (co + 1) % 2, 0};
                            float sum = bias3[co];
                            for (int t = 0; t < 3; ++t) {
                                const int32_t iz = z * 2 - 1 + taps[t][0];
                                const int32_t iy = y - 1 + taps[t][1];
                                const int32_t ix = x + taps[t][2];
                                if (iz >= 0 && iz < D && iy >= 0 && iy < H && ix < W) {
                                    const float value = (float)(n * 64 + iz * 16 + iy * 4 + ix) *
                                                            0.25f +
                                                        (float)channel[t] * 0.125f - 8.0f;
                                    sum += (float)taps[t][3] * value;
                                }
                            }
                            const int64_t at =
                                layout == 0
                                    ? ((((int64_t)n * OD + z) * OH + y) * OW + x) * CO + co
                                    : ((((int64_t)n * CO + co) * OD + z) * OH + y) * OW + x;
                            expected[at] = sum;
                        }
                    }
                }
            }
        }
        conv4j_conv_desc d = test_desc_3d(N, D, H, W, CI, KD, KH, KW, CO);
        d.layout = layout;
        d.stride[0] = 2;
        d.pad_before[0] = 1;
        d.pad_after[0] = 1;
        d.pad_before[1] = 1;
        d.pad_after[2] = 1;
        run_case(layout == 0 ? "conv3d channels_last" : "conv3d channels_first", d, input, kernel,
                 bias3, expected, COUNT(expected));
    }
}

/* DepthwiseConv1D with depth_multiplier 3: output channel c * 3 + m reads
 * input channel c alone, with weight kernel[k][0][c * 3 + m]. */
static void depth_multiplier(void)
{
    enum { L = 5, C = 2, M = 3, K = 2, LO = L - K + 1 };
    float input[L * C];
    float kernel[K * C * M];
    float expected[LO * C * M];
    for (int l = 0; l < L; ++l) {
        for (int c = 0; c < C; ++c) {
            input[l * C + c] = (float)(l + 10 * c);
        }
    }
    for (int c = 0; c < C; ++c) {
        for (int m = 0; m < M; ++m) {
            kernel[0 * C * M + c * M + m] = (float)(m + 1);
            kernel[1 * C * M + c * M + m] = -(float)(c + 1);
        }
    }
    for (int l = 0; l < LO; ++l) {
        for (int c = 0; c < C; ++c) {
            for (int m = 0; m < M; ++m) {
                expected[l * C * M + c * M + m] =
                    (float)(l + 10 * c) * (float)(m + 1) - (float)(c + 1) * (float)(l + 1 + 10 * c);
            }
        }
    }
    conv4j_conv_desc d = test_desc_1d(1, L, C, K, C * M);
    d.groups = C;
    run_case("depth multiplier 3", d, input, kernel, NULL, expected, COUNT(expected));
}

int main(void)
{
    if (!test_use_config()) {
        return TEST_SKIPPED;
    }
    tutorial_conv1d();
    tutorial_conv2d();
    bias_and_relu();
    batch_of_two();
    same_padding();
    causal_padding();
    stride_and_dilation();
    groups();
    channels_first();
    plan_owns_its_weights();
    depthwise_3x3();
    dense_3x3(9, 16, 3);
    dense_3x3(16, 17, 3);
    dense_3x3(8, 8, 3);
    dense_3x3(17, 15, 1);
    dense_3x3(3, 17, 3);
    conv3d();
    depth_multiplier();
    for (int a = 0; a < TEST_ALGORITHM_COUNT; ++a) {
        printf("%s accepted %d examples\n", conv4j_algorithm_name(test_algorithm(a)), accepted[a]);
        CHECK(accepted[a] > 0, "%s accepted none of the examples",
              conv4j_algorithm_name(test_algorithm(a)));
    }
    return test_summary("test_examples");
}

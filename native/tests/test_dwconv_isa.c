/*
 * Every ISA's depthwise pair and tile transpose, called directly (not through a plan), on
 * random shapes, with guard pages.
 *
 * Depthwise: random problems built with conv4j_problem_init (both layouts, kernels 1..5,
 * strides 1..3 (channels_first: horizontal 1, as conv4j_dwconv_reject demands), dilation,
 * valid / same-like asymmetric / random pads (and, rarely, channels_first rows that are all
 * padding, or kernels up to 20 wide), relu or none, bias or NULL, C from 1 to 70 so the
 * 16- and 8-channel tails are hit, batch 1..3), packed with conv4j_dwconv_pack, run through
 * conv4j_dwconv_run_with with each ISA's row/plane pair at threads 1 and 2, and compared with
 * the reference within the bound of test_bound.h (a quarter of the cases hold a few NaN and
 * Inf inputs: the class of each output must match, so relu must keep NaN). In channels_last
 * the avx2 and avx512 rows (same sum order, one FMA per tap) must also agree bit for bit.
 *
 * Transposes: random rows x cols (1..70) and random sub-rectangles, exact equality, and every
 * destination element outside the sub-rectangle untouched.
 *
 * The input, packed kernel, bias and output (the source and destination of a transpose) each
 * end at an inaccessible page, or in every other case start right after one, so any read or
 * write past either end faults. An ISA this CPU lacks is skipped with one loud line.
 * POSIX mmap or Windows VirtualAlloc (test_pages.h).
 */
#define _DEFAULT_SOURCE
#include "test_pages.h"

#include "test_bound.h"
#include "test_guarded.h"

#include "depthwise/f32_dwconv.h"
#include "layout/transpose.h"

#if (defined(__x86_64__) || defined(__amd64__)) && (defined(__GNUC__) || defined(__clang__))
#define TEST_X86_64 1
#endif

/* ------------------------------------------------------------------ ISAs */

static int cpu_has_avx2(void)
{
#ifdef TEST_X86_64
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* __builtin_cpu_supports reports AVX-512 only when the OS saves the zmm and opmask state. */
static int cpu_has_avx512(void)
{
#ifdef TEST_X86_64
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

typedef struct isa_variant {
    const char *name;
    conv4j_dwconv_row_fn row;
    conv4j_dwconv_row_fn plane;
    conv4j_transpose_tile_fn transpose;
} isa_variant;

enum { ISA_SCALAR, ISA_AVX2, ISA_AVX512, ISA_NEON, ISA_COUNT };

static isa_variant variants[ISA_COUNT];
static long dw_runs[ISA_COUNT];
static long transpose_runs[ISA_COUNT];

/* Fills variants[] with the pairs this build has and this CPU runs; prints the loud lines. */
static void choose_variants(void)
{
    variants[ISA_SCALAR] = (isa_variant){"scalar", conv4j_dwconv_row__scalar,
                                         conv4j_dwconv_plane__scalar,
                                         conv4j_transpose_tile__scalar};
    int avx2 = 0;
    int avx512 = 0;
#ifdef CONV4J_HAVE_AVX2_KERNELS
    if (cpu_has_avx2()) {
        variants[ISA_AVX2] = (isa_variant){"avx2", conv4j_dwconv_row__avx2,
                                           conv4j_dwconv_plane__avx2,
                                           conv4j_transpose_tile__avx2};
        avx2 = 1;
    }
#endif
#ifdef CONV4J_HAVE_AVX512_KERNELS
    if (cpu_has_avx512()) {
        variants[ISA_AVX512] = (isa_variant){"avx512", conv4j_dwconv_row__avx512,
                                             conv4j_dwconv_plane__avx512,
                                             conv4j_transpose_tile__avx512};
        avx512 = 1;
    }
#endif
#ifdef CONV4J_HAVE_NEON_KERNELS
    /* Advanced SIMD is part of every AArch64 CPU: the neon pair always runs there. */
    variants[ISA_NEON] = (isa_variant){"neon", conv4j_dwconv_row__neon, conv4j_dwconv_plane__neon,
                                       conv4j_transpose_tile__neon};
#else
    printf("NEON KERNELS NOT TESTED: this build is not for aarch64\n");
#endif
    if (!avx2) {
        printf("AVX2 KERNELS NOT TESTED: %s\n",
               cpu_has_avx2() ? "this build has no avx2 kernels" : "this CPU lacks avx2");
    }
    if (!avx512) {
        printf("AVX-512 KERNELS NOT TESTED: %s\n",
               cpu_has_avx512() ? "this build has no avx512 kernels" : "this CPU lacks avx512");
    }
}

/* ------------------------------------------------------------------ depthwise */

/* Pads of one axis: 0 valid, 1 TF SAME (the extra one after), 2 same-like with the extra one
 * before, 3 random (up to past the kernel's extent, so whole output rows can be padding). */
static void choose_pads(test_rng *rng, int32_t in, int32_t kernel, int32_t stride,
                        int32_t dilation, int32_t *before, int32_t *after)
{
    const int32_t extent = (kernel - 1) * dilation + 1;
    const int mode = test_rng_int(rng, 0, 3);
    if (mode == 3) {
        *before = test_rng_int(rng, 0, extent);
        *after = test_rng_int(rng, 0, extent);
        return;
    }
    if (mode == 0) {
        *before = *after = 0;
        return;
    }
    const int32_t out = (in + stride - 1) / stride;
    int32_t total = (out - 1) * stride + extent - in;
    total = total > 0 ? total : 0;
    *before = mode == 1 ? total / 2 : total - total / 2;
    *after = total - *before;
}

static conv4j_conv_desc random_depthwise(test_rng *rng)
{
    const int32_t channels =
        test_rng_int(rng, 0, 1) ? test_tail_value(rng, 1, 70) : test_rng_int(rng, 1, 70);
    const int channels_first = test_rng_int(rng, 0, 1);
    /* Often the register-blocked 3x3 stride 1/2 case, otherwise anything. */
    const int mobile = test_rng_int(rng, 0, 9) < 4;
    int32_t kernel[2];
    int32_t stride[2];
    int32_t dilation[2];
    int32_t size[2];
    for (int axis = 0; axis < 2; ++axis) {
        kernel[axis] = mobile ? 3 : test_rng_int(rng, 1, 5);
        stride[axis] = mobile ? test_rng_int(rng, 1, 2) : test_rng_int(rng, 1, 3);
        dilation[axis] = mobile || test_rng_int(rng, 0, 2) > 0 ? 1 : test_rng_int(rng, 2, 3);
    }
    if (channels_first) {
        stride[1] = 1; /* what conv4j_dwconv_reject lets through */
    }
    size[0] = test_rng_int(rng, 1, 12);
    /* Wide enough, sometimes, for 8-pixel spans and 64-column channels_first blocks. */
    size[1] = test_rng_int(rng, 0, 2) == 0 ? test_rng_int(rng, 24, channels_first ? 150 : 60)
                                           : test_rng_int(rng, 1, 24);
    conv4j_conv_desc d = test_desc_2d(test_rng_int(rng, 1, 3), size[0], size[1], channels,
                                      kernel[0], kernel[1], channels);
    d.groups = channels;
    d.layout = channels_first ? CONV4J_LAYOUT_CHANNELS_FIRST : CONV4J_LAYOUT_CHANNELS_LAST;
    d.activation = test_rng_int(rng, 0, 1) ? CONV4J_ACTIVATION_RELU : CONV4J_ACTIVATION_NONE;
    for (int axis = 0; axis < 2; ++axis) {
        d.stride[axis] = stride[axis];
        d.dilation[axis] = dilation[axis];
        choose_pads(rng, size[axis], kernel[axis], stride[axis], dilation[axis],
                    &d.pad_before[axis], &d.pad_after[axis]);
    }
    if (channels_first && test_rng_int(rng, 0, 19) == 0) {
        /* Rows that are all border (wide horizontal padding around a narrow input) and kernels
         * wider than 16: the channels_first kernels' fallback for borders too wide to plan. */
        d.in_size[1] = test_rng_int(rng, 1, 4);
        d.kernel[1] = test_rng_int(rng, 0, 1) ? test_rng_int(rng, 15, 20) : test_rng_int(rng, 1, 5);
        d.dilation[1] = 1;
        d.pad_before[1] = test_rng_int(rng, 0, 90);
        d.pad_after[1] = test_rng_int(rng, 20, 90);
    }
    return d;
}

/* One random depthwise problem through every available pair. 0 when the shape was invalid. */
static int depthwise_case(test_rng *rng, long index)
{
    conv4j_conv_desc d = random_depthwise(rng);
    const int64_t out_count = test_output_count(&d);
    if (out_count <= 0) {
        return 0;
    }
    char text[256];
    test_describe(&d, text, sizeof text);
    conv4j_problem p;
    CHECK_STATUS(conv4j_problem_init(&d, &p), CONV4J_OK);
    const char *reject = conv4j_dwconv_reject(&p);
    /* One channel is refused only because a dense kernel serves it; the pairs still take it. */
    CHECK(reject == NULL || p.in_channels == 1, "%s: rejected: %s", text, reject);
    if (reject != NULL && p.in_channels != 1) {
        return 1;
    }
    const int with_bias = test_rng_int(rng, 0, 2) > 0;
    const int at_end = (int)(index % 2 == 0);
    const int64_t in_count = test_input_count(&d);
    const int64_t kernel_count = test_kernel_count(&d);
    const int64_t packed_count = (int64_t)conv4j_dwconv_packed_kernel_count(&p);
    guarded input_g, kernel_g, packed_g, bias_g, output_g, avx2_g;
    float *input = guarded_alloc_at(&input_g, in_count, at_end);
    float *kernel = guarded_alloc_at(&kernel_g, kernel_count, at_end);
    float *packed = guarded_alloc_at(&packed_g, packed_count, at_end);
    float *bias = guarded_alloc_at(&bias_g, d.out_channels, at_end);
    float *output = guarded_alloc_at(&output_g, out_count, at_end);
    float *avx2_output = guarded_alloc_at(&avx2_g, out_count, at_end);
    test_fill_random(rng, input, in_count);
    test_fill_random(rng, kernel, kernel_count);
    test_fill_random(rng, bias, d.out_channels);
    if (test_rng_int(rng, 0, 3) == 0) {
        /* A few non-finite inputs: relu must keep NaN, the class must match the reference. */
        static const float specials[] = {NAN, INFINITY, -INFINITY};
        for (int k = test_rng_int(rng, 1, 3); k > 0; --k) {
            input[test_rng_int(rng, 0, (int32_t)in_count - 1)] = specials[test_rng_int(rng, 0, 2)];
        }
    }
    conv4j_dwconv_pack(&p, kernel, packed);
    test_oracle oracle;
    CHECK(test_oracle_init(&oracle, &d, input, kernel, with_bias ? bias : NULL) == 0,
          "oracle failed: %s", text);
    int have_avx2_output = 0;
    for (int isa = 0; isa < ISA_COUNT; ++isa) {
        if (variants[isa].row == NULL) {
            continue;
        }
        for (int32_t threads = 1; threads <= 2; ++threads) {
            for (int64_t i = 0; i < out_count; ++i) {
                output[i] = NAN; /* an unwritten element fails the bound */
            }
            conv4j_dwconv_run_with(&p, variants[isa].row, variants[isa].plane, packed,
                                   with_bias ? bias : NULL, input, output, threads);
            char what[400];
            snprintf(what, sizeof what, "case %ld %s threads=%d bias=%d guard=%s %s", index,
                     variants[isa].name, (int)threads, with_bias, at_end ? "after" : "before",
                     text);
            const int64_t bad = test_oracle_mismatches(&oracle, output, what);
            CHECK(bad == 0, "%s: %lld elements outside the bound", what, (long long)bad);
            ++dw_runs[isa];
            if (d.layout != CONV4J_LAYOUT_CHANNELS_LAST || threads != 1) {
                continue;
            }
            if (isa == ISA_AVX2) {
                memcpy(avx2_output, output, (size_t)out_count * sizeof(float));
                have_avx2_output = 1;
            } else if (isa == ISA_AVX512 && have_avx2_output) {
                int64_t differ = 0;
                for (int64_t i = 0; i < out_count; ++i) {
                    differ += output[i] != avx2_output[i] &&
                              !(isnan(output[i]) && isnan(avx2_output[i]));
                }
                CHECK(differ == 0, "%s: %lld elements differ from avx2", what, (long long)differ);
            }
        }
    }
    test_oracle_free(&oracle);
    guarded_free(&input_g);
    guarded_free(&kernel_g);
    guarded_free(&packed_g);
    guarded_free(&bias_g);
    guarded_free(&output_g);
    guarded_free(&avx2_g);
    return 1;
}

/* ------------------------------------------------------------------ transposes */

#define SENTINEL (-12345.0f)

static void transpose_case(test_rng *rng, long index)
{
    const int64_t rows = test_rng_int(rng, 0, 1) ? test_tail_value(rng, 1, 70)
                                                 : test_rng_int(rng, 1, 70);
    const int64_t cols = test_rng_int(rng, 0, 1) ? test_tail_value(rng, 1, 70)
                                                 : test_rng_int(rng, 1, 70);
    int64_t r0 = 0, r1 = rows, c0 = 0, c1 = cols;
    if (test_rng_int(rng, 0, 2) > 0) { /* a sub-rectangle, possibly empty */
        r0 = test_rng_int(rng, 0, (int32_t)rows);
        r1 = test_rng_int(rng, (int32_t)r0, (int32_t)rows);
        c0 = test_rng_int(rng, 0, (int32_t)cols);
        c1 = test_rng_int(rng, (int32_t)c0, (int32_t)cols);
    }
    const int at_end = (int)(index % 2 == 0);
    guarded src_g, dst_g;
    float *src = guarded_alloc_at(&src_g, rows * cols, at_end);
    float *dst = guarded_alloc_at(&dst_g, rows * cols, at_end);
    test_fill_random(rng, src, rows * cols);
    for (int isa = 0; isa < ISA_COUNT; ++isa) {
        if (variants[isa].transpose == NULL) {
            continue;
        }
        for (int64_t i = 0; i < rows * cols; ++i) {
            dst[i] = SENTINEL;
        }
        variants[isa].transpose(src, dst, rows, cols, r0, c0, r1, c1);
        int64_t bad = 0;
        for (int64_t c = 0; c < cols; ++c) {
            for (int64_t r = 0; r < rows; ++r) {
                const int inside = r >= r0 && r < r1 && c >= c0 && c < c1;
                const float expected = inside ? src[r * cols + c] : SENTINEL;
                bad += dst[c * rows + r] != expected;
            }
        }
        CHECK(bad == 0, "transpose %s %lldx%lld rows [%lld,%lld) cols [%lld,%lld) guard=%s: %lld wrong",
              variants[isa].name, (long long)rows, (long long)cols, (long long)r0, (long long)r1,
              (long long)c0, (long long)c1, at_end ? "after" : "before", (long long)bad);
        ++transpose_runs[isa];
    }
    guarded_free(&src_g);
    guarded_free(&dst_g);
}

int main(void)
{
    choose_variants();
    const char *env = getenv("CONV4J_TEST_CASES");
    const long cases = env != NULL && atol(env) > 0 ? atol(env) : 1500;
    test_rng rng = {UINT64_C(0x243F6A8885A308D3)};
    long problems = 0;
    for (long i = 0; i < cases; ++i) {
        problems += depthwise_case(&rng, i);
    }
    for (long i = 0; i < cases; ++i) {
        transpose_case(&rng, i);
    }
    printf("depthwise: %ld random problems\n", problems);
    for (int isa = 0; isa < ISA_COUNT; ++isa) {
        printf("  %-7s %6ld depthwise runs, %6ld transposes\n",
               variants[isa].name != NULL ? variants[isa].name : "-", dw_runs[isa],
               transpose_runs[isa]);
    }
    CHECK(dw_runs[ISA_SCALAR] > 0, "the scalar pair never ran");
#ifdef CONV4J_HAVE_NEON_KERNELS
    CHECK(dw_runs[ISA_NEON] > 0 && transpose_runs[ISA_NEON] > 0, "the neon kernels never ran");
#endif
    return test_summary("test_dwconv_isa");
}

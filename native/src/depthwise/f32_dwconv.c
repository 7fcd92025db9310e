/*
 * Depthwise convolution: the ISA-neutral parts (acceptance, packing, the
 * row and plane schedulers, the one-pixel helper, the driver, the channel
 * multiplier's input expansion). The ISA pairs live in f32_dwconv__<isa>.c.
 */
#include "depthwise/f32_dwconv.h"

#include <string.h>

const char *conv4j_dwconv_reject(const conv4j_problem *p)
{
    if (p->groups != p->in_channels) {
        return "not depthwise (groups != Cin)";
    }
    if (p->groups == 1) {
        return "a single channel (groups == 1): a dense convolution";
    }
    if (!conv4j_problem_is_flat(p) && p->layout != CONV4J_LAYOUT_CHANNELS_LAST) {
        /* The plan's layout adapter still runs it here, in channels_last. */
        return "rank 3 needs channels_last";
    }
    /* A multiplier runs on its input expanded to Cout channels, which must
     * stay an int32-sized tensor like every other. */
    if (p->out_channels != p->in_channels &&
        p->batch * p->in_d * p->in_h * p->in_w > INT32_MAX / p->out_channels) {
        return "input expanded by the channel multiplier exceeds 2^31 elements";
    }
    if (p->layout != CONV4J_LAYOUT_CHANNELS_LAST && p->stride_w != 1) {
        /* The plan's layout adapter still runs it here, in channels_last. */
        return "channels_first needs horizontal stride 1";
    }
    return NULL;
}

size_t conv4j_dwconv_packed_kernel_count(const conv4j_problem *p)
{
    return (size_t)(p->kernel_d * p->kernel_h * p->kernel_w * conv4j_dwconv_padded_channels(p));
}

/* Keras [KD][KH][KW][1][Cout] is already [tap][Cout] (with a multiplier M,
 * output channel c * M + m of input channel c, Keras' DepthwiseConv order):
 * copy each tap row and zero the pad. */
void conv4j_dwconv_pack(const conv4j_problem *p, const float *kernel, float *packed_kernel)
{
    const int64_t channels = p->out_channels;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    for (int64_t tap = 0; tap < p->kernel_d * p->kernel_h * p->kernel_w; ++tap) {
        memcpy(packed_kernel + tap * padded, kernel + tap * channels,
               (size_t)channels * sizeof(float));
        memset(packed_kernel + tap * padded + channels, 0,
               (size_t)(padded - channels) * sizeof(float));
    }
}

size_t conv4j_dwconv_workspace_size(const conv4j_problem *p)
{
    if (p->out_channels == p->in_channels) {
        return 0;
    }
    return (size_t)(p->batch * p->in_d * p->in_h * p->in_w * p->out_channels) * sizeof(float);
}

/* Calls body(args, i / inner, i % inner) for i in [0, outer * inner). */
static void for_each_pair(const conv4j_dwconv_args *args, conv4j_dwconv_row_fn body,
                          int64_t outer, int64_t inner, int32_t threads)
{
    const int64_t count = outer * inner;
#ifdef _OPENMP
    /* threads == 1 never opens a parallel region (many JVM threads calling
     * with 1 must not each start an OpenMP team). */
    if (threads > 1 && count > 1) {
        const int team = (int)(threads < count ? threads : count);
#pragma omp parallel for num_threads(team) schedule(static)
        for (int64_t i = 0; i < count; ++i) {
            body(args, i / inner, i % inner);
        }
        return;
    }
#else
    (void)threads;
#endif
    for (int64_t i = 0; i < count; ++i) {
        body(args, i / inner, i % inner);
    }
}

void conv4j_dwconv_for_each_row(const conv4j_dwconv_args *args, conv4j_dwconv_row_fn row,
                                int32_t threads)
{
    for_each_pair(args, row, args->problem->batch, args->problem->out_h, threads);
}

void conv4j_dwconv_for_each_plane(const conv4j_dwconv_args *args, conv4j_dwconv_row_fn plane,
                                  int32_t threads)
{
    for_each_pair(args, plane, args->problem->batch, args->problem->in_channels, threads);
}

float conv4j_dwconv_pixel(const conv4j_dwconv_args *a, const float *plane, int64_t oh,
                          int64_t ow, int64_t c, int64_t kh_begin, int64_t kh_end)
{
    const conv4j_problem *p = a->problem;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    int64_t kw_begin;
    int64_t kw_end;
    conv4j_tap_range(ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w, p->in_w, &kw_begin,
                     &kw_end);
    const float *origin = plane + (oh * p->stride_h - p->pad_top) * p->in.h +
                          (ow * p->stride_w - p->pad_left) * p->in.w;
    float sum = 0.0f;
    for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
        const float *line = origin + kh * p->dilation_h * p->in.h;
        const float *w = a->packed_kernel + kh * p->kernel_w * padded + c;
        for (int64_t kw = kw_begin; kw < kw_end; ++kw) {
            sum += line[kw * p->dilation_w * p->in.w] * w[kw * padded];
        }
    }
    if (a->bias != NULL) {
        sum += a->bias[c];
    }
    return conv4j_activate(sum, p->activation);
}

void conv4j_dwconv_run_with(const conv4j_problem *p, conv4j_dwconv_row_fn row,
                            conv4j_dwconv_row_fn plane, const float *packed_kernel,
                            const float *bias, const float *input, float *output,
                            int32_t threads)
{
    const conv4j_dwconv_args args = {p, packed_kernel, bias, input, output};
    if (p->layout == CONV4J_LAYOUT_CHANNELS_LAST) {
        conv4j_dwconv_for_each_row(&args, row, threads);
    } else {
        conv4j_dwconv_for_each_plane(&args, plane, threads);
    }
}

/* y[c * M + m] = x[c]; inlined with M a constant where the caller has one. */
static inline void repeat_channels(const float *restrict x, float *restrict y, int64_t channels,
                                   int64_t multiplier)
{
    for (int64_t c = 0; c < channels; ++c) {
        for (int64_t m = 0; m < multiplier; ++m) {
            y[c * multiplier + m] = x[c];
        }
    }
}

/* Input channel c copied to channels c * M .. c * M + M - 1 for unit i of
 * the input: a pixel (channels_last) or a channel plane (channels_first). */
static void expand_unit(const conv4j_problem *p, const float *input, float *expanded, int64_t i)
{
    const int64_t multiplier = p->out_channels / p->in_channels;
    const int64_t pixels = p->in_d * p->in_h * p->in_w;
    if (p->layout == CONV4J_LAYOUT_CHANNELS_LAST) {
        const int64_t channels = p->in_channels;
        const float *x = input + i * channels;
        float *y = expanded + i * channels * multiplier;
        switch (multiplier) { /* constant M: unrolled, vectorized copies */
        case 2:
            repeat_channels(x, y, channels, 2);
            break;
        case 3:
            repeat_channels(x, y, channels, 3);
            break;
        case 4:
            repeat_channels(x, y, channels, 4);
            break;
        default:
            repeat_channels(x, y, channels, multiplier);
            break;
        }
        return;
    }
    for (int64_t m = 0; m < multiplier; ++m) {
        memcpy(expanded + (i * multiplier + m) * pixels, input + i * pixels,
               (size_t)pixels * sizeof(float));
    }
}

static void expand_input(const conv4j_problem *p, const float *input, float *expanded,
                         int32_t threads)
{
    const int64_t count = p->batch * (p->layout == CONV4J_LAYOUT_CHANNELS_LAST
                                          ? p->in_d * p->in_h * p->in_w
                                          : p->in_channels);
#ifdef _OPENMP
    if (threads > 1 && count > 1) {
        const int team = (int)(threads < count ? threads : count);
#pragma omp parallel for num_threads(team) schedule(static)
        for (int64_t i = 0; i < count; ++i) {
            expand_unit(p, input, expanded, i);
        }
        return;
    }
#else
    (void)threads;
#endif
    for (int64_t i = 0; i < count; ++i) {
        expand_unit(p, input, expanded, i);
    }
}

/* A flat problem through the pair, one with a depth axis (channels_last,
 * see reject) through volume per (n, od * Hout + oh). */
static void run_any(const conv4j_problem *p, const conv4j_dwconv_kernels *kernels,
                    const float *packed_kernel, const float *bias, const float *input,
                    float *output, int32_t threads)
{
    if (conv4j_problem_is_flat(p)) {
        conv4j_dwconv_run_with(p, kernels->row, kernels->plane, packed_kernel, bias, input, output,
                               threads);
        return;
    }
    const conv4j_dwconv_args args = {p, packed_kernel, bias, input, output};
    for_each_pair(&args, kernels->volume, p->batch, p->out_d * p->out_h, threads);
}

void conv4j_dwconv_run(const conv4j_problem *p, const conv4j_dwconv_kernels *kernels,
                       const float *packed_kernel, const float *bias, const float *input,
                       float *output, void *workspace, int32_t threads)
{
    if (p->out_channels == p->in_channels) {
        run_any(p, kernels, packed_kernel, bias, input, output, threads);
        return;
    }
    /* Multiplier M: the same convolution of the expanded input, whose
     * Cout channels each feed one output channel, is multiplier 1. */
    float *expanded = workspace;
    expand_input(p, input, expanded, threads);
    conv4j_problem e = *p;
    e.in_channels = p->out_channels;
    e.groups = p->out_channels;
    e.out_channels_per_group = 1;
    if (p->layout == CONV4J_LAYOUT_CHANNELS_LAST) {
        e.in.w = e.in_channels;
        e.in.h = p->in_w * e.in.w;
        e.in.d = p->in_h * e.in.h;
        e.in.n = p->in_d * e.in.d;
    } else {
        e.in.n = e.in_channels * e.in.c;
    }
    run_any(&e, kernels, packed_kernel, bias, expanded, output, threads);
}

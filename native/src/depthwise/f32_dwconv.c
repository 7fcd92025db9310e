/*
 * Depthwise convolution: the ISA-independent parts (acceptance, packing, the
 * row scheduler) and the scalar kernel. In channels_last the scalar kernel
 * accumulates a whole output pixel's channels in the output itself, tap by
 * tap, so its inner loop is a contiguous multiply-add over channels; in
 * channels_first it sums pixel by pixel.
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
    if (p->out_channels != p->in_channels) {
        return "channel multiplier > 1";
    }
    if (p->layout != CONV4J_LAYOUT_CHANNELS_LAST && p->stride_w != 1) {
        /* The plan's layout adapter still runs it here, in channels_last. */
        return "channels_first needs horizontal stride 1";
    }
    return NULL;
}

size_t conv4j_dwconv_packed_kernel_count(const conv4j_problem *p)
{
    return (size_t)(p->kernel_h * p->kernel_w * conv4j_dwconv_padded_channels(p));
}

/* Keras [KH][KW][1][C] is already [tap][C]: copy each tap row and zero the pad. */
void conv4j_dwconv_pack(const conv4j_problem *p, const float *kernel, float *packed_kernel)
{
    const int64_t channels = p->in_channels;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    for (int64_t tap = 0; tap < p->kernel_h * p->kernel_w; ++tap) {
        memcpy(packed_kernel + tap * padded, kernel + tap * channels,
               (size_t)channels * sizeof(float));
        memset(packed_kernel + tap * padded + channels, 0,
               (size_t)(padded - channels) * sizeof(float));
    }
}

size_t conv4j_dwconv_workspace_size(const conv4j_problem *problem)
{
    (void)problem;
    return 0;
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
    float sum = a->bias != NULL ? a->bias[c] : 0.0f;
    for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
        const float *line = origin + kh * p->dilation_h * p->in.h;
        const float *w = a->packed_kernel + kh * p->kernel_w * padded + c;
        for (int64_t kw = kw_begin; kw < kw_end; ++kw) {
            sum += line[kw * p->dilation_w * p->in.w] * w[kw * padded];
        }
    }
    return conv4j_activate(sum, p->activation);
}

/* channels_first: each channel's output row pixel by pixel. */
static void scalar_row_planar(const conv4j_dwconv_args *a, int64_t n, int64_t oh)
{
    const conv4j_problem *p = a->problem;
    int64_t kh_begin;
    int64_t kh_end;
    conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h, &kh_begin,
                     &kh_end);
    for (int64_t c = 0; c < p->in_channels; ++c) {
        const float *plane = a->input + n * p->in.n + c * p->in.c;
        float *y = a->output + n * p->out.n + c * p->out.c + oh * p->out.h;
        for (int64_t ow = 0; ow < p->out_w; ++ow) {
            y[ow] = conv4j_dwconv_pixel(a, plane, oh, ow, c, kh_begin, kh_end);
        }
    }
}

static void scalar_row(const conv4j_dwconv_args *a, int64_t n, int64_t oh)
{
    const conv4j_problem *p = a->problem;
    const int64_t channels = p->in_channels;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    int64_t kh_begin;
    int64_t kh_end;
    conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h, &kh_begin,
                     &kh_end);
    const float *image = a->input + n * p->in.n;
    float *out_row = a->output + n * p->out.n + oh * p->out.h;
    const int64_t ih0 = oh * p->stride_h - p->pad_top;
    for (int64_t ow = 0; ow < p->out_w; ++ow) {
        int64_t kw_begin;
        int64_t kw_end;
        conv4j_tap_range(ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w, p->in_w,
                         &kw_begin, &kw_end);
        const int64_t iw0 = ow * p->stride_w - p->pad_left;
        float *restrict out = out_row + ow * p->out.w;
        for (int64_t c = 0; c < channels; ++c) {
            out[c] = a->bias != NULL ? a->bias[c] : 0.0f;
        }
        for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
            const float *line = image + (ih0 + kh * p->dilation_h) * p->in.h;
            for (int64_t kw = kw_begin; kw < kw_end; ++kw) {
                const float *restrict x = line + (iw0 + kw * p->dilation_w) * p->in.w;
                const float *restrict w = a->packed_kernel + (kh * p->kernel_w + kw) * padded;
                for (int64_t c = 0; c < channels; ++c) {
                    out[c] += x[c] * w[c];
                }
            }
        }
        for (int64_t c = 0; c < channels; ++c) {
            out[c] = conv4j_activate(out[c], p->activation);
        }
    }
}

void conv4j_dwconv_run_scalar(const conv4j_problem *problem, const float *packed_kernel,
                              const float *bias, const float *input, float *output,
                              void *workspace, int32_t threads)
{
    (void)workspace;
    const conv4j_dwconv_args args = {problem, packed_kernel, bias, input, output};
    conv4j_dwconv_for_each_row(
        &args, problem->layout == CONV4J_LAYOUT_CHANNELS_LAST ? scalar_row : scalar_row_planar,
        threads);
}

/*
 * Depthwise convolution: the ISA-neutral parts (acceptance, packing, the
 * row and plane schedulers, the one-pixel helper, the driver). The ISA pairs
 * live in f32_dwconv__<isa>.c.
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
    if (!conv4j_problem_is_flat(p)) {
        return "rank 3";
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

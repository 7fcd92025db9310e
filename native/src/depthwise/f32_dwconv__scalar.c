/*
 * Depthwise convolution, the scalar pair (portable C, no ISA flags).
 *
 * This is the twin of f32_dwconv__avx512.c: the same packing ([KH*KW][Cpad]),
 * the same loop order over the taps and the same sum order per output: from
 * 0, the taps inside the input in (kh, kw) order, then the bias, then the
 * activation (relu keeps NaN). The two differ only in rounding: here a
 * multiply and an add, there one FMA per tap.
 *
 * channels_last accumulates a whole output pixel's channels in the output
 * itself, tap by tap, so the inner loop is a contiguous multiply-add over
 * channels; channels_first sums pixel by pixel (conv4j_dwconv_pixel).
 */
#include "depthwise/f32_dwconv.h"

void conv4j_dwconv_plane__scalar(const conv4j_dwconv_args *a, int64_t n, int64_t c)
{
    const conv4j_problem *p = a->problem;
    const float *plane = a->input + n * p->in.n + c * p->in.c;
    for (int64_t oh = 0; oh < p->out_h; ++oh) {
        int64_t kh_begin;
        int64_t kh_end;
        conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h,
                         &kh_begin, &kh_end);
        float *y = a->output + n * p->out.n + c * p->out.c + oh * p->out.h;
        for (int64_t ow = 0; ow < p->out_w; ++ow) {
            y[ow * p->out.w] = conv4j_dwconv_pixel(a, plane, oh, ow, c, kh_begin, kh_end);
        }
    }
}

void conv4j_dwconv_row__scalar(const conv4j_dwconv_args *a, int64_t n, int64_t oh)
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
            out[c] = 0.0f;
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
            const float sum = a->bias != NULL ? out[c] + a->bias[c] : out[c];
            out[c] = conv4j_activate(sum, p->activation);
        }
    }
}

/* The row loop over a depth axis, with this file's flags. */
#define CONV4J_DWCONV_VOLUME_SUFFIX scalar
#include "depthwise/f32_dwconv_volume_body.h"

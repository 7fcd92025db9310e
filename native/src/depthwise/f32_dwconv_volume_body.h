/*
 * The depthwise row loop for problems with a depth axis (rank 3), compiled
 * once per ISA: f32_dwconv__<isa>.c defines CONV4J_DWCONV_VOLUME_SUFFIX and
 * includes this file at its end, with that ISA's flags, which is what
 * vectorizes the channel loop (8 lanes with avx2, 16 with avx512, 4 with
 * neon; the scalar file's baseline flags otherwise).
 */
#include "depthwise/f32_dwconv.h"

#ifndef CONV4J_DWCONV_VOLUME_SUFFIX
#error "define CONV4J_DWCONV_VOLUME_SUFFIX (the ISA) before including f32_dwconv_volume_body.h"
#endif

#define CONV4J_DWCONV_VOLUME_JOIN2(name, suffix) name##__##suffix
#define CONV4J_DWCONV_VOLUME_JOIN(name, suffix) CONV4J_DWCONV_VOLUME_JOIN2(name, suffix)
#define CONV4J_DWCONV_VOLUME_FN(name) CONV4J_DWCONV_VOLUME_JOIN(name, CONV4J_DWCONV_VOLUME_SUFFIX)

/* The window of one output pixel: its first input element and tap ranges. */
typedef struct volume_window {
    const float *origin; /* input of tap (0, 0, 0), channel 0 (may lie in the padding) */
    int64_t kd_begin, kd_end, kh_begin, kh_end, kw_begin, kw_end;
} volume_window;

/* Channels [c0, c0 + width) of one output pixel, width <= 16: a constant 16
 * after inlining for whole blocks, so the sums stay in registers across the
 * taps; the channel tail passes its own width and reads nothing past it. */
static inline void volume_block(const conv4j_dwconv_args *a, const volume_window *v, float *out,
                                int64_t c0, const int64_t width)
{
    const conv4j_problem *p = a->problem;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    float sum[16];
    for (int64_t j = 0; j < width; ++j) {
        sum[j] = 0.0f;
    }
    for (int64_t kd = v->kd_begin; kd < v->kd_end; ++kd) {
        for (int64_t kh = v->kh_begin; kh < v->kh_end; ++kh) {
            const float *line =
                v->origin + kd * p->dilation_d * p->in.d + kh * p->dilation_h * p->in.h + c0;
            const float *taps =
                a->packed_kernel + (kd * p->kernel_h + kh) * p->kernel_w * padded + c0;
            for (int64_t kw = v->kw_begin; kw < v->kw_end; ++kw) {
                const float *x = line + kw * p->dilation_w * p->in.w;
                const float *w = taps + kw * padded;
                for (int64_t j = 0; j < width; ++j) {
                    sum[j] += x[j] * w[j];
                }
            }
        }
    }
    for (int64_t j = 0; j < width; ++j) {
        const float total = a->bias != NULL ? sum[j] + a->bias[c0 + j] : sum[j];
        out[c0 + j] = conv4j_activate(total, p->activation);
    }
}

/*
 * Output row (n, od, oh) of a channels_last problem with a depth axis, all
 * channels in blocks of 16, with the pairs' sum order (from 0, the taps
 * inside the input in (kd, kh, kw) order, then the bias, then the
 * activation). The block loops are left to the compiler, with the flags of
 * the file that includes this one.
 */
void CONV4J_DWCONV_VOLUME_FN(conv4j_dwconv_volume_row)(const conv4j_dwconv_args *a, int64_t n,
                                                       int64_t row)
{
    const conv4j_problem *p = a->problem;
    const int64_t channels = p->in_channels;
    const int64_t whole = channels / 16 * 16;
    const int64_t od = row / p->out_h;
    const int64_t oh = row % p->out_h;
    volume_window v;
    conv4j_tap_range(od, p->stride_d, p->pad_front, p->dilation_d, p->kernel_d, p->in_d,
                     &v.kd_begin, &v.kd_end);
    conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h, &v.kh_begin,
                     &v.kh_end);
    const float *slice = a->input + n * p->in.n + (od * p->stride_d - p->pad_front) * p->in.d +
                         (oh * p->stride_h - p->pad_top) * p->in.h;
    float *out_row = a->output + n * p->out.n + od * p->out.d + oh * p->out.h;
    for (int64_t ow = 0; ow < p->out_w; ++ow) {
        conv4j_tap_range(ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w, p->in_w,
                         &v.kw_begin, &v.kw_end);
        v.origin = slice + (ow * p->stride_w - p->pad_left) * p->in.w;
        float *out = out_row + ow * p->out.w;
        for (int64_t c0 = 0; c0 < whole; c0 += 16) {
            volume_block(a, &v, out, c0, 16);
        }
        if (whole < channels) {
            volume_block(a, &v, out, whole, channels - whole);
        }
    }
}

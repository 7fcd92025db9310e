/*
 * Depthwise convolution, NEON (AArch64 Advanced SIMD, baseline: no flags).
 * The AVX2 pair's structure on 4-channel vectors: the last partial vector of
 * channels goes through a 4-float bounce buffer (NEON has no masked loads),
 * so nothing past the caller's buffers is touched.
 *
 * 3x3 undilated with horizontal stride 1 or 2, on rows whose three taps are
 * all inside the input, runs a register-blocked span kernel: the nine weight
 * vectors of a channel block stay in registers while four adjacent output
 * pixels accumulate, so each input vector loaded serves up to three outputs
 * (9 weights + 4 accumulators + 6 inputs = 19 of the 32 q registers).
 * Everything else (borders, other kernel sizes, dilation) goes through a
 * per-pixel loop over the in-range taps. channels_first (stride 1)
 * vectorizes along the output row instead, 16 columns (four vectors) at a
 * time.
 *
 * Sum order per output, as in every depthwise pair: from 0, the taps inside
 * the input in (kh, kw) order (one FMLA each), then the bias, then relu.
 *
 * Exports conv4j_dwconv_row__neon (channels_last, per (n, oh)) and
 * conv4j_dwconv_plane__neon (channels_first, per (n, c)).
 */
#include <arm_neon.h>
#include <string.h>

#include "depthwise/f32_dwconv.h"

#define DW_INLINE static inline __attribute__((always_inline))

/* count >= 4: a whole vector; else the first count floats, zeros past them. */
DW_INLINE float32x4_t load(const float *x, int64_t count)
{
    if (count >= 4) {
        return vld1q_f32(x);
    }
    float lanes[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(lanes, x, (size_t)count * sizeof(float));
    return vld1q_f32(lanes);
}

DW_INLINE void store(float *y, float32x4_t v, int relu, int64_t count)
{
    /* v < 0 ? 0 : v: NaN compares false and passes, as in the reference. */
    if (relu) {
        v = vbslq_f32(vcltzq_f32(v), vdupq_n_f32(0.0f), v);
    }
    if (count >= 4) {
        vst1q_f32(y, v);
        return;
    }
    float lanes[4];
    vst1q_f32(lanes, v);
    memcpy(y, lanes, (size_t)count * sizeof(float));
}

DW_INLINE float32x4_t bias_vector(const float *bias, int64_t c, int64_t count)
{
    return bias != NULL ? load(bias + c, count) : vdupq_n_f32(0.0f);
}

/* Output pixel (n, oh, ow), all channels, over the taps inside the input. */
static void pixel_general(const conv4j_dwconv_args *a, const float *image, float *out, int64_t oh,
                          int64_t ow, int64_t kh_begin, int64_t kh_end)
{
    const conv4j_problem *p = a->problem;
    const int64_t channels = p->in_channels;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    const int relu = p->activation == CONV4J_ACTIVATION_RELU;
    int64_t kw_begin;
    int64_t kw_end;
    conv4j_tap_range(ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w, p->in_w, &kw_begin,
                     &kw_end);
    const float *origin = image + (oh * p->stride_h - p->pad_top) * p->in.h +
                          (ow * p->stride_w - p->pad_left) * p->in.w;
    for (int64_t c = 0; c < channels; c += 4) {
        const int64_t count = channels - c < 4 ? channels - c : 4;
        const float32x4_t bias = bias_vector(a->bias, c, count);
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
            const float *line = origin + kh * p->dilation_h * p->in.h + c;
            /* Packed weights are zero-padded to 16 channels: whole vectors. */
            const float *w = a->packed_kernel + kh * p->kernel_w * padded + c;
            for (int64_t kw = kw_begin; kw < kw_end; ++kw) {
                acc = vfmaq_f32(acc, load(line + kw * p->dilation_w * p->in.w, count),
                                vld1q_f32(w + kw * padded));
            }
        }
        store(out + c, vaddq_f32(acc, bias), relu, count);
    }
}

/*
 * Outputs [ow_begin, ow_end) of one row for the 4-channel block whose input
 * rows start at r0, r1, r2 (channel offset applied, input column 0). Every
 * tap of these outputs is inside the input. count: channels in the block.
 */
DW_INLINE void span_3x3(const float *r0, const float *r1, const float *r2, const float *w,
                        int64_t padded, float32x4_t bias, float *out, int64_t pixel_in,
                        int64_t pixel_out, int64_t ow_begin, int64_t ow_end, int64_t pad_left,
                        const int stride, int relu, int64_t count)
{
    const float32x4_t w00 = vld1q_f32(w + 0 * padded);
    const float32x4_t w01 = vld1q_f32(w + 1 * padded);
    const float32x4_t w02 = vld1q_f32(w + 2 * padded);
    const float32x4_t w10 = vld1q_f32(w + 3 * padded);
    const float32x4_t w11 = vld1q_f32(w + 4 * padded);
    const float32x4_t w12 = vld1q_f32(w + 5 * padded);
    const float32x4_t w20 = vld1q_f32(w + 6 * padded);
    const float32x4_t w21 = vld1q_f32(w + 7 * padded);
    const float32x4_t w22 = vld1q_f32(w + 8 * padded);
    int64_t ow = ow_begin;
    /* Four outputs at a time: input columns iw .. iw + 3 * stride + 2. */
    for (; ow + 4 <= ow_end; ow += 4) {
        const int64_t iw = (ow * stride - pad_left) * pixel_in;
        float32x4_t acc0 = vdupq_n_f32(0.0f);
        float32x4_t acc1 = vdupq_n_f32(0.0f);
        float32x4_t acc2 = vdupq_n_f32(0.0f);
        float32x4_t acc3 = vdupq_n_f32(0.0f);
#define DW_ROW_3X3(row, wa, wb, wc)                                                            \
    do {                                                                                       \
        const float *x = (row) + iw;                                                           \
        if (stride == 1) {                                                                     \
            const float32x4_t x0 = load(x + 0 * pixel_in, count);                              \
            const float32x4_t x1 = load(x + 1 * pixel_in, count);                              \
            const float32x4_t x2 = load(x + 2 * pixel_in, count);                              \
            const float32x4_t x3 = load(x + 3 * pixel_in, count);                              \
            const float32x4_t x4 = load(x + 4 * pixel_in, count);                              \
            const float32x4_t x5 = load(x + 5 * pixel_in, count);                              \
            acc0 = vfmaq_f32(acc0, x0, wa);                                                    \
            acc1 = vfmaq_f32(acc1, x1, wa);                                                    \
            acc2 = vfmaq_f32(acc2, x2, wa);                                                    \
            acc3 = vfmaq_f32(acc3, x3, wa);                                                    \
            acc0 = vfmaq_f32(acc0, x1, wb);                                                    \
            acc1 = vfmaq_f32(acc1, x2, wb);                                                    \
            acc2 = vfmaq_f32(acc2, x3, wb);                                                    \
            acc3 = vfmaq_f32(acc3, x4, wb);                                                    \
            acc0 = vfmaq_f32(acc0, x2, wc);                                                    \
            acc1 = vfmaq_f32(acc1, x3, wc);                                                    \
            acc2 = vfmaq_f32(acc2, x4, wc);                                                    \
            acc3 = vfmaq_f32(acc3, x5, wc);                                                    \
        } else {                                                                               \
            const float32x4_t x0 = load(x + 0 * pixel_in, count);                              \
            const float32x4_t x1 = load(x + 1 * pixel_in, count);                              \
            const float32x4_t x2 = load(x + 2 * pixel_in, count);                              \
            const float32x4_t x3 = load(x + 3 * pixel_in, count);                              \
            const float32x4_t x4 = load(x + 4 * pixel_in, count);                              \
            const float32x4_t x5 = load(x + 5 * pixel_in, count);                              \
            const float32x4_t x6 = load(x + 6 * pixel_in, count);                              \
            const float32x4_t x7 = load(x + 7 * pixel_in, count);                              \
            const float32x4_t x8 = load(x + 8 * pixel_in, count);                              \
            acc0 = vfmaq_f32(acc0, x0, wa);                                                    \
            acc1 = vfmaq_f32(acc1, x2, wa);                                                    \
            acc2 = vfmaq_f32(acc2, x4, wa);                                                    \
            acc3 = vfmaq_f32(acc3, x6, wa);                                                    \
            acc0 = vfmaq_f32(acc0, x1, wb);                                                    \
            acc1 = vfmaq_f32(acc1, x3, wb);                                                    \
            acc2 = vfmaq_f32(acc2, x5, wb);                                                    \
            acc3 = vfmaq_f32(acc3, x7, wb);                                                    \
            acc0 = vfmaq_f32(acc0, x2, wc);                                                    \
            acc1 = vfmaq_f32(acc1, x4, wc);                                                    \
            acc2 = vfmaq_f32(acc2, x6, wc);                                                    \
            acc3 = vfmaq_f32(acc3, x8, wc);                                                    \
        }                                                                                      \
    } while (0)
        DW_ROW_3X3(r0, w00, w01, w02);
        DW_ROW_3X3(r1, w10, w11, w12);
        DW_ROW_3X3(r2, w20, w21, w22);
#undef DW_ROW_3X3
        float *y = out + ow * pixel_out;
        store(y, vaddq_f32(acc0, bias), relu, count);
        store(y + pixel_out, vaddq_f32(acc1, bias), relu, count);
        store(y + 2 * pixel_out, vaddq_f32(acc2, bias), relu, count);
        store(y + 3 * pixel_out, vaddq_f32(acc3, bias), relu, count);
    }
    for (; ow < ow_end; ++ow) {
        const int64_t iw = (ow * stride - pad_left) * pixel_in;
        const float *x0 = r0 + iw;
        const float *x1 = r1 + iw;
        const float *x2 = r2 + iw;
        float32x4_t acc = vdupq_n_f32(0.0f);
        acc = vfmaq_f32(acc, load(x0, count), w00);
        acc = vfmaq_f32(acc, load(x0 + pixel_in, count), w01);
        acc = vfmaq_f32(acc, load(x0 + 2 * pixel_in, count), w02);
        acc = vfmaq_f32(acc, load(x1, count), w10);
        acc = vfmaq_f32(acc, load(x1 + pixel_in, count), w11);
        acc = vfmaq_f32(acc, load(x1 + 2 * pixel_in, count), w12);
        acc = vfmaq_f32(acc, load(x2, count), w20);
        acc = vfmaq_f32(acc, load(x2 + pixel_in, count), w21);
        acc = vfmaq_f32(acc, load(x2 + 2 * pixel_in, count), w22);
        store(out + ow * pixel_out, vaddq_f32(acc, bias), relu, count);
    }
}

/* Output columns whose kernel_w taps all fall inside the input: [*begin, *end). */
static void interior_columns(const conv4j_problem *p, int64_t *begin, int64_t *end)
{
    const int64_t span = (p->kernel_w - 1) * p->dilation_w;
    int64_t b = (p->pad_left + p->stride_w - 1) / p->stride_w;
    const int64_t last = p->in_w - 1 - span + p->pad_left; /* ow * stride <= last */
    int64_t e = last < 0 ? 0 : last / p->stride_w + 1;
    e = e < p->out_w ? e : p->out_w;
    b = b < e ? b : e;
    *begin = b;
    *end = e;
}

/* Output columns per block: 3 input rows of a block stay in L1 across channels. */
#define DW_COLUMN_BLOCK 32

static int span_3x3_applies(const conv4j_problem *p)
{
    return p->kernel_h == 3 && p->kernel_w == 3 && p->dilation_h == 1 && p->dilation_w == 1 &&
           (p->stride_w == 1 || p->stride_w == 2);
}

/* channels_last row (n, oh): the span kernel over the interior where it
 * applies, the per-pixel loop everywhere else. */
void conv4j_dwconv_row__neon(const conv4j_dwconv_args *a, int64_t n, int64_t oh)
{
    const conv4j_problem *p = a->problem;
    const float *image = a->input + n * p->in.n;
    float *out_row = a->output + n * p->out.n + oh * p->out.h;
    int64_t kh_begin;
    int64_t kh_end;
    conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h, &kh_begin,
                     &kh_end);
    int64_t col_begin;
    int64_t col_end;
    interior_columns(p, &col_begin, &col_end);
    if (!span_3x3_applies(p) || kh_begin != 0 || kh_end != 3) {
        col_begin = col_end = 0; /* all pixels take the general path */
    }
    for (int64_t ow = 0; ow < col_begin; ++ow) {
        pixel_general(a, image, out_row + ow * p->out.w, oh, ow, kh_begin, kh_end);
    }
    const int64_t channels = p->in_channels;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    const int relu = p->activation == CONV4J_ACTIVATION_RELU;
    const float *r0 = image + (oh * p->stride_h - p->pad_top) * p->in.h;
    for (int64_t block = col_begin; block < col_end; block += DW_COLUMN_BLOCK) {
        const int64_t block_end =
            block + DW_COLUMN_BLOCK < col_end ? block + DW_COLUMN_BLOCK : col_end;
        for (int64_t c = 0; c < channels; c += 4) {
            const int64_t count = channels - c < 4 ? channels - c : 4;
            const float32x4_t bias = bias_vector(a->bias, c, count);
            const float *x = r0 + c;
            const float *w = a->packed_kernel + c;
            float *y = out_row + c;
            /* Constant stride and count let the compiler specialize each call. */
            if (count == 4) {
                if (p->stride_w == 1) {
                    span_3x3(x, x + p->in.h, x + 2 * p->in.h, w, padded, bias, y, p->in.w,
                             p->out.w, block, block_end, p->pad_left, 1, relu, 4);
                } else {
                    span_3x3(x, x + p->in.h, x + 2 * p->in.h, w, padded, bias, y, p->in.w,
                             p->out.w, block, block_end, p->pad_left, 2, relu, 4);
                }
            } else {
                span_3x3(x, x + p->in.h, x + 2 * p->in.h, w, padded, bias, y, p->in.w, p->out.w,
                         block, block_end, p->pad_left, (int)p->stride_w, relu, count);
            }
        }
    }
    for (int64_t ow = col_end; ow < p->out_w; ++ow) {
        pixel_general(a, image, out_row + ow * p->out.w, oh, ow, kh_begin, kh_end);
    }
}

/*
 * channels_first, horizontal stride 1: channel c of image n, each output row
 * four columns per vector, each tap one unaligned load of the input row and
 * one FMLA with the broadcast weight; the last partial vector through the
 * bounce buffer, the border columns pixel by pixel.
 */
void conv4j_dwconv_plane__neon(const conv4j_dwconv_args *a, int64_t n, int64_t c)
{
    const conv4j_problem *p = a->problem;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    const int relu = p->activation == CONV4J_ACTIVATION_RELU;
    int64_t col_begin;
    int64_t col_end;
    interior_columns(p, &col_begin, &col_end);
    const float *plane = a->input + n * p->in.n + c * p->in.c;
    for (int64_t oh = 0; oh < p->out_h; ++oh) {
        int64_t kh_begin;
        int64_t kh_end;
        conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h,
                         &kh_begin, &kh_end);
        const int64_t ih0 = oh * p->stride_h - p->pad_top;
        float *y = a->output + n * p->out.n + c * p->out.c + oh * p->out.h;
        for (int64_t ow = 0; ow < col_begin; ++ow) {
            y[ow] = conv4j_dwconv_pixel(a, plane, oh, ow, c, kh_begin, kh_end);
        }
        const float32x4_t bias = vdupq_n_f32(a->bias != NULL ? a->bias[c] : 0.0f);
        int64_t ow = col_begin;
        /* Four vectors at a time: four independent FMLA chains hide the latency. */
        for (; ow + 16 <= col_end; ow += 16) {
            float32x4_t acc0 = vdupq_n_f32(0.0f);
            float32x4_t acc1 = vdupq_n_f32(0.0f);
            float32x4_t acc2 = vdupq_n_f32(0.0f);
            float32x4_t acc3 = vdupq_n_f32(0.0f);
            for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
                const float *x = plane + (ih0 + kh * p->dilation_h) * p->in.h + ow - p->pad_left;
                const float *w = a->packed_kernel + kh * p->kernel_w * padded + c;
                for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                    const float32x4_t weight = vld1q_dup_f32(w + kw * padded);
                    const float *xk = x + kw * p->dilation_w;
                    acc0 = vfmaq_f32(acc0, vld1q_f32(xk), weight);
                    acc1 = vfmaq_f32(acc1, vld1q_f32(xk + 4), weight);
                    acc2 = vfmaq_f32(acc2, vld1q_f32(xk + 8), weight);
                    acc3 = vfmaq_f32(acc3, vld1q_f32(xk + 12), weight);
                }
            }
            store(y + ow, vaddq_f32(acc0, bias), relu, 4);
            store(y + ow + 4, vaddq_f32(acc1, bias), relu, 4);
            store(y + ow + 8, vaddq_f32(acc2, bias), relu, 4);
            store(y + ow + 12, vaddq_f32(acc3, bias), relu, 4);
        }
        /* The last 1..15 columns, a vector at a time, the final one partial. */
        for (; ow < col_end; ow += 4) {
            const int64_t count = col_end - ow < 4 ? col_end - ow : 4;
            float32x4_t acc = vdupq_n_f32(0.0f);
            for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
                const float *x = plane + (ih0 + kh * p->dilation_h) * p->in.h + ow - p->pad_left;
                const float *w = a->packed_kernel + kh * p->kernel_w * padded + c;
                for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                    acc = vfmaq_f32(acc, load(x + kw * p->dilation_w, count),
                                    vld1q_dup_f32(w + kw * padded));
                }
            }
            store(y + ow, vaddq_f32(acc, bias), relu, count);
        }
        for (int64_t ow = col_end; ow < p->out_w; ++ow) {
            y[ow] = conv4j_dwconv_pixel(a, plane, oh, ow, c, kh_begin, kh_end);
        }
    }
}

/* The row loop over a depth axis, with this file's flags. */
#define CONV4J_DWCONV_VOLUME_SUFFIX neon
#include "depthwise/f32_dwconv_volume_body.h"

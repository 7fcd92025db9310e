/*
 * Depthwise convolution, AVX2 + FMA (this file alone gets -mavx2 -mfma).
 * Vectors run over 8 channels; the last partial vector uses masked loads and
 * stores, so nothing past the caller's buffers is touched.
 *
 * 3x3 undilated with horizontal stride 1 or 2, on rows whose three taps are
 * all inside the input, runs a register-blocked span kernel: the nine weight
 * vectors of a channel block stay in registers while four adjacent output
 * pixels accumulate, so each input vector loaded serves up to three outputs.
 * Everything else (borders, other kernel sizes, dilation) goes through a
 * per-pixel loop over the in-range taps, which reads weights from memory.
 * channels_first (stride 1) vectorizes along the output row instead.
 *
 * Sum order per output, as in every depthwise pair: from 0, the taps inside
 * the input in (kh, kw) order (one FMA each), then the bias, then relu.
 *
 * Exports the AVX2 pair conv4j_dwconv_row__avx2 (channels_last, per (n, oh))
 * and conv4j_dwconv_plane__avx2 (channels_first, per (n, c)); the driver is
 * conv4j_dwconv_run_with in f32_dwconv.c.
 */
#include <immintrin.h>

#include "depthwise/f32_dwconv.h"

#define DW_INLINE static inline __attribute__((always_inline))

/* mask_table + 8 - r: the first r lanes on. */
static const int32_t mask_table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

DW_INLINE __m256i tail_mask(int64_t remaining)
{
    return _mm256_loadu_si256((const __m256i *)(mask_table + 8 - remaining));
}

DW_INLINE __m256 load(const float *x, int masked, __m256i mask)
{
    return masked ? _mm256_maskload_ps(x, mask) : _mm256_loadu_ps(x);
}

DW_INLINE void store(float *y, __m256 v, int relu, int masked, __m256i mask)
{
    /* max(0, v) returns v when v is NaN: relu keeps NaN, as the reference does. */
    if (relu) {
        v = _mm256_max_ps(_mm256_setzero_ps(), v);
    }
    if (masked) {
        _mm256_maskstore_ps(y, mask, v);
    } else {
        _mm256_storeu_ps(y, v);
    }
}

DW_INLINE __m256 bias_vector(const float *bias, int64_t c, int masked, __m256i mask)
{
    return bias != NULL ? load(bias + c, masked, mask) : _mm256_setzero_ps();
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
    for (int64_t c = 0; c < channels; c += 8) {
        const int masked = channels - c < 8;
        const __m256i mask = masked ? tail_mask(channels - c) : _mm256_setzero_si256();
        const __m256 bias = bias_vector(a->bias, c, masked, mask);
        __m256 acc = _mm256_setzero_ps();
        for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
            const float *line = origin + kh * p->dilation_h * p->in.h + c;
            const float *w = a->packed_kernel + kh * p->kernel_w * padded + c;
            for (int64_t kw = kw_begin; kw < kw_end; ++kw) {
                acc = _mm256_fmadd_ps(load(line + kw * p->dilation_w * p->in.w, masked, mask),
                                      _mm256_loadu_ps(w + kw * padded), acc);
            }
        }
        store(out + c, _mm256_add_ps(acc, bias), relu, masked, mask);
    }
}

/*
 * Outputs [ow_begin, ow_end) of one row for the 8-channel block whose input
 * rows start at r0, r1, r2 (channel offset applied, input column 0). Every
 * tap of these outputs is inside the input.
 */
DW_INLINE void span_3x3(const float *r0, const float *r1, const float *r2, const float *w,
                        int64_t padded, __m256 bias, float *out, int64_t pixel_in,
                        int64_t pixel_out, int64_t ow_begin, int64_t ow_end, int64_t pad_left,
                        const int stride, int relu, int masked, __m256i mask)
{
    const __m256 w00 = _mm256_loadu_ps(w + 0 * padded);
    const __m256 w01 = _mm256_loadu_ps(w + 1 * padded);
    const __m256 w02 = _mm256_loadu_ps(w + 2 * padded);
    const __m256 w10 = _mm256_loadu_ps(w + 3 * padded);
    const __m256 w11 = _mm256_loadu_ps(w + 4 * padded);
    const __m256 w12 = _mm256_loadu_ps(w + 5 * padded);
    const __m256 w20 = _mm256_loadu_ps(w + 6 * padded);
    const __m256 w21 = _mm256_loadu_ps(w + 7 * padded);
    const __m256 w22 = _mm256_loadu_ps(w + 8 * padded);
    int64_t ow = ow_begin;
    /* Four outputs at a time: input columns iw .. iw + 3 * stride + 2. */
    for (; ow + 4 <= ow_end; ow += 4) {
        const int64_t iw = (ow * stride - pad_left) * pixel_in;
        __m256 acc0 = _mm256_setzero_ps();
        __m256 acc1 = _mm256_setzero_ps();
        __m256 acc2 = _mm256_setzero_ps();
        __m256 acc3 = _mm256_setzero_ps();
#define DW_ROW_3X3(row, wa, wb, wc)                                                            \
    do {                                                                                       \
        const float *x = (row) + iw;                                                           \
        if (stride == 1) {                                                                     \
            __m256 x0 = load(x + 0 * pixel_in, masked, mask);                                  \
            __m256 x1 = load(x + 1 * pixel_in, masked, mask);                                  \
            acc0 = _mm256_fmadd_ps(x0, wa, acc0);                                              \
            __m256 x2 = load(x + 2 * pixel_in, masked, mask);                                  \
            acc0 = _mm256_fmadd_ps(x1, wb, acc0);                                              \
            acc1 = _mm256_fmadd_ps(x1, wa, acc1);                                              \
            acc0 = _mm256_fmadd_ps(x2, wc, acc0);                                              \
            acc1 = _mm256_fmadd_ps(x2, wb, acc1);                                              \
            acc2 = _mm256_fmadd_ps(x2, wa, acc2);                                              \
            __m256 x3 = load(x + 3 * pixel_in, masked, mask);                                  \
            acc1 = _mm256_fmadd_ps(x3, wc, acc1);                                              \
            acc2 = _mm256_fmadd_ps(x3, wb, acc2);                                              \
            acc3 = _mm256_fmadd_ps(x3, wa, acc3);                                              \
            __m256 x4 = load(x + 4 * pixel_in, masked, mask);                                  \
            acc2 = _mm256_fmadd_ps(x4, wc, acc2);                                              \
            acc3 = _mm256_fmadd_ps(x4, wb, acc3);                                              \
            __m256 x5 = load(x + 5 * pixel_in, masked, mask);                                  \
            acc3 = _mm256_fmadd_ps(x5, wc, acc3);                                              \
        } else {                                                                               \
            __m256 x0 = load(x + 0 * pixel_in, masked, mask);                                  \
            __m256 x1 = load(x + 1 * pixel_in, masked, mask);                                  \
            __m256 x2 = load(x + 2 * pixel_in, masked, mask);                                  \
            acc0 = _mm256_fmadd_ps(x0, wa, acc0);                                              \
            acc0 = _mm256_fmadd_ps(x1, wb, acc0);                                              \
            acc0 = _mm256_fmadd_ps(x2, wc, acc0);                                              \
            acc1 = _mm256_fmadd_ps(x2, wa, acc1);                                              \
            x0 = load(x + 3 * pixel_in, masked, mask);                                         \
            x1 = load(x + 4 * pixel_in, masked, mask);                                         \
            acc1 = _mm256_fmadd_ps(x0, wb, acc1);                                              \
            acc1 = _mm256_fmadd_ps(x1, wc, acc1);                                              \
            acc2 = _mm256_fmadd_ps(x1, wa, acc2);                                              \
            x0 = load(x + 5 * pixel_in, masked, mask);                                         \
            x1 = load(x + 6 * pixel_in, masked, mask);                                         \
            acc2 = _mm256_fmadd_ps(x0, wb, acc2);                                              \
            acc2 = _mm256_fmadd_ps(x1, wc, acc2);                                              \
            acc3 = _mm256_fmadd_ps(x1, wa, acc3);                                              \
            x0 = load(x + 7 * pixel_in, masked, mask);                                         \
            x1 = load(x + 8 * pixel_in, masked, mask);                                         \
            acc3 = _mm256_fmadd_ps(x0, wb, acc3);                                              \
            acc3 = _mm256_fmadd_ps(x1, wc, acc3);                                              \
        }                                                                                      \
    } while (0)
        DW_ROW_3X3(r0, w00, w01, w02);
        DW_ROW_3X3(r1, w10, w11, w12);
        DW_ROW_3X3(r2, w20, w21, w22);
#undef DW_ROW_3X3
        float *y = out + ow * pixel_out;
        store(y, _mm256_add_ps(acc0, bias), relu, masked, mask);
        store(y + pixel_out, _mm256_add_ps(acc1, bias), relu, masked, mask);
        store(y + 2 * pixel_out, _mm256_add_ps(acc2, bias), relu, masked, mask);
        store(y + 3 * pixel_out, _mm256_add_ps(acc3, bias), relu, masked, mask);
    }
    for (; ow < ow_end; ++ow) {
        const int64_t iw = (ow * stride - pad_left) * pixel_in;
        const float *x0 = r0 + iw;
        const float *x1 = r1 + iw;
        const float *x2 = r2 + iw;
        __m256 acc = _mm256_setzero_ps();
        acc = _mm256_fmadd_ps(load(x0, masked, mask), w00, acc);
        acc = _mm256_fmadd_ps(load(x0 + pixel_in, masked, mask), w01, acc);
        acc = _mm256_fmadd_ps(load(x0 + 2 * pixel_in, masked, mask), w02, acc);
        acc = _mm256_fmadd_ps(load(x1, masked, mask), w10, acc);
        acc = _mm256_fmadd_ps(load(x1 + pixel_in, masked, mask), w11, acc);
        acc = _mm256_fmadd_ps(load(x1 + 2 * pixel_in, masked, mask), w12, acc);
        acc = _mm256_fmadd_ps(load(x2, masked, mask), w20, acc);
        acc = _mm256_fmadd_ps(load(x2 + pixel_in, masked, mask), w21, acc);
        acc = _mm256_fmadd_ps(load(x2 + 2 * pixel_in, masked, mask), w22, acc);
        store(out + ow * pixel_out, _mm256_add_ps(acc, bias), relu, masked, mask);
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

/* Whether the register-blocked span kernel serves this problem's interior. */
static int span_3x3_applies(const conv4j_problem *p)
{
    return p->kernel_h == 3 && p->kernel_w == 3 && p->dilation_h == 1 && p->dilation_w == 1 &&
           (p->stride_w == 1 || p->stride_w == 2);
}

/* channels_last row (n, oh): the span kernel over the interior where it
 * applies, the per-pixel loop everywhere else. */
void conv4j_dwconv_row__avx2(const conv4j_dwconv_args *a, int64_t n, int64_t oh)
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
        for (int64_t c = 0; c < channels; c += 8) {
            const int masked = channels - c < 8;
            const __m256i mask = masked ? tail_mask(channels - c) : _mm256_setzero_si256();
            const __m256 bias = bias_vector(a->bias, c, masked, mask);
            const float *x = r0 + c;
            const float *w = a->packed_kernel + c;
            float *y = out_row + c;
            /* Constant stride and mask flags let the compiler specialize each call. */
            if (p->stride_w == 1) {
                if (masked) {
                    span_3x3(x, x + p->in.h, x + 2 * p->in.h, w, padded, bias, y, p->in.w,
                             p->out.w, block, block_end, p->pad_left, 1, relu, 1, mask);
                } else {
                    span_3x3(x, x + p->in.h, x + 2 * p->in.h, w, padded, bias, y, p->in.w,
                             p->out.w, block, block_end, p->pad_left, 1, relu, 0, mask);
                }
            } else if (masked) {
                span_3x3(x, x + p->in.h, x + 2 * p->in.h, w, padded, bias, y, p->in.w, p->out.w,
                         block, block_end, p->pad_left, 2, relu, 1, mask);
            } else {
                span_3x3(x, x + p->in.h, x + 2 * p->in.h, w, padded, bias, y, p->in.w, p->out.w,
                         block, block_end, p->pad_left, 2, relu, 0, mask);
            }
        }
    }
    for (int64_t ow = col_end; ow < p->out_w; ++ow) {
        pixel_general(a, image, out_row + ow * p->out.w, oh, ow, kh_begin, kh_end);
    }
}

/*
 * channels_first, horizontal stride 1: channel c of image n, each output row
 * eight columns per vector, each tap one unaligned load of the input row and one
 * FMA with the broadcast weight; the last partial vector masked, the border
 * columns pixel by pixel.
 */
void conv4j_dwconv_plane__avx2(const conv4j_dwconv_args *a, int64_t n, int64_t c)
{
    const conv4j_problem *p = a->problem;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    const int relu = p->activation == CONV4J_ACTIVATION_RELU;
    int64_t col_begin;
    int64_t col_end;
    interior_columns(p, &col_begin, &col_end);
    const float *plane = a->input + n * p->in.n + c * p->in.c;
    /* Row after row of one channel: the kernel_h input rows in use stay in L1. */
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
        const __m256 bias = _mm256_set1_ps(a->bias != NULL ? a->bias[c] : 0.0f);
        int64_t ow = col_begin;
        /* Four vectors at a time: four independent FMA chains hide the latency. */
        for (; ow + 32 <= col_end; ow += 32) {
            __m256 acc0 = _mm256_setzero_ps();
            __m256 acc1 = _mm256_setzero_ps();
            __m256 acc2 = _mm256_setzero_ps();
            __m256 acc3 = _mm256_setzero_ps();
            for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
                const float *x = plane + (ih0 + kh * p->dilation_h) * p->in.h + ow - p->pad_left;
                const float *w = a->packed_kernel + kh * p->kernel_w * padded + c;
                for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                    const __m256 weight = _mm256_broadcast_ss(w + kw * padded);
                    const float *xk = x + kw * p->dilation_w;
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(xk), weight, acc0);
                    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(xk + 8), weight, acc1);
                    acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(xk + 16), weight, acc2);
                    acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(xk + 24), weight, acc3);
                }
            }
            store(y + ow, _mm256_add_ps(acc0, bias), relu, 0, _mm256_setzero_si256());
            store(y + ow + 8, _mm256_add_ps(acc1, bias), relu, 0, _mm256_setzero_si256());
            store(y + ow + 16, _mm256_add_ps(acc2, bias), relu, 0, _mm256_setzero_si256());
            store(y + ow + 24, _mm256_add_ps(acc3, bias), relu, 0, _mm256_setzero_si256());
        }
        /* The last 1..31 columns, a vector at a time, the final one masked. */
        for (; ow < col_end; ow += 8) {
            const int masked = col_end - ow < 8;
            const __m256i mask = masked ? tail_mask(col_end - ow) : _mm256_setzero_si256();
            __m256 acc = _mm256_setzero_ps();
            for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
                const float *x = plane + (ih0 + kh * p->dilation_h) * p->in.h + ow - p->pad_left;
                const float *w = a->packed_kernel + kh * p->kernel_w * padded + c;
                for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                    acc = _mm256_fmadd_ps(load(x + kw * p->dilation_w, masked, mask),
                                          _mm256_broadcast_ss(w + kw * padded), acc);
                }
            }
            store(y + ow, _mm256_add_ps(acc, bias), relu, masked, mask);
        }
        for (int64_t ow = col_end; ow < p->out_w; ++ow) {
            y[ow] = conv4j_dwconv_pixel(a, plane, oh, ow, c, kh_begin, kh_end);
        }
    }
}

/* The row loop over a depth axis, with this file's flags. */
#define CONV4J_DWCONV_VOLUME_SUFFIX avx2
#include "depthwise/f32_dwconv_volume_body.h"

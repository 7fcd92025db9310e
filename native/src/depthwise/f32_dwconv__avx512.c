/*
 * Depthwise convolution, AVX-512 F/VL/BW/DQ + FMA (this file alone gets the
 * -mavx512* flags; call it only when the CPU and OS support them).
 *
 * Exports the AVX-512 pair:
 *   conv4j_dwconv_row__avx512    channels_last, one output row (n, oh)
 *   conv4j_dwconv_plane__avx512  channels_first, one channel plane (n, c)
 * driven by conv4j_dwconv_run_with (f32_dwconv.c).
 *
 * Its twin is the scalar pair (f32_dwconv__scalar.c): the same packing
 * ([KH*KW][Cpad], Cpad = Cin rounded up to 16, so weight vectors are loaded
 * whole, never masked), the same loop over the taps and the same sum order
 * per output: from 0, the taps inside the input in (kh, kw) order, then the
 * bias, then relu (max(0, v) with v second: x86 max returns its second operand
 * when one is NaN, so NaN is kept as the reference keeps it). Here each tap is
 * one FMA, there a multiply and an add; that rounding is the only difference.
 * The AVX2 pair uses the same order and FMAs, so in channels_last the two
 * SIMD pairs agree bit for bit.
 *
 * Buffers are never read or written past their ends: channel tails
 * (channels_last) and row ends (channels_first) use opmask loads and stores,
 * and a masked-off lane never touches memory.
 *
 * channels_last: 16 channels per vector. 3x3 undilated with horizontal stride
 * 1 or 2, on rows whose three taps are all inside the input, keeps the nine
 * weight vectors of a channel block in registers while 8 adjacent outputs
 * accumulate (each input vector loaded feeds up to three of them). Borders,
 * other kernels and dilation take a per-pixel loop over the in-range taps.
 *
 * channels_first (horizontal stride 1): 16 output columns of a row per
 * vector, each tap an unaligned load of the input row and an FMA with the
 * broadcast weight, up to four vectors (FMA chains) per pass. Columns whose
 * taps are all inside the input run unmasked but for the row's last vector;
 * the border columns at both ends share passes whose per-tap lane masks
 * (lanes whose input column is padding keep their sum, as the reference skips
 * that tap) are computed once per plane, and a short row's interior joins
 * them. Borders too wide for that plan (kernel_w > 16, more than 8 vectors)
 * go 16 columns at a time with masks computed per tap.
 */
#include <immintrin.h>

#include "depthwise/f32_dwconv.h"

#define DW_INLINE static inline __attribute__((always_inline))
/* Full unrolling of the constant-trip loops below, so small arrays of vectors
 * become registers: GCC and Clang spell it differently. */
#if defined(__clang__)
#define DW_UNROLL _Pragma("unroll")
#else
#define DW_UNROLL _Pragma("GCC unroll 32")
#endif

/* The first count lanes, count in [0, 16]. */
DW_INLINE __mmask16 first_lanes(int64_t count)
{
    return (__mmask16)((1u << count) - 1u);
}

DW_INLINE __m512 load(const float *x, int masked, __mmask16 mask)
{
    return masked ? _mm512_maskz_loadu_ps(mask, x) : _mm512_loadu_ps(x);
}

/* acc + bias, relu, store. */
DW_INLINE void finish(float *y, __m512 acc, __m512 bias, int relu, int masked, __mmask16 mask)
{
    __m512 v = _mm512_add_ps(acc, bias);
    if (relu) {
        v = _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN in v: v */
    }
    if (masked) {
        _mm512_mask_storeu_ps(y, mask, v);
    } else {
        _mm512_storeu_ps(y, v);
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

/* ---------------------------------------------------------------- channels_last */

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
    for (int64_t c = 0; c < channels; c += 16) {
        const int masked = channels - c < 16;
        const __mmask16 mask = masked ? first_lanes(channels - c) : (__mmask16)0xffff;
        const __m512 bias =
            a->bias != NULL ? load(a->bias + c, masked, mask) : _mm512_setzero_ps();
        __m512 acc = _mm512_setzero_ps();
        for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
            const float *line = origin + kh * p->dilation_h * p->in.h + c;
            const float *w = a->packed_kernel + kh * p->kernel_w * padded + c;
            for (int64_t kw = kw_begin; kw < kw_end; ++kw) {
                acc = _mm512_fmadd_ps(load(line + kw * p->dilation_w * p->in.w, masked, mask),
                                      _mm512_loadu_ps(w + kw * padded), acc);
            }
        }
        finish(out + c, acc, bias, relu, masked, mask);
    }
}

/*
 * outs adjacent outputs of one 16-channel block: x0, x1, x2 point at input
 * rows 0, 1, 2 of the first output's first tap (channel offset applied), w
 * holds the nine weight vectors. Input columns are streamed left to right, row by row,
 * so every output sees its taps in (kh, kw) order. With constant outs and
 * stride the loops unroll completely and acc stays in registers.
 */
DW_INLINE void span_outputs(const float *x0, const float *x1, const float *x2, const __m512 *w,
                            __m512 bias, float *y, int64_t pixel_in, int64_t pixel_out,
                            const int stride, const int outs, int relu, int masked,
                            __mmask16 mask)
{
    __m512 acc[8];
DW_UNROLL
    for (int j = 0; j < outs; ++j) {
        acc[j] = _mm512_setzero_ps();
    }
    const float *rows[3] = {x0, x1, x2};
DW_UNROLL
    for (int kh = 0; kh < 3; ++kh) {
        const float *x = rows[kh];
DW_UNROLL
        for (int i = 0; i < (outs - 1) * stride + 3; ++i) {
            const __m512 xi = load(x, masked, mask);
            /* One add per column: left alone, GCC turns each of the up to 51
             * column addresses into its own induction variable and spills them.
             * (Not after the last column: no pointer past the row is formed.) */
            if (i + 1 < (outs - 1) * stride + 3) {
                x += pixel_in;
                __asm__("" : "+r"(x));
            }
DW_UNROLL
            for (int kw = 0; kw < 3; ++kw) {
                const int d = i - kw; /* = j * stride for the output j this tap feeds */
                if (d >= 0 && d % stride == 0 && d / stride < outs) {
                    acc[d / stride] = _mm512_fmadd_ps(xi, w[kh * 3 + kw], acc[d / stride]);
                }
            }
        }
    }
DW_UNROLL
    for (int j = 0; j < outs; ++j) {
        finish(y + j * pixel_out, acc[j], bias, relu, masked, mask);
    }
}

/* Outputs [ow_begin, ow_end) of one row for the 16-channel block whose input
 * rows start at r0, r1, r2 (channel offset applied, input column 0). Every
 * tap of these outputs is inside the input. */
DW_INLINE void span_3x3(const float *r0, const float *r1, const float *r2, const float *wp,
                        int64_t padded, __m512 bias, float *out, int64_t pixel_in,
                        int64_t pixel_out, int64_t ow_begin, int64_t ow_end, int64_t pad_left,
                        const int stride, int relu, int masked, __mmask16 mask)
{
    __m512 w[9];
DW_UNROLL
    for (int t = 0; t < 9; ++t) {
        w[t] = _mm512_loadu_ps(wp + t * padded);
    }
    int64_t ow = ow_begin;
    for (; ow + 8 <= ow_end; ow += 8) {
        const int64_t iw = (ow * stride - pad_left) * pixel_in;
        span_outputs(r0 + iw, r1 + iw, r2 + iw, w, bias, out + ow * pixel_out, pixel_in,
                     pixel_out, stride, 8, relu, masked, mask);
    }
    /* The last 1..7 outputs in one pass too: several chains in flight. */
    const int64_t iw = (ow * stride - pad_left) * pixel_in;
    float *y = out + ow * pixel_out;
    switch (ow_end - ow) {
#define DW_REST(k)                                                                               \
    case k:                                                                                      \
        span_outputs(r0 + iw, r1 + iw, r2 + iw, w, bias, y, pixel_in, pixel_out, stride, k, relu, \
                     masked, mask);                                                              \
        break
        DW_REST(1);
        DW_REST(2);
        DW_REST(3);
        DW_REST(4);
        DW_REST(5);
        DW_REST(6);
        DW_REST(7);
#undef DW_REST
    default:
        break;
    }
}

/* Output columns per block: 3 input rows of a block stay in L1 across channels. */
#define DW_COLUMN_BLOCK 32

static int span_3x3_applies(const conv4j_problem *p)
{
    return p->kernel_h == 3 && p->kernel_w == 3 && p->dilation_h == 1 && p->dilation_w == 1 &&
           (p->stride_w == 1 || p->stride_w == 2);
}

void conv4j_dwconv_row__avx512(const conv4j_dwconv_args *a, int64_t n, int64_t oh)
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
        for (int64_t c = 0; c < channels; c += 16) {
            const int masked = channels - c < 16;
            const __mmask16 mask = masked ? first_lanes(channels - c) : (__mmask16)0xffff;
            const __m512 bias =
                a->bias != NULL ? load(a->bias + c, masked, mask) : _mm512_setzero_ps();
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

/* --------------------------------------------------------------- channels_first */

/*
 * Output columns [begin, end) of one row, 16 at a time, any of whose taps
 * may fall in the padding: each tap gets the mask of the lanes whose input
 * column is inside the input, and the other lanes keep their sum (the tap is
 * skipped, not multiplied by zero, so a non-finite weight behaves as in the
 * reference). ih0 is the input row of tap kh = 0; only kh in
 * [kh_begin, kh_end) is read.
 */
static void plane_edge(const conv4j_problem *p, const float *plane, int64_t ih0, int64_t kh_begin,
                       int64_t kh_end, const float *w, int64_t padded, __m512 bias, float *y,
                       int64_t begin, int64_t end, int relu)
{
    for (int64_t ow = begin; ow < end; ow += 16) {
        const int64_t count = end - ow < 16 ? end - ow : 16;
        __m512 acc = _mm512_setzero_ps();
        for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
            const float *line = plane + (ih0 + kh * p->dilation_h) * p->in.h;
            const float *wk = w + kh * p->kernel_w * padded;
            for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                const int64_t iw = ow - p->pad_left + kw * p->dilation_w; /* lane 0's column */
                const int64_t lo = iw < 0 ? -iw : 0;
                int64_t hi = p->in_w - iw;
                hi = hi < count ? hi : count;
                if (hi <= lo) {
                    continue;
                }
                const __mmask16 taps = (__mmask16)(first_lanes(hi) & ~first_lanes(lo));
                /* Lanes before lo would read left of the row; they are masked
                 * off and never touch memory. */
                const __m512 x = _mm512_maskz_loadu_ps(taps, line + iw);
                acc = _mm512_mask3_fmadd_ps(x, _mm512_set1_ps(wk[kw * padded]), acc, taps);
            }
        }
        finish(y + ow, acc, bias, relu, count < 16, first_lanes(count));
    }
}

/*
 * Up to four 16-column vectors of a row that reach into the padding: vector v
 * at column start[v] with count[v] (1..16) lanes, and for every (v, kw) the
 * mask of the lanes whose input column is inside the row. None of this depends
 * on the row, so a plane computes its passes once.
 */
typedef struct border_pass {
    int vectors;
    int64_t start[4];
    int64_t count[4];
    __mmask16 taps[4][16];
} border_pass;

#define DW_MAX_BORDER_PASSES 2

/* Appends vector [start, start + count) to the passes; 0 when they are full. */
static int add_border_vector(const conv4j_problem *p, border_pass *passes, int *pass_count,
                             int64_t start, int64_t count)
{
    if (*pass_count == 0 || passes[*pass_count - 1].vectors == 4) {
        if (*pass_count == DW_MAX_BORDER_PASSES) {
            return 0;
        }
        passes[(*pass_count)++].vectors = 0;
    }
    border_pass *pass = &passes[*pass_count - 1];
    const int v = pass->vectors++;
    pass->start[v] = start;
    pass->count[v] = count;
    for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
        const int64_t iw = start - p->pad_left + kw * p->dilation_w; /* lane 0 */
        const int64_t lo = iw < 0 ? -iw : 0;
        int64_t hi = p->in_w - iw;
        hi = hi < count ? hi : count;
        pass->taps[v][kw] = hi > lo ? (__mmask16)(first_lanes(hi) & ~first_lanes(lo)) : 0;
    }
    return 1;
}

/*
 * The border columns [0, col_begin) and [col_end, out_w) of every row as at
 * most DW_MAX_BORDER_PASSES passes; when the interior is short, its vectors
 * join the last pass (more chains in flight, one pass fewer) and
 * *interior_from moves past them. 0 when the border does not fit (kernel_w >
 * 16 or too many vectors): then the caller takes plane_edge.
 */
static int plan_border(const conv4j_problem *p, int64_t col_begin, int64_t col_end,
                       border_pass *passes, int *pass_count, int64_t *interior_from)
{
    *pass_count = 0;
    *interior_from = col_begin;
    if (p->kernel_w > 16) {
        return 0;
    }
    for (int side = 0; side < 2; ++side) {
        const int64_t from = side == 0 ? 0 : col_end;
        const int64_t to = side == 0 ? col_begin : p->out_w;
        for (int64_t ow = from; ow < to; ow += 16) {
            if (!add_border_vector(p, passes, pass_count, ow, to - ow < 16 ? to - ow : 16)) {
                *pass_count = 0;
                return 0;
            }
        }
    }
    if (*pass_count > 0 &&
        passes[*pass_count - 1].vectors + (col_end - col_begin + 15) / 16 <= 4) {
        for (; *interior_from < col_end; *interior_from += 16) {
            const int64_t rest = col_end - *interior_from;
            add_border_vector(p, passes, pass_count, *interior_from, rest < 16 ? rest : 16);
        }
    }
    return 1;
}

/* One border pass over one row; vectors == pass->vectors (constant). */
DW_INLINE void plane_border(const conv4j_problem *p, const float *plane, int64_t ih0,
                            int64_t kh_begin, int64_t kh_end, const float *w, int64_t padded,
                            __m512 bias, float *y, const border_pass *pass, const int vectors,
                            int relu)
{
    __m512 acc[4];
DW_UNROLL
    for (int v = 0; v < vectors; ++v) {
        acc[v] = _mm512_setzero_ps();
    }
    for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
        const float *x = plane + (ih0 + kh * p->dilation_h) * p->in.h - p->pad_left;
        const float *wk = w + kh * p->kernel_w * padded;
        for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
            const __m512 weight = _mm512_set1_ps(wk[kw * padded]);
            const float *xk = x + kw * p->dilation_w;
DW_UNROLL
            for (int v = 0; v < vectors; ++v) {
                /* Lanes left or right of the row are masked off: no memory access. */
                const __mmask16 taps = pass->taps[v][kw];
                const __m512 xv = _mm512_maskz_loadu_ps(taps, xk + pass->start[v]);
                acc[v] = _mm512_mask3_fmadd_ps(xv, weight, acc[v], taps);
            }
        }
    }
DW_UNROLL
    for (int v = 0; v < vectors; ++v) {
        finish(y + pass->start[v], acc[v], bias, relu, pass->count[v] < 16,
               first_lanes(pass->count[v]));
    }
}

/*
 * vectors (1..4, constant) adjacent 16-column vectors of one row from column
 * ow, all of whose taps are inside the input; the last vector has last_lanes
 * (1..16) columns, masked when fewer than 16. One FMA chain per vector.
 */
DW_INLINE void plane_interior(const conv4j_problem *p, const float *plane, int64_t ih0,
                              int64_t kh_begin, int64_t kh_end, const float *w, int64_t padded,
                              __m512 bias, float *y, int64_t ow, const int vectors,
                              int64_t last_lanes, int relu)
{
    const int masked = last_lanes < 16;
    const __mmask16 mask = first_lanes(last_lanes);
    __m512 acc[4];
DW_UNROLL
    for (int v = 0; v < vectors; ++v) {
        acc[v] = _mm512_setzero_ps();
    }
    for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
        const float *x = plane + (ih0 + kh * p->dilation_h) * p->in.h + ow - p->pad_left;
        const float *wk = w + kh * p->kernel_w * padded;
        for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
            const __m512 weight = _mm512_set1_ps(wk[kw * padded]);
            const float *xk = x + kw * p->dilation_w;
DW_UNROLL
            for (int v = 0; v < vectors; ++v) {
                const int last = v == vectors - 1;
                acc[v] = _mm512_fmadd_ps(load(xk + 16 * v, last && masked, mask), weight, acc[v]);
            }
        }
    }
DW_UNROLL
    for (int v = 0; v < vectors; ++v) {
        const int last = v == vectors - 1;
        finish(y + ow + 16 * v, acc[v], bias, relu, last && masked, mask);
    }
}

void conv4j_dwconv_plane__avx512(const conv4j_dwconv_args *a, int64_t n, int64_t c)
{
    const conv4j_problem *p = a->problem;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    const int relu = p->activation == CONV4J_ACTIVATION_RELU;
    int64_t col_begin;
    int64_t col_end;
    interior_columns(p, &col_begin, &col_end);
    const float *plane = a->input + n * p->in.n + c * p->in.c;
    const float *w = a->packed_kernel + c;
    const __m512 bias = _mm512_set1_ps(a->bias != NULL ? a->bias[c] : 0.0f);
    border_pass passes[DW_MAX_BORDER_PASSES];
    int pass_count;
    int64_t interior_from;
    const int bordered = plan_border(p, col_begin, col_end, passes, &pass_count, &interior_from);
    /* Row after row of one channel: the kernel_h input rows in use stay in L1. */
    for (int64_t oh = 0; oh < p->out_h; ++oh) {
        int64_t kh_begin;
        int64_t kh_end;
        conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h,
                         &kh_begin, &kh_end);
        const int64_t ih0 = oh * p->stride_h - p->pad_top;
        float *y = a->output + n * p->out.n + c * p->out.c + oh * p->out.h;
        if (!bordered) {
            plane_edge(p, plane, ih0, kh_begin, kh_end, w, padded, bias, y, 0, col_begin, relu);
            plane_edge(p, plane, ih0, kh_begin, kh_end, w, padded, bias, y, col_end, p->out_w,
                       relu);
        }
        for (int k = 0; k < pass_count; ++k) {
            const border_pass *pass = &passes[k];
            switch (pass->vectors) {
#define DW_BORDER(k)                                                                              \
    case k:                                                                                       \
        plane_border(p, plane, ih0, kh_begin, kh_end, w, padded, bias, y, pass, k, relu);         \
        break
                DW_BORDER(1);
                DW_BORDER(2);
                DW_BORDER(3);
                DW_BORDER(4);
#undef DW_BORDER
            default:
                break;
            }
        }
        /* The interior: up to four vectors (four chains) at a time, the last one masked. */
        for (int64_t ow = interior_from; ow < col_end; ow += 64) {
            const int64_t span = col_end - ow < 64 ? col_end - ow : 64;
            const int64_t last = span - (span - 1) / 16 * 16; /* lanes of the last vector */
            switch ((span + 15) / 16) {
#define DW_GROUP(k)                                                                               \
    case k:                                                                                       \
        plane_interior(p, plane, ih0, kh_begin, kh_end, w, padded, bias, y, ow, k, last, relu);   \
        break
                DW_GROUP(1);
                DW_GROUP(2);
                DW_GROUP(3);
                DW_GROUP(4);
#undef DW_GROUP
            default:
                break;
            }
        }
    }
}

/* The row loop over a depth axis, with this file's flags. */
#define CONV4J_DWCONV_VOLUME_SUFFIX avx512
#include "depthwise/f32_dwconv_volume_body.h"

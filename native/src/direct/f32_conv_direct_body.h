/*
 * The direct convolution's loop (see f32_conv_direct.c), compiled once per
 * ISA: f32_conv_direct__<isa>.c defines CONV4J_DIRECT_SUFFIX and includes
 * this file with that ISA's flags, which is what vectorizes it.
 */
#include "direct/f32_conv_direct.h"

#ifndef CONV4J_DIRECT_SUFFIX
#error "define CONV4J_DIRECT_SUFFIX (the ISA) before including f32_conv_direct_body.h"
#endif

#define CONV4J_DIRECT_JOIN2(name, suffix) name##__##suffix
#define CONV4J_DIRECT_JOIN(name, suffix) CONV4J_DIRECT_JOIN2(name, suffix)
#define CONV4J_DIRECT_FN(name) CONV4J_DIRECT_JOIN(name, CONV4J_DIRECT_SUFFIX)

/* Pragmas only when OpenMP is on, so -Wunknown-pragmas stays quiet without it. */
#ifdef _OPENMP
#define CONV4J_DIRECT_PRAGMA(text) _Pragma(#text)
#else
#define CONV4J_DIRECT_PRAGMA(text)
#endif

/* One out-of-line copy of the row loop serves the serial and the parallel
 * path, so the result does not depend on the thread count. */
#if defined(__GNUC__)
#define CONV4J_DIRECT_NOINLINE __attribute__((noinline))
#else
#define CONV4J_DIRECT_NOINLINE
#endif

/* The simd reduction lets the compiler reorder the float sum into vector
 * lanes; the error bound the tests check holds for any order. */
static inline float dot_contiguous(const float *x, const float *w, int64_t length)
{
    float sum = 0.0f;
    CONV4J_DIRECT_PRAGMA(omp simd reduction(+ : sum))
    for (int64_t i = 0; i < length; ++i) {
        sum += x[i] * w[i];
    }
    return sum;
}

static inline float dot_strided(const float *x, int64_t x_stride, const float *w, int64_t length)
{
    float sum = 0.0f;
    for (int64_t i = 0; i < length; ++i) {
        sum += x[i * x_stride] * w[i];
    }
    return sum;
}

/* Output columns whose kernel_w taps all lie inside the input: [*begin, *end).
 * Two divisions per row instead of two per pixel. */
static inline void interior_columns(const conv4j_problem *p, int64_t *begin, int64_t *end)
{
    const int64_t last = p->in_w - 1 - (p->kernel_w - 1) * p->dilation_w + p->pad_left;
    int64_t e = last < 0 ? 0 : last / p->stride_w + 1;
    int64_t b = (p->pad_left + p->stride_w - 1) / p->stride_w;
    e = e < p->out_w ? e : p->out_w;
    *begin = b < e ? b : e;
    *end = e;
}

/* Output (ow, co) of one row over taps [kh_begin, kh_end) x [kw_begin, kw_end). */
static inline float direct_output(const conv4j_problem *p, const float *input_group,
                                  const float *weights, int64_t ih0, int64_t iw0,
                                  int64_t kh_begin, int64_t kh_end, int64_t kw_begin,
                                  int64_t kw_end)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t channel_stride = p->in.c;
    float sum = 0.0f;
    for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
        const float *input_line = input_group + (ih0 + kh * p->dilation_h) * p->in.h;
        const float *w = weights + kh * p->kernel_w * cin_per_group;
        for (int64_t kw = kw_begin; kw < kw_end; ++kw) {
            const float *x = input_line + (iw0 + kw * p->dilation_w) * p->in.w;
            if (cin_per_group == 1) { /* the tiny and depthwise shapes: no loop to set up */
                sum += x[0] * w[kw];
            } else if (channel_stride == 1) {
                sum += dot_contiguous(x, w + kw * cin_per_group, cin_per_group);
            } else {
                sum += dot_strided(x, channel_stride, w + kw * cin_per_group, cin_per_group);
            }
        }
    }
    return sum;
}

/* y[i] = activation(b + sum over taps of x[tap + i] * w[tap]) for i < width,
 * width a constant after inlining (8, 4, 1), so sums live in registers. */
static inline void unit_stride_block(const float *x, const float *w, int64_t rows,
                                     int64_t kernel_w, int64_t row_step, int64_t dilation_w,
                                     float b, float *y, const int width,
                                     conv4j_activation activation)
{
    float sum[8];
    for (int i = 0; i < width; ++i) {
        sum[i] = b;
    }
    for (int64_t kh = 0; kh < rows; ++kh) {
        for (int64_t kw = 0; kw < kernel_w; ++kw) {
            const float *xk = x + kh * row_step + kw * dilation_w;
            const float wk = w[kh * kernel_w + kw];
            for (int i = 0; i < width; ++i) {
                sum[i] += xk[i] * wk;
            }
        }
    }
    for (int i = 0; i < width; ++i) {
        y[i] = conv4j_activate(sum[i], activation);
    }
}

/*
 * Row (n, oh) when every group has one input channel (the tutorial's single
 * channel images, grouped and depthwise layers that the depthwise kernel does
 * not take): the sum over taps is a short scalar loop whose pointers advance
 * by constant strides, instead of a dot product of length 1 per tap.
 */
static void direct_row_one_input_channel(const conv4j_problem *p, const float *packed_kernel,
                                         const float *bias, const float *input, float *output,
                                         int64_t n, int64_t oh, int64_t kh_begin, int64_t kh_end,
                                         int64_t interior_begin, int64_t interior_end)
{
    const int64_t taps = p->kernel_h * p->kernel_w;
    const int64_t kernel_w = p->kernel_w;
    const int64_t tap_step = p->dilation_w * p->in.w;
    const int64_t row_step = p->dilation_h * p->in.h;
    const int64_t ih0 = oh * p->stride_h - p->pad_top;
    const float *input_image = input + n * p->in.n;
    float *output_row = output + n * p->out.n + oh * p->out.h;
    for (int64_t co = 0, group = 0, group_end = p->out_channels_per_group;
         co < p->out_channels; ++co) {
        if (co == group_end) {
            ++group;
            group_end += p->out_channels_per_group;
        }
        const float *input_group = input_image + group * p->in.c;
        const float *weights = packed_kernel + co * taps;
        const float b = bias != NULL ? bias[co] : 0.0f;
        float *out = output_row + co * p->out.c;
        if (p->out.w == 1 && p->in.w * p->stride_w == 1 && interior_end > interior_begin) {
            /* Unit-stride rows (channels_first, or one channel): the interior
             * in blocks of 8, 4 and 1 outputs whose sums stay in registers
             * across the taps, so the blocks' FMA chains overlap. */
            const float *x_row = input_group + (ih0 + kh_begin * p->dilation_h) * p->in.h -
                                 p->pad_left;
            const float *w_row = weights + kh_begin * kernel_w;
            const int64_t rows = kh_end - kh_begin;
            int64_t ow = interior_begin;
            for (; ow + 8 <= interior_end; ow += 8) {
                unit_stride_block(x_row + ow, w_row, rows, kernel_w, row_step, p->dilation_w, b,
                                  out + ow, 8, p->activation);
            }
            for (; ow + 4 <= interior_end; ow += 4) {
                unit_stride_block(x_row + ow, w_row, rows, kernel_w, row_step, p->dilation_w, b,
                                  out + ow, 4, p->activation);
            }
            for (; ow < interior_end; ++ow) {
                unit_stride_block(x_row + ow, w_row, rows, kernel_w, row_step, p->dilation_w, b,
                                  out + ow, 1, p->activation);
            }
        }
        for (int64_t ow = 0; ow < p->out_w; ++ow) {
            const int64_t iw0 = ow * p->stride_w - p->pad_left;
            float sum;
            if (ow >= interior_begin && ow < interior_end) {
                if (p->out.w == 1 && p->in.w * p->stride_w == 1) {
                    ow = interior_end - 1; /* done above */
                    continue;
                }
                const float *x_line = input_group + (ih0 + kh_begin * p->dilation_h) * p->in.h +
                                      iw0 * p->in.w;
                const float *w_line = weights + kh_begin * kernel_w;
                sum = 0.0f;
                for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
                    for (int64_t kw = 0; kw < kernel_w; ++kw) {
                        sum += x_line[kw * tap_step] * w_line[kw];
                    }
                    x_line += row_step;
                    w_line += kernel_w;
                }
            } else {
                int64_t kw_begin;
                int64_t kw_end;
                conv4j_tap_range(ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w,
                                 p->in_w, &kw_begin, &kw_end);
                sum = direct_output(p, input_group, weights, ih0, iw0, kh_begin, kh_end, kw_begin,
                                    kw_end);
            }
            out[ow * p->out.w] = conv4j_activate(bias != NULL ? sum + b : sum, p->activation);
        }
    }
}

/* All output elements of row (n, oh). */
static CONV4J_DIRECT_NOINLINE void direct_row(const conv4j_problem *p, const float *packed_kernel,
                                              const float *bias, const float *input,
                                              float *output, int64_t n, int64_t oh,
                                              int64_t interior_begin, int64_t interior_end)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t cout_per_group = p->out_channels_per_group;
    const int64_t taps = p->kernel_h * p->kernel_w;
    int64_t kh_begin;
    int64_t kh_end;
    conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h, &kh_begin,
                     &kh_end);
    if (cin_per_group == 1) {
        direct_row_one_input_channel(p, packed_kernel, bias, input, output, n, oh, kh_begin,
                                     kh_end, interior_begin, interior_end);
        return;
    }
    const float *input_image = input + n * p->in.n;
    float *output_row = output + n * p->out.n + oh * p->out.h;
    const int64_t ih0 = oh * p->stride_h - p->pad_top;

    for (int64_t ow = 0; ow < p->out_w; ++ow) {
        int64_t kw_begin = 0;
        int64_t kw_end = p->kernel_w;
        if (ow < interior_begin || ow >= interior_end) {
            conv4j_tap_range(ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w, p->in_w,
                             &kw_begin, &kw_end);
        }
        const int64_t iw0 = ow * p->stride_w - p->pad_left;
        float *out = output_row + ow * p->out.w;
        for (int64_t group = 0, co = 0; group < p->groups; ++group) {
            const float *input_group = input_image + group * cin_per_group * p->in.c;
            for (int64_t end = co + cout_per_group; co < end; ++co) {
                float sum = direct_output(p, input_group, packed_kernel + co * taps * cin_per_group,
                                          ih0, iw0, kh_begin, kh_end, kw_begin, kw_end);
                if (bias != NULL) {
                    sum += bias[co];
                }
                out[co * p->out.c] = conv4j_activate(sum, p->activation);
            }
        }
    }
}

void CONV4J_DIRECT_FN(conv4j_direct_run)(const conv4j_problem *p, const float *packed_kernel,
                                         const float *bias, const float *input, float *output,
                                         int32_t threads)
{
    int64_t interior_begin;
    int64_t interior_end;
    interior_columns(p, &interior_begin, &interior_end);
    const int64_t batch = p->batch;
    const int64_t out_h = p->out_h;
#ifdef _OPENMP
    /* threads == 1 never opens a parallel region: many JVM threads calling
     * with 1 must not each start an OpenMP team. */
    if (threads > 1 && batch * out_h > 1) {
        const int64_t rows = batch * out_h;
        const int team = (int)(threads < rows ? threads : rows);
#pragma omp parallel for collapse(2) num_threads(team) schedule(static)
        for (int64_t n = 0; n < batch; ++n) {
            for (int64_t oh = 0; oh < out_h; ++oh) {
                direct_row(p, packed_kernel, bias, input, output, n, oh, interior_begin,
                           interior_end);
            }
        }
        return;
    }
#else
    (void)threads;
#endif
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t oh = 0; oh < out_h; ++oh) {
            direct_row(p, packed_kernel, bias, input, output, n, oh, interior_begin,
                           interior_end);
        }
    }
}

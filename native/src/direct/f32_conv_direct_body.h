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

/* The depth taps [begin, end) of an output slice, and its first input slice
 * (tap 0's); ranks 1 and 2 have the one tap [0, 1) at slice 0. */
typedef struct depth_taps {
    int64_t begin, end, id0;
} depth_taps;

/* Output (ow, co) of one row over taps [depth.begin, depth.end) x
 * [kh_begin, kh_end) x [kw_begin, kw_end). */
static inline float direct_output(const conv4j_problem *p, const float *input_group,
                                  const float *weights, depth_taps depth, int64_t ih0,
                                  int64_t iw0, int64_t kh_begin, int64_t kh_end,
                                  int64_t kw_begin, int64_t kw_end)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t channel_stride = p->in.c;
    float sum = 0.0f;
    for (int64_t kd = depth.begin; kd < depth.end; ++kd) {
        const float *input_slice = input_group + (depth.id0 + kd * p->dilation_d) * p->in.d;
        const float *w_slice = weights + kd * p->kernel_h * p->kernel_w * cin_per_group;
        for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
            const float *input_line = input_slice + (ih0 + kh * p->dilation_h) * p->in.h;
            const float *w = w_slice + kh * p->kernel_w * cin_per_group;
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
    }
    return sum;
}

/* The taps of a unit-stride block: slices x rows x kernel_w, with the
 * input and weight steps between slices and rows. */
typedef struct block_taps {
    int64_t slices, slice_step, w_slice_step;
    int64_t rows, row_step;
    int64_t kernel_w, dilation_w;
} block_taps;

/* y[i] = activation(b + sum over taps of x[tap + i] * w[tap]) for i < width,
 * width a constant after inlining (8, 4, 1), so sums live in registers. */
static inline void unit_stride_block(const float *x, const float *w, const block_taps *t, float b,
                                     float *y, const int width, conv4j_activation activation)
{
    float sum[8];
    for (int i = 0; i < width; ++i) {
        sum[i] = b;
    }
    for (int64_t s = 0; s < t->slices; ++s) {
        const float *xs = x + s * t->slice_step;
        const float *ws = w + s * t->w_slice_step;
        for (int64_t kh = 0; kh < t->rows; ++kh) {
            for (int64_t kw = 0; kw < t->kernel_w; ++kw) {
                const float *xk = xs + kh * t->row_step + kw * t->dilation_w;
                const float wk = ws[kh * t->kernel_w + kw];
                for (int i = 0; i < width; ++i) {
                    sum[i] += xk[i] * wk;
                }
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
                                         int64_t n, int64_t od, int64_t oh, depth_taps depth,
                                         int64_t kh_begin, int64_t kh_end,
                                         int64_t interior_begin, int64_t interior_end)
{
    const int64_t plane_taps = p->kernel_h * p->kernel_w;
    const int64_t taps = p->kernel_d * plane_taps;
    const int64_t kernel_w = p->kernel_w;
    const int64_t tap_step = p->dilation_w * p->in.w;
    const int64_t row_step = p->dilation_h * p->in.h;
    const int64_t slice_step = p->dilation_d * p->in.d;
    const int64_t ih0 = oh * p->stride_h - p->pad_top;
    /* Offsets of the first live depth tap (kd = depth.begin). */
    const int64_t first_slice = (depth.id0 + depth.begin * p->dilation_d) * p->in.d;
    const int64_t first_w_slice = depth.begin * plane_taps;
    const block_taps block = {depth.end - depth.begin, slice_step, plane_taps,
                              kh_end - kh_begin, row_step, kernel_w, p->dilation_w};
    const float *input_image = input + n * p->in.n;
    float *output_row = output + n * p->out.n + od * p->out.d + oh * p->out.h;
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
            const float *x_row = input_group + first_slice +
                                 (ih0 + kh_begin * p->dilation_h) * p->in.h - p->pad_left;
            const float *w_row = weights + first_w_slice + kh_begin * kernel_w;
            int64_t ow = interior_begin;
            for (; ow + 8 <= interior_end; ow += 8) {
                unit_stride_block(x_row + ow, w_row, &block, b, out + ow, 8, p->activation);
            }
            for (; ow + 4 <= interior_end; ow += 4) {
                unit_stride_block(x_row + ow, w_row, &block, b, out + ow, 4, p->activation);
            }
            for (; ow < interior_end; ++ow) {
                unit_stride_block(x_row + ow, w_row, &block, b, out + ow, 1, p->activation);
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
                const float *x_slice = input_group + first_slice +
                                       (ih0 + kh_begin * p->dilation_h) * p->in.h + iw0 * p->in.w;
                const float *w_slice = weights + first_w_slice + kh_begin * kernel_w;
                sum = 0.0f;
                for (int64_t kd = depth.begin; kd < depth.end; ++kd) {
                    const float *x_line = x_slice;
                    const float *w_line = w_slice;
                    for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
                        for (int64_t kw = 0; kw < kernel_w; ++kw) {
                            sum += x_line[kw * tap_step] * w_line[kw];
                        }
                        x_line += row_step;
                        w_line += kernel_w;
                    }
                    x_slice += slice_step;
                    w_slice += plane_taps;
                }
            } else {
                int64_t kw_begin;
                int64_t kw_end;
                conv4j_tap_range(ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w,
                                 p->in_w, &kw_begin, &kw_end);
                sum = direct_output(p, input_group, weights, depth, ih0, iw0, kh_begin, kh_end,
                                    kw_begin, kw_end);
            }
            out[ow * p->out.w] = conv4j_activate(bias != NULL ? sum + b : sum, p->activation);
        }
    }
}

/* All output elements of row (n, od, oh). */
static CONV4J_DIRECT_NOINLINE void direct_row(const conv4j_problem *p, const float *packed_kernel,
                                              const float *bias, const float *input,
                                              float *output, int64_t n, int64_t od, int64_t oh,
                                              int64_t interior_begin, int64_t interior_end)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t cout_per_group = p->out_channels_per_group;
    const int64_t taps = p->kernel_d * p->kernel_h * p->kernel_w;
    depth_taps depth;
    depth.id0 = od * p->stride_d - p->pad_front;
    conv4j_tap_range(od, p->stride_d, p->pad_front, p->dilation_d, p->kernel_d, p->in_d,
                     &depth.begin, &depth.end);
    int64_t kh_begin;
    int64_t kh_end;
    conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h, &kh_begin,
                     &kh_end);
    if (cin_per_group == 1) {
        direct_row_one_input_channel(p, packed_kernel, bias, input, output, n, od, oh, depth,
                                     kh_begin, kh_end, interior_begin, interior_end);
        return;
    }
    const float *input_image = input + n * p->in.n;
    float *output_row = output + n * p->out.n + od * p->out.d + oh * p->out.h;
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
                                          depth, ih0, iw0, kh_begin, kh_end, kw_begin, kw_end);
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
    const int64_t rows = p->out_d * out_h; /* (od, oh) per image */
#ifdef _OPENMP
    /* threads == 1 never opens a parallel region: many JVM threads calling
     * with 1 must not each start an OpenMP team. */
    if (threads > 1 && batch * rows > 1) {
        const int team = (int)(threads < batch * rows ? threads : batch * rows);
#pragma omp parallel for collapse(2) num_threads(team) schedule(static)
        for (int64_t n = 0; n < batch; ++n) {
            for (int64_t r = 0; r < rows; ++r) {
                direct_row(p, packed_kernel, bias, input, output, n, r / out_h, r % out_h,
                           interior_begin, interior_end);
            }
        }
        return;
    }
#else
    (void)threads;
#endif
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t r = 0; r < rows; ++r) {
            direct_row(p, packed_kernel, bias, input, output, n, r / out_h, r % out_h,
                       interior_begin, interior_end);
        }
    }
}

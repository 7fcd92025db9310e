/*
 * The direct convolution: weights packed per output channel as
 * [Cout][KH][KW][Cin/g] so the reduction over input channels is contiguous
 * (and so is the input in channels_last), float accumulation, bias and
 * activation applied in the output write, OpenMP over output rows (n, oh).
 *
 * This body is compiled once per ISA: on its own with the _scalar suffix, and
 * through f32_conv_direct__avx2.c with the _avx2 suffix and AVX2 flags.
 */
#include "direct/f32_conv_direct.h"

#ifndef CONV4J_DIRECT_SUFFIX
#define CONV4J_DIRECT_SUFFIX scalar
#endif

#define CONV4J_DIRECT_JOIN2(name, suffix) name##_##suffix
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

const char *CONV4J_DIRECT_FN(conv4j_direct_reject)(const conv4j_problem *problem)
{
    (void)problem;
    return NULL;
}

size_t CONV4J_DIRECT_FN(conv4j_direct_packed_kernel_count)(const conv4j_problem *problem)
{
    return (size_t)conv4j_kernel_count(problem);
}

void CONV4J_DIRECT_FN(conv4j_direct_pack)(const conv4j_problem *p, const float *kernel,
                                          float *packed_kernel)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    for (int64_t co = 0; co < p->out_channels; ++co) {
        for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
            for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
                const int64_t tap = kh * p->kernel_w + kw;
                float *dst = packed_kernel + (co * p->kernel_h * p->kernel_w + tap) * cin_per_group;
                const float *src = kernel + tap * cin_per_group * p->out_channels + co;
                for (int64_t ci = 0; ci < cin_per_group; ++ci) {
                    dst[ci] = src[ci * p->out_channels];
                }
            }
        }
    }
}

size_t CONV4J_DIRECT_FN(conv4j_direct_workspace_size)(const conv4j_problem *problem)
{
    (void)problem;
    return 0;
}

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

/* All output elements of row (n, oh). */
static CONV4J_DIRECT_NOINLINE void direct_row(const conv4j_problem *p, const float *packed_kernel,
                                              const float *bias, const float *input,
                                              float *output, int64_t n, int64_t oh)
{
    const int64_t cin_per_group = p->in_channels_per_group;
    const int64_t cout_per_group = p->out_channels_per_group;
    const int64_t taps = p->kernel_h * p->kernel_w;
    const int64_t channel_stride = p->in.c;
    int64_t kh_begin;
    int64_t kh_end;
    conv4j_tap_range(oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h, &kh_begin,
                     &kh_end);
    const float *input_image = input + n * p->in.n;
    float *output_row = output + n * p->out.n + oh * p->out.h;

    for (int64_t ow = 0; ow < p->out_w; ++ow) {
        int64_t kw_begin;
        int64_t kw_end;
        conv4j_tap_range(ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w, p->in_w,
                         &kw_begin, &kw_end);
        const int64_t ih0 = oh * p->stride_h - p->pad_top;
        const int64_t iw0 = ow * p->stride_w - p->pad_left;
        for (int64_t co = 0; co < p->out_channels; ++co) {
            const int64_t group = co / cout_per_group;
            const float *input_group = input_image + group * cin_per_group * channel_stride;
            const float *weights = packed_kernel + co * taps * cin_per_group;
            float sum = 0.0f;
            for (int64_t kh = kh_begin; kh < kh_end; ++kh) {
                const float *input_line = input_group + (ih0 + kh * p->dilation_h) * p->in.h;
                for (int64_t kw = kw_begin; kw < kw_end; ++kw) {
                    const float *x = input_line + (iw0 + kw * p->dilation_w) * p->in.w;
                    const float *w = weights + (kh * p->kernel_w + kw) * cin_per_group;
                    sum += channel_stride == 1 ? dot_contiguous(x, w, cin_per_group)
                                               : dot_strided(x, channel_stride, w, cin_per_group);
                }
            }
            if (bias != NULL) {
                sum += bias[co];
            }
            output_row[ow * p->out.w + co * p->out.c] = conv4j_activate(sum, p->activation);
        }
    }
}

void CONV4J_DIRECT_FN(conv4j_direct_run)(const conv4j_problem *p, const float *packed_kernel,
                                         const float *bias, const float *input, float *output,
                                         void *workspace, int32_t threads)
{
    (void)workspace;
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
                direct_row(p, packed_kernel, bias, input, output, n, oh);
            }
        }
        return;
    }
#else
    (void)threads;
#endif
    for (int64_t n = 0; n < batch; ++n) {
        for (int64_t oh = 0; oh < out_h; ++oh) {
            direct_row(p, packed_kernel, bias, input, output, n, oh);
        }
    }
}

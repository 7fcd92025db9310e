/*
 * Depthwise convolution (groups == Cin == Cout, channel multiplier 1): every
 * output channel reads only its own input channel. In channels_last the
 * vector axis is the channel axis, contiguous in NHWC; in channels_first
 * (horizontal stride 1) it is the output row. Weights are packed
 * as [KH*KW][Cpad] with Cpad = Cin rounded up to 8 and zero-filled, so weight
 * vectors never need a mask.
 *
 * reject, pack, packed_kernel_count and workspace_size are shared by both
 * ISAs; run has a scalar and an AVX2 variant.
 */
#ifndef CONV4J_F32_DWCONV_H
#define CONV4J_F32_DWCONV_H

#include "internal.h"

/* Channels per packed weight row: Cin rounded up to the 8-float vector. */
static inline int64_t conv4j_dwconv_padded_channels(const conv4j_problem *p)
{
    return (p->in_channels + 7) / 8 * 8;
}

const char *conv4j_dwconv_reject(const conv4j_problem *problem);
size_t conv4j_dwconv_packed_kernel_count(const conv4j_problem *problem);
void conv4j_dwconv_pack(const conv4j_problem *problem, const float *kernel, float *packed_kernel);
size_t conv4j_dwconv_workspace_size(const conv4j_problem *problem);

/* Everything a row of output needs; rows are independent. */
typedef struct conv4j_dwconv_args {
    const conv4j_problem *problem;
    const float *packed_kernel;
    const float *bias; /* NULL for none */
    const float *input;
    float *output;
} conv4j_dwconv_args;

typedef void (*conv4j_dwconv_row_fn)(const conv4j_dwconv_args *args, int64_t n, int64_t oh);

/* One output element of channel c in either layout: plane points at channel
 * c of image n (input + n * in.n + c * in.c); bias, the taps inside the
 * input, activation. */
float conv4j_dwconv_pixel(const conv4j_dwconv_args *args, const float *plane, int64_t oh,
                          int64_t ow, int64_t c, int64_t kh_begin, int64_t kh_end);

/* Calls row for every (n, oh), over at most threads OpenMP threads (1: none). */
void conv4j_dwconv_for_each_row(const conv4j_dwconv_args *args, conv4j_dwconv_row_fn row,
                                int32_t threads);

/* Calls plane for every (n, c), over at most threads OpenMP threads. */
void conv4j_dwconv_for_each_plane(const conv4j_dwconv_args *args, conv4j_dwconv_row_fn plane,
                                  int32_t threads);

void conv4j_dwconv_run_scalar(const conv4j_problem *problem, const float *packed_kernel,
                              const float *bias, const float *input, float *output,
                              void *workspace, int32_t threads);
#ifdef CONV4J_HAVE_AVX2_KERNELS
void conv4j_dwconv_run_avx2(const conv4j_problem *problem, const float *packed_kernel,
                            const float *bias, const float *input, float *output, void *workspace,
                            int32_t threads);
#endif

#endif /* CONV4J_F32_DWCONV_H */

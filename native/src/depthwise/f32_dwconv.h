/*
 * Depthwise convolution (groups == Cin, Cout = Cin * M): every output
 * channel reads only its own input channel. The kernels see multiplier 1:
 * with M > 1 the driver first expands the input to Cout channels in the
 * workspace (input channel c to channels c * M .. c * M + M - 1, Keras'
 * DepthwiseConv order), a copy of the input's size times M, after which the
 * problem is depthwise with Cin = Cout. A rank-3 problem with a depth axis
 * (channels_last only) runs on a plain C row loop per (n, od, oh) with the
 * pairs' sum order, compiled per ISA (f32_dwconv_volume_body.h). In channels_last the
 * vector axis is the channel axis, contiguous in NHWC; in channels_first
 * (horizontal stride 1) it is the output row. Weights are packed
 * as [KD*KH*KW][Cpad] with Cpad = Cout rounded up to 16 (one zmm) and zero-filled,
 * for every ISA, so no weight vector of any ISA ever needs a mask.
 *
 * reject, pack, packed_kernel_count, workspace_size and the drivers are
 * ISA-neutral (f32_dwconv.c). Everything ISA-specific is a pair of
 * conv4j_dwconv_row_fn functions, one per layout, in f32_dwconv__<isa>.c:
 *   conv4j_dwconv_row__<isa>    channels_last, called per (n, oh)
 *   conv4j_dwconv_plane__<isa>  channels_first, called per (n, c)
 * and conv4j_dwconv_run_with runs a problem through such a pair.
 */
#ifndef CONV4J_F32_DWCONV_H
#define CONV4J_F32_DWCONV_H

#include "internal.h"

/* Channels per packed weight row: Cout rounded up to the widest vector (16
 * floats, one zmm); the narrower ISAs read only their own rounding of it. */
#define CONV4J_DWCONV_CHANNEL_ALIGN 16
static inline int64_t conv4j_dwconv_padded_channels(const conv4j_problem *p)
{
    return (p->out_channels + CONV4J_DWCONV_CHANNEL_ALIGN - 1) / CONV4J_DWCONV_CHANNEL_ALIGN *
           CONV4J_DWCONV_CHANNEL_ALIGN;
}

const char *conv4j_dwconv_reject(const conv4j_problem *problem);
size_t conv4j_dwconv_packed_kernel_count(const conv4j_problem *problem);
void conv4j_dwconv_pack(const conv4j_problem *problem, const float *kernel, float *packed_kernel);
/* The expanded input when Cout > Cin, 0 otherwise. */
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
 * c of image n (input + n * in.n + c * in.c). The sum order of every
 * depthwise kernel: from 0, the taps inside the input in (kh, kw) order,
 * then the bias, then the activation. */
float conv4j_dwconv_pixel(const conv4j_dwconv_args *args, const float *plane, int64_t oh,
                          int64_t ow, int64_t c, int64_t kh_begin, int64_t kh_end);

/* Calls row for every (n, oh), over at most threads OpenMP threads (1: none). */
void conv4j_dwconv_for_each_row(const conv4j_dwconv_args *args, conv4j_dwconv_row_fn row,
                                int32_t threads);

/* Calls plane for every (n, c), over at most threads OpenMP threads. */
void conv4j_dwconv_for_each_plane(const conv4j_dwconv_args *args, conv4j_dwconv_row_fn plane,
                                  int32_t threads);

/* Runs the problem through one ISA's pair: row (per (n, oh)) for
 * channels_last, plane (per (n, c)) for channels_first, over at most threads
 * OpenMP threads. This is what the per-ISA micro-kernel config calls. */
void conv4j_dwconv_run_with(const conv4j_problem *p, conv4j_dwconv_row_fn row,
                            conv4j_dwconv_row_fn plane, const float *packed_kernel,
                            const float *bias, const float *input, float *output,
                            int32_t threads);

/* One ISA's kernels: the pair and the row loop over a depth axis. */
typedef struct conv4j_dwconv_kernels {
    conv4j_dwconv_row_fn row;    /* channels_last, per (n, oh) */
    conv4j_dwconv_row_fn plane;  /* channels_first, per (n, c) */
    conv4j_dwconv_row_fn volume; /* rank 3 with depth, channels_last, per (n, od * Hout + oh) */
} conv4j_dwconv_kernels;

/* The algorithm: run_with for flat problems, the volume loop for the
 * others, after expanding the input when Cout > Cin (workspace of
 * conv4j_dwconv_workspace_size bytes). */
void conv4j_dwconv_run(const conv4j_problem *p, const conv4j_dwconv_kernels *kernels,
                       const float *packed_kernel, const float *bias, const float *input,
                       float *output, void *workspace, int32_t threads);

/* The ISA pairs. The scalar pair is the twin of the avx512 pair: same packing,
 * same loop order over the taps, same sum order (see conv4j_dwconv_pixel);
 * only the rounding differs (separate multiply and add vs FMA). */
void conv4j_dwconv_row__scalar(const conv4j_dwconv_args *args, int64_t n, int64_t oh);
void conv4j_dwconv_plane__scalar(const conv4j_dwconv_args *args, int64_t n, int64_t c);
void conv4j_dwconv_volume_row__scalar(const conv4j_dwconv_args *args, int64_t n, int64_t row);
#ifdef CONV4J_HAVE_AVX2_KERNELS
void conv4j_dwconv_row__avx2(const conv4j_dwconv_args *args, int64_t n, int64_t oh);
void conv4j_dwconv_plane__avx2(const conv4j_dwconv_args *args, int64_t n, int64_t c);
void conv4j_dwconv_volume_row__avx2(const conv4j_dwconv_args *args, int64_t n, int64_t row);
#endif
#ifdef CONV4J_HAVE_AVX512_KERNELS
void conv4j_dwconv_row__avx512(const conv4j_dwconv_args *args, int64_t n, int64_t oh);
void conv4j_dwconv_plane__avx512(const conv4j_dwconv_args *args, int64_t n, int64_t c);
void conv4j_dwconv_volume_row__avx512(const conv4j_dwconv_args *args, int64_t n, int64_t row);
#endif
#ifdef CONV4J_HAVE_NEON_KERNELS
void conv4j_dwconv_row__neon(const conv4j_dwconv_args *args, int64_t n, int64_t oh);
void conv4j_dwconv_plane__neon(const conv4j_dwconv_args *args, int64_t n, int64_t c);
void conv4j_dwconv_volume_row__neon(const conv4j_dwconv_args *args, int64_t n, int64_t row);
#endif

#endif /* CONV4J_F32_DWCONV_H */

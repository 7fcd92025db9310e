/*
 * Types shared by the conv4j sources; not installed, not part of the API.
 */
#ifndef CONV4J_INTERNAL_H
#define CONV4J_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "conv4j.h"

/* Element strides of a 4-D tensor, so one loop body indexes either layout. */
typedef struct conv4j_strides {
    int64_t n, c, h, w;
} conv4j_strides;

/*
 * A validated descriptor. Rank 1 is folded into 2-D: its index-0 values
 * move to the W axis and the H axis becomes H = KH = SH = DH = 1 with no
 * padding, so the kernels only ever see 2-D. int64 so that no index
 * arithmetic can overflow.
 */
typedef struct conv4j_problem {
    int32_t rank; /* as given, only for messages */
    conv4j_layout layout;
    conv4j_activation activation;
    conv4j_algorithm algorithm;
    conv4j_propagation propagation; /* the pass a plan runs; the geometry is the forward one */
    int32_t flags; /* CONV4J_FLAG_ bits */
    /* Set by plan_create when a weight is NaN or +-Inf: a kernel that multiplies
     * padding zeros by the weights would turn 0 * Inf into NaN where the
     * reference skips the tap, so such kernels reject these plans. */
    int32_t kernel_nonfinite;
    int64_t batch;
    int64_t in_h, in_w, in_channels;
    int64_t out_h, out_w, out_channels;
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;
    int64_t dilation_h, dilation_w;
    int64_t pad_top, pad_left, pad_bottom, pad_right;
    int64_t groups, in_channels_per_group, out_channels_per_group;
    conv4j_strides in, out;
} conv4j_problem;

/* Validates desc (see the check order in descriptor.c) and fills problem. */
conv4j_status conv4j_problem_init(const conv4j_conv_desc *desc, conv4j_problem *problem);

/* Number of float elements of the Keras kernel [KH][KW][Cin/g][Cout]. */
static inline int64_t conv4j_kernel_count(const conv4j_problem *p)
{
    return p->kernel_h * p->kernel_w * p->in_channels_per_group * p->out_channels;
}

/*
 * Kernel taps [*begin, *end) whose input index out*stride - pad + k*dilation
 * lies inside [0, in); begin >= end when every tap is in the padding.
 */
static inline void conv4j_tap_range(int64_t out, int64_t stride, int64_t pad, int64_t dilation,
                                    int64_t kernel, int64_t in, int64_t *begin, int64_t *end)
{
    const int64_t first = out * stride - pad; /* input index of tap 0 */
    if (first >= 0 && first + (kernel - 1) * dilation < in) {
        *begin = 0; /* every tap inside: skip the divisions (small calls feel them) */
        *end = kernel;
        return;
    }
    int64_t b = 0;
    int64_t e = 0;
    if (first < 0) {
        b = (-first + dilation - 1) / dilation;
    }
    if (first < in) {
        e = (in - first + dilation - 1) / dilation;
    }
    *begin = b < kernel ? b : kernel;
    *end = e < kernel ? e : kernel;
}

/* NaN passes through like TensorFlow's relu (a comparison is false for it). */
static inline float conv4j_activate(float value, conv4j_activation activation)
{
    if (activation == CONV4J_ACTIVATION_RELU && value < 0.0f) {
        return 0.0f;
    }
    return value;
}

typedef struct conv4j_isa_config conv4j_isa_config;

/*
 * One convolution algorithm. algorithm_table.c keeps them in the order AUTO
 * tries them; plan.c takes the first whose reject accepts. Every function
 * takes the ISA config the plan runs with: the algorithm itself is
 * ISA-neutral and gets its kernels, tile sizes and lane counts from there.
 */
typedef struct conv4j_algorithm_entry {
    const char *name; /* explain prints name_<config> */
    conv4j_algorithm algorithm;
    /* NULL to accept the problem, otherwise a short reason. */
    const char *(*reject)(const conv4j_problem *problem, const conv4j_isa_config *config);
    /* Floats of packed kernel; packing depends only on the kernel tensor
     * (rank, channels, kernel size, groups) and the config, never on the
     * batch or the spatial sizes, so one packing serves every input shape. */
    size_t (*packed_kernel_count)(const conv4j_problem *problem, const conv4j_isa_config *config);
    /* Keras kernel -> this algorithm's layout. */
    void (*pack)(const conv4j_problem *problem, const conv4j_isa_config *config,
                 const float *kernel, float *packed_kernel);
    /* Bytes of per-call scratch for up to `slices` threads; 0 when none. */
    size_t (*workspace_size)(const conv4j_problem *problem, const conv4j_isa_config *config,
                             int32_t slices);
    /* 1 <= threads <= the slices the workspace was sized for; bias may be
     * NULL; workspace is NULL when its size is 0. Forward: input x, output
     * y. Backward data: input dy, output dx (problem is still the forward
     * geometry). NULL for backward-weights rows. */
    void (*run)(const conv4j_problem *problem, const conv4j_isa_config *config,
                const float *packed_kernel, const float *bias, const float *input,
                float *output, void *workspace, int32_t threads);
    /* Backward-weights rows only (their pack functions are NULL: they use no
     * kernel): dw and, when not NULL, db from x and dy, bit-identical for
     * every thread count. */
    void (*run_weights)(const conv4j_problem *problem, const conv4j_isa_config *config,
                        const float *input, const float *output_gradient, float *kernel_gradient,
                        float *bias_gradient, void *workspace, int32_t threads);
    /* 1 when the packing also depends on the strides and dilations (the
     * backward-data phases): weights.c then keeps one per such geometry. */
    int packs_per_stride;
} conv4j_algorithm_entry;

/* The ordered forward table (algorithm_table.c). */
const conv4j_algorithm_entry *conv4j_algorithm_table(size_t *count);
/* The ordered table of a propagation (forward: the one above). */
const conv4j_algorithm_entry *conv4j_algorithm_table_for(conv4j_propagation propagation,
                                                         size_t *count);

#endif /* CONV4J_INTERNAL_H */

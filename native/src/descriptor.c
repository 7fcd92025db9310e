/*
 * Descriptor validation and normalization into a conv4j_problem.
 *
 * Checks run in a fixed order so that a descriptor with several faults always
 * reports the same status: null, rank, layout, activation, algorithm, flags,
 * propagation (and backward weights' activation), sizes,
 * kernel, stride, dilation, padding, groups, element-count overflow, empty
 * output. All arithmetic is int64: every input is an int32, so no product
 * below can overflow before it is compared.
 */
#include "internal.h"

#include <string.h>

/* Spatial values as (H, W); rank 1 uses index 0 as W and H = 1. */
typedef struct spatial_pair {
    int64_t h, w;
} spatial_pair;

static spatial_pair spatial(const int32_t values[2], int32_t rank, int64_t rank1_h)
{
    spatial_pair pair;
    if (rank == 1) {
        pair.h = rank1_h;
        pair.w = values[0];
    } else {
        pair.h = values[0];
        pair.w = values[1];
    }
    return pair;
}

static int pair_at_least(spatial_pair pair, int64_t minimum)
{
    return pair.h >= minimum && pair.w >= minimum;
}

/* Product of factors that are each in [0, INT32_MAX], or INT32_MAX + 1 once
 * it passes INT32_MAX, so the running product stays below 2^62. */
static int64_t capped_count(const int64_t *factors, int count)
{
    int64_t product = 1;
    for (int i = 0; i < count; ++i) {
        product *= factors[i];
        if (product > INT32_MAX) {
            return (int64_t)INT32_MAX + 1;
        }
    }
    return product;
}

/* Output length of one axis; <= 0 when the dilated kernel does not fit. */
static int64_t output_extent(int64_t in, int64_t pad_before, int64_t pad_after, int64_t kernel,
                             int64_t stride, int64_t dilation)
{
    const int64_t span = in + pad_before + pad_after - ((kernel - 1) * dilation + 1);
    if (span < 0) {
        return 0; /* avoids C's truncating division of a negative span */
    }
    return span / stride + 1;
}

static void set_strides(conv4j_strides *s, conv4j_layout layout, int64_t channels, int64_t h,
                        int64_t w)
{
    if (layout == CONV4J_LAYOUT_CHANNELS_LAST) {
        s->c = 1;
        s->w = channels;
        s->h = w * channels;
        s->n = h * w * channels;
    } else {
        s->w = 1;
        s->h = w;
        s->c = h * w;
        s->n = channels * h * w;
    }
}

conv4j_status conv4j_problem_init(const conv4j_conv_desc *desc, conv4j_problem *problem)
{
    if (desc == NULL || problem == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    const int32_t rank = desc->rank;
    if (rank != 1 && rank != 2) {
        return CONV4J_ERR_INVALID_RANK;
    }
    if (desc->layout != CONV4J_LAYOUT_CHANNELS_LAST &&
        desc->layout != CONV4J_LAYOUT_CHANNELS_FIRST) {
        return CONV4J_ERR_INVALID_LAYOUT;
    }
    if (desc->activation != CONV4J_ACTIVATION_NONE &&
        desc->activation != CONV4J_ACTIVATION_RELU) {
        return CONV4J_ERR_INVALID_ACTIVATION;
    }
    if (desc->algorithm < CONV4J_ALGORITHM_AUTO || desc->algorithm > CONV4J_ALGORITHM_DEPTHWISE) {
        return CONV4J_ERR_INVALID_ALGORITHM;
    }
    if ((desc->flags & ~CONV4J_FLAGS_ALL) != 0) {
        return CONV4J_ERR_INVALID_FLAGS;
    }
    if (desc->propagation < CONV4J_PROPAGATION_FORWARD ||
        desc->propagation > CONV4J_PROPAGATION_BACKWARD_WEIGHTS) {
        return CONV4J_ERR_INVALID_PROPAGATION;
    }
    if (desc->propagation == CONV4J_PROPAGATION_BACKWARD_WEIGHTS &&
        desc->activation != CONV4J_ACTIVATION_NONE) {
        return CONV4J_ERR_INVALID_ACTIVATION; /* dw has no activation: dy carries its derivative */
    }

    const spatial_pair in = spatial(desc->in_size, rank, 1);
    if (desc->batch < 1 || desc->in_channels < 1 || desc->out_channels < 1 ||
        !pair_at_least(in, 1)) {
        return CONV4J_ERR_INVALID_SIZE;
    }
    const spatial_pair kernel = spatial(desc->kernel, rank, 1);
    if (!pair_at_least(kernel, 1)) {
        return CONV4J_ERR_INVALID_KERNEL;
    }
    const spatial_pair stride = spatial(desc->stride, rank, 1);
    if (!pair_at_least(stride, 1)) {
        return CONV4J_ERR_INVALID_STRIDE;
    }
    const spatial_pair dilation = spatial(desc->dilation, rank, 1);
    if (!pair_at_least(dilation, 1)) {
        return CONV4J_ERR_INVALID_DILATION;
    }
    const spatial_pair pad_before = spatial(desc->pad_before, rank, 0);
    const spatial_pair pad_after = spatial(desc->pad_after, rank, 0);
    if (!pair_at_least(pad_before, 0) || !pair_at_least(pad_after, 0)) {
        return CONV4J_ERR_INVALID_PADDING;
    }
    if (desc->groups < 1 || desc->in_channels % desc->groups != 0 ||
        desc->out_channels % desc->groups != 0) {
        return CONV4J_ERR_INVALID_GROUPS;
    }

    const int64_t padded_h = in.h + pad_before.h + pad_after.h;
    const int64_t padded_w = in.w + pad_before.w + pad_after.w;
    const int64_t out_h =
        output_extent(in.h, pad_before.h, pad_after.h, kernel.h, stride.h, dilation.h);
    const int64_t out_w =
        output_extent(in.w, pad_before.w, pad_after.w, kernel.w, stride.w, dilation.w);
    const int64_t in_channels_per_group = desc->in_channels / desc->groups;
    /* Padded extents first: they are the only factors that can exceed
     * INT32_MAX, and capped_count needs factors <= INT32_MAX. */
    if (padded_h > INT32_MAX || padded_w > INT32_MAX) {
        return CONV4J_ERR_SIZE_OVERFLOW;
    }
    const int64_t input_factors[] = {desc->batch, in.h, in.w, desc->in_channels};
    const int64_t padded_factors[] = {desc->batch, padded_h, padded_w, desc->in_channels};
    const int64_t output_factors[] = {desc->batch, out_h, out_w, desc->out_channels};
    const int64_t kernel_factors[] = {kernel.h, kernel.w, in_channels_per_group,
                                      desc->out_channels};
    if (capped_count(input_factors, 4) > INT32_MAX || capped_count(padded_factors, 4) > INT32_MAX ||
        capped_count(output_factors, 4) > INT32_MAX ||
        capped_count(kernel_factors, 4) > INT32_MAX) {
        return CONV4J_ERR_SIZE_OVERFLOW;
    }
    if (out_h < 1 || out_w < 1) {
        return CONV4J_ERR_EMPTY_OUTPUT;
    }

    conv4j_problem p;
    memset(&p, 0, sizeof p);
    p.rank = rank;
    p.layout = (conv4j_layout)desc->layout;
    p.activation = (conv4j_activation)desc->activation;
    p.algorithm = (conv4j_algorithm)desc->algorithm;
    p.propagation = (conv4j_propagation)desc->propagation;
    p.flags = desc->flags;
    p.batch = desc->batch;
    p.in_h = in.h;
    p.in_w = in.w;
    p.in_channels = desc->in_channels;
    p.out_h = out_h;
    p.out_w = out_w;
    p.out_channels = desc->out_channels;
    p.kernel_h = kernel.h;
    p.kernel_w = kernel.w;
    p.stride_h = stride.h;
    p.stride_w = stride.w;
    p.dilation_h = dilation.h;
    p.dilation_w = dilation.w;
    p.pad_top = pad_before.h;
    p.pad_left = pad_before.w;
    p.pad_bottom = pad_after.h;
    p.pad_right = pad_after.w;
    p.groups = desc->groups;
    p.in_channels_per_group = in_channels_per_group;
    p.out_channels_per_group = desc->out_channels / desc->groups;
    set_strides(&p.in, p.layout, p.in_channels, p.in_h, p.in_w);
    set_strides(&p.out, p.layout, p.out_channels, p.out_h, p.out_w);
    *problem = p;
    return CONV4J_OK;
}

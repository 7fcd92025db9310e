/*
 * Backward weights of a depthwise convolution (groups == Cin, any channel
 * multiplier m), channels_last: dW[tap][c*m + j] = sum over output pixels of
 * x[input pixel of tap][c] * dy[pixel][c*m + j]. A GEMM per group would be
 * m x taps, too small for the micro-kernel; this loop streams dy and x once
 * per block of channels, vectorized over the channels (the block loop is
 * compiled per ISA: f32_dwconv_backward_body.h). Taps in the padding
 * are skipped, as in the reference. Work items are channel blocks and each
 * element is summed over the pixels in order, so the result does not depend
 * on the thread count.
 */
#include "depthwise/f32_dwconv.h"

#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static size_t slice_floats(const conv4j_problem *p)
{
    const int64_t multiplier = p->out_channels / p->in_channels;
    return (size_t)(p->kernel_d * p->kernel_h * p->kernel_w * CONV4J_DWCONV_BACKWARD_BLOCK *
                    multiplier);
}

const char *conv4j_dwconv_backward_weights_reject(const conv4j_problem *p)
{
    if (p->groups != p->in_channels || p->groups == 1) {
        return "not depthwise";
    }
    if (p->layout != CONV4J_LAYOUT_CHANNELS_LAST) {
        return "needs channels_last";
    }
    return NULL;
}

size_t conv4j_dwconv_backward_weights_workspace_size(const conv4j_problem *p, int32_t slices)
{
    return slice_floats(p) * sizeof(float) * (size_t)slices;
}

/* Channels per work item: the widest of 64, 32, 16 that still gives every
 * thread a block (a channel's sum does not depend on the block it is in). */
static int64_t block_channels(const conv4j_problem *p, int32_t threads)
{
    int64_t block = CONV4J_DWCONV_BACKWARD_BLOCK;
    while (block > 16 && (p->in_channels + block - 1) / block < threads) {
        block /= 2;
    }
    return block;
}

void conv4j_dwconv_backward_weights_run(const conv4j_problem *p,
                                        conv4j_dwconv_backward_block_fn block_gradient,
                                        const float *input, const float *output_gradient,
                                        float *kernel_gradient, float *bias_gradient,
                                        void *workspace, int32_t threads)
{
    const int64_t block = block_channels(p, threads);
    const int64_t blocks = (p->in_channels + block - 1) / block;
    float *slices = workspace;
    const size_t per_slice = slice_floats(p);
#ifdef _OPENMP
    if (threads > 1 && blocks > 1) {
        const int team = (int)(threads < blocks ? threads : blocks);
#pragma omp parallel num_threads(team)
        {
            float *acc = slices + per_slice * (size_t)omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
            for (int64_t b = 0; b < blocks; ++b) {
                const int64_t c0 = b * block;
                block_gradient(p, input, output_gradient, kernel_gradient, bias_gradient, c0,
                               p->in_channels - c0 < block ? p->in_channels - c0 : block, acc);
            }
        }
        return;
    }
#else
    (void)threads;
#endif
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * block;
        block_gradient(p, input, output_gradient, kernel_gradient, bias_gradient, c0,
                       p->in_channels - c0 < block ? p->in_channels - c0 : block, slices);
    }
}

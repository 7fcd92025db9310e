/*
 * The channels_first adapter (see layout_adapter.h). The transposes work in
 * square tiles small enough that a tile's source and destination lines stay
 * in L1, and split the tiles over the call's threads.
 */
#include "layout/layout_adapter.h"

#include "config/isa_config.h"
#include "layout/transpose.h"

#include <stdint.h>

#define LAYOUT_ALIGN 64
/* Tile edge in floats: 64 x 64 x 4 bytes = 16 KiB of source per tile, in L1. */
#define LAYOUT_TILE 64
/* Below this many floats a parallel region costs more than the copy. */
#define LAYOUT_PARALLEL_MIN 32768

void conv4j_layout_channels_last_problem(const conv4j_problem *p, conv4j_problem *cl)
{
    *cl = *p;
    cl->layout = CONV4J_LAYOUT_CHANNELS_LAST;
    cl->in.c = 1;
    cl->in.w = p->in_channels;
    cl->in.h = p->in_w * p->in_channels;
    cl->in.n = p->in_h * p->in_w * p->in_channels;
    cl->out.c = 1;
    cl->out.w = p->out_channels;
    cl->out.h = p->out_w * p->out_channels;
    cl->out.n = p->out_h * p->out_w * p->out_channels;
}

int conv4j_layout_input_is_shared(const conv4j_problem *p)
{
    return p->in_channels == 1 || p->in_h * p->in_w == 1;
}

int conv4j_layout_output_is_shared(const conv4j_problem *p)
{
    return p->out_channels == 1 || p->out_h * p->out_w == 1;
}

static void transpose_batch(const conv4j_isa_config *config, const float *src, float *dst,
                            int64_t count, int64_t rows, int64_t cols, int32_t threads);

static size_t align_up(size_t bytes)
{
    return (bytes + LAYOUT_ALIGN - 1) / LAYOUT_ALIGN * LAYOUT_ALIGN;
}

/* 64-byte-rounded bytes of the NHWC copy of each side (0 when shared). */
static size_t input_copy_bytes(const conv4j_problem *p)
{
    return conv4j_layout_input_is_shared(p)
               ? 0
               : align_up((size_t)(p->batch * p->in.n) * sizeof(float));
}

static size_t output_copy_bytes(const conv4j_problem *p)
{
    return conv4j_layout_output_is_shared(p)
               ? 0
               : align_up((size_t)(p->batch * p->out.n) * sizeof(float));
}

size_t conv4j_layout_workspace_size(const conv4j_problem *p, size_t kernel_workspace)
{
    /* Element counts are below 2^31 (descriptor.c), so only the sum of three
     * sizes can overflow, and only on a 32-bit size_t. */
    const size_t copies = input_copy_bytes(p) + output_copy_bytes(p);
    if (kernel_workspace > SIZE_MAX - LAYOUT_ALIGN - copies) {
        return 0;
    }
    return copies + align_up(kernel_workspace);
}

void *conv4j_layout_kernel_workspace(const conv4j_problem *p, void *workspace)
{
    if (workspace == NULL) { /* NULL + offset is undefined even when nothing is read */
        return NULL;
    }
    return (char *)workspace + input_copy_bytes(p) + output_copy_bytes(p);
}

/* dst[c][r] = src[r][c] for one rows x cols tile at (r0, c0). */
static void transpose_tile(const float *restrict src, float *restrict dst, int64_t rows,
                           int64_t cols, int64_t r0, int64_t c0, conv4j_transpose_tile_fn tile)
{
    const int64_t r1 = r0 + LAYOUT_TILE < rows ? r0 + LAYOUT_TILE : rows;
    const int64_t c1 = c0 + LAYOUT_TILE < cols ? c0 + LAYOUT_TILE : cols;
    tile(src, dst, rows, cols, r0, c0, r1, c1);
}

/* count matrices of rows x cols, cut into tiles numbered 0 .. tiles - 1. */
typedef struct transpose_job {
    const float *src;
    float *dst;
    int64_t rows, cols, row_tiles, col_tiles;
    conv4j_transpose_tile_fn tile; /* the config's */
} transpose_job;

static void transpose_tile_number(const transpose_job *job, int64_t t)
{
    const int64_t per_matrix = job->row_tiles * job->col_tiles;
    const int64_t offset = t / per_matrix * job->rows * job->cols;
    const int64_t within = t % per_matrix;
    transpose_tile(job->src + offset, job->dst + offset, job->rows, job->cols,
                   within / job->col_tiles * LAYOUT_TILE, within % job->col_tiles * LAYOUT_TILE,
                   job->tile);
}

void conv4j_layout_transpose(const conv4j_isa_config *config, const float *src, float *dst,
                             int64_t count, int64_t rows, int64_t cols, int32_t threads)
{
    transpose_batch(config, src, dst, count, rows, cols, threads);
}

/* For each of count matrices of rows x cols: dst = transpose(src). */
static void transpose_batch(const conv4j_isa_config *config, const float *src, float *dst,
                            int64_t count, int64_t rows, int64_t cols, int32_t threads)
{
    const transpose_job job = {src, dst, rows, cols, (rows + LAYOUT_TILE - 1) / LAYOUT_TILE,
                               (cols + LAYOUT_TILE - 1) / LAYOUT_TILE, config->transpose_tile};
    const int64_t tiles = count * job.row_tiles * job.col_tiles;
#ifdef _OPENMP
    if (threads > 1 && tiles > 1 && count * rows * cols >= LAYOUT_PARALLEL_MIN) {
        const int team = (int)(threads < tiles ? threads : tiles);
#pragma omp parallel for num_threads(team) schedule(static)
        for (int64_t t = 0; t < tiles; ++t) {
            transpose_tile_number(&job, t);
        }
        return;
    }
#else
    (void)threads;
#endif
    for (int64_t t = 0; t < tiles; ++t) {
        transpose_tile_number(&job, t);
    }
}

void conv4j_layout_run(const conv4j_problem *p, const conv4j_problem *cl,
                       const conv4j_algorithm_entry *algorithm, const conv4j_isa_config *config,
                       const float *packed_kernel, const float *bias, const float *input,
                       float *output, void *workspace, int32_t threads)
{
    /* The x-shaped copy first, then the y-shaped one; backward data reads
     * the y-shaped tensor (dy) and writes the x-shaped one (dx). */
    const int backward = p->propagation == CONV4J_PROPAGATION_BACKWARD_DATA;
    float *x_copy = conv4j_layout_input_is_shared(p) ? NULL : (float *)workspace;
    float *y_copy = conv4j_layout_output_is_shared(p)
                        ? NULL
                        : (float *)(void *)((char *)workspace + input_copy_bytes(p));
    /* Per image: [C][H*W] <-> [H*W][C]. */
    const int64_t x_pixels = p->in_h * p->in_w;
    const int64_t y_pixels = p->out_h * p->out_w;
    const float *nhwc_input = input;
    float *nhwc_output = output;
    float *read_copy = backward ? y_copy : x_copy;
    if (read_copy != NULL) {
        if (backward) {
            transpose_batch(config, input, read_copy, p->batch, p->out_channels, y_pixels, threads);
        } else {
            transpose_batch(config, input, read_copy, p->batch, p->in_channels, x_pixels, threads);
        }
        nhwc_input = read_copy;
    }
    float *write_copy = backward ? x_copy : y_copy;
    if (write_copy != NULL) {
        nhwc_output = write_copy;
    }
    algorithm->run(cl, config, packed_kernel, bias, nhwc_input, nhwc_output,
                   conv4j_layout_kernel_workspace(p, workspace), threads);
    if (nhwc_output != output) {
        if (backward) {
            transpose_batch(config, nhwc_output, output, p->batch, x_pixels, p->in_channels,
                            threads);
        } else {
            transpose_batch(config, nhwc_output, output, p->batch, y_pixels, p->out_channels,
                            threads);
        }
    }
}

void conv4j_layout_run_weights(const conv4j_problem *p, const conv4j_problem *cl,
                               const conv4j_algorithm_entry *algorithm,
                               const conv4j_isa_config *config, const float *input,
                               const float *output_gradient, float *kernel_gradient,
                               float *bias_gradient, void *workspace, int32_t threads)
{
    const float *x = input;
    const float *dy = output_gradient;
    if (!conv4j_layout_input_is_shared(p)) {
        float *copy = (float *)workspace;
        transpose_batch(config, input, copy, p->batch, p->in_channels, p->in_h * p->in_w, threads);
        x = copy;
    }
    if (!conv4j_layout_output_is_shared(p)) {
        float *copy = (float *)(void *)((char *)workspace + input_copy_bytes(p));
        transpose_batch(config, output_gradient, copy, p->batch, p->out_channels,
                        p->out_h * p->out_w, threads);
        dy = copy;
    }
    algorithm->run_weights(cl, config, x, dy, kernel_gradient, bias_gradient,
                           conv4j_layout_kernel_workspace(p, workspace), threads);
}

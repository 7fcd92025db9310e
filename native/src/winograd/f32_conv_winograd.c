/*
 * Winograd F(4x4, 3x3) (Lavin and Gray; interpolation points below):
 * a 6x6 input tile d gives a 4x4 output tile Y = A^T [(G g G^T) . (B^T d B)] A.
 * Summed over input channels, the elementwise product becomes 36 independent
 * GEMMs [tiles x Cin] . [Cin x Cout], one per position xi of the 6x6 tile.
 *
 * Plan time: the filter transform G g G^T in double, rounded once, each of
 * the 36 [Cin x Cout] matrices packed for the shared GEMM (gemm/f32_gemm.h).
 * Per call, per work item (a block of tiles numbered across the batch, and a
 * block of output channels when there are fewer tile blocks than threads):
 *   1. input transform of the block's tiles into V[36][tiles][Cin] (zeros
 *      for padding), 8 channels at a time;
 *   2. 36 GEMMs V[xi] . U[xi] -> M[xi][tiles][Cout block];
 *   3. output transform of M, + bias, relu, written to the output (tail tiles
 *      write only the rows and columns inside the output).
 * V and M of one item are sized to stay near L2 (or, for large weights, to
 * stream the weights fewer times) and live in the caller's per-thread
 * workspace slice. Items are independent, so the result does not
 * depend on the thread count or the blocking.
 *
 * This driver is compiled once; the transforms (f32_winograd_transform*.c)
 * and the tile GEMMs' micro-kernel come from the plan's ISA config, and so
 * do the GEMM tile (MR, NR) and the transforms' lane count.
 */
#include "winograd/f32_conv_winograd.h"

#include <string.h>

#include "config/isa_config.h"
#include "gemm/f32_gemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define TILE_OUT CONV4J_WINOGRAD_TILE_OUT
#define TILE_IN CONV4J_WINOGRAD_TILE_IN
#define POSITIONS CONV4J_WINOGRAD_POSITIONS
#define SLICE_ALIGN 64

/* Scratch per work item aims at this (V + M of one block, near L2 size)... */
#define BLOCK_BUDGET_BYTES (384 * 1024)
/* ...unless the transformed weights are so large that streaming them once per
 * block costs more than letting V and M spill to L3; never beyond this. */
#define BLOCK_LIMIT_BYTES (4 * 1024 * 1024)
/* At least this many tiles per block, so each GEMM row group is full and
 * each packed weight panel is used by several rows. */
#define MIN_BLOCK_TILES 6
#define MAX_BLOCK_TILES 96
/* Below this many tiles in a call, large transformed weights are refused. */
#define MIN_TILES_FOR_LARGE_WEIGHTS 8
#define LARGE_WEIGHT_BYTES (1024.0 * 1024.0)

static int64_t round_up(int64_t value, int64_t multiple)
{
    return (value + multiple - 1) / multiple * multiple;
}

static conv4j_winograd_layout layout_of(const conv4j_problem *p, const conv4j_isa_config *config)
{
    conv4j_winograd_layout l;
    const int64_t mr = config->gemm_mr;
    l.tiles_h = (p->out_h + TILE_OUT - 1) / TILE_OUT;
    l.tiles_w = (p->out_w + TILE_OUT - 1) / TILE_OUT;
    l.tiles = l.tiles_h * l.tiles_w;
    l.padded_cout = round_up(p->out_channels, config->gemm_nr);
    l.v_stride = round_up(p->in_channels, config->winograd_lanes);
    const int64_t bytes_per_tile =
        (int64_t)(POSITIONS * sizeof(float)) * (l.v_stride + l.padded_cout);
    const int64_t total = p->batch * l.tiles;
    int64_t fit = BLOCK_BUDGET_BYTES / bytes_per_tile;
    fit = fit < MIN_BLOCK_TILES ? MIN_BLOCK_TILES : fit;
    fit = fit > MAX_BLOCK_TILES ? MAX_BLOCK_TILES : fit;
    fit = fit < total ? fit : total;
    int64_t big = BLOCK_LIMIT_BYTES / bytes_per_tile;
    big = big < fit ? fit : big;
    big = big < total ? big : total;
    /* Memory traffic per tile beyond L2: the weights once per block (a
     * sequential stream), and V and M once they outgrow L2 (scattered writes
     * and reads, weighted 6x: measured on 28x28x128, where 2x chose badly). */
    const int64_t weight_bytes = (int64_t)(POSITIONS * sizeof(float)) * p->in_channels * l.padded_cout;
    const int64_t spill = 6 * bytes_per_tile;
    const int64_t cost_fit = (fit * bytes_per_tile > BLOCK_BUDGET_BYTES ? spill : 0) + weight_bytes / fit;
    const int64_t cost_big = (big * bytes_per_tile > BLOCK_BUDGET_BYTES ? spill : 0) + weight_bytes / big;
    l.max_block_tiles = cost_big < cost_fit ? big : fit;
    /* Whole GEMM row groups (a partial group costs nearly a full one): the
     * nearest multiple of MR, so the budget moves by at most MR / 2 tiles. */
    if (l.max_block_tiles < total) {
        l.max_block_tiles = round_up(l.max_block_tiles - (mr - 1) / 2, mr);
    }
    l.slice_bytes = (size_t)round_up(l.max_block_tiles * bytes_per_tile, SLICE_ALIGN);
    return l;
}

const char *conv4j_winograd_reject(const conv4j_problem *p, const conv4j_isa_config *config)
{
    (void)config;
    if (p->flags & CONV4J_FLAG_NO_WINOGRAD) {
        return "disabled by flag";
    }
    if (p->kernel_nonfinite) {
        return "non-finite weights (the transforms would spread NaN)";
    }
    if (p->rank == 3) {
        return "rank 3";
    }
    if (p->rank != 2 || p->kernel_h != 3 || p->kernel_w != 3) {
        return "needs a 3x3 Conv2D kernel";
    }
    if (p->stride_h != 1 || p->stride_w != 1 || p->dilation_h != 1 || p->dilation_w != 1) {
        return "needs stride 1 and dilation 1";
    }
    if (p->groups != 1) {
        return "needs groups == 1";
    }
    if (p->layout != CONV4J_LAYOUT_CHANNELS_LAST) {
        return "needs channels_last";
    }
    /* A pad of 3 or more gives outputs that see only padding: exactly 0 in a
     * direct sum, but rounding noise from the rest of the tile here. */
    if (p->pad_top > 2 || p->pad_left > 2 || p->pad_bottom > 2 || p->pad_right > 2) {
        return "needs pads <= 2";
    }
    if (p->in_channels < CONV4J_WINOGRAD_MIN_CHANNELS ||
        p->out_channels < CONV4J_WINOGRAD_MIN_CHANNELS) {
        return "needs >= 16 input and output channels";
    }
    /* Each GEMM flop per tile reads 2 bytes of the (4x larger than the
     * kernel) transformed weights: with few tiles and weights past the caches
     * the call waits on memory, and a GEMM over the plain weights is faster
     * (7x7x512, batch 1: 33 against 44 GFLOP/s). */
    const int64_t tiles = p->batch * ((p->out_h + TILE_OUT - 1) / TILE_OUT) *
                          ((p->out_w + TILE_OUT - 1) / TILE_OUT);
    if (tiles < MIN_TILES_FOR_LARGE_WEIGHTS &&
        (double)POSITIONS * sizeof(float) * (double)p->in_channels * (double)p->out_channels >
            LARGE_WEIGHT_BYTES) {
        return "too few 4x4 tiles for > 1 MiB of transformed weights";
    }
    return NULL;
}

size_t conv4j_winograd_packed_kernel_count(const conv4j_problem *p,
                                           const conv4j_isa_config *config)
{
    return POSITIONS *
           conv4j_f32_gemm_packed_b_count(p->in_channels, p->out_channels, config->gemm_nr);
}

void conv4j_winograd_pack(const conv4j_problem *p, const conv4j_isa_config *config,
                          const float *kernel, float *packed_kernel)
{
    const int64_t nr = config->gemm_nr;
    /* G for the points 0, -1, 1, 1/2, -2 and infinity. */
    static const double g[TILE_IN][3] = {
        {1.0, 0.0, 0.0},
        {-1.0 / 3, 1.0 / 3, -1.0 / 3},
        {1.0 / 3, 1.0 / 3, 1.0 / 3},
        {-16.0 / 15, -8.0 / 15, -4.0 / 15},
        {1.0 / 15, -2.0 / 15, 4.0 / 15},
        {0.0, 0.0, 1.0}};
    const int64_t cin = p->in_channels;
    const int64_t cout = p->out_channels;
    const size_t per_position = conv4j_f32_gemm_packed_b_count(cin, cout, nr);
    /* Position (5, 5) of G g G^T is tap (2, 2) itself, already a [Cin][Cout]
     * matrix in the Keras layout; it is packed last, so its slot serves as
     * the unpacked matrix of every other position first. */
    float *last = packed_kernel + (size_t)(POSITIONS - 1) * per_position;
    float *matrix = last;
    for (int xi = 0; xi < POSITIONS - 1; ++xi) {
        const int i = xi / TILE_IN;
        const int j = xi % TILE_IN;
        for (int64_t ci = 0; ci < cin; ++ci) {
            for (int64_t co = 0; co < cout; ++co) {
                double sum = 0.0;
                for (int kh = 0; kh < 3; ++kh) {
                    double row = 0.0;
                    for (int kw = 0; kw < 3; ++kw) {
                        row += g[j][kw] * kernel[((kh * 3 + kw) * cin + ci) * cout + co];
                    }
                    sum += g[i][kh] * row;
                }
                matrix[ci * cout + co] = (float)sum;
            }
        }
        conv4j_f32_gemm_pack_b(cin, cout, matrix, cout, nr,
                               packed_kernel + (size_t)xi * per_position);
    }
    conv4j_f32_gemm_pack_b(cin, cout, kernel + 8 * cin * cout, cout, nr, last);
}

size_t conv4j_winograd_workspace_size(const conv4j_problem *p, const conv4j_isa_config *config,
                                      int32_t slices)
{
    return layout_of(p, config).slice_bytes * (size_t)slices;
}

/* How the output is cut into independent work items. */
typedef struct winograd_split {
    int64_t block_tiles, blocks;       /* blocks of the batch's tiles */
    int64_t chunk_cout, chunks;        /* output channel blocks (multiples of NR) */
} winograd_split;

static winograd_split split_work(const conv4j_problem *p, const conv4j_isa_config *config,
                                  const conv4j_winograd_layout *l, int32_t team)
{
    const int64_t mr = config->gemm_mr;
    const int64_t nr = config->gemm_nr;
    winograd_split s;
    const int64_t total = p->batch * l->tiles;
    s.blocks = (total + l->max_block_tiles - 1) / l->max_block_tiles;
    /* Round the block count up to a multiple of the team so threads finish together. */
    while (team > 1 && s.blocks % team != 0 && s.blocks < total && s.blocks > team) {
        ++s.blocks;
    }
    s.block_tiles = (total + s.blocks - 1) / s.blocks;
    if (s.block_tiles < total) {
        s.block_tiles = round_up(s.block_tiles, mr);
        s.block_tiles = s.block_tiles < l->max_block_tiles ? s.block_tiles : l->max_block_tiles;
    }
    s.blocks = (total + s.block_tiles - 1) / s.block_tiles;
    /* Too few tiles for the team (small images, batch 1): split Cout too. The
     * input transform is then repeated per chunk, which is cheap next to the
     * GEMMs when Cout is large. */
    const int64_t panels = l->padded_cout / nr;
    int64_t chunks = 1;
    if (s.blocks < team) {
        chunks = (team + s.blocks - 1) / s.blocks;
        chunks = chunks < panels ? chunks : panels;
    }
    s.chunk_cout = (panels + chunks - 1) / chunks * nr;
    s.chunks = (l->padded_cout + s.chunk_cout - 1) / s.chunk_cout;
    return s;
}

/* Items are numbered chunk-major: with a static schedule a thread's items
 * share one output channel chunk, and so one slice of the weights. */
static void run_item(const conv4j_problem *p, const conv4j_isa_config *config,
                     const conv4j_winograd_layout *l, const winograd_split *s,
                     const float *packed_kernel, const float *bias, const float *input,
                     float *output, float *slice, int64_t item)
{
    const int64_t chunk = item / s->blocks;
    const int64_t block = item % s->blocks;
    const int64_t first_tile = block * s->block_tiles;
    const int64_t total = p->batch * l->tiles;
    const int64_t tiles = total - first_tile < s->block_tiles ? total - first_tile : s->block_tiles;
    const int64_t co_begin = chunk * s->chunk_cout;
    const int64_t padded_end =
        co_begin + s->chunk_cout < l->padded_cout ? co_begin + s->chunk_cout : l->padded_cout;
    const int64_t width = padded_end - co_begin;
    const int64_t co_end = padded_end < p->out_channels ? padded_end : p->out_channels;

    float *v = slice;
    float *m = slice + POSITIONS * tiles * l->v_stride;
    config->winograd_input(p, l, input, first_tile, tiles, v);

    const int64_t cin = p->in_channels;
    const size_t per_position =
        conv4j_f32_gemm_packed_b_count(cin, p->out_channels, config->gemm_nr);
    const conv4j_f32_gemm_epilogue plain = {NULL, 0, 0};
    for (int xi = 0; xi < POSITIONS; ++xi) {
        const float *u = packed_kernel + (size_t)xi * per_position + co_begin * cin;
        conv4j_f32_gemm_run(config->igemm, config->gemm_mr, tiles, width, cin,
                            v + xi * tiles * l->v_stride, l->v_stride, u, m + xi * tiles * width,
                            width, &plain);
    }
    config->winograd_output(p, l, m, width, bias, output, first_tile, tiles, co_begin, co_end);
}

void conv4j_winograd_run(const conv4j_problem *p, const conv4j_isa_config *config,
                         const float *packed_kernel, const float *bias, const float *input,
                         float *output, void *workspace, int32_t threads)
{
    const conv4j_winograd_layout l = layout_of(p, config);
    /* The plan caps threads at the workspace's slices. */
    const int32_t team = threads;
    const winograd_split s = split_work(p, config, &l, team);
    const int64_t items = s.blocks * s.chunks;
    char *base = workspace;
#ifdef _OPENMP
    /* threads == 1 never opens a parallel region: many JVM threads calling
     * with 1 must not each start an OpenMP team. */
    if (team > 1 && items > 1) {
        const int used = (int)(team < items ? team : items);
#pragma omp parallel num_threads(used)
        {
            float *slice = (float *)(base + (size_t)omp_get_thread_num() * l.slice_bytes);
            if (s.chunks > 1) {
                /* Cout split (few tiles, large weights): each thread keeps the
                 * same weight chunk on every call, so it stays in that core's
                 * caches instead of moving to the other core when a dynamic
                 * schedule hands the chunks out the other way round. */
#pragma omp for schedule(static)
                for (int64_t item = 0; item < items; ++item) {
                    run_item(p, config, &l, &s, packed_kernel, bias, input, output, slice, item);
                }
            } else {
#pragma omp for schedule(dynamic, 1)
                for (int64_t item = 0; item < items; ++item) {
                    run_item(p, config, &l, &s, packed_kernel, bias, input, output, slice, item);
                }
            }
        }
        return;
    }
#endif
    for (int64_t item = 0; item < items; ++item) {
        run_item(p, config, &l, &s, packed_kernel, bias, input, output, (float *)base, item);
    }
}

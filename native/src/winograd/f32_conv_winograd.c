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
 * This body is compiled once per ISA: on its own with the _scalar suffix, and
 * through f32_conv_winograd__avx2.c with the _avx2 suffix and AVX2 flags.
 */
#include "winograd/f32_conv_winograd.h"

#include <string.h>

#include "gemm/f32_gemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef CONV4J_WINOGRAD_SUFFIX
#define CONV4J_WINOGRAD_SUFFIX scalar
#endif

#define CONV4J_WINOGRAD_JOIN2(name, suffix) name##_##suffix
#define CONV4J_WINOGRAD_JOIN(name, suffix) CONV4J_WINOGRAD_JOIN2(name, suffix)
#define CONV4J_WINOGRAD_FN(name) CONV4J_WINOGRAD_JOIN(name, CONV4J_WINOGRAD_SUFFIX)

#define TILE_OUT 4    /* output tile edge m */
#define TILE_IN 6     /* input tile edge m + r - 1 */
#define POSITIONS 36  /* TILE_IN * TILE_IN GEMMs */
#define LANES 8       /* channels per transform vector */
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

/* ---- an 8-lane float vector: AVX2 registers, or plain arrays the compiler
 * may vectorize with the baseline ISA ---- */
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
typedef __m256 wvec;
static inline wvec wv_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void wv_store(float *p, wvec v) { _mm256_storeu_ps(p, v); }
static inline wvec wv_zero(void) { return _mm256_setzero_ps(); }
static inline wvec wv_add(wvec a, wvec b) { return _mm256_add_ps(a, b); }
static inline wvec wv_sub(wvec a, wvec b) { return _mm256_sub_ps(a, b); }
/* acc + s * x */
static inline wvec wv_madd(wvec acc, float s, wvec x)
{
    return _mm256_fmadd_ps(_mm256_set1_ps(s), x, acc);
}
/* max(0, x) keeps a NaN x, as conv4j_activate does. */
static inline wvec wv_relu(wvec x) { return _mm256_max_ps(_mm256_setzero_ps(), x); }
#else
typedef struct wvec {
    float lane[LANES];
} wvec;
static inline wvec wv_load(const float *p)
{
    wvec v;
    memcpy(v.lane, p, sizeof v.lane);
    return v;
}
static inline void wv_store(float *p, wvec v) { memcpy(p, v.lane, sizeof v.lane); }
static inline wvec wv_zero(void)
{
    wvec v;
    memset(&v, 0, sizeof v);
    return v;
}
static inline wvec wv_add(wvec a, wvec b)
{
    for (int i = 0; i < LANES; ++i) {
        a.lane[i] += b.lane[i];
    }
    return a;
}
static inline wvec wv_sub(wvec a, wvec b)
{
    for (int i = 0; i < LANES; ++i) {
        a.lane[i] -= b.lane[i];
    }
    return a;
}
static inline wvec wv_madd(wvec acc, float s, wvec x)
{
    for (int i = 0; i < LANES; ++i) {
        acc.lane[i] += s * x.lane[i];
    }
    return acc;
}
static inline wvec wv_relu(wvec x)
{
    for (int i = 0; i < LANES; ++i) {
        x.lane[i] = conv4j_activate(x.lane[i], CONV4J_ACTIVATION_RELU);
    }
    return x;
}
#endif

/* Up to LANES floats, zeros past count. */
static inline wvec wv_load_partial(const float *p, int64_t count)
{
    float lanes[LANES] = {0};
    memcpy(lanes, p, (size_t)count * sizeof(float));
    return wv_load(lanes);
}

static inline void wv_store_partial(float *p, wvec v, int64_t count)
{
    float lanes[LANES];
    wv_store(lanes, v);
    memcpy(p, lanes, (size_t)count * sizeof(float));
}

/*
 * The interpolation points 0, -1, 1, 1/2, -2 (and infinity): of the usual
 * choices the one with the smallest error (Barabasz et al., "Error analysis
 * and improving the accuracy of Winograd convolution", 2020); its worst
 * error measured here is ~3.5x below that of 0, +-1, +-2 at the same cost
 * (README, "Winograd accuracy").
 */

/* d -> B^T d for one column of six vectors (in place). */
static inline void input_transform_1d(wvec *d0, wvec *d1, wvec *d2, wvec *d3, wvec *d4, wvec *d5)
{
    const wvec e = wv_sub(*d4, *d2);
    const wvec f = wv_sub(*d3, *d1);
    const wvec r0 = wv_madd(wv_madd(wv_add(*d0, *d4), -1.5f, wv_sub(*d1, *d3)), -2.0f, *d2);
    const wvec r1 = wv_madd(wv_madd(wv_add(*d1, *d4), -2.5f, *d2), 0.5f, *d3);
    const wvec r2 = wv_madd(wv_madd(wv_sub(*d4, *d1), 0.5f, *d2), 2.5f, *d3);
    const wvec r3 = wv_madd(e, 2.0f, f);
    const wvec r4 = wv_madd(e, -0.5f, f);
    const wvec r5 = wv_madd(wv_madd(wv_add(*d1, *d5), -1.5f, wv_sub(*d2, *d4)), -2.0f, *d3);
    *d0 = r0;
    *d1 = r1;
    *d2 = r2;
    *d3 = r3;
    *d4 = r4;
    *d5 = r5;
}

/* m -> A^T m: six vectors in, four out. */
static inline void output_transform_1d(const wvec m[TILE_IN], wvec y[TILE_OUT])
{
    const wvec a = wv_add(m[2], m[1]);
    const wvec b = wv_sub(m[2], m[1]);
    y[0] = wv_add(wv_add(m[0], a), wv_add(m[3], m[4]));
    y[1] = wv_madd(wv_madd(b, 0.5f, m[3]), -2.0f, m[4]);
    y[2] = wv_madd(wv_madd(a, 0.25f, m[3]), 4.0f, m[4]);
    y[3] = wv_add(wv_madd(wv_madd(b, 0.125f, m[3]), -8.0f, m[4]), m[5]);
}

/* ---- geometry of one call ---- */
typedef struct winograd_layout {
    int64_t tiles_h, tiles_w, tiles;   /* tiles per image */
    int64_t padded_cout;               /* Cout rounded up to the GEMM's 16 columns */
    int64_t v_stride;                  /* floats per V row: Cin rounded up to LANES */
    int64_t max_block_tiles;           /* sizes a workspace slice */
    size_t slice_bytes;
} winograd_layout;

static int64_t round_up(int64_t value, int64_t multiple)
{
    return (value + multiple - 1) / multiple * multiple;
}

static winograd_layout layout_of(const conv4j_problem *p)
{
    winograd_layout l;
    l.tiles_h = (p->out_h + TILE_OUT - 1) / TILE_OUT;
    l.tiles_w = (p->out_w + TILE_OUT - 1) / TILE_OUT;
    l.tiles = l.tiles_h * l.tiles_w;
    l.padded_cout = round_up(p->out_channels, CONV4J_F32_GEMM_NR);
    l.v_stride = round_up(p->in_channels, LANES);
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
        l.max_block_tiles = round_up(l.max_block_tiles - (CONV4J_F32_GEMM_MR - 1) / 2,
                                     CONV4J_F32_GEMM_MR);
    }
    l.slice_bytes = (size_t)round_up(l.max_block_tiles * bytes_per_tile, SLICE_ALIGN);
    return l;
}

/* Workspace slices are sized for the threads at plan time; the count is kept
 * after the packed weights so run never uses more slices than exist. */
static size_t packed_weight_count(const conv4j_problem *p)
{
    return POSITIONS * conv4j_f32_gemm_packed_b_count(p->in_channels, p->out_channels);
}

static int32_t plan_slices(void)
{
    const int32_t threads = conv4j_max_threads();
    return threads > 0 ? threads : 1;
}

const char *CONV4J_WINOGRAD_FN(conv4j_winograd_reject)(const conv4j_problem *p)
{
    if (p->flags & CONV4J_FLAG_NO_WINOGRAD) {
        return "disabled by flag";
    }
    if (p->kernel_nonfinite) {
        return "non-finite weights (the transforms would spread NaN)";
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

size_t CONV4J_WINOGRAD_FN(conv4j_winograd_packed_kernel_count)(const conv4j_problem *p)
{
    return packed_weight_count(p) + 1;
}

void CONV4J_WINOGRAD_FN(conv4j_winograd_pack)(const conv4j_problem *p, const float *kernel,
                                              float *packed_kernel)
{
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
    const size_t per_position = conv4j_f32_gemm_packed_b_count(cin, cout);
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
        conv4j_f32_gemm_pack_b(cin, cout, matrix, cout, packed_kernel + (size_t)xi * per_position);
    }
    conv4j_f32_gemm_pack_b(cin, cout, kernel + 8 * cin * cout, cout, last);
    const int32_t slices = plan_slices();
    memcpy(packed_kernel + packed_weight_count(p), &slices, sizeof slices);
}

size_t CONV4J_WINOGRAD_FN(conv4j_winograd_workspace_size)(const conv4j_problem *p)
{
    return layout_of(p).slice_bytes * (size_t)plan_slices();
}

/* Pointers to the 6x6 input pixels of tile (ty, tx), NULL in the padding. */
static void tile_sources(const conv4j_problem *p, const float *image, int64_t ty, int64_t tx,
                         const float *sources[POSITIONS])
{
    const int64_t y0 = ty * TILE_OUT - p->pad_top;
    const int64_t x0 = tx * TILE_OUT - p->pad_left;
    for (int i = 0; i < TILE_IN; ++i) {
        const int64_t y = y0 + i;
        for (int j = 0; j < TILE_IN; ++j) {
            const int64_t x = x0 + j;
            const int outside = y < 0 || y >= p->in_h || x < 0 || x >= p->in_w;
            sources[i * TILE_IN + j] = outside ? NULL : image + y * p->in.h + x * p->in.w;
        }
    }
}

#ifndef PREFETCH_TILES
#define PREFETCH_TILES 2 /* how far ahead: one tile's transform is shorter than a miss */
#endif

/* Asks for the input rows of tile (n, ty, tx) ahead of its transform: the
 * transform reads 36 pixels a vector at a time, too scattered for the
 * hardware prefetcher, and otherwise waits on L2/L3 at every pixel. */
static void prefetch_tile(const conv4j_problem *p, const float *image, int64_t ty, int64_t tx)
{
#if defined(__GNUC__)
    const int64_t y0 = ty * TILE_OUT - p->pad_top;
    int64_t x0 = tx * TILE_OUT - p->pad_left;
    int64_t x1 = x0 + TILE_IN;
    x0 = x0 < 0 ? 0 : x0;
    x1 = x1 > p->in_w ? p->in_w : x1;
    if (x1 <= x0) {
        return;
    }
    const int64_t bytes = (x1 - x0) * p->in.w * (int64_t)sizeof(float);
    for (int i = 0; i < TILE_IN; ++i) {
        const int64_t y = y0 + i;
        if (y < 0 || y >= p->in_h) {
            continue;
        }
        const char *row = (const char *)(image + y * p->in.h + x0 * p->in.w);
        for (int64_t offset = 0; offset < bytes; offset += 64) {
            __builtin_prefetch(row + offset);
        }
    }
#else
    (void)p;
    (void)image;
    (void)ty;
    (void)tx;
#endif
}

/* Input transform of one tile, channels [c, c + LANES), into V: column
 * transforms first (six vectors at a time), then row transforms. */
static inline void transform_input_vector(const float *const sources[POSITIONS], int64_t c,
                                          float *v, int64_t position_stride)
{
    wvec t[TILE_IN][TILE_IN];
    for (int j = 0; j < TILE_IN; ++j) {
        wvec d[TILE_IN];
        for (int i = 0; i < TILE_IN; ++i) {
            const float *src = sources[i * TILE_IN + j];
            d[i] = src == NULL ? wv_zero() : wv_load(src + c);
        }
        input_transform_1d(&d[0], &d[1], &d[2], &d[3], &d[4], &d[5]);
        for (int i = 0; i < TILE_IN; ++i) {
            t[i][j] = d[i];
        }
    }
    for (int i = 0; i < TILE_IN; ++i) {
        wvec d[TILE_IN];
        for (int j = 0; j < TILE_IN; ++j) {
            d[j] = t[i][j];
        }
        input_transform_1d(&d[0], &d[1], &d[2], &d[3], &d[4], &d[5]);
        for (int j = 0; j < TILE_IN; ++j) {
            wv_store(v + (i * TILE_IN + j) * position_stride + c, d[j]);
        }
    }
}

/* The last count < LANES channels: copied, zero-filled, into a full vector
 * per pixel first. V rows have room for the whole vector. */
static void transform_input_tail(const float *const sources[POSITIONS], int64_t c, int64_t count,
                                 float *v, int64_t position_stride)
{
    float lanes[POSITIONS][LANES];
    const float *copies[POSITIONS];
    memset(lanes, 0, sizeof lanes);
    for (int k = 0; k < POSITIONS; ++k) {
        copies[k] = NULL;
        if (sources[k] != NULL) {
            memcpy(lanes[k], sources[k] + c, (size_t)count * sizeof(float));
            copies[k] = lanes[k];
        }
    }
    transform_input_vector(copies, 0, v + c, position_stride);
}

/* Tiles are numbered across the batch, so one block may span images. */
static void transform_input_block(const conv4j_problem *p, const winograd_layout *l,
                                  const float *input, int64_t first_tile, int64_t tiles,
                                  float *v)
{
    const int64_t cin = p->in_channels;
    const int64_t position_stride = tiles * l->v_stride;
    for (int64_t t = 0; t < tiles; ++t) {
        const int64_t n = (first_tile + t) / l->tiles;
        const int64_t tile = (first_tile + t) % l->tiles;
        const float *sources[POSITIONS];
        tile_sources(p, input + n * p->in.n, tile / l->tiles_w, tile % l->tiles_w, sources);
        if (first_tile + t + PREFETCH_TILES < p->batch * l->tiles) {
            const int64_t next_n = (first_tile + t + PREFETCH_TILES) / l->tiles;
            const int64_t next = (first_tile + t + PREFETCH_TILES) % l->tiles;
            prefetch_tile(p, input + next_n * p->in.n, next / l->tiles_w, next % l->tiles_w);
        }
        float *row = v + t * l->v_stride;
        int64_t c = 0;
        for (; c + LANES <= cin; c += LANES) {
            transform_input_vector(sources, c, row, position_stride);
        }
        if (c < cin) {
            transform_input_tail(sources, c, cin - c, row, position_stride);
        }
    }
}

/* Output transform of M for channels [c, c + count) of one tile. */
static inline void transform_output_vector(const conv4j_problem *p, const float *m,
                                           int64_t position_stride, const float *bias,
                                           int64_t c, int64_t count, float *out_tile,
                                           int64_t rows, int64_t cols)
{
    wvec t[TILE_OUT][TILE_IN];
    for (int j = 0; j < TILE_IN; ++j) {
        wvec column[TILE_IN];
        wvec y[TILE_OUT];
        for (int i = 0; i < TILE_IN; ++i) {
            column[i] = wv_load(m + (i * TILE_IN + j) * position_stride);
        }
        output_transform_1d(column, y);
        for (int i = 0; i < TILE_OUT; ++i) {
            t[i][j] = y[i];
        }
    }
    wvec b = wv_zero();
    if (bias != NULL) {
        b = count == LANES ? wv_load(bias + c) : wv_load_partial(bias + c, count);
    }
    const int relu = p->activation == CONV4J_ACTIVATION_RELU;
    for (int64_t i = 0; i < rows; ++i) {
        wvec y[TILE_OUT];
        output_transform_1d(t[i], y);
        float *out_row = out_tile + i * p->out.h + c;
        for (int64_t j = 0; j < cols; ++j) {
            wvec value = wv_add(y[j], b);
            if (relu) {
                value = wv_relu(value);
            }
            if (count == LANES) {
                wv_store(out_row + j * p->out.w, value);
            } else {
                wv_store_partial(out_row + j * p->out.w, value, count);
            }
        }
    }
}

static void transform_output_block(const conv4j_problem *p, const winograd_layout *l,
                                   const float *m, int64_t m_stride, const float *bias,
                                   float *output, int64_t first_tile, int64_t tiles,
                                   int64_t co_begin, int64_t co_end)
{
    const int64_t position_stride = tiles * m_stride;
    for (int64_t t = 0; t < tiles; ++t) {
        const int64_t n = (first_tile + t) / l->tiles;
        const int64_t tile = (first_tile + t) % l->tiles;
        float *image_out = output + n * p->out.n;
        const int64_t oy = tile / l->tiles_w * TILE_OUT;
        const int64_t ox = tile % l->tiles_w * TILE_OUT;
        const int64_t rows = p->out_h - oy < TILE_OUT ? p->out_h - oy : TILE_OUT;
        const int64_t cols = p->out_w - ox < TILE_OUT ? p->out_w - ox : TILE_OUT;
        float *out_tile = image_out + oy * p->out.h + ox * p->out.w;
        int64_t c = co_begin;
        if (rows == TILE_OUT && cols == TILE_OUT) {
            /* Constant sizes: the inlined copy has no tail branches. */
            for (; c + LANES <= co_end; c += LANES) {
                transform_output_vector(p, m + t * m_stride + (c - co_begin), position_stride,
                                        bias, c, LANES, out_tile, TILE_OUT, TILE_OUT);
            }
        }
        for (; c < co_end; c += LANES) {
            const int64_t count = co_end - c < LANES ? co_end - c : LANES;
            transform_output_vector(p, m + t * m_stride + (c - co_begin), position_stride, bias,
                                    c, count, out_tile, rows, cols);
        }
    }
}

#if defined(__AVX2__) && defined(__FMA__)
#define WINOGRAD_GEMM conv4j_f32_gemm_avx2
#else
#define WINOGRAD_GEMM conv4j_f32_gemm_scalar
#endif

/* How the output is cut into independent work items. */
typedef struct winograd_split {
    int64_t block_tiles, blocks;       /* blocks of the batch's tiles */
    int64_t chunk_cout, chunks;        /* output channel blocks (multiples of 16) */
} winograd_split;

static winograd_split split_work(const conv4j_problem *p, const winograd_layout *l, int32_t team)
{
    winograd_split s;
    const int64_t total = p->batch * l->tiles;
    s.blocks = (total + l->max_block_tiles - 1) / l->max_block_tiles;
    /* Round the block count up to a multiple of the team so threads finish together. */
    while (team > 1 && s.blocks % team != 0 && s.blocks < total && s.blocks > team) {
        ++s.blocks;
    }
    s.block_tiles = (total + s.blocks - 1) / s.blocks;
    if (s.block_tiles < total) {
        s.block_tiles = round_up(s.block_tiles, CONV4J_F32_GEMM_MR);
        s.block_tiles = s.block_tiles < l->max_block_tiles ? s.block_tiles : l->max_block_tiles;
    }
    s.blocks = (total + s.block_tiles - 1) / s.block_tiles;
    /* Too few tiles for the team (small images, batch 1): split Cout too. The
     * input transform is then repeated per chunk, which is cheap next to the
     * GEMMs when Cout is large. */
    const int64_t panels = l->padded_cout / CONV4J_F32_GEMM_NR;
    int64_t chunks = 1;
    if (s.blocks < team) {
        chunks = (team + s.blocks - 1) / s.blocks;
        chunks = chunks < panels ? chunks : panels;
    }
    s.chunk_cout = (panels + chunks - 1) / chunks * CONV4J_F32_GEMM_NR;
    s.chunks = (l->padded_cout + s.chunk_cout - 1) / s.chunk_cout;
    return s;
}

/* Items are numbered chunk-major: with a static schedule a thread's items
 * share one output channel chunk, and so one slice of the weights. */
static void run_item(const conv4j_problem *p, const winograd_layout *l, const winograd_split *s,
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
    transform_input_block(p, l, input, first_tile, tiles, v);

    const int64_t cin = p->in_channels;
    const size_t per_position = conv4j_f32_gemm_packed_b_count(cin, p->out_channels);
    for (int xi = 0; xi < POSITIONS; ++xi) {
        const float *u = packed_kernel + (size_t)xi * per_position + co_begin * cin;
        WINOGRAD_GEMM(tiles, width, cin, v + xi * tiles * l->v_stride, l->v_stride, u,
                      m + xi * tiles * width, width, 0);
    }
    transform_output_block(p, l, m, width, bias, output, first_tile, tiles,
                           co_begin, co_end);
}

void CONV4J_WINOGRAD_FN(conv4j_winograd_run)(const conv4j_problem *p, const float *packed_kernel,
                                             const float *bias, const float *input,
                                             float *output, void *workspace, int32_t threads)
{
    const winograd_layout l = layout_of(p);
    int32_t slices;
    memcpy(&slices, packed_kernel + packed_weight_count(p), sizeof slices);
    const int32_t team = threads < slices ? threads : slices;
    const winograd_split s = split_work(p, &l, team);
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
                    run_item(p, &l, &s, packed_kernel, bias, input, output, slice, item);
                }
            } else {
#pragma omp for schedule(dynamic, 1)
                for (int64_t item = 0; item < items; ++item) {
                    run_item(p, &l, &s, packed_kernel, bias, input, output, slice, item);
                }
            }
        }
        return;
    }
#endif
    for (int64_t item = 0; item < items; ++item) {
        run_item(p, &l, &s, packed_kernel, bias, input, output, (float *)base, item);
    }
}

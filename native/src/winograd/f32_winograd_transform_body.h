/*
 * The Winograd transforms' body (see f32_winograd_transform.h). The file
 * that includes it defines:
 *   WINOGRAD_LANES   channels per vector
 *   WINOGRAD_ISA     the ISA suffix of the exported names
 * and either WINOGRAD_ARRAY_VECTOR (a portable vector of plain floats the
 * compiler may vectorize) or the type wvec with wv_load, wv_store, wv_zero,
 * wv_add, wv_sub, wv_madd (acc + s * x) and wv_relu (max(0, x), NaN kept).
 * Every ISA thus runs the same transforms in the same order.
 */
#include "winograd/f32_winograd_transform.h"

#include <string.h>

#if !defined(WINOGRAD_LANES) || !defined(WINOGRAD_ISA)
#error "define WINOGRAD_LANES and WINOGRAD_ISA before including f32_winograd_transform_body.h"
#endif

#define LANES WINOGRAD_LANES
#define TILE_OUT CONV4J_WINOGRAD_TILE_OUT
#define TILE_IN CONV4J_WINOGRAD_TILE_IN
#define POSITIONS CONV4J_WINOGRAD_POSITIONS

#ifdef WINOGRAD_ARRAY_VECTOR
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
static void input_block(const conv4j_problem *p, const conv4j_winograd_layout *l,
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

static void output_block(const conv4j_problem *p, const conv4j_winograd_layout *l,
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


#define WINOGRAD_JOIN3(name, lanes, isa) name##lanes##__##isa
#define WINOGRAD_NAME(name, lanes, isa) WINOGRAD_JOIN3(name, lanes, isa)

void WINOGRAD_NAME(conv4j_winograd_input_block, WINOGRAD_LANES, WINOGRAD_ISA)(
    const conv4j_problem *p, const conv4j_winograd_layout *l, const float *input,
    int64_t first_tile, int64_t tiles, float *v)
{
    input_block(p, l, input, first_tile, tiles, v);
}

void WINOGRAD_NAME(conv4j_winograd_output_block, WINOGRAD_LANES, WINOGRAD_ISA)(
    const conv4j_problem *p, const conv4j_winograd_layout *l, const float *m, int64_t m_stride,
    const float *bias, float *output, int64_t first_tile, int64_t tiles, int64_t co_begin,
    int64_t co_end)
{
    output_block(p, l, m, m_stride, bias, output, first_tile, tiles, co_begin, co_end);
}

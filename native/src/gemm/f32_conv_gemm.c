/*
 * Convolution through the indirect GEMM micro-kernel of the plan's ISA
 * config (see f32_conv_gemm.h): MR x NR tiles, B packed in NR-column panels.
 *
 * Row i of A (output pixel q) is cut into segments that the kernel reads in
 * place:
 *   wide   groups == 1, dilation_w == 1: one segment per kernel row (kd, kh), the
 *          KW * Cin floats of pixels iw0 .. iw0 + KW - 1, contiguous in
 *          channels_last (a Conv1D with KH = 1 is then a plain GEMM with a
 *          row stride of stride_w * Cin). A window cut by the left or right
 *          padding is copied into the thread's slice with zeros;
 *   tap    one segment of Cin/g floats per tap (kd, kh, kw); also taken by deep
 *          (Cin >= TAP_MIN_CIN), narrow (Wout <= TAP_MAX_WIDTH) inputs with
 *          left/right padding, whose wide windows would be copied per tile;
 *   packed segments shorter than MIN_SEGMENT floats would spend more time on
 *          pointers than on FMAs: the whole row of K floats is copied per
 *          tile instead (tiny Cin with dilation or groups).
 * A segment wholly in the padding points at a shared row of zeros. Leading
 * and trailing segments that are zero in every row of a tile (a tile of
 * the top or bottom output row: 1/3 of its products at 3x3 pad 1) are left
 * out of the kernel call; the chain over the others is the same sum, bit
 * for bit. A 1x1(x1) stride-1 unpadded problem points its rows a pixel apart
 * without the general window arithmetic. Rank 3 adds the depth axis to the
 * windows only: rows of A are (n, od, oh, ow), segments run over kd first.
 *
 * Work items are (group, block of output channels, tile of MR pixels), tiles
 * fastest, cut into contiguous chunks that threads take on demand: a thread
 * keeps one weight block hot in L2 while it streams tiles. Every output
 * element is one kernel call's sum in a fixed order, so results do not
 * depend on threads.
 */
#include "gemm/f32_conv_gemm.h"

#include <string.h>

#include "config/isa_config.h"
#include "gemm/f32_gemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Shorter segments go through the packed row. */
#define MIN_SEGMENT 8
/* Inputs this deep with left/right padding use tap segments (layout_of). */
#define TAP_MIN_CIN 128
#define TAP_MAX_WIDTH 32
/* The weight block a thread streams tiles against: about half of L2. */
#define WEIGHT_BLOCK_BYTES (512 * 1024)
#define SLICE_ALIGN 64
/* Work chunks per thread of the team, for dynamic scheduling. */
#define CHUNKS_PER_THREAD 8

typedef enum segment_mode { MODE_WIDE, MODE_TAP, MODE_PACKED } segment_mode;

typedef struct gemm_layout {
    int64_t mr, nr;          /* the config's tile */
    segment_mode mode;
    int pointwise;           /* row i of a tile at q0 is input pixel q0 + i */
    int64_t k;               /* KD * KH * KW * Cin/g */
    int64_t segments;        /* per row of A */
    int64_t segment_length;  /* floats per segment */
    int64_t block_columns;   /* output channels per work item, a multiple of nr */
    int64_t blocks;          /* per group */
    int64_t tiles;           /* ceil(N * Dout * Hout * Wout / mr) */
    size_t packed_per_group; /* floats */
    int scattered;           /* output pixels not dense (a backward-data phase writing dx) */
    size_t tile_offset;      /* in a slice: the C tile of a scattered output */
    size_t slice_bytes;      /* per thread: pointers, copied rows, C tile */
    size_t zero_bytes;       /* the shared zero row, at the start of the workspace */
} gemm_layout;

static size_t align_up(size_t bytes)
{
    return (bytes + SLICE_ALIGN - 1) / SLICE_ALIGN * SLICE_ALIGN;
}

static gemm_layout layout_of(const conv4j_problem *p, const conv4j_isa_config *config)
{
    gemm_layout l;
    const int64_t mr = config->gemm_mr;
    const int64_t nr = config->gemm_nr;
    l.mr = mr;
    l.nr = nr;
    const int64_t cin = p->in_channels_per_group;
    const int64_t cout = p->out_channels_per_group;
    const int64_t rows = p->kernel_d * p->kernel_h; /* kernel rows (kd, kh) */
    l.k = rows * p->kernel_w * cin;
    /* Deep, narrow inputs with left or right padding go by taps: a wide
     * window cut by the padding would be copied for every tile and weight
     * block (at 7x7, 2 of 7 columns: 6 % slower on r50_3x3_7, 4 % on
     * r50_3x3_14), while a tap segment of Cin floats is long enough to keep
     * the kernel's per-segment cost small. Wide rows (tcn1d: 2 border
     * pixels of 4096) keep the one long segment, 3 % faster there. */
    const int deep_padded = cin >= TAP_MIN_CIN && p->kernel_w > 1 && p->out_w <= TAP_MAX_WIDTH &&
                            (p->pad_left != 0 || p->pad_right != 0);
    if (p->groups == 1 && p->dilation_w == 1 && !deep_padded) {
        l.mode = MODE_WIDE;
        l.segments = rows;
        l.segment_length = p->kernel_w * cin;
    } else {
        l.mode = MODE_TAP;
        l.segments = rows * p->kernel_w;
        l.segment_length = cin;
    }
    if (l.segment_length < MIN_SEGMENT && l.segments > 1) {
        l.mode = MODE_PACKED;
        l.segments = 1;
        l.segment_length = l.k;
    }
    /* 1x1, stride 1, unpadded, over a dense channels_last input: the rows
     * of A are the input pixels, a constant stride apart. */
    l.pointwise = l.mode == MODE_WIDE && rows == 1 && p->kernel_w == 1 && p->stride_d == 1 &&
                  p->stride_h == 1 && p->stride_w == 1 && !conv4j_problem_is_padded(p) &&
                  p->in.h == p->in_w * p->in.w && p->in.d == p->in_h * p->in.h &&
                  p->in.n == p->in_d * p->in.d;
    int64_t columns = WEIGHT_BLOCK_BYTES / (l.k * (int64_t)sizeof(float)) / nr * nr;
    const int64_t padded = (cout + nr - 1) / nr * nr;
    columns = columns < nr ? nr : columns;
    l.block_columns = columns < padded ? columns : padded;
    l.blocks = (cout + l.block_columns - 1) / l.block_columns;
    l.tiles = (p->batch * p->out_d * p->out_h * p->out_w + mr - 1) / mr;
    l.packed_per_group = conv4j_f32_gemm_packed_b_count(l.k, cout, nr);
    const size_t pointers = (size_t)(l.segments * mr) * sizeof(const float *);
    const size_t copies = l.mode == MODE_TAP ? 0 : (size_t)(mr * l.k) * sizeof(float);
    /* Output pixels a constant out.w apart only within a row (the stride
     * phases of backward data write every s-th dx pixel): each tile is
     * computed into the slice and its rows copied out while in L1. */
    l.scattered = p->out.w != p->out_channels || p->out.h != p->out_w * p->out.w ||
                  p->out.d != p->out_h * p->out.h || p->out.n != p->out_d * p->out.d;
    l.tile_offset = align_up(pointers) + align_up(copies);
    l.slice_bytes = l.tile_offset +
                    (l.scattered ? align_up((size_t)(mr * l.block_columns) * sizeof(float)) : 0);
    l.zero_bytes = align_up((size_t)l.segment_length * sizeof(float));
    return l;
}

static const char *common_reject(const conv4j_problem *p)
{
    if (p->layout != CONV4J_LAYOUT_CHANNELS_LAST) {
        return "needs channels_last";
    }
    if (p->kernel_nonfinite && conv4j_problem_is_padded(p)) {
        return "non-finite weights with padding (its zero rows would give 0*Inf = NaN)";
    }
    if (p->algorithm == CONV4J_ALGORITHM_AUTO) {
        /* Forced GEMM takes these too; AUTO leaves them to kernels that fit. */
        if (p->in_channels_per_group == 1 && p->out_channels_per_group == 1 && p->groups > 1) {
            return "depthwise";
        }
        if (p->out_channels_per_group == 1) {
            return "one output channel per group";
        }
    }
    return NULL;
}

const char *conv4j_gemm_1x1_reject(const conv4j_problem *p, const conv4j_isa_config *config)
{
    (void)config;
    if (p->kernel_d != 1 || p->kernel_h != 1 || p->kernel_w != 1) {
        return "kernel is not 1x1";
    }
    if (conv4j_problem_is_padded(p)) {
        return "padded";
    }
    return common_reject(p);
}

const char *conv4j_igemm_reject(const conv4j_problem *p, const conv4j_isa_config *config)
{
    (void)config;
    return common_reject(p);
}

size_t conv4j_gemm_packed_kernel_count(const conv4j_problem *p, const conv4j_isa_config *config)
{
    return layout_of(p, config).packed_per_group * (size_t)p->groups;
}

void conv4j_gemm_pack(const conv4j_problem *p, const conv4j_isa_config *config,
                      const float *kernel, float *packed_kernel)
{
    const gemm_layout l = layout_of(p, config);
    const int64_t cout = p->out_channels_per_group;
    /* Keras [KD][KH][KW][Cin/g][Cout] is, per group, a row-major [K][Cout/g]
     * matrix with row stride Cout, rows in the segments' order. */
    for (int64_t g = 0; g < p->groups; ++g) {
        conv4j_f32_gemm_pack_b(l.k, cout, kernel + g * cout, p->out_channels, l.nr,
                               packed_kernel + (size_t)g * l.packed_per_group);
    }
}

size_t conv4j_gemm_workspace_size(const conv4j_problem *p, const conv4j_isa_config *config,
                                  int32_t slices)
{
    const gemm_layout l = layout_of(p, config);
    return l.zero_bytes + l.slice_bytes * (size_t)slices;
}

/* An output pixel by coordinates. */
typedef struct pixel {
    int64_t n, od, oh, ow;
} pixel;

/* Points the segments of tile row i (output pixel at, group g) into the
 * input, or at zeros, or at a copy in rows (MR * K floats of the slice). */
static void point_row(const conv4j_problem *p, const gemm_layout *l, const float *input,
                      const float *zero, int64_t g, pixel at, int i, const float **a,
                      float *rows)
{
    const int64_t mr = l->mr;
    const int64_t cin = p->in_channels_per_group;
    const float *image = input + at.n * p->in.n + g * cin;
    const int64_t id0 = at.od * p->stride_d - p->pad_front;
    const int64_t ih0 = at.oh * p->stride_h - p->pad_top;
    const int64_t iw0 = at.ow * p->stride_w - p->pad_left;
    const int64_t slice_step = p->dilation_d * p->in.d;
    const int64_t row_step = p->dilation_h * p->in.h;
    const int64_t column_step = p->dilation_w * p->in.w;

    /* The common case: the whole window inside the image, pointers only. */
    if (l->mode != MODE_PACKED && id0 >= 0 && ih0 >= 0 && iw0 >= 0 &&
        id0 + (p->kernel_d - 1) * p->dilation_d < p->in_d &&
        ih0 + (p->kernel_h - 1) * p->dilation_h < p->in_h &&
        iw0 + (p->kernel_w - 1) * p->dilation_w < p->in_w) {
        const float *origin = image + id0 * p->in.d + ih0 * p->in.h + iw0 * p->in.w;
        const float **slot = a + i;
        for (int64_t kd = 0; kd < p->kernel_d; ++kd) {
            const float *slice = origin + kd * slice_step;
            for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
                const float *line = slice + kh * row_step;
                if (l->mode == MODE_WIDE) {
                    *slot = line;
                    slot += mr;
                    continue;
                }
                for (int64_t kw = 0; kw < p->kernel_w; ++kw, slot += mr) {
                    *slot = line + kw * column_step;
                }
            }
        }
        return;
    }

    int64_t kd_begin, kd_end, kh_begin, kh_end, kw_begin, kw_end;
    conv4j_tap_range(at.od, p->stride_d, p->pad_front, p->dilation_d, p->kernel_d, p->in_d,
                     &kd_begin, &kd_end);
    conv4j_tap_range(at.oh, p->stride_h, p->pad_top, p->dilation_h, p->kernel_h, p->in_h,
                     &kh_begin, &kh_end);
    conv4j_tap_range(at.ow, p->stride_w, p->pad_left, p->dilation_w, p->kernel_w, p->in_w,
                     &kw_begin, &kw_end);

    if (l->mode == MODE_WIDE) {
        const int64_t width = p->kernel_w * cin;
        const int whole = kw_begin == 0 && kw_end == p->kernel_w;
        for (int64_t kd = 0; kd < p->kernel_d; ++kd) {
            const int slice_inside = kd >= kd_begin && kd < kd_end;
            for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
                const int64_t row = kd * p->kernel_h + kh;
                const float **slot = &a[row * mr + i];
                if (!slice_inside || kh < kh_begin || kh >= kh_end || kw_begin >= kw_end) {
                    *slot = zero;
                    continue;
                }
                const float *line = image + (id0 + kd * p->dilation_d) * p->in.d +
                                    (ih0 + kh * p->dilation_h) * p->in.h;
                if (whole) {
                    *slot = line + iw0 * p->in.w;
                    continue;
                }
                float *copy = rows + (size_t)i * l->k + row * width;
                memset(copy, 0, (size_t)(kw_begin * cin) * sizeof(float));
                memcpy(copy + kw_begin * cin, line + (iw0 + kw_begin) * p->in.w,
                       (size_t)((kw_end - kw_begin) * cin) * sizeof(float));
                memset(copy + kw_end * cin, 0,
                       (size_t)((p->kernel_w - kw_end) * cin) * sizeof(float));
                *slot = copy;
            }
        }
        return;
    }

    float *copy = rows + (size_t)i * l->k;
    int64_t tap = 0;
    for (int64_t kd = 0; kd < p->kernel_d; ++kd) {
        const int slice_inside = kd >= kd_begin && kd < kd_end;
        for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
            const int row_inside = slice_inside && kh >= kh_begin && kh < kh_end;
            const float *line = image + (id0 + kd * p->dilation_d) * p->in.d +
                                (ih0 + kh * p->dilation_h) * p->in.h;
            for (int64_t kw = 0; kw < p->kernel_w; ++kw, ++tap) {
                const int inside = row_inside && kw >= kw_begin && kw < kw_end;
                const float *source =
                    inside ? line + (iw0 + kw * p->dilation_w) * p->in.w : zero;
                if (l->mode == MODE_TAP) {
                    a[tap * mr + i] = source;
                } else if (inside) {
                    memcpy(copy + tap * cin, source, (size_t)cin * sizeof(float));
                } else {
                    memset(copy + tap * cin, 0, (size_t)cin * sizeof(float));
                }
            }
        }
    }
    if (l->mode == MODE_PACKED) {
        a[i] = copy;
    }
}

/* Rows [0, height) of the tile at flat pixel q0; rows past height repeat
 * the last one's pointers (the kernel reads them and drops the result). */
static void point_tile(const conv4j_problem *p, const gemm_layout *l, const float *input,
                       const float *zero, int64_t g, int64_t q0, int64_t height, const float **a,
                       float *rows)
{
    const int64_t mr = l->mr;
    if (l->pointwise) {
        /* Output pixel q reads input pixel q: one stride apart. */
        const float *row = input + q0 * p->in.w + g * p->in_channels_per_group;
        for (int64_t i = 0; i < mr; ++i) {
            a[i] = row + (i < height ? i : height - 1) * p->in.w;
        }
        return;
    }
    pixel at;
    at.ow = q0 % p->out_w;
    at.oh = (q0 / p->out_w) % p->out_h;
    at.od = (q0 / (p->out_w * p->out_h)) % p->out_d;
    at.n = q0 / (p->out_w * p->out_h * p->out_d);
    for (int i = 0; i < height; ++i) {
        point_row(p, l, input, zero, g, at, i, a, rows);
        if (++at.ow == p->out_w) {
            at.ow = 0;
            if (++at.oh == p->out_h) {
                at.oh = 0;
                if (++at.od == p->out_d) {
                    at.od = 0;
                    ++at.n;
                }
            }
        }
    }
    for (int64_t s = 0; s < l->segments; ++s) {
        for (int64_t i = height; i < mr; ++i) {
            a[s * mr + i] = a[s * mr + height - 1];
        }
    }
}

typedef struct gemm_call {
    const conv4j_problem *p;
    const gemm_layout *l;
    conv4j_f32_igemm_tile_fn tile;
    const float *packed_kernel;
    const float *bias;
    const float *input;
    float *output;
    const float *zero;
} gemm_call;

/* Segments [*first, *last) of the tile's `height` rows hold every segment
 * that points off the zero row in some row: the leading and trailing
 * segments in the padding for the whole tile (a tile of one output row at
 * the top or bottom of the image) are left out. Products with the zero row
 * add exact zeros to the chain, so the chain over the rest, started from
 * zero in the same order, is the same sum bit for bit. */
static void live_segments(const gemm_layout *l, const float *const *a, const float *zero,
                          int64_t height, int64_t *first, int64_t *last)
{
    const int64_t mr = l->mr;
    int64_t begin = 0, end = l->segments;
    while (begin < end) {
        int64_t i = 0;
        while (i < height && a[begin * mr + i] == zero) {
            ++i;
        }
        if (i < height) {
            break;
        }
        ++begin;
    }
    if (begin == end) {
        /* All padding: keep the chain whole (a sum of zeros). */
        *first = 0;
        *last = l->segments;
        return;
    }
    while (end > begin) {
        int64_t i = 0;
        while (i < height && a[(end - 1) * mr + i] == zero) {
            ++i;
        }
        if (i < height) {
            break;
        }
        --end;
    }
    *first = begin;
    *last = end;
}

/* Rows of a scattered output's C tile [height][width] to pixels q0 .. of
 * output (already at the item's first channel). */
static void scatter_tile(const conv4j_problem *p, const float *tile, int64_t width, int64_t q0,
                         int64_t height, float *output)
{
    int64_t ow = q0 % p->out_w;
    int64_t oh = q0 / p->out_w % p->out_h;
    int64_t od = q0 / (p->out_w * p->out_h) % p->out_d;
    int64_t n = q0 / (p->out_w * p->out_h * p->out_d);
    for (int64_t i = 0; i < height; ++i) {
        memcpy(output + n * p->out.n + od * p->out.d + oh * p->out.h + ow * p->out.w,
               tile + i * width, (size_t)width * sizeof(float));
        if (++ow == p->out_w) {
            ow = 0;
            if (++oh == p->out_h) {
                oh = 0;
                if (++od == p->out_d) {
                    od = 0;
                    ++n;
                }
            }
        }
    }
}

/* Items [begin, end) with the slice of one thread. */
static void run_items(const gemm_call *call, int64_t begin, int64_t end, char *slice)
{
    const conv4j_problem *p = call->p;
    const gemm_layout *l = call->l;
    const int64_t mr = l->mr;
    const int64_t nr = l->nr;
    const float **a = (const float **)(void *)slice;
    float *rows = (float *)(void *)(slice + align_up((size_t)(l->segments * mr) *
                                                     sizeof(const float *)));
    const int64_t pixels = p->batch * p->out_d * p->out_h * p->out_w;
    const int64_t cout = p->out_channels_per_group;
    conv4j_f32_gemm_epilogue epilogue = {NULL, p->activation == CONV4J_ACTIVATION_RELU, 0};
    const int skip = conv4j_problem_is_padded(p) && l->segments > 1;

    for (int64_t item = begin; item < end; ++item) {
        const int64_t tile = item % l->tiles;
        const int64_t block = (item / l->tiles) % l->blocks;
        const int64_t g = item / (l->tiles * l->blocks);
        const int64_t q0 = tile * mr;
        const int64_t height = pixels - q0 < mr ? pixels - q0 : mr;
        point_tile(p, l, call->input, call->zero, g, q0, height, a, rows);
        const int64_t column = block * l->block_columns;
        const int64_t width = cout - column < l->block_columns ? cout - column : l->block_columns;
        const float *weights = call->packed_kernel + (size_t)g * l->packed_per_group +
                               (size_t)(column / nr * l->k * nr);
        const float *bias = call->bias == NULL ? NULL : call->bias + g * cout + column;
        float *c = l->scattered ? (float *)(void *)(slice + l->tile_offset)
                                : call->output + q0 * p->out_channels + g * cout + column;
        const int64_t ldc = l->scattered ? width : p->out_channels;
        int64_t first = 0, last = l->segments;
        if (skip) {
            live_segments(l, a, call->zero, height, &first, &last);
        }
        if (first == 0 && last == l->segments) {
            epilogue.bias = bias;
            call->tile(height, width, l->segments, l->segment_length, a, weights, c, ldc,
                       &epilogue);
        } else {
            /* Fewer segments: the kernel finds panel j at j * k' * nr for
             * its own k', so each panel of the block is its own call. */
            const int64_t skipped = first * l->segment_length * nr;
            for (int64_t at = 0; at < width; at += nr) {
                epilogue.bias = bias == NULL ? NULL : bias + at;
                call->tile(height, width - at < nr ? width - at : nr, last - first,
                           l->segment_length, a + first * mr, weights + at * l->k + skipped,
                           c + at, ldc, &epilogue);
            }
        }
        if (l->scattered) {
            scatter_tile(p, c, width, q0, height, call->output + g * cout + column);
        }
    }
}

void conv4j_gemm_run(const conv4j_problem *p, const conv4j_isa_config *config,
                     const float *packed_kernel, const float *bias, const float *input,
                     float *output, void *workspace, int32_t threads)
{
    const gemm_layout l = layout_of(p, config);
    char *base = workspace;
    float *zero = (float *)(void *)base;
    memset(zero, 0, (size_t)l.segment_length * sizeof(float));
    const gemm_call call = {p, &l, config->igemm, packed_kernel, bias, input, output, zero};
    char *slices_base = base + l.zero_bytes;
    const int64_t items = p->groups * l.blocks * l.tiles;
#ifdef _OPENMP
    /* threads == 1 never opens a parallel region: many JVM threads calling
     * with 1 must not each start an OpenMP team. The plan caps threads at
     * the workspace's slices. */
    if (threads > 1 && items > 1) {
        const int used = (int)(threads < items ? threads : items);
        /* Contiguous chunks handed out on demand: a thread that the machine
         * delays does not hold the others at the join, and a chunk still
         * streams tiles against one weight block. */
        const int64_t chunks = items < used * CHUNKS_PER_THREAD ? items : used * CHUNKS_PER_THREAD;
#pragma omp parallel num_threads(used)
        {
            char *slice = slices_base + (size_t)omp_get_thread_num() * l.slice_bytes;
#pragma omp for schedule(dynamic, 1)
            for (int64_t chunk = 0; chunk < chunks; ++chunk) {
                run_items(&call, items * chunk / chunks, items * (chunk + 1) / chunks, slice);
            }
        }
        return;
    }
#else
    (void)threads;
#endif
    run_items(&call, 0, items, slices_base);
}

int64_t conv4j_gemm_items(const conv4j_problem *p, const conv4j_isa_config *config)
{
    const gemm_layout l = layout_of(p, config);
    return p->groups * l.blocks * l.tiles;
}

void conv4j_gemm_run_items(const conv4j_problem *p, const conv4j_isa_config *config,
                           const float *packed_kernel, const float *bias, const float *input,
                           float *output, void *workspace, int64_t begin, int64_t end)
{
    const gemm_layout l = layout_of(p, config);
    char *base = workspace;
    float *zero = (float *)(void *)base;
    memset(zero, 0, (size_t)l.segment_length * sizeof(float));
    const gemm_call call = {p, &l, config->igemm, packed_kernel, bias, input, output, zero};
    run_items(&call, begin, end, base + l.zero_bytes);
}

/*
 * The backward passes through the GEMM machinery; see f32_conv_gemm_backward.h.
 */
#include "gemm/f32_conv_gemm_backward.h"

#include <string.h>

#include "config/isa_config.h"
#include "gemm/f32_conv_gemm.h"
#include "gemm/f32_gemm.h"
#include "layout/layout_adapter.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define SLICE_ALIGN 64
/* Output pixels per accumulation step of dW: a constant, so the order of
 * every dW element's sum depends on the problem alone, never on threads. */
#define WEIGHTS_CHUNK 256
/* C^T columns (dW rows) per work item, about. */
#define WEIGHTS_BLOCK_COLUMNS 128

static size_t align_up(size_t bytes)
{
    return (bytes + SLICE_ALIGN - 1) / SLICE_ALIGN * SLICE_ALIGN;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b != 0) {
        const int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* One axis of one backward-data phase rho = (i + pad) mod stride. */
typedef struct phase_axis {
    int64_t taps;      /* taps that reach the phase; 0 when none */
    int64_t first_tap; /* the smallest of them */
    int64_t period;    /* kernel index step between them: stride / gcd(stride, dilation) */
    int64_t dilation;  /* of the phase correlation: dilation / gcd(stride, dilation) */
    int64_t first;     /* first dx index of the phase */
    int64_t count;     /* dx indices in the phase */
    int64_t pad;       /* pad before of the phase correlation over dy; < 0 skips dy rows */
} phase_axis;

static phase_axis axis_phase(int64_t rho, int64_t in, int64_t kernel, int64_t stride,
                             int64_t dilation, int64_t pad_before)
{
    phase_axis a;
    const int64_t g = gcd64(stride, dilation);
    a.period = stride / g;
    a.dilation = dilation / g;
    a.taps = 0;
    a.first_tap = 0;
    /* k * dilation mod stride repeats with period `period`: one look suffices. */
    for (int64_t k = 0; k < kernel && k < a.period; ++k) {
        if (k * dilation % stride == rho) {
            a.first_tap = k;
            a.taps = (kernel - 1 - k) / a.period + 1;
            break;
        }
    }
    a.first = ((rho - pad_before) % stride + stride) % stride;
    a.count = a.first < in ? (in - a.first + stride - 1) / stride : 0;
    a.pad = 0;
    if (a.taps > 0) {
        /* dx index first + stride * j meets dy index j + c - t * dilation'
         * at tap first_tap + t * period; c is exact (both sides = rho). */
        const int64_t c = (a.first + pad_before - a.first_tap * dilation) / stride;
        a.pad = (a.taps - 1) * a.dilation - c;
    }
    return a;
}

static phase_axis phase_h(const conv4j_problem *p, int64_t rho)
{
    return axis_phase(rho, p->in_h, p->kernel_h, p->stride_h, p->dilation_h, p->pad_top);
}

static phase_axis phase_w(const conv4j_problem *p, int64_t rho)
{
    return axis_phase(rho, p->in_w, p->kernel_w, p->stride_w, p->dilation_w, p->pad_left);
}

/* The phase as a forward channels_last problem: dy in, the phase's dx
 * pixels (dense) out, the flipped tap subset as kernel. */
static conv4j_problem phase_problem(const conv4j_problem *p, const phase_axis *h,
                                    const phase_axis *w)
{
    conv4j_problem q = *p;
    q.propagation = CONV4J_PROPAGATION_FORWARD;
    q.algorithm = CONV4J_ALGORITHM_GEMM;
    q.layout = CONV4J_LAYOUT_CHANNELS_LAST;
    q.kernel_nonfinite = 0;
    q.in_h = p->out_h;
    q.in_w = p->out_w;
    q.in_channels = p->out_channels;
    q.out_h = h->count;
    q.out_w = w->count;
    q.out_channels = p->in_channels;
    q.kernel_h = h->taps;
    q.kernel_w = w->taps;
    q.stride_h = 1;
    q.stride_w = 1;
    q.dilation_h = h->dilation;
    q.dilation_w = w->dilation;
    q.pad_top = h->pad;
    q.pad_left = w->pad;
    q.pad_bottom = h->count + (h->taps - 1) * h->dilation - p->out_h - h->pad;
    q.pad_right = w->count + (w->taps - 1) * w->dilation - p->out_w - w->pad;
    q.in_channels_per_group = p->out_channels_per_group;
    q.out_channels_per_group = p->in_channels_per_group;
    q.in.c = 1;
    q.in.w = q.in_channels;
    q.in.h = q.in_w * q.in_channels;
    q.in.n = q.in_h * q.in.h;
    q.out.c = 1;
    q.out.w = q.out_channels;
    q.out.h = q.out_w * q.out_channels;
    q.out.n = q.out_h * q.out.h;
    return q;
}

/* Floats of one phase's packing (all groups). */
static size_t phase_packed_count(const conv4j_problem *p, const conv4j_isa_config *config,
                                 const phase_axis *h, const phase_axis *w)
{
    if (h->taps == 0 || w->taps == 0) {
        return 0;
    }
    const int64_t k = h->taps * w->taps * p->out_channels_per_group;
    return conv4j_f32_gemm_packed_b_count(k, p->in_channels_per_group, config->gemm_nr) *
           (size_t)p->groups;
}

const char *conv4j_bwd_data_gemm_reject(const conv4j_problem *p, const conv4j_isa_config *config)
{
    (void)config;
    if (p->layout != CONV4J_LAYOUT_CHANNELS_LAST) {
        return "needs channels_last";
    }
    if (p->kernel_nonfinite) {
        return "non-finite weights (dy's padding would give 0*Inf = NaN)";
    }
    return NULL;
}

size_t conv4j_bwd_data_gemm_packed_kernel_count(const conv4j_problem *p,
                                                const conv4j_isa_config *config)
{
    size_t count = 0;
    for (int64_t rh = 0; rh < p->stride_h; ++rh) {
        const phase_axis h = phase_h(p, rh);
        for (int64_t rw = 0; rw < p->stride_w; ++rw) {
            const phase_axis w = phase_w(p, rw);
            count += phase_packed_count(p, config, &h, &w);
        }
    }
    return count;
}

void conv4j_bwd_data_gemm_pack(const conv4j_problem *p, const conv4j_isa_config *config,
                               const float *kernel, float *packed)
{
    const int64_t nr = config->gemm_nr;
    const int64_t cig = p->in_channels_per_group;
    const int64_t cog = p->out_channels_per_group;
    for (int64_t rh = 0; rh < p->stride_h; ++rh) {
        const phase_axis h = phase_h(p, rh);
        for (int64_t rw = 0; rw < p->stride_w; ++rw) {
            const phase_axis w = phase_w(p, rw);
            if (h.taps == 0 || w.taps == 0) {
                continue;
            }
            /* Per group a [taps_h * taps_w * Cout/g][Cin/g] B matrix in NR
             * panels: rows (flipped tap, co), columns ci. */
            for (int64_t g = 0; g < p->groups; ++g) {
                for (int64_t column = 0; column < cig; column += nr) {
                    for (int64_t uh = 0; uh < h.taps; ++uh) {
                        const int64_t kh = h.first_tap + (h.taps - 1 - uh) * h.period;
                        for (int64_t uw = 0; uw < w.taps; ++uw) {
                            const int64_t kw = w.first_tap + (w.taps - 1 - uw) * w.period;
                            const float *tap = kernel + (kh * p->kernel_w + kw) * cig *
                                                            p->out_channels;
                            for (int64_t co = 0; co < cog; ++co, packed += nr) {
                                for (int64_t j = 0; j < nr; ++j) {
                                    const int64_t ci = column + j;
                                    packed[j] = ci < cig ? tap[ci * p->out_channels + g * cog + co]
                                                         : 0.0f;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/* Bytes of the scratch a strided problem's phase output needs (0 at stride 1). */
static size_t phase_buffer_bytes(const conv4j_problem *p)
{
    if (p->stride_h == 1 && p->stride_w == 1) {
        return 0;
    }
    const int64_t rows = (p->in_h + p->stride_h - 1) / p->stride_h;
    const int64_t columns = (p->in_w + p->stride_w - 1) / p->stride_w;
    return align_up((size_t)(p->batch * rows * columns * p->in_channels) * sizeof(float));
}

size_t conv4j_bwd_data_gemm_workspace_size(const conv4j_problem *p,
                                           const conv4j_isa_config *config, int32_t slices)
{
    size_t gemm = 0;
    for (int64_t rh = 0; rh < p->stride_h; ++rh) {
        const phase_axis h = phase_h(p, rh);
        for (int64_t rw = 0; rw < p->stride_w; ++rw) {
            const phase_axis w = phase_w(p, rw);
            if (h.taps == 0 || w.taps == 0 || h.count == 0 || w.count == 0) {
                continue;
            }
            const conv4j_problem q = phase_problem(p, &h, &w);
            const size_t bytes = conv4j_gemm_workspace_size(&q, config, slices);
            gemm = bytes > gemm ? bytes : gemm;
        }
    }
    return phase_buffer_bytes(p) + align_up(gemm);
}

static void scatter_row(const conv4j_problem *p, const phase_axis *h, const phase_axis *w,
                        const float *source, const float *bias, float *dx, int64_t row);

/* Copies the dense phase result to its dx pixels, or (source NULL) writes
 * act(bias) there for a phase that no tap reaches. */
static void scatter_phase(const conv4j_problem *p, const phase_axis *h, const phase_axis *w,
                          const float *source, const float *bias, float *dx, int32_t threads)
{
    const int64_t rows = p->batch * h->count;
#ifdef _OPENMP
    if (threads > 1 && rows > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t row = 0; row < rows; ++row) {
            scatter_row(p, h, w, source, bias, dx, row);
        }
        return;
    }
#else
    (void)threads;
#endif
    for (int64_t row = 0; row < rows; ++row) {
        scatter_row(p, h, w, source, bias, dx, row);
    }
}

static void scatter_row(const conv4j_problem *p, const phase_axis *h, const phase_axis *w,
                        const float *source, const float *bias, float *dx, int64_t row)
{
    const int64_t cin = p->in_channels;
    const int64_t n = row / h->count;
    const int64_t j = row % h->count;
    float *line = dx + n * p->in.n + (h->first + j * p->stride_h) * p->in.h;
    for (int64_t i = 0; i < w->count; ++i) {
        float *pixel = line + (w->first + i * p->stride_w) * p->in.w;
        if (source != NULL) {
            memcpy(pixel, source + (row * w->count + i) * cin, (size_t)cin * sizeof(float));
        } else {
            for (int64_t c = 0; c < cin; ++c) {
                pixel[c] = conv4j_activate(bias != NULL ? bias[c] : 0.0f, p->activation);
            }
        }
    }
}

void conv4j_bwd_data_gemm_run(const conv4j_problem *p, const conv4j_isa_config *config,
                              const float *packed_kernel, const float *bias, const float *input,
                              float *output, void *workspace, int32_t threads)
{
    const int direct = p->stride_h == 1 && p->stride_w == 1;
    char *base = workspace;
    float *phase_output = (float *)(void *)base;
    void *gemm_workspace = base + phase_buffer_bytes(p);
    const float *weights = packed_kernel;
    for (int64_t rh = 0; rh < p->stride_h; ++rh) {
        const phase_axis h = phase_h(p, rh);
        for (int64_t rw = 0; rw < p->stride_w; ++rw) {
            const phase_axis w = phase_w(p, rw);
            const size_t packed = phase_packed_count(p, config, &h, &w);
            if (h.count == 0 || w.count == 0) {
                weights += packed;
                continue;
            }
            if (packed == 0) {
                scatter_phase(p, &h, &w, NULL, bias, output, threads);
                continue;
            }
            const conv4j_problem q = phase_problem(p, &h, &w);
            conv4j_gemm_run(&q, config, weights, bias, input, direct ? output : phase_output,
                            gemm_workspace, threads);
            if (!direct) {
                scatter_phase(p, &h, &w, phase_output, bias, output, threads);
            }
            weights += packed;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Backward weights: C^T[co][(tap, ci)] = sum_q dyT[co][q] * X[q][(tap, ci)]
 * per group, the rows of dy transposed once (A, read in place) and the
 * patches of x packed per chunk of pixels into the config's NR panels (B,
 * plain copies of Cin/g runs), then C^T transposed into the Keras layout. */

typedef struct weights_layout {
    int64_t mr, nr;
    int64_t rows;          /* per group: KH * KW * Cin/g, the columns of C^T */
    int64_t block_columns; /* per work item, a multiple of nr */
    int64_t column_blocks; /* per group */
    int64_t pixels;        /* N * Ho * Wo */
    size_t transposed_bytes, product_bytes; /* dyT [Cout][pixels], C^T of every group */
    size_t pointer_bytes, packed_bytes;     /* per thread */
} weights_layout;

static weights_layout weights_layout_of(const conv4j_problem *p, const conv4j_isa_config *config,
                                        int32_t threads)
{
    weights_layout l;
    l.mr = config->gemm_mr;
    l.nr = config->gemm_nr;
    l.rows = p->kernel_h * p->kernel_w * p->in_channels_per_group;
    l.pixels = p->batch * p->out_h * p->out_w;
    /* Panels of about WEIGHTS_BLOCK_COLUMNS: a chunk's packed patches
     * (WEIGHTS_CHUNK x that many floats) stay in L2. */
    const int64_t panels = (l.rows + l.nr - 1) / l.nr;
    int64_t block_panels = WEIGHTS_BLOCK_COLUMNS / l.nr > 0 ? WEIGHTS_BLOCK_COLUMNS / l.nr : 1;
    block_panels = block_panels < panels ? block_panels : panels;
    /* Narrower blocks when the groups leave threads idle; each element's
     * sum order is the same however the columns are cut. */
    const int64_t wanted = 2 * (int64_t)threads;
    const int64_t blocks = p->groups * ((panels + block_panels - 1) / block_panels);
    if (blocks < wanted) {
        const int64_t per_group = (wanted + p->groups - 1) / p->groups;
        const int64_t narrow = (panels + per_group - 1) / per_group;
        block_panels = narrow < block_panels ? (narrow > 0 ? narrow : 1) : block_panels;
    }
    l.block_columns = block_panels * l.nr;
    l.column_blocks = (l.rows + l.block_columns - 1) / l.block_columns;
    l.transposed_bytes = align_up((size_t)(p->out_channels * l.pixels) * sizeof(float));
    l.product_bytes = align_up((size_t)(p->out_channels * l.rows) * sizeof(float));
    l.pointer_bytes = align_up((size_t)l.mr * sizeof(const float *));
    l.packed_bytes = align_up((size_t)(WEIGHTS_CHUNK * l.block_columns) * sizeof(float));
    return l;
}

const char *conv4j_bwd_weights_gemm_reject(const conv4j_problem *p,
                                           const conv4j_isa_config *config)
{
    (void)config;
    if (p->layout != CONV4J_LAYOUT_CHANNELS_LAST) {
        return "needs channels_last";
    }
    return NULL;
}

size_t conv4j_bwd_weights_gemm_workspace_size(const conv4j_problem *p,
                                              const conv4j_isa_config *config, int32_t slices)
{
    /* threads = 0: the widest column blocks any call uses. */
    const weights_layout l = weights_layout_of(p, config, 0);
    return l.transposed_bytes + l.product_bytes +
           (l.pointer_bytes + l.packed_bytes) * (size_t)slices;
}

/* Packs the patches of columns [c0, c0 + width) of group g at pixels
 * [q0, q0 + length) as B: panel j holds columns c0 + j*nr .. + nr - 1, one
 * row of nr floats per pixel (zeros past width and in the padding). */
static void pack_patches(const conv4j_problem *p, const weights_layout *l, const float *x,
                         int64_t g, int64_t c0, int64_t width, int64_t q0, int64_t length,
                         float *packed)
{
    const int64_t nr = l->nr;
    const int64_t cig = p->in_channels_per_group;
    const int64_t panels = (width + nr - 1) / nr;
    if (width % nr != 0) {
        float *last = packed + (panels - 1) * length * nr;
        for (int64_t qi = 0; qi < length; ++qi) {
            memset(last + qi * nr + width % nr, 0, (size_t)(nr - width % nr) * sizeof(float));
        }
    }
    int64_t ow = q0 % p->out_w;
    int64_t oh = (q0 / p->out_w) % p->out_h;
    int64_t n = q0 / (p->out_w * p->out_h);
    for (int64_t qi = 0; qi < length; ++qi) {
        const float *image = x + n * p->in.n + g * cig;
        int64_t c = 0;
        while (c < width) {
            const int64_t r = c0 + c;
            const int64_t tap = r / cig;
            const int64_t ci = r % cig;
            int64_t count = cig - ci < width - c ? cig - ci : width - c;
            const int64_t lane = c % nr;
            count = count < nr - lane ? count : nr - lane; /* stay in one panel */
            float *to = packed + (c / nr) * length * nr + qi * nr + lane;
            const int64_t ih = oh * p->stride_h - p->pad_top + tap / p->kernel_w * p->dilation_h;
            const int64_t iw = ow * p->stride_w - p->pad_left + tap % p->kernel_w * p->dilation_w;
            if (ih >= 0 && ih < p->in_h && iw >= 0 && iw < p->in_w) {
                memcpy(to, image + ih * p->in.h + iw * p->in.w + ci, (size_t)count * sizeof(float));
            } else {
                memset(to, 0, (size_t)count * sizeof(float));
            }
            c += count;
        }
        if (++ow == p->out_w) {
            ow = 0;
            if (++oh == p->out_h) {
                oh = 0;
                ++n;
            }
        }
    }
}

typedef struct weights_call {
    const conv4j_problem *p;
    const conv4j_isa_config *config;
    const weights_layout *l;
    const float *x;
    const float *transposed; /* dyT [Cout][pixels] */
    float *product;          /* C^T [Cout][rows], group after group */
} weights_call;

/* Columns block `item` of C^T over every pixel, in chunk order. */
static void weights_item(const weights_call *call, int64_t item, char *slice)
{
    const conv4j_problem *p = call->p;
    const weights_layout *l = call->l;
    const float **a = (const float **)(void *)slice;
    float *packed = (float *)(void *)(slice + l->pointer_bytes);
    const int64_t cog = p->out_channels_per_group;
    const int64_t g = item / l->column_blocks;
    const int64_t c0 = item % l->column_blocks * l->block_columns;
    const int64_t width = l->rows - c0 < l->block_columns ? l->rows - c0 : l->block_columns;
    for (int64_t q0 = 0; q0 < l->pixels; q0 += WEIGHTS_CHUNK) {
        const int64_t length = l->pixels - q0 < WEIGHTS_CHUNK ? l->pixels - q0 : WEIGHTS_CHUNK;
        pack_patches(p, l, call->x, g, c0, width, q0, length, packed);
        const conv4j_f32_gemm_epilogue epilogue = {NULL, 0, q0 > 0};
        for (int64_t co = 0; co < cog; co += l->mr) {
            const int64_t height = cog - co < l->mr ? cog - co : l->mr;
            for (int64_t i = 0; i < l->mr; ++i) {
                a[i] = call->transposed + (g * cog + co + (i < height ? i : height - 1)) * l->pixels +
                       q0;
            }
            call->config->igemm(height, width, 1, length, a, packed,
                                call->product + (g * cog + co) * l->rows + c0, l->rows, &epilogue);
        }
    }
}

/* dW row r (all Cout) from C^T; db channel block from dyT, in double. */
static void weights_write_row(const weights_call *call, float *dw, int64_t r)
{
    const conv4j_problem *p = call->p;
    for (int64_t c = 0; c < p->out_channels; ++c) {
        dw[r * p->out_channels + c] = call->product[c * call->l->rows + r];
    }
}

static void bias_gradient_channel(const weights_call *call, float *db, int64_t c)
{
    const float *row = call->transposed + c * call->l->pixels;
    double sum = 0.0;
    for (int64_t q = 0; q < call->l->pixels; ++q) {
        sum += (double)row[q];
    }
    db[c] = (float)sum;
}

void conv4j_bwd_weights_gemm_run(const conv4j_problem *p, const conv4j_isa_config *config,
                                 const float *input, const float *output_gradient,
                                 float *kernel_gradient, float *bias_gradient, void *workspace,
                                 int32_t threads)
{
    const weights_layout l = weights_layout_of(p, config, threads);
    char *base = workspace;
    float *transposed = (float *)(void *)base;
    float *product = (float *)(void *)(base + l.transposed_bytes);
    char *slices = base + l.transposed_bytes + l.product_bytes;
    const size_t slice_bytes = l.pointer_bytes + l.packed_bytes;
    const weights_call call = {p, config, &l, input, transposed, product};
    const int64_t items = p->groups * l.column_blocks;
    const int64_t channels = bias_gradient == NULL ? 0 : p->out_channels;
    /* dy [pixels][Cout] -> dyT [Cout][pixels]: A's rows, read in place. */
    conv4j_layout_transpose(config, output_gradient, transposed, 1, l.pixels, p->out_channels,
                            threads);
#ifdef _OPENMP
    /* threads == 1 opens no parallel region (see conv4j_gemm_run). */
    if (threads > 1) {
#pragma omp parallel num_threads(threads)
        {
            char *slice = slices + (size_t)omp_get_thread_num() * slice_bytes;
#pragma omp for schedule(dynamic, 1)
            for (int64_t item = 0; item < items; ++item) {
                weights_item(&call, item, slice);
            }
#pragma omp for schedule(static) nowait
            for (int64_t r = 0; r < l.rows; ++r) {
                weights_write_row(&call, kernel_gradient, r);
            }
#pragma omp for schedule(static)
            for (int64_t c = 0; c < channels; ++c) {
                bias_gradient_channel(&call, bias_gradient, c);
            }
        }
        return;
    }
#else
    (void)slice_bytes;
#endif
    for (int64_t item = 0; item < items; ++item) {
        weights_item(&call, item, slices);
    }
    for (int64_t r = 0; r < l.rows; ++r) {
        weights_write_row(&call, kernel_gradient, r);
    }
    for (int64_t c = 0; c < channels; ++c) {
        bias_gradient_channel(&call, bias_gradient, c);
    }
}

/*
 * The backward passes through the GEMM machinery; see f32_conv_gemm_backward.h.
 */
#include "gemm/f32_conv_gemm_backward.h"

#include <string.h>

#include "config/isa_config.h"
#include "depthwise/f32_dwconv.h"
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

/* x with x * a = 1 (mod m), for gcd(a, m) = 1 and m >= 1 (extended Euclid). */
static int64_t inverse_mod(int64_t a, int64_t m)
{
    int64_t r0 = m, r1 = a % m, t0 = 0, t1 = 1;
    while (r1 != 0) {
        const int64_t q = r0 / r1;
        int64_t t = r0 - q * r1;
        r0 = r1;
        r1 = t;
        t = t0 - q * t1;
        t0 = t1;
        t1 = t;
    }
    return ((t0 % m) + m) % m;
}

static phase_axis axis_phase(int64_t rho, int64_t in, int64_t kernel, int64_t stride,
                             int64_t dilation, int64_t pad_before)
{
    phase_axis a;
    const int64_t g = gcd64(stride, dilation);
    a.period = stride / g;
    a.dilation = dilation / g;
    a.taps = 0;
    a.first_tap = 0;
    /* k * dilation = rho (mod stride) has a solution iff g divides rho; the
     * smallest is (rho / g) * (dilation / g)^-1 mod period: O(log), so a
     * large stride costs no scan of the kernel per phase. */
    if (rho % g == 0) {
        const int64_t inverse = a.period == 1 ? 0 : inverse_mod(a.dilation % a.period, a.period);
        /* Products stay below 2^62: rho / g < period <= 2^31 and inverse < period. */
        const int64_t k = (rho / g) % a.period * inverse % a.period;
        if (k < kernel) {
            a.first_tap = k;
            a.taps = (kernel - 1 - k) / a.period + 1;
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

/* One backward-data phase: an axis phase per spatial axis. */
typedef struct phase {
    phase_axis d, h, w;
} phase;

static int64_t phase_total(const conv4j_problem *p)
{
    return p->stride_d * p->stride_h * p->stride_w;
}

/* Phase r of phase_total, depth-major (flat problems have one depth phase). */
static phase phase_of(const conv4j_problem *p, int64_t r)
{
    phase f;
    f.d = axis_phase(r / (p->stride_h * p->stride_w), p->in_d, p->kernel_d, p->stride_d,
                     p->dilation_d, p->pad_front);
    f.h = axis_phase(r / p->stride_w % p->stride_h, p->in_h, p->kernel_h, p->stride_h,
                     p->dilation_h, p->pad_top);
    f.w = axis_phase(r % p->stride_w, p->in_w, p->kernel_w, p->stride_w, p->dilation_w,
                     p->pad_left);
    return f;
}

static int phase_has_taps(const phase *f)
{
    return f->d.taps > 0 && f->h.taps > 0 && f->w.taps > 0;
}

static int phase_has_pixels(const phase *f)
{
    return f->d.count > 0 && f->h.count > 0 && f->w.count > 0;
}

/* One axis of the phase problem: dy's extent *in over the phase's taps,
 * cropped where the pads are negative (dy entries no pixel of the phase
 * reads); returns how many dy entries the crop skips at the start. */
static int64_t phase_problem_axis(const phase_axis *a, int64_t dy_extent, int64_t *in,
                                  int64_t *out, int64_t *kernel, int64_t *dilation,
                                  int64_t *before, int64_t *after)
{
    int64_t skipped = 0;
    *in = dy_extent;
    *out = a->count;
    *kernel = a->taps;
    *dilation = a->dilation;
    *before = a->pad;
    *after = a->count + (a->taps - 1) * a->dilation - dy_extent - a->pad;
    if (*before < 0) {
        skipped = -*before;
        *in += *before;
        *before = 0;
    }
    if (*after < 0) {
        *in += *after;
        *after = 0;
    }
    return skipped;
}

/* The phase as a forward channels_last problem: dy in, the phase's dx
 * pixels (dense) out, the flipped tap subset as kernel. Negative pads are
 * cropped off dy: *offset is where the cropped dy starts. Returns 0 when
 * nothing of dy is left (every tap of the phase in the padding: dx there is
 * the bias). */
static int phase_problem(const conv4j_problem *p, const phase *f, conv4j_problem *out,
                         int64_t *offset)
{
    conv4j_problem q = *p;
    q.propagation = CONV4J_PROPAGATION_FORWARD;
    q.algorithm = CONV4J_ALGORITHM_AUTO;
    q.layout = CONV4J_LAYOUT_CHANNELS_LAST;
    q.kernel_nonfinite = 0;
    q.in_channels = p->out_channels;
    q.out_channels = p->in_channels;
    q.stride_d = 1;
    q.stride_h = 1;
    q.stride_w = 1;
    q.in_channels_per_group = p->out_channels_per_group;
    q.out_channels_per_group = p->in_channels_per_group;
    /* dy's own strides (channels_last), kept when cropping. */
    q.in.c = 1;
    q.in.w = p->out_channels;
    q.in.h = p->out_w * q.in.w;
    q.in.d = p->out_h * q.in.h;
    q.in.n = p->out_d * q.in.d;
    const int64_t skip_d = phase_problem_axis(&f->d, p->out_d, &q.in_d, &q.out_d, &q.kernel_d,
                                              &q.dilation_d, &q.pad_front, &q.pad_back);
    const int64_t skip_h = phase_problem_axis(&f->h, p->out_h, &q.in_h, &q.out_h, &q.kernel_h,
                                              &q.dilation_h, &q.pad_top, &q.pad_bottom);
    const int64_t skip_w = phase_problem_axis(&f->w, p->out_w, &q.in_w, &q.out_w, &q.kernel_w,
                                              &q.dilation_w, &q.pad_left, &q.pad_right);
    q.out.c = 1;
    q.out.w = q.out_channels;
    q.out.h = q.out_w * q.out.w;
    q.out.d = q.out_h * q.out.h;
    q.out.n = q.out_d * q.out.d;
    *offset = skip_d * q.in.d + skip_h * q.in.h + skip_w * q.in.w;
    *out = q;
    return q.in_d > 0 && q.in_h > 0 && q.in_w > 0;
}

/* Keras kernel index of the phase's flipped taps (ud, uh, uw). */
static int64_t phase_tap(const conv4j_problem *p, const phase *f, int64_t ud, int64_t uh,
                         int64_t uw)
{
    const int64_t kd = f->d.first_tap + (f->d.taps - 1 - ud) * f->d.period;
    const int64_t kh = f->h.first_tap + (f->h.taps - 1 - uh) * f->h.period;
    const int64_t kw = f->w.first_tap + (f->w.taps - 1 - uw) * f->w.period;
    return (kd * p->kernel_h + kh) * p->kernel_w + kw;
}

/* What differs between the ways a phase runs: its packing and its kernel. */
typedef struct phase_kind {
    size_t (*count)(const conv4j_problem *p, const conv4j_isa_config *config, const phase *f);
    /* Packs the phase (taps flipped) at packed. */
    void (*pack)(const conv4j_problem *p, const conv4j_isa_config *config, const phase *f,
                 const float *kernel, float *packed);
    size_t (*workspace)(const conv4j_problem *q, const conv4j_isa_config *config, int32_t slices);
    void (*run)(const conv4j_problem *q, const conv4j_isa_config *config, const float *packed,
                const float *bias, const float *input, float *output, void *workspace,
                int32_t threads);
    /* 1 when run honours q's output strides, so a phase writes its dx
     * pixels in place (no phase buffer, no scatter pass). */
    int in_place;
    /* Optional (NULL): run's work items, and items [begin, end) of them on
     * the calling thread over a one-thread workspace. */
    int64_t (*items)(const conv4j_problem *q, const conv4j_isa_config *config);
    void (*run_items)(const conv4j_problem *q, const conv4j_isa_config *config,
                      const float *packed, const float *bias, const float *input, float *output,
                      void *workspace, int64_t begin, int64_t end);
} phase_kind;

/* A phase problem writing straight into dx: its pixels are every s-th dx
 * pixel per axis; returns the offset of its first pixel in dx. */
static int64_t phase_in_place(const conv4j_problem *p, const phase *f, conv4j_problem *q)
{
    q->out.n = p->in.n;
    q->out.d = p->stride_d * p->in.d;
    q->out.h = p->stride_h * p->in.h;
    q->out.w = p->stride_w * p->in.w;
    return f->d.first * p->in.d + f->h.first * p->in.h + f->w.first * p->in.w;
}

static size_t packed_count(const conv4j_problem *p, const conv4j_isa_config *config,
                           const phase_kind *kind)
{
    size_t count = 0;
    for (int64_t r = 0; r < phase_total(p); ++r) {
        const phase f = phase_of(p, r);
        if (phase_has_taps(&f)) {
            count += kind->count(p, config, &f);
        }
    }
    return count;
}

static void pack_phases(const conv4j_problem *p, const conv4j_isa_config *config,
                        const phase_kind *kind, const float *kernel, float *packed)
{
    for (int64_t r = 0; r < phase_total(p); ++r) {
        const phase f = phase_of(p, r);
        if (phase_has_taps(&f)) {
            kind->pack(p, config, &f, kernel, packed);
            packed += kind->count(p, config, &f);
        }
    }
}

static int is_unit_stride(const conv4j_problem *p)
{
    return p->stride_d == 1 && p->stride_h == 1 && p->stride_w == 1;
}

/* Bytes of the scratch a strided problem's phase output needs (0 at stride 1
 * and for kinds that write in place). */
static size_t phase_buffer_bytes(const conv4j_problem *p, const phase_kind *kind)
{
    if (is_unit_stride(p) || kind->in_place) {
        return 0;
    }
    const int64_t slices = (p->in_d + p->stride_d - 1) / p->stride_d;
    const int64_t rows = (p->in_h + p->stride_h - 1) / p->stride_h;
    const int64_t columns = (p->in_w + p->stride_w - 1) / p->stride_w;
    return align_up((size_t)(p->batch * slices * rows * columns * p->in_channels) *
                    sizeof(float));
}

static size_t phases_workspace(const conv4j_problem *p, const conv4j_isa_config *config,
                               int32_t slices, const phase_kind *kind)
{
    size_t most = 0;
    for (int64_t r = 0; r < phase_total(p); ++r) {
        const phase f = phase_of(p, r);
        conv4j_problem q;
        int64_t offset;
        if (!phase_has_taps(&f) || !phase_has_pixels(&f) || !phase_problem(p, &f, &q, &offset)) {
            continue;
        }
        if (kind->in_place) {
            (void)phase_in_place(p, &f, &q);
        }
        const size_t bytes = kind->workspace(&q, config, slices);
        most = bytes > most ? bytes : most;
        if (kind->in_place) {
            /* run_flat_phases: each thread runs its items on its own
             * one-thread workspace. */
            const size_t whole = align_up(kind->workspace(&q, config, 1)) * (size_t)slices;
            most = whole > most ? whole : most;
        }
    }
    return phase_buffer_bytes(p, kind) + align_up(most);
}

/* Row (n, jd, jh) of the phase, in the dense phase output's order. */
static void scatter_row(const conv4j_problem *p, const phase *f, const float *source,
                        const float *bias, float *dx, int64_t row)
{
    const int64_t cin = p->in_channels;
    const int64_t n = row / (f->d.count * f->h.count);
    const int64_t jd = row / f->h.count % f->d.count;
    const int64_t jh = row % f->h.count;
    float *line = dx + n * p->in.n + (f->d.first + jd * p->stride_d) * p->in.d +
                  (f->h.first + jh * p->stride_h) * p->in.h;
    for (int64_t i = 0; i < f->w.count; ++i) {
        float *pixel = line + (f->w.first + i * p->stride_w) * p->in.w;
        if (source != NULL) {
            memcpy(pixel, source + (row * f->w.count + i) * cin, (size_t)cin * sizeof(float));
        } else {
            for (int64_t c = 0; c < cin; ++c) {
                pixel[c] = conv4j_activate(bias != NULL ? bias[c] : 0.0f, p->activation);
            }
        }
    }
}

/* Copies the dense phase result to its dx pixels, or (source NULL) writes
 * act(bias) there for a phase that no tap reaches. */
static void scatter_phase(const conv4j_problem *p, const phase *f, const float *source,
                          const float *bias, float *dx, int32_t threads)
{
    const int64_t rows = p->batch * f->d.count * f->h.count;
#ifdef _OPENMP
    if (threads > 1 && rows > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t row = 0; row < rows; ++row) {
            scatter_row(p, f, source, bias, dx, row);
        }
        return;
    }
#else
    (void)threads;
#endif
    for (int64_t row = 0; row < rows; ++row) {
        scatter_row(p, f, source, bias, dx, row);
    }
}

#ifdef _OPENMP
/* Every phase in ONE parallel region: each phase's work items (the forward
 * driver's tiles) are shared out on demand without a barrier between
 * phases, so a thread done with its part of a phase goes on to the next
 * (a team per phase waited at the end of every phase's short GEMM). Each
 * item runs exactly as the forward driver runs it: same kernel, same sums. */
static void run_flat_phases(const conv4j_problem *p, const conv4j_isa_config *config,
                            const phase_kind *kind, const float *packed_kernel,
                            const float *bias, const float *input, float *output,
                            void *workspace, int32_t threads)
{
    size_t slice_bytes = 0;
    for (int64_t r = 0; r < phase_total(p); ++r) {
        const phase f = phase_of(p, r);
        conv4j_problem q;
        int64_t offset;
        if (!phase_has_taps(&f) || !phase_has_pixels(&f) || !phase_problem(p, &f, &q, &offset)) {
            continue;
        }
        (void)phase_in_place(p, &f, &q);
        const size_t bytes = align_up(kind->workspace(&q, config, 1));
        slice_bytes = bytes > slice_bytes ? bytes : slice_bytes;
    }
    char *base = workspace;
#pragma omp parallel num_threads(threads)
    {
        void *slice = base + (size_t)omp_get_thread_num() * slice_bytes;
        const float *weights = packed_kernel;
        for (int64_t r = 0; r < phase_total(p); ++r) {
            const phase f = phase_of(p, r);
            const size_t packed = phase_has_taps(&f) ? kind->count(p, config, &f) : 0;
            conv4j_problem q;
            int64_t offset = 0;
            if (!phase_has_pixels(&f)) {
                weights += packed;
                continue;
            }
            if (packed == 0 || !phase_problem(p, &f, &q, &offset)) {
                const int64_t rows = p->batch * f.d.count * f.h.count;
#pragma omp for schedule(static) nowait
                for (int64_t row = 0; row < rows; ++row) {
                    scatter_row(p, &f, NULL, bias, output, row);
                }
                weights += packed;
                continue;
            }
            float *target = output + phase_in_place(p, &f, &q);
            const int64_t items = kind->items(&q, config);
            const int64_t most = (int64_t)threads * 8;
            const int64_t chunks = items < most ? items : most;
#pragma omp for schedule(dynamic, 1) nowait
            for (int64_t chunk = 0; chunk < chunks; ++chunk) {
                kind->run_items(&q, config, weights, bias, input + offset, target, slice,
                                items * chunk / chunks, items * (chunk + 1) / chunks);
            }
            weights += packed;
        }
    }
}
#endif

/* dx = the phases one after another; stride 1 is one phase written in place. */
static void run_phases(const conv4j_problem *p, const conv4j_isa_config *config,
                       const phase_kind *kind, const float *packed_kernel, const float *bias,
                       const float *input, float *output, void *workspace, int32_t threads)
{
    const int direct = is_unit_stride(p) || kind->in_place;
#ifdef _OPENMP
    if (threads > 1 && kind->in_place && kind->items != NULL && !is_unit_stride(p) &&
        workspace != NULL) {
        run_flat_phases(p, config, kind, packed_kernel, bias, input, output, workspace,
                         threads);
        return;
    }
#endif
    char *base = workspace;
    float *phase_output = (float *)(void *)base;
    void *kernel_workspace = base == NULL ? NULL : base + phase_buffer_bytes(p, kind);
    const float *weights = packed_kernel;
    for (int64_t r = 0; r < phase_total(p); ++r) {
        const phase f = phase_of(p, r);
        const size_t packed = phase_has_taps(&f) ? kind->count(p, config, &f) : 0;
        conv4j_problem q;
        int64_t offset = 0;
        if (!phase_has_pixels(&f)) {
            weights += packed;
            continue;
        }
        if (packed == 0 || !phase_problem(p, &f, &q, &offset)) {
            scatter_phase(p, &f, NULL, bias, output, threads);
            weights += packed;
            continue;
        }
        float *target = phase_output;
        if (direct) {
            target = output + (kind->in_place ? phase_in_place(p, &f, &q) : 0);
        }
        kind->run(&q, config, weights, bias, input + offset, target, kernel_workspace, threads);
        if (!direct) {
            scatter_phase(p, &f, phase_output, bias, output, threads);
        }
        weights += packed;
    }
}

/* The GEMM phases: per group a [taps * Cout/g][Cin/g] B matrix in NR
 * panels, rows (flipped tap, co), columns ci. */
static size_t gemm_phase_count(const conv4j_problem *p, const conv4j_isa_config *config,
                               const phase *f)
{
    const int64_t k = f->d.taps * f->h.taps * f->w.taps * p->out_channels_per_group;
    return conv4j_f32_gemm_packed_b_count(k, p->in_channels_per_group, config->gemm_nr) *
           (size_t)p->groups;
}

static void gemm_phase_pack(const conv4j_problem *p, const conv4j_isa_config *config,
                            const phase *f, const float *kernel, float *packed)
{
    const int64_t nr = config->gemm_nr;
    const int64_t cig = p->in_channels_per_group;
    const int64_t cog = p->out_channels_per_group;
    for (int64_t g = 0; g < p->groups; ++g) {
        for (int64_t column = 0; column < cig; column += nr) {
            for (int64_t ud = 0; ud < f->d.taps; ++ud) {
                for (int64_t uh = 0; uh < f->h.taps; ++uh) {
                    for (int64_t uw = 0; uw < f->w.taps; ++uw) {
                        const float *tap =
                            kernel + phase_tap(p, f, ud, uh, uw) * cig * p->out_channels;
                        for (int64_t co = 0; co < cog; ++co, packed += nr) {
                            for (int64_t j = 0; j < nr; ++j) {
                                const int64_t ci = column + j;
                                packed[j] =
                                    ci < cig ? tap[ci * p->out_channels + g * cog + co] : 0.0f;
                            }
                        }
                    }
                }
            }
        }
    }
}

static const phase_kind gemm_phases = {gemm_phase_count, gemm_phase_pack,
                                       conv4j_gemm_workspace_size, conv4j_gemm_run, 1,
                                       conv4j_gemm_items, conv4j_gemm_run_items};

/* More phases than dx pixels: strides past the input (a raw int32 stride
 * would loop 2^31 times), where the reference loop is the cheaper one. */
static const char *phases_reject(const conv4j_problem *p)
{
    /* Step by step: the product of three int32 strides could overflow. */
    const int64_t limit = p->in_d * p->in_h * p->in_w + 64;
    if (p->stride_d > limit || p->stride_d * p->stride_h > limit || phase_total(p) > limit) {
        return "more stride phases than input pixels";
    }
    return NULL;
}

const char *conv4j_bwd_data_gemm_reject(const conv4j_problem *p, const conv4j_isa_config *config)
{
    (void)config;
    if (p->layout != CONV4J_LAYOUT_CHANNELS_LAST) {
        return "needs channels_last";
    }
    if (phases_reject(p) != NULL) {
        return phases_reject(p);
    }
    if (p->kernel_nonfinite) {
        return "non-finite weights (dy's padding would give 0*Inf = NaN)";
    }
    if (p->algorithm == CONV4J_ALGORITHM_AUTO && conv4j_bwd_data_dwconv_reject(p, config) == NULL) {
        return "depthwise"; /* AUTO leaves it to bwd_data_dwconv */
    }
    return NULL;
}

size_t conv4j_bwd_data_gemm_packed_kernel_count(const conv4j_problem *p,
                                                const conv4j_isa_config *config)
{
    return packed_count(p, config, &gemm_phases);
}

void conv4j_bwd_data_gemm_pack(const conv4j_problem *p, const conv4j_isa_config *config,
                               const float *kernel, float *packed)
{
    pack_phases(p, config, &gemm_phases, kernel, packed);
}

size_t conv4j_bwd_data_gemm_workspace_size(const conv4j_problem *p,
                                           const conv4j_isa_config *config, int32_t slices)
{
    return phases_workspace(p, config, slices, &gemm_phases);
}

void conv4j_bwd_data_gemm_run(const conv4j_problem *p, const conv4j_isa_config *config,
                              const float *packed_kernel, const float *bias, const float *input,
                              float *output, void *workspace, int32_t threads)
{
    run_phases(p, config, &gemm_phases, packed_kernel, bias, input, output, workspace, threads);
}

/* The depthwise phases (multiplier 1): each is a forward depthwise
 * convolution on the config's row kernels, taps flipped, [tap][Cpad]. */
static size_t dwconv_phase_count(const conv4j_problem *p, const conv4j_isa_config *config,
                                 const phase *f)
{
    (void)config;
    return (size_t)(f->d.taps * f->h.taps * f->w.taps * conv4j_dwconv_padded_channels(p));
}

static void dwconv_phase_pack(const conv4j_problem *p, const conv4j_isa_config *config,
                              const phase *f, const float *kernel, float *packed)
{
    (void)config;
    const int64_t padded = conv4j_dwconv_padded_channels(p);
    for (int64_t ud = 0; ud < f->d.taps; ++ud) {
        for (int64_t uh = 0; uh < f->h.taps; ++uh) {
            for (int64_t uw = 0; uw < f->w.taps; ++uw, packed += padded) {
                const float *tap = kernel + phase_tap(p, f, ud, uh, uw) * p->out_channels;
                for (int64_t c = 0; c < padded; ++c) {
                    packed[c] = c < p->in_channels ? tap[c] : 0.0f;
                }
            }
        }
    }
}

static size_t dwconv_phase_workspace(const conv4j_problem *q, const conv4j_isa_config *config,
                                     int32_t slices)
{
    (void)q;
    (void)config;
    (void)slices;
    return 0;
}

static void dwconv_phase_run(const conv4j_problem *q, const conv4j_isa_config *config,
                             const float *packed, const float *bias, const float *input,
                             float *output, void *workspace, int32_t threads)
{
    /* Multiplier 1 (see reject): no expansion workspace; a phase with a
     * depth axis runs on the volume rows. */
    const conv4j_dwconv_kernels kernels = {config->dwconv_row, config->dwconv_plane,
                                           config->dwconv_volume};
    conv4j_dwconv_run(q, &kernels, packed, bias, input, output, workspace, threads);
}

static const phase_kind dwconv_phases = {dwconv_phase_count, dwconv_phase_pack,
                                         dwconv_phase_workspace, dwconv_phase_run, 0,
                                         NULL, NULL};

const char *conv4j_bwd_data_dwconv_reject(const conv4j_problem *p,
                                          const conv4j_isa_config *config)
{
    (void)config;
    if (p->groups != p->in_channels || p->groups == 1) {
        return "not depthwise";
    }
    if (p->out_channels != p->in_channels) {
        return "channel multiplier > 1";
    }
    if (p->layout != CONV4J_LAYOUT_CHANNELS_LAST) {
        return "needs channels_last";
    }
    if (p->kernel_nonfinite) {
        return "non-finite weights";
    }
    return phases_reject(p);
}

size_t conv4j_bwd_data_dwconv_packed_kernel_count(const conv4j_problem *p,
                                                  const conv4j_isa_config *config)
{
    return packed_count(p, config, &dwconv_phases);
}

void conv4j_bwd_data_dwconv_pack(const conv4j_problem *p, const conv4j_isa_config *config,
                                 const float *kernel, float *packed)
{
    pack_phases(p, config, &dwconv_phases, kernel, packed);
}

size_t conv4j_bwd_data_dwconv_workspace_size(const conv4j_problem *p,
                                             const conv4j_isa_config *config, int32_t slices)
{
    return phases_workspace(p, config, slices, &dwconv_phases);
}

void conv4j_bwd_data_dwconv_run(const conv4j_problem *p, const conv4j_isa_config *config,
                                const float *packed_kernel, const float *bias, const float *input,
                                float *output, void *workspace, int32_t threads)
{
    run_phases(p, config, &dwconv_phases, packed_kernel, bias, input, output, workspace, threads);
}

/* ------------------------------------------------------------------------ */
/* Backward weights: C^T[co][(tap, ci)] = sum_q dyT[co][q] * X[q][(tap, ci)]
 * per group, the rows of dy transposed once (A, read in place) and the
 * patches of x packed per chunk of pixels into the config's NR panels (B,
 * plain copies of Cin/g runs), then C^T transposed into the Keras layout. */

/* A run of columns that copies contiguous floats of one tap's pixel into
 * one panel: the same for every pixel, so computed once per work item (the
 * divisions per pixel cost more than the copies). */
typedef struct patch_run {
    int64_t kd, kh, kw; /* kernel offsets: dilation * tap index */
    int64_t source;   /* ci of the first float */
    int64_t target;   /* panel * length * nr + lane, for pixel 0 */
    int64_t count;
} patch_run;

typedef struct weights_layout {
    int64_t mr, nr;
    int64_t rows;          /* per group: KD * KH * KW * Cin/g, the columns of C^T */
    int64_t block_columns; /* per work item, a multiple of nr */
    int64_t column_blocks; /* per group */
    int64_t pixels;        /* N * Do * Ho * Wo */
    size_t transposed_bytes; /* dyT [Cout][pixels] */
    /* Per thread: A pointers, packed patches, patch runs, and the item's
     * C^T block [Cout/g][width], transposed into dW while it is in cache. */
    size_t pointer_bytes, packed_bytes, run_bytes, block_bytes;
} weights_layout;

static weights_layout weights_layout_of(const conv4j_problem *p, const conv4j_isa_config *config,
                                        int32_t threads)
{
    weights_layout l;
    l.mr = config->gemm_mr;
    l.nr = config->gemm_nr;
    l.rows = p->kernel_d * p->kernel_h * p->kernel_w * p->in_channels_per_group;
    l.pixels = p->batch * p->out_d * p->out_h * p->out_w;
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
    l.pointer_bytes = align_up((size_t)l.mr * sizeof(const float *));
    l.packed_bytes = align_up((size_t)(WEIGHTS_CHUNK * l.block_columns) * sizeof(float));
    l.run_bytes = align_up((size_t)l.block_columns * sizeof(patch_run)); /* a run is >= 1 column */
    l.block_bytes =
        align_up((size_t)(p->out_channels_per_group * l.block_columns) * sizeof(float));
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
    return l.transposed_bytes +
           (l.pointer_bytes + l.packed_bytes + l.run_bytes + l.block_bytes) * (size_t)slices;
}


/* The runs of columns [c0, c0 + width) of a group; returns how many. */
static int64_t patch_runs(const conv4j_problem *p, int64_t nr, int64_t c0, int64_t width,
                          int64_t length, patch_run *runs)
{
    const int64_t cig = p->in_channels_per_group;
    int64_t count = 0;
    int64_t c = 0;
    while (c < width) {
        const int64_t r = c0 + c;
        const int64_t tap = r / cig;
        patch_run run;
        run.source = r % cig;
        run.count = cig - run.source < width - c ? cig - run.source : width - c;
        const int64_t lane = c % nr;
        run.count = run.count < nr - lane ? run.count : nr - lane; /* stay in one panel */
        run.kd = tap / (p->kernel_h * p->kernel_w) * p->dilation_d;
        run.kh = tap / p->kernel_w % p->kernel_h * p->dilation_h;
        run.kw = tap % p->kernel_w * p->dilation_w;
        run.target = (c / nr) * length * nr + lane;
        runs[count++] = run;
        c += run.count;
    }
    return count;
}

/* Packs the patches of the runs (group g) at pixels [q0, q0 + length) as B:
 * panel j holds columns c0 + j*nr .. + nr - 1, one row of nr floats per
 * pixel (zeros past width and in the padding). */
static void pack_patches(const conv4j_problem *p, const weights_layout *l, const float *x,
                         int64_t g, const patch_run *runs, int64_t run_count, int64_t width,
                         int64_t q0, int64_t length, float *packed)
{
    const int64_t nr = l->nr;
    const int64_t panels = (width + nr - 1) / nr;
    if (width % nr != 0) {
        float *last = packed + (panels - 1) * length * nr;
        for (int64_t qi = 0; qi < length; ++qi) {
            memset(last + qi * nr + width % nr, 0, (size_t)(nr - width % nr) * sizeof(float));
        }
    }
    int64_t ow = q0 % p->out_w;
    int64_t oh = (q0 / p->out_w) % p->out_h;
    int64_t od = (q0 / (p->out_w * p->out_h)) % p->out_d;
    int64_t n = q0 / (p->out_w * p->out_h * p->out_d);
    for (int64_t qi = 0; qi < length; ++qi) {
        const float *image = x + n * p->in.n + g * p->in_channels_per_group;
        const int64_t id0 = od * p->stride_d - p->pad_front;
        const int64_t ih0 = oh * p->stride_h - p->pad_top;
        const int64_t iw0 = ow * p->stride_w - p->pad_left;
        float *row = packed + qi * nr;
        for (int64_t k = 0; k < run_count; ++k) {
            const patch_run *run = &runs[k];
            const int64_t id = id0 + run->kd;
            const int64_t ih = ih0 + run->kh;
            const int64_t iw = iw0 + run->kw;
            float *to = row + run->target;
            if (id >= 0 && id < p->in_d && ih >= 0 && ih < p->in_h && iw >= 0 && iw < p->in_w) {
                memcpy(to, image + id * p->in.d + ih * p->in.h + iw * p->in.w + run->source,
                       (size_t)run->count * sizeof(float));
            } else {
                memset(to, 0, (size_t)run->count * sizeof(float));
            }
        }
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

typedef struct weights_call {
    const conv4j_problem *p;
    const conv4j_isa_config *config;
    const weights_layout *l;
    const float *x;
    const float *transposed; /* dyT [Cout][pixels] */
    float *kernel_gradient;
} weights_call;

/* Columns block `item` of C^T over every pixel, in chunk order, then its
 * dW rows. */
static void weights_item(const weights_call *call, int64_t item, char *slice)
{
    const conv4j_problem *p = call->p;
    const weights_layout *l = call->l;
    const float **a = (const float **)(void *)slice;
    float *packed = (float *)(void *)(slice + l->pointer_bytes);
    patch_run *runs = (patch_run *)(void *)(slice + l->pointer_bytes + l->packed_bytes);
    float *block =
        (float *)(void *)(slice + l->pointer_bytes + l->packed_bytes + l->run_bytes);
    const int64_t cog = p->out_channels_per_group;
    const int64_t g = item / l->column_blocks;
    const int64_t c0 = item % l->column_blocks * l->block_columns;
    const int64_t width = l->rows - c0 < l->block_columns ? l->rows - c0 : l->block_columns;
    int64_t run_count = 0;
    int64_t runs_length = -1; /* the chunk length the runs' targets are for */
    for (int64_t q0 = 0; q0 < l->pixels; q0 += WEIGHTS_CHUNK) {
        const int64_t length = l->pixels - q0 < WEIGHTS_CHUNK ? l->pixels - q0 : WEIGHTS_CHUNK;
        if (length != runs_length) { /* the first chunk, and a shorter last one */
            run_count = patch_runs(p, l->nr, c0, width, length, runs);
            runs_length = length;
        }
        pack_patches(p, l, call->x, g, runs, run_count, width, q0, length, packed);
        const conv4j_f32_gemm_epilogue epilogue = {NULL, 0, q0 > 0};
        for (int64_t co = 0; co < cog; co += l->mr) {
            const int64_t height = cog - co < l->mr ? cog - co : l->mr;
            for (int64_t i = 0; i < l->mr; ++i) {
                const int64_t row = g * cog + co + (i < height ? i : height - 1);
                a[i] = call->transposed + row * l->pixels + q0;
            }
            call->config->igemm(height, width, 1, length, a, packed, block + co * width, width,
                                &epilogue);
        }
    }
    /* block [cog][width] -> dW rows c0 .. c0 + width - 1, columns of group g. */
    float *dw = call->kernel_gradient + c0 * p->out_channels + g * cog;
    if (p->groups == 1) {
        conv4j_layout_transpose(call->config, block, dw, 1, cog, width, 1);
        return;
    }
    for (int64_t r = 0; r < width; ++r) {
        for (int64_t co = 0; co < cog; ++co) {
            dw[r * p->out_channels + co] = block[co * width + r];
        }
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
    char *slices = base + l.transposed_bytes;
    const size_t slice_bytes = l.pointer_bytes + l.packed_bytes + l.run_bytes + l.block_bytes;
    const weights_call call = {p, config, &l, input, transposed, kernel_gradient};
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
#pragma omp for schedule(dynamic, 1) nowait
            for (int64_t item = 0; item < items; ++item) {
                weights_item(&call, item, slice);
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
    for (int64_t c = 0; c < channels; ++c) {
        bias_gradient_channel(&call, bias_gradient, c);
    }
}

/*
 * Plans: validation, algorithm choice from the ordered table
 * (algorithm_table.c) under the active ISA config, workspace, execution. A
 * plan is immutable after creation, which is what makes concurrent
 * conv4j_plan_execute calls on one plan safe. Its packed weights belong to a
 * conv4j_weights (weights.c) that every plan of the layer shares.
 */
#include "internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "config/isa_config.h"
#include "layout/layout_adapter.h"
#include "reference/f32_conv_reference.h"
#include "weights.h"
#include "workspace/workspace_pool.h"

/* Room for the problem line and a rejection per table row, with margin;
 * snprintf truncates rather than overflows if it is ever too short. */
#define EXPLAIN_CAPACITY 1024

struct conv4j_plan {
    conv4j_problem problem;
    /* What the kernel runs: problem itself, or its channels_last form when
     * via_channels_last (the plan transposes around the kernel). */
    conv4j_problem kernel_problem;
    int via_channels_last;
    /* Below this much work an OpenMP team costs more than it saves: run on
     * the calling thread whatever the caller's thread count. */
    int serial;
    /* Threads the workspace has slices for; execute never uses more. */
    int32_t slices;
    /* Scratch for calls that bring none (a pointer: execute takes a const plan). */
    conv4j_workspace_pool *pool;
    const conv4j_algorithm_entry *entry;
    const conv4j_isa_config *config;
    conv4j_weights *weights; /* one reference, dropped by destroy */
    const float *packed_kernel; /* owned by weights */
    const float *bias;          /* owned by weights; NULL when none */
    size_t workspace_size;
    char explain[EXPLAIN_CAPACITY];
};

/* A bounded string builder over a fixed buffer. */
typedef struct text_buffer {
    char *data;
    size_t capacity;
    size_t length;
} text_buffer;

static void text_append(text_buffer *text, const char *format, ...)
{
    if (text->length + 1 >= text->capacity) {
        return;
    }
    va_list args;
    va_start(args, format);
    const int written =
        vsnprintf(text->data + text->length, text->capacity - text->length, format, args);
    va_end(args);
    if (written > 0) {
        const size_t room = text->capacity - text->length - 1;
        text->length += (size_t)written < room ? (size_t)written : room;
    }
}

static void describe_problem(text_buffer *text, const conv4j_problem *p)
{
    text_append(text, "conv4j: rank=%" PRId32 " N=%" PRId64, p->rank, p->batch);
    if (p->rank == 1) {
        text_append(text,
                    " in=%" PRId64 "x%" PRId64 " out=%" PRId64 "x%" PRId64 " k=%" PRId64
                    " s=%" PRId64 " d=%" PRId64 " pad=%" PRId64 "/%" PRId64,
                    p->in_w, p->in_channels, p->out_w, p->out_channels, p->kernel_w, p->stride_w,
                    p->dilation_w, p->pad_left, p->pad_right);
    } else {
        text_append(text,
                    " in=%" PRId64 "x%" PRId64 "x%" PRId64 " out=%" PRId64 "x%" PRId64
                    "x%" PRId64 " k=%" PRId64 "x%" PRId64 " s=%" PRId64 "x%" PRId64
                    " d=%" PRId64 "x%" PRId64 " pad=%" PRId64 ",%" PRId64 "/%" PRId64
                    ",%" PRId64,
                    p->in_h, p->in_w, p->in_channels, p->out_h, p->out_w, p->out_channels,
                    p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->dilation_h,
                    p->dilation_w, p->pad_top, p->pad_left, p->pad_bottom, p->pad_right);
    }
    text_append(text, " groups=%" PRId64 " layout=%s act=%s", p->groups,
                p->layout == CONV4J_LAYOUT_CHANNELS_LAST ? "channels_last" : "channels_first",
                p->activation == CONV4J_ACTIVATION_RELU ? "relu" : "none");
    if (p->propagation != CONV4J_PROPAGATION_FORWARD) {
        text_append(text, " pass=%s",
                    p->propagation == CONV4J_PROPAGATION_BACKWARD_DATA ? "backward_data"
                                                                       : "backward_weights");
    }
}

static int verbose_enabled(void)
{
    const char *value = getenv("CONV4J_VERBOSE");
    return value != NULL && value[0] != '\0' && strcmp(value, "0") != 0;
}

/* Picks the algorithm under config and writes the explain line into
 * explain. Returns NULL when no candidate accepts (only possible for a forced
 * algorithm). A channels_first problem that a kernel rejects may still run
 * on it through the layout adapter, if the kernel takes the channels_last
 * form: then *via_channels_last is set. The reference never goes through the
 * adapter. */
static const conv4j_algorithm_entry *choose_algorithm(const conv4j_problem *p,
                                                      const conv4j_isa_config *config,
                                                      char *explain, size_t capacity,
                                                      int *via_channels_last)
{
    conv4j_problem channels_last;
    conv4j_layout_channels_last_problem(p, &channels_last);
    *via_channels_last = 0;
    size_t count;
    const conv4j_algorithm_entry *table = conv4j_algorithm_table_for(p->propagation, &count);
    const char *reasons[16];
    const conv4j_algorithm_entry *rejected[16];
    size_t rejected_count = 0;
    const conv4j_algorithm_entry *chosen = NULL;

    for (size_t i = 0; i < count && chosen == NULL; ++i) {
        const conv4j_algorithm_entry *entry = &table[i];
        if (p->algorithm != CONV4J_ALGORITHM_AUTO && entry->algorithm != p->algorithm) {
            continue;
        }
        const char *reason = NULL;
        if (p->algorithm == CONV4J_ALGORITHM_AUTO && entry->algorithm == CONV4J_ALGORITHM_WINOGRAD &&
            !(p->flags & CONV4J_FLAG_ALLOW_WINOGRAD)) {
            reason = "opt-in, not allowed by flag";
        } else {
            reason = entry->reject(p, config);
            if (reason != NULL && p->layout == CONV4J_LAYOUT_CHANNELS_FIRST &&
                entry->algorithm != CONV4J_ALGORITHM_REFERENCE &&
                entry->reject(&channels_last, config) == NULL) {
                reason = NULL;
                *via_channels_last = 1;
            }
        }
        if (reason == NULL) {
            chosen = entry;
        } else if (rejected_count < sizeof reasons / sizeof reasons[0]) {
            reasons[rejected_count] = reason;
            rejected[rejected_count] = entry;
            ++rejected_count;
        }
    }

    text_buffer text = {explain, capacity, 0};
    if (capacity > 0) {
        explain[0] = '\0';
    }
    describe_problem(&text, p);
    if (chosen != NULL) {
        text_append(&text, " -> %s_%s%s (isa %s)", chosen->name, config->name,
                    *via_channels_last ? " via nchw->nhwc" : "", conv4j_isa_name(config->isa));
    } else {
        text_append(&text, " -> unsupported (algorithm %s, isa %s)",
                    conv4j_algorithm_name(p->algorithm), config->name);
    }
    for (size_t i = 0; i < rejected_count; ++i) {
        text_append(&text, "%s%s (%s)", i == 0 ? "; rejected: " : ", ", rejected[i]->name,
                    reasons[i]);
    }
    return chosen;
}

conv4j_status conv4j_output_size(const conv4j_conv_desc *desc, int32_t out_size[3])
{
    conv4j_problem p;
    const conv4j_status status = conv4j_problem_init(desc, &p);
    if (status != CONV4J_OK) {
        return status;
    }
    if (out_size != NULL) {
        /* Rank 1 keeps its length at index 0, like the descriptor. */
        out_size[0] = (int32_t)(p.rank == 1 ? p.out_w : p.out_h);
        out_size[1] = (int32_t)(p.rank == 1 ? 1 : p.out_w);
        out_size[2] = 1;
    }
    return CONV4J_OK;
}

/*
 * Multiply-adds below which a call runs on the calling thread only. Waking
 * an OpenMP team and joining it costs microseconds (tens with
 * OMP_WAIT_POLICY=passive or on a loaded machine); 2^17 multiply-adds take
 * about 10-30 us on one core in these kernels, so a team cannot win much
 * below it. A round number, not tuned on a quiet machine.
 */
#define SERIAL_WORK_LIMIT ((int64_t)1 << 17)

static int64_t multiply_adds(const conv4j_problem *p)
{
    return p->batch * p->out_h * p->out_w * p->out_channels * p->kernel_h * p->kernel_w *
           p->in_channels_per_group;
}

conv4j_status conv4j_explain(const conv4j_conv_desc *desc, char *buffer, size_t capacity)
{
    if (desc == NULL || (buffer == NULL && capacity > 0)) {
        return CONV4J_ERR_NULL_POINTER;
    }
    conv4j_problem problem;
    const conv4j_status status = conv4j_problem_init(desc, &problem);
    if (status != CONV4J_OK) {
        if (capacity > 0) {
            snprintf(buffer, capacity, "conv4j: %s", conv4j_status_string(status));
        }
        return status;
    }
    char line[EXPLAIN_CAPACITY];
    int via_channels_last;
    choose_algorithm(&problem, conv4j_isa_config_active(), line, sizeof line, &via_channels_last);
    if (capacity > 0) {
        snprintf(buffer, capacity, "%s", line);
    }
    return CONV4J_OK;
}

/* The plan for a validated problem; weights is NULL only for backward
 * weights, which use no kernel (otherwise the plan takes a reference). */
static conv4j_status plan_make(const conv4j_problem *validated, conv4j_weights *weights,
                               conv4j_plan **plan_out)
{
    conv4j_problem problem = *validated;
    if (weights != NULL) {
        problem.kernel_nonfinite = conv4j_weights_nonfinite(weights);
    }
    conv4j_plan *plan = calloc(1, sizeof *plan);
    if (plan == NULL) {
        return CONV4J_ERR_OUT_OF_MEMORY;
    }
    plan->problem = problem;
    plan->config = conv4j_isa_config_active();
    plan->entry = choose_algorithm(&problem, plan->config, plan->explain, sizeof plan->explain,
                                   &plan->via_channels_last);
    if (verbose_enabled()) {
        fprintf(stderr, "%s\n", plan->explain);
    }
    if (plan->entry == NULL) {
        free(plan);
        return CONV4J_ERR_UNSUPPORTED;
    }
    if (weights != NULL) {
        conv4j_weights_retain(weights);
        plan->weights = weights;
    }

    if (plan->via_channels_last) {
        conv4j_layout_channels_last_problem(&problem, &plan->kernel_problem);
    } else {
        plan->kernel_problem = problem;
    }
    const conv4j_problem *kernel_problem = &plan->kernel_problem;
    if (plan->entry->pack != NULL) {
        plan->packed_kernel =
            conv4j_weights_packed(weights, plan->entry, plan->config, kernel_problem);
        if (plan->packed_kernel == NULL) {
            conv4j_plan_destroy(plan);
            return CONV4J_ERR_OUT_OF_MEMORY;
        }
        plan->bias = conv4j_weights_bias(weights);
    }
    plan->slices = conv4j_max_threads();
    plan->workspace_size = plan->entry->workspace_size(kernel_problem, plan->config, plan->slices);
    if (plan->via_channels_last) {
        const size_t kernel_workspace = plan->workspace_size;
        plan->workspace_size = conv4j_layout_workspace_size(&problem, kernel_workspace);
        if (plan->workspace_size == 0 && kernel_workspace > 0) {
            conv4j_plan_destroy(plan);
            return CONV4J_ERR_SIZE_OVERFLOW;
        }
    }
    plan->serial =
        !(problem.flags & CONV4J_FLAG_FULL_TEAM) && multiply_adds(&problem) < SERIAL_WORK_LIMIT;
    if (plan->workspace_size > 0) {
        plan->pool = malloc(sizeof *plan->pool);
        if (plan->pool == NULL) {
            conv4j_plan_destroy(plan);
            return CONV4J_ERR_OUT_OF_MEMORY;
        }
        conv4j_workspace_pool_init(plan->pool, plan->workspace_size);
    }
    *plan_out = plan;
    return CONV4J_OK;
}

conv4j_status conv4j_plan_create_with_weights(const conv4j_conv_desc *desc,
                                              conv4j_weights *weights, conv4j_plan **plan_out)
{
    if (plan_out == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    *plan_out = NULL;
    if (desc == NULL || weights == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    conv4j_problem problem;
    const conv4j_status status = conv4j_problem_init(desc, &problem);
    if (status != CONV4J_OK) {
        return status;
    }
    if (!conv4j_weights_match(weights, &problem)) {
        return CONV4J_ERR_WEIGHTS_MISMATCH;
    }
    /* Backward weights read no kernel: the plan need not hold them. */
    return plan_make(&problem,
                     problem.propagation == CONV4J_PROPAGATION_BACKWARD_WEIGHTS ? NULL : weights,
                     plan_out);
}

conv4j_status conv4j_plan_create(const conv4j_conv_desc *desc, const float *kernel,
                                 const float *bias, conv4j_plan **plan_out)
{
    if (plan_out == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    *plan_out = NULL;
    if (desc != NULL && desc->propagation == CONV4J_PROPAGATION_BACKWARD_WEIGHTS) {
        conv4j_problem problem;
        const conv4j_status status = conv4j_problem_init(desc, &problem);
        return status != CONV4J_OK ? status : plan_make(&problem, NULL, plan_out);
    }
    conv4j_weights *weights = NULL;
    const conv4j_status status = conv4j_weights_create(desc, kernel, bias, &weights);
    if (status != CONV4J_OK) {
        return status;
    }
    /* The plan keeps its own reference; this one goes either way. */
    const conv4j_status planned = conv4j_plan_create_with_weights(desc, weights, plan_out);
    conv4j_weights_destroy(weights);
    return planned;
}

size_t conv4j_plan_workspace_size(const conv4j_plan *plan)
{
    return plan == NULL ? 0 : plan->workspace_size;
}

conv4j_algorithm conv4j_plan_algorithm(const conv4j_plan *plan)
{
    return plan == NULL ? CONV4J_ALGORITHM_AUTO : plan->entry->algorithm;
}

const char *conv4j_plan_explain(const conv4j_plan *plan)
{
    return plan == NULL ? "conv4j: no plan" : plan->explain;
}

/* The call's scratch: the caller's workspace, or a buffer lent from the
 * plan's pool (*lent, to give back). */
static conv4j_status take_scratch(const conv4j_plan *plan, void *workspace, size_t workspace_size,
                                  void **scratch, void **lent)
{
    *scratch = NULL;
    *lent = NULL;
    const size_t needed = plan->workspace_size;
    if (needed == 0) {
        return CONV4J_OK;
    }
    if (workspace != NULL) {
        if (workspace_size < needed) {
            return CONV4J_ERR_WORKSPACE_TOO_SMALL;
        }
        *scratch = workspace;
        return CONV4J_OK;
    }
    /* Lent to this call alone: concurrent calls never share a buffer. */
    *lent = conv4j_workspace_take(plan->pool);
    if (*lent == NULL) {
        return CONV4J_ERR_OUT_OF_MEMORY;
    }
    *scratch = conv4j_workspace_aligned(*lent);
    return CONV4J_OK;
}

static int32_t team_size(const conv4j_plan *plan, int32_t threads)
{
    int32_t team = plan->serial ? 1 : threads == 0 ? conv4j_max_threads() : threads;
    team = team < plan->slices ? team : plan->slices;
    return team > 0 ? team : 1;
}

conv4j_status conv4j_plan_execute(const conv4j_plan *plan, const float *input, float *output,
                                  void *workspace, size_t workspace_size, int32_t threads)
{
    if (plan == NULL || input == NULL || output == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    if (threads < 0) {
        return CONV4J_ERR_INVALID_THREADS;
    }
    if (plan->entry->run == NULL) {
        return CONV4J_ERR_INVALID_PROPAGATION; /* a backward-weights plan */
    }
    void *scratch, *lent;
    const conv4j_status status = take_scratch(plan, workspace, workspace_size, &scratch, &lent);
    if (status != CONV4J_OK) {
        return status;
    }
    const int32_t team = team_size(plan, threads);
    if (plan->via_channels_last) {
        conv4j_layout_run(&plan->problem, &plan->kernel_problem, plan->entry, plan->config,
                          plan->packed_kernel, plan->bias, input, output, scratch, team);
    } else {
        plan->entry->run(&plan->kernel_problem, plan->config, plan->packed_kernel, plan->bias,
                         input, output, scratch, team);
    }
    if (lent != NULL) {
        conv4j_workspace_give(plan->pool, lent);
    }
    return CONV4J_OK;
}

conv4j_status conv4j_plan_execute_backward_weights(const conv4j_plan *plan, const float *input,
                                                   const float *output_gradient,
                                                   float *kernel_gradient, float *bias_gradient,
                                                   void *workspace, size_t workspace_size,
                                                   int32_t threads)
{
    if (plan == NULL || input == NULL || output_gradient == NULL || kernel_gradient == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    if (threads < 0) {
        return CONV4J_ERR_INVALID_THREADS;
    }
    if (plan->entry->run_weights == NULL) {
        return CONV4J_ERR_INVALID_PROPAGATION;
    }
    void *scratch, *lent;
    const conv4j_status status = take_scratch(plan, workspace, workspace_size, &scratch, &lent);
    if (status != CONV4J_OK) {
        return status;
    }
    const int32_t team = team_size(plan, threads);
    if (plan->via_channels_last) {
        conv4j_layout_run_weights(&plan->problem, &plan->kernel_problem, plan->entry, plan->config,
                                  input, output_gradient, kernel_gradient, bias_gradient, scratch,
                                  team);
    } else {
        plan->entry->run_weights(&plan->kernel_problem, plan->config, input, output_gradient,
                                 kernel_gradient, bias_gradient, scratch, team);
    }
    if (lent != NULL) {
        conv4j_workspace_give(plan->pool, lent);
    }
    return CONV4J_OK;
}

void conv4j_plan_destroy(conv4j_plan *plan)
{
    if (plan == NULL) {
        return;
    }
    if (plan->pool != NULL) {
        conv4j_workspace_pool_destroy(plan->pool);
        free(plan->pool);
    }
    conv4j_weights_destroy(plan->weights);
    free(plan);
}

conv4j_status conv4j_reference_conv(const conv4j_conv_desc *desc, const float *input,
                                    const float *kernel, const float *bias, float *output)
{
    if (desc == NULL || input == NULL || kernel == NULL || output == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    conv4j_problem problem;
    const conv4j_status status = conv4j_problem_init(desc, &problem);
    if (status != CONV4J_OK) {
        return status;
    }
    switch (problem.propagation) {
    case CONV4J_PROPAGATION_FORWARD:
        conv4j_reference_compute(&problem, input, kernel, bias, output);
        return CONV4J_OK;
    case CONV4J_PROPAGATION_BACKWARD_DATA:
        conv4j_reference_backward_data(&problem, input, kernel, bias, output);
        return CONV4J_OK;
    case CONV4J_PROPAGATION_BACKWARD_WEIGHTS:
        break;
    }
    return CONV4J_ERR_INVALID_PROPAGATION; /* two outputs: a REFERENCE plan computes them */
}

int32_t conv4j_max_threads(void)
{
#ifdef _OPENMP
    const int threads = omp_get_max_threads();
    return threads > 0 ? (int32_t)threads : 1;
#else
    return 1;
#endif
}

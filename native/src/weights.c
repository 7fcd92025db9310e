/*
 * A layer's weights, packed lazily once per (algorithm, ISA config; for
 * backward data also per stride and dilation) and
 * shared by every plan made from them. Packing depends only on the kernel
 * tensor and the config (internal.h), so plans for new batch sizes or input
 * lengths reuse it. A mutex guards the packing list and the reference count;
 * execute never takes it (a plan keeps a pointer to its packing, which lives
 * as long as the weights).
 */
#include "weights.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct packing {
    const conv4j_algorithm_entry *entry;
    const conv4j_isa_config *config;
    int64_t geometry[4]; /* strides and dilations, for entries whose packing needs them */
    size_t count; /* floats */
    float *data;
    struct packing *next;
} packing;

struct conv4j_weights {
    conv4j_problem layer; /* the problem they were created for: the kernel tensor */
    float *kernel;        /* the Keras kernel, kept to pack for later algorithms */
    float *bias;          /* NULL when none */
    int64_t bias_count;   /* in_channels for backward-data weights, else out_channels */
    int kernel_nonfinite;
    pthread_mutex_t lock;
    int64_t references; /* guarded by lock */
    int64_t packs;      /* guarded by lock */
    packing *packings;  /* guarded by lock */
};

static size_t float_bytes(size_t count)
{
    return count > SIZE_MAX / sizeof(float) ? 0 : count * sizeof(float);
}

static void free_weights(conv4j_weights *w)
{
    packing *p = w->packings;
    while (p != NULL) {
        packing *next = p->next;
        free(p->data);
        free(p);
        p = next;
    }
    pthread_mutex_destroy(&w->lock);
    free(w->kernel);
    free(w->bias);
    free(w);
}

conv4j_status conv4j_weights_create(const conv4j_conv_desc *desc, const float *kernel,
                                    const float *bias, conv4j_weights **weights_out)
{
    if (weights_out == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    *weights_out = NULL;
    if (desc == NULL || kernel == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    conv4j_problem problem;
    const conv4j_status status = conv4j_problem_init(desc, &problem);
    if (status != CONV4J_OK) {
        return status;
    }
    const int64_t kernel_count = conv4j_kernel_count(&problem);
    conv4j_weights *w = calloc(1, sizeof *w);
    if (w == NULL) {
        return CONV4J_ERR_OUT_OF_MEMORY;
    }
    if (pthread_mutex_init(&w->lock, NULL) != 0) {
        free(w);
        return CONV4J_ERR_OUT_OF_MEMORY;
    }
    w->layer = problem;
    w->references = 1;
    w->kernel = malloc(float_bytes((size_t)kernel_count));
    w->bias_count = problem.propagation == CONV4J_PROPAGATION_BACKWARD_DATA
                        ? problem.in_channels
                        : problem.out_channels;
    w->bias = bias != NULL ? malloc(float_bytes((size_t)w->bias_count)) : NULL;
    if (w->kernel == NULL || (bias != NULL && w->bias == NULL)) {
        free_weights(w);
        return CONV4J_ERR_OUT_OF_MEMORY;
    }
    memcpy(w->kernel, kernel, float_bytes((size_t)kernel_count));
    if (bias != NULL) {
        memcpy(w->bias, bias, float_bytes((size_t)w->bias_count));
    }
    for (int64_t i = 0; i < kernel_count; ++i) {
        if (!isfinite(kernel[i])) {
            w->kernel_nonfinite = 1;
            break;
        }
    }
    *weights_out = w;
    return CONV4J_OK;
}

int conv4j_weights_match(const conv4j_weights *w, const conv4j_problem *p)
{
    const conv4j_problem *l = &w->layer;
    /* A bias is over Cin for backward data and over Cout for forward: a
     * plan of one cannot use the other's. Backward weights use no bias. */
    const int bias_fits = w->bias == NULL ||
                          p->propagation == CONV4J_PROPAGATION_BACKWARD_WEIGHTS ||
                          (p->propagation == CONV4J_PROPAGATION_BACKWARD_DATA) ==
                              (l->propagation == CONV4J_PROPAGATION_BACKWARD_DATA);
    return p->rank == l->rank && p->in_channels == l->in_channels &&
           p->out_channels == l->out_channels && p->kernel_h == l->kernel_h &&
           p->kernel_w == l->kernel_w && p->groups == l->groups && bias_fits;
}

int conv4j_weights_nonfinite(const conv4j_weights *w)
{
    return w->kernel_nonfinite;
}

const float *conv4j_weights_bias(const conv4j_weights *w)
{
    return w->bias;
}

void conv4j_weights_retain(conv4j_weights *w)
{
    pthread_mutex_lock(&w->lock);
    ++w->references;
    pthread_mutex_unlock(&w->lock);
}

const float *conv4j_weights_packed(conv4j_weights *w, const conv4j_algorithm_entry *entry,
                                   const conv4j_isa_config *config, const conv4j_problem *p)
{
    const size_t count = entry->packed_kernel_count(p, config);
    const size_t bytes = float_bytes(count);
    if (count > 0 && bytes == 0) {
        return NULL;
    }
    int64_t geometry[4] = {0, 0, 0, 0};
    if (entry->packs_per_stride) {
        geometry[0] = p->stride_h;
        geometry[1] = p->stride_w;
        geometry[2] = p->dilation_h;
        geometry[3] = p->dilation_w;
    }
    pthread_mutex_lock(&w->lock);
    for (packing *k = w->packings; k != NULL; k = k->next) {
        if (k->entry->pack == entry->pack && k->config == config && k->count == count &&
            memcmp(k->geometry, geometry, sizeof geometry) == 0) {
            pthread_mutex_unlock(&w->lock);
            return k->data;
        }
    }
    packing *k = malloc(sizeof *k);
    float *data = malloc(bytes > 0 ? bytes : sizeof(float));
    if (k == NULL || data == NULL) {
        pthread_mutex_unlock(&w->lock);
        free(k);
        free(data);
        return NULL;
    }
    entry->pack(p, config, w->kernel, data);
    k->entry = entry;
    k->config = config;
    memcpy(k->geometry, geometry, sizeof geometry);
    k->count = count;
    k->data = data;
    k->next = w->packings;
    w->packings = k;
    ++w->packs;
    pthread_mutex_unlock(&w->lock);
    return data;
}

int64_t conv4j_weights_pack_count(const conv4j_weights *weights)
{
    if (weights == NULL) {
        return 0;
    }
    conv4j_weights *w = (conv4j_weights *)weights; /* the lock is not part of the value */
    pthread_mutex_lock(&w->lock);
    const int64_t packs = w->packs;
    pthread_mutex_unlock(&w->lock);
    return packs;
}

void conv4j_weights_destroy(conv4j_weights *w)
{
    if (w == NULL) {
        return;
    }
    pthread_mutex_lock(&w->lock);
    const int64_t left = --w->references;
    pthread_mutex_unlock(&w->lock);
    if (left == 0) {
        free_weights(w);
    }
}

/*
 * Optimizer steps over float arrays (conv4j.h): Keras 3's SGD and Adam in
 * float32 with its order of operations, one element at a time, so a trainer
 * can keep master weights and optimizer state in native memory. This file
 * is compiled without FMA contraction (-std=c11), as TensorFlow's separate
 * element-wise ops round after each multiply and add.
 */
#include "conv4j.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Below this many elements a team costs more than the loop. */
#define OPTIMIZER_SERIAL_COUNT 32768

static int finite_positive(double x)
{
    return x > 0 && isfinite(x);
}

static int unit_interval(double x)
{
    return x >= 0 && x < 1;
}

static int team(int64_t count, int32_t threads)
{
    if (count < OPTIMIZER_SERIAL_COUNT) {
        return 1;
    }
    return threads == 0 ? (int)conv4j_max_threads() : (int)threads;
}

static conv4j_status check_common(const float *weights, const float *gradient, int64_t count,
                                  int32_t threads)
{
    if (weights == NULL || gradient == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    if (count < 0) {
        return CONV4J_ERR_INVALID_SIZE;
    }
    if (threads < 0) {
        return CONV4J_ERR_INVALID_THREADS;
    }
    return CONV4J_OK;
}

conv4j_status conv4j_sgd_step(float *weights, float *velocity, const float *gradient, int64_t count,
                              double learning_rate, double momentum, int32_t threads)
{
    const conv4j_status status = check_common(weights, gradient, count, threads);
    if (status != CONV4J_OK) {
        return status;
    }
    if (!finite_positive(learning_rate) || !unit_interval(momentum)) {
        return CONV4J_ERR_INVALID_HYPERPARAMETER;
    }
    const float lr = (float)learning_rate;
    const float mu = (float)momentum;
    if (mu == 0.0f) { /* Keras keeps no velocity then */
#pragma omp parallel for schedule(static) num_threads(team(count, threads))
        for (int64_t i = 0; i < count; ++i) {
            weights[i] -= gradient[i] * lr;
        }
        return CONV4J_OK;
    }
    if (velocity == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
#pragma omp parallel for schedule(static) num_threads(team(count, threads))
    for (int64_t i = 0; i < count; ++i) {
        const float v = velocity[i] * mu - gradient[i] * lr;
        velocity[i] = v;
        weights[i] += v;
    }
    return CONV4J_OK;
}

conv4j_status conv4j_adam_step(float *weights, float *m, float *v, const float *gradient,
                               int64_t count, double learning_rate, double beta1, double beta2,
                               double epsilon, int64_t step, int32_t threads)
{
    const conv4j_status status = check_common(weights, gradient, count, threads);
    if (status != CONV4J_OK) {
        return status;
    }
    if (m == NULL || v == NULL) {
        return CONV4J_ERR_NULL_POINTER;
    }
    if (!finite_positive(learning_rate) || !finite_positive(epsilon) || !unit_interval(beta1) ||
        !unit_interval(beta2) || step < 1) {
        return CONV4J_ERR_INVALID_HYPERPARAMETER;
    }
    /* Keras: local_step and the betas cast to float32, alpha in float32. */
    const float t = (float)step;
    const float b1_power = powf((float)beta1, t);
    const float b2_power = powf((float)beta2, t);
    const float alpha = (float)learning_rate * sqrtf(1.0f - b2_power) / (1.0f - b1_power);
    const float c1 = (float)(1.0 - beta1); /* Python's 1 - beta, then cast */
    const float c2 = (float)(1.0 - beta2);
    const float eps = (float)epsilon;
#pragma omp parallel for schedule(static) num_threads(team(count, threads))
    for (int64_t i = 0; i < count; ++i) {
        const float g = gradient[i];
        const float mi = m[i] + (g - m[i]) * c1;
        const float vi = v[i] + (g * g - v[i]) * c2;
        m[i] = mi;
        v[i] = vi;
        weights[i] -= (mi * alpha) / (sqrtf(vi) + eps);
    }
    return CONV4J_OK;
}

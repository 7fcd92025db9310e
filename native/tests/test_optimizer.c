/* conv4j_sgd_step and conv4j_adam_step: against the same formulas in double
 * (on the float32 hyperparameters Keras casts to) on random arrays over
 * several steps, an exact small example, bit-identical results for 1 and 2
 * threads, and argument validation. */
#include "test_util.h"

#define U (1.0 / 16777216.0) /* float32 unit roundoff, 2^-24 */

static void fill(test_rng *rng, float *x, int64_t n, float scale, int positive)
{
    for (int64_t i = 0; i < n; ++i) {
        const float r = test_rng_float(rng) * scale;
        x[i] = positive ? fabsf(r) : r;
    }
}

static void test_sgd_vs_double(test_rng *rng, int64_t n, double lr, double mu, int32_t threads)
{
    float *w = malloc(sizeof(float) * (size_t)n), *v = malloc(sizeof(float) * (size_t)n),
          *g = malloc(sizeof(float) * (size_t)n);
    fill(rng, w, n, 1.0f, 0);
    fill(rng, v, n, mu == 0 ? 0.0f : 0.1f, 0);
    const double lr_f = (float)lr, mu_f = (float)mu;
    for (int step = 0; step < 4; ++step) {
        fill(rng, g, n, 2.0f, 0);
        double worst = 0;
        int64_t bad = 0;
        float *w_before = malloc(sizeof(float) * (size_t)n), *v_before = malloc(sizeof(float) * (size_t)n);
        memcpy(w_before, w, sizeof(float) * (size_t)n);
        memcpy(v_before, v, sizeof(float) * (size_t)n);
        CHECK_STATUS(conv4j_sgd_step(w, mu == 0 ? NULL : v, g, n, lr, mu, threads), CONV4J_OK);
        for (int64_t i = 0; i < n; ++i) {
            const double vd = (double)v_before[i] * mu_f - (double)g[i] * lr_f;
            const double wd = mu == 0 ? w_before[i] - (double)g[i] * lr_f : w_before[i] + vd;
            const double vbound = 3 * U * (fabs((double)v_before[i] * mu_f) + fabs((double)g[i] * lr_f));
            const double wbound = (mu == 0 ? 2 * U * fabs((double)g[i] * lr_f) : vbound) + U * fabs(wd);
            const double err = fabs(w[i] - wd);
            if (err > wbound) {
                ++bad;
            }
            if (mu != 0 && fabs(v[i] - vd) > vbound) {
                ++bad;
            }
            worst = err > worst ? err : worst;
        }
        CHECK(bad == 0, "sgd n=%lld lr=%g mu=%g step %d: %lld elements past the bound (worst %g)",
              (long long)n, lr, mu, step, (long long)bad, worst);
        free(w_before);
        free(v_before);
    }
    free(w);
    free(v);
    free(g);
}

static void test_adam_vs_double(test_rng *rng, int64_t n, double lr, double b1, double b2, double eps,
                                int32_t threads)
{
    float *w = malloc(sizeof(float) * (size_t)n), *m = calloc((size_t)n, sizeof(float)),
          *v = calloc((size_t)n, sizeof(float)), *g = malloc(sizeof(float) * (size_t)n);
    float *w0 = malloc(sizeof(float) * (size_t)n), *m0 = malloc(sizeof(float) * (size_t)n),
          *v0 = malloc(sizeof(float) * (size_t)n);
    fill(rng, w, n, 1.0f, 0);
    const double lr_f = (float)lr, b1_f = (float)b1, b2_f = (float)b2, eps_f = (float)eps;
    const double c1 = (float)(1.0 - b1), c2 = (float)(1.0 - b2);
    for (int64_t t = 1; t <= 6; ++t) {
        fill(rng, g, n, 2.0f, 0);
        if (t == 3) {
            for (int64_t i = 0; i < n; i += 7) {
                g[i] = 0.0f; /* v may then shrink toward 0: the epsilon matters */
            }
        }
        memcpy(w0, w, sizeof(float) * (size_t)n);
        memcpy(m0, m, sizeof(float) * (size_t)n);
        memcpy(v0, v, sizeof(float) * (size_t)n);
        CHECK_STATUS(conv4j_adam_step(w, m, v, g, n, lr, b1, b2, eps, t, threads), CONV4J_OK);
        const double b1p = pow(b1_f, (double)t), b2p = pow(b2_f, (double)t);
        const double alpha = lr_f * sqrt(1 - b2p) / (1 - b1p);
        /* powf within 2 ulp, then 1 - x cancels: relative error of alpha. */
        const double ra = 8 * U * (1 + b1p / (1 - b1p) + b2p / (1 - b2p));
        int64_t bad = 0;
        double worst = 0;
        for (int64_t i = 0; i < n; ++i) {
            const double gi = g[i];
            const double md = m0[i] + (gi - m0[i]) * c1;
            const double vd = v0[i] + (gi * gi - v0[i]) * c2;
            const double em = 4 * U * (fabs(m0[i]) + fabs(gi));
            const double ev = 4 * U * (v0[i] + gi * gi);
            const double den = sqrt(vd) + eps_f;
            const double d = md * alpha / den;
            const double wd = w0[i] - d;
            const double rv = vd > 0 ? ev / (2 * vd) : 0;
            const double wbound = U * fabs(wd) + fabs(d) * (ra + rv + 8 * U) + alpha * em / den;
            if (fabs(m[i] - md) > em || fabs(v[i] - vd) > ev) {
                ++bad;
            }
            const double err = fabs(w[i] - wd);
            if (err > wbound) {
                ++bad;
            }
            worst = err > worst ? err : worst;
        }
        CHECK(bad == 0, "adam n=%lld step %lld: %lld elements past the bound (worst %g)", (long long)n,
              (long long)t, (long long)bad, worst);
    }
    free(w);
    free(m);
    free(v);
    free(g);
    free(w0);
    free(m0);
    free(v0);
}

/* Values chosen so every operation is exact in float32. */
static void test_exact_example(void)
{
    float w[2] = {1.0f, -2.0f}, v[2] = {0.5f, 0.0f};
    const float g[2] = {2.0f, -4.0f};
    CHECK_STATUS(conv4j_sgd_step(w, v, g, 2, 0.25, 0.5, 1), CONV4J_OK);
    /* v = 0.5*0.5 - 2*0.25 = -0.25, w = 0.75; v = 0 - (-4)*0.25 = 1, w = -1 */
    CHECK(v[0] == -0.25f && w[0] == 0.75f, "sgd: v %g w %g", v[0], w[0]);
    CHECK(v[1] == 1.0f && w[1] == -1.0f, "sgd: v %g w %g", v[1], w[1]);

    float x[1] = {3.0f};
    CHECK_STATUS(conv4j_sgd_step(x, NULL, g, 1, 0.5, 0.0, 1), CONV4J_OK);
    CHECK(x[0] == 2.0f, "sgd without momentum: %g", x[0]);

    /* Adam t=1, beta1 0.5, beta2 0.75, lr 0.5, eps 1: alpha = 0.5 * sqrt(0.25) / 0.5 = 0.5;
     * m = 2 * 0.5 = 1; v = 4 * 0.25 = 1; w = 1 - 1 * 0.5 / (1 + 1) = 0.75. */
    float aw[1] = {1.0f}, am[1] = {0.0f}, av[1] = {0.0f};
    CHECK_STATUS(conv4j_adam_step(aw, am, av, g, 1, 0.5, 0.5, 0.75, 1.0, 1, 1), CONV4J_OK);
    CHECK(am[0] == 1.0f && av[0] == 1.0f && aw[0] == 0.75f, "adam: m %g v %g w %g", am[0], av[0], aw[0]);
    /* t=2, g=2: alpha = 0.5 * sqrt(1 - 0.5625) / 0.75 = 0.5 * (sqrt(7)/4) / 0.75 (rounded);
     * m = 1 + (2 - 1) * 0.5 = 1.5; v = 1 + (4 - 1) * 0.25 = 1.75. */
    CHECK_STATUS(conv4j_adam_step(aw, am, av, g, 1, 0.5, 0.5, 0.75, 1.0, 2, 1), CONV4J_OK);
    const float alpha = 0.5f * sqrtf(1.0f - 0.5625f) / 0.75f;
    const float expect = 0.75f - (1.5f * alpha) / (sqrtf(1.75f) + 1.0f);
    CHECK(am[0] == 1.5f && av[0] == 1.75f && aw[0] == expect, "adam t=2: m %g v %g w %.9g (want %.9g)",
          am[0], av[0], aw[0], expect);
}

static void test_threads_identical(test_rng *rng)
{
    const int64_t n = 200003; /* past the serial cutoff, odd */
    float *g = malloc(sizeof(float) * (size_t)n);
    float *w[2], *m[2], *v[2];
    fill(rng, g, n, 1.0f, 0);
    for (int k = 0; k < 2; ++k) {
        w[k] = malloc(sizeof(float) * (size_t)n);
        m[k] = malloc(sizeof(float) * (size_t)n);
        v[k] = malloc(sizeof(float) * (size_t)n);
    }
    fill(rng, w[0], n, 1.0f, 0);
    fill(rng, m[0], n, 0.1f, 0);
    fill(rng, v[0], n, 0.1f, 1);
    memcpy(w[1], w[0], sizeof(float) * (size_t)n);
    memcpy(m[1], m[0], sizeof(float) * (size_t)n);
    memcpy(v[1], v[0], sizeof(float) * (size_t)n);
    for (int k = 0; k < 2; ++k) {
        CHECK_STATUS(conv4j_adam_step(w[k], m[k], v[k], g, n, 1e-3, 0.9, 0.999, 1e-7, 5, k + 1), CONV4J_OK);
        CHECK_STATUS(conv4j_sgd_step(w[k], m[k], g, n, 0.01, 0.9, k == 0 ? 1 : 0), CONV4J_OK);
    }
    CHECK(memcmp(w[0], w[1], sizeof(float) * (size_t)n) == 0 &&
              memcmp(m[0], m[1], sizeof(float) * (size_t)n) == 0 &&
              memcmp(v[0], v[1], sizeof(float) * (size_t)n) == 0,
          "results differ between 1 and 2 threads");
    for (int k = 0; k < 2; ++k) {
        free(w[k]);
        free(m[k]);
        free(v[k]);
    }
    free(g);
}

static void test_validation(void)
{
    float w[1] = {1.0f}, s[1] = {0.0f}, t[1] = {0.0f};
    const float g[1] = {1.0f};
    CHECK_STATUS(conv4j_sgd_step(NULL, s, g, 1, 0.1, 0.9, 1), CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_sgd_step(w, s, NULL, 1, 0.1, 0.9, 1), CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_sgd_step(w, NULL, g, 1, 0.1, 0.9, 1), CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_sgd_step(w, s, g, -1, 0.1, 0.9, 1), CONV4J_ERR_INVALID_SIZE);
    CHECK_STATUS(conv4j_sgd_step(w, s, g, 1, 0.1, 0.9, -1), CONV4J_ERR_INVALID_THREADS);
    CHECK_STATUS(conv4j_sgd_step(w, s, g, 1, 0.0, 0.9, 1), CONV4J_ERR_INVALID_HYPERPARAMETER);
    CHECK_STATUS(conv4j_sgd_step(w, s, g, 1, NAN, 0.9, 1), CONV4J_ERR_INVALID_HYPERPARAMETER);
    CHECK_STATUS(conv4j_sgd_step(w, s, g, 1, INFINITY, 0.9, 1), CONV4J_ERR_INVALID_HYPERPARAMETER);
    CHECK_STATUS(conv4j_sgd_step(w, s, g, 1, 0.1, 1.0, 1), CONV4J_ERR_INVALID_HYPERPARAMETER);
    CHECK_STATUS(conv4j_sgd_step(w, s, g, 1, 0.1, -0.1, 1), CONV4J_ERR_INVALID_HYPERPARAMETER);
    CHECK_STATUS(conv4j_adam_step(w, s, NULL, g, 1, 0.1, 0.9, 0.999, 1e-7, 1, 1), CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_adam_step(w, NULL, t, g, 1, 0.1, 0.9, 0.999, 1e-7, 1, 1), CONV4J_ERR_NULL_POINTER);
    CHECK_STATUS(conv4j_adam_step(w, s, t, g, 1, 0.1, 0.9, 0.999, 1e-7, 0, 1),
                 CONV4J_ERR_INVALID_HYPERPARAMETER);
    CHECK_STATUS(conv4j_adam_step(w, s, t, g, 1, 0.1, 1.0, 0.999, 1e-7, 1, 1),
                 CONV4J_ERR_INVALID_HYPERPARAMETER);
    CHECK_STATUS(conv4j_adam_step(w, s, t, g, 1, 0.1, 0.9, NAN, 1e-7, 1, 1),
                 CONV4J_ERR_INVALID_HYPERPARAMETER);
    CHECK_STATUS(conv4j_adam_step(w, s, t, g, 1, 0.1, 0.9, 0.999, 0.0, 1, 1),
                 CONV4J_ERR_INVALID_HYPERPARAMETER);
    CHECK_STATUS(conv4j_adam_step(w, s, t, g, 0, 0.1, 0.9, 0.999, 1e-7, 1, 1), CONV4J_OK);
    CHECK(w[0] == 1.0f && s[0] == 0.0f && t[0] == 0.0f, "a refused or empty step changed the arrays");
}

int main(void)
{
    test_rng rng = {0x5eed0f7};
    test_exact_example();
    test_validation();
    const double rates[3] = {0.1, 0.01, 1e-3};
    for (int k = 0; k < 3; ++k) {
        test_sgd_vs_double(&rng, 1000 + 37 * k, rates[k], 0.9, 1);
        test_sgd_vs_double(&rng, 999, rates[k], 0.0, 1);
        test_adam_vs_double(&rng, 1001 + 13 * k, rates[k], 0.9, 0.999, 1e-7, 1);
        test_adam_vs_double(&rng, 777, rates[k], 0.5, 0.75, 0.25, 1);
    }
    test_sgd_vs_double(&rng, 70000, 0.05, 0.8, 2);
    test_adam_vs_double(&rng, 70000, 0.01, 0.9, 0.999, 1e-7, 2);
    test_threads_identical(&rng);
    return test_summary("test_optimizer");
}

/*
 * Every ISA config's GEMM micro-kernel against a double-precision loop: m, n,
 * k below, at and above its register tile, accumulate on and off, the bias/relu
 * epilogue, and the segmented (indirect) A of the convolutions. A and packed
 * B end at an unmapped page and C sits inside a sentinel-filled frame, so a
 * read past A or B faults and a write outside C is caught.
 *
 * Bound per element: |got - exact| <= gamma(k + 2) * (|C0| + sum |a b| + |bias|)
 * with gamma(j) = j u / (1 - j u), u = 2^-24: any summation order of k
 * products plus two more terms stays inside it.
 */
#include <math.h>
#include <stdlib.h>

#include "config/isa_config.h"
#include "gemm/f32_gemm.h"
#include "test_guarded.h"
#include "test_util.h"


#define SENTINEL 12345.0f


/* One config's micro-kernel. */
typedef struct gemm_kernel {
    const char *name;
    conv4j_f32_igemm_tile_fn tile;
    int64_t mr, nr;
} gemm_kernel;

/* One product through the plain-GEMM driver (segments 0: no epilogue but
 * accumulate) or the tile function directly with an epilogue and A split
 * into `segments` pieces per row. */
static void check_product(test_rng *rng, const gemm_kernel *kernel, int64_t m, int64_t n,
                          int64_t k, int accumulate, int with_bias, int relu, int64_t segments)
{
    const int64_t lda = k + test_rng_int(rng, 0, 1) * 3;
    const int64_t ldc = n + 2;
    const int64_t frame_rows = m + 2; /* one sentinel row above and below */
    guarded ga, gb, gc;
    float *a = guarded_alloc(&ga, (size_t)((m - 1) * lda + k));
    float *packed = guarded_alloc(&gb, conv4j_f32_gemm_packed_b_count(k, n, kernel->nr));
    float *frame = guarded_alloc(&gc, (size_t)(frame_rows * ldc));
    float *b = malloc((size_t)(k * n) * sizeof(float));
    float *bias = malloc((size_t)n * sizeof(float));
    float *initial = malloc((size_t)(m * n) * sizeof(float));
    if (a == NULL || packed == NULL || frame == NULL || b == NULL || bias == NULL ||
        initial == NULL) {
        CHECK(0, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < (m - 1) * lda + k; ++i) {
        a[i] = test_rng_float(rng);
    }
    for (int64_t i = 0; i < k * n; ++i) {
        b[i] = test_rng_float(rng);
    }
    for (int64_t j = 0; j < n; ++j) {
        bias[j] = test_rng_float(rng);
    }
    conv4j_f32_gemm_pack_b(k, n, b, n, kernel->nr, packed);
    float *c = frame + ldc; /* row 0 of C */
    for (int64_t i = 0; i < frame_rows * ldc; ++i) {
        frame[i] = SENTINEL;
    }
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            initial[i * n + j] = test_rng_float(rng);
            c[i * ldc + j] = initial[i * n + j];
        }
    }

    const conv4j_f32_gemm_epilogue epilogue = {with_bias ? bias : NULL, relu, accumulate};
    if (segments == 0) {
        const conv4j_f32_gemm_epilogue plain = {NULL, 0, accumulate};
        conv4j_f32_gemm_run(kernel->tile, kernel->mr, m, n, k, a, lda, packed, c, ldc, &plain);
    } else {
        /* k split into equal pieces: the pointer to piece s of row i. */
        const int64_t length = k / segments;
        const int64_t mr = kernel->mr;
        for (int64_t row = 0; row < m; row += mr) {
            const int64_t height = m - row < mr ? m - row : mr;
            const float *pieces[8 * CONV4J_F32_GEMM_MAX_MR];
            for (int64_t s = 0; s < segments; ++s) {
                for (int64_t i = 0; i < mr; ++i) {
                    const int64_t r = row + (i < height ? i : height - 1);
                    pieces[s * mr + i] = a + r * lda + s * length;
                }
            }
            kernel->tile(height, n, segments, length, pieces, packed, c + row * ldc, ldc,
                         &epilogue);
        }
    }

    const double u = ldexp(1.0, -24);
    const double gamma = (double)(k + 2) * u / (1.0 - (double)(k + 2) * u);
    int64_t bad = 0;
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            double exact = accumulate ? initial[i * n + j] : 0.0;
            double magnitude = fabs(exact);
            for (int64_t p = 0; p < k; ++p) {
                const double product = (double)a[i * lda + p] * b[p * n + j];
                exact += product;
                magnitude += fabs(product);
            }
            if (segments != 0 && with_bias) {
                exact += bias[j];
                magnitude += fabs(bias[j]);
            }
            if (segments != 0 && relu && exact < 0.0) {
                exact = 0.0; /* relu is 1-Lipschitz: the bound still holds */
            }
            const double got = c[i * ldc + j];
            if (!(fabs(got - exact) <= gamma * magnitude + 1e-30) && bad++ == 0) {
                CHECK(0, "%s m=%lld n=%lld k=%lld acc=%d bias=%d relu=%d segments=%lld: "
                         "C[%lld][%lld] = %.9g, exact %.9g",
                      kernel->name, (long long)m, (long long)n, (long long)k, accumulate,
                      with_bias, relu, (long long)segments, (long long)i, (long long)j, got,
                      exact);
            }
        }
    }
    CHECK(bad == 0, "%s: %lld elements outside the bound", kernel->name, (long long)bad);
    int64_t touched = 0;
    for (int64_t r = 0; r < frame_rows; ++r) {
        for (int64_t j = 0; j < ldc; ++j) {
            const int inside = r >= 1 && r <= m && j < n;
            touched += !inside && frame[r * ldc + j] != SENTINEL;
        }
    }
    CHECK(touched == 0, "%s m=%lld n=%lld k=%lld: %lld elements written outside C",
          kernel->name, (long long)m, (long long)n, (long long)k, (long long)touched);
done:
    guarded_free(&ga);
    guarded_free(&gb);
    guarded_free(&gc);
    free(b);
    free(bias);
    free(initial);
}

static void check_kernel(const gemm_kernel *kernel)
{
    static const int64_t ms[] = {1, 2, 5, 6, 7, 11, 12, 13, 14, 15, 19, 29};
    static const int64_t ns[] = {1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 65};
    static const int64_t ks[] = {1, 2, 3, 6, 8, 16, 17, 64, 130};
    test_rng rng = {UINT64_C(0x9E3779B97F4A7C15)};
    const int before = test_check_count;
    for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; ++mi) {
        for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ++ni) {
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ++ki) {
                const int64_t m = ms[mi], n = ns[ni], k = ks[ki];
                for (int accumulate = 0; accumulate <= 1; ++accumulate) {
                    check_product(&rng, kernel, m, n, k, accumulate, 0, 0, 0);
                }
                /* The epilogue with A in 1, 2 or k/segments-sized pieces. */
                const int64_t segments = k % 2 == 0 ? 2 : 1;
                check_product(&rng, kernel, m, n, k, test_rng_int(&rng, 0, 1),
                              test_rng_int(&rng, 0, 1), test_rng_int(&rng, 0, 1), segments);
            }
        }
    }
    printf("%s: %d checks\n", kernel->name, test_check_count - before);
}

int main(void)
{
    /* Every config's micro-kernel this machine may run, twins included. */
    for (size_t i = 0; i < conv4j_isa_config_count(); ++i) {
        const conv4j_isa_config *config = conv4j_isa_config_at(i);
        if (!conv4j_isa_config_runnable(config)) {
            printf("%s CONFIG NOT TESTED: this CPU (or CONV4J_MAX_ISA) lacks %s\n", config->name,
                   conv4j_isa_name(config->isa));
            continue;
        }
        const gemm_kernel kernel = {config->name, config->igemm, config->gemm_mr, config->gemm_nr};
        check_kernel(&kernel);
    }
    /* Packed B is zero past n and keeps the panel layout the header states. */
    {
        const float b[3 * 17] = {[0] = 1.0f, [16] = 2.0f, [17] = 3.0f, [50] = 4.0f};
        float packed[2 * 3 * 16];
        CHECK(conv4j_f32_gemm_packed_b_count(3, 17, 16) == 2 * 3 * 16, "packed count");
        conv4j_f32_gemm_pack_b(3, 17, b, 17, 16, packed);
        CHECK(packed[0] == 1.0f && packed[16] == 3.0f, "panel 0 rows");
        CHECK(packed[3 * 16 + 0] == 2.0f && packed[3 * 16 + 2 * 16] == 4.0f, "panel 1 rows");
        int zero_tail = 1;
        for (int row = 0; row < 3; ++row) {
            for (int j = 1; j < 16; ++j) {
                zero_tail &= packed[3 * 16 + row * 16 + j] == 0.0f;
            }
        }
        CHECK(zero_tail, "panel 1 is zero past column 17");
    }
    return test_summary("test_gemm");
}

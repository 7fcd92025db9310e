/*
 * The 32-column GEMM micro-kernels (gemm/f32_igemm_x32.h) against a
 * double-precision loop: every m in 1..MR (and tiles driven past MR), n
 * across one and two 32-column panels with every 16- and 32-column tail,
 * k from 1 to long, A in `segments` pieces per row at unrelated addresses
 * (some rows sharing one zero piece, as padding does), accumulate on and
 * off, bias, relu with NaN. A's pieces and packed B end at an unmapped page
 * and C sits inside a sentinel-filled frame, so a read past A or B faults
 * and a write outside the m x n tile is caught.
 *
 * Bound per element: |got - exact| <= gamma(k + 2) * (|C0| + sum |a b| + |bias|)
 * with gamma(j) = j u / (1 - j u), u = 2^-24 (any summation order of k
 * products plus two more terms stays inside it).
 *
 * The AVX-512 kernel is also compared bit for bit against a loop of fmaf()
 * in the documented order (plain k order, one FMA chain per element, then C,
 * bias, relu): that is its reproducibility contract. The scalar twin is not
 * compared bit for bit: it rounds product and sum separately (unless a
 * compiler contracts them), so it agrees with the AVX-512 kernel only
 * within the bound. Making the twin use fmaf() would make it bit-exact but
 * a libm call per multiply-add on machines without FMA, and an
 * -ffp-contract=fast -mfma twin would not be portable.
 *
 * Also a smoke check of the 512-bit peak chunk (cpu/peak_avx512.h).
 *
 * The AVX-512 kernel runs only where the CPU has AVX-512 F/VL/BW/DQ and the
 * OS saves ZMM and opmask state; elsewhere one loud line says it was not
 * tested.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/peak_avx512.h"
#include "gemm/f32_igemm_x32.h"
#include "test_guarded.h"
#include "test_util.h"


#define MR CONV4J_F32_IGEMM_X32_MR
_Static_assert(MR <= CONV4J_F32_GEMM_MAX_MR, "callers size pointer arrays by MAX_MR");
#define NR CONV4J_F32_IGEMM_X32_NR
#define SENTINEL 12345.0f
#define MAX_SEGMENTS 8


typedef struct x32_kernel {
    const char *name;
    conv4j_f32_igemm_tile_fn tile;
    int bitwise_fma; /* results must equal the fmaf() loop bit for bit */
} x32_kernel;

typedef struct x32_case {
    int64_t m, n, segments, length;
    int accumulate, with_bias, relu;
    int nan_row;    /* row with a NaN in A, or -1 */
    int nan_column; /* column with a NaN bias, or -1 */
} x32_case;

/* The reference chain's fused multiply-add. mingw-w64's fmaf() (libmingwex, software) is not
 * correctly rounded: on Windows about one call in five of random operands is one ulp off the FMA
 * instruction. There the chain uses the instruction itself, which every CPU that runs the
 * AVX-512 kernel (the only one compared bit for bit) has. */
#if defined(__MINGW32__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("fma"))) static float chain_fmaf(float a, float b, float c)
{
    return __builtin_fmaf(a, b, c);
}
#else
#define chain_fmaf fmaf
#endif

static int same_float(float x, float y)
{
    if (isnan(x) || isnan(y)) {
        return isnan(x) && isnan(y);
    }
    uint32_t bx, by;
    memcpy(&bx, &x, sizeof bx);
    memcpy(&by, &y, sizeof by);
    return bx == by;
}

static void check_case(test_rng *rng, const x32_kernel *kernel, const x32_case *t)
{
    const int64_t m = t->m, n = t->n, segments = t->segments, length = t->length;
    const int64_t k = segments * length;
    const int64_t ldc = n + 3;
    const int64_t frame_rows = m + 2; /* one sentinel row above and below */
    /* A: m * segments pieces of `length` floats in a pool, one piece per
     * (row, segment) in a random order, plus one zero piece that rows share
     * now and then; the pool's last piece ends at the guard page. */
    const int64_t pieces = m * segments + 1;
    guarded ga, gb, gc;
    float *pool = guarded_alloc(&ga, (size_t)(pieces * length));
    float *packed = guarded_alloc(&gb, conv4j_f32_gemm_packed_b_count(k, n, NR));
    float *frame = guarded_alloc(&gc, (size_t)(frame_rows * ldc));
    float *b = malloc((size_t)(k * n) * sizeof(float));
    float *bias = malloc((size_t)n * sizeof(float));
    float *initial = malloc((size_t)(m * n) * sizeof(float));
    int64_t *order = malloc((size_t)pieces * sizeof(int64_t));
    const float **rows = malloc((size_t)(m * segments) * sizeof(float *)); /* [row][segment] */
    if (pool == NULL || packed == NULL || frame == NULL || b == NULL || bias == NULL ||
        initial == NULL || order == NULL || rows == NULL) {
        CHECK(0, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < pieces; ++i) {
        order[i] = i;
    }
    for (int64_t i = pieces - 1; i > 0; --i) {
        const int64_t j = (int64_t)(test_rng_next(rng) % (uint64_t)(i + 1));
        const int64_t swap = order[i];
        order[i] = order[j];
        order[j] = swap;
    }
    const int64_t zero_piece = order[pieces - 1];
    for (int64_t i = 0; i < pieces * length; ++i) {
        pool[i] = test_rng_float(rng);
    }
    for (int64_t p = 0; p < length; ++p) {
        pool[zero_piece * length + p] = 0.0f;
    }
    for (int64_t r = 0; r < m; ++r) {
        for (int64_t s = 0; s < segments; ++s) {
            const int shared = test_rng_int(rng, 0, 7) == 0 && r != t->nan_row;
            rows[r * segments + s] = pool + (shared ? zero_piece : order[r * segments + s]) * length;
        }
    }
    if (t->nan_row >= 0) {
        float *piece = pool + order[t->nan_row * segments + segments - 1] * length;
        piece[length / 2] = NAN;
    }
    for (int64_t i = 0; i < k * n; ++i) {
        b[i] = test_rng_float(rng);
    }
    for (int64_t j = 0; j < n; ++j) {
        bias[j] = test_rng_float(rng);
    }
    if (t->nan_column >= 0) {
        bias[t->nan_column] = NAN;
    }
    conv4j_f32_gemm_pack_b(k, n, b, n, NR, packed);
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

    /* Tiles of MR rows as a convolution driver runs them; the pointers of
     * rows past the tile's m repeat its last row. */
    const conv4j_f32_gemm_epilogue epilogue = {t->with_bias ? bias : NULL, t->relu,
                                               t->accumulate};
    for (int64_t row = 0; row < m; row += MR) {
        const int64_t height = m - row < MR ? m - row : MR;
        const float *a[MAX_SEGMENTS * MR];
        for (int64_t s = 0; s < segments; ++s) {
            for (int64_t i = 0; i < MR; ++i) {
                const int64_t r = row + (i < height ? i : height - 1);
                a[s * MR + i] = rows[r * segments + s];
            }
        }
        kernel->tile(height, n, segments, length, a, packed, c + row * ldc, ldc, &epilogue);
    }

    const double u = ldexp(1.0, -24);
    const double gamma = (double)(k + 2) * u / (1.0 - (double)(k + 2) * u);
    int64_t bad = 0, unlike_fma = 0;
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            double exact = t->accumulate ? initial[i * n + j] : 0.0;
            double magnitude = fabs(exact);
            float chain = 0.0f; /* the documented order, one FMA per step */
            for (int64_t s = 0; s < segments; ++s) {
                const float *piece = rows[i * segments + s];
                for (int64_t p = 0; p < length; ++p) {
                    const float bv = b[(s * length + p) * n + j];
                    const double product = (double)piece[p] * bv;
                    exact += product;
                    magnitude += fabs(product);
                    if (kernel->bitwise_fma) {
                        chain = chain_fmaf(piece[p], bv, chain);
                    }
                }
            }
            float expected_bits = t->accumulate ? initial[i * n + j] + chain : chain;
            if (t->with_bias) {
                exact += bias[j];
                magnitude += fabs(bias[j]);
                expected_bits += bias[j];
            }
            if (t->relu && exact < 0.0) {
                exact = 0.0; /* relu is 1-Lipschitz: the bound still holds */
            }
            if (t->relu && expected_bits < 0.0f) {
                expected_bits = 0.0f;
            }
            const float got = c[i * ldc + j];
            const int ok = isnan(exact) ? isnan(got)
                                        : fabs((double)got - exact) <= gamma * magnitude + 1e-30;
            if (!ok && bad++ == 0) {
                CHECK(0, "%s m=%lld n=%lld k=%lld (%lld x %lld) acc=%d bias=%d relu=%d: "
                         "C[%lld][%lld] = %.9g, exact %.9g",
                      kernel->name, (long long)m, (long long)n, (long long)k,
                      (long long)segments, (long long)length, t->accumulate, t->with_bias,
                      t->relu, (long long)i, (long long)j, (double)got, exact);
            }
            if (kernel->bitwise_fma && !same_float(got, expected_bits) && unlike_fma++ == 0) {
                CHECK(0, "%s m=%lld n=%lld k=%lld: C[%lld][%lld] = %a, the fmaf() chain %a",
                      kernel->name, (long long)m, (long long)n, (long long)k, (long long)i,
                      (long long)j, (double)got, (double)expected_bits);
            }
        }
    }
    CHECK(bad == 0, "%s: %lld elements outside the bound", kernel->name, (long long)bad);
    CHECK(unlike_fma == 0, "%s: %lld elements unlike the fmaf() chain", kernel->name,
          (long long)unlike_fma);
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
    free(order);
    free(rows);
}

static void check_kernel(const x32_kernel *kernel)
{
    /* n: every tail of the first two panels, then three and more panels. */
    static const int64_t ns_long[] = {1, 5, 16, 17, 31, 32, 33, 48, 69, 96};
    /* k as segments x length: 1, short, the conv shapes' pieces (7 x 21
     * for a 7x7x3 stem, 3 x 192 for a 3x3 over 64 channels), long. */
    static const int64_t ks[][2] = {{1, 1}, {1, 2}, {3, 1}, {1, 7}, {2, 8},  {4, 16},
                                    {1, 64}, {7, 21}, {3, 192}, {1, 1031}};
    test_rng rng = {UINT64_C(0x9E3779B97F4A7C15)};
    const int before = test_check_count;
    const int quick = getenv("CONV4J_TEST_CASES") != NULL;
    /* Every m of one tile, then tiles driven past MR. */
    int64_t ms[MR + 2];
    for (int64_t i = 0; i < MR; ++i) {
        ms[i] = i + 1;
    }
    ms[MR] = MR + 1;
    ms[MR + 1] = 2 * MR + 3;
    for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; ++mi) {
        const int64_t m = ms[mi];
        for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ++ki) {
            const int64_t segments = ks[ki][0], length = ks[ki][1];
            const int64_t k = segments * length;
            /* Every n up to 33 for the short k, then 48, 69, 96 (ns_long
             * from index 7); the selection ns_long for the long k, and for
             * every k in the slow sanitizer build (CONV4J_TEST_CASES set). */
            const int every_n = k <= 64 && !quick;
            const size_t n_count = every_n ? 33 + sizeof ns_long / sizeof ns_long[0] - 7
                                           : sizeof ns_long / sizeof ns_long[0];
            for (size_t ni = 0; ni < n_count; ++ni) {
                const int64_t n = every_n ? (ni < 33 ? (int64_t)ni + 1 : ns_long[ni - 33 + 7])
                                          : ns_long[ni];
                for (int accumulate = 0; accumulate <= 1; ++accumulate) {
                    const x32_case plain = {m, n, segments, length, accumulate, 0, 0, -1, -1};
                    check_case(&rng, kernel, &plain);
                }
                const x32_case epilogue = {m,
                                           n,
                                           segments,
                                           length,
                                           test_rng_int(&rng, 0, 1),
                                           1,
                                           test_rng_int(&rng, 0, 1),
                                           -1,
                                           -1};
                check_case(&rng, kernel, &epilogue);
                /* relu keeps NaN: from A (a whole row) and from the bias
                 * (a whole column). */
                const x32_case nan = {m,
                                      n,
                                      segments,
                                      length,
                                      test_rng_int(&rng, 0, 1),
                                      1,
                                      1,
                                      test_rng_int(&rng, 0, (int32_t)m - 1),
                                      test_rng_int(&rng, 0, (int32_t)n - 1)};
                check_case(&rng, kernel, &nan);
            }
        }
    }
    printf("%s: %d checks\n", kernel->name, test_check_count - before);
}

/* AVX-512 F/VL/BW/DQ on the CPU, and ZMM and opmask state saved by the OS
 * (XCR0 bits 1, 2, 5, 6, 7). */
static int cpu_runs_avx512(void)
{
#if defined(__GNUC__) && defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512vl") ||
        !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512dq")) {
        return 0;
    }
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    (void)edx;
    return (eax & 0xE6u) == 0xE6u;
#else
    return 0;
#endif
}

int main(void)
{
    const x32_kernel scalar = {"f32_igemm_14x32__scalar", conv4j_f32_igemm_14x32__scalar, 0};
    check_kernel(&scalar);
#ifdef CONV4J_HAVE_AVX512_KERNELS
    if (cpu_runs_avx512()) {
        const x32_kernel avx512 = {"f32_igemm_14x32__avx512", conv4j_f32_igemm_14x32__avx512,
                                   1};
        check_kernel(&avx512);
        /* The 512-bit peak chunk: 12 chains x 16 lanes x 2 flops a round,
         * chains that stay finite. */
        float sink = 1.0f;
        const int64_t flops = conv4j_peak_chunk_avx512(1000, &sink);
        CHECK(flops == 1000 * 12 * 16 * 2 && isfinite(sink) && sink > 0.0f,
              "peak chunk: %lld flops, sink %g", (long long)flops, (double)sink);
    } else {
        printf("AVX-512 KERNEL NOT TESTED: this CPU lacks avx512\n");
    }
#else
    (void)cpu_runs_avx512;
    printf("AVX-512 KERNEL NOT TESTED: this CPU lacks avx512 (not compiled for this target)\n");
#endif
    /* Packed B is zero past n and keeps the 32-column panel layout. */
    {
        const float b[3 * 33] = {[0] = 1.0f, [31] = 5.0f, [32] = 2.0f, [33] = 3.0f, [98] = 4.0f};
        float packed[2 * 3 * 32];
        CHECK(conv4j_f32_gemm_packed_b_count(3, 33, NR) == 2 * 3 * 32, "packed count");
        conv4j_f32_gemm_pack_b(3, 33, b, 33, NR, packed);
        CHECK(packed[0] == 1.0f && packed[31] == 5.0f && packed[32] == 3.0f, "panel 0 rows");
        CHECK(packed[3 * 32 + 0] == 2.0f && packed[3 * 32 + 2 * 32] == 4.0f, "panel 1 rows");
        int zero_tail = 1;
        for (int row = 0; row < 3; ++row) {
            for (int j = 1; j < 32; ++j) {
                zero_tail &= packed[3 * 32 + row * 32 + j] == 0.0f;
            }
        }
        CHECK(zero_tail, "panel 1 is zero past column 33");
    }
    return test_summary("test_gemm_x32");
}

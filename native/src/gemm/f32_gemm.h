/*
 * Single-precision GEMM over a B matrix packed once, for the convolution
 * kernels: C[m][n] = (accumulate ? C : 0) + A[m][k] * B[k][n] (+ bias, relu).
 *
 * Register tile: MR rows of A by NR columns of B, both from the ISA config
 * (config/isa_config.h). The packed-B layout depends only on NR, so weights
 * packed once run on any kernel of that panel width (an ISA's kernel and its
 * scalar twin).
 *
 * Every function is single-threaded (callers parallelize), takes any
 * m, n, k >= 1, and reads or writes nothing outside the extents it is given:
 * A rows [0, m) x [0, k), C rows [0, m) x [0, n) with their strides.
 * The _avx2 functions exist only when CONV4J_HAVE_AVX2_KERNELS is defined and
 * may be called only when the avx2 level is active; the config sees to that.
 */
#ifndef CONV4J_F32_GEMM_H
#define CONV4J_F32_GEMM_H

#include <stddef.h>
#include <stdint.h>

/* The largest MR of any config: callers size pointer arrays with it. */
#define CONV4J_F32_GEMM_MAX_MR 16

/* The 6x16 kernels' tile (scalar and avx2 configs). */
#define CONV4J_F32_IGEMM_6X16_MR 6
#define CONV4J_F32_IGEMM_6X16_NR 16

/*
 * Packed B: ceil(n / NR) column panels, panel j holding rows 0..k-1 of
 * columns [j*NR, j*NR + NR) as k consecutive groups of NR floats (columns
 * past n are zero). Panel j starts at packed + j * k * NR, so a caller can
 * run a column block that starts at a multiple of NR by offsetting packed_b.
 */
size_t conv4j_f32_gemm_packed_b_count(int64_t k, int64_t n, int64_t nr);

/* b is row-major [k][n] with row stride ldb (>= n). */
void conv4j_f32_gemm_pack_b(int64_t k, int64_t n, const float *b, int64_t ldb, int64_t nr,
                            float *packed);

/*
 * The indirect micro-kernel the convolutions use: one tile of m <= MR rows
 * of C by n columns (all the panels of packed_b it needs).
 *
 * Row i of A is not one pointer but `segments` pieces of `segment_length`
 * floats each: a[s * MR + i] points at piece s of row i (k = segments *
 * segment_length, the packed-B rows in the same order). A convolution points
 * the pieces at input pixels (or a row of zeros for padding) and never copies
 * the input; a plain GEMM is segments = 1, a[i] = A + i * lda. Entries for
 * rows i >= m must still be readable pointers (repeat row m-1's): the kernel
 * loads them and drops their results.
 *
 * Epilogue per element: v = (accumulate ? C : 0) + sum, then + bias[col]
 * when bias is not NULL (bias holds n floats), then max(v, 0) when relu
 * (NaN passes through, as TensorFlow's relu).
 */
typedef struct conv4j_f32_gemm_epilogue {
    const float *bias;
    int relu;
    int accumulate;
} conv4j_f32_gemm_epilogue;

typedef void (*conv4j_f32_igemm_tile_fn)(int64_t m, int64_t n, int64_t segments,
                                          int64_t segment_length, const float *const *a,
                                          const float *packed_b, float *c, int64_t ldc,
                                          const conv4j_f32_gemm_epilogue *epilogue);

void conv4j_f32_igemm_6x16__scalar(int64_t m, int64_t n, int64_t segments,
                                   int64_t segment_length, const float *const *a,
                                   const float *packed_b, float *c, int64_t ldc,
                                   const conv4j_f32_gemm_epilogue *epilogue);
#ifdef CONV4J_HAVE_AVX2_KERNELS
void conv4j_f32_igemm_6x16__avx2(int64_t m, int64_t n, int64_t segments, int64_t segment_length,
                                 const float *const *a, const float *packed_b, float *c,
                                 int64_t ldc, const conv4j_f32_gemm_epilogue *epilogue);
#endif

/* The plain GEMM (A row-major [m][k], row stride lda; C row-major, stride
 * ldc) through a tile function of mr rows (mr <= CONV4J_F32_GEMM_MAX_MR),
 * with an epilogue (bias, relu, accumulate). */
void conv4j_f32_gemm_run(conv4j_f32_igemm_tile_fn tile, int64_t mr, int64_t m, int64_t n,
                         int64_t k, const float *a, int64_t lda, const float *packed_b, float *c,
                         int64_t ldc, const conv4j_f32_gemm_epilogue *epilogue);

#endif /* CONV4J_F32_GEMM_H */

/*
 * conv4j — float32 Conv1D / Conv2D with Keras / TensorFlow semantics.
 *
 * The whole public C API. Usage: fill a conv4j_conv_desc, create a plan once
 * (it validates, chooses an algorithm and packs the weights), execute it many
 * times (concurrently from several threads if you like: a plan is read-only
 * after creation), destroy it. Every function returns a status; none aborts.
 * A layer that sees several input shapes creates its conv4j_weights once and
 * a light plan per shape from them: the weights are packed once per
 * algorithm, not once per shape.
 *
 * Tensors are dense float32, row-major:
 *   input   channels_last  [N, H, W, Cin]   channels_first [N, Cin, H, W]
 *   output  channels_last  [N, Ho, Wo, Cout] channels_first [N, Cout, Ho, Wo]
 *   kernel  Keras layout   [KH, KW, Cin/groups, Cout]
 *   bias    [Cout], or NULL for no bias
 * Rank 1 uses only index 0 of the spatial arrays (L, K, stride, ...); its
 * tensors are [N, L, Cin] / [N, Cin, L] and its kernel [K, Cin/groups, Cout].
 * Rank 3 uses indices 0, 1, 2 as D, H, W: [N, D, H, W, Cin] and kernel
 * [KD, KH, KW, Cin/groups, Cout]. Entries past the rank are ignored.
 *
 * A descriptor always describes the forward convolution; its propagation
 * field says which of the three passes of that convolution a plan runs
 * (see conv4j_propagation). A transposed convolution layer is the
 * backward-data pass of the forward convolution whose input has the
 * transposed layer's output shape.
 * Padding is explicit (pads before and after each spatial dimension): the
 * caller turns Keras "same" / "causal" into numbers.
 */
#ifndef CONV4J_H
#define CONV4J_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONV4J_VERSION_STRING "0.1.0"

/* The library builds with hidden visibility; only these functions are exported. */
#if defined(__GNUC__) && !defined(_WIN32)
#define CONV4J_API __attribute__((visibility("default")))
#else
#define CONV4J_API
#endif

typedef enum conv4j_status {
    CONV4J_OK = 0,
    CONV4J_ERR_NULL_POINTER = 1,        /* a required pointer is NULL */
    CONV4J_ERR_INVALID_RANK = 2,        /* rank is not 1, 2 or 3 */
    CONV4J_ERR_INVALID_SIZE = 3,        /* batch, a spatial size or a channel count < 1 */
    CONV4J_ERR_INVALID_KERNEL = 4,      /* a kernel size < 1 */
    CONV4J_ERR_INVALID_STRIDE = 5,      /* a stride < 1 */
    CONV4J_ERR_INVALID_DILATION = 6,    /* a dilation < 1 */
    CONV4J_ERR_INVALID_PADDING = 7,     /* a pad < 0 */
    CONV4J_ERR_INVALID_GROUPS = 8,      /* groups < 1, or Cin or Cout not divisible by groups */
    CONV4J_ERR_EMPTY_OUTPUT = 9,        /* an output size would be < 1 */
    CONV4J_ERR_SIZE_OVERFLOW = 10,      /* an element count exceeds INT32_MAX */
    CONV4J_ERR_INVALID_LAYOUT = 11,
    CONV4J_ERR_INVALID_ACTIVATION = 12,
    CONV4J_ERR_INVALID_ALGORITHM = 13,  /* not a conv4j_algorithm value */
    CONV4J_ERR_UNSUPPORTED = 14,        /* the requested algorithm rejects this problem or CPU */
    CONV4J_ERR_WORKSPACE_TOO_SMALL = 15,
    CONV4J_ERR_INVALID_THREADS = 16,    /* threads < 0 */
    CONV4J_ERR_OUT_OF_MEMORY = 17,
    CONV4J_ERR_INVALID_FLAGS = 18,      /* flags has a bit that is not a CONV4J_FLAG_ value */
    CONV4J_ERR_WEIGHTS_MISMATCH = 19,   /* the descriptor's kernel tensor is not the weights' */
    CONV4J_ERR_INVALID_PROPAGATION = 20, /* not a conv4j_propagation value, or the call does not
                                          * run the plan's propagation */
    CONV4J_ERR_INVALID_HYPERPARAMETER = 21 /* an optimizer's learning rate, momentum, beta,
                                            * epsilon or step is out of range */
} conv4j_status;

typedef enum conv4j_layout {
    CONV4J_LAYOUT_CHANNELS_LAST = 0,
    CONV4J_LAYOUT_CHANNELS_FIRST = 1
} conv4j_layout;

typedef enum conv4j_activation {
    CONV4J_ACTIVATION_NONE = 0,
    CONV4J_ACTIVATION_RELU = 1
} conv4j_activation;

/* Algorithms, in the order AUTO tries them; the reference always accepts. */
typedef enum conv4j_algorithm {
    CONV4J_ALGORITHM_AUTO = 0,
    CONV4J_ALGORITHM_DIRECT = 1,        /* OpenMP loop over weights packed per output channel */
    CONV4J_ALGORITHM_REFERENCE = 2,     /* the plain loop every other kernel is tested against */
    CONV4J_ALGORITHM_GEMM = 3,          /* 1x1 and implicit (indirect) GEMM over a register-blocked micro-kernel */
    CONV4J_ALGORITHM_WINOGRAD = 4,      /* Winograd for 3x3 stride 1 */
    CONV4J_ALGORITHM_DEPTHWISE = 5      /* one input channel per group */
} conv4j_algorithm;

/* Which pass of the described (forward) convolution a plan runs. Each
 * propagation has its own algorithms (conv4j_explain lists the candidates
 * and why they refused); AUTO, GEMM and REFERENCE apply to all three,
 * DEPTHWISE to depthwise problems of all three, DIRECT and WINOGRAD only to
 * FORWARD (forcing them elsewhere gives CONV4J_ERR_UNSUPPORTED). */
typedef enum conv4j_propagation {
    /* conv4j_plan_execute(plan, input, output): y = act(conv(x, w) + b). */
    CONV4J_PROPAGATION_FORWARD = 0,
    /* conv4j_plan_execute(plan, output_gradient, input_gradient):
     * dx = act(conv_transpose(dy, w) + b), with the bias over in_channels:
     * dy has the forward output's shape, dx the forward input's, w is the
     * forward kernel [KH, KW, Cin/groups, Cout] unchanged.
     * With bias NULL and activation NONE it is the input gradient; with them
     * it is a transposed convolution layer. Weights carry the bias of the
     * propagation they were created for (in_channels here, out_channels for
     * FORWARD), so a plan of one of the two cannot use weights with a bias
     * made for the other (CONV4J_ERR_WEIGHTS_MISMATCH); weights without a
     * bias serve both. */
    CONV4J_PROPAGATION_BACKWARD_DATA = 1,
    /* conv4j_plan_execute_backward_weights: dw (Keras kernel layout) and
     * db (over out_channels) from x and dy. The plan needs no kernel:
     * conv4j_plan_create takes kernel = NULL and bias = NULL (both ignored
     * if given). The activation must be NONE (CONV4J_ERR_INVALID_ACTIVATION
     * otherwise): the caller applies the activation's derivative to dy.
     * conv4j_plan_execute on such a plan, or execute_backward_weights on
     * another, gives CONV4J_ERR_INVALID_PROPAGATION. */
    CONV4J_PROPAGATION_BACKWARD_WEIGHTS = 2
} conv4j_propagation;

typedef enum conv4j_isa {
    CONV4J_ISA_SCALAR = 0,
    CONV4J_ISA_AVX2 = 1,                /* AVX2 + FMA with OS-enabled YMM state */
    CONV4J_ISA_AVX512 = 2,              /* AVX-512 F/VL/BW/DQ with OS-enabled ZMM and opmask state */
    CONV4J_ISA_NEON = 3                 /* AArch64 Advanced SIMD (asimd), 128-bit vectors */
} conv4j_isa;

/* Bits of conv4j_conv_desc.flags; 0 keeps every default. */
/* Never run Winograd for this layer, not even when forced: forcing
 * CONV4J_ALGORITHM_WINOGRAD then fails with CONV4J_ERR_UNSUPPORTED. */
#define CONV4J_FLAG_NO_WINOGRAD 1
/* Let AUTO choose Winograd where it applies. Off by default: Winograd's
 * error depends on the whole 6x6 input tile, not on the output's own window,
 * so it does not meet the direct-sum bound every default path keeps (README,
 * "Accuracy"). Forcing CONV4J_ALGORITHM_WINOGRAD needs no flag. */
#define CONV4J_FLAG_ALLOW_WINOGRAD 2
/* Run every call on the requested thread count, even below the small-call
 * cutoff that otherwise keeps tiny calls on the calling thread; for tests
 * that must exercise the threaded paths on small shapes. */
#define CONV4J_FLAG_FULL_TEAM 4
#define CONV4J_FLAGS_ALL (CONV4J_FLAG_NO_WINOGRAD | CONV4J_FLAG_ALLOW_WINOGRAD | CONV4J_FLAG_FULL_TEAM)

typedef struct conv4j_conv_desc {
    int32_t rank;            /* 1, 2 or 3 */
    int32_t batch;           /* N */
    int32_t in_size[3];      /* H, W (rank 1: L; rank 3: D, H, W) */
    int32_t in_channels;     /* Cin */
    int32_t out_channels;    /* Cout (Keras "filters") */
    int32_t kernel[3];       /* KH, KW (rank 1: K; rank 3: KD, KH, KW) */
    int32_t stride[3];
    int32_t dilation[3];
    int32_t pad_before[3];
    int32_t pad_after[3];
    int32_t groups;          /* depthwise when groups == Cin */
    int32_t layout;          /* conv4j_layout */
    int32_t activation;      /* conv4j_activation, fused into the output write */
    int32_t algorithm;       /* conv4j_algorithm; AUTO lets the plan choose */
    int32_t flags;           /* CONV4J_FLAG_ bits, 0 for the defaults */
    int32_t propagation;     /* conv4j_propagation; 0 (forward) by default */
} conv4j_conv_desc;

typedef struct conv4j_plan conv4j_plan;
typedef struct conv4j_weights conv4j_weights;

CONV4J_API const char *conv4j_version(void);
CONV4J_API const char *conv4j_status_string(conv4j_status status);
CONV4J_API const char *conv4j_algorithm_name(conv4j_algorithm algorithm);
CONV4J_API const char *conv4j_isa_name(conv4j_isa isa);

/* Validates the descriptor; on CONV4J_OK writes the forward output's
 * spatial sizes in the descriptor's order, 1 past the rank (rank 1:
 * {Lo, 1, 1}). out_size may be NULL to validate only. */
CONV4J_API conv4j_status conv4j_output_size(const conv4j_conv_desc *desc, int32_t out_size[3]);

/* Validates, chooses an algorithm (desc->algorithm, or the first that accepts
 * when AUTO), copies and packs the weights. The caller's buffers are not
 * kept. On failure *plan_out is set to NULL. */
CONV4J_API conv4j_status conv4j_plan_create(const conv4j_conv_desc *desc, const float *kernel,
                                            const float *bias, conv4j_plan **plan_out);

/* A layer's weights: copies the kernel and bias, and packs them for an
 * algorithm the first time a plan needs it; every plan made from these
 * weights shares that packing, so a new batch size or input length costs
 * only a light plan (validation, algorithm choice, workspace size). desc
 * describes the layer with one valid input shape: everything in it is
 * validated, only its kernel tensor (rank, in_channels, out_channels, kernel,
 * groups) is kept. Safe to use from many threads at once. On failure
 * *weights_out is set to NULL. */
CONV4J_API conv4j_status conv4j_weights_create(const conv4j_conv_desc *desc, const float *kernel,
                                               const float *bias, conv4j_weights **weights_out);

/* A plan for desc that uses weights. desc must describe the same kernel
 * tensor (rank, in_channels, out_channels, kernel, groups; otherwise
 * CONV4J_ERR_WEIGHTS_MISMATCH); its batch, sizes, strides, dilations, pads,
 * layout, activation, algorithm and flags are the plan's own. The plan holds
 * a reference to the weights. */
CONV4J_API conv4j_status conv4j_plan_create_with_weights(const conv4j_conv_desc *desc,
                                                         conv4j_weights *weights,
                                                         conv4j_plan **plan_out);

/* How many times these weights were packed (once per algorithm and ISA
 * config their plans used): a new input shape does not add to it. */
CONV4J_API int64_t conv4j_weights_pack_count(const conv4j_weights *weights);

/* Drops the caller's reference: plans made from the weights keep theirs and
 * the last one frees them. NULL is ignored. */
CONV4J_API void conv4j_weights_destroy(conv4j_weights *weights);

/* The line conv4j_plan_explain would give a plan for desc, also when the
 * requested algorithm refuses the problem (then the reason is in it).
 * Writes at most capacity bytes, always NUL-terminated when capacity > 0;
 * returns the descriptor's validation status. */
CONV4J_API conv4j_status conv4j_explain(const conv4j_conv_desc *desc, char *buffer,
                                        size_t capacity);

/* Bytes of scratch memory execute needs; 0 when none. */
CONV4J_API size_t conv4j_plan_workspace_size(const conv4j_plan *plan);
CONV4J_API conv4j_algorithm conv4j_plan_algorithm(const conv4j_plan *plan);
/* A line saying what the plan chose and why the earlier candidates did not
 * accept; owned by the plan. */
CONV4J_API const char *conv4j_plan_explain(const conv4j_plan *plan);

/* Runs the convolution. workspace may be NULL (the plan then allocates and
 * frees its own scratch per call) or at least conv4j_plan_workspace_size
 * bytes, aligned to 64 bytes. threads: 0 = all OpenMP threads, 1 = only the
 * calling thread, n = at most n. Safe to call concurrently on one plan. */
CONV4J_API conv4j_status conv4j_plan_execute(const conv4j_plan *plan, const float *input, float *output,
                                             void *workspace, size_t workspace_size, int32_t threads);

/* Runs a CONV4J_PROPAGATION_BACKWARD_WEIGHTS plan: input is the forward
 * input x, output_gradient dy has the forward output's shape (both in the
 * plan's layout); writes (overwrites) kernel_gradient (Keras kernel layout)
 * and, when not NULL, bias_gradient [out_channels]. Each dw element is a sum
 * of N * Ho * Wo products whose order depends only on the problem, so the
 * results are bit-identical for every thread count. Workspace and threads
 * as for conv4j_plan_execute. */
CONV4J_API conv4j_status conv4j_plan_execute_backward_weights(
    const conv4j_plan *plan, const float *input, const float *output_gradient,
    float *kernel_gradient, float *bias_gradient, void *workspace, size_t workspace_size,
    int32_t threads);

/* Optimizer steps: one Keras 3 update of `count` parameters in place, in
 * float32 with Keras' order of operations (hyperparameters rounded to float
 * like Keras' casts). Each element is updated on its own, so the results are
 * bit-identical for every thread count (0 = all OpenMP threads, 1 = the
 * calling thread). The arrays must not overlap; count 0 does nothing.
 * learning_rate and epsilon must be positive and finite, momentum and the
 * betas in [0, 1), step >= 1 (else CONV4J_ERR_INVALID_HYPERPARAMETER).
 *
 * SGD: momentum 0: w -= lr * g (velocity may be NULL);
 *      else v = v * momentum - g * lr; w += v. */
CONV4J_API conv4j_status conv4j_sgd_step(float *weights, float *velocity, const float *gradient,
                                         int64_t count, double learning_rate, double momentum,
                                         int32_t threads);

/* Adam (no amsgrad), step t counted from 1:
 *   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
 *   m += (g - m) * (1 - beta1);  v += (g * g - v) * (1 - beta2)
 *   w -= (m * alpha) / (sqrt(v) + epsilon) */
CONV4J_API conv4j_status conv4j_adam_step(float *weights, float *m, float *v, const float *gradient,
                                          int64_t count, double learning_rate, double beta1,
                                          double beta2, double epsilon, int64_t step,
                                          int32_t threads);

/* Frees the plan; NULL is ignored. */
CONV4J_API void conv4j_plan_destroy(conv4j_plan *plan);

/* The plain reference convolution, single-threaded, no plan. For a
 * BACKWARD_DATA descriptor input is dy and output dx (bias over
 * in_channels); BACKWARD_WEIGHTS has two outputs and is refused with
 * CONV4J_ERR_INVALID_PROPAGATION (a plan with CONV4J_ALGORITHM_REFERENCE
 * runs its plain loop). */
CONV4J_API conv4j_status conv4j_reference_conv(const conv4j_conv_desc *desc, const float *input,
                                               const float *kernel, const float *bias, float *output);

/* The widest ISA level this CPU and OS support, and the one in use: the
 * widest level that CONV4J_MAX_ISA (scalar | avx2 | avx512 on x86-64,
 * scalar | neon on arm64) leaves on and
 * this build has kernels for. Both are read once. */
CONV4J_API conv4j_isa conv4j_cpu_isa(void);
CONV4J_API conv4j_isa conv4j_active_isa(void);
/* Space-separated CPU features found, e.g. "sse2 avx fma avx2 osxsave-ymm", or on
 * arm64 "asimd asimddp fphp bf16 i8mm sve". */
CONV4J_API const char *conv4j_cpu_features(void);
/* Threads an execute with threads = 0 uses. */
CONV4J_API int32_t conv4j_max_threads(void);

/* The CPU's fp32 multiply-add throughput in GFLOP/s: 12 independent FMA
 * chains per thread at the active ISA's vector width (256-bit for avx2,
 * 512-bit for avx512, 128-bit for neon) for `seconds`
 * (0 < seconds <= 60) after a warm-up of a fifth of that, on `threads`
 * threads (0 = all OpenMP threads). The benchmarks' measure of peak; returns
 * a negative value for invalid arguments. */
CONV4J_API double conv4j_measure_peak_gflops(int32_t threads, double seconds);

#ifdef __cplusplus
}
#endif

#endif /* CONV4J_H */

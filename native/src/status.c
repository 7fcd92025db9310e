/* Human-readable names for the public enums and the library version. */
#include "conv4j.h"

const char *conv4j_version(void)
{
    return CONV4J_VERSION_STRING;
}

const char *conv4j_status_string(conv4j_status status)
{
    switch (status) {
    case CONV4J_OK:
        return "Success.";
    case CONV4J_ERR_NULL_POINTER:
        return "A required pointer argument is NULL.";
    case CONV4J_ERR_INVALID_RANK:
        return "The rank must be 1 (Conv1D), 2 (Conv2D) or 3 (Conv3D).";
    case CONV4J_ERR_INVALID_SIZE:
        return "The batch, every spatial input size and both channel counts must be at least 1.";
    case CONV4J_ERR_INVALID_KERNEL:
        return "Every kernel size must be at least 1.";
    case CONV4J_ERR_INVALID_STRIDE:
        return "Every stride must be at least 1.";
    case CONV4J_ERR_INVALID_DILATION:
        return "Every dilation rate must be at least 1.";
    case CONV4J_ERR_INVALID_PADDING:
        return "Pads must not be negative.";
    case CONV4J_ERR_INVALID_GROUPS:
        return "Groups must be at least 1 and divide both the input and the output channel count.";
    case CONV4J_ERR_EMPTY_OUTPUT:
        return "The dilated kernel is larger than the padded input, so the output would be empty.";
    case CONV4J_ERR_SIZE_OVERFLOW:
        return "An input, padded input, output or kernel element count exceeds INT32_MAX.";
    case CONV4J_ERR_INVALID_LAYOUT:
        return "The layout is not channels_last (0) or channels_first (1).";
    case CONV4J_ERR_INVALID_ACTIVATION:
        return "The activation is not none (0) or relu (1), or not none for backward weights.";
    case CONV4J_ERR_INVALID_ALGORITHM:
        return "The algorithm is not auto (0), direct (1), reference (2), gemm (3), winograd (4) or depthwise (5).";
    case CONV4J_ERR_UNSUPPORTED:
        return "The requested algorithm does not support this problem on this CPU.";
    case CONV4J_ERR_WORKSPACE_TOO_SMALL:
        return "The workspace is smaller than conv4j_plan_workspace_size.";
    case CONV4J_ERR_INVALID_THREADS:
        return "The thread count must not be negative.";
    case CONV4J_ERR_OUT_OF_MEMORY:
        return "Memory allocation failed.";
    case CONV4J_ERR_INVALID_FLAGS:
        return "The flags have a bit that is not a CONV4J_FLAG_ value (known: 1 = no winograd, "
               "2 = allow winograd, 4 = full team).";
    case CONV4J_ERR_WEIGHTS_MISMATCH:
        return "The descriptor's kernel tensor (rank, channels, kernel size, groups) is not the "
               "weights', or the weights' bias is for another propagation.";
    case CONV4J_ERR_INVALID_PROPAGATION:
        return "The propagation is not forward (0), backward data (1) or backward weights (2), "
               "or the call does not run the plan's propagation.";
    case CONV4J_ERR_INVALID_HYPERPARAMETER:
        return "An optimizer needs a positive finite learning rate and epsilon, momentum and betas "
               "in [0, 1), and a step >= 1.";
    }
    return "Unknown conv4j status code.";
}

const char *conv4j_algorithm_name(conv4j_algorithm algorithm)
{
    switch (algorithm) {
    case CONV4J_ALGORITHM_AUTO:
        return "auto";
    case CONV4J_ALGORITHM_DIRECT:
        return "direct";
    case CONV4J_ALGORITHM_REFERENCE:
        return "reference";
    case CONV4J_ALGORITHM_GEMM:
        return "gemm";
    case CONV4J_ALGORITHM_WINOGRAD:
        return "winograd";
    case CONV4J_ALGORITHM_DEPTHWISE:
        return "depthwise";
    }
    return "unknown";
}

const char *conv4j_isa_name(conv4j_isa isa)
{
    switch (isa) {
    case CONV4J_ISA_SCALAR:
        return "scalar";
    case CONV4J_ISA_AVX2:
        return "avx2";
    case CONV4J_ISA_AVX512:
        return "avx512";
    case CONV4J_ISA_NEON:
        return "neon";
    }
    return "unknown";
}

/* The direct loop compiled for AArch64 with FMA contraction (native/CMakeLists.txt):
 * GCC vectorizes it to 128-bit Advanced SIMD with FMLA. */
#define CONV4J_DIRECT_SUFFIX neon
#include "direct/f32_conv_direct_body.h"

/* The direct loop compiled with the AVX-512 flags (native/CMakeLists.txt). */
#define CONV4J_DIRECT_SUFFIX avx512
#include "direct/f32_conv_direct_body.h"

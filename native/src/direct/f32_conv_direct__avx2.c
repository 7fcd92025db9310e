/* The direct loop compiled with -mavx2 -mfma (native/CMakeLists.txt). */
#define CONV4J_DIRECT_SUFFIX avx2
#include "direct/f32_conv_direct_body.h"

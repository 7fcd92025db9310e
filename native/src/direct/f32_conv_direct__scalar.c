/* The direct loop compiled with baseline flags (native/CMakeLists.txt). */
#define CONV4J_DIRECT_SUFFIX scalar
#include "direct/f32_conv_direct_body.h"

/* The Winograd convolution again, compiled with -mavx2 -mfma (set in CMake on
 * this file only); plan.c calls it only when the active ISA is avx2. */
#define CONV4J_WINOGRAD_SUFFIX avx2
#include "f32_conv_winograd.c"

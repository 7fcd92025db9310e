/* The Winograd transforms over 16-lane portable vectors (the avx512 config's twin). */
#define WINOGRAD_LANES 16
#define WINOGRAD_ISA scalar
#define WINOGRAD_ARRAY_VECTOR 1
#include "winograd/f32_winograd_transform_body.h"

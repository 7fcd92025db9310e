/* The Winograd transforms over 4-lane portable vectors (the neon config's twin). */
#define WINOGRAD_LANES 4
#define WINOGRAD_ISA scalar
#define WINOGRAD_ARRAY_VECTOR 1
#include "winograd/f32_winograd_transform_body.h"

/* The Winograd transforms over 8-lane portable vectors. */
#define WINOGRAD_LANES 8
#define WINOGRAD_ISA scalar
#define WINOGRAD_ARRAY_VECTOR 1
#include "winograd/f32_winograd_transform_body.h"

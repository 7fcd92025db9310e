/* The depthwise backward-weights block loop for neon (see f32_dwconv_backward_body.h). */
#define DW_BACKWARD_BLOCK conv4j_dwconv_backward_block__neon
#include "depthwise/f32_dwconv_backward_body.h"

/* The scalar config's micro-kernel: the AVX2 6x16 kernel's tile, packing,
 * loop order and 8-column half path in plain C (f32_igemm_scalar_body.h). */
#define IGEMM_MR CONV4J_F32_IGEMM_6X16_MR
#define IGEMM_NR CONV4J_F32_IGEMM_6X16_NR
#define IGEMM_HALF 8
#define IGEMM_NAME conv4j_f32_igemm_6x16__scalar
#include "gemm/f32_igemm_scalar_body.h"

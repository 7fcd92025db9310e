/* The neon config's twin: the NEON 8x12 kernel's tile, NR = 12 packing and
 * loop order in plain C (f32_igemm_scalar_body.h; gemm/f32_igemm_8x12.h). */
#include "gemm/f32_igemm_8x12.h"

#define IGEMM_MR CONV4J_F32_IGEMM_8X12_MR
#define IGEMM_NR CONV4J_F32_IGEMM_8X12_NR
#define IGEMM_HALF 0
#define IGEMM_NAME conv4j_f32_igemm_8x12__scalar
#include "gemm/f32_igemm_scalar_body.h"

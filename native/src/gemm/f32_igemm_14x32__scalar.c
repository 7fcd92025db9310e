/* The avx512 config's twin: the AVX-512 14x32 kernel's tile, NR = 32
 * packing, loop order and 16-column half path in plain C
 * (f32_igemm_scalar_body.h; gemm/f32_igemm_x32.h). */
#include "gemm/f32_igemm_x32.h"

#define IGEMM_MR CONV4J_F32_IGEMM_X32_MR
#define IGEMM_NR CONV4J_F32_IGEMM_X32_NR
#define IGEMM_HALF 16
#define IGEMM_NAME conv4j_f32_igemm_14x32__scalar
#include "gemm/f32_igemm_scalar_body.h"

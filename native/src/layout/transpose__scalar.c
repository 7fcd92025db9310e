/* The layout adapter's transpose in portable C: element by element, down the
 * source columns so each destination line fills contiguously. */
#include "layout/transpose.h"

void conv4j_transpose_tile__scalar(const float *restrict src, float *restrict dst, int64_t rows,
                                   int64_t cols, int64_t r0, int64_t c0, int64_t r1, int64_t c1)
{
    for (int64_t c = c0; c < c1; ++c) {
        for (int64_t r = r0; r < r1; ++r) {
            dst[c * rows + r] = src[r * cols + c];
        }
    }
}

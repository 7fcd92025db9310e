/*
 * The FMA-throughput probe: a positive finite rate on one thread and on all,
 * and a negative answer for invalid arguments. No speed is asserted (the
 * machine is shared); the benchmarks report the figure.
 */
#include <math.h>

#include "test_util.h"

int main(void)
{
    const double one = conv4j_measure_peak_gflops(1, 0.05);
    const double all = conv4j_measure_peak_gflops(0, 0.05);
    printf("peak (active isa %s): %.1f GFLOP/s on 1 thread, %.1f on %d\n",
           conv4j_isa_name(conv4j_active_isa()), one, all, (int)conv4j_max_threads());
    CHECK(isfinite(one) && one > 0, "1 thread: %g", one);
    CHECK(isfinite(all) && all > 0, "all threads: %g", all);

    CHECK(conv4j_measure_peak_gflops(-1, 0.05) < 0, "threads -1 accepted");
    CHECK(conv4j_measure_peak_gflops(1, 0.0) < 0, "0 seconds accepted");
    CHECK(conv4j_measure_peak_gflops(1, -1.0) < 0, "negative seconds accepted");
    CHECK(conv4j_measure_peak_gflops(1, NAN) < 0, "NaN seconds accepted");
    CHECK(conv4j_measure_peak_gflops(1, 61.0) < 0, "61 seconds accepted");
    return test_summary("test_peak");
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The FMA-throughput probe the benchmarks report against: a rate comes back, bad arguments are refused. */
class PeakProbeTest {
    @Test
    void measuresAPositiveFiniteRate() {
        for (int threads : new int[] {1, 0}) {
            double gflops = Conv4j.measurePeakGflops(threads, 0.05);
            assertTrue(Double.isFinite(gflops) && gflops > 0, "threads " + threads + ": " + gflops);
        }
    }

    @Test
    void refusesBadArguments() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Conv4j.measurePeakGflops(-1))
                .getMessage().contains("threads"));
        for (double seconds : new double[] {0, -1, Double.NaN, 61}) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Conv4j.measurePeakGflops(1, seconds))
                    .getMessage().contains("seconds"), "seconds " + seconds);
        }
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Parallel.Loop: every unit exactly once, failures rethrown, no allocation per call. */
class ParallelTest {
    static final class Count extends Parallel.Loop {
        AtomicIntegerArray seen;
        int failAt = -1;

        @Override
        protected void range(int from, int to) {
            for (int u = from; u < to; u++) {
                if (u == failAt) {
                    throw new IllegalStateException("unit " + u);
                }
                seen.incrementAndGet(u);
            }
        }
    }

    @Test
    void everyUnitOnceForAnyGrainAndThreads() {
        Count c = new Count();
        for (int units : new int[] {0, 1, 7, 1000, 4099}) {
            for (int grain : new int[] {1, 3, 64, 5000}) {
                for (int threads : new int[] {0, 1, 2, 8}) {
                    c.seen = new AtomicIntegerArray(units);
                    c.run(units, grain, threads);
                    for (int u = 0; u < units; u++) {
                        assertEquals(1, c.seen.get(u), "unit " + u + " of " + units + ", grain " + grain
                                + ", threads " + threads);
                    }
                }
            }
        }
    }

    @Test
    void aFailingChunkIsRethrownAndTheLoopIsReusable() {
        Count c = new Count();
        c.seen = new AtomicIntegerArray(1000);
        c.failAt = 517;
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> c.run(1000, 10, 0));
        assertEquals("unit 517", e.getMessage());
        c.failAt = -1;
        c.seen = new AtomicIntegerArray(1000);
        c.run(1000, 10, 0);
        for (int u = 0; u < 1000; u++) {
            assertEquals(1, c.seen.get(u));
        }
        assertThrows(IllegalArgumentException.class, () -> c.run(10, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> c.run(-1, 1, 1));
    }

    @Test
    void aCallAllocatesNothing() {
        Count c = new Count();
        c.seen = new AtomicIntegerArray(4096);
        for (int i = 0; i < 2000; i++) {
            c.run(4096, 256, 0);
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 2000; i++) {
            c.run(4096, 256, 0);
        }
        long total = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(total < 2000, "allocated " + total + " bytes in 2000 calls");
    }
}

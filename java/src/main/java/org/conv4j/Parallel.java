package org.conv4j;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Splits a loop over the Java backend's worker threads (the pool {@link Backend#JAVA} convolutions
 * use, so concurrent calls never take more threads than there are cores) without allocating: for
 * work outside convolutions, such as the Keras loader's pooling and merges.
 */
public final class Parallel {
    private Parallel() {
    }

    /**
     * A loop over units {@code [0, units)}, split into chunks that the calling thread and idle
     * workers claim. One instance serves one call at a time (it holds the call's progress); make one
     * per concurrent caller and reuse it, and a call allocates nothing.
     */
    public abstract static class Loop extends JavaWorkers.Task {
        private final AtomicInteger next = new AtomicInteger();
        private int units;
        private int grain;

        /** Runs units {@code [from, to)}; called concurrently on disjoint ranges. */
        protected abstract void range(int from, int to);

        @Override
        final void work() {
            for (int from; (from = next.getAndAdd(grain)) < units; ) {
                range(from, Math.min(units, from + grain));
            }
        }

        /**
         * Runs {@link #range} over {@code [0, units)} in chunks of {@code grain} units on up to
         * {@code threads} threads (0 = all cores); on the calling thread alone when there is one
         * chunk or one thread. Rethrows the first failure of any chunk.
         */
        public final void run(int units, int grain, int threads) {
            if (units < 0 || grain < 1) {
                throw new IllegalArgumentException("units must be >= 0 and grain >= 1, got units=" + units
                        + ", grain=" + grain);
            }
            int chunks = (int) ((units + (long) grain - 1) / grain);
            int t = Math.min(JavaWorkers.effectiveThreads(threads), chunks);
            if (t <= 1) {
                range(0, units);
                return;
            }
            this.units = units;
            this.grain = grain;
            next.set(0);
            JavaWorkers.invoke(this, t);
        }
    }
}

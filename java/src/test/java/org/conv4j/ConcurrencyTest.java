package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** One layer shared by many threads: results bit-identical to a single thread, no crash on close races. */
class ConcurrencyTest {
    private static final int THREADS = 8;

    @Test
    void sharedLayerGivesSingleThreadResults() throws Exception {
        // One layer, several input shapes of the same channels, so threads also race on the plan cache.
        try (Conv2D conv = Conv2D.builder().filters(6).kernelSize(3, 3).padding(Padding.SAME).groups(2).build()) {
            float[] kernel = new RandomCase(5, 1).kernel;
            float[] k = new float[3 * 3 * 2 * 6];
            for (int i = 0; i < k.length; i++) {
                k[i] = kernel[i % kernel.length] - 0.25f * (i % 3);
            }
            conv.setWeights(k, new float[] {1, -1, 0.5f, 0, 2, -2});
            conv.setThreads(1);
            int[][] shapes = {{1, 9, 7, 4}, {2, 5, 5, 4}, {1, 16, 3, 4}};
            float[][] inputs = new float[shapes.length][];
            float[][] expected = new float[shapes.length][];
            for (int s = 0; s < shapes.length; s++) {
                inputs[s] = new float[shapes[s][0] * shapes[s][1] * shapes[s][2] * shapes[s][3]];
                for (int i = 0; i < inputs[s].length; i++) {
                    inputs[s][i] = (float) Math.sin(i * 0.37 + s);
                }
                expected[s] = conv.predict(inputs[s], shapes[s]);
            }
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int seed = t;
                results.add(pool.submit(() -> {
                    start.await();
                    int checked = 0;
                    for (int call = 0; call < 300; call++) {
                        int s = (call + seed) % shapes.length;
                        float[] out = new float[expected[s].length];
                        conv.predict(inputs[s], shapes[s], out);
                        assertArrayEquals(expected[s], out);
                        checked++;
                    }
                    return checked;
                }));
            }
            start.countDown();
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get(2, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertEquals(THREADS * 300, total);
        }
    }

    /**
     * close() and setWeights() racing with predict: every call either sees "closed" or returns exactly the
     * result of one of the weight versions set (each version distinct and non-zero, so a call that mixed two
     * versions, read freed weights or wrote nothing would match none of them).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void closeAndReweightWhileRunning(Backend backend) throws Exception {
        if (backend == Backend.NATIVE && !Conv4j.nativeAvailable()) {
            return;
        }
        int versions = 6;
        java.util.SplittableRandom r = new java.util.SplittableRandom(42);
        float[][] kernels = new float[versions][];
        float[][] biases = new float[versions][];
        for (int v = 0; v < versions; v++) {
            kernels[v] = nonZero(r, 5 * 3 * 4);
            biases[v] = nonZero(r, 4);
        }
        float[] x = nonZero(r, 2 * 500 * 3);
        float[][] expected = new float[versions][];
        for (int v = 0; v < versions; v++) {
            try (Conv1D one = Conv1D.builder().filters(4).kernelSize(5).padding(Padding.SAME).backend(backend).build()) {
                one.setWeights(kernels[v], biases[v]);
                expected[v] = one.predict(x, 2, 500, 3);
            }
            for (int u = 0; u < v; u++) {
                assertFalse(java.util.Arrays.equals(expected[u], expected[v]), "versions must differ");
            }
        }
        AtomicInteger matched = new AtomicInteger();
        for (int round = 0; round < 20; round++) {
            Conv1D conv = Conv1D.builder().filters(4).kernelSize(5).padding(Padding.SAME).backend(backend).build();
            conv.setWeights(kernels[0], biases[0]);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                running.add(pool.submit(() -> {
                    for (int call = 0; call < 200; call++) {
                        float[] y;
                        try {
                            y = conv.predict(x, 2, 500, 3);
                        } catch (IllegalStateException e) {
                            assertTrue(e.getMessage().contains("closed"), e.getMessage());
                            return;
                        }
                        int version = -1;
                        for (int v = 0; v < versions && version < 0; v++) {
                            version = java.util.Arrays.equals(expected[v], y) ? v : -1;
                        }
                        assertTrue(version >= 0, "a result that is none of the weight versions");
                        matched.incrementAndGet();
                    }
                }));
            }
            for (int v = 1; v < versions; v++) {
                conv.setWeights(kernels[v], biases[v]);
            }
            conv.close();
            for (Future<?> f : running) {
                f.get(2, TimeUnit.MINUTES);
            }
            pool.shutdown();
        }
        assertTrue(matched.get() > 0, "no call finished before close");
    }

    /** Values in ±[0.25, 1]: never zero. */
    private static float[] nonZero(java.util.SplittableRandom r, int count) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) ((r.nextBoolean() ? 1 : -1) * r.nextDouble(0.25, 1));
        }
        return a;
    }
}

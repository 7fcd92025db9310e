package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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

    /** close() and setWeights() racing with predict: calls either finish correctly or see "closed". */
    @Test
    void closeAndReweightWhileRunning() throws Exception {
        for (int round = 0; round < 20; round++) {
            Conv1D conv = Conv1D.builder().filters(4).kernelSize(5).padding(Padding.SAME).build();
            conv.setWeights(new float[5 * 3 * 4], new float[4]);
            float[] x = new float[2 * 500 * 3];
            AtomicInteger closedSeen = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                running.add(pool.submit(() -> {
                    for (int call = 0; call < 200; call++) {
                        try {
                            float[] y = conv.predict(x, 2, 500, 3);
                            assertEquals(2 * 500 * 4, y.length);
                        } catch (IllegalStateException e) {
                            assertTrue(e.getMessage().contains("closed"), e.getMessage());
                            closedSeen.incrementAndGet();
                            return;
                        }
                    }
                }));
            }
            for (int i = 0; i < 5; i++) {
                conv.setWeights(new float[5 * 3 * 4], new float[] {i, i, i, i});
            }
            conv.close();
            for (Future<?> f : running) {
                f.get(2, TimeUnit.MINUTES);
            }
            pool.shutdown();
        }
    }
}

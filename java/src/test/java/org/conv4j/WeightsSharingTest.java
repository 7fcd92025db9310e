package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A layer's native weights are one {@code conv4j_weights}, packed once per algorithm and shared by
 * the light plan of every input shape: a new batch size or Conv1D length does not repack. The
 * layer drops its reference once, when the weights are replaced or the layer closes, and calls
 * still running keep working on the plans' own references.
 */
class WeightsSharingTest {
    @BeforeAll
    static void nativeOnly() {
        assumeTrue(Conv4j.nativeAvailable(), "native library not loaded: " + Conv4j.nativeLoadError());
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextDouble(-1, 1);
        }
        return a;
    }

    /** Predicts shape, checks it against the reference, returns the pack count after it. */
    private static long predictAndCount(ConvLayer layer, SplittableRandom r, int... shape) {
        ConvGeometry g = layer.geometry(shape);
        float[] x = random(r, g.inputCount());
        ConvLayer.Weights w = layer.getWeights();
        Tolerance.assertWithinBound(g, x, w.kernel(), w.bias(), ReferenceConvolution.compute(g, x, w.kernel(), w.bias()),
                layer.predict(x, shape), layer.algorithm(shape) + " " + g);
        return layer.nativePackCount();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Algorithm.class, names = {"AUTO", "GEMM", "DIRECT", "REFERENCE"})
    void newBatchSizesDoNotRepackConv2D(Algorithm algorithm) {
        SplittableRandom r = new SplittableRandom(11);
        // Winograd off: AUTO then has one algorithm for every shape here.
        try (ConvLayer conv = Conv2D.builder().filters(24).kernelSize(3, 3).padding(Padding.SAME).algorithm(algorithm)
                .winograd(false).backend(Backend.NATIVE).build()) {
            assertEquals(-1, conv.nativePackCount(), "before setWeights");
            conv.setWeights(random(r, 3 * 3 * 16 * 24), random(r, 24));
            assertEquals(0, conv.nativePackCount(), "weights are packed with the first plan, not before");
            for (int n : new int[] {1, 3, 8}) {
                assertEquals(1, predictAndCount(conv, r, n, 9, 7, 16), algorithm + " batch " + n);
            }
            for (int[] hw : new int[][] {{5, 5}, {12, 3}, {1, 1}}) {
                assertEquals(1, predictAndCount(conv, r, 2, hw[0], hw[1], 16), algorithm + " " + Arrays.toString(hw));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Algorithm.class, names = {"AUTO", "GEMM", "DIRECT"})
    void newLengthsAndBatchSizesDoNotRepackConv1D(Algorithm algorithm) {
        SplittableRandom r = new SplittableRandom(12);
        try (ConvLayer conv = Conv1D.builder().filters(8).kernelSize(5).padding(Padding.CAUSAL).dilationRate(2)
                .algorithm(algorithm).backend(Backend.NATIVE).build()) {
            conv.setWeights(random(r, 5 * 6 * 8), random(r, 8));
            for (int length : new int[] {1, 9, 64, 333}) {
                for (int n : new int[] {1, 3, 8}) {
                    assertEquals(1, predictAndCount(conv, r, n, length, 6), algorithm + " N=" + n + " L=" + length);
                }
            }
        }
    }

    /**
     * A depthwise layer under AUTO and forced DEPTHWISE, channels_first included (the plan runs
     * the channels_last kernel through the layout adapter, on the same packing).
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(value = DataFormat.class)
    void depthwiseDoesNotRepack(DataFormat format) {
        SplittableRandom r = new SplittableRandom(13);
        for (Algorithm algorithm : new Algorithm[] {Algorithm.AUTO, Algorithm.DEPTHWISE}) {
            try (ConvLayer conv = Conv2D.builder().filters(12).kernelSize(3, 3).groups(12).padding(Padding.SAME)
                    .dataFormat(format).algorithm(algorithm).backend(Backend.NATIVE).build()) {
                conv.setWeights(random(r, 3 * 3 * 12), random(r, 12));
                for (int n : new int[] {1, 3, 8}) {
                    int[] shape = format == DataFormat.CHANNELS_LAST ? new int[] {n, 10, 6, 12} : new int[] {n, 12, 10, 6};
                    assertEquals(1, predictAndCount(conv, r, shape), algorithm + " " + format + " N=" + n);
                }
            }
        }
    }

    /**
     * Under AUTO a layer may pick another algorithm for another shape (Winograd needs enough 4x4
     * tiles for its 2.4 MB of transformed weights: 7x7 at batch 1 runs igemm, at batch 3 Winograd):
     * then, and only then, the weights are packed a second time, once.
     */
    @Test
    void aSecondAlgorithmPacksOnceMore() {
        SplittableRandom r = new SplittableRandom(14);
        try (ConvLayer conv = Conv2D.builder().filters(128).kernelSize(3, 3).padding(Padding.SAME).winograd(true)
                .backend(Backend.NATIVE).threads(1).build()) {
            conv.setWeights(random(r, 3 * 3 * 128 * 128), random(r, 128));
            Set<String> used = new LinkedHashSet<>();
            for (int n : new int[] {1, 3, 8, 2, 1}) {
                long packs = predictAndCount(conv, r, n, 7, 7, 128);
                used.add(conv.algorithm(n, 7, 7, 128));
                assertEquals(used.size(), packs, "packings after batch " + n + ", algorithms used " + used);
            }
            System.out.println("WeightsSharingTest: 3x3 128->128 on 7x7 under AUTO used " + used + ", packed "
                    + conv.nativePackCount() + " times");
        }
    }

    @Test
    void setWeightsAndCloseReleaseTheWeightsOnce() {
        SplittableRandom r = new SplittableRandom(15);
        ConvLayer conv = Conv1D.builder().filters(4).kernelSize(3).backend(Backend.NATIVE).build();
        conv.setWeights(random(r, 3 * 2 * 4), random(r, 4));
        NativeWeights first = conv.nativeWeights();
        assertEquals(1, predictAndCount(conv, r, 1, 10, 2));
        assertFalse(first.destroyed());
        conv.setWeights(random(r, 3 * 2 * 4), random(r, 4));
        NativeWeights second = conv.nativeWeights();
        assertNotSame(first, second);
        assertTrue(first.destroyed(), "replaced weights released");
        assertEquals(0, first.packCount());
        assertEquals(0, conv.nativePackCount(), "new weights, not packed yet");
        assertEquals(1, predictAndCount(conv, r, 3, 10, 2));
        conv.close();
        assertTrue(second.destroyed(), "closed layer's weights released");
        assertNull(conv.nativeWeights());
        second.destroy(); // a second destroy is a no-op, not a double free
        conv.close();
    }

    /**
     * Calls keep running while other threads replace the weights, add shapes and finally close the
     * layer: each call finishes on its plan's own reference to the weights it started with.
     */
    @Test
    void runningCallsOutliveTheLayersReference() throws Exception {
        SplittableRandom r = new SplittableRandom(16);
        float[] kernel = random(r, 3 * 3 * 8 * 8);
        float[] x = random(r, 2 * 12 * 12 * 8);
        ConvLayer conv = Conv2D.builder().filters(8).kernelSize(3, 3).useBias(false).backend(Backend.NATIVE).threads(1)
                .build();
        conv.setWeights(kernel, null);
        float[] expected = conv.predict(x, 2, 12, 12, 8);
        float[] negated = expected.clone();
        for (int i = 0; i < negated.length; i++) {
            negated[i] = -negated[i];
        }
        float[] minusKernel = kernel.clone();
        for (int i = 0; i < minusKernel.length; i++) {
            minusKernel[i] = -minusKernel[i];
        }
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            Future<Integer> caller = pool.submit(() -> {
                int calls = 0;
                float[] out = new float[expected.length];
                while (!stop.get()) {
                    try {
                        conv.predict(x, new int[] {2, 12, 12, 8}, out);
                    } catch (IllegalStateException closed) {
                        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
                        break;
                    }
                    assertTrue(Arrays.equals(expected, out) || Arrays.equals(negated, out), "a call mixed weights");
                    calls++;
                }
                return calls;
            });
            Future<?> shapes = pool.submit(() -> {
                for (int n = 1; !stop.get(); n = n % 5 + 1) {
                    try {
                        conv.predict(new float[n * 5 * 5 * 8], n, 5, 5, 8);
                    } catch (IllegalStateException closed) {
                        break;
                    }
                }
            });
            for (int i = 0; i < 200; i++) {
                conv.setWeights(i % 2 == 0 ? minusKernel : kernel, null);
                Thread.sleep(0, 200_000);
            }
            conv.close();
            stop.set(true);
            assertTrue(caller.get(60, TimeUnit.SECONDS) > 0, "no call ran");
            shapes.get(60, TimeUnit.SECONDS);
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
    }

    /**
     * What a new input shape costs once the weights are packed: a light plan (validation,
     * algorithm choice, workspace size), measured through the layer (explain builds the plan and
     * nothing else), against the first shape, which also copies and packs the weights.
     */
    @Test
    void aNewShapeCostsALightPlan() {
        SplittableRandom r = new SplittableRandom(17);
        float[] kernel = random(r, 3 * 3 * 128 * 128);
        float[] bias = random(r, 128);
        int rounds = 7;
        int shapes = 40; // new batch sizes per round; the cache keeps 8, so plans are freed as well
        long[] first = new long[rounds];
        long[] next = new long[rounds * shapes];
        for (int round = 0; round < rounds; round++) {
            try (ConvLayer conv = Conv2D.builder().filters(128).kernelSize(3, 3).padding(Padding.SAME)
                    .algorithm(Algorithm.GEMM).backend(Backend.NATIVE).threads(1).build()) {
                conv.setWeights(kernel, bias);
                long t0 = System.nanoTime();
                conv.explain(1, 28, 28, 128);
                first[round] = System.nanoTime() - t0;
                for (int i = 0; i < shapes; i++) {
                    long t1 = System.nanoTime();
                    conv.explain(2 + i, 28, 28, 128);
                    next[round * shapes + i] = System.nanoTime() - t1;
                }
                assertEquals(1, conv.nativePackCount());
            }
        }
        Arrays.sort(first);
        Arrays.sort(next);
        double firstMs = first[rounds / 2] / 1e6;
        double nextUs = next[next.length / 2] / 1e3;
        System.out.printf("WeightsSharingTest: 3x3 128->128 (gemm), medians: first shape (weights copied and"
                + " packed, %d layers) %.2f ms, each new batch size (light plan, %d) %.1f us%n", rounds, firstMs,
                next.length, nextUs);
        assertTrue(nextUs * 1e-3 < firstMs, "a new shape should cost less than packing: " + nextUs + " us vs "
                + firstMs + " ms");
    }
}

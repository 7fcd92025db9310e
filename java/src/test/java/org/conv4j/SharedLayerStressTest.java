package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * 16 Java threads share three native layers for 10^4 calls each (-Dconv4j.stress.calls=N to
 * change), rotating over the layers, two input shapes per layer (so they race on the plan cache)
 * and the three ways to pass data (float[], direct FloatBuffer, FloatPointer). Every result must
 * be bit-identical to the one computed on a single thread before the threads start. Shapes are
 * tiny so the run stays short; one OpenMP thread per call, as the Javadoc advises for pools.
 */
class SharedLayerStressTest {
    private static final int THREADS = 16;
    private static final int CALLS = Integer.getInteger("conv4j.stress.calls", 10_000);

    /** One layer and one input shape, with the single-thread answer. */
    private record Case(ConvLayer layer, int[] shape, float[] input, float[] expected) {}

    @Test
    void sixteenThreadsGiveSingleThreadResults() throws Exception {
        List<ConvLayer> layers = new ArrayList<>();
        layers.add(Conv2D.builder().filters(4).kernelSize(3, 3).padding(Padding.SAME).activation(Activation.RELU)
                .threads(1).backend(Backend.NATIVE).build());
        layers.add(Conv1D.builder().filters(3).kernelSize(3).dilationRate(2).padding(Padding.CAUSAL).threads(1)
                .backend(Backend.NATIVE).build());
        layers.add(Conv2D.builder().filters(8).kernelSize(3, 3).groups(4).strides(2, 2).threads(1)
                .backend(Backend.NATIVE).build());
        int[][][] shapes = {
            {{1, 6, 6, 3}, {2, 5, 7, 3}},
            {{1, 16, 2}, {3, 9, 2}},
            {{1, 7, 7, 4}, {1, 9, 5, 4}},
        };
        List<Case> cases = new ArrayList<>();
        try {
            for (int l = 0; l < layers.size(); l++) {
                ConvLayer layer = layers.get(l);
                int cin = shapes[l][0][shapes[l][0].length - 1];
                int kernelCount = (int) layer.config().kernelVolume() * (cin / layer.config().groups())
                        * layer.config().filters();
                layer.setWeights(wave(kernelCount, l), wave(layer.config().filters(), l + 7));
                for (int[] shape : shapes[l]) {
                    float[] input = wave(Arrays.stream(shape).reduce(1, (a, b) -> a * b), l + shape[0]);
                    cases.add(new Case(layer, shape, input, layer.predict(input, shape)));
                }
            }
            long started = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int seed = t;
                results.add(pool.submit(() -> hammer(cases, seed, start)));
            }
            start.countDown();
            long calls = 0;
            for (Future<Long> f : results) {
                calls += f.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertEquals((long) THREADS * CALLS, calls);
            System.out.printf("stress: %d threads x %d calls = %d calls on %d shared layers, all bit-identical,"
                    + " %.1f s%n", THREADS, CALLS, calls, layers.size(), (System.nanoTime() - started) / 1e9);
        } finally {
            layers.forEach(ConvLayer::close);
        }
    }

    private static long hammer(List<Case> cases, int seed, CountDownLatch start) throws InterruptedException {
        // Per-thread output buffers, allocated once: the hot path allocates nothing.
        int maxIn = cases.stream().mapToInt(c -> c.input.length).max().orElseThrow();
        int maxOut = cases.stream().mapToInt(c -> c.expected.length).max().orElseThrow();
        float[][] outArrays = cases.stream().map(c -> new float[c.expected.length]).toArray(float[][]::new);
        FloatBuffer inBuffer = ByteBuffer.allocateDirect(maxIn * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer outBuffer = ByteBuffer.allocateDirect(maxOut * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        float[] got = new float[maxOut];
        long calls = 0;
        try (FloatPointer inPointer = new FloatPointer(maxIn); FloatPointer outPointer = new FloatPointer(maxOut)) {
            start.await();
            for (int call = 0; call < CALLS; call++) {
                int index = (call * 7 + seed) % cases.size();
                Case c = cases.get(index);
                int n = c.expected.length;
                switch ((call + seed) % 3) {
                    case 0 -> {
                        c.layer.predict(c.input, c.shape, outArrays[index]);
                        System.arraycopy(outArrays[index], 0, got, 0, n);
                    }
                    case 1 -> {
                        inBuffer.clear();
                        inBuffer.put(c.input).flip();
                        outBuffer.clear().limit(n);
                        c.layer.predict(inBuffer, c.shape, outBuffer);
                        outBuffer.get(0, got, 0, n);
                    }
                    default -> {
                        inPointer.position(0).limit(c.input.length).put(c.input);
                        outPointer.position(0).limit(n);
                        c.layer.predict(inPointer, c.shape, outPointer);
                        outPointer.get(got, 0, n);
                    }
                }
                if (!Arrays.equals(got, 0, n, c.expected, 0, n)) {
                    fail("thread " + seed + " call " + call + " on " + c.layer + " " + Arrays.toString(c.shape)
                            + " differs from the single-thread result");
                }
                calls++;
            }
        }
        return calls;
    }

    private static float[] wave(int count, int phase) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) Math.sin(i * 0.731 + phase) * (1 + (i % 5));
        }
        return a;
    }
}

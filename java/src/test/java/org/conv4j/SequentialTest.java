package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Stacks of layers: the tutorial's "later layers see earlier features", shapes, memory, threads. */
class SequentialTest {
    private static final double U = Math.pow(2, -24);

    /** A 7×7 image with a vertical line at column 3 and a horizontal line at row 3: a cross. */
    static float[] crossImage() {
        float[] image = new float[49];
        for (int r = 0; r < 7; r++) {
            for (int c = 0; c < 7; c++) {
                image[r * 7 + c] = r == 3 || c == 3 ? 1 : 0;
            }
        }
        return image;
    }

    /** Two 3×3 filters [vertical, horizontal] in Keras layout [3, 3, 1, 2]. */
    static float[] lineDetectors() {
        float[] k = new float[18];
        for (int i = 0; i < 3; i++) {
            k[(i * 3 + 1) * 2] = 1;     // vertical: the middle column
            k[(3 + i) * 2 + 1] = 1;     // horizontal: the middle row
        }
        return k;
    }

    private static Sequential crossDetector(Backend backend) {
        Conv2D lines = Conv2D.builder().filters(2).kernelSize(3).useBias(false).backend(backend).build();
        lines.setWeights(lineDetectors(), null);
        // Fires only where both line features are at full strength (3 + 3 > 5).
        Conv2D both = Conv2D.builder().filters(1).kernelSize(1).activation(Activation.RELU).backend(backend).build();
        both.setWeights(new float[] {1, 1}, new float[] {-5});
        return Sequential.builder().input(7, 7, 1).add(lines).add(both).build();
    }

    /**
     * Worked by hand: the vertical map is 3 in output column 2 (the window's middle column is the
     * line) and 1 in rows 1..3 elsewhere (the window crosses the horizontal line once); the
     * horizontal map is its transpose. Only the centre has 3 + 3 - 5 > 0.
     */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void secondLayerDetectsTheCrossingOfTheFirstLayersLines(Backend backend) {
        assumeNative(backend);
        float[] vertical = new float[25];
        float[] horizontal = new float[25];
        float[] crossing = new float[25];
        for (int r = 0; r < 5; r++) {
            for (int c = 0; c < 5; c++) {
                vertical[r * 5 + c] = c == 2 ? 3 : r >= 1 && r <= 3 ? 1 : 0;
                horizontal[r * 5 + c] = r == 2 ? 3 : c >= 1 && c <= 3 ? 1 : 0;
            }
        }
        crossing[2 * 5 + 2] = 1;
        try (Sequential model = crossDetector(backend)) {
            ConvLayer lines = model.layers().get(0);
            float[] maps = lines.predict(crossImage(), 1, 7, 7, 1);
            for (int i = 0; i < 25; i++) {
                assertEquals(vertical[i], maps[2 * i], "vertical map at " + i);
                assertEquals(horizontal[i], maps[2 * i + 1], "horizontal map at " + i);
            }
            assertArrayEquals(crossing, model.predict(crossImage(), 1, 7, 7, 1));
            assertArrayEquals(new int[] {1, 5, 5, 1}, model.outputShape(1, 7, 7, 1));
        }
    }

    @Test
    void summaryListsShapesAndParameters() {
        try (Sequential model = crossDetector(null)) {
            String s = model.summary();
            assertTrue(s.contains("conv2d (Conv2D)"), s);
            assertTrue(s.contains("conv2d_1 (Conv2D)"), s);
            assertTrue(s.matches("(?s).*conv2d \\(Conv2D\\)\\s+\\(None, 5, 5, 2\\)\\s+18\\n.*"), s);
            assertTrue(s.matches("(?s).*conv2d_1 \\(Conv2D\\)\\s+\\(None, 5, 5, 1\\)\\s+3\\n.*"), s);
            assertTrue(s.contains("Total params: 21"), s);
            assertEquals(21, model.countParams());
        }
    }

    /** A random chain and its reference, each stage's bound carrying the previous stage's error through |W|. */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void randomStacksMatchTheReferenceStack(Backend backend) {
        assumeNative(backend);
        for (int seed = 0; seed < 80; seed++) {
            SplittableRandom r = new SplittableRandom(7919L * seed + 1);
            int rank = r.nextBoolean() ? 1 : 2;
            DataFormat format = r.nextInt(3) == 0 ? DataFormat.CHANNELS_FIRST : DataFormat.CHANNELS_LAST;
            int channels = 1 + r.nextInt(5);
            int[] sample = new int[rank + 1];
            for (int i = 0; i < rank; i++) {
                sample[format == DataFormat.CHANNELS_LAST ? i : i + 1] = 6 + r.nextInt(10);
            }
            sample[format == DataFormat.CHANNELS_LAST ? rank : 0] = channels;
            int batch = 1 + r.nextInt(2);
            int[] shape = new int[rank + 2];
            shape[0] = batch;
            System.arraycopy(sample, 0, shape, 1, sample.length);

            Sequential.Builder mb = Sequential.builder().input(sample);
            List<Object> plan = new ArrayList<>(); // ConvLayer with its weights, or Activation
            int depth = 2 + r.nextInt(2);
            int[] current = shape;
            for (int l = 0; l < depth; l++) {
                if (r.nextInt(4) == 0) {
                    mb.add(Activation.RELU);
                    plan.add(Activation.RELU);
                }
                int cin = current[format == DataFormat.CHANNELS_LAST ? rank + 1 : 1];
                int groups = cin % 2 == 0 && r.nextBoolean() ? 2 : 1;
                int filters = groups * (1 + r.nextInt(3));
                int k = 1 + r.nextInt(3);
                boolean fits = true;
                for (int i = 0; i < rank; i++) {
                    fits &= current[format == DataFormat.CHANNELS_LAST ? i + 1 : i + 2] >= k;
                }
                Padding padding = fits && r.nextBoolean() ? Padding.VALID : Padding.SAME;
                ConvLayer layer = ConvLayer.builder(rank).filters(filters).kernelSize(k).padding(padding)
                        .groups(groups).strides(r.nextInt(4) == 0 ? 2 : 1).dataFormat(format)
                        .activation(r.nextBoolean() ? Activation.RELU : Activation.NONE).backend(backend).build();
                float[] kernel = values(r, k * (rank == 2 ? k : 1) * (cin / groups) * filters);
                float[] bias = values(r, filters);
                layer.setWeights(kernel, bias);
                mb.add(layer);
                plan.add(layer);
                current = layer.outputShape(current);
            }
            float[] input = values(r, count(shape));
            try (Sequential model = mb.build()) {
                float[] actual = model.predict(input, shape);
                checkAgainstReferenceChain(plan, input, shape, actual, "seed " + seed + " " + backend);
                float[] again = new float[actual.length];
                model.predict(input, shape, again);
                assertArrayEquals(actual, again, "second call, reused buffers");
            }
        }
    }

    private static void checkAgainstReferenceChain(List<Object> stages, float[] input, int[] shape, float[] actual,
                                                   String what) {
        float[] expected = input;
        float[] bound = new float[input.length];
        int[] current = shape;
        for (Object stage : stages) {
            if (stage instanceof Activation) {
                expected = relu(expected);
                continue;
            }
            ConvLayer layer = (ConvLayer) stage;
            ConvLayer.Weights w = layer.getWeights();
            ConvGeometry g = layer.geometry(current);
            float[] next = ReferenceConvolution.compute(g, expected, w.kernel(), w.bias());
            float[] absKernel = Tolerance.abs(w.kernel());
            float[] magnitude = ReferenceConvolution.compute(g, Tolerance.abs(expected), absKernel, Tolerance.abs(w.bias()));
            float[] carried = ReferenceConvolution.compute(g, bound, absKernel, new float[w.bias().length]);
            double m = g.fanIn() + 1.0;
            double gamma = m * U / (1 - m * U);
            float[] nextBound = new float[next.length];
            for (int i = 0; i < next.length; i++) {
                // Own rounding (as Tolerance) plus the input error carried through |W|; relu is 1-Lipschitz.
                nextBound[i] = (float) ((2 * gamma * magnitude[i] + U * Math.abs(next[i]) + Float.MIN_NORMAL
                        + carried[i]) * (1 + 4 * U));
            }
            expected = next;
            bound = nextBound;
            current = g.outputShape();
        }
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs((double) actual[i] - expected[i]) <= bound[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " within " + bound[i]);
            }
        }
    }

    @Test
    void nativeStackEqualsItsLayersRunOneByOne() {
        assumeNative(Backend.NATIVE);
        SplittableRandom r = new SplittableRandom(5);
        Conv2D a = Conv2D.builder().filters(8).kernelSize(3).padding(Padding.SAME).activation(Activation.RELU).build();
        Conv2D b = Conv2D.builder().filters(4).kernelSize(3).strides(2).build();
        a.setWeights(values(r, 3 * 3 * 3 * 8), values(r, 8));
        b.setWeights(values(r, 3 * 3 * 8 * 4), values(r, 4));
        float[] x = values(r, 2 * 12 * 12 * 3);
        try (Sequential model = Sequential.builder().input(12, 12, 3).add(a).add(Activation.RELU).add(b).build();
             FloatPointer in = new FloatPointer(x);
             FloatPointer out = new FloatPointer(2 * 5 * 5 * 4)) {
            float[] expected = b.predict(relu(a.predict(x, 2, 12, 12, 3)), 2, 12, 12, 8);
            assertArrayEquals(expected, model.predict(x, 2, 12, 12, 3));
            model.predict(in, new int[] {2, 12, 12, 3}, out);
            float[] viaPointers = new float[expected.length];
            out.get(viaPointers);
            assertArrayEquals(expected, viaPointers);
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void anActivationFirstOrLastNeverTouchesTheCallersInput(Backend backend) {
        assumeNative(backend);
        Conv1D conv = Conv1D.builder().filters(1).kernelSize(1).useBias(false).backend(backend).build();
        conv.setWeights(new float[] {-1}, null);
        float[] x = {-2, 3, -4};
        try (Sequential model = Sequential.builder().input(3, 1).add(Activation.RELU).add(conv)
                .add(Activation.RELU).build()) {
            assertArrayEquals(new float[] {0, 0, 0}, model.predict(x, 1, 3, 1));
            assertArrayEquals(new float[] {-2, 3, -4}, x);
        }
        Conv1D negate = Conv1D.builder().filters(1).kernelSize(1).useBias(false).backend(backend).build();
        negate.setWeights(new float[] {-1}, null);
        try (Sequential model = Sequential.builder().input(3, 1).add(negate).add(Activation.RELU).build()) {
            assertArrayEquals(new float[] {2, 0, 4}, model.predict(x, 1, 3, 1));
        }
    }

    @Test
    void badStacksAreRefusedAtBuildNamingTheLayer() {
        Conv2D three = Conv2D.builder().filters(3).kernelSize(3).build();
        three.setWeights(new float[3 * 3 * 1 * 3], new float[3]);
        Conv2D wantsFour = Conv2D.builder().filters(1).kernelSize(3).build();
        wantsFour.setWeights(new float[3 * 3 * 4], new float[1]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(8, 8, 1).add(three).add(wantsFour).build());
        assertTrue(e.getMessage().contains("layer 2 'conv2d_1'") && e.getMessage().contains("expects 4 input channels")
                && e.getMessage().contains("receives 3"), e.getMessage());

        Conv2D big = Conv2D.builder().filters(1).kernelSize(9).build();
        big.setWeights(new float[81 * 3], new float[1]);
        e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(8, 8, 1).add(three).add(big).build());
        assertTrue(e.getMessage().startsWith("layer 2 'conv2d_1' cannot take input (None, 6, 6, 3)"), e.getMessage());

        Conv2D noWeights = Conv2D.builder().filters(1).kernelSize(1).build();
        e = assertThrows(IllegalArgumentException.class, () -> Sequential.builder().input(4, 4, 1).add(noWeights).build());
        assertTrue(e.getMessage().contains("has no weights"), e.getMessage());

        Conv1D oneD = Conv1D.builder().filters(1).kernelSize(1).build();
        oneD.setWeights(new float[3], new float[1]);
        e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(8, 8, 1).add(three).add(oneD).build());
        assertTrue(e.getMessage().contains("is rank 1"), e.getMessage());

        Conv2D first = Conv2D.builder().filters(3).kernelSize(1).dataFormat(DataFormat.CHANNELS_FIRST).build();
        first.setWeights(new float[9], new float[3]);
        e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(8, 8, 1).add(three).add(first).build());
        assertTrue(e.getMessage().contains("channels_first"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(8, 8, 1).add(three).add(three).build());
        assertTrue(e.getMessage().contains("already in the model"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Sequential.builder().add(three).build());
        assertThrows(IllegalArgumentException.class, () -> Sequential.builder().input(8, 8, 1).add(Activation.RELU).build());
        assertThrows(IllegalArgumentException.class, () -> Sequential.builder().input(8, 0, 1));

        try (Sequential ok = Sequential.builder().input(8, 8, 1).add(three).build()) {
            e = assertThrows(IllegalArgumentException.class, () -> ok.predict(new float[64], 1, 8, 8, 2));
            assertTrue(e.getMessage().contains("does not match model 'sequential' input [N, 8, 8, 1]"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> ok.predict(new float[63], 1, 8, 8, 1));
            assertThrows(IllegalArgumentException.class, () -> ok.predict(new float[64], new int[] {1, 8, 8, 1}, new float[5]));
        }
        wantsFour.close();
        big.close();
        noWeights.close();
        oneD.close();
        first.close();
    }

    @Test
    void closeClosesTheLayersAndIsIdempotent() {
        Sequential model = crossDetector(null);
        model.predict(crossImage(), 1, 7, 7, 1);
        model.close();
        model.close();
        assertTrue(model.isClosed());
        model.layers().forEach(l -> assertTrue(l.isClosed(), l.toString()));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> model.predict(crossImage(), 1, 7, 7, 1));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void steadyStateNativeCallsAllocateNothing() {
        assumeNative(Backend.NATIVE);
        try (Sequential model = crossDetector(Backend.NATIVE)) {
            model.layers().forEach(l -> l.setThreads(1));
            float[] in = crossImage();
            int[] shape = {1, 7, 7, 1};
            float[] out = new float[25];
            int calls = 20_000;
            for (int i = 0; i < calls; i++) {
                model.predict(in, shape, out);
            }
            long before = allocatedBytes();
            for (int i = 0; i < calls; i++) {
                model.predict(in, shape, out);
            }
            long total = allocatedBytes() - before;
            assertTrue(total < calls, "allocated " + total + " bytes in " + calls + " calls");
        }
    }

    @Test
    void concurrentCallersGetTheSingleThreadedResult() throws Exception {
        SplittableRandom r = new SplittableRandom(11);
        Conv2D a = Conv2D.builder().filters(6).kernelSize(3).padding(Padding.SAME).activation(Activation.RELU).build();
        Conv2D b = Conv2D.builder().filters(2).kernelSize(3).build();
        a.setWeights(values(r, 3 * 3 * 2 * 6), values(r, 6));
        b.setWeights(values(r, 3 * 3 * 6 * 2), values(r, 2));
        float[] x = values(r, 10 * 10 * 2);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try (Sequential model = Sequential.builder().input(10, 10, 2).add(a).add(b).build()) {
            model.layers().forEach(l -> l.setThreads(1));
            float[] expected = model.predict(x, 1, 10, 10, 2);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                futures.add(pool.submit(() -> {
                    float[] out = new float[expected.length];
                    for (int i = 0; i < 500; i++) {
                        model.predict(x, new int[] {1, 10, 10, 2}, out);
                        assertArrayEquals(expected, out);
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void assumeNative(Backend backend) {
        if (backend == Backend.NATIVE && !Conv4j.nativeAvailable()) {
            fail("native backend unavailable: " + Conv4j.nativeLoadError());
        }
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private static float[] relu(float[] a) {
        float[] r = a.clone();
        for (int i = 0; i < r.length; i++) {
            if (r[i] < 0) {
                r[i] = 0;
            }
        }
        return r;
    }

    private static float[] values(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    private static int count(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}

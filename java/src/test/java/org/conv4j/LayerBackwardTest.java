package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** {@code ConvLayer.backward} on every backend against {@link ReferenceGradients}, its validation and threads. */
class LayerBackwardTest {
    private static List<Backend> backends() {
        return Conv4j.nativeAvailable() ? List.of(Backend.JAVA, Backend.NATIVE) : List.of(Backend.JAVA);
    }

    private static void checkAgainstReference(ConvGeometry g, ConvLayer layer, float[] x, float[] w, float[] b,
                                              float[] dy, String what) {
        float[] y = layer.predict(x, g.inputShape());
        Gradients expected = ReferenceGradients.compute(g, x, w, b, y, dy);
        Gradients actual = layer.backward(x, dy, g.inputShape());
        Tolerance.assertGradientsWithinBound(g, x, w, y, dy, expected, actual, what);
    }

    @Test
    void smallCasesMatchTheReferenceOnEveryBackend() {
        for (Backend backend : backends()) {
            for (int i = 0; i < 300; i++) {
                GradientCase c = new GradientCase(7, i, 9, 5);
                try (ConvLayer layer = c.layer(backend)) {
                    checkAgainstReference(c.geometry, layer, c.input, c.kernel, c.bias, c.outputGradient,
                            backend + " case " + i + " " + c);
                }
            }
        }
    }

    @Test
    void randomConfigurationsMatchTheReferenceWithManyThreads() {
        JavaConvolution.fullTeam = true; // small shapes reach the workers too
        try {
            for (Backend backend : backends()) {
                for (int i = 0; i < 48; i++) {
                    RandomCase c = new RandomCase(15, i);
                    ConvGeometry g = c.geometry();
                    float[] dy = RandomCase.values(new java.util.SplittableRandom(i), g.outputCount());
                    try (ConvLayer layer = c.layer(backend, Algorithm.AUTO)) {
                        layer.setThreads(0);
                        checkAgainstReference(g, layer, c.input, c.kernel, c.bias, dy, backend + " " + c);
                    }
                }
            }
        } finally {
            JavaConvolution.fullTeam = false;
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        JavaConvolution.fullTeam = true;
        try {
            RandomCase c = new RandomCase(3, 1);
            float[] dy = RandomCase.values(new java.util.SplittableRandom(1), c.geometry().outputCount());
            try (ConvLayer layer = c.layer(Backend.JAVA, Algorithm.AUTO)) {
                layer.setThreads(1);
                Gradients one = layer.backward(c.input, dy, c.inputShape);
                layer.setThreads(0);
                Gradients all = layer.backward(c.input, dy, c.inputShape);
                assertArrayEquals(one.input(), all.input());
                assertArrayEquals(one.kernel(), all.kernel());
                assertArrayEquals(one.bias(), all.bias());
            }
        } finally {
            JavaConvolution.fullTeam = false;
        }
    }

    @Test
    void bufferVariantWritesTheSameAndSkipsNullOutputs() {
        GradientCase c = null;
        for (int i = 0; c == null || !c.config.useBias(); i++) {
            c = new GradientCase(1, i, 6, 3);
        }
        for (Backend backend : backends()) {
            try (ConvLayer layer = c.layer(backend)) {
                int[] shape = c.geometry.inputShape();
                Gradients g = layer.backward(c.input, c.outputGradient, shape);
                float[] dx = new float[c.input.length];
                float[] dw = new float[c.kernel.length];
                float[] db = new float[c.bias.length];
                layer.backward(c.input, shape, c.outputGradient, dx, dw, db);
                assertArrayEquals(g.input(), dx);
                assertArrayEquals(g.kernel(), dw);
                assertArrayEquals(g.bias(), db);
                float[] onlyW = new float[c.kernel.length];
                layer.backward(c.input, shape, c.outputGradient, null, onlyW, null);
                assertArrayEquals(g.kernel(), onlyW);
            }
        }
    }

    @Test
    void nativeBackwardIntoCallerArraysAllocatesNothingOnceWarm() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Conv4j.nativeAvailable(), "native library not loaded");
        try (Conv2D layer = Conv2D.builder().filters(8).kernelSize(3).padding(Padding.SAME)
                .activation(Activation.RELU).backend(Backend.NATIVE).threads(1).build()) {
            java.util.SplittableRandom r = new java.util.SplittableRandom(4);
            float[] w = RandomCase.values(r, 3 * 3 * 4 * 8);
            float[] b = RandomCase.values(r, 8);
            layer.setWeights(w, b);
            int[] shape = {2, 9, 9, 4};
            float[] x = RandomCase.values(r, 2 * 9 * 9 * 4);
            float[] dy = RandomCase.values(r, 2 * 9 * 9 * 8);
            float[] dx = new float[x.length], dw = new float[w.length], db = new float[8];
            for (int i = 0; i < 2000; i++) { // warm up: plans built, code compiled
                layer.backward(x, shape, dy, dx, dw, db);
            }
            com.sun.management.ThreadMXBean mx =
                    (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 2000; i++) {
                layer.backward(x, shape, dy, dx, dw, db);
            }
            long bytes = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(bytes < 2000, "2000 native backward calls allocated " + bytes + " bytes");
            // And they are the native passes' results: within the bound of the reference.
            ConvGeometry g = layer.geometry(shape);
            float[] y = layer.predict(x, shape);
            Tolerance.assertGradientsWithinBound(g, x, w, y, dy, ReferenceGradients.compute(g, x, w, b, y, dy),
                    new Gradients(dx, dw, db), "native");
        }
    }

    @Test
    void backwardDuringSetWeightsUsesOneWholeSetOfWeights() throws Exception {
        RandomCase c = new RandomCase(21, 5);
        float[] dy = RandomCase.values(new java.util.SplittableRandom(3), c.geometry().outputCount());
        float[] other = c.kernel.clone();
        for (int i = 0; i < other.length; i++) {
            other[i] = -2 * other[i];
        }
        for (Backend backend : backends()) {
            try (ConvLayer layer = c.layer(backend, Algorithm.AUTO)) {
                float[] first = layer.backward(c.input, dy, c.inputShape).input();
                layer.setWeights(other, c.bias);
                float[] second = layer.backward(c.input, dy, c.inputShape).input();
                ExecutorService pool = Executors.newFixedThreadPool(3);
                try {
                    Future<?> swapper = pool.submit(() -> {
                        for (int i = 0; i < 200; i++) {
                            layer.setWeights(i % 2 == 0 ? c.kernel : other, c.bias);
                        }
                    });
                    List<Future<float[]>> results = new ArrayList<>();
                    for (int i = 0; i < 100; i++) {
                        results.add(pool.submit(() -> layer.backward(c.input, dy, c.inputShape).input()));
                    }
                    swapper.get();
                    for (Future<float[]> f : results) {
                        float[] dx = f.get();
                        assertTrue(java.util.Arrays.equals(dx, first) || java.util.Arrays.equals(dx, second),
                                backend + ": dx of neither weight set");
                    }
                } finally {
                    pool.shutdown();
                }
            }
        }
    }

    @Test
    void pointerVariantGivesTheArrayVariantsBitsAndAllocatesNothingOnceWarm() {
        for (Backend backend : backends()) {
            for (Activation act : Activation.values()) {
                try (Conv2D layer = Conv2D.builder().filters(6).kernelSize(3).strides(2).padding(Padding.SAME)
                        .activation(act).backend(backend).threads(1).build();
                     org.bytedeco.javacpp.FloatPointer x = new org.bytedeco.javacpp.FloatPointer(1 + 2 * 7 * 7 * 3);
                     org.bytedeco.javacpp.FloatPointer dy = new org.bytedeco.javacpp.FloatPointer(2 * 4 * 4 * 6);
                     org.bytedeco.javacpp.FloatPointer dx = new org.bytedeco.javacpp.FloatPointer(2 * 7 * 7 * 3);
                     org.bytedeco.javacpp.FloatPointer dw = new org.bytedeco.javacpp.FloatPointer(3 * 3 * 3 * 6);
                     org.bytedeco.javacpp.FloatPointer db = new org.bytedeco.javacpp.FloatPointer(6)) {
                    java.util.SplittableRandom r = new java.util.SplittableRandom(6);
                    float[] w = RandomCase.values(r, 3 * 3 * 3 * 6);
                    float[] b = RandomCase.values(r, 6);
                    layer.setWeights(w, b);
                    int[] shape = {2, 7, 7, 3};
                    float[] xa = RandomCase.values(r, 2 * 7 * 7 * 3);
                    float[] dya = RandomCase.values(r, 2 * 4 * 4 * 6);
                    x.position(1).put(xa); // a position other than 0 is honoured
                    dy.put(dya);
                    Gradients expected = layer.backward(xa, dya, shape);
                    layer.backward(x, shape, dy, dx, dw, db);
                    float[] got = new float[xa.length];
                    dx.get(got);
                    assertArrayEquals(expected.input(), got, backend + " " + act + " dx");
                    float[] gotW = new float[w.length];
                    dw.get(gotW);
                    assertArrayEquals(expected.kernel(), gotW, backend + " " + act + " dW");
                    float[] gotB = new float[6];
                    db.get(gotB);
                    assertArrayEquals(expected.bias(), gotB, backend + " " + act + " db");
                    float[] dyAfter = new float[dya.length];
                    dy.get(dyAfter);
                    assertArrayEquals(dya, dyAfter, "the output gradient is not modified");
                    layer.backward(x, shape, dy, null, null, db); // dW skipped, db still computed
                    db.get(gotB);
                    assertArrayEquals(expected.bias(), gotB);
                    assertTrue(assertThrows(IllegalArgumentException.class,
                            () -> layer.backward(x, shape, dy, dx, dx, null)).getMessage().contains("overlap"));
                    if (backend == Backend.NATIVE) {
                        for (int i = 0; i < 2000; i++) { // warm up: plans built, code compiled
                            layer.backward(x, shape, dy, dx, dw, db);
                        }
                        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean)
                                java.lang.management.ManagementFactory.getThreadMXBean();
                        long before = mx.getCurrentThreadAllocatedBytes();
                        for (int i = 0; i < 2000; i++) {
                            layer.backward(x, shape, dy, dx, dw, db);
                        }
                        long bytes = mx.getCurrentThreadAllocatedBytes() - before;
                        assertTrue(bytes < 2000, "2000 pointer backward calls allocated " + bytes + " bytes");
                    }
                }
            }
        }
    }

    @Test
    void badArgumentsNameTheParameter() {
        try (Conv2D layer = Conv2D.builder().filters(2).kernelSize(3).useBias(false).backend(Backend.JAVA).build()) {
            float[] x = new float[5 * 5];
            float[] dy = new float[3 * 3 * 2];
            assertThrows(IllegalStateException.class, () -> layer.backward(x, dy, 1, 5, 5, 1));
            layer.setWeights(new float[3 * 3 * 2], null);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> layer.backward(x, new float[17], 1, 5, 5, 1))
                    .getMessage().contains("output gradient has 17 floats"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> layer.backward(null, dy, 1, 5, 5, 1))
                    .getMessage().contains("input must not be null"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> layer.backward(x, new int[] {1, 5, 5, 1}, dy, null, new float[3], null))
                    .getMessage().contains("kernel gradient has 3 floats"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> layer.backward(x, new int[] {1, 5, 5, 1}, dy, null, null, new float[2]))
                    .getMessage().contains("bias gradient must be null"));
            assertTrue(assertThrows(IllegalArgumentException.class,
                    () -> layer.backward(x, new int[] {1, 5, 5, 1}, dy, x, null, null))
                    .getMessage().contains("input and input gradient must be different arrays"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> layer.backward(x, dy, 1, 5, 5))
                    .getMessage().contains("dimensions"));
            assertNull(layer.backward(x, dy, 1, 5, 5, 1).bias());
            layer.close();
            assertThrows(IllegalStateException.class, () -> layer.backward(x, dy, 1, 5, 5, 1));
        }
    }

    @Test
    void concurrentCallsOnASharedLayerAgree() throws Exception {
        RandomCase c = new RandomCase(9, 4);
        float[] dy = RandomCase.values(new java.util.SplittableRandom(2), c.geometry().outputCount());
        for (Backend backend : backends()) {
            try (ConvLayer layer = c.layer(backend, Algorithm.AUTO)) {
                Gradients expected = layer.backward(c.input, dy, c.inputShape);
                ExecutorService pool = Executors.newFixedThreadPool(4);
                try {
                    List<Future<Gradients>> results = new ArrayList<>();
                    for (int i = 0; i < 16; i++) {
                        results.add(pool.submit(() -> layer.backward(c.input, dy, c.inputShape)));
                    }
                    for (Future<Gradients> f : results) {
                        Gradients g = f.get();
                        assertArrayEquals(expected.input(), g.input());
                        assertArrayEquals(expected.kernel(), g.kernel());
                    }
                } finally {
                    pool.shutdown();
                }
            }
        }
    }
}

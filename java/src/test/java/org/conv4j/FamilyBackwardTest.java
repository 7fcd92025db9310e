package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * {@code backward} of Conv3D, the transposed layers, explicit pads and SeparableConv1D/2D on every
 * backend against {@link ReferenceGradients} (itself checked by finite differences in
 * {@link FamilyGradientsTest}) within the bound of README "Training".
 */
class FamilyBackwardTest {
    private static List<Backend> backends() {
        return Conv4j.nativeAvailable() ? List.of(Backend.JAVA, Backend.NATIVE) : List.of(Backend.JAVA);
    }

    static ConvLayer layer(ConvConfig c, Backend backend, int threads) {
        int r = c.rank();
        if (c.kind() == ConvConfig.Kind.TRANSPOSE) {
            return r == 1 ? new Conv1DTranspose(c, backend, threads) : r == 2 ? new Conv2DTranspose(c, backend, threads)
                    : new Conv3DTranspose(c, backend, threads);
        }
        return r == 1 ? new Conv1D(c, backend, threads) : r == 2 ? new Conv2D(c, backend, threads)
                : new Conv3D(c, backend, threads);
    }

    @Test
    void everyFamilyLayerMatchesTheReferenceOnEveryBackend() {
        for (Backend backend : backends()) {
            SplittableRandom r = new SplittableRandom(77);
            int transposed = 0, rank3 = 0;
            for (int i = 0; i < 120; i++) {
                FamilyGradientsTest.Case c = FamilyGradientsTest.randomCase(r);
                ConvGeometry g = c.g();
                try (ConvLayer layer = layer(g.config(), backend, i % 3)) {
                    layer.setWeights(c.w(), c.b());
                    float[] y = layer.predict(c.x(), g.inputShape());
                    Gradients expected = ReferenceGradients.compute(g, c.x(), c.w(), c.b(), y, c.dy());
                    Gradients actual = layer.backward(c.x(), c.dy(), g.inputShape());
                    Tolerance.assertGradientsWithinBound(g, c.x(), c.w(), y, c.dy(), expected, actual,
                            backend + " case " + i + " " + c);
                }
                transposed += g.transposed() ? 1 : 0;
                rank3 += g.rank() == 3 ? 1 : 0;
            }
            assertTrue(transposed > 20 && rank3 > 20, transposed + " transposed, " + rank3 + " rank-3 cases");
        }
    }

    @Test
    void pointerVariantGivesTheArrayVariantsBitsForTransposedAndRank3() {
        for (Backend backend : backends()) {
            SplittableRandom r = new SplittableRandom(78);
            for (int i = 0; i < 30; i++) {
                FamilyGradientsTest.Case c = FamilyGradientsTest.randomCase(r);
                ConvGeometry g = c.g();
                try (ConvLayer layer = layer(g.config(), backend, 1)) {
                    layer.setWeights(c.w(), c.b());
                    Gradients expected = layer.backward(c.x(), c.dy(), g.inputShape());
                    try (FloatPointer x = new FloatPointer(c.x()); FloatPointer dy = new FloatPointer(c.dy());
                         FloatPointer dx = new FloatPointer(g.inputCount());
                         FloatPointer dw = new FloatPointer(g.kernelCount());
                         FloatPointer db = new FloatPointer(Math.max(1, g.outChannels()))) {
                        layer.backward(x, g.inputShape(), dy, dx, dw, c.b() == null ? null : db);
                        float[] got = new float[g.inputCount()];
                        dx.get(got);
                        assertArrayEquals(expected.input(), got, backend + " dx " + c);
                        float[] gotW = new float[g.kernelCount()];
                        dw.get(gotW);
                        assertArrayEquals(expected.kernel(), gotW, backend + " dW " + c);
                        if (c.b() != null) {
                            float[] gotB = new float[g.outChannels()];
                            db.get(gotB);
                            assertArrayEquals(expected.bias(), gotB, backend + " db " + c);
                        }
                    }
                }
            }
        }
    }

    @Test
    void nativeTransposedAndRank3BackwardAllocateNothingOnceWarmAndShareAcrossThreads() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Conv4j.nativeAvailable(), "native library not loaded");
        SplittableRandom r = new SplittableRandom(5);
        ConvLayer[] layers = {
            Conv2DTranspose.builder().filters(3).kernelSize(3, 3).strides(2, 1).padding(Padding.SAME)
                    .outputPadding(1, 0).activation(Activation.RELU).backend(Backend.NATIVE).threads(1).build(),
            Conv3D.builder().filters(2).kernelSize(2, 2, 2).padding(Padding.SAME).activation(Activation.RELU)
                    .backend(Backend.NATIVE).threads(1).build()};
        int[][] shapes = {{2, 4, 5, 2}, {1, 3, 4, 4, 2}};
        for (int l = 0; l < layers.length; l++) {
            try (ConvLayer layer = layers[l]) {
                int[] shape = shapes[l];
                ConvGeometry g = layer.geometry(shape);
                float[] w = RandomCase.values(r, g.kernelCount()), b = RandomCase.values(r, g.outChannels());
                layer.setWeights(w, b);
                float[] x = RandomCase.values(r, g.inputCount()), dy = RandomCase.values(r, g.outputCount());
                float[] dx = new float[x.length], dw = new float[w.length], db = new float[b.length];
                for (int i = 0; i < 3000; i++) { // warm up: plans built, code compiled
                    layer.backward(x, shape, dy, dx, dw, db);
                }
                com.sun.management.ThreadMXBean mx =
                        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 1000; i++) {
                    layer.backward(x, shape, dy, dx, dw, db);
                }
                long bytes = mx.getCurrentThreadAllocatedBytes() - before;
                assertTrue(bytes < 2000, "1000 native backward calls of " + g + " allocated " + bytes + " bytes");
                float[] y = layer.predict(x, shape);
                Tolerance.assertGradientsWithinBound(g, x, w, y, dy, ReferenceGradients.compute(g, x, w, b, y, dy),
                        new Gradients(dx, dw, db), "native " + g);
                // One layer shared by four threads gives every thread the single-thread bits.
                Gradients expected = new Gradients(dx.clone(), dw.clone(), db.clone());
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
                try {
                    List<java.util.concurrent.Future<Gradients>> futures = new java.util.ArrayList<>();
                    for (int t = 0; t < 16; t++) {
                        futures.add(pool.submit(() -> layer.backward(x, dy, shape)));
                    }
                    for (java.util.concurrent.Future<Gradients> f : futures) {
                        Gradients got = f.get();
                        assertArrayEquals(expected.input(), got.input());
                        assertArrayEquals(expected.kernel(), got.kernel());
                        assertArrayEquals(expected.bias(), got.bias());
                    }
                } finally {
                    pool.shutdown();
                }
            }
        }
    }

    @Test
    void sequentialBackpropagatesThroughSeparableAndTransposedStages() {
        for (Backend backend : backends()) {
            SplittableRandom r = new SplittableRandom(6);
            SeparableConv2D sep = SeparableConv2D.builder().filters(3).inputChannels(2).depthMultiplier(2)
                    .kernelSize(3, 3).padding(Padding.SAME).backend(backend).build();
            Conv2DTranspose up = Conv2DTranspose.builder().filters(2).kernelSize(2, 2).strides(2, 2)
                    .backend(backend).build();
            float[] dk = RandomCase.values(r, 3 * 3 * 2 * 2), pk = RandomCase.values(r, 4 * 3),
                    sb = RandomCase.values(r, 3), uk = RandomCase.values(r, 2 * 2 * 2 * 3), ub = RandomCase.values(r, 2);
            sep.setWeights(dk, pk, sb);
            up.setWeights(uk, ub);
            int[] shape = {1, 5, 4, 2};
            try (Sequential model = Sequential.builder().input(5, 4, 2).add(sep).add(Activation.RELU).add(up).build()) {
                float[] x = RandomCase.values(r, 5 * 4 * 2);
                float[] dy = RandomCase.values(r, 10 * 8 * 2);
                Sequential.ModelGradients got = model.backward(x, shape, dy);
                // The same chain by hand through the layers' own backward passes.
                float[] h = sep.predict(x, shape);
                float[] hr = h.clone();
                for (int i = 0; i < hr.length; i++) {
                    hr[i] = Math.max(hr[i], 0);
                }
                Gradients gu = up.backward(hr, dy, 1, 5, 4, 3);
                float[] dh = gu.input().clone();
                for (int i = 0; i < dh.length; i++) {
                    dh[i] = h[i] > 0 ? dh[i] : 0;
                }
                SeparableConv.SeparableGradients gs = sep.backward(x, dh, shape);
                assertArrayEquals(gs.input(), got.input(), backend + " dx");
                List<Gradients> layers = got.layers();
                assertTrue(layers.size() == 3, layers.size() + " layer gradients");
                assertArrayEquals(gs.depthwiseKernel(), layers.get(0).kernel(), backend + " depthwise dW");
                assertArrayEquals(gs.pointwiseKernel(), layers.get(1).kernel(), backend + " pointwise dW");
                assertArrayEquals(gs.bias(), layers.get(1).bias(), backend + " separable db");
                assertArrayEquals(gu.kernel(), layers.get(2).kernel(), backend + " transposed dW");
                assertArrayEquals(gu.bias(), layers.get(2).bias(), backend + " transposed db");
            }
        }
    }

    @Test
    void trainerFitsAModelOfSeparableAndTransposedLayersToATeacher() {
        for (Backend backend : backends()) {
            SplittableRandom r = new SplittableRandom(9);
            float[][] teacher = {RandomCase.values(r, 3 * 2 * 2), RandomCase.values(r, 4 * 3), RandomCase.values(r, 3),
                RandomCase.values(r, 2 * 1 * 3), RandomCase.values(r, 1)};
            float[] x = RandomCase.values(r, 32 * 8 * 2);
            int[] shape = {32, 8, 2};
            float[] targets;
            try (Sequential t = model(backend, teacher)) {
                targets = t.predict(x, shape);
            }
            float[][] start = {RandomCase.values(r, 12), RandomCase.values(r, 12), new float[3], RandomCase.values(r, 6),
                new float[1]};
            try (Sequential m = model(backend, start)) {
                Trainer.History h = Trainer.builder(m).optimizer(Optimizer.adam(0.02)).build().fit(x, shape, targets, 60, 8);
                assertTrue(h.last() < h.loss()[0] / 10, backend + ": loss did not fall tenfold: " + h.loss()[0] + " -> "
                        + h.last());
            }
        }
    }

    /** SeparableConv1D(3, k 3, multiplier 2, same, relu) then Conv1DTranspose(1, k 2, stride 2). */
    private static Sequential model(Backend backend, float[][] w) {
        SeparableConv1D sep = SeparableConv1D.builder().filters(3).inputChannels(2).depthMultiplier(2).kernelSize(3)
                .padding(Padding.SAME).activation(Activation.RELU).backend(backend).build();
        sep.setWeights(w[0], w[1], w[2]);
        Conv1DTranspose up = Conv1DTranspose.builder().filters(1).kernelSize(2).strides(2).backend(backend).build();
        up.setWeights(w[3], w[4]);
        return Sequential.builder().input(8, 2).add(sep).add(up).build();
    }

    @Test
    void javaBackendGivesTheSameBitsForEveryThreadCount() {
        JavaConvolution.fullTeam = true; // small shapes reach the workers too
        try {
            SplittableRandom r = new SplittableRandom(79);
            int batched = 0;
            for (int i = 0; i < 40; i++) {
                FamilyGradientsTest.Case c = FamilyGradientsTest.randomCase(r);
                ConvGeometry g = c.g();
                if (g.rank() < 3 && !g.transposed()) {
                    continue;
                }
                batched += g.batch() > 1 ? 1 : 0;
                try (ConvLayer one = layer(g.config(), Backend.JAVA, 1); ConvLayer all = layer(g.config(), Backend.JAVA, 0)) {
                    one.setWeights(c.w(), c.b());
                    all.setWeights(c.w(), c.b());
                    Gradients a = one.backward(c.x(), c.dy(), g.inputShape());
                    Gradients b = all.backward(c.x(), c.dy(), g.inputShape());
                    assertArrayEquals(a.input(), b.input(), "dx " + c);
                    assertArrayEquals(a.kernel(), b.kernel(), "dW " + c);
                    if (c.b() != null) {
                        assertArrayEquals(a.bias(), b.bias(), "db " + c);
                    }
                }
            }
            assertTrue(batched > 5, batched + " batched rank-3 or transposed cases");
        } finally {
            JavaConvolution.fullTeam = false;
        }
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The issue-13 layers beyond the Keras fixtures: validation messages, the depthwise kernel's
 * identity with a grouped convolution, Keras' summary names, and sharing between threads.
 */
class ConvFamilyTest {

    private static void rejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void configurationsKerasRefusesAreRefused() {
        rejects(() -> Conv2DTranspose.builder().filters(2).kernelSize(3).strides(2).outputPadding(2).build(),
                "output_padding must be strictly less than strides", "index 0");
        rejects(() -> Conv1DTranspose.builder().filters(2).kernelSize(3).outputPadding(-1).build(),
                "output_padding", ">= 0");
        rejects(() -> Conv2DTranspose.builder().filters(2).kernelSize(3).groups(2).build(), "groups must be 1");
        rejects(() -> Conv2DTranspose.builder().filters(2).kernelSize(3)
                .padding(Padding.explicit(new int[] {1, 1}, new int[] {0, 0})).build(), "explicit padding is refused");
        rejects(() -> Conv1DTranspose.builder().filters(2).kernelSize(3).padding(Padding.CAUSAL).build(), "causal");
        rejects(() -> Conv3D.builder().filters(2).kernelSize(3).padding(Padding.CAUSAL).build(), "causal", "rank 3");
        rejects(() -> Conv3D.builder().filters(2).kernelSize(3).strides(2, 1, 1).dilationRate(1, 1, 2).build(),
                "dilation_rate", "Keras refuses");
        rejects(() -> Conv2D.builder().filters(2).kernelSize(3)
                .padding(Padding.explicit(new int[] {1}, new int[] {1})).build(), "1 axes", "rank 2");
        rejects(() -> Padding.explicit(new int[] {1, -1}, new int[] {0, 0}), "explicit pads must be >= 0", "-1");
        rejects(() -> Padding.explicit(new int[] {1, 1}, new int[] {0}), "one pad before and one after");
        rejects(() -> DepthwiseConv2D.builder().kernelSize(3).build(), "inputChannels");
        rejects(() -> DepthwiseConv2D.builder().kernelSize(3).inputChannels(3).depthMultiplier(0).build(),
                "depth_multiplier", "0");
        rejects(() -> DepthwiseConv1D.builder().kernelSize(3).inputChannels(3).filters(6).build(), "no filters");
        rejects(() -> DepthwiseConv1D.builder().kernelSize(3).inputChannels(3).padding(Padding.CAUSAL).build(),
                "causal");
        rejects(() -> SeparableConv2D.builder().kernelSize(3).inputChannels(3).build(), "filters must be set");
        rejects(() -> ConvLayer.builder(2).filters(2).kernelSize(3).build().outputShape(1, 4, 4, 4, 2),
                "4 dimensions");
    }

    @Test
    void kernelsAndInputsOfTheWrongShapeAreRefused() {
        try (Conv2DTranspose t = Conv2DTranspose.builder().filters(3).kernelSize(2).backend(Backend.JAVA).build();
             DepthwiseConv2D d = DepthwiseConv2D.builder().kernelSize(3).inputChannels(4).depthMultiplier(2)
                     .backend(Backend.JAVA).build();
             SeparableConv1D s = SeparableConv1D.builder().filters(5).kernelSize(3).inputChannels(2)
                     .depthMultiplier(2).backend(Backend.JAVA).build()) {
            rejects(() -> t.setWeights(new float[2 * 2 * 4 * 3], new int[] {2, 2, 4, 3}, new float[3]),
                    "[KH, KW, filters, Cin]", "4 output channels", "filters is 3");
            rejects(() -> d.setWeights(new float[3 * 3 * 4 * 3], new int[] {3, 3, 4, 3}, new float[8]),
                    "[KH, KW, Cin, depth_multiplier]", "depth_multiplier 2");
            d.setWeights(new float[3 * 3 * 4 * 2], new int[] {3, 3, 4, 2}, new float[8]);
            rejects(() -> d.predict(new float[5 * 5 * 3], 1, 5, 5, 3), "3 channels", "built for 4");
            rejects(() -> s.setWeights(new float[3 * 2 * 2], new float[4 * 4], new float[5]), "pointwise kernel",
                    "20");
            assertArrayEquals(new int[] {2, 2, 4, 3}, new int[] {2, 2, 4, 3});
            assertArrayEquals(new int[] {3, 3, 4, 2}, d.getWeights().kernelShape(), "Keras' depthwise layout back");
        }
    }

    /** DepthwiseConv2D(M) is Conv2D(groups = Cin, filters = Cin·M) over the same kernel bytes. */
    @ParameterizedTest
    @EnumSource(DataFormat.class)
    void depthwiseIsAGroupedConvolutionOverTheSameKernel(DataFormat format) {
        SplittableRandom r = new SplittableRandom(7);
        int cin = 3, m = 2;
        float[] kernel = RandomCase.values(r, 3 * 2 * cin * m);
        float[] bias = RandomCase.values(r, cin * m);
        int[] shape = format == DataFormat.CHANNELS_LAST ? new int[] {2, 6, 5, cin} : new int[] {2, cin, 6, 5};
        float[] x = RandomCase.values(r, 2 * 6 * 5 * cin);
        try (DepthwiseConv2D d = DepthwiseConv2D.builder().kernelSize(3, 2).inputChannels(cin).depthMultiplier(m)
                .strides(2).padding(Padding.SAME).dataFormat(format).backend(Backend.JAVA).build();
             Conv2D g = Conv2D.builder().filters(cin * m).groups(cin).kernelSize(3, 2).strides(2)
                     .padding(Padding.SAME).dataFormat(format).backend(Backend.JAVA).build()) {
            d.setWeights(kernel, bias);
            g.setWeights(kernel, bias);
            assertArrayEquals(g.predict(x, shape), d.predict(x, shape));
            assertEquals(m, d.depthMultiplier());
        }
    }

    /**
     * The Java backend's blocked rank-3 path (and its depthwise rows) against the reference on
     * random Conv3D shapes: both layouts, groups and depthwise, strides or dilation, every padding,
     * 1 and 2 threads on the full team.
     */
    @Test
    void javaConv3DMatchesTheReferenceOnRandomShapes() {
        SplittableRandom r = new SplittableRandom(2026);
        boolean fullTeam = JavaConvolution.fullTeam;
        JavaConvolution.fullTeam = true;
        try {
            for (int i = 0; i < 60; i++) {
                int groupKind = r.nextInt(3);
                int groups = groupKind == 0 ? 1 : 2 + r.nextInt(3);
                int cin = groups * (groupKind == 2 ? 1 : 1 + r.nextInt(3));
                int filters = groups * (groupKind == 2 ? 1 : 1 + r.nextInt(4));
                boolean strided = r.nextBoolean();
                int[] k = new int[3], s = new int[3], d = new int[3], in = new int[3], before = new int[3],
                        after = new int[3];
                for (int a = 0; a < 3; a++) {
                    k[a] = 1 + r.nextInt(3);
                    s[a] = strided ? 1 + r.nextInt(2) : 1;
                    d[a] = strided ? 1 : 1 + r.nextInt(2);
                    in[a] = (k[a] - 1) * d[a] + 1 + r.nextInt(4);
                    before[a] = r.nextInt(2);
                    after[a] = r.nextInt(3);
                }
                DataFormat format = r.nextBoolean() ? DataFormat.CHANNELS_LAST : DataFormat.CHANNELS_FIRST;
                Conv3D.Builder b = Conv3D.builder().filters(filters).groups(groups).kernelSize(k).strides(s)
                        .dilationRate(d).dataFormat(format).activation(r.nextBoolean() ? Activation.RELU
                                : Activation.NONE).backend(Backend.JAVA).threads(1 + r.nextInt(2));
                int padding = r.nextInt(3);
                if (padding == 2) {
                    b.padding(Padding.explicit(before, after));
                } else {
                    b.padding(padding == 0 ? Padding.VALID : Padding.SAME);
                }
                int n = 1 + r.nextInt(2);
                int[] shape = format == DataFormat.CHANNELS_LAST ? new int[] {n, in[0], in[1], in[2], cin}
                        : new int[] {n, cin, in[0], in[1], in[2]};
                float[] x = RandomCase.values(r, n * in[0] * in[1] * in[2] * cin);
                float[] w = RandomCase.values(r, k[0] * k[1] * k[2] * cin / groups * filters);
                float[] bias = RandomCase.values(r, filters);
                try (Conv3D conv = b.build()) {
                    conv.setWeights(w, bias);
                    ConvGeometry g = conv.geometry(shape);
                    Tolerance.assertWithinBound(g, x, w, bias, ReferenceConvolution.compute(g, x, w, bias),
                            conv.predict(x, shape), "case " + i + " " + g);
                }
            }
        } finally {
            JavaConvolution.fullTeam = fullTeam;
        }
    }

    /** Transposed layers on the Java backend: the reference's rows split over 2 workers, bit for bit. */
    @Test
    void javaTransposedSplitsTheReferenceOverWorkers() {
        SplittableRandom r = new SplittableRandom(13);
        boolean fullTeam = JavaConvolution.fullTeam;
        JavaConvolution.fullTeam = true;
        try {
            for (int i = 0; i < 30; i++) {
                int rank = 1 + r.nextInt(3);
                int cin = 1 + r.nextInt(4), filters = 1 + r.nextInt(4);
                int[] k = new int[rank], s = new int[rank], in = new int[rank];
                int volume = 1, inCount = 1;
                for (int a = 0; a < rank; a++) {
                    k[a] = 1 + r.nextInt(3);
                    s[a] = 1 + r.nextInt(3);
                    in[a] = 1 + r.nextInt(5);
                    volume *= k[a];
                    inCount *= in[a];
                }
                ConvLayer.TransposeBuilder<?> b = rank == 1 ? Conv1DTranspose.builder()
                        : rank == 2 ? Conv2DTranspose.builder() : Conv3DTranspose.builder();
                b.filters(filters).kernelSize(k).strides(s).padding(r.nextBoolean() ? Padding.VALID : Padding.SAME)
                        .backend(Backend.JAVA).threads(2);
                int[] shape = new int[rank + 2];
                shape[0] = 1 + r.nextInt(2);
                System.arraycopy(in, 0, shape, 1, rank);
                shape[rank + 1] = cin;
                float[] x = RandomCase.values(r, shape[0] * inCount * cin);
                float[] w = RandomCase.values(r, volume * filters * cin);
                float[] bias = RandomCase.values(r, filters);
                try (ConvLayer layer = rank == 1 ? ((Conv1DTranspose.Builder) b).build()
                        : rank == 2 ? ((Conv2DTranspose.Builder) b).build() : ((Conv3DTranspose.Builder) b).build()) {
                    layer.setWeights(w, bias);
                    ConvGeometry g = layer.geometry(shape);
                    assertArrayEquals(ReferenceConvolution.compute(g, x, w, bias), layer.predict(x, shape), g.toString());
                }
            }
        } finally {
            JavaConvolution.fullTeam = fullTeam;
        }
    }

    @Test
    void explainSaysWhatComputesTheJavaBackend() {
        try (Conv2DTranspose t = Conv2DTranspose.builder().filters(2).kernelSize(3).backend(Backend.JAVA).build();
             Conv3D c = Conv3D.builder().filters(2).kernelSize(2).backend(Backend.JAVA).build()) {
            t.setWeights(new float[3 * 3 * 2 * 4], new float[2]);
            c.setWeights(new float[2 * 2 * 2 * 4 * 2], new float[2]);
            assertTrue(t.explain(1, 4, 4, 4).contains("reference"), t.explain(1, 4, 4, 4));
            assertTrue(c.explain(1, 3, 3, 3, 4).contains("micro-kernel"), c.explain(1, 3, 3, 3, 4));
        }
    }

    @Test
    void summaryShowsKerasNamesAndParameters() {
        try (Conv2D c = Conv2D.builder().filters(4).kernelSize(3).padding(Padding.SAME).backend(Backend.JAVA).build();
             Conv2DTranspose t = Conv2DTranspose.builder().filters(2).kernelSize(2).strides(2).backend(Backend.JAVA)
                     .build();
             DepthwiseConv2D d = DepthwiseConv2D.builder().kernelSize(3).inputChannels(2).depthMultiplier(3)
                     .backend(Backend.JAVA).build();
             SeparableConv2D s = SeparableConv2D.builder().filters(5).kernelSize(3).inputChannels(6)
                     .depthMultiplier(2).padding(Padding.SAME).backend(Backend.JAVA).build()) {
            c.setWeights(new float[3 * 3 * 1 * 4], new float[4]);
            t.setWeights(new float[2 * 2 * 2 * 4], new float[2]);
            d.setWeights(new float[3 * 3 * 2 * 3], new float[6]);
            s.setWeights(new float[3 * 3 * 6 * 2], new float[12 * 5], new float[5]);
            try (Sequential model = Sequential.builder().input(5, 5, 1).add(c).add(t).add(d).add(Activation.RELU)
                    .add(s).build()) {
                String summary = model.summary();
                // Keras: 40, 34, 60, 108 + 60 + 5; the names are keras' to_snake_case of the class names.
                assertTrue(summary.matches("(?s).*conv2d \\(Conv2D\\)\\s+\\(None, 5, 5, 4\\)\\s+40\n.*"), summary);
                assertTrue(summary.matches("(?s).*conv2d_transpose \\(Conv2DTranspose\\)\\s+\\(None, 10, 10, 2\\)\\s+34\n.*"),
                        summary);
                assertTrue(summary.matches("(?s).*depthwise_conv2d \\(DepthwiseConv2D\\)\\s+\\(None, 8, 8, 6\\)\\s+60\n.*"),
                        summary);
                assertTrue(summary.matches("(?s).*separable_conv2d \\(SeparableConv2D\\)\\s+\\(None, 8, 8, 5\\)\\s+173\n.*"),
                        summary);
                assertEquals(40 + 34 + 60 + 173, model.countParams());
                assertEquals(5, summary.lines().filter(l -> l.contains("(None,")).count() - 1, summary);
                assertArrayEquals(new int[] {1, 8, 8, 5}, model.outputShape(1, 5, 5, 1));
            }
        }
    }

    /**
     * A separable layer (and a Conv3D, a transposed layer) shared by threads: every call equals the
     * single-thread result of the weights it ran with, while another thread swaps the weights.
     */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void sharedLayersGiveSingleThreadResultsWhileWeightsChange(Backend backend) throws Exception {
        if (backend == Backend.NATIVE && !Conv4j.nativeAvailable()) {
            assertThrows(RuntimeException.class, () -> Conv3D.builder().filters(1).kernelSize(1).backend(backend)
                    .build());
            return;
        }
        SplittableRandom r = new SplittableRandom(11);
        float[][] dw = {RandomCase.values(r, 3 * 3 * 4 * 2), RandomCase.values(r, 3 * 3 * 4 * 2)};
        float[][] pw = {RandomCase.values(r, 8 * 6), RandomCase.values(r, 8 * 6)};
        float[][] b = {RandomCase.values(r, 6), RandomCase.values(r, 6)};
        int[] shape = {2, 9, 7, 4};
        float[] x = RandomCase.values(r, 2 * 9 * 7 * 4);
        try (SeparableConv2D s = SeparableConv2D.builder().filters(6).kernelSize(3).inputChannels(4)
                .depthMultiplier(2).padding(Padding.SAME).activation(Activation.RELU).backend(backend).threads(1)
                .build()) {
            float[][] expected = new float[2][];
            for (int w = 0; w < 2; w++) {
                s.setWeights(dw[w], pw[w], b[w]);
                expected[w] = s.predict(x, shape);
            }
            ExecutorService pool = Executors.newFixedThreadPool(5);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> calls = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                calls.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 150; i++) {
                        float[] y = s.predict(x, shape);
                        assertTrue(java.util.Arrays.equals(y, expected[0]) || java.util.Arrays.equals(y, expected[1]),
                                "a call mixed two weight sets");
                    }
                    return 150;
                }));
            }
            Future<?> swapper = pool.submit(() -> {
                start.await();
                for (int i = 0; i < 100; i++) {
                    s.setWeights(dw[i % 2], pw[i % 2], b[i % 2]);
                }
                return null;
            });
            start.countDown();
            int total = 0;
            for (Future<Integer> f : calls) {
                total += f.get(120, TimeUnit.SECONDS);
            }
            swapper.get(120, TimeUnit.SECONDS);
            pool.shutdown();
            assertEquals(600, total);
        }
    }
}

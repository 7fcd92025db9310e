package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Java backend's fast convolution against the reference: every micro-kernel this JVM has
 * (plain Java at its default width and at a width of 3, which splits channels into many partial
 * blocks; the Vector API one when the module is present, as under surefire), on the random
 * configurations and on larger shapes that span several pixel blocks. The tolerance is the float
 * accumulation bound of {@link Tolerance}.
 */
class JavaConvolutionTest {
    /** Small calls stay on the calling thread by default; here the workers must run them too. */
    @BeforeAll
    static void fullTeam() {
        JavaConvolution.fullTeam = true;
    }

    @AfterAll
    static void normalTeam() {
        JavaConvolution.fullTeam = false;
    }
    static Stream<MicroKernel> kernels() {
        List<MicroKernel> kernels = new ArrayList<>(List.of(new MicroKernel.Scalar(), new MicroKernel.Scalar(3)));
        if (!(JavaConvolution.KERNEL instanceof MicroKernel.Scalar)) {
            kernels.add(JavaConvolution.KERNEL);
        }
        return kernels.stream();
    }

    @Test
    void surefireRunsTheVectorKernel() {
        // The pom adds the module for the tests, so both micro-kernels are checked here;
        // JavaKernelSelectionTest checks the choice in JVMs without it.
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
        assertTrue(JavaConvolution.kernelName().startsWith("vector-"), JavaConvolution.kernelName());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void randomConfigurationsMatchTheReference(MicroKernel kernel) {
        for (int i = 0; i < RandomConfigurationTest.CASES; i++) {
            RandomCase c = new RandomCase(RandomConfigurationTest.SEED + 3, i);
            check(c.config(), c.inputShape, c.input, c.kernel, c.bias, kernel, i % 3, "case " + i + " " + c);
        }
    }

    /** Shapes past one pixel block and one channel block, in both layouts, with groups and strides. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void largerShapesMatchTheReference(MicroKernel kernel) {
        SplittableRandom r = new SplittableRandom(7);
        Object[][] shapes = { // rank, filters, kernel, stride, dilation, groups, padding, format, input shape
            {2, 40, 3, 1, 1, 1, Padding.SAME, DataFormat.CHANNELS_LAST, new int[] {2, 23, 19, 24}},
            {2, 72, 1, 1, 1, 1, Padding.VALID, DataFormat.CHANNELS_LAST, new int[] {1, 30, 31, 17}},
            {2, 36, 3, 2, 1, 3, Padding.SAME, DataFormat.CHANNELS_FIRST, new int[] {1, 21, 25, 26}},
            {2, 33, 5, 1, 2, 1, Padding.SAME, DataFormat.CHANNELS_LAST, new int[] {1, 16, 17, 9}},
            {2, 48, 3, 1, 1, 48, Padding.SAME, DataFormat.CHANNELS_LAST, new int[] {2, 20, 21, 48}},
            {2, 24, 3, 2, 1, 12, Padding.VALID, DataFormat.CHANNELS_FIRST, new int[] {1, 12, 15, 16}},
            {1, 70, 3, 1, 4, 1, Padding.CAUSAL, DataFormat.CHANNELS_LAST, new int[] {2, 700, 20}},
            {1, 20, 2, 1, 1, 2, Padding.SAME, DataFormat.CHANNELS_FIRST, new int[] {1, 30, 900}},
        };
        for (Object[] s : shapes) {
            int rank = (int) s[0];
            ConvConfig config = ConvLayer.builder(rank).filters((int) s[1]).kernelSize((int) s[2])
                    .strides((int) s[3]).dilationRate((int) s[4]).groups((int) s[5]).padding((Padding) s[6])
                    .dataFormat((DataFormat) s[7]).activation(Activation.RELU).config();
            ConvGeometry g = ConvGeometry.of(config, (int[]) s[8]);
            float[] x = RandomCase.values(r, g.inputCount());
            float[] k = RandomCase.values(r, g.kernelCount());
            float[] b = RandomCase.values(r, g.outChannels());
            for (int threads = 0; threads <= 2; threads++) {
                check(config, (int[]) s[8], x, k, b, kernel, threads, g + " threads " + threads);
            }
        }
    }

    private static void check(ConvConfig config, int[] shape, float[] x, float[] k, float[] b, MicroKernel kernel,
                              int threads, String what) {
        ConvGeometry g = ConvGeometry.of(config, shape);
        float[] expected = ReferenceConvolution.compute(g, x, k, b);
        float[] actual = new float[g.outputCount()];
        new JavaConvolution(config, g.inChannels(), k, b, kernel).compute(g, x, actual, threads);
        Tolerance.assertWithinBound(g, x, k, b, expected, actual, kernel.name() + " " + what);
    }

    /** Every output sums its products in one fixed order: the thread count changes no bit. */
    @Test
    void resultsDoNotDependOnThreads() {
        for (int i = 0; i < 60; i++) {
            RandomCase c = new RandomCase(RandomConfigurationTest.SEED + 4, i);
            try (ConvLayer layer = c.layer(Backend.JAVA, Algorithm.AUTO)) {
                layer.setThreads(1);
                float[] one = layer.predict(c.input, c.inputShape);
                layer.setThreads(2);
                assertArrayEquals(one, layer.predict(c.input, c.inputShape), c.toString());
                layer.setThreads(0);
                assertArrayEquals(one, layer.predict(c.input, c.inputShape), c.toString());
            }
        }
    }

    /** A NaN or infinite weight on a tap that falls on padding must not turn 0·∞ into NaN. */
    @Test
    void nonFiniteWeightsGiveTheReferenceBits() {
        try (Conv2D conv = Conv2D.builder().filters(2).kernelSize(3, 3).padding(Padding.SAME)
                .backend(Backend.JAVA).build()) {
            float[] k = new float[3 * 3 * 1 * 2];
            java.util.Arrays.fill(k, 1);
            k[0] = Float.POSITIVE_INFINITY; // tap (0, 0), channel 0: off the image for the first row and column
            k[1] = Float.NaN; // tap (0, 0), channel 1
            conv.setWeights(k, new float[] {0, 0});
            float[] x = new float[16];
            java.util.Arrays.fill(x, 2);
            ConvGeometry g = conv.geometry(1, 4, 4, 1);
            float[] expected = ReferenceConvolution.compute(g, x, k, new float[] {0, 0});
            float[] actual = conv.predict(x, 1, 4, 4, 1);
            assertArrayEquals(expected, actual);
            assertEquals(8f, actual[0]); // corner, channel 0: 4 taps of 2 on the image, the ∞ tap on padding
            assertTrue(Float.isNaN(actual[2 * 5 + 1])); // interior, channel 1: the NaN tap is inside
        }
    }

    /** Eight threads share one Java layer, each asking for two threads: single-thread bits, no deadlock. */
    @Test
    void sharedLayerGivesSingleThreadResults() throws Exception {
        int callers = 8;
        try (Conv2D conv = Conv2D.builder().filters(40).kernelSize(3, 3).padding(Padding.SAME)
                .backend(Backend.JAVA).threads(2).build()) {
            SplittableRandom r = new SplittableRandom(11);
            conv.setWeights(RandomCase.values(r, 3 * 3 * 12 * 40), RandomCase.values(r, 40));
            int[][] shapes = {{1, 17, 13, 12}, {2, 9, 9, 12}};
            float[][] inputs = new float[shapes.length][];
            float[][] expected = new float[shapes.length][];
            for (int s = 0; s < shapes.length; s++) {
                inputs[s] = RandomCase.values(r, shapes[s][0] * shapes[s][1] * shapes[s][2] * shapes[s][3]);
                expected[s] = conv.predict(inputs[s], shapes[s]);
            }
            ExecutorService pool = Executors.newFixedThreadPool(callers);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < callers; t++) {
                    int seed = t;
                    results.add(pool.submit(() -> {
                        start.await();
                        for (int call = 0; call < 150; call++) {
                            int s = (call + seed) % shapes.length;
                            float[] out = new float[expected[s].length];
                            conv.predict(inputs[s], shapes[s], out);
                            assertArrayEquals(expected[s], out);
                        }
                        return 150;
                    }));
                }
                start.countDown();
                int total = 0;
                for (Future<Integer> f : results) {
                    total += f.get(5, TimeUnit.MINUTES);
                }
                assertEquals(callers * 150, total);
            } finally {
                pool.shutdown();
            }
        }
    }
}

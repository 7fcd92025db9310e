package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tutorial's two examples and small hand-worked cases, exactly, through every backend and every forced
 * algorithm. A specialized algorithm may refuse an example (IllegalArgumentException saying so); each must
 * accept some, which {@link #everyAlgorithmAcceptedSomeExamples} checks after the class has run.
 */
class WorkedExamplesTest {
    private static final Map<Algorithm, Integer> ACCEPTED = new ConcurrentHashMap<>();

    static Stream<Object[]> engines() {
        List<Object[]> engines = new ArrayList<>();
        engines.add(new Object[] {Backend.JAVA, Algorithm.AUTO});
        for (Algorithm a : Algorithm.values()) {
            engines.add(new Object[] {Backend.NATIVE, a});
        }
        return engines.stream();
    }

    /** The layer's result, or null when its forced algorithm refused the example. */
    private static float[] run(ConvLayer layer, Backend backend, Algorithm algorithm, float[] input, int... shape) {
        float[] y = backend == Backend.JAVA ? layer.predict(input, shape)
                : ForcedAlgorithm.predictOrRefusal(layer, algorithm, input, shape);
        if (y != null && backend == Backend.NATIVE) {
            ACCEPTED.merge(algorithm, 1, Integer::sum);
        }
        return y;
    }

    /** Exact, except through Winograd, whose transforms use fractions such as 1/6: there 2^-16 relative. */
    private static void assertResult(float[] expected, float[] actual, ConvLayer layer, int... shape) {
        if (actual == null) {
            return; // refused, and ForcedAlgorithm checked that this algorithm may refuse
        }
        if (layer.algorithm(shape).equals("winograd")) {
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], (Math.abs(expected[i]) + 1) / 65536.0, "element " + i);
            }
        } else {
            assertArrayEquals(expected, actual);
        }
    }

    @AfterAll
    static void everyAlgorithmAcceptedSomeExamples() {
        for (Algorithm a : Algorithm.values()) {
            assertTrue(ACCEPTED.getOrDefault(a, 0) > 0, a + " accepted none of the worked examples: " + ACCEPTED);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void tutorialConv1D(Backend backend, Algorithm algorithm) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(3).backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(new float[] {0, 1, 0}, new float[] {0});
            float[] y = run(conv, backend, algorithm, new float[] {0, 0, 0, 1, 1, 0, 0, 0}, 1, 8, 1);
            assertResult(new float[] {0, 0, 1, 1, 0, 0}, y, conv, 1, 8, 1);
            assertArrayEquals(new int[] {1, 6, 1}, conv.outputShape(1, 8, 1));
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void tutorialConv2DVerticalLine(Backend backend, Algorithm algorithm) {
        float[] image = new float[64];
        for (int row = 0; row < 8; row++) {
            image[row * 8 + 3] = 1;
            image[row * 8 + 4] = 1;
        }
        float[] kernel = {0, 1, 0, 0, 1, 0, 0, 1, 0}; // [3, 3, 1, 1]: the middle column is 1
        try (Conv2D conv = Conv2D.builder().filters(1).kernelSize(3, 3).backend(backend).algorithm(algorithm)
                .build()) {
            conv.setWeights(kernel, new float[] {0});
            float[] y = run(conv, backend, algorithm, image, 1, 8, 8, 1);
            float[] expected = new float[36];
            for (int row = 0; row < 6; row++) {
                System.arraycopy(new float[] {0, 0, 3, 3, 0, 0}, 0, expected, row * 6, 6);
            }
            assertResult(expected, y, conv, 1, 8, 8, 1);
        }
    }

    /** TF SAME with an even kernel: total pad 1 goes after, so output[i] = x[i] + 10·x[i+1]. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void sameEvenKernelPadsAtTheEnd(Backend backend, Algorithm algorithm) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(2).padding(Padding.SAME).useBias(false)
                .backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(new float[] {1, 10}, null);
            assertResult(new float[] {21, 32, 43, 4}, run(conv, backend, algorithm, new float[] {1, 2, 3, 4}, 1, 4, 1),
                    conv, 1, 4, 1);
        }
    }

    /** SAME with stride 2 over 5: out 3, total pad max(2·2 + 3 − 5, 0) = 2, one each side. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void sameStridedIsCentred(Backend backend, Algorithm algorithm) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(3).strides(2).padding(Padding.SAME)
                .useBias(false).backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(new float[] {1, 10, 100}, null);
            // windows [pad,1,2], [2,3,4], [4,5,pad]
            assertResult(new float[] {210, 432, 54}, run(conv, backend, algorithm, new float[] {1, 2, 3, 4, 5}, 1, 5, 1),
                    conv, 1, 5, 1);
        }
    }

    /** Causal with dilation 2: out[t] = x[t−4] + 10·x[t−2] + 100·x[t], zeros before the start, plus bias, relu. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void causalDilatedWithBiasAndRelu(Backend backend, Algorithm algorithm) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(3).dilationRate(2).padding(Padding.CAUSAL)
                .activation(Activation.RELU).backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(new float[] {1, 10, 100}, new float[] {-250});
            float[] y = run(conv, backend, algorithm, new float[] {1, 2, 3, 4, 5}, 1, 5, 1);
            // raw: 100, 200, 300+10, 400+20, 500+30+1 → minus 250, relu
            assertResult(new float[] {0, 0, 60, 170, 281}, y, conv, 1, 5, 1);
        }
    }

    /** Two groups over channels_first input: each output channel sees only its own group's channel. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void groupsChannelsFirst(Backend backend, Algorithm algorithm) {
        try (Conv2D conv = Conv2D.builder().filters(2).kernelSize(1, 2).groups(2).useBias(false)
                .dataFormat(DataFormat.CHANNELS_FIRST).backend(backend).algorithm(algorithm).build()) {
            // kernel [1, 2, 1, 2]: index (kx, 0, co) = kx * 2 + co
            conv.setWeights(new float[] {1, 2, 10, 20}, null);
            float[] x = {1, 2, 3, /* channel 1: */ 4, 5, 6}; // [1, 2, 1, 3]
            float[] y = run(conv, backend, algorithm, x, 1, 2, 1, 3);
            // channel 0: 1·x0 + 10·x1 over channel 0; channel 1: 2·x0 + 20·x1 over channel 1
            assertResult(new float[] {21, 32, 2 * 4 + 20 * 5, 2 * 5 + 20 * 6}, y, conv, 1, 2, 1, 3);
            assertArrayEquals(new int[] {1, 2, 1, 2}, conv.outputShape(1, 2, 1, 3));
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void reluKeepsNaN(Backend backend, Algorithm algorithm) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(1).activation(Activation.RELU).useBias(false)
                .backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(new float[] {1}, null);
            float[] y = run(conv, backend, algorithm, new float[] {-1, Float.NaN, 2}, 1, 3, 1);
            if (y == null) {
                return; // refused, and ForcedAlgorithm checked that this algorithm may refuse
            }
            assertEquals(0f, y[0]);
            assertEquals(Float.NaN, y[1]);
            assertEquals(2f, y[2]);
        }
    }

    /** A small distinct integer for input element (h, w, c). */
    private static float pattern(int h, int w, int c) {
        return h * 7 + w * 3 + c * 5 % 11 - 9;
    }

    private static int index(DataFormat f, int h, int w, int c, int height, int width, int channels) {
        return f == DataFormat.CHANNELS_LAST ? (h * width + w) * channels + c : (c * height + h) * width + w;
    }

    private static float[] patternImage(DataFormat f, int height, int width, int channels) {
        float[] x = new float[height * width * channels];
        for (int h = 0; h < height; h++) {
            for (int w = 0; w < width; w++) {
                for (int c = 0; c < channels; c++) {
                    x[index(f, h, w, c, height, width, channels)] = pattern(h, w, c);
                }
            }
        }
        return x;
    }

    static Stream<Object[]> enginesAndFormats() {
        return engines().flatMap(e -> Stream.of(DataFormat.values()).map(f -> new Object[] {e[0], e[1], f}));
    }

    /**
     * Depthwise 3×3 "same" over 9 channels (one past an 8-float vector): channel c has the single tap
     * (c % 3, c / 3 % 3) of weight c + 1, so output = (c + 1)·x(h + c % 3 − 1, w + c / 3 % 3 − 1, c) + bias.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("enginesAndFormats")
    void depthwise3x3(Backend backend, Algorithm algorithm, DataFormat format) {
        int height = 5;
        int width = 6;
        int channels = 9;
        float[] kernel = new float[3 * 3 * channels];
        float[] bias = new float[channels];
        for (int c = 0; c < channels; c++) {
            kernel[((c % 3) * 3 + c / 3 % 3) * channels + c] = c + 1;
            bias[c] = c % 2 == 1 ? -1 : 2;
        }
        try (Conv2D conv = Conv2D.builder().filters(channels).kernelSize(3, 3).groups(channels)
                .padding(Padding.SAME).dataFormat(format).backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(kernel, bias);
            int[] shape = format == DataFormat.CHANNELS_LAST ? new int[] {1, height, width, channels}
                    : new int[] {1, channels, height, width};
            float[] expected = new float[height * width * channels];
            for (int h = 0; h < height; h++) {
                for (int w = 0; w < width; w++) {
                    for (int c = 0; c < channels; c++) {
                        int ih = h + c % 3 - 1;
                        int iw = w + c / 3 % 3 - 1;
                        float x = ih >= 0 && ih < height && iw >= 0 && iw < width ? pattern(ih, iw, c) : 0;
                        expected[index(format, h, w, c, height, width, channels)] = (c + 1) * x + bias[c];
                    }
                }
            }
            float[] y = run(conv, backend, algorithm, patternImage(format, height, width, channels), shape);
            assertResult(expected, y, conv, shape);
        }
    }

    /**
     * A dense 3×3 "same" layer, 17 → 16 channels (enough for Winograd too), relu: output co = x(h, w, co % 17)
     * + 2·x(h, w − 1, (co + 1) % 17) + 3·x(h − 1, w, (co + 2) % 17) + bias, zeros outside the image.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("enginesAndFormats")
    void dense3x3(Backend backend, Algorithm algorithm, DataFormat format) {
        int height = 5;
        int width = 7;
        int cin = 17;
        int cout = 16;
        float[] kernel = new float[3 * 3 * cin * cout];
        float[] bias = new float[cout];
        for (int co = 0; co < cout; co++) {
            int[][] taps = {{1, 1, co % cin}, {1, 0, (co + 1) % cin}, {0, 1, (co + 2) % cin}};
            for (int t = 0; t < 3; t++) {
                kernel[((taps[t][0] * 3 + taps[t][1]) * cin + taps[t][2]) * cout + co] += t + 1;
            }
            bias[co] = co % 3 - 1;
        }
        try (Conv2D conv = Conv2D.builder().filters(cout).kernelSize(3, 3).padding(Padding.SAME)
                .activation(Activation.RELU).dataFormat(format).backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(kernel, bias);
            int[] shape = format == DataFormat.CHANNELS_LAST ? new int[] {1, height, width, cin}
                    : new int[] {1, cin, height, width};
            float[] expected = new float[height * width * cout];
            for (int h = 0; h < height; h++) {
                for (int w = 0; w < width; w++) {
                    for (int co = 0; co < cout; co++) {
                        float sum = pattern(h, w, co % cin) + bias[co];
                        sum += w > 0 ? 2 * pattern(h, w - 1, (co + 1) % cin) : 0;
                        sum += h > 0 ? 3 * pattern(h - 1, w, (co + 2) % cin) : 0;
                        expected[index(format, h, w, co, height, width, cout)] = Math.max(sum, 0);
                    }
                }
            }
            float[] y = run(conv, backend, algorithm, patternImage(format, height, width, cin), shape);
            assertResult(expected, y, conv, shape);
        }
    }
}

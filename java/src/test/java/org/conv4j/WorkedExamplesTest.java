package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The tutorial's two examples and small hand-worked cases, exactly, through every backend and algorithm. */
class WorkedExamplesTest {

    static Stream<Object[]> engines() {
        List<Object[]> engines = new ArrayList<>();
        engines.add(new Object[] {Backend.JAVA, Algorithm.AUTO});
        // GEMM, WINOGRAD and DEPTHWISE join as their kernels land, on the examples they accept.
        for (Algorithm a : EnumSet.of(Algorithm.AUTO, Algorithm.DIRECT, Algorithm.REFERENCE)) {
            engines.add(new Object[] {Backend.NATIVE, a});
        }
        return engines.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void tutorialConv1D(Backend backend, Algorithm algorithm) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(3).backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(new float[] {0, 1, 0}, new float[] {0});
            float[] y = conv.predict(new float[] {0, 0, 0, 1, 1, 0, 0, 0}, 1, 8, 1);
            assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0}, y);
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
            float[] y = conv.predict(image, 1, 8, 8, 1);
            float[] expected = new float[36];
            for (int row = 0; row < 6; row++) {
                System.arraycopy(new float[] {0, 0, 3, 3, 0, 0}, 0, expected, row * 6, 6);
            }
            assertArrayEquals(expected, y);
        }
    }

    /** TF SAME with an even kernel: total pad 1 goes after, so output[i] = x[i] + 10·x[i+1]. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void sameEvenKernelPadsAtTheEnd(Backend backend, Algorithm algorithm) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(2).padding(Padding.SAME).useBias(false)
                .backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(new float[] {1, 10}, null);
            assertArrayEquals(new float[] {21, 32, 43, 4}, conv.predict(new float[] {1, 2, 3, 4}, 1, 4, 1));
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
            assertArrayEquals(new float[] {210, 432, 54}, conv.predict(new float[] {1, 2, 3, 4, 5}, 1, 5, 1));
        }
    }

    /** Causal with dilation 2: out[t] = x[t−4] + 10·x[t−2] + 100·x[t], zeros before the start, plus bias, relu. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void causalDilatedWithBiasAndRelu(Backend backend, Algorithm algorithm) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(3).dilationRate(2).padding(Padding.CAUSAL)
                .activation(Activation.RELU).backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(new float[] {1, 10, 100}, new float[] {-250});
            float[] y = conv.predict(new float[] {1, 2, 3, 4, 5}, 1, 5, 1);
            // raw: 100, 200, 300+10, 400+20, 500+30+1 → minus 250, relu
            assertArrayEquals(new float[] {0, 0, 60, 170, 281}, y);
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
            float[] y = conv.predict(x, 1, 2, 1, 3);
            // channel 0: 1·x0 + 10·x1 over channel 0; channel 1: 2·x0 + 20·x1 over channel 1
            assertArrayEquals(new float[] {21, 32, 2 * 4 + 20 * 5, 2 * 5 + 20 * 6}, y);
            assertArrayEquals(new int[] {1, 2, 1, 2}, conv.outputShape(1, 2, 1, 3));
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("engines")
    void reluKeepsNaN(Backend backend, Algorithm algorithm) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(1).activation(Activation.RELU).useBias(false)
                .backend(backend).algorithm(algorithm).build()) {
            conv.setWeights(new float[] {1}, null);
            float[] y = conv.predict(new float[] {-1, Float.NaN, 2}, 1, 3, 1);
            assertEquals(0f, y[0]);
            assertEquals(Float.NaN, y[1]);
            assertEquals(2f, y[2]);
        }
    }
}

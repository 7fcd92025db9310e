package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.conv4j.RandomCase.DataKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Winograd is opt-in ({@code winograd(true)} on a layer or a {@link Sequential}; forcing
 * {@link Algorithm#WINOGRAD} runs it regardless), and held to its own bound, which depends on each
 * output's whole 6×6 input tile ({@link Tolerance#assertWithinWinogradBound}), on every kind of data.
 */
class WinogradTest {
    private static final int CASES = 40;

    private static ConvLayer.Builder builder(SplittableRandom r, int cout) {
        return ConvLayer.builder(2).filters(cout).kernelSize(3).padding(r.nextBoolean() ? Padding.SAME : Padding.VALID)
                .activation(r.nextBoolean() ? Activation.RELU : Activation.NONE).backend(Backend.NATIVE)
                .threads(1 + r.nextInt(2));
    }

    /**
     * Runs random Winograd-eligible shapes (built by {@code configure}) on data of one kind; returns how many
     * ran through Winograd. Each is checked against the bound of the algorithm that ran.
     */
    private static int runCases(long seed, DataKind kind, java.util.function.UnaryOperator<ConvLayer.Builder> configure) {
        SplittableRandom r = new SplittableRandom(seed);
        int viaWinograd = 0;
        for (int i = 0; i < CASES; i++) {
            int cin = 16 + r.nextInt(40);
            int cout = 16 + r.nextInt(40);
            int[] shape = {1 + r.nextInt(2), 3 + r.nextInt(12), 3 + r.nextInt(12), cin};
            boolean useBias = i % 3 != 0;
            try (ConvLayer conv = configure.apply(builder(r, cout).useBias(useBias)).build()) {
                float[] kernel = RandomCase.values(r, 9 * cin * cout, kind, false);
                float[] bias = useBias ? RandomCase.values(r, cout, DataKind.DENSE, false) : null;
                float[] input = RandomCase.values(r, shape[0] * shape[1] * shape[2] * cin, kind, true);
                if (kind == DataKind.POST_RELU) {
                    RandomCase.zeroRectangles(r, input, shape, DataFormat.CHANNELS_LAST);
                }
                conv.setWeights(kernel, bias);
                float[] actual = conv.predict(input, shape);
                ConvGeometry g = conv.geometry(shape);
                String chosen = conv.algorithm(shape);
                if (chosen.equals("winograd")) {
                    viaWinograd++;
                }
                Tolerance.assertWithinBoundOf(chosen, g, input, kernel, bias,
                        ReferenceConvolution.compute(g, input, kernel, bias), actual,
                        "case " + i + " " + kind + " via " + chosen);
            }
        }
        return viaWinograd;
    }

    @Test
    void autoTakesWinogradOnlyWhenAllowed() {
        assertEquals(CASES, runCases(1, DataKind.DENSE, b -> b.winograd(true)));
        assertEquals(0, runCases(3, DataKind.DENSE, b -> b));
        try (ConvLayer conv = Conv2D.builder().filters(32).kernelSize(3).backend(Backend.NATIVE).build()) {
            conv.setWeights(new float[9 * 32 * 32], new float[32]);
            String explain = conv.explain(1, 8, 8, 32);
            assertTrue(explain.contains("opt-in, not allowed by flag"), explain);
            assertNotEquals("winograd", conv.algorithm(1, 8, 8, 32));
        }
    }

    /** Forced Winograd on dense, sparse, post-relu, large-range and mixed-sign data, with and without bias. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(DataKind.class)
    void forcedWinogradStaysWithinItsBound(DataKind kind) {
        assertEquals(CASES, runCases(2 + kind.ordinal() * 10L, kind, b -> b.algorithm(Algorithm.WINOGRAD)));
    }

    @Test
    void forcingWinogradNeedsNoSwitch() {
        try (ConvLayer conv = Conv2D.builder().filters(16).kernelSize(3).algorithm(Algorithm.WINOGRAD)
                .backend(Backend.NATIVE).build()) {
            assertFalse(conv.config().winograd());
            conv.setWeights(new float[9 * 16 * 16], new float[16]);
            assertEquals("winograd", conv.algorithm(1, 8, 8, 16));
        }
    }

    @Test
    void theSwitchIsPartOfTheConfiguration() {
        try (ConvLayer off = Conv2D.builder().filters(16).kernelSize(3).build();
             ConvLayer on = Conv2D.builder().filters(16).kernelSize(3).winograd(true).build()) {
            assertFalse(off.config().winograd(), "off by default");
            assertTrue(on.config().winograd());
            assertFalse(off.config().toString().contains("winograd"), off.config().toString());
            assertTrue(on.config().toString().contains("winograd=true"), on.config().toString());
        }
    }

    /** Sequential.Builder.winograd sets every layer it holds; unset, each keeps its own switch. */
    @Test
    void sequentialSetsEveryLayer() {
        for (Boolean setting : new Boolean[] {null, true, false}) {
            ConvLayer first = Conv2D.builder().filters(16).kernelSize(3).padding(Padding.SAME).backend(Backend.NATIVE)
                    .build();
            ConvLayer second = Conv2D.builder().filters(16).kernelSize(3).padding(Padding.SAME).winograd(true)
                    .backend(Backend.NATIVE).build();
            first.setWeights(RandomCase.values(new SplittableRandom(1), 9 * 16 * 16), new float[16]);
            second.setWeights(RandomCase.values(new SplittableRandom(2), 9 * 16 * 16), new float[16]);
            int[] shape = {1, 12, 12, 16};
            String before = second.algorithm(shape); // a plan made before build must not survive a change
            assertEquals("winograd", before);
            Sequential.Builder b = Sequential.builder().input(12, 12, 16).add(first).add(Activation.RELU).add(second);
            if (setting != null) {
                b.winograd(setting);
            }
            try (Sequential model = b.build()) {
                boolean firstOn = setting != null ? setting : false;
                boolean secondOn = setting != null ? setting : true;
                assertEquals(firstOn, first.config().winograd(), "first layer, setting " + setting);
                assertEquals(secondOn, second.config().winograd(), "second layer, setting " + setting);
                assertEquals(firstOn, first.algorithm(shape).equals("winograd"), first.explain(shape));
                assertEquals(secondOn, second.algorithm(shape).equals("winograd"), second.explain(shape));
                float[] x = RandomCase.values(new SplittableRandom(3), 12 * 12 * 16);
                assertEquals(12 * 12 * 16, model.predict(x, 1, 12, 12, 16).length);
            }
        }
    }
}

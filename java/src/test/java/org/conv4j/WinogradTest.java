package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The per-layer Winograd switch ({@code winograd(false)}) and AUTO's use of Winograd on the shapes it
 * takes (3×3, stride 1, channels_last, >= 16 channels), against the reference under the same bound as
 * every other algorithm.
 */
class WinogradTest {
    private static final int CASES = 40;

    private static ConvLayer layer(SplittableRandom r, boolean winograd, Algorithm algorithm, int cin, int cout) {
        return Conv2D.builder().filters(cout).kernelSize(3).padding(r.nextBoolean() ? Padding.SAME : Padding.VALID)
                .activation(r.nextBoolean() ? Activation.RELU : Activation.NONE).backend(Backend.NATIVE)
                .algorithm(algorithm).winograd(winograd).threads(1 + r.nextInt(2)).build();
    }

    private static float[] values(SplittableRandom r, int count) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    /** Runs random eligible shapes; returns how many ran through Winograd. */
    private static int runCases(long seed, boolean winograd, Algorithm algorithm) {
        SplittableRandom r = new SplittableRandom(seed);
        int viaWinograd = 0;
        for (int i = 0; i < CASES; i++) {
            int cin = 16 + r.nextInt(40);
            int cout = 16 + r.nextInt(40);
            int[] shape = {1 + r.nextInt(2), 3 + r.nextInt(12), 3 + r.nextInt(12), cin};
            try (ConvLayer conv = layer(r, winograd, algorithm, cin, cout)) {
                float[] kernel = values(r, 9 * cin * cout);
                float[] bias = values(r, cout);
                float[] input = values(r, shape[0] * shape[1] * shape[2] * cin);
                conv.setWeights(kernel, bias);
                float[] actual = conv.predict(input, shape);
                ConvGeometry g = conv.geometry(shape);
                String chosen = conv.algorithm(shape);
                if (chosen.equals("winograd")) {
                    viaWinograd++;
                }
                Tolerance.assertWithinBound(g, input, kernel, bias, ReferenceConvolution.compute(g, input, kernel, bias),
                        actual, "case " + i + " via " + chosen);
            }
        }
        return viaWinograd;
    }

    @Test
    void autoTakesWinogradWhereItAppliesWithinTheBound() {
        assertEquals(CASES, runCases(1, true, Algorithm.AUTO));
    }

    @Test
    void forcedWinogradStaysWithinTheBound() {
        assertEquals(CASES, runCases(2, true, Algorithm.WINOGRAD));
    }

    @Test
    void winogradFalseKeepsAutoAwayFromWinograd() {
        assertEquals(0, runCases(3, false, Algorithm.AUTO));
        try (ConvLayer conv = Conv2D.builder().filters(32).kernelSize(3).winograd(false).backend(Backend.NATIVE)
                .build()) {
            conv.setWeights(new float[9 * 32 * 32], new float[32]);
            String explain = conv.explain(1, 8, 8, 32);
            assertTrue(explain.contains("disabled by flag"), explain);
            assertNotEquals("winograd", conv.algorithm(1, 8, 8, 32));
        }
    }

    @Test
    void forcingWinogradWhileTurningItOffIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Conv2D.builder().filters(16)
                .kernelSize(3).algorithm(Algorithm.WINOGRAD).winograd(false).build());
        assertTrue(e.getMessage().contains("winograd(false)"), e.getMessage());
    }

    @Test
    void theSwitchIsPartOfTheConfiguration() {
        try (ConvLayer on = Conv2D.builder().filters(16).kernelSize(3).build();
             ConvLayer off = Conv2D.builder().filters(16).kernelSize(3).winograd(false).build()) {
            assertTrue(on.config().winograd());
            assertFalse(off.config().winograd());
            assertFalse(on.config().toString().contains("winograd"), on.config().toString());
            assertTrue(off.config().toString().contains("winograd=false"), off.config().toString());
        }
    }
}

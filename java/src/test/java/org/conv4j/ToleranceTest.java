package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The checks themselves must be able to fail: infinities of the wrong sign, and Winograd's bound. */
class ToleranceTest {
    private static final ConvGeometry ONE_TAP = ConvLayer.builder(1).filters(1).kernelSize(1).backend(Backend.JAVA)
            .build().geometry(1, 1, 1);

    @Test
    void infinitiesMustMatchInSign() {
        float[] x = {Float.POSITIVE_INFINITY};
        float[] w = {-1};
        float[] expected = {Float.NEGATIVE_INFINITY};
        Tolerance.assertWithinBound(ONE_TAP, x, w, null, expected, new float[] {Float.NEGATIVE_INFINITY}, "same");
        assertThrows(AssertionFailedError.class, () -> Tolerance.assertWithinBound(ONE_TAP, x, w, null, expected,
                new float[] {Float.POSITIVE_INFINITY}, "+Inf for -Inf"));
        assertThrows(AssertionFailedError.class, () -> Tolerance.assertWithinBound(ONE_TAP, x, w, null, expected,
                new float[] {Float.NaN}, "NaN for -Inf"));
        assertThrows(AssertionFailedError.class, () -> Tolerance.assertWithinBound(ONE_TAP, new float[] {1}, w, null,
                new float[] {-1}, new float[] {Float.NEGATIVE_INFINITY}, "-Inf for -1"));
    }

    @Test
    void winogradBoundCatchesAWrongTap() {
        ConvGeometry g = ConvLayer.builder(2).filters(16).kernelSize(3).backend(Backend.JAVA).build()
                .geometry(1, 6, 6, 16);
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        float[] x = RandomCase.values(r, g.inputCount());
        float[] w = RandomCase.values(r, g.kernelCount());
        float[] expected = ReferenceConvolution.compute(g, x, w, null);
        Tolerance.assertWithinWinogradBound(g, x, w, null, expected, expected.clone(), "exact");
        float[] wrong = expected.clone();
        wrong[5] += 0.1f; // less than one product of average size (|x·w| = 0.25 on average)
        assertThrows(AssertionFailedError.class,
                () -> Tolerance.assertWithinWinogradBound(g, x, w, null, expected, wrong, "a wrong tap"));
    }
}

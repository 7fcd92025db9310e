package org.conv4j;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The float32 accuracy bound used to compare a result with the reference. A dot product of n
 * terms plus a bias, summed in float in any order, with or without FMA, is within gamma(n+1)·M of
 * the exact value (Higham, eq. 3.5), where M = sum |x·w| + |b| and gamma(m) = m·u / (1 - m·u),
 * u = 2^-24. The reference sums in double and rounds once (error u·|exact|). We allow twice the
 * dot-product bound; relu is 1-Lipschitz so it needs nothing more. An indexing bug (a tap missed,
 * shifted or doubled) errs by about |x·w| ≈ M / n, far above this bound for the fan-ins tested.
 */
final class Tolerance {
    private static final double U = Math.pow(2, -24);

    private Tolerance() {}

    static void assertWithinBound(ConvGeometry g, float[] input, float[] kernel, float[] bias, float[] expected,
                                  float[] actual, String what) {
        float[] magnitude = ReferenceConvolution.compute(g, abs(input), abs(kernel), bias == null ? null : abs(bias));
        double m = g.fanIn() + 1.0;
        double gamma = m * U / (1 - m * U);
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.isNaN(e) || Float.isNaN(a)) {
                if (Float.isNaN(e) != Float.isNaN(a)) {
                    fail(what + ": element " + i + " is " + a + ", expected " + e);
                }
                continue;
            }
            double bound = 2 * gamma * magnitude[i] + U * Math.abs(e) + Float.MIN_NORMAL;
            if (!(Math.abs((double) a - e) <= bound)) {
                fail(what + ": element " + i + " is " + a + ", expected " + e + " within " + bound + " of it ("
                        + g + ")");
            }
        }
    }

    static float[] abs(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.abs(a[i]);
        }
        return r;
    }
}

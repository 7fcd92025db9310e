package org.conv4j;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.IntToDoubleFunction;

/**
 * The float32 accuracy bounds used to compare a result with the reference (README, "Semantics").
 *
 * <p><b>Direct sums</b> (every default path): a dot product of n terms plus a bias, summed in float in
 * any order, with or without FMA, is within gamma(n+1)·M of the exact value (Higham, eq. 3.5), where
 * M = sum |x·w| + |b| and gamma(m) = m·u / (1 - m·u), u = 2^-24. The reference sums in double and
 * rounds once (error u·|exact|). We allow twice the dot-product bound; relu is 1-Lipschitz so it
 * needs nothing more. An indexing bug (a tap missed, shifted or doubled) errs by about |x·w| ≈ M / n,
 * far above this bound for the fan-ins tested.
 *
 * <p><b>Winograd F(4×4, 3×3)</b> (opt-in): gamma(Cin + 18)·(T + |b|), where T weights each tap and
 * each pixel of the output's whole 6×6 input tile by the magnitudes of the transform matrices (the
 * derivation is in native/tests/test_bound.h; the matrices are those of f32_conv_winograd.c).
 *
 * <p>Non-finite values as in the C tests: the class must match the reference exactly (NaN, +Inf,
 * -Inf); a finite result where the reference is not, or the reverse, fails.
 */
final class Tolerance {
    private static final double U = Math.pow(2, -24);
    /** Roundings a Winograd term passes through besides the Cin of the channel sum. */
    static final int WINOGRAD_ROUNDINGS = 18;

    private Tolerance() {}

    /** The bound of the algorithm that computed {@code actual} ({@code "winograd"} or any direct sum). */
    static void assertWithinBoundOf(String algorithm, ConvGeometry g, float[] input, float[] kernel, float[] bias,
                                    float[] expected, float[] actual, String what) {
        if (algorithm.equals("winograd")) {
            assertWithinWinogradBound(g, input, kernel, bias, expected, actual, what);
        } else {
            assertWithinBound(g, input, kernel, bias, expected, actual, what);
        }
    }

    static void assertWithinBound(ConvGeometry g, float[] input, float[] kernel, float[] bias, float[] expected,
                                  float[] actual, String what) {
        float[] magnitude = ReferenceConvolution.compute(g, abs(input), abs(kernel), bias == null ? null : abs(bias));
        assertElementsWithin(g.fanIn() + 1.0, i -> magnitude[i], "", g, expected, actual, what);
    }

    /**
     * The direct-sum bound for a result built from sums of at most {@code m} roundings each, with
     * {@code magnitude} the exact result's Σ|x·w| + |b| per element (chained layers: each step's
     * magnitudes carried through the next, m the sum of their fan-ins plus one per bias).
     */
    static void assertWithinMagnitude(double m, float[] magnitude, ConvGeometry g, float[] expected, float[] actual,
                                      String what) {
        assertElementsWithin(m, i -> magnitude[i], "", g, expected, actual, what);
    }

    /**
     * The float32 bounds of a backward pass (README, "Training"): each gradient element is a sum of
     * products in any order, so within 2·gamma(m)·Σ|products| + u·|expected| of the reference, with
     * m its number of terms: dx sums KH·KW·Cout/groups products w·dz, dW and db sum N·Hout·Wout
     * products x·dz and values dz. dz is dy masked by relu's derivative at {@code output}.
     */
    static void assertGradientsWithinBound(ConvGeometry g, float[] input, float[] kernel, float[] output,
                                           float[] outputGradient, Gradients expected, Gradients actual,
                                           String what) {
        float[] dz = abs(outputGradient);
        if (g.config().activation() == Activation.RELU) {
            for (int i = 0; i < dz.length; i++) {
                if (!(output[i] > 0)) {
                    dz[i] = 0;
                }
            }
        }
        ConvConfig c = g.config();
        ConvGeometry lg = ConvGeometry.of(c.withActivation(Activation.NONE), g.inputShape());
        Gradients m = ReferenceGradients.compute(lg, abs(input), abs(kernel), c.useBias() ? new float[c.filters()] : null,
                dz);
        // dW and db sum over every output pixel (a transposed layer's dW over its input pixels, which are
        // its forward convolution's outputs); dx over the taps × output channels of its group.
        double pixels = (double) g.batch() * (g.transposed() ? (double) g.inDepth() * g.inHeight() * g.inWidth()
                : (double) g.outDepth() * g.outHeight() * g.outWidth());
        if (g.transposed()) {
            pixels = Math.max(pixels, (double) g.batch() * g.outDepth() * g.outHeight() * g.outWidth());
        }
        if (actual.input() != null) {
            assertElementsWithin(c.kernelVolume() * (double) (g.outChannels() / g.groups()),
                    i -> m.input()[i], "dx", g, expected.input(), actual.input(), what + " dx");
        }
        if (actual.kernel() != null) {
            assertElementsWithin(pixels, i -> m.kernel()[i], "dW", g, expected.kernel(), actual.kernel(), what + " dW");
        }
        if (actual.bias() != null) {
            assertElementsWithin(pixels, i -> m.bias()[i], "db", g, expected.bias(), actual.bias(), what + " db");
        }
    }

    /**
     * Every element within 2·gamma(m)·magnitude(i) + u·|expected| + FLT_MIN of the expected value, non-finite
     * values in the same class; {@code boundName} names the bound in the failure message.
     */
    static void assertElementsWithin(double m, IntToDoubleFunction magnitude, String boundName,
                                             ConvGeometry g, float[] expected, float[] actual, String what) {
        double gamma = m * U / (1 - m * U);
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (!sameClass(e, a, what, i)) {
                continue;
            }
            double bound = 2 * gamma * magnitude.applyAsDouble(i) + U * Math.abs(e) + Float.MIN_NORMAL;
            if (!(Math.abs((double) a - e) <= bound)) {
                fail(what + ": element " + i + " is " + a + ", expected " + e
                        + (boundName.isEmpty() ? " within " + bound + " of it (" : " within the " + boundName
                        + " bound " + bound + " (") + g + ")");
            }
        }
    }

    /**
     * Checks non-finite values (NaN only for NaN, +Inf only for +Inf, -Inf only for -Inf); returns true when
     * both are finite and the caller should compare them.
     */
    private static boolean sameClass(float e, float a, String what, int i) {
        if (Float.isFinite(e) && Float.isFinite(a)) {
            return true;
        }
        boolean same = Float.isNaN(e) ? Float.isNaN(a) : Float.isInfinite(e) ? a == e : false;
        if (!same) {
            fail(what + ": element " + i + " is " + a + ", expected " + e);
        }
        return false;
    }

    /** Winograd's own bound: twice gamma(Cin + 18)·(T + |b|), plus the reference's rounding. */
    static void assertWithinWinogradBound(ConvGeometry g, float[] input, float[] kernel, float[] bias,
                                          float[] expected, float[] actual, String what) {
        double[] t = winogradMagnitude(g, input, kernel);
        assertElementsWithin(g.inChannels() + WINOGRAD_ROUNDINGS,
                i -> t[i] + (bias == null ? 0 : Math.abs(bias[outputChannel(g, i)])), "Winograd", g, expected,
                actual, what);
    }

    /** Output channel of output element i. */
    static int outputChannel(ConvGeometry g, int i) {
        int cout = g.outChannels();
        return g.config().dataFormat() == DataFormat.CHANNELS_LAST ? i % cout
                : i / (g.outHeight() * g.outWidth()) % cout;
    }

    /** K[i][k][p] = sum_xi |A^T|(i,xi) |G|(xi,k) |B^T|(xi,p) for the points 0, -1, 1, 1/2, -2. */
    static double[][][] winogradK() {
        double[][] bt = {{1, -1.5, -2, 1.5, 1, 0}, {0, 1, -2.5, 0.5, 1, 0}, {0, -1, 0.5, 2.5, 1, 0},
            {0, -2, -1, 2, 1, 0}, {0, 0.5, -1, -0.5, 1, 0}, {0, 1, -1.5, -2, 1.5, 1}};
        double[][] gm = {{1, 0, 0}, {-1.0 / 3, 1.0 / 3, -1.0 / 3}, {1.0 / 3, 1.0 / 3, 1.0 / 3},
            {-16.0 / 15, -8.0 / 15, -4.0 / 15}, {1.0 / 15, -2.0 / 15, 4.0 / 15}, {0, 0, 1}};
        double[][] at = {{1, 1, 1, 1, 1, 0}, {0, -1, 1, 0.5, -2, 0}, {0, 1, 1, 0.25, 4, 0}, {0, -1, 1, 0.125, -8, 1}};
        double[][][] k = new double[4][3][6];
        for (int i = 0; i < 4; i++) {
            for (int kk = 0; kk < 3; kk++) {
                for (int p = 0; p < 6; p++) {
                    double sum = 0;
                    double exact = 0;
                    for (int xi = 0; xi < 6; xi++) {
                        sum += Math.abs(at[i][xi]) * Math.abs(gm[xi][kk]) * Math.abs(bt[xi][p]);
                        exact += at[i][xi] * gm[xi][kk] * bt[xi][p];
                    }
                    if (Math.abs(exact - (p == i + kk ? 1 : 0)) > 1e-12) {
                        fail("Winograd matrices do not compute the correlation at " + i + "," + kk + "," + p);
                    }
                    k[i][kk][p] = sum;
                }
            }
        }
        return k;
    }

    /** T of every output of a 3×3 stride-1 Conv2D (either layout), without the bias. */
    static double[] winogradMagnitude(ConvGeometry g, float[] input, float[] kernel) {
        if (g.rank() != 2 || g.kernelHeight() != 3 || g.kernelWidth() != 3 || g.groups() != 1) {
            fail("the Winograd bound is for ungrouped 3×3 Conv2D, not " + g);
        }
        double[][][] k = winogradK();
        boolean last = g.config().dataFormat() == DataFormat.CHANNELS_LAST;
        int cin = g.inChannels();
        int cout = g.outChannels();
        int h = g.inHeight();
        int w = g.inWidth();
        int oh = g.outHeight();
        int ow = g.outWidth();
        double[] out = new double[g.outputCount()];
        double[][] e = new double[cin][144];
        double[] t = new double[cout * 16];
        for (int n = 0; n < g.batch(); n++) {
            for (int ty = 0; ty < (oh + 3) / 4; ty++) {
                for (int tx = 0; tx < (ow + 3) / 4; tx++) {
                    int y0 = ty * 4 - g.padTop();
                    int x0 = tx * 4 - g.padLeft();
                    for (int c = 0; c < cin; c++) {
                        double[][] tile = new double[6][6];
                        for (int p = 0; p < 6; p++) {
                            for (int q = 0; q < 6; q++) {
                                int y = y0 + p;
                                int x = x0 + q;
                                if (y >= 0 && y < h && x >= 0 && x < w) {
                                    int at = last ? ((n * h + y) * w + x) * cin + c : ((n * cin + c) * h + y) * w + x;
                                    tile[p][q] = Math.abs(input[at]);
                                }
                            }
                        }
                        double[][][] half = new double[4][3][6];
                        for (int i = 0; i < 4; i++) {
                            for (int kk = 0; kk < 3; kk++) {
                                for (int q = 0; q < 6; q++) {
                                    double sum = 0;
                                    for (int p = 0; p < 6; p++) {
                                        sum += k[i][kk][p] * tile[p][q];
                                    }
                                    half[i][kk][q] = sum;
                                }
                            }
                        }
                        for (int i = 0; i < 4; i++) {
                            for (int kk = 0; kk < 3; kk++) {
                                for (int j = 0; j < 4; j++) {
                                    for (int l = 0; l < 3; l++) {
                                        double sum = 0;
                                        for (int q = 0; q < 6; q++) {
                                            sum += k[j][l][q] * half[i][kk][q];
                                        }
                                        e[c][((i * 3 + kk) * 4 + j) * 3 + l] = sum;
                                    }
                                }
                            }
                        }
                    }
                    java.util.Arrays.fill(t, 0);
                    for (int c = 0; c < cin; c++) {
                        for (int co = 0; co < cout; co++) {
                            for (int kk = 0; kk < 3; kk++) {
                                for (int l = 0; l < 3; l++) {
                                    double wv = Math.abs(kernel[((kk * 3 + l) * cin + c) * cout + co]);
                                    if (wv == 0) {
                                        continue;
                                    }
                                    for (int i = 0; i < 4; i++) {
                                        for (int j = 0; j < 4; j++) {
                                            t[co * 16 + i * 4 + j] += wv * e[c][((i * 3 + kk) * 4 + j) * 3 + l];
                                        }
                                    }
                                }
                            }
                        }
                    }
                    for (int i = 0; i < 4 && ty * 4 + i < oh; i++) {
                        for (int j = 0; j < 4 && tx * 4 + j < ow; j++) {
                            int y = ty * 4 + i;
                            int x = tx * 4 + j;
                            for (int co = 0; co < cout; co++) {
                                int at = last ? ((n * oh + y) * ow + x) * cout + co : ((n * cout + co) * oh + y) * ow + x;
                                out[at] = t[co * 16 + i * 4 + j];
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * Every output whose window has only zero products (input zeros, padding, or zero weights) is exactly
     * the bias, after relu exactly max(bias, 0): Keras' answer, and what a direct sum gives.
     */
    static int assertZeroWindowsExact(ConvGeometry g, float[] input, float[] kernel, float[] bias, float[] actual,
                                      String what) {
        float[] windows = ReferenceConvolution.compute(g, abs(input), abs(kernel), null);
        boolean relu = g.config().activation() == Activation.RELU;
        int checked = 0;
        for (int i = 0; i < actual.length; i++) {
            if (windows[i] != 0) {
                continue;
            }
            float b = bias == null ? 0 : bias[outputChannel(g, i)];
            float expected = relu && b < 0 ? 0 : b;
            if (actual[i] != expected) {
                fail(what + ": element " + i + " reads only zeros but is " + actual[i] + ", expected exactly "
                        + expected + " (" + g + ")");
            }
            checked++;
        }
        return checked;
    }

    static float[] abs(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.abs(a[i]);
        }
        return r;
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Test;

/**
 * The reference gradients against central finite differences of the forward convolution computed
 * in double: L = Σ dy·act(conv(x, W) + b) is linear in each of x, W and b between relu's kinks, so
 * a central difference with h = 2⁻¹⁰ is exact up to double rounding, and the reference (double
 * sums rounded once) must be within one float rounding of it. Coordinates whose perturbation
 * crosses a kink (one-sided differences disagree) are skipped, and there must be few.
 */
class ReferenceGradientsTest {
    private static final double H = 1.0 / 1024;
    private static final double U = Math.pow(2, -24);

    /** Forward in double, no rounding: act(conv(x, w) + b). */
    static double[] forward(ConvGeometry g, double[] x, double[] w, double[] b) {
        boolean last = g.config().dataFormat() == DataFormat.CHANNELS_LAST;
        int cin = g.inChannels(), cout = g.outChannels(), cinG = cin / g.groups(), coutG = cout / g.groups();
        int inH = g.inHeight(), inW = g.inWidth(), outH = g.outHeight(), outW = g.outWidth();
        double[] y = new double[g.outputCount()];
        for (int n = 0; n < g.batch(); n++) {
            for (int co = 0; co < cout; co++) {
                for (int oy = 0; oy < outH; oy++) {
                    for (int ox = 0; ox < outW; ox++) {
                        double sum = b == null ? 0 : b[co];
                        for (int ky = 0; ky < g.kernelHeight(); ky++) {
                            for (int kx = 0; kx < g.kernelWidth(); kx++) {
                                int iy = oy * g.strideHeight() + ky * g.dilationHeight() - g.padTop();
                                int ix = ox * g.strideWidth() + kx * g.dilationWidth() - g.padLeft();
                                if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) {
                                    continue;
                                }
                                for (int ci = 0; ci < cinG; ci++) {
                                    int c = co / coutG * cinG + ci;
                                    int xi = last ? ((n * inH + iy) * inW + ix) * cin + c
                                            : ((n * cin + c) * inH + iy) * inW + ix;
                                    sum += x[xi] * w[((ky * g.kernelWidth() + kx) * cinG + ci) * cout + co];
                                }
                            }
                        }
                        if (g.config().activation() == Activation.RELU) {
                            sum = Math.max(sum, 0);
                        }
                        y[last ? ((n * outH + oy) * outW + ox) * cout + co : ((n * cout + co) * outH + oy) * outW + ox]
                                = sum;
                    }
                }
            }
        }
        return y;
    }

    private static double[] toDouble(float[] a) {
        if (a == null) {
            return null;
        }
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    private static double loss(GradientCase c, double[] x, double[] w, double[] b) {
        double[] y = forward(c.geometry, x, w, b);
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += c.outputGradient[i] * y[i];
        }
        return sum;
    }

    /** Scale of the loss' terms, for the kink test's threshold. */
    private static double scale(GradientCase c, double[] x, double[] w, double[] b) {
        double[] y = forward(c.geometry, abs(x), abs(w), b == null ? null : abs(b));
        double sum = 1;
        for (int i = 0; i < y.length; i++) {
            sum += Math.abs(c.outputGradient[i]) * y[i];
        }
        return sum;
    }

    private static double[] abs(double[] a) {
        double[] r = a.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] = Math.abs(r[i]);
        }
        return r;
    }

    /** [checked, skipped] coordinates of one tensor (which = 0: x, 1: W, 2: b). */
    private static int[] check(GradientCase c, int which, float[] gradient, String what) {
        double[][] p = {toDouble(c.input), toDouble(c.kernel), toDouble(c.bias)};
        double[] t = p[which];
        double l0 = loss(c, p[0], p[1], p[2]);
        double threshold = 1e-11 * scale(c, p[0], p[1], p[2]);
        int checked = 0, skipped = 0;
        for (int j = 0; j < t.length; j++) {
            double saved = t[j];
            t[j] = saved + H;
            double plus = loss(c, p[0], p[1], p[2]);
            t[j] = saved - H;
            double minus = loss(c, p[0], p[1], p[2]);
            t[j] = saved;
            if (Math.abs((plus - l0) - (l0 - minus)) > threshold) {
                skipped++; // a relu kink between saved - H and saved + H
                continue;
            }
            double exact = (plus - minus) / (2 * H);
            double bound = U * Math.abs(exact) + threshold / H;
            if (!(Math.abs(gradient[j] - exact) <= bound)) {
                fail(what + " element " + j + " is " + gradient[j] + ", finite differences give " + exact
                        + " (bound " + bound + ") for " + c);
            }
            checked++;
        }
        return new int[] {checked, skipped};
    }

    @Test
    void everyGradientMatchesCentralFiniteDifferences() {
        int checked = 0, skipped = 0, relu = 0, cases = 300;
        boolean[] seen = new boolean[8]; // rank 1 causal, strided, dilated, depthwise, channels_first, bias, same, rank 2
        for (int i = 0; i < cases; i++) {
            GradientCase c = new GradientCase(15, i, 6, 3);
            ConvConfig cf = c.config;
            Gradients g = ReferenceGradients.compute(c.geometry, c.input, c.kernel, c.bias, c.outputGradient);
            assertEquals(c.input.length, g.input().length);
            assertEquals(c.kernel.length, g.kernel().length);
            if (c.bias == null) {
                assertNull(g.bias());
            }
            for (int which = 0; which < 3; which++) {
                if (which == 2 && c.bias == null) {
                    continue;
                }
                float[] grad = which == 0 ? g.input() : which == 1 ? g.kernel() : g.bias();
                int[] r = check(c, which, grad, new String[] {"dx", "dW", "db"}[which]);
                checked += r[0];
                skipped += r[1];
            }
            relu += cf.activation() == Activation.RELU ? 1 : 0;
            seen[0] |= cf.padding() == Padding.CAUSAL;
            seen[1] |= c.geometry.strideWidth() > 1;
            seen[2] |= c.geometry.dilationWidth() > 1;
            seen[3] |= cf.groups() == c.geometry.inChannels() && cf.groups() > 1;
            seen[4] |= cf.dataFormat() == DataFormat.CHANNELS_FIRST;
            seen[5] |= cf.useBias();
            seen[6] |= cf.padding() == Padding.SAME;
            seen[7] |= cf.rank() == 2;
        }
        for (int i = 0; i < seen.length; i++) {
            assertTrue(seen[i], "parameter family " + i + " never drawn");
        }
        assertTrue(relu > cases / 4, relu + " relu cases");
        assertTrue(checked > 10_000, checked + " coordinates checked");
        assertTrue(skipped < checked / 100, skipped + " coordinates at a relu kink of " + checked);
    }

    @Test
    void reluPassesNoGradientWhereItsOutputIsZeroOrNegative() {
        // y = relu(x·1 + b) for x = [-1, 0, 1] and b = 0: TensorFlow's ReluGrad is 0 at exactly 0.
        ConvConfig config = ConvLayer.builder(1).filters(1).kernelSize(1).activation(Activation.RELU).config();
        ConvGeometry g = ConvGeometry.of(config, 1, 3, 1);
        Gradients grads = ReferenceGradients.compute(g, new float[] {-1, 0, 1}, new float[] {1}, new float[] {0},
                new float[] {5, 6, 7});
        assertArrayEquals(new float[] {0, 0, 7}, grads.input());
        assertArrayEquals(new float[] {7}, grads.kernel());
        assertArrayEquals(new float[] {7}, grads.bias());
    }

    @Test
    void theTutorialsLineDetectorHasTheHandComputedGradient() {
        // Conv1D [0, 1, 0] on a sequence of 8, dy = 1 everywhere: db = 6 outputs, dW[k] = Σ x over the
        // six windows' tap k, dx[i] = number of windows whose middle tap is i.
        ConvConfig config = ConvLayer.builder(1).filters(1).kernelSize(3).config();
        ConvGeometry g = ConvGeometry.of(config, 1, 8, 1);
        float[] x = {0, 0, 0, 1, 1, 0, 0, 0};
        float[] dy = {1, 1, 1, 1, 1, 1};
        Gradients grads = ReferenceGradients.compute(g, x, new float[] {0, 1, 0}, new float[] {0}, dy);
        assertArrayEquals(new float[] {6}, grads.bias());
        assertArrayEquals(new float[] {2, 2, 2}, grads.kernel());
        assertArrayEquals(new float[] {0, 1, 1, 1, 1, 1, 1, 0}, grads.input());
    }
}

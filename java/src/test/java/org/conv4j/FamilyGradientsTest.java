package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The reference gradients of the whole family (rank 1–3, forward and transposed, explicit pads,
 * groups, relu) against central finite differences of a forward pass in double written here
 * independently: the forward convolution as a gather over its window, the transposed one as
 * TensorFlow defines it, a scatter of each input pixel through the kernel. As in
 * {@link ReferenceGradientsTest}, L = Σ dy·y is linear in each tensor between relu's kinks, so the
 * difference with h = 2⁻¹⁰ is exact up to double rounding; kink coordinates are skipped.
 */
class FamilyGradientsTest {
    private static final double H = 1.0 / 1024;
    private static final double U = Math.pow(2, -24);

    /** A random family case: the geometry and its tensors. */
    record Case(ConvGeometry g, float[] x, float[] w, float[] b, float[] dy) {
        @Override
        public String toString() {
            return g + " input " + Arrays.toString(g.inputShape());
        }
    }

    /** A random case; shapes TensorFlow refuses (some same-padded transposed sizes) are drawn again. */
    static Case randomCase(SplittableRandom r) {
        for (;;) {
            try {
                return draw(r);
            } catch (IllegalArgumentException refused) {
                if (!refused.getMessage().contains("TensorFlow refuses")) {
                    throw refused;
                }
            }
        }
    }

    private static Case draw(SplittableRandom r) {
        int rank = 1 + r.nextInt(3);
        boolean transposed = r.nextInt(3) == 0;
        boolean explicit = !transposed && r.nextInt(3) == 0;
        DataFormat format = r.nextInt(3) == 0 ? DataFormat.CHANNELS_FIRST : DataFormat.CHANNELS_LAST;
        int groups = transposed ? 1 : 1 + r.nextInt(2);
        int cin = groups * (1 + r.nextInt(2));
        int filters = groups * (1 + r.nextInt(2));
        int[] k = new int[rank], s = new int[rank], d = new int[rank], spatial = new int[rank];
        int[] before = new int[rank], after = new int[rank], op = new int[rank];
        boolean strided = r.nextBoolean();
        boolean outputPadding = transposed && strided && r.nextBoolean();
        Padding padding = r.nextBoolean() ? Padding.SAME : Padding.VALID;
        for (int i = 0; i < rank; i++) {
            k[i] = 1 + r.nextInt(3);
            s[i] = strided ? 1 + r.nextInt(2) : 1;
            d[i] = !strided && r.nextInt(3) == 0 ? 2 : 1;
            before[i] = r.nextInt(3);
            after[i] = r.nextInt(3);
            op[i] = outputPadding ? r.nextInt(s[i]) : 0;
            int effective = (k[i] - 1) * d[i] + 1;
            spatial[i] = (rank == 3 ? 2 : 3) + r.nextInt(3);
            if (!transposed && padding == Padding.VALID && spatial[i] + (explicit ? before[i] + after[i] : 0) < effective) {
                spatial[i] = effective;
            }
        }
        ConvLayer.AbstractBuilder<?> b;
        if (transposed) {
            ConvLayer.TransposeBuilder<?> t = rank == 1 ? Conv1DTranspose.builder()
                    : rank == 2 ? Conv2DTranspose.builder() : Conv3DTranspose.builder();
            if (outputPadding) {
                t.outputPadding(op);
            }
            b = t;
        } else {
            b = ConvLayer.builder(rank).groups(groups);
        }
        b.filters(filters).kernelSize(k).strides(s).dilationRate(d).dataFormat(format)
                .useBias(r.nextBoolean()).activation(r.nextBoolean() ? Activation.RELU : Activation.NONE);
        if (explicit) {
            b.padding(Padding.explicit(before, after));
        } else {
            b.padding(padding);
        }
        ConvConfig config = b.config();
        int[] shape = new int[rank + 2];
        boolean last = format == DataFormat.CHANNELS_LAST;
        shape[0] = 1 + r.nextInt(2);
        shape[last ? rank + 1 : 1] = cin;
        System.arraycopy(spatial, 0, shape, last ? 1 : 2, rank);
        ConvGeometry g = ConvGeometry.of(config, shape);
        return new Case(g, RandomCase.values(r, g.inputCount()), RandomCase.values(r, g.kernelCount()),
                config.useBias() ? RandomCase.values(r, filters) : null, RandomCase.values(r, g.outputCount()));
    }

    /** act(conv(x, w) + b) in double, never rounded: gather for a forward layer, scatter for a transposed one. */
    static double[] forward(ConvGeometry g, double[] x, double[] w, double[] b) {
        boolean last = g.config().dataFormat() == DataFormat.CHANNELS_LAST;
        int cin = g.inChannels(), cout = g.outChannels(), cinG = cin / g.groups(), coutG = cout / g.groups();
        int[] in = {g.inDepth(), g.inHeight(), g.inWidth()}, out = {g.outDepth(), g.outHeight(), g.outWidth()};
        int[] k = {g.kernelDepth(), g.kernelHeight(), g.kernelWidth()};
        int[] s = {g.strideDepth(), g.strideHeight(), g.strideWidth()};
        int[] d = {g.dilationDepth(), g.dilationHeight(), g.dilationWidth()};
        int[] pad = {g.padFront(), g.padTop(), g.padLeft()};
        double[] y = new double[g.outputCount()];
        int[] a = new int[3], t = new int[3], o = new int[3];
        // Walk (pixel of the side that is summed over) × taps; "from" is the input for a transposed
        // layer (scatter) and the output for a forward one (gather).
        boolean transposed = g.transposed();
        int[] from = transposed ? in : out;
        for (int n = 0; n < g.batch(); n++) {
            for (a[0] = 0; a[0] < from[0]; a[0]++) {
                for (a[1] = 0; a[1] < from[1]; a[1]++) {
                    for (a[2] = 0; a[2] < from[2]; a[2]++) {
                        for (t[0] = 0; t[0] < k[0]; t[0]++) {
                            for (t[1] = 0; t[1] < k[1]; t[1]++) {
                                for (t[2] = 0; t[2] < k[2]; t[2]++) {
                                    boolean inside = true;
                                    int[] to = transposed ? out : in;
                                    for (int ax = 0; ax < 3; ax++) {
                                        o[ax] = a[ax] * s[ax] + t[ax] * d[ax] - pad[ax];
                                        inside &= o[ax] >= 0 && o[ax] < to[ax];
                                    }
                                    if (!inside) {
                                        continue;
                                    }
                                    int tap = (t[0] * k[1] + t[1]) * k[2] + t[2];
                                    int[] xp = transposed ? a : o, yp = transposed ? o : a;
                                    for (int co = 0; co < cout; co++) {
                                        for (int ci = 0; ci < cinG; ci++) {
                                            int c = co / coutG * cinG + ci;
                                            double wv = transposed ? w[(tap * cout + co) * cin + c]
                                                    : w[(tap * cinG + ci) * cout + co];
                                            y[index(last, n, co, yp, out, cout)] += x[index(last, n, c, xp, in, cin)] * wv;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        int per = g.outputCount() / g.batch() / cout;
        for (int i = 0; i < y.length; i++) {
            int co = last ? i % cout : i / per % cout;
            double v = y[i] + (b == null ? 0 : b[co]);
            y[i] = g.config().activation() == Activation.RELU ? Math.max(v, 0) : v;
        }
        return y;
    }

    private static int index(boolean last, int n, int c, int[] p, int[] size, int channels) {
        int pixel = (p[0] * size[1] + p[1]) * size[2] + p[2], plane = size[0] * size[1] * size[2];
        return last ? (n * plane + pixel) * channels + c : (n * channels + c) * plane + pixel;
    }

    private static double[] toDouble(float[] a) {
        if (a == null) {
            return null;
        }
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i];
        }
        return r;
    }

    private static double loss(Case c, double[][] p) {
        double[] y = forward(c.g, p[0], p[1], p[2]);
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += c.dy[i] * y[i];
        }
        return sum;
    }

    /** [checked, skipped] coordinates of tensor {@code which} (0: x, 1: W, 2: b). */
    private static int[] check(Case c, int which, float[] gradient, String what) {
        double[][] p = {toDouble(c.x), toDouble(c.w), toDouble(c.b)};
        double[][] abs = new double[3][];
        for (int i = 0; i < 3; i++) {
            abs[i] = p[i] == null ? null : Arrays.stream(p[i]).map(Math::abs).toArray();
        }
        double[] scaleY = forward(c.g, abs[0], abs[1], abs[2]);
        double scale = 1;
        for (int i = 0; i < scaleY.length; i++) {
            scale += Math.abs(c.dy[i]) * scaleY[i];
        }
        double threshold = 1e-11 * scale, l0 = loss(c, p);
        double[] t = p[which];
        int checked = 0, skipped = 0;
        for (int j = 0; j < t.length; j++) {
            double saved = t[j];
            t[j] = saved + H;
            double plus = loss(c, p);
            t[j] = saved - H;
            double minus = loss(c, p);
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
    void everyLayerOfTheFamilyMatchesCentralFiniteDifferences() {
        SplittableRandom r = new SplittableRandom(1513);
        int checked = 0, skipped = 0, cases = 150;
        boolean[] seen = new boolean[7]; // rank 3, transposed, transposed rank 3, output_padding, explicit, groups, channels_first
        for (int i = 0; i < cases; i++) {
            Case c = randomCase(r);
            Gradients g = ReferenceGradients.compute(c.g, c.x, c.w, c.b, c.dy);
            for (int which = 0; which < 3; which++) {
                if (which == 2 && c.b == null) {
                    continue;
                }
                float[] grad = which == 0 ? g.input() : which == 1 ? g.kernel() : g.bias();
                int[] res = check(c, which, grad, new String[] {"dx", "dW", "db"}[which]);
                checked += res[0];
                skipped += res[1];
            }
            ConvConfig cf = c.g.config();
            seen[0] |= cf.rank() == 3;
            seen[1] |= c.g.transposed();
            seen[2] |= c.g.transposed() && cf.rank() == 3;
            seen[3] |= c.g.transposed() && cf.outputPadding() != null;
            seen[4] |= cf.explicitPadding() != null;
            seen[5] |= cf.groups() > 1;
            seen[6] |= cf.dataFormat() == DataFormat.CHANNELS_FIRST;
        }
        for (int i = 0; i < seen.length; i++) {
            assertTrue(seen[i], "parameter family " + i + " never drawn");
        }
        assertTrue(checked > 5_000, checked + " coordinates checked");
        assertTrue(skipped < checked / 100, skipped + " coordinates at a relu kink of " + checked);
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link SeparableConv#backward} on every backend against central finite differences of the two steps'
 * forward in double ({@link FamilyGradientsTest#forward}, written independently of the library): L = Σ dy ·
 * pointwise(depthwise(x)) is linear in each tensor, so the difference is exact up to double rounding. The
 * float results may differ from it by the rounding of two chained float sums: bounded by 3e-5 of the
 * gradient's magnitude (the same gradient of |x|, |W|, |dy|, which bounds every partial sum), far above the
 * two fan-ins here (under 100 terms each, 2⁻²⁴ per term) and far below any chaining mistake.
 */
class SeparableBackwardTest {
    private static final double H = 1.0 / 1024;

    private static List<Backend> backends() {
        return Conv4j.nativeAvailable() ? List.of(Backend.JAVA, Backend.NATIVE) : List.of(Backend.JAVA);
    }

    private static double[] d(float[] a) {
        if (a == null) {
            return null;
        }
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i];
        }
        return r;
    }

    /** Σ dy · pointwise(depthwise(x)) in double; p = {x, depthwise kernel, pointwise kernel, bias}. */
    private static double loss(ConvGeometry dg, ConvGeometry pg, double[][] p, double[] dy) {
        double[] y = FamilyGradientsTest.forward(pg, FamilyGradientsTest.forward(dg, p[0], p[1], null), p[2], p[3]);
        double sum = 0;
        for (int i = 0; i < y.length; i++) {
            sum += dy[i] * y[i];
        }
        return sum;
    }

    private static double[] fd(ConvGeometry dg, ConvGeometry pg, double[][] p, double[] dy, int which) {
        double[] t = p[which], g = new double[t.length];
        for (int j = 0; j < t.length; j++) {
            double saved = t[j];
            t[j] = saved + H;
            double plus = loss(dg, pg, p, dy);
            t[j] = saved - H;
            double minus = loss(dg, pg, p, dy);
            t[j] = saved;
            g[j] = (plus - minus) / (2 * H);
        }
        return g;
    }

    private static double[] abs(double[] a) {
        return a == null ? null : Arrays.stream(a).map(Math::abs).toArray();
    }

    @Test
    void gradientsMatchFiniteDifferencesOfTheChainOnEveryBackend() {
        int checked = 0;
        for (Backend backend : backends()) {
            SplittableRandom r = new SplittableRandom(99);
            for (int i = 0; i < 40; i++) {
                int rank = 1 + r.nextInt(2), cin = 1 + r.nextInt(3), mult = 1 + r.nextInt(2), filters = 1 + r.nextInt(3);
                boolean strided = r.nextBoolean();
                int[] k = new int[rank], s = new int[rank], dil = new int[rank];
                for (int a = 0; a < rank; a++) {
                    k[a] = 1 + r.nextInt(3);
                    s[a] = strided ? 1 + r.nextInt(2) : 1;
                    dil[a] = !strided && r.nextBoolean() ? 2 : 1;
                }
                DataFormat format = r.nextBoolean() ? DataFormat.CHANNELS_LAST : DataFormat.CHANNELS_FIRST;
                boolean bias = r.nextBoolean();
                SeparableConv.Builder<?> b = rank == 1 ? SeparableConv1D.builder() : SeparableConv2D.builder();
                b.filters(filters).inputChannels(cin).depthMultiplier(mult).kernelSize(k).strides(s).dilationRate(dil)
                        .padding(r.nextBoolean() ? Padding.SAME : Padding.VALID).useBias(bias).dataFormat(format)
                        .backend(backend);
                int[] shape = new int[rank + 2];
                boolean last = format == DataFormat.CHANNELS_LAST;
                shape[0] = 1 + r.nextInt(2);
                shape[last ? rank + 1 : 1] = cin;
                for (int a = 0; a < rank; a++) {
                    shape[(last ? 1 : 2) + a] = 5 + r.nextInt(3);
                }
                SeparableConv layer = rank == 1 ? ((SeparableConv1D.Builder) b).build() : ((SeparableConv2D.Builder) b).build();
                try (layer) {
                    ConvGeometry dg = ConvGeometry.of(layer.depthwiseConfig(), shape);
                    ConvGeometry pg = ConvGeometry.of(layer.pointwise().config(), dg.outputShape());
                    float[] x = RandomCase.values(r, dg.inputCount()), dk = RandomCase.values(r, dg.kernelCount()),
                            pk = RandomCase.values(r, pg.kernelCount()),
                            bv = bias ? RandomCase.values(r, filters) : null,
                            dy = RandomCase.values(r, pg.outputCount());
                    layer.setWeights(dk, pk, bv);
                    SeparableConv.SeparableGradients got = layer.backward(x, dy, shape);
                    double[][] p = {d(x), d(dk), d(pk), d(bv)};
                    double[][] m = {abs(p[0]), abs(p[1]), abs(p[2]), abs(p[3])};
                    float[][] actual = {got.input(), got.depthwiseKernel(), got.pointwiseKernel(), got.bias()};
                    if (!bias) {
                        assertNull(got.bias());
                    }
                    for (int which = 0; which < (bias ? 4 : 3); which++) {
                        double[] exact = fd(dg, pg, p, d(dy), which);
                        double[] mag = fd(dg, pg, m, abs(d(dy)), which);
                        for (int j = 0; j < exact.length; j++) {
                            double bound = 3e-5 * mag[j] + 1e-30;
                            if (!(Math.abs(actual[which][j] - exact[j]) <= bound)) {
                                fail(backend + " " + new String[] {"dx", "dW depthwise", "dW pointwise", "db"}[which]
                                        + " element " + j + " is " + actual[which][j] + ", finite differences give "
                                        + exact[j] + " (bound " + bound + ") for " + layer + " on "
                                        + Arrays.toString(shape));
                            }
                            checked++;
                        }
                    }
                }
            }
        }
        assertTrue(checked > 2_000, checked + " coordinates checked");
    }

    @Test
    void pointerVariantGivesTheArrayVariantsBits() {
        for (Backend backend : backends()) {
            SplittableRandom r = new SplittableRandom(98);
            try (SeparableConv2D layer = SeparableConv2D.builder().filters(3).inputChannels(2).depthMultiplier(2)
                    .kernelSize(3, 3).strides(2, 1).padding(Padding.SAME).activation(Activation.RELU).backend(backend)
                    .build()) {
                int[] shape = {2, 6, 5, 2};
                ConvGeometry dg = ConvGeometry.of(layer.depthwiseConfig(), shape);
                int out = 1;
                for (int d : layer.outputShape(shape)) {
                    out *= d;
                }
                float[] x = RandomCase.values(r, dg.inputCount()), dy = RandomCase.values(r, out);
                layer.setWeights(RandomCase.values(r, dg.kernelCount()), RandomCase.values(r, 4 * 3),
                        RandomCase.values(r, 3));
                SeparableConv.SeparableGradients expected = layer.backward(x, dy, shape);
                try (org.bytedeco.javacpp.FloatPointer xp = new org.bytedeco.javacpp.FloatPointer(x);
                     org.bytedeco.javacpp.FloatPointer dyp = new org.bytedeco.javacpp.FloatPointer(dy);
                     org.bytedeco.javacpp.FloatPointer dx = new org.bytedeco.javacpp.FloatPointer(x.length);
                     org.bytedeco.javacpp.FloatPointer ddw = new org.bytedeco.javacpp.FloatPointer(dg.kernelCount());
                     org.bytedeco.javacpp.FloatPointer dpw = new org.bytedeco.javacpp.FloatPointer(12);
                     org.bytedeco.javacpp.FloatPointer db = new org.bytedeco.javacpp.FloatPointer(3)) {
                    layer.backward(xp, shape, dyp, dx, ddw, dpw, db);
                    float[][] got = {new float[x.length], new float[dg.kernelCount()], new float[12], new float[3]};
                    dx.get(got[0]);
                    ddw.get(got[1]);
                    dpw.get(got[2]);
                    db.get(got[3]);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(expected.input(), got[0], backend + " dx");
                    org.junit.jupiter.api.Assertions.assertArrayEquals(expected.depthwiseKernel(), got[1], backend + " ddw");
                    org.junit.jupiter.api.Assertions.assertArrayEquals(expected.pointwiseKernel(), got[2], backend + " dpw");
                    org.junit.jupiter.api.Assertions.assertArrayEquals(expected.bias(), got[3], backend + " db");
                }
            }
        }
    }
}

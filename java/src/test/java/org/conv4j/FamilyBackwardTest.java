package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * {@code backward} of Conv3D, the transposed layers, explicit pads and SeparableConv1D/2D on every
 * backend against {@link ReferenceGradients} (itself checked by finite differences in
 * {@link FamilyGradientsTest}) within the bound of README "Training".
 */
class FamilyBackwardTest {
    private static List<Backend> backends() {
        return Conv4j.nativeAvailable() ? List.of(Backend.JAVA, Backend.NATIVE) : List.of(Backend.JAVA);
    }

    static ConvLayer layer(ConvConfig c, Backend backend, int threads) {
        int r = c.rank();
        if (c.kind() == ConvConfig.Kind.TRANSPOSE) {
            return r == 1 ? new Conv1DTranspose(c, backend, threads) : r == 2 ? new Conv2DTranspose(c, backend, threads)
                    : new Conv3DTranspose(c, backend, threads);
        }
        return r == 1 ? new Conv1D(c, backend, threads) : r == 2 ? new Conv2D(c, backend, threads)
                : new Conv3D(c, backend, threads);
    }

    @Test
    void everyFamilyLayerMatchesTheReferenceOnEveryBackend() {
        for (Backend backend : backends()) {
            SplittableRandom r = new SplittableRandom(77);
            int transposed = 0, rank3 = 0;
            for (int i = 0; i < 120; i++) {
                FamilyGradientsTest.Case c = FamilyGradientsTest.randomCase(r);
                ConvGeometry g = c.g();
                try (ConvLayer layer = layer(g.config(), backend, i % 3)) {
                    layer.setWeights(c.w(), c.b());
                    float[] y = layer.predict(c.x(), g.inputShape());
                    Gradients expected = ReferenceGradients.compute(g, c.x(), c.w(), c.b(), y, c.dy());
                    Gradients actual = layer.backward(c.x(), c.dy(), g.inputShape());
                    Tolerance.assertGradientsWithinBound(g, c.x(), c.w(), y, c.dy(), expected, actual,
                            backend + " case " + i + " " + c);
                }
                transposed += g.transposed() ? 1 : 0;
                rank3 += g.rank() == 3 ? 1 : 0;
            }
            assertTrue(transposed > 20 && rank3 > 20, transposed + " transposed, " + rank3 + " rank-3 cases");
        }
    }

    @Test
    void pointerVariantGivesTheArrayVariantsBitsForTransposedAndRank3() {
        for (Backend backend : backends()) {
            SplittableRandom r = new SplittableRandom(78);
            for (int i = 0; i < 30; i++) {
                FamilyGradientsTest.Case c = FamilyGradientsTest.randomCase(r);
                ConvGeometry g = c.g();
                try (ConvLayer layer = layer(g.config(), backend, 1)) {
                    layer.setWeights(c.w(), c.b());
                    Gradients expected = layer.backward(c.x(), c.dy(), g.inputShape());
                    try (FloatPointer x = new FloatPointer(c.x()); FloatPointer dy = new FloatPointer(c.dy());
                         FloatPointer dx = new FloatPointer(g.inputCount());
                         FloatPointer dw = new FloatPointer(g.kernelCount());
                         FloatPointer db = new FloatPointer(Math.max(1, g.outChannels()))) {
                        layer.backward(x, g.inputShape(), dy, dx, dw, c.b() == null ? null : db);
                        float[] got = new float[g.inputCount()];
                        dx.get(got);
                        assertArrayEquals(expected.input(), got, backend + " dx " + c);
                        float[] gotW = new float[g.kernelCount()];
                        dw.get(gotW);
                        assertArrayEquals(expected.kernel(), gotW, backend + " dW " + c);
                        if (c.b() != null) {
                            float[] gotB = new float[g.outChannels()];
                            db.get(gotB);
                            assertArrayEquals(expected.bias(), gotB, backend + " db " + c);
                        }
                    }
                }
            }
        }
    }
}

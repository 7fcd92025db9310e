package org.conv4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.conv4j.ConvGeometry;
import org.conv4j.Padding;
import org.conv4j.ReferenceConvolution;
import org.junit.jupiter.api.Test;

/**
 * The peers compute the same convolution as conv4j: the hand-written ONNX model in ONNX Runtime
 * and the oneDNN primitive (with its reordered weights) both match the Java reference on small
 * shapes covering every feature of bench-shapes.csv (1-D and 2-D, same and valid padding with an
 * odd pad, stride, dilation, groups, depthwise, batch, bias). A benchmark of a wrong computation
 * would compare nothing.
 */
class PeerCorrectnessTest {
    static final List<Shape> SHAPES = List.of(
            //        name            dims n  h   w  cin cout kh kw sh sw dh dw groups padding
            new Shape("same3x3", 2, 1, 9, 7, 5, 6, 3, 3, 1, 1, 1, 1, 1, Padding.SAME),
            new Shape("first7x7s2", 2, 1, 17, 16, 3, 8, 7, 7, 2, 2, 1, 1, 1, Padding.SAME),
            new Shape("pointwise", 2, 1, 6, 5, 8, 12, 1, 1, 1, 1, 1, 1, 1, Padding.VALID),
            new Shape("depthwise", 2, 1, 10, 9, 8, 8, 3, 3, 1, 1, 1, 1, 8, Padding.SAME),
            new Shape("grouped", 2, 2, 7, 8, 6, 4, 3, 2, 1, 1, 1, 1, 2, Padding.VALID),
            new Shape("dilated2d", 2, 1, 11, 10, 4, 5, 3, 3, 1, 1, 2, 2, 1, Padding.SAME),
            new Shape("seq1d", 1, 1, 1, 40, 6, 7, 1, 3, 1, 1, 1, 1, 1, Padding.SAME),
            new Shape("wavenet1d", 1, 2, 1, 50, 4, 4, 1, 2, 1, 1, 1, 8, 1, Padding.VALID),
            new Shape("causal1d", 1, 1, 1, 30, 3, 5, 1, 4, 1, 1, 1, 2, 1, Padding.CAUSAL),
            new Shape("stride1d", 1, 1, 1, 31, 3, 5, 1, 3, 1, 2, 1, 1, 1, Padding.SAME));

    @Test
    void onnxRuntimeMatchesTheReference() throws Exception {
        for (Shape s : SHAPES) {
            try (OnnxConv ort = new OnnxConv(s, 1, s.kernel(), s.bias(), s.input())) {
                ort.run();
                ConvGeometry g = s.geometry();
                assertClose(s, reference(s), ort.outputNhwc(s.n(), g.outHeight(), g.outWidth(), s.cout()));
            }
        }
    }

    @Test
    void oneDnnMatchesTheReference() {
        for (Shape s : SHAPES) {
            try (OneDnnConv dnn = new OneDnnConv(s, s.kernel(), s.bias(), s.input())) {
                dnn.run();
                assertTrue(!dnn.implementation().isEmpty(), s.name() + ": no implementation name");
                assertClose(s, reference(s), dnn.output());
            }
        }
    }

    private static float[] reference(Shape s) {
        return ReferenceConvolution.compute(s.geometry(), s.input(), s.kernel(), s.bias());
    }

    /**
     * Float sums of fanIn products in any order differ from the double-accumulated reference by
     * at most about fanIn·2⁻²⁴·Σ|x·w|; inputs are in [-1, 1] and weights in ±1/√fanIn, so
     * Σ|x·w| ≤ √fanIn. Twice that bound, plus the bias's rounding.
     */
    private static void assertClose(Shape s, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, s.name() + ": output length");
        int fanIn = s.kh() * s.kw() * (s.cin() / s.groups());
        double tolerance = 2 * fanIn * Math.ulp(1.0f) / 2 * Math.sqrt(fanIn) + 1e-6;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            if (!(err <= tolerance)) {
                throw new AssertionError(s.name() + ": output " + i + " is " + actual[i] + ", reference "
                        + expected[i] + " (tolerance " + tolerance + ")");
            }
        }
    }
}

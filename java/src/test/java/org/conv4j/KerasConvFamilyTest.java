package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import org.conv4j.KerasFixtures.Fixture;
import org.conv4j.KerasFixtures.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Conv3D, the transposed, depthwise (multiplier) and separable layers and explicit padding
 * against Keras 3.15.1 (TensorFlow backend) run in float64 on the same float32 inputs and
 * weights: the reference, the Java backend and the native backend each within the direct-sum
 * bound of {@link Tolerance} of Keras' float64 output, rounded to float. Keras' refusals must be
 * refused too.
 */
class KerasConvFamilyTest {
    static final List<Fixture> FIXTURES = KerasFixtures.all();

    static Stream<Fixture> cases() {
        return FIXTURES.stream().filter(f -> !f.refusal());
    }

    /** Single-kernel layers (a separable layer's two references are checked through the Java backend). */
    static Stream<Fixture> singleKernelCases() {
        return cases().filter(f -> !f.layer().equals("separable"));
    }

    static Stream<Fixture> refusals() {
        return FIXTURES.stream().filter(Fixture::refusal);
    }

    @Test
    void everyFamilyAndParameterIsCovered() {
        for (String layer : new String[] {"conv", "conv_transpose", "depthwise", "separable"}) {
            assertTrue(cases().anyMatch(f -> f.layer().equals(layer)), layer);
            assertTrue(refusals().anyMatch(f -> f.layer().equals(layer)), layer + " refusal");
        }
        assertTrue(cases().anyMatch(f -> f.layer().equals("conv") && f.rank() == 3), "conv3d");
        for (int r = 1; r <= 3; r++) {
            int rank = r;
            assertTrue(cases().anyMatch(f -> f.layer().equals("conv_transpose") && f.rank() == rank), "transpose " + r);
        }
        assertTrue(cases().anyMatch(f -> f.config().getOrDefault("output_padding", "none").matches(".*[1-9].*")));
        assertTrue(cases().anyMatch(f -> f.config().getOrDefault("depth_multiplier", "1").matches("[2-9]")));
        assertTrue(cases().anyMatch(f -> "explicit".equals(f.config().get("padding"))));
        assertTrue(cases().anyMatch(f -> "channels_first".equals(f.config().get("data_format"))));
        // Keras' depthwise and separable layers take strides and dilation together (its Conv layers refuse).
        for (String layer : new String[] {"depthwise", "separable"}) {
            assertTrue(cases().anyMatch(f -> f.layer().equals(layer)
                    && f.config().getOrDefault("strides", "1").matches(".*[2-9].*")
                    && f.config().getOrDefault("dilation_rate", "1").matches(".*[2-9].*")), layer);
        }
        assertTrue(cases().count() >= 40, "cases: " + cases().count());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void javaBackendMatchesKeras(Fixture f) throws Exception {
        check(f, Backend.JAVA);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void nativeBackendMatchesKerasOrRefusesWithATypedException(Fixture f) throws Exception {
        assumeTrue(Conv4j.nativeAvailable(), "native library not loaded: " + Conv4j.nativeLoadError());
        if (nativeHasThePass(f)) {
            check(f, Backend.NATIVE);
            return;
        }
        // The loaded library lacks the rank-3 or backward-data pass: a typed refusal before any plan.
        assertTrue(f.rank() == 3 || f.layer().equals("conv_transpose"), f + ": refused by the library");
        NativeUnsupportedException e = assertThrows(NativeUnsupportedException.class, () -> check(f, Backend.NATIVE));
        assertTrue(e.getMessage().contains("Backend.JAVA"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("singleKernelCases")
    void referenceMatchesKeras(Fixture f) throws Exception {
        try (ConvLayer layer = (ConvLayer) KerasFixtures.build(f, Backend.JAVA)) {
            Tensor x = f.tensors().get("input");
            ConvGeometry g = layer.geometry(x.shape());
            float[] kernel = f.tensors().get("kernel").floats();
            float[] bias = bias(f);
            float[] actual = ReferenceConvolution.compute(g, x.floats(), kernel, bias);
            Tolerance.assertWithinBound(g, x.floats(), kernel, bias, f.tensors().get("out64").floats(), actual,
                    f + " reference");
        }
    }

    /** Keras' count_params, through a one-layer Sequential (which must take every new layer). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void sequentialCountsKerasParameters(Fixture f) throws Exception {
        AutoCloseable layer = KerasFixtures.build(f, Backend.JAVA);
        setWeights(layer, f);
        int[] shape = f.tensors().get("input").shape();
        Sequential.Builder b = Sequential.builder().input(java.util.Arrays.copyOfRange(shape, 1, shape.length));
        if (layer instanceof SeparableConv s) {
            b.add(s);
        } else {
            b.add((ConvLayer) layer);
        }
        try (Sequential model = b.build()) {
            assertEquals(f.params(), model.countParams(), f.toString());
            assertTrue(model.summary().contains(Long.toString(f.params())), model.summary());
            float[] y = model.predict(f.tensors().get("input").floats(), shape);
            assertArrayEquals(f.tensors().get("out64").shape(), model.outputShape(shape), f.toString());
            assertEquals(f.tensors().get("out64").values().length, y.length);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void kerasRefusalsAreRefused(Fixture f) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            try (AutoCloseable layer = KerasFixtures.build(f, Backend.JAVA)) {
                setRandomWeights(layer, f);
                int n = 1;
                for (int d : f.inputShape()) {
                    n *= d;
                }
                predict(layer, new float[n], f.inputShape());
            }
        }, f + " (Keras: " + f.message() + ")");
        String keras = f.message().toLowerCase(Locale.ROOT);
        String expected = keras.contains("causal") ? "causal"
                : keras.contains("output_padding") ? "output_padding must be strictly less than strides"
                : keras.contains("dilation_rate > 1") ? "dilation_rate"
                : keras.contains("zero or negative") ? "< 1"
                : keras.contains("doesn't match computed") ? "TensorFlow refuses" : "?";
        assertTrue(e.getMessage().contains(expected), f + ": '" + e.getMessage() + "' should say '" + expected
                + "' as Keras: " + f.message());
    }

    /** Whether the loaded library validates the fixture's descriptor (rank 3, backward data). */
    private static boolean nativeHasThePass(Fixture f) throws Exception {
        if (f.layer().equals("separable")) {
            return true;
        }
        try (ConvLayer layer = (ConvLayer) KerasFixtures.build(f, Backend.JAVA);
             org.conv4j.internal.Conv4jNative.ConvDesc d = NativePlan.describe(
                     new org.conv4j.internal.Conv4jNative.ConvDesc(), layer.geometry(f.tensors().get("input").shape()))) {
            return org.conv4j.internal.Conv4jNative.conv4j_output_size(d, null) == 0;
        }
    }

    private static void check(Fixture f, Backend backend) throws Exception {
        Tensor x = f.tensors().get("input");
        Tensor out64 = f.tensors().get("out64");
        try (AutoCloseable layer = KerasFixtures.build(f, backend)) {
            setWeights(layer, f);
            float[] actual = predict(layer, x.floats(), x.shape());
            float[] expected = out64.floats();
            String what = f + " " + backend.cliName();
            if (layer instanceof SeparableConv s) {
                assertArrayEquals(out64.shape(), s.outputShape(x.shape()), what);
                ConvGeometry gd = s.depthwise().geometry(x.shape());
                ConvGeometry gp = s.pointwise().geometry(gd.outputShape());
                float[] mid = ReferenceConvolution.compute(gd, Tolerance.abs(x.floats()), Tolerance.abs(f.tensors().get("kernel").floats()),
                        null);
                float[] magnitude = ReferenceConvolution.compute(gp, mid, Tolerance.abs(f.tensors().get("pointwise").floats()),
                        bias(f) == null ? null : Tolerance.abs(bias(f)));
                Tolerance.assertWithinMagnitude(gd.fanIn() + gp.fanIn() + 2.0, magnitude, gp, expected, actual, what);
            } else {
                ConvLayer l = (ConvLayer) layer;
                assertArrayEquals(out64.shape(), l.outputShape(x.shape()), what);
                Tolerance.assertWithinBound(l.geometry(x.shape()), x.floats(), f.tensors().get("kernel").floats(),
                        bias(f), expected, actual, what);
            }
        }
    }

    static float[] predict(AutoCloseable layer, float[] x, int[] shape) {
        return layer instanceof SeparableConv s ? s.predict(x, shape) : ((ConvLayer) layer).predict(x, shape);
    }

    static float[] bias(Fixture f) {
        Tensor b = f.tensors().get("bias");
        return b == null ? null : b.floats();
    }

    static void setWeights(AutoCloseable layer, Fixture f) {
        float[] kernel = f.tensors().get("kernel").floats();
        if (layer instanceof SeparableConv s) {
            s.setWeights(kernel, f.tensors().get("pointwise").floats(), bias(f));
        } else {
            ((ConvLayer) layer).setWeights(kernel, f.tensors().get("kernel").shape(), bias(f));
        }
    }

    /** Weights of the sizes the refused configuration would take, so that only the refusal can fail. */
    private static void setRandomWeights(AutoCloseable layer, Fixture f) {
        Random random = new Random(13);
        if (layer instanceof SeparableConv s) {
            ConvConfig d = s.depthwiseConfig();
            s.setWeights(random(random, (int) (d.kernelVolume() * d.filters())), random(random, d.filters() * s.filters()),
                    random(random, s.filters()));
            return;
        }
        ConvLayer l = (ConvLayer) layer;
        ConvConfig c = l.config();
        boolean first = c.dataFormat() == DataFormat.CHANNELS_FIRST;
        int cin = first ? f.inputShape()[1] : f.inputShape()[f.rank() + 1];
        int perIn = c.kind() == ConvConfig.Kind.DEPTHWISE ? 1 : cin / c.groups();
        l.setWeights(random(random, (int) (c.kernelVolume() * perIn * c.filters())),
                c.useBias() ? random(random, c.filters()) : null);
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}

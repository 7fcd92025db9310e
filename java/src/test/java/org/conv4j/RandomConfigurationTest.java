package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.EnumSet;
import java.util.Set;
import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.internal.Conv4jNative;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Native against the pure-Java reference on random configurations (both ranks and layouts, every
 * padding, strides, dilation, groups and depthwise, bias, relu, N > 1, odd sizes, kernel equal to
 * the input, 1×1, length-1 outputs), with each algorithm forced in turn. The seed is fixed by
 * default so failures reproduce; -Dconv4j.test.seed=N explores others.
 */
class RandomConfigurationTest {
    static final long SEED = Long.getLong("conv4j.test.seed", 20261126L);
    static final int CASES = Integer.getInteger("conv4j.test.cases", 600);

    /**
     * Native plans run on the requested thread count even below the small-call cutoff (2^17 multiply-adds),
     * so threads 0 and 2 reach the threaded code on these small shapes.
     */
    @BeforeAll
    static void fullTeam() {
        NativePlan.extraFlags = Conv4jNative.FLAG_FULL_TEAM;
        JavaConvolution.fullTeam = true;
    }

    @AfterAll
    static void normalTeam() {
        NativePlan.extraFlags = 0;
        JavaConvolution.fullTeam = false;
    }

    /**
     * Every algorithm forced in turn. A specialized one may refuse a case (IllegalArgumentException saying
     * so), but must accept at least a twentieth of them: each family in RandomCase is an eighth.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Algorithm.class)
    void nativeMatchesReference(Algorithm algorithm) {
        Set<Padding> paddings = EnumSet.noneOf(Padding.class);
        int depthwise = 0;
        int accepted = 0;
        int explicit = 0;
        for (int i = 0; i < CASES; i++) {
            RandomCase c = new RandomCase(SEED, i);
            paddings.add(c.padding);
            explicit += c.explicit != null ? 1 : 0;
            if (c.groups > 1 && c.groups == c.inputChannels()) {
                depthwise++;
            }
            try (ConvLayer layer = c.layer(Backend.NATIVE, algorithm)) {
                layer.setThreads(i % 3); // all cores, caller only, two
                float[] actual = ForcedAlgorithm.predictOrRefusal(layer, algorithm, c.input, c.inputShape);
                if (actual == null) {
                    continue;
                }
                accepted++;
                ConvGeometry g = c.geometry();
                float[] expected = ReferenceConvolution.compute(g, c.input, c.kernel, c.bias);
                String chosen = layer.algorithm(c.inputShape);
                Tolerance.assertWithinBoundOf(chosen, g, c.input, c.kernel, c.bias, expected, actual,
                        "case " + i + " " + c + " via " + chosen);
                if (!chosen.equals("winograd")) {
                    Tolerance.assertZeroWindowsExact(g, c.input, c.kernel, c.bias, actual, "case " + i + " " + c
                            + " via " + chosen);
                }
            }
        }
        assertTrue(paddings.containsAll(EnumSet.allOf(Padding.class)), "every padding covered: " + paddings);
        assertTrue(explicit > CASES / 20, "explicit-pad cases: " + explicit);
        assertTrue(depthwise > CASES / 20, "depthwise cases: " + depthwise);
        int minimum = ForcedAlgorithm.ACCEPTS_EVERYTHING.contains(algorithm) ? CASES : CASES / 20;
        assertTrue(accepted >= minimum, algorithm + " accepted " + accepted + " of " + CASES + " cases, expected >= "
                + minimum);
    }

    /**
     * The Java backend (blocked, float accumulation; see JavaConvolutionTest for each micro-kernel)
     * matches the reference within the float bound through the layer API.
     */
    @Test
    void javaBackendMatchesTheReference() {
        javaBackendMatchesTheReference(SEED + 1, CASES);
    }

    /** Java layers at threads 0, 1, 2 in turn against the reference on random cases of a seed. */
    static void javaBackendMatchesTheReference(long seed, int cases) {
        for (int i = 0; i < cases; i++) {
            RandomCase c = new RandomCase(seed, i);
            ConvGeometry g = c.geometry();
            try (ConvLayer layer = c.layer(Backend.JAVA, Algorithm.AUTO)) {
                layer.setThreads(i % 3);
                float[] actual = layer.predict(c.input, c.inputShape);
                Tolerance.assertWithinBound(g, c.input, c.kernel, c.bias,
                        ReferenceConvolution.compute(g, c.input, c.kernel, c.bias), actual, "case " + i + " " + c);
                Tolerance.assertZeroWindowsExact(g, c.input, c.kernel, c.bias, actual, "case " + i + " " + c);
            }
        }
    }

    /** float[], direct FloatBuffer (at an offset), heap FloatBuffer and FloatPointer give the same bits. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Backend.class)
    void everyBufferKindGivesTheSameResult(Backend backend) {
        for (int i = 0; i < 60; i++) {
            RandomCase c = new RandomCase(SEED + 2, i);
            try (ConvLayer layer = c.layer(backend, Algorithm.AUTO)) {
                float[] expected = layer.predict(c.input, c.inputShape);
                int pad = 3;

                FloatBuffer in = ByteBuffer.allocateDirect((c.input.length + pad) * 4)
                        .order(ByteOrder.nativeOrder()).asFloatBuffer();
                in.position(pad);
                in.put(c.input);
                in.position(pad);
                FloatBuffer out = ByteBuffer.allocateDirect((expected.length + pad) * 4)
                        .order(ByteOrder.nativeOrder()).asFloatBuffer();
                out.position(pad);
                layer.predict(in, c.inputShape, out);
                assertArrayEquals(expected, slice(out, pad, expected.length), "direct buffer " + c);
                assertTrue(in.position() == pad && out.position() == pad, "positions unchanged");

                FloatBuffer heapIn = FloatBuffer.wrap(c.input);
                FloatBuffer heapOut = FloatBuffer.allocate(expected.length);
                layer.predict(heapIn, c.inputShape, heapOut);
                assertArrayEquals(expected, slice(heapOut, 0, expected.length), "heap buffer " + c);

                try (FloatPointer pin = new FloatPointer(c.input.length);
                     FloatPointer pout = new FloatPointer(expected.length)) {
                    pin.put(c.input);
                    layer.predict(pin, c.inputShape, pout);
                    float[] got = new float[expected.length];
                    pout.get(got);
                    assertArrayEquals(expected, got, "FloatPointer " + c);
                }

                float[] into = new float[expected.length];
                layer.predict(c.input, c.inputShape, into);
                assertArrayEquals(expected, into, "float[] into " + c);
            }
        }
    }

    private static float[] slice(FloatBuffer b, int from, int n) {
        float[] r = new float[n];
        b.get(from, r);
        return r;
    }
}

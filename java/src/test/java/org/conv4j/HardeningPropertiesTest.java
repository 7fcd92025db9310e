package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.conv4j.internal.Conv4jNative;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Property-based tests over the public layer API, on seeded random cases (plain JUnit: the seed is
 * fixed, -Dconv4j.test.seed=N explores others, and every failure names the seed and the whole case).
 *
 * <p>Valid configurations ({@link RandomCase}: both ranks and layouts, every padding, strides or
 * dilation, groups, bias, relu, edge shapes; plus any algorithm code and 0-2 OpenMP threads): the
 * native result is within the rounding bound of the Java reference ({@link Tolerance}); a forced
 * algorithm may instead refuse the problem with its documented IllegalArgumentException, and the
 * refusals are counted. The Java backend is held to the same bound.
 *
 * <p>Invalid configurations (one fault injected into a valid one, every kind of fault in turn): an
 * {@link IllegalArgumentException} naming the parameter, thrown before any native call. The
 * proof of "before": the stack trace holds no frame of the native binding or of
 * {@code NativePlan}, and a Java-backend layer, which has no native code at all, throws the
 * same message.
 */
class HardeningPropertiesTest {
    private static final long SEED = RandomConfigurationTest.SEED;
    private static final int TRIES = 400;
    private static final Map<Algorithm, AtomicInteger> RAN = new EnumMap<>(Algorithm.class);
    private static final Map<Algorithm, AtomicInteger> REFUSED = new EnumMap<>(Algorithm.class);
    private static final Map<Fault, AtomicInteger> INVALID = new EnumMap<>(Fault.class);

    static {
        for (Algorithm a : Algorithm.values()) {
            RAN.put(a, new AtomicInteger());
            REFUSED.put(a, new AtomicInteger());
        }
        for (Fault f : Fault.values()) {
            INVALID.put(f, new AtomicInteger());
        }
    }

    @BeforeAll
    static void fullTeam() {
        NativePlan.extraFlags = Conv4jNative.FLAG_FULL_TEAM;
        JavaConvolution.fullTeam = true; // threads 0 and 2 really run a team
    }

    /**
     * Minimum share of the valid cases drawn for an algorithm that it must run rather than refuse (today:
     * GEMM 62 of 62, Winograd 9 of 65, depthwise 15 of 84): a kernel that refused every shape would
     * otherwise pass vacuously.
     */
    private static final Map<Algorithm, Integer> MIN_SHARE_DIVISOR = Map.of(Algorithm.DIRECT, 1, Algorithm.GEMM, 2,
            Algorithm.WINOGRAD, 20, Algorithm.DEPTHWISE, 20);

    @AfterAll
    static void report() {
        NativePlan.extraFlags = 0;
        JavaConvolution.fullTeam = false;
        int invalid = INVALID.values().stream().mapToInt(AtomicInteger::get).sum();
        long kinds = INVALID.values().stream().filter(n -> n.get() > 0).count();
        System.out.println("properties: seed " + SEED + "; valid cases run per algorithm " + RAN
                + ", refused by a forced algorithm " + REFUSED + "; invalid cases " + invalid + " over " + kinds
                + " kinds of fault");
        int valid = RAN.values().stream().mapToInt(AtomicInteger::get).sum()
                + REFUSED.values().stream().mapToInt(AtomicInteger::get).sum();
        if (valid < TRIES || !Conv4j.nativeAvailable()) {
            return; // a filtered run (-Dtest=...#one) or no native library: the shares say nothing
        }
        for (Map.Entry<Algorithm, Integer> e : MIN_SHARE_DIVISOR.entrySet()) {
            int ran = RAN.get(e.getKey()).get();
            int drawn = ran + REFUSED.get(e.getKey()).get();
            assertTrue(drawn > 0 && ran * e.getValue() >= drawn, e.getKey() + " ran " + ran + " of the " + drawn
                    + " valid cases drawn for it, expected at least 1/" + e.getValue());
        }
    }

    /** A valid case: {@link RandomCase} {@code index} of {@code caseSeed}, run forced to {@code algorithm}. */
    record Valid(int index, long caseSeed, Algorithm algorithm, int threads) {
        @Override
        public String toString() {
            return "case " + index + " " + algorithm + " threads=" + threads;
        }
    }

    static Stream<Valid> validCases() {
        SplittableRandom r = new SplittableRandom(SEED);
        Algorithm[] algorithms = Algorithm.values();
        return IntStream.range(0, TRIES)
                .mapToObj(i -> new Valid(i, r.nextLong(), algorithms[r.nextInt(algorithms.length)], r.nextInt(3)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validCases")
    void validConfigurationsMatchTheReference(Valid v) {
        RandomCase c = new RandomCase(v.caseSeed(), v.index());
        reproducibly(v + " " + c, () -> {
            ConvGeometry g = c.geometry();
            float[] expected = ReferenceConvolution.compute(g, c.input, c.kernel, c.bias);
            try (ConvLayer java = c.builder().backend(Backend.JAVA).threads(v.threads()).build()) {
                // The Java backend need not be the reference loop itself (an optimized one sums in float).
                java.setWeights(c.kernel, c.bias);
                float[] javaResult = java.predict(c.input, c.inputShape);
                Tolerance.assertWithinBound(g, c.input, c.kernel, c.bias, expected, javaResult, "java backend");
                Tolerance.assertZeroWindowsExact(g, c.input, c.kernel, c.bias, javaResult, "java backend");
            }
            try (ConvLayer layer = c.builder().backend(Backend.NATIVE).algorithm(v.algorithm()).threads(v.threads())
                    .build()) {
                layer.setWeights(c.kernel, c.bias);
                float[] actual;
                try {
                    actual = layer.predict(c.input, c.inputShape);
                } catch (AlgorithmRefusedException e) {
                    // Only a forced algorithm may refuse, and only as itself, with a reason.
                    assertTrue(v.algorithm() != Algorithm.AUTO, "AUTO refused: " + e.getMessage());
                    assertEquals(v.algorithm(), e.algorithm(), e.getMessage());
                    assertTrue(!e.reason().isEmpty() && e.getMessage().contains(e.reason()), e.getMessage());
                    REFUSED.get(v.algorithm()).incrementAndGet();
                    return;
                }
                String chosen = layer.algorithm(c.inputShape);
                Tolerance.assertWithinBoundOf(chosen, g, c.input, c.kernel, c.bias, expected, actual,
                        v.algorithm() + " via " + chosen + " " + g);
                if (!chosen.equals("winograd")) {
                    Tolerance.assertZeroWindowsExact(g, c.input, c.kernel, c.bias, actual, v.algorithm() + " " + g);
                }
                RAN.get(v.algorithm()).incrementAndGet();
            }
        });
    }

    /** One way to break an otherwise valid, small Conv layer call. */
    enum Fault {
        FILTERS, KERNEL_SIZE, STRIDES, DILATION, GROUPS, GROUPS_NOT_DIVIDING_FILTERS, STRIDES_WITH_DILATION,
        CAUSAL_IN_2D, THREADS, INPUT_RANK, INPUT_DIMENSION, INPUT_CHANNELS_NOT_DIVISIBLE, CHANNELS_MISMATCH,
        KERNEL_LENGTH, BIAS_LENGTH, BIAS_WITHOUT_USE_BIAS, INPUT_LENGTH, OUTPUT_LENGTH, EMPTY_OUTPUT,
        ELEMENT_COUNT_OVERFLOW, OUTPUT_COUNT_OVERFLOW, PADDING_OVERFLOW
    }

    record Invalid(int index, Fault fault, int rank, int bad, int big) {
        @Override
        public String toString() {
            return "case " + index + " " + fault + " rank=" + rank + " bad=" + bad + " big=" + big;
        }
    }

    /** Every fault in turn; {@code bad} a small non-positive value or MIN_VALUE, {@code big} at least 2^16. */
    static Stream<Invalid> invalidCases() {
        SplittableRandom r = new SplittableRandom(SEED);
        Fault[] faults = Fault.values();
        return IntStream.range(0, TRIES).mapToObj(i -> new Invalid(i, faults[i % faults.length], 1 + r.nextInt(2),
                r.nextBoolean() ? Integer.MIN_VALUE : -r.nextInt(4),
                r.nextInt(8) == 0 ? Integer.MAX_VALUE : r.nextInt(65_536, Integer.MAX_VALUE)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidCases")
    void invalidConfigurationsThrowBeforeAnyNativeCall(Invalid c) {
        reproducibly(c.toString(), () -> {
            INVALID.get(c.fault()).incrementAndGet();
            String javaMessage = failure(c, Backend.JAVA).getMessage();
            IllegalArgumentException nativeFailure = failure(c, Backend.NATIVE);
            assertEquals(javaMessage, nativeFailure.getMessage(), "same check on both backends");
            for (StackTraceElement frame : nativeFailure.getStackTrace()) {
                assertTrue(!frame.getClassName().startsWith("org.conv4j.internal.")
                        && !frame.getClassName().equals(NativePlan.class.getName()),
                        "thrown from native code " + frame);
            }
            assertTrue(javaMessage.matches(".*(filters|kernel|strides|dilation|groups|padding|threads|input|output"
                    + "|bias|channels|elements|causal).*"), "message names no parameter: " + javaMessage);
        });
    }

    /** Runs one case; any failure is rethrown naming the seed and the whole case, so it reproduces. */
    private static void reproducibly(String testCase, Executable body) {
        try {
            body.execute();
        } catch (Throwable t) {
            throw new AssertionError("seed " + SEED + " (-Dconv4j.test.seed), " + testCase + ": " + t, t);
        }
    }

    /** Builds, sets weights and predicts with the fault injected; returns what was thrown. */
    private static IllegalArgumentException failure(Invalid c, Backend backend) {
        return assertThrows(IllegalArgumentException.class, () -> run(c, backend), backend + " backend");
    }

    private static void run(Invalid c, Backend backend) {
        int rank = c.rank();
        int[] ones = new int[rank];
        Arrays.fill(ones, 1);
        int[] three = new int[rank];
        Arrays.fill(three, 3);
        int[] twos = new int[rank];
        Arrays.fill(twos, 2);
        int[] badAxis = ones.clone();
        badAxis[rank - 1] = c.bad();
        ConvLayer.Builder b = ConvLayer.builder(rank).filters(4).kernelSize(three).groups(2).backend(backend);
        int cin = 2;
        int[] shape = rank == 1 ? new int[] {1, 8, cin} : new int[] {1, 8, 8, cin};
        float[] kernel = new float[(rank == 1 ? 3 : 9) * 1 * 4];
        float[] bias = new float[4];
        int threads = 1;
        switch (c.fault()) {
            case FILTERS -> b.filters(c.bad());
            case KERNEL_SIZE -> b.kernelSize(badAxis);
            case STRIDES -> b.strides(badAxis);
            case DILATION -> b.dilationRate(badAxis);
            case GROUPS -> b.groups(c.bad());
            case GROUPS_NOT_DIVIDING_FILTERS -> b.groups(3);
            case STRIDES_WITH_DILATION -> b.strides(twos).dilationRate(twos);
            case CAUSAL_IN_2D -> {
                b = ConvLayer.builder(2).filters(4).kernelSize(3, 3).groups(2).backend(backend)
                        .padding(Padding.CAUSAL);
            }
            case THREADS -> threads = c.bad() == 0 ? -1 : c.bad();
            case INPUT_RANK -> shape = Arrays.copyOf(shape, shape.length + 1);
            case INPUT_DIMENSION -> shape[1] = c.bad();
            case INPUT_CHANNELS_NOT_DIVISIBLE -> shape[shape.length - 1] = 3;
            case CHANNELS_MISMATCH -> shape[shape.length - 1] = 4;
            case KERNEL_LENGTH -> kernel = new float[kernel.length + 1];
            case BIAS_LENGTH -> bias = new float[3];
            case BIAS_WITHOUT_USE_BIAS -> b.useBias(false);
            case INPUT_LENGTH, OUTPUT_LENGTH -> { } // below
            case EMPTY_OUTPUT -> shape[1] = 2; // valid padding, kernel 3
            case ELEMENT_COUNT_OVERFLOW -> {
                shape[0] = c.big();
                shape[1] = c.big();
            }
            case OUTPUT_COUNT_OVERFLOW -> {
                // The input fits in an int (1.2e9 floats), the output (2.4e9) does not.
                shape = rank == 1 ? new int[] {1, 600_000_000, cin} : new int[] {1, 30_000, 20_000, cin};
            }
            case PADDING_OVERFLOW -> {
                b.padding(Padding.SAME).kernelSize(rank == 1 ? new int[] {Integer.MAX_VALUE}
                        : new int[] {Integer.MAX_VALUE, 1});
                kernel = null; // never reached: the input shape fails first
            }
        }
        try (ConvLayer layer = b.threads(threads).build()) {
            if (kernel == null) {
                layer.outputShape(shape);
                return;
            }
            layer.setWeights(kernel, bias);
            int inputCount = c.fault() == Fault.ELEMENT_COUNT_OVERFLOW || c.fault() == Fault.OUTPUT_COUNT_OVERFLOW
                    || c.fault() == Fault.INPUT_RANK
                    || c.fault() == Fault.INPUT_DIMENSION ? 1 : Arrays.stream(shape).reduce(1, (x, y) -> x * y);
            float[] input = new float[c.fault() == Fault.INPUT_LENGTH ? inputCount - 1 : inputCount];
            if (c.fault() == Fault.OUTPUT_LENGTH) {
                layer.predict(input, shape, new float[layer.geometry(shape).outputCount() + 1]);
            } else {
                layer.predict(input, shape);
            }
        }
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Property-based tests (jqwik) over the public layer API.
 *
 * <p>Valid configurations (both ranks and layouts, every padding, strides or dilation, groups,
 * bias, relu, any algorithm code, 0-2 OpenMP threads): the native result is within the
 * rounding bound of the Java reference ({@link Tolerance}); a forced algorithm may instead
 * refuse the problem with its documented IllegalArgumentException, and the refusals are counted.
 * The Java backend is held to the same bound.
 *
 * <p>Invalid configurations (one fault injected into a valid one): an
 * {@link IllegalArgumentException} naming the parameter, thrown before any native call. The
 * proof of "before": the stack trace holds no frame of the native binding or of
 * {@code NativePlan}, and a Java-backend layer, which has no native code at all, throws the
 * same message.
 */
class HardeningPropertiesTest {
    private static final Map<Algorithm, AtomicInteger> RAN = new EnumMap<>(Algorithm.class);
    private static final Map<Algorithm, AtomicInteger> REFUSED = new EnumMap<>(Algorithm.class);
    private static final AtomicInteger INVALID_CASES = new AtomicInteger();

    static {
        for (Algorithm a : Algorithm.values()) {
            RAN.put(a, new AtomicInteger());
            REFUSED.put(a, new AtomicInteger());
        }
    }

    @AfterContainer
    static void report() {
        System.out.println("properties: valid cases run per algorithm " + RAN + ", refused by a forced algorithm "
                + REFUSED + "; invalid cases " + INVALID_CASES);
    }

    @Property(tries = 400, seed = "20261126")
    void validConfigurationsMatchTheReference(
            @ForAll @IntRange(min = 1, max = 2) int rank,
            @ForAll boolean channelsFirst,
            @ForAll @IntRange(min = 1, max = 4) int groups,
            @ForAll @IntRange(min = 1, max = 4) int inPerGroup,
            @ForAll @IntRange(min = 1, max = 3) int filtersPerGroup,
            @ForAll @Size(2) List<@IntRange(min = 1, max = 5) Integer> kernel,
            @ForAll @Size(2) List<@IntRange(min = 1, max = 3) Integer> strides,
            @ForAll @Size(2) List<@IntRange(min = 1, max = 3) Integer> dilation,
            @ForAll @Size(2) List<@IntRange(min = 0, max = 7) Integer> extra,
            @ForAll Padding padding,
            @ForAll @IntRange(min = 1, max = 2) int batch,
            @ForAll boolean useBias,
            @ForAll Activation activation,
            @ForAll Algorithm algorithm,
            @ForAll @IntRange(min = 0, max = 2) int threads,
            @ForAll long dataSeed) {
        Assume.that(padding != Padding.CAUSAL || rank == 1);
        int[] k = new int[rank];
        int[] s = new int[rank];
        int[] d = new int[rank];
        int[] spatial = new int[rank];
        boolean strided = strides.subList(0, rank).stream().anyMatch(v -> v > 1);
        for (int i = 0; i < rank; i++) {
            k[i] = kernel.get(i);
            s[i] = strides.get(i);
            d[i] = strided ? 1 : dilation.get(i); // Keras refuses strides > 1 with dilation > 1
            int effective = (k[i] - 1) * d[i] + 1;
            spatial[i] = padding == Padding.VALID ? effective + extra.get(i) : 1 + 2 * extra.get(i);
        }
        int cin = groups * inPerGroup;
        int filters = groups * filtersPerGroup;
        int[] shape = new int[rank + 2];
        shape[0] = batch;
        shape[channelsFirst ? 1 : rank + 1] = cin;
        System.arraycopy(spatial, 0, shape, channelsFirst ? 2 : 1, rank);
        SplittableRandom random = new SplittableRandom(dataSeed);
        float[] input = values(random, Arrays.stream(shape).reduce(1, (a, b) -> a * b));
        float[] weights = values(random, Arrays.stream(k).reduce(1, (a, b) -> a * b) * inPerGroup * filters);
        float[] bias = useBias ? values(random, filters) : null;

        ConvLayer.Builder builder = ConvLayer.builder(rank).filters(filters).kernelSize(k).strides(s).dilationRate(d)
                .padding(padding).groups(groups).useBias(useBias).activation(activation)
                .dataFormat(channelsFirst ? DataFormat.CHANNELS_FIRST : DataFormat.CHANNELS_LAST);
        ConvGeometry g = ConvGeometry.of(builder.config(), shape);
        float[] expected = ReferenceConvolution.compute(g, input, weights, bias);
        try (ConvLayer java = builder.backend(Backend.JAVA).algorithm(Algorithm.AUTO).threads(threads).build()) {
            // The Java backend need not be the reference loop itself (an optimized one sums in float).
            java.setWeights(weights, bias);
            Tolerance.assertWithinBound(g, input, weights, bias, expected, java.predict(input, shape), "java " + g);
        }
        try (ConvLayer layer = builder.backend(Backend.NATIVE).algorithm(algorithm).threads(threads).build()) {
            layer.setWeights(weights, bias);
            float[] actual;
            try {
                actual = layer.predict(input, shape);
            } catch (IllegalArgumentException e) {
                // Only a forced algorithm may refuse, and only with this message.
                assertTrue(algorithm != Algorithm.AUTO, "AUTO refused " + g + ": " + e.getMessage());
                assertTrue(e.getMessage().contains("does not accept this problem"), e.getMessage());
                REFUSED.get(algorithm).incrementAndGet();
                return;
            }
            Tolerance.assertWithinBound(g, input, weights, bias, expected, actual, algorithm + " " + g);
            RAN.get(algorithm).incrementAndGet();
        }
    }

    /** One way to break an otherwise valid, small Conv layer call. */
    enum Fault {
        FILTERS, KERNEL_SIZE, STRIDES, DILATION, GROUPS, GROUPS_NOT_DIVIDING_FILTERS, STRIDES_WITH_DILATION,
        CAUSAL_IN_2D, THREADS, INPUT_RANK, INPUT_DIMENSION, INPUT_CHANNELS_NOT_DIVISIBLE, CHANNELS_MISMATCH,
        KERNEL_LENGTH, BIAS_LENGTH, BIAS_WITHOUT_USE_BIAS, INPUT_LENGTH, OUTPUT_LENGTH, EMPTY_OUTPUT,
        ELEMENT_COUNT_OVERFLOW, OUTPUT_COUNT_OVERFLOW, PADDING_OVERFLOW
    }

    record Invalid(Fault fault, int rank, int bad, int big) {
        @Override
        public String toString() {
            return fault + " rank=" + rank + " bad=" + bad + " big=" + big;
        }
    }

    @Provide
    Arbitrary<Invalid> invalidCases() {
        return Combinators.combine(Arbitraries.of(Fault.class), Arbitraries.integers().between(1, 2),
                Arbitraries.oneOf(Arbitraries.integers().between(-3, 0), Arbitraries.just(Integer.MIN_VALUE)),
                Arbitraries.integers().between(65_536, Integer.MAX_VALUE)).as(Invalid::new);
    }

    @Property(tries = 400, seed = "20261126")
    void invalidConfigurationsThrowBeforeAnyNativeCall(@ForAll("invalidCases") Invalid c) {
        INVALID_CASES.incrementAndGet();
        String javaMessage = failure(c, Backend.JAVA).getMessage();
        IllegalArgumentException nativeFailure = failure(c, Backend.NATIVE);
        assertEquals(javaMessage, nativeFailure.getMessage(), "same check on both backends: " + c);
        for (StackTraceElement frame : nativeFailure.getStackTrace()) {
            assertTrue(!frame.getClassName().startsWith("org.conv4j.internal.")
                    && !frame.getClassName().equals(NativePlan.class.getName()),
                    "thrown from native code " + frame + " for " + c);
        }
        assertTrue(javaMessage.matches(".*(filters|kernel|strides|dilation|groups|padding|threads|input|output|bias"
                + "|channels|elements|causal).*"), "message names no parameter: " + javaMessage);
    }

    /** Builds, sets weights and predicts with the fault injected; returns what was thrown. */
    private static IllegalArgumentException failure(Invalid c, Backend backend) {
        return assertThrows(IllegalArgumentException.class, () -> run(c, backend), c.toString());
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

    private static float[] values(SplittableRandom r, int count) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }
}

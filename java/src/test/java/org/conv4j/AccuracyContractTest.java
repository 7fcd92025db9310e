package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.conv4j.RandomCase.DataKind;
import org.conv4j.internal.Conv4jNative;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The accuracy contract (README, "Semantics"; issue 12): every default path (native AUTO, each algorithm
 * AUTO may pick, the Java backend) is within the direct-sum bound per output on every kind of data, and an
 * output whose window has only zero products is exactly the bias (after relu, exactly max(bias, 0)).
 */
class AccuracyContractTest {
    /** A layer to run: a backend and, for native, the algorithm (AUTO, or one AUTO may pick, forced). */
    private record Path(Backend backend, Algorithm algorithm) {
        @Override
        public String toString() {
            return backend == Backend.JAVA ? "java" : algorithm.cliName();
        }
    }

    private static List<Path> defaultPaths() {
        List<Path> paths = new ArrayList<>();
        if (Conv4j.nativeAvailable()) {
            for (Algorithm a : new Algorithm[] {Algorithm.AUTO, Algorithm.DIRECT, Algorithm.REFERENCE, Algorithm.GEMM,
                Algorithm.DEPTHWISE}) {
                paths.add(new Path(Backend.NATIVE, a));
            }
        }
        paths.add(new Path(Backend.JAVA, Algorithm.AUTO));
        return paths;
    }

    /**
     * Runs one configuration on every default path; returns the zero-window outputs checked. A forced
     * specialized algorithm may refuse the shape; AUTO must never have chosen Winograd.
     */
    private static int check(ConvLayer.Builder builder, int[] shape, float[] input, float[] kernel, float[] bias,
                             int threads, String what) {
        int zeroWindows = 0;
        for (Path p : defaultPaths()) {
            try (ConvLayer layer = builder.backend(p.backend()).algorithm(p.algorithm()).threads(threads).build()) {
                layer.setWeights(kernel, bias);
                float[] actual;
                try {
                    actual = layer.predict(input, shape);
                } catch (IllegalArgumentException e) {
                    assertTrue(p.algorithm() != Algorithm.AUTO && e.getMessage().contains("does not accept"),
                            e.getMessage());
                    continue;
                }
                String chosen = layer.algorithm(shape);
                assertNotEquals("winograd", chosen, what + ": " + p + " chose Winograd without being asked");
                ConvGeometry g = layer.geometry(shape);
                float[] expected = ReferenceConvolution.compute(g, input, kernel, bias);
                String label = what + " via " + p + " (" + chosen + ")";
                Tolerance.assertWithinBound(g, input, kernel, bias, expected, actual, label);
                zeroWindows += Tolerance.assertZeroWindowsExact(g, input, kernel, bias, actual, label);
            } finally {
                builder.algorithm(Algorithm.AUTO);
            }
        }
        return zeroWindows;
    }

    private static int count(int[] shape) {
        int n = 1;
        for (int s : shape) {
            n *= s;
        }
        return n;
    }

    /**
     * Issue 12's repro: 3×3, 16 input channels, no bias, post-relu input with all-zero regions; Keras gives
     * exactly 0 wherever the window reads only zeros, and so must every default path.
     */
    @Test
    void issueReproGivesExactZeros() {
        SplittableRandom r = new SplittableRandom(12);
        int[] shape = {1, 13, 13, 16};
        float[] input = RandomCase.values(r, count(shape), DataKind.POST_RELU, true);
        for (int i = 0; i < 6 * 13 * 16; i++) {
            input[i] = 0; // rows 0..5
        }
        RandomCase.zeroRectangles(r, input, shape, DataFormat.CHANNELS_LAST);
        float[] kernel = RandomCase.values(r, 9 * 16 * 24);
        ConvLayer.Builder b = ConvLayer.builder(2).filters(24).kernelSize(3).useBias(false);
        int zeros = check(b, shape, input, kernel, null, 1, "issue 12 repro");
        assertTrue(zeros >= 4 * 11 * 24, "zero windows checked: " + zeros); // output rows 0..3 at least, per path
    }

    /** Shapes of every family on one kind of data, with and without bias, relu on and off. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(DataKind.class)
    void everyDefaultPathMeetsTheDirectSumBound(DataKind kind) {
        SplittableRandom r = new SplittableRandom(100 + kind.ordinal());
        Object[][] shapes = { // builder, input shape (channels_last unless the builder says otherwise)
            {ConvLayer.builder(2).filters(16).kernelSize(3).padding(Padding.SAME), new int[] {1, 11, 10, 16}},
            {ConvLayer.builder(2).filters(24).kernelSize(3), new int[] {2, 9, 13, 17}},
            {ConvLayer.builder(2).filters(20).kernelSize(3).padding(Padding.SAME).dataFormat(DataFormat.CHANNELS_FIRST),
                new int[] {1, 33, 7, 9}},
            {ConvLayer.builder(2).filters(40).kernelSize(1), new int[] {1, 8, 8, 24}},
            {ConvLayer.builder(2).filters(24).kernelSize(3).padding(Padding.SAME).groups(24), new int[] {1, 12, 12, 24}},
            {ConvLayer.builder(2).filters(32).kernelSize(3).padding(Padding.SAME).groups(4), new int[] {1, 10, 10, 16}},
            {ConvLayer.builder(1).filters(20).kernelSize(3).dilationRate(2).padding(Padding.CAUSAL), new int[] {2, 40, 12}},
        };
        int zeros = 0;
        for (int s = 0; s < shapes.length; s++) {
            ConvLayer.Builder b = (ConvLayer.Builder) shapes[s][0];
            int[] shape = (int[]) shapes[s][1];
            boolean useBias = (s + kind.ordinal()) % 2 == 0;
            b.useBias(useBias).activation(s % 3 == 1 ? Activation.RELU : Activation.NONE);
            ConvGeometry g;
            try (ConvLayer probe = b.backend(Backend.JAVA).build()) {
                g = probe.geometry(shape);
            }
            float[] input = RandomCase.values(r, g.inputCount(), kind, true);
            if (kind == DataKind.POST_RELU) {
                RandomCase.zeroRectangles(r, input, shape, g.config().dataFormat());
            }
            float[] kernel = RandomCase.values(r, g.kernelCount(), kind, false);
            float[] bias = useBias ? RandomCase.values(r, g.outChannels(), DataKind.DENSE, false) : null;
            zeros += check(b, shape, input, kernel, bias, s % 3, kind + " shape " + s);
        }
        if (kind == DataKind.SPARSE || kind == DataKind.POST_RELU) {
            assertTrue(zeros > 0, "no zero windows in " + kind + " data");
        }
    }

    /**
     * Above GEMM's weight block (K·Cout = 4608·64 floats, 4.5× the 64 Ki-float block) at threads 1 and 2 on
     * the full team: the blocked path that every large layer runs.
     */
    @Test
    void blockedGemmMeetsTheBound() {
        SplittableRandom r = new SplittableRandom(5);
        int[] shape = {1, 4, 4, 512};
        float[] input = RandomCase.values(r, count(shape), DataKind.POST_RELU, true);
        RandomCase.zeroRectangles(r, input, shape, DataFormat.CHANNELS_LAST);
        float[] kernel = RandomCase.values(r, 9 * 512 * 64);
        float[] bias = RandomCase.values(r, 64);
        NativePlan.extraFlags = Conv4jNative.FLAG_FULL_TEAM;
        try {
            for (int threads = 1; threads <= 2; threads++) {
                check(ConvLayer.builder(2).filters(64).kernelSize(3).padding(Padding.SAME).activation(Activation.RELU),
                        shape, input, kernel, bias, threads, "blocked gemm threads=" + threads);
            }
        } finally {
            NativePlan.extraFlags = 0;
        }
    }

    /**
     * The Java backend keeps calls under the native small-call cutoff (2^17 multiply-adds) on the calling
     * thread whatever {@code threads} says, and hands larger ones to its workers.
     */
    @Test
    void smallJavaCallsStayOnTheCallingThread() {
        assertTrue(!JavaConvolution.fullTeam, "another test left the full-team switch on");
        SplittableRandom r = new SplittableRandom(9);
        try (ConvLayer small = ConvLayer.builder(2).filters(16).kernelSize(3).padding(Padding.SAME).backend(Backend.JAVA)
                .threads(2).build();
             ConvLayer large = ConvLayer.builder(2).filters(64).kernelSize(3).padding(Padding.SAME).backend(Backend.JAVA)
                     .threads(2).build()) {
            small.setWeights(RandomCase.values(r, 9 * 8 * 16), RandomCase.values(r, 16));
            large.setWeights(RandomCase.values(r, 9 * 32 * 64), RandomCase.values(r, 64));
            int[] smallShape = {1, 16, 16, 8}; // 16·16·16·72 = 294 912 multiply-adds: above the cutoff
            int[] tinyShape = {1, 8, 8, 8};    // 8·8·16·72 = 73 728 multiply-adds
            assertTrue(JavaConvolution.multiplyAdds(small.geometry(tinyShape)) < JavaConvolution.SERIAL_WORK_LIMIT);
            float[] x = RandomCase.values(r, count(tinyShape));
            float[] y = new float[count(small.outputShape(tinyShape))];
            small.predict(x, tinyShape, y); // warm: scratch, classes
            long before = JavaWorkers.handoffs();
            for (int i = 0; i < 50; i++) {
                small.predict(x, tinyShape, y);
            }
            assertEquals(before, JavaWorkers.handoffs(), "a call below the cutoff with threads=2 used a worker");
            assertTrue(JavaConvolution.multiplyAdds(small.geometry(smallShape)) >= JavaConvolution.SERIAL_WORK_LIMIT);
            if (Runtime.getRuntime().availableProcessors() < 2) {
                return; // no workers at all
            }
            int[] largeShape = {1, 24, 24, 32}; // 24·24·64·288 = 10.6 M multiply-adds
            float[] xl = RandomCase.values(r, count(largeShape));
            float[] yl = new float[count(large.outputShape(largeShape))];
            long handed = 0;
            for (int i = 0; i < 20 && handed == 0; i++) { // a worker busy with another test's call is skipped
                long start = JavaWorkers.handoffs();
                large.predict(xl, largeShape, yl);
                handed = JavaWorkers.handoffs() - start;
            }
            assertTrue(handed > 0, "a call of 10 M multiply-adds with threads=2 never used a worker");
        }
    }
}

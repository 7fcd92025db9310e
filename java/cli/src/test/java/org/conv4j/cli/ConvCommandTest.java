package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.conv4j.Conv4j;
import org.conv4j.cli.npy.Npy;
import org.conv4j.cli.npy.NpyArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ConvCommandTest {
    @TempDir
    Path dir;

    private Path npy(String name, float[] data, int... shape) throws IOException {
        Path p = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Npy.write(ch, new NpyArray(data, shape));
        }
        return p;
    }

    /** A version 1.0 file with the header dict given verbatim. */
    private Path rawNpy(String name, String dict, byte[] data) throws IOException {
        int padded = (10 + dict.length() + 1 + 63) / 64 * 64;
        String header = dict + " ".repeat(padded - 10 - dict.length() - 1) + "\n";
        ByteBuffer b = ByteBuffer.allocate(padded + data.length);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) header.length(), 0});
        b.put(header.getBytes(StandardCharsets.ISO_8859_1)).put(data);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static float[] filled(int n, float start, float step) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = start + step * (i % 7);
        }
        return a;
    }

    /** conv arguments for the given files plus extra options. */
    private static String[] conv(int rank, Path input, Path kernel, Path bias, Path output, String... options) {
        List<String> args = new ArrayList<>(List.of("conv", "--rank", Integer.toString(rank),
                "--input", input.toString(), "--kernel", kernel.toString()));
        if (bias != null) {
            args.addAll(List.of("--bias", bias.toString()));
        }
        args.addAll(Arrays.asList(options));
        args.addAll(List.of("--output", output.toString()));
        return args.toArray(new String[0]);
    }

    /** Names in the directory besides the given ones, e.g. left-over temporary files. */
    private List<String> strayFiles(String... expected) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = new ArrayList<>();
            s.map(p -> p.getFileName().toString()).filter(n -> !Arrays.asList(expected).contains(n))
                    .forEach(names::add);
            return names;
        }
    }

    private static List<String> backends() {
        return Conv4j.nativeAvailable() ? List.of("native", "java") : List.of("java");
    }

    @Test
    void tutorialConv1dGivesTheTutorialsAnswer() throws IOException {
        Path x = npy("x.npy", new float[] {0, 0, 0, 1, 1, 0, 0, 0}, 1, 8, 1);
        Path k = npy("k.npy", new float[] {0, 1, 0}, 3, 1, 1);
        Path b = npy("b.npy", new float[] {0}, 1);
        for (String backend : backends()) {
            Path out = dir.resolve("out-" + backend + ".npy");
            CliRun r = CliRun.of(conv(1, x, k, b, out, "--strides", "1", "--padding", "valid", "--dilation", "1",
                    "--groups", "1", "--activation", "none", "--data-format", "channels_last", "--backend", backend));
            assertEquals(0, r.exit(), r.err());
            assertEquals("", r.err());
            assertTrue(r.out().strip().lines().count() <= 1, r.out());
            NpyArray y = Npy.read(out);
            assertArrayEquals(new int[] {1, 6, 1}, y.shape());
            assertArrayEquals(new float[] {0, 0, 1, 1, 0, 0}, y.data());
        }
    }

    @Test
    void tutorialConv2dGivesTheTutorialsAnswer() throws IOException {
        float[] image = new float[64];
        for (int r = 0; r < 8; r++) {
            image[r * 8 + 3] = 1;
            image[r * 8 + 4] = 1;
        }
        Path x = npy("x.npy", image, 1, 8, 8, 1);
        Path k = npy("k.npy", new float[] {0, 1, 0, 0, 1, 0, 0, 1, 0}, 3, 3, 1, 1);
        Path b = npy("b.npy", new float[] {0}, 1);
        float[] expected = new float[36];
        for (int r = 0; r < 6; r++) {
            expected[r * 6 + 2] = 3;
            expected[r * 6 + 3] = 3;
        }
        for (String backend : backends()) {
            Path out = dir.resolve("out-" + backend + ".npy");
            CliRun r = CliRun.of(conv(2, x, k, b, out, "--strides", "1,1", "--padding", "valid",
                    "--dilation", "1,1", "--groups", "1", "--activation", "none",
                    "--data-format", "channels_last", "--backend", backend));
            assertEquals(0, r.exit(), r.err());
            NpyArray y = Npy.read(out);
            assertArrayEquals(new int[] {1, 6, 6, 1}, y.shape());
            assertArrayEquals(expected, y.data());
        }
    }

    @Test
    void defaultsAreValidStrideOneNoBiasNoActivation() throws IOException {
        Path x = npy("x.npy", new float[] {1, -2, 3, -4, 5}, 1, 5, 1);
        Path k = npy("k.npy", new float[] {1, 1}, 2, 1, 1);
        Path out = dir.resolve("y.npy");
        CliRun r = CliRun.of(conv(1, x, k, null, out));
        assertEquals(0, r.exit(), r.err());
        assertArrayEquals(new float[] {-1, 1, -1, 1}, Npy.read(out).data());
    }

    @Test
    void channelsFirstSameReluAndGroupsAreApplied() throws IOException {
        // Two channels in two groups (depthwise), channels_first [1, 2, 4], kernel 3 with SAME padding.
        Path x = npy("x.npy", new float[] {1, 2, 3, 4, 10, 20, 30, 40}, 1, 2, 4);
        // Keras layout [k=3, cin/groups=1, filters=2]: filter 0 = [1, 0, -1], filter 1 = [0, 1, 0].
        Path k = npy("k.npy", new float[] {1, 0, 0, 1, -1, 0}, 3, 1, 2);
        Path b = npy("b.npy", new float[] {0.5f, -15}, 2);
        for (String backend : backends()) {
            Path out = dir.resolve("y-" + backend + ".npy");
            CliRun r = CliRun.of(conv(1, x, k, b, out, "--padding", "same", "--groups", "2",
                    "--activation", "relu", "--data-format", "channels_first", "--backend", backend));
            assertEquals(0, r.exit(), r.err());
            NpyArray y = Npy.read(out);
            assertArrayEquals(new int[] {1, 2, 4}, y.shape());
            // Channel 0: x[i-1] - x[i+1] + 0.5 with zeros outside -> [-1.5, -1.5, -1.5, 3.5] -> relu.
            // Channel 1: x[i] - 15 -> [-5, 5, 15, 25] -> relu.
            assertArrayEquals(new float[] {0, 0, 0, 3.5f, 0, 5, 15, 25}, y.data(), backend);
        }
    }

    @Test
    void stridesAndDilationReachTheLayer() throws IOException {
        Path x = npy("x.npy", new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 9, 1);
        Path k = npy("k.npy", new float[] {1, 10}, 2, 1, 1);
        Path strided = dir.resolve("s.npy");
        assertEquals(0, CliRun.of(conv(1, x, k, null, strided, "--strides", "3")).exit());
        assertArrayEquals(new float[] {21, 54, 87}, Npy.read(strided).data());
        Path dilated = dir.resolve("d.npy");
        assertEquals(0, CliRun.of(conv(1, x, k, null, dilated, "--dilation", "4")).exit());
        assertArrayEquals(new float[] {51, 62, 73, 84, 95}, Npy.read(dilated).data());
    }

    /**
     * Issue 12's repro through the CLI: 3×3, 16 channels, no bias, post-ReLU input whose left half
     * is zero. With the default algorithm every output whose window reads only zeros is exactly 0,
     * as in Keras; {@code --algorithm winograd} forces Winograd and says so.
     */
    @Test
    void defaultAlgorithmKeepsZeroWindowsExactAndWinogradIsOptIn() throws IOException {
        int h = 24, w = 24, c = 16;
        java.util.SplittableRandom r = new java.util.SplittableRandom(12);
        float[] input = new float[h * w * c];
        for (int i = 0; i < input.length; i++) {
            int col = i / c % w;
            input[i] = col < w / 2 ? 0 : Math.max(0, (float) r.nextDouble(-1, 1)); // post-ReLU, zero left half
        }
        float[] kernel = new float[9 * c * c];
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] = (float) r.nextDouble(-1, 1);
        }
        Path x = npy("x.npy", input, 1, h, w, c);
        Path k = npy("k.npy", kernel, 3, 3, c, c);
        for (String backend : backends()) {
            Path out = dir.resolve("y-" + backend + ".npy");
            CliRun run = CliRun.of(conv(2, x, k, null, out, "--padding", "same", "--backend", backend));
            assertEquals(0, run.exit(), run.err());
            assertFalse(run.out().contains("winograd"), run.out());
            float[] y = Npy.read(out).data();
            int zeros = 0;
            for (int row = 0; row < h; row++) {
                for (int col = 0; col < w / 2 - 1; col++) { // the window of col reads cols col-1..col+1
                    for (int o = 0; o < c; o++) {
                        float v = y[(row * w + col) * c + o];
                        assertEquals(0f, v, 0f, backend + " output (" + row + ", " + col + ", " + o
                                + ") = " + v + ", Keras gives exactly 0");
                        zeros++;
                    }
                }
            }
            assertEquals(h * (w / 2 - 1) * c, zeros);
        }
        if (Conv4j.nativeAvailable()) {
            Path out = dir.resolve("y-winograd.npy");
            CliRun run = CliRun.of(conv(2, x, k, null, out, "--padding", "same", "--algorithm", "winograd"));
            assertEquals(0, run.exit(), run.err());
            assertTrue(run.out().contains("(native, winograd)"), run.out());
            Path gemm = dir.resolve("y-gemm.npy");
            run = CliRun.of(conv(2, x, k, null, gemm, "--padding", "same", "--algorithm", "GEMM"));
            assertEquals(0, run.exit(), run.err());
            assertTrue(run.out().contains("(native, gemm)"), run.out());
        }
        // A 5×5 kernel is not Winograd's: forcing it is an error, not a silent fallback.
        Path x5 = npy("x5.npy", filled(8 * 8 * 16, -1, 0.25f), 1, 8, 8, 16);
        Path k5 = npy("k5.npy", filled(25 * 16 * 16, 0.5f, -0.125f), 5, 5, 16, 16);
        Path out5 = dir.resolve("y5.npy");
        CliRun refused = CliRun.of(conv(2, x5, k5, null, out5, "--algorithm", "winograd",
                "--backend", Conv4j.nativeAvailable() ? "native" : "java"));
        assertEquals(2, refused.exit(), refused.out());
        assertFalse(Files.exists(out5));
    }

    @Test
    void readsBigEndianInput() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(12).putFloat(1).putFloat(2).putFloat(3);
        Path x = rawNpy("be.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (1, 3, 1), }", data.array());
        Path k = npy("k.npy", new float[] {2}, 1, 1, 1);
        Path out = dir.resolve("y.npy");
        assertEquals(0, CliRun.of(conv(1, x, k, null, out)).exit());
        assertArrayEquals(new float[] {2, 4, 6}, Npy.read(out).data());
    }

    /** Files for a valid 2-D case [1, 5, 5, cin] with kernel [3, 3, kcin, filters]. */
    private Path[] files2d(int cin, int kcin, int filters, int biasLength) throws IOException {
        return new Path[] {
            npy("x.npy", filled(25 * cin, -1, 0.5f), 1, 5, 5, cin),
            npy("k.npy", filled(9 * kcin * filters, 0.25f, -0.125f), 3, 3, kcin, filters),
            npy("b.npy", filled(biasLength, 0, 1), biasLength),
        };
    }

    private void assertRefused(Path[] f, String expectInMessage, String... options) throws IOException {
        Path out = dir.resolve("out.npy");
        CliRun r = CliRun.of(conv(2, f[0], f[1], f[2], out, options));
        String line = r.assertOneLineError();
        assertTrue(line.toLowerCase().contains(expectInMessage.toLowerCase()), line);
        assertFalse(Files.exists(out), "output must not be created");
        assertEquals(List.of(), strayFiles("x.npy", "k.npy", "b.npy"));
    }

    @Test
    void kernelChannelsMismatch() throws IOException {
        assertRefused(files2d(3, 4, 8, 8), "kernel", "--padding", "same");
    }

    @Test
    void channelsNotDivisibleByGroups() throws IOException {
        assertRefused(files2d(6, 1, 8, 8), "divisible", "--groups", "4");
    }

    @Test
    void strideZero() throws IOException {
        assertRefused(files2d(2, 2, 2, 2), "strides", "--strides", "0,1");
    }

    @Test
    void negativeDilation() throws IOException {
        assertRefused(files2d(2, 2, 2, 2), "dilation", "--dilation", "1,-1");
    }

    @Test
    void stridesTogetherWithDilation() throws IOException {
        assertRefused(files2d(2, 2, 2, 2), "dilation", "--strides", "2,2", "--dilation", "2,1");
    }

    @Test
    void biasLengthMismatch() throws IOException {
        assertRefused(files2d(2, 2, 4, 3), "bias");
    }

    @Test
    void filtersNotDivisibleByGroups() throws IOException {
        assertRefused(files2d(4, 2, 3, 3), "groups", "--groups", "2");
    }

    @Test
    void causalPaddingIsOneDimensional() throws IOException {
        assertRefused(files2d(2, 2, 2, 2), "causal", "--padding", "causal");
    }

    @Test
    void kernelLargerThanInputWithValidPadding() throws IOException {
        Path[] f = {npy("x.npy", new float[4], 1, 2, 2, 1), npy("k.npy", new float[9], 3, 3, 1, 1),
            npy("b.npy", new float[1], 1)};
        assertRefused(f, "output");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1", "1,1,1", "1,", "a,1", " , "})
    void wrongNumberOrSpellingOfCommaValues(String strides) throws IOException {
        assertRefused(files2d(2, 2, 2, 2), "--strides", "--strides", strides);
    }

    @ParameterizedTest
    @ValueSource(strings = {"--padding=full", "--activation=tanh", "--data-format=nhwc", "--backend=gpu", "--algorithm=fft",
        "--groups=x", "--bogus", "--strides"})
    void badOptionValuesAreUsageErrors(String option) throws IOException {
        assertRefused(files2d(2, 2, 2, 2), option.replaceFirst("=.*", ""), option);
    }

    @Test
    void missingRequiredOptionIsAUsageError() throws IOException {
        Path out = dir.resolve("out.npy");
        CliRun r = CliRun.of("conv", "--rank", "2", "--output", out.toString());
        assertTrue(r.assertOneLineError().contains("--input"));
        assertFalse(Files.exists(out));
    }

    @Test
    void rankOtherThanOneOrTwo() throws IOException {
        Path[] f = files2d(2, 2, 2, 2);
        Path out = dir.resolve("out.npy");
        assertTrue(CliRun.of(conv(3, f[0], f[1], f[2], out)).assertOneLineError().contains("--rank"));
        assertFalse(Files.exists(out));
    }

    @Test
    void inputOfTheWrongRank() throws IOException {
        Path[] f = files2d(2, 2, 2, 2);
        Path out = dir.resolve("out.npy");
        assertTrue(CliRun.of(conv(1, f[0], f[1], f[2], out)).assertOneLineError().contains("--input"));
        assertFalse(Files.exists(out));
    }

    @Test
    void unreadableOrMalformedFiles() throws IOException {
        Path[] f = files2d(2, 2, 2, 2);
        Path out = dir.resolve("out.npy");
        Path missing = dir.resolve("missing.npy");
        String line = CliRun.of(conv(2, missing, f[1], f[2], out)).assertOneLineError();
        assertTrue(line.contains("--input") && line.contains("missing.npy"), line);

        Path text = dir.resolve("text.npy");
        Files.writeString(text, "hello");
        assertTrue(CliRun.of(conv(2, f[0], text, f[2], out)).assertOneLineError().contains("--kernel"));

        Path truncated = dir.resolve("trunc.npy");
        byte[] whole = Files.readAllBytes(f[0]);
        Files.write(truncated, Arrays.copyOf(whole, whole.length - 3));
        assertTrue(CliRun.of(conv(2, truncated, f[1], f[2], out)).assertOneLineError().contains("truncated"));

        assertTrue(CliRun.of(conv(2, dir, f[1], f[2], out)).assertOneLineError().contains("directory"));
        assertFalse(Files.exists(out));
    }

    @Test
    void float64InputIsRefusedByName() throws IOException {
        Path[] f = files2d(1, 1, 1, 1);
        Path f8 = rawNpy("f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 5, 5, 1), }",
                new byte[200]);
        Path out = dir.resolve("out.npy");
        String line = CliRun.of(conv(2, f8, f[1], f[2], out)).assertOneLineError();
        assertTrue(line.contains("'<f8'") && line.contains("float64"), line);
        assertFalse(Files.exists(out));
    }

    @Test
    void outputDirectoryMustExist() throws IOException {
        Path[] f = files2d(2, 2, 2, 2);
        Path out = dir.resolve("nowhere").resolve("out.npy");
        assertTrue(CliRun.of(conv(2, f[0], f[1], f[2], out)).assertOneLineError().contains("does not exist"));
        assertFalse(Files.exists(out.getParent()));
    }

    @Test
    void failureLeavesAnExistingOutputUntouched() throws IOException {
        Path[] f = files2d(3, 4, 8, 8);
        Path out = dir.resolve("out.npy");
        Files.writeString(out, "previous result");
        CliRun.of(conv(2, f[0], f[1], f[2], out)).assertOneLineError();
        assertEquals("previous result", Files.readString(out));
        assertEquals(List.of(), strayFiles("x.npy", "k.npy", "b.npy", "out.npy"));
    }

    @Test
    void successReplacesTheOutputAtomicallyWithoutLeftovers() throws IOException {
        Path[] f = files2d(2, 2, 3, 3);
        Path out = dir.resolve("out.npy");
        Files.writeString(out, "previous result");
        CliRun r = CliRun.of(conv(2, f[0], f[1], f[2], out, "--padding", "same"));
        assertEquals(0, r.exit(), r.err());
        NpyArray y = Npy.read(out);
        assertArrayEquals(new int[] {1, 5, 5, 3}, y.shape());
        assertEquals(List.of(), strayFiles("x.npy", "k.npy", "b.npy", "out.npy"));
        // Output may be an input file too: it is only replaced after the result is complete.
        CliRun again = CliRun.of(conv(2, f[0], f[1], f[2], f[0], "--padding", "same", "--groups", "1"));
        assertEquals(0, again.exit(), again.err());
        assertArrayEquals(new int[] {1, 5, 5, 3}, Npy.read(f[0]).shape());
    }

    @Test
    void javaAndNativeBackendsAgreeOnARandomishCase() throws IOException {
        if (!Conv4j.nativeAvailable()) {
            return;
        }
        Path x = npy("x.npy", filled(2 * 9 * 7 * 4, -1.5f, 0.37f), 2, 9, 7, 4);
        Path k = npy("k.npy", filled(3 * 2 * 2 * 6, 0.5f, -0.21f), 3, 2, 2, 6);
        Path b = npy("b.npy", filled(6, -0.3f, 0.1f), 6);
        Path yn = dir.resolve("yn.npy");
        Path yj = dir.resolve("yj.npy");
        String[] opts = {"--strides", "2,1", "--padding", "same", "--groups", "2", "--activation", "relu"};
        assertEquals(0, CliRun.of(conv(2, x, k, b, yn, concat(opts, "--backend", "native"))).exit());
        assertEquals(0, CliRun.of(conv(2, x, k, b, yj, concat(opts, "--backend", "java"))).exit());
        NpyArray n = Npy.read(yn);
        NpyArray j = Npy.read(yj);
        assertArrayEquals(new int[] {2, 5, 7, 6}, n.shape());
        assertArrayEquals(j.data(), n.data(), 1e-4f);
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}

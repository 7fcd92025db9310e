package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conv command's {@code --layer}, {@code --rank 3}, {@code --pointwise-kernel},
 * {@code --output-padding} and {@code --padding explicit --pads} on Keras cases
 * (tools/keras/make_conv_family_fixtures.py wrote the .npy files and the flags): the result is
 * within the direct-sum bound of Keras' float64 output. The bound's magnitude Σ|x·w| + |b| comes
 * from the command itself run on the absolute values, and its n bounds every fan-in by the
 * kernels' total size.
 */
class ConvFamilyCliTest {
    private static final double U = Math.pow(2, -24);

    @TempDir
    Path dir;

    static Stream<String> cases() throws IOException, URISyntaxException {
        Path root = Path.of(ConvFamilyCliTest.class.getResource("/keras-cli").toURI());
        try (Stream<Path> s = Files.list(root)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertTrue(names.size() >= 8, "cli cases: " + names);
            return names.stream();
        }
    }

    private static Path caseDir(String name) throws URISyntaxException {
        return Path.of(ConvFamilyCliTest.class.getResource("/keras-cli/" + name).toURI());
    }

    @ParameterizedTest(name = "{0} java")
    @MethodSource("cases")
    void javaBackendMatchesKeras(String name) throws Exception {
        check(name, "java");
    }

    @ParameterizedTest(name = "{0} native")
    @MethodSource("cases")
    void nativeBackendMatchesKerasOrRefusesInOneLine(String name) throws Exception {
        if (!Conv4j.nativeAvailable()) {
            // Without the library the command must say so in one line and write nothing.
            Run r = run(name, "native", false);
            assertEquals(2, r.status, r.err);
            return;
        }
        check(name, "native");
    }

    private void check(String name, String backend) throws Exception {
        Run r = run(name, backend, false);
        if (r.status == 2 && r.err.contains("Backend.JAVA")) {
            // The native library lacks the rank-3 or backward-data pass: a typed refusal, one line, no file.
            assertEquals("native", backend, r.err);
            assertTrue(name.contains("3d") || name.contains("dt_"), name + ": " + r.err);
            assertEquals(1, r.err.strip().lines().count(), r.err);
            assertFalse(Files.exists(r.output), "no output file after an error");
            return;
        }
        assertEquals(0, r.status, r.err);
        NpyArray actual = Npy.read(r.output);
        NpyArray expected = Npy.read(caseDir(name).resolve("expected.npy"));
        assertArrayEquals(expected.shape(), actual.shape(), name);
        Run m = run(name, backend, true);
        assertEquals(0, m.status, m.err);
        float[] magnitude = Npy.read(m.output).data();
        double n = 1;
        for (String k : new String[] {"kernel.npy", "pointwise.npy"}) {
            Path p = caseDir(name).resolve(k);
            if (Files.exists(p)) {
                n += Npy.read(p).data().length + 1;
            }
        }
        double gamma = n * U / (1 - n * U);
        float[] a = actual.data();
        float[] e = expected.data();
        for (int i = 0; i < e.length; i++) {
            double bound = 2 * gamma * magnitude[i] + U * Math.abs(e[i]) + Float.MIN_NORMAL;
            if (!(Math.abs((double) a[i] - e[i]) <= bound)) {
                fail(name + " " + backend + ": element " + i + " is " + a[i] + ", Keras " + e[i] + ", bound " + bound);
            }
        }
    }

    /** Flag combinations Keras or the command refuses: exit 2, one line naming the flag, no output file. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void refusalsExitTwoInOneLineWithoutOutput(String name, String caseName, List<String> extra, String expected)
            throws Exception {
        Run r = run(caseName, "java", false, extra);
        assertEquals(2, r.status, name + ": " + r.err);
        assertEquals(1, r.err.strip().lines().count(), r.err);
        assertTrue(r.err.contains(expected), name + ": '" + r.err.strip() + "' should say '" + expected + "'");
        assertFalse(Files.exists(r.output), "no output file after an error");
    }

    static Stream<org.junit.jupiter.params.provider.Arguments> refusals() {
        return Stream.of(
            org.junit.jupiter.params.provider.Arguments.of("output padding >= stride", "conv2dt_same_op",
                List.of("--output-padding", "3,1"), "output_padding must be strictly less than strides"),
            org.junit.jupiter.params.provider.Arguments.of("output padding on conv", "conv2d_explicit_stride",
                List.of("--output-padding", "1,1"), "--output-padding is only for --layer conv_transpose"),
            org.junit.jupiter.params.provider.Arguments.of("pads count", "conv2d_explicit_stride",
                List.of("--pads", "1,1"), "--pads '1,1' has 2 values but --rank 2 needs 4"),
            org.junit.jupiter.params.provider.Arguments.of("explicit on transposed", "conv2dt_same_op",
                List.of("--padding", "explicit", "--pads", "1,1,1,1"), "explicit padding is refused"),
            org.junit.jupiter.params.provider.Arguments.of("causal on depthwise", "dw2d_m2_channels_first",
                List.of("--padding", "causal"), "causal"),
            org.junit.jupiter.params.provider.Arguments.of("TensorFlow's transposed shape check", "conv2dt_same_op",
                List.of("--output-padding", "0,0", "--strides", "1,1"), "TensorFlow refuses"),
            org.junit.jupiter.params.provider.Arguments.of("rank 3 depthwise", "dw2d_m2_channels_first",
                List.of("--rank", "3"), "Keras has no DepthwiseConv3D"));
    }

    private record Run(int status, String err, Path output) {}

    private Run run(String name, String backend, boolean abs) throws Exception {
        return run(name, backend, abs, List.of());
    }

    /**
     * Runs the case's flags, with {@code extra} replacing a flag's value or adding a flag; {@code abs}:
     * on |x|, |w|, |b| (the bound's magnitude).
     */
    private Run run(String name, String backend, boolean abs, List<String> extra) throws Exception {
        Path d = caseDir(name);
        List<String> args = new ArrayList<>(List.of("conv"));
        args.addAll(Arrays.asList(Files.readString(d.resolve("args.txt")).strip().split(" ")));
        for (int i = 0; i < extra.size(); i += 2) {
            int at = args.indexOf(extra.get(i));
            if (at >= 0) {
                args.set(at + 1, extra.get(i + 1));
            } else {
                args.addAll(List.of(extra.get(i), extra.get(i + 1)));
            }
        }
        String[][] files = {{"input.npy", "--input"}, {"kernel.npy", "--kernel"}, {"pointwise.npy", "--pointwise-kernel"},
            {"bias.npy", "--bias"}};
        for (String[] f : files) {
            Path p = d.resolve(f[0]);
            if (Files.exists(p)) {
                args.addAll(List.of(f[1], (abs ? absolute(p) : p).toString()));
            }
        }
        Path output = dir.resolve(name + (abs ? "-abs" : "") + "-" + backend + ".npy");
        args.addAll(List.of("--backend", backend, "--output", output.toString()));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out), new PrintWriter(err), args.toArray(new String[0]));
        return new Run(status, err.toString(), output);
    }

    private Path absolute(Path p) throws IOException {
        NpyArray a = Npy.read(p);
        float[] v = a.data().clone();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.abs(v[i]);
        }
        Path q = dir.resolve("abs-" + p.getParent().getFileName() + "-" + p.getFileName());
        try (FileChannel ch = FileChannel.open(q, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Npy.write(ch, new NpyArray(v, a.shape()));
        }
        return q;
    }
}

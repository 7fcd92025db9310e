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

    private record Run(int status, String err, Path output) {}

    /** Runs the case's flags; {@code abs}: on |x|, |w|, |b| (the bound's magnitude). */
    private Run run(String name, String backend, boolean abs) throws Exception {
        Path d = caseDir(name);
        List<String> args = new ArrayList<>(List.of("conv"));
        args.addAll(Arrays.asList(Files.readString(d.resolve("args.txt")).strip().split(" ")));
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

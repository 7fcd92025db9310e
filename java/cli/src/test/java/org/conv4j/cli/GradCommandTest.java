package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.conv4j.Activation;
import org.conv4j.Conv4j;
import org.conv4j.ConvGeometry;
import org.conv4j.ConvLayer;
import org.conv4j.DataFormat;
import org.conv4j.Gradients;
import org.conv4j.Padding;
import org.conv4j.ReferenceGradients;
import org.conv4j.cli.npy.Npy;
import org.conv4j.cli.npy.NpyArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grad} and the TensorFlow gradient fixtures (tools/keras/make_gradient_fixtures.py): every
 * backend through the CLI, the Java reference and TensorFlow's own float32 gradients are within the
 * float bound of TensorFlow's float64 ones (README, "Training": 2·γ(m)·Σ|products| + u·|g|, m the
 * terms of the sum: KH·KW·Cout/groups for dx, N·Hout·Wout for dW and db).
 */
class GradCommandTest {
    private static final double U = Math.pow(2, -24);

    @TempDir
    Path dir;

    private static List<String> backends() {
        return Conv4j.nativeAvailable() ? List.of("native", "java") : List.of("java");
    }

    private Path npy(String name, float[] data, int... shape) throws IOException {
        Path p = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Npy.write(ch, new NpyArray(data, shape));
        }
        return p;
    }

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void theTutorialsLineDetectorGetsItsHandComputedGradients() throws IOException {
        Path x = npy("x.npy", new float[] {0, 0, 0, 1, 1, 0, 0, 0}, 1, 8, 1);
        Path k = npy("k.npy", new float[] {0, 1, 0}, 3, 1, 1);
        Path b = npy("b.npy", new float[] {0}, 1);
        Path dy = npy("dy.npy", new float[] {1, 1, 1, 1, 1, 1}, 1, 6, 1);
        for (String backend : backends()) {
            CliRun r = CliRun.of("grad", "--rank", "1", "--input", x.toString(), "--kernel", k.toString(), "--bias",
                    b.toString(), "--backend", backend, "--output-grad", dy.toString(), "--input-grad",
                    dir.resolve("dx.npy").toString(), "--kernel-grad", dir.resolve("dk.npy").toString(),
                    "--bias-grad", dir.resolve("db.npy").toString());
            assertEquals(0, r.exit(), r.err());
            assertEquals("", r.err());
            assertEquals(3, r.out().strip().lines().count(), r.out());
            assertArrayEquals(new float[] {0, 1, 1, 1, 1, 1, 1, 0}, Npy.read(dir.resolve("dx.npy")).data());
            NpyArray dk = Npy.read(dir.resolve("dk.npy"));
            assertArrayEquals(new int[] {3, 1, 1}, dk.shape());
            assertArrayEquals(new float[] {2, 2, 2}, dk.data());
            assertArrayEquals(new float[] {6}, Npy.read(dir.resolve("db.npy")).data());
        }
    }

    @Test
    void errorsExitTwoWithOneLineAndWriteNothing() throws IOException {
        Path x = npy("x.npy", new float[8], 1, 8, 1);
        Path k = npy("k.npy", new float[3], 3, 1, 1);
        Path b = npy("b.npy", new float[1], 1);
        Path dy = npy("dy.npy", new float[6], 1, 6, 1);
        Path badDy = npy("bad.npy", new float[5], 1, 5, 1);
        List<String> before = files();
        String[][] cases = {
            {"--output-grad", badDy.toString(), "--bias", b.toString(), "--bias-grad", "db.npy"},
            {"--output-grad", dy.toString(), "--bias-grad", "db.npy"},
            {"--output-grad", dy.toString(), "--padding", "diagonal"},
            {"--output-grad", dy.toString(), "--strides", "1,1"},
            {"--output-grad", dir.resolve("missing.npy").toString()},
            {"--output-grad", dy.toString(), "--kernel-grad", "dx.npy"},
        };
        String[] expected = {"--output-grad has shape [1, 5, 1] but the layer's output is [1, 6, 1]",
            "--bias-grad needs --bias", "padding", "--strides '1,1' has 2 values", "missing.npy",
            "must be different files"};
        for (int i = 0; i < cases.length; i++) {
            List<String> args = new ArrayList<>(List.of("grad", "--rank", "1", "--input", x.toString(), "--kernel",
                    k.toString(), "--input-grad", dir.resolve("dx.npy").toString()));
            List<String> extra = new ArrayList<>(Arrays.asList(cases[i]));
            if (!extra.contains("--kernel-grad")) {
                extra.addAll(List.of("--kernel-grad", "dk.npy"));
            }
            for (int j = 0; j < extra.size(); j++) {
                if (extra.get(j).endsWith(".npy") && !extra.get(j).contains("/")) {
                    extra.set(j, dir.resolve(extra.get(j)).toString());
                }
            }
            args.addAll(extra);
            String line = CliRun.of(args.toArray(new String[0])).assertOneLineError();
            assertTrue(line.contains(expected[i]), line);
            assertEquals(before, files(), "files after " + line);
        }
    }

    /** One fixture: the flags and tensors the script wrote. */
    private record Fixture(String name, Properties flags, Path dir) {
        NpyArray read(String tensor) throws IOException {
            return Npy.read(dir.resolve(tensor + ".npy"));
        }

        boolean has(String tensor) {
            return Files.exists(dir.resolve(tensor + ".npy"));
        }
    }

    private static List<Fixture> fixtures() throws IOException, URISyntaxException {
        Path root = Path.of(GradCommandTest.class.getResource("/gradients").toURI());
        List<Fixture> list = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            for (Path d : s.sorted().toList()) {
                Properties p = new Properties();
                try (InputStream in = Files.newInputStream(d.resolve("case.properties"))) {
                    p.load(in);
                }
                list.add(new Fixture(d.getFileName().toString(), p, d));
            }
        }
        return list;
    }

    private static ConvGeometry geometry(Fixture f, NpyArray x, NpyArray k, boolean bias) {
        int rank = Integer.parseInt(f.flags.getProperty("rank"));
        ConvLayer layer = ConvLayer.builder(rank).filters(k.dim(rank + 1)).kernelSize(Arrays.copyOf(k.shape(), rank))
                .strides(ints(f.flags.getProperty("strides"))).dilationRate(ints(f.flags.getProperty("dilation")))
                .padding(Padding.parse(f.flags.getProperty("padding")))
                .groups(Integer.parseInt(f.flags.getProperty("groups"))).useBias(bias)
                .activation(Activation.parse(f.flags.getProperty("activation")))
                .dataFormat(DataFormat.parse(f.flags.getProperty("data_format"))).backend(org.conv4j.Backend.JAVA)
                .build();
        layer.close();
        return layer.geometry(x.shape());
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    @Test
    void everyBackendTheReferenceAndTensorFlowFloat32MatchTensorFlowFloat64() throws Exception {
        List<Fixture> fixtures = fixtures();
        assertTrue(fixtures.size() >= 16, fixtures.size() + " fixtures");
        int reluCases = 0;
        for (Fixture f : fixtures) {
            NpyArray x = f.read("x"), k = f.read("kernel"), dy = f.read("dy");
            boolean hasBias = f.has("bias");
            float[] b = hasBias ? f.read("bias").data() : null;
            ConvGeometry g = geometry(f, x, k, hasBias);
            reluCases += g.config().activation() == Activation.RELU ? 1 : 0;
            Gradients tf64 = new Gradients(f.read("dx").data(), f.read("dkernel").data(),
                    hasBias ? f.read("dbias").data() : null);
            Gradients magnitude = magnitudes(g, x.data(), k.data(), b, dy.data());
            check(g, magnitude, tf64, ReferenceGradients.compute(g, x.data(), k.data(), b, dy.data()),
                    f.name + " Java reference");
            check(g, magnitude, tf64, new Gradients(f.read("dx_f32").data(), f.read("dkernel_f32").data(),
                    hasBias ? f.read("dbias_f32").data() : null), f.name + " TensorFlow float32");
            for (String backend : backends()) {
                List<String> args = new ArrayList<>(List.of("grad", "--rank", f.flags.getProperty("rank"),
                        "--input", f.dir.resolve("x.npy").toString(), "--kernel", f.dir.resolve("kernel.npy").toString(),
                        "--strides", f.flags.getProperty("strides"), "--padding", f.flags.getProperty("padding"),
                        "--dilation", f.flags.getProperty("dilation"), "--groups", f.flags.getProperty("groups"),
                        "--activation", f.flags.getProperty("activation"), "--data-format",
                        f.flags.getProperty("data_format"), "--backend", backend,
                        "--output-grad", f.dir.resolve("dy.npy").toString(),
                        "--input-grad", dir.resolve("dx.npy").toString(),
                        "--kernel-grad", dir.resolve("dk.npy").toString()));
                if (hasBias) {
                    args.addAll(List.of("--bias", f.dir.resolve("bias.npy").toString(), "--bias-grad",
                            dir.resolve("db.npy").toString()));
                }
                CliRun r = CliRun.of(args.toArray(new String[0]));
                assertEquals(0, r.exit(), f.name + ": " + r.err());
                assertArrayEquals(x.shape(), Npy.read(dir.resolve("dx.npy")).shape());
                assertArrayEquals(k.shape(), Npy.read(dir.resolve("dk.npy")).shape());
                check(g, magnitude, tf64, new Gradients(Npy.read(dir.resolve("dx.npy")).data(),
                        Npy.read(dir.resolve("dk.npy")).data(), hasBias ? Npy.read(dir.resolve("db.npy")).data() : null),
                        f.name + " grad --backend " + backend);
            }
        }
        assertTrue(reluCases >= 5, reluCases + " relu fixtures");
        WORST.forEach((source, ratio) -> System.out.printf("largest |error| / bound against TF float64, %s: %.2e%n",
                source, ratio));
    }

    /** Σ|w·dz|, Σ|x·dz| and Σ|dz| per element, dz masked by relu as the reference masks it. */
    private static Gradients magnitudes(ConvGeometry g, float[] x, float[] k, float[] b, float[] dy) {
        float[] dz = dy.clone();
        if (g.config().activation() == Activation.RELU) {
            float[] y = org.conv4j.ReferenceConvolution.compute(g, x, k, b);
            for (int i = 0; i < dz.length; i++) {
                dz[i] = y[i] > 0 ? dz[i] : 0;
            }
        }
        ConvLayer linear = ConvLayer.builder(g.rank()).filters(g.outChannels()).kernelSize(kernelSize(g))
                .strides(g.rank() == 2 ? new int[] {g.strideHeight(), g.strideWidth()} : new int[] {g.strideWidth()})
                .dilationRate(g.rank() == 2 ? new int[] {g.dilationHeight(), g.dilationWidth()}
                        : new int[] {g.dilationWidth()})
                .padding(g.config().padding()).groups(g.groups()).useBias(b != null)
                .dataFormat(g.config().dataFormat()).backend(org.conv4j.Backend.JAVA).build();
        linear.close();
        ConvGeometry lg = linear.geometry(g.inputShape());
        return ReferenceGradients.compute(lg, abs(x), abs(k), b == null ? null : new float[b.length], abs(dz));
    }

    private static int[] kernelSize(ConvGeometry g) {
        return g.rank() == 2 ? new int[] {g.kernelHeight(), g.kernelWidth()} : new int[] {g.kernelWidth()};
    }

    private static float[] abs(float[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.abs(a[i]);
        }
        return r;
    }

    private static void check(ConvGeometry g, Gradients magnitude, Gradients expected, Gradients actual, String what) {
        double pixels = (double) g.batch() * g.outHeight() * g.outWidth();
        within(g.kernelHeight() * g.kernelWidth() * (double) (g.outChannels() / g.groups()), magnitude.input(),
                expected.input(), actual.input(), what + " dx");
        within(pixels, magnitude.kernel(), expected.kernel(), actual.kernel(), what + " dW");
        if (expected.bias() != null) {
            within(pixels, magnitude.bias(), expected.bias(), actual.bias(), what + " db");
        } else {
            assertFalse(actual.bias() != null && actual.bias().length > 0, what + " has a bias gradient");
        }
    }

    /** Largest |error| / bound seen per source (the words after the fixture name), for the log. */
    private static final java.util.Map<String, Double> WORST = new java.util.TreeMap<>();

    private static void within(double terms, float[] magnitude, float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double gamma = terms * U / (1 - terms * U);
        String source = what.substring(what.indexOf(' ') + 1);
        for (int i = 0; i < expected.length; i++) {
            double bound = 2 * gamma * magnitude[i] + U * Math.abs(expected[i]) + Float.MIN_NORMAL;
            WORST.merge(source, Math.abs((double) actual[i] - expected[i]) / bound, Math::max);
            if (!(Math.abs((double) actual[i] - expected[i]) <= bound)) {
                fail(what + ": element " + i + " is " + actual[i] + ", TensorFlow float64 says " + expected[i]
                        + " (bound " + bound + ")");
            }
        }
    }
}

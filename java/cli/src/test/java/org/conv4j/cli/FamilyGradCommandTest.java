package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.conv4j.Conv4j;
import org.conv4j.cli.npy.Npy;
import org.conv4j.cli.npy.NpyArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code grad} on the whole family (Conv3D, ConvNDTranspose, DepthwiseConvND with multiplier, SeparableConvND,
 * explicit pads, channels_first) against TensorFlow's float64 gradients (tools/keras/make_gradient_fixtures.py,
 * resources gradients-family/), on every backend, within README "Training"'s bound 2·γ(m)·mag + u·|g| + FLT_MIN,
 * mag the fixture's same gradient of |x|, |W| and relu-masked |dy| and m its {@code terms}. TensorFlow's own
 * float32 gradients must meet the same bound, which shows it is not loose for float32 arithmetic; so must the
 * Java reference on the layer {@code grad} builds from the flags (non-separable fixtures).
 */
class FamilyGradCommandTest {
    private static final double U = Math.pow(2, -24);
    private static final Map<String, Double> WORST = new TreeMap<>();

    @TempDir
    Path dir;

    private static List<String> backends() {
        return Conv4j.nativeAvailable() ? List.of("java", "native") : List.of("java");
    }

    @Test
    void everyLayerAndBackendMatchesTensorFlowFloat64() throws Exception {
        Path root = Path.of(FamilyGradCommandTest.class.getResource("/gradients-family").toURI());
        List<Path> cases;
        try (Stream<Path> s = Files.list(root)) {
            cases = s.sorted().toList();
        }
        assertTrue(cases.size() >= 18, cases.size() + " fixtures");
        for (Path c : cases) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(c.resolve("case.properties"))) {
                p.load(in);
            }
            double terms = Double.parseDouble(p.getProperty("terms"));
            String name = c.getFileName().toString();
            boolean separable = p.getProperty("args").contains("separable");
            boolean bias = Files.exists(c.resolve("bias.npy"));
            List<String> tensors = new ArrayList<>(List.of("x", "kernel"));
            if (separable) {
                tensors.add("pkernel");
            }
            if (bias) {
                tensors.add("bias");
            }
            for (String t : tensors) {
                check(terms, c, t, read(c, "d" + t + "_f32"), name + " TensorFlow float32");
            }
            if (!separable) { // the separable chain's reference is SeparableBackwardTest's finite differences
                referenceMatches(p, c, terms, bias, name);
            }
            for (String backend : backends()) {
                List<String> args = new ArrayList<>(List.of("grad"));
                args.addAll(Arrays.asList(p.getProperty("args").split(" ")));
                args.addAll(List.of("--backend", backend, "--input", c.resolve("x.npy").toString(),
                        "--kernel", c.resolve("kernel.npy").toString(), "--output-grad", c.resolve("dy.npy").toString(),
                        "--input-grad", dir.resolve("dx.npy").toString(),
                        "--kernel-grad", dir.resolve("dkernel.npy").toString()));
                if (separable) {
                    args.addAll(List.of("--pointwise-kernel", c.resolve("pkernel.npy").toString(),
                            "--pointwise-kernel-grad", dir.resolve("dpkernel.npy").toString()));
                }
                if (bias) {
                    args.addAll(List.of("--bias", c.resolve("bias.npy").toString(),
                            "--bias-grad", dir.resolve("dbias.npy").toString()));
                }
                CliRun r = CliRun.of(args.toArray(new String[0]));
                assertEquals(0, r.exit(), name + " " + backend + ": " + r.err());
                for (String t : tensors) {
                    NpyArray got = Npy.read(dir.resolve("d" + t + ".npy"));
                    assertArrayEquals(read(c, t).shape(), got.shape(), name + " d" + t + " shape");
                    check(terms, c, t, got, name + " grad --backend " + backend);
                }
            }
        }
        WORST.forEach((source, ratio) -> System.out.printf("family: largest |error| / bound against TF float64, %s: %.2e%n",
                source, ratio));
    }

    @Test
    void separableWithoutPointwiseGradFileIsOneLineErrorAndWritesNothing() throws Exception {
        Path c = Path.of(FamilyGradCommandTest.class.getResource("/gradients-family/s1_mult2").toURI());
        String line = CliRun.of("grad", "--layer", "separable", "--rank", "1", "--strides", "2", "--padding", "same",
                "--input", c.resolve("x.npy").toString(), "--kernel", c.resolve("kernel.npy").toString(),
                "--pointwise-kernel", c.resolve("pkernel.npy").toString(), "--output-grad",
                c.resolve("dy.npy").toString(), "--input-grad", dir.resolve("dx.npy").toString(), "--kernel-grad",
                dir.resolve("dk.npy").toString()).assertOneLineError();
        assertTrue(line.contains("--pointwise-kernel-grad"), line);
        String other = CliRun.of("grad", "--rank", "1", "--input", c.resolve("x.npy").toString(), "--kernel",
                c.resolve("kernel.npy").toString(), "--output-grad", c.resolve("dy.npy").toString(), "--input-grad",
                dir.resolve("dx.npy").toString(), "--kernel-grad", dir.resolve("dk.npy").toString(),
                "--pointwise-kernel-grad", dir.resolve("dp.npy").toString()).assertOneLineError();
        assertTrue(other.contains("--pointwise-kernel-grad is only for --layer separable"), other);
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count(), "no output file after an error");
        }
    }

    /** The Java reference on the layer `grad` builds from the fixture's flags, against TensorFlow float64. */
    private void referenceMatches(Properties p, Path c, double terms, boolean bias, String name) throws IOException {
        List<String> args = new ArrayList<>(List.of("grad"));
        args.addAll(Arrays.asList(p.getProperty("args").split(" ")));
        args.addAll(List.of("--backend", "java", "--input", c.resolve("x.npy").toString(), "--kernel",
                c.resolve("kernel.npy").toString(), "--output-grad", c.resolve("dy.npy").toString(), "--input-grad",
                dir.resolve("unused_dx.npy").toString(), "--kernel-grad", dir.resolve("unused_dk.npy").toString()));
        if (bias) {
            args.addAll(List.of("--bias", c.resolve("bias.npy").toString()));
        }
        java.io.PrintWriter sink = new java.io.PrintWriter(java.io.Writer.nullWriter());
        picocli.CommandLine.ParseResult parsed = Main.newCommandLine(sink, sink).parseArgs(args.toArray(new String[0]));
        GradCommand cmd = (GradCommand) parsed.subcommand().commandSpec().userObject();
        try (LayerCommand.Loaded loaded = cmd.load()) {
            NpyArray x = loaded.input();
            org.conv4j.ConvGeometry g = loaded.layer().geometry(x.shape());
            org.conv4j.Gradients ref = org.conv4j.ReferenceGradients.compute(g, x.data(), read(c, "kernel").data(),
                    bias ? read(c, "bias").data() : null, read(c, "dy").data());
            check(terms, c, "x", new NpyArray(ref.input(), x.shape()), name + " Java reference");
            check(terms, c, "kernel", new NpyArray(ref.kernel(), read(c, "kernel").shape()), name + " Java reference");
            if (bias) {
                check(terms, c, "bias", new NpyArray(ref.bias(), ref.bias().length), name + " Java reference");
            }
        }
    }

    @Test
    void familyFlagErrorsExitTwoWithOneLineAndWriteNothing() throws Exception {
        Path t = Path.of(FamilyGradCommandTest.class.getResource("/gradients-family/t2_valid_s2").toURI());
        Path d = Path.of(FamilyGradCommandTest.class.getResource("/gradients-family/d1_mult3").toURI());
        String[][] cases = {
            {"--layer", "conv_transpose", "--rank", "2", "--padding", "explicit", "--pads", "1,1,1,1", "--input",
                t.resolve("x.npy").toString(), "--kernel", t.resolve("kernel.npy").toString(), "--output-grad",
                t.resolve("dy.npy").toString()},
            {"--layer", "depthwise", "--rank", "3", "--input", d.resolve("x.npy").toString(), "--kernel",
                d.resolve("kernel.npy").toString(), "--output-grad", d.resolve("dy.npy").toString()},
            {"--layer", "conv_transpose", "--rank", "2", "--strides", "2,2", "--input", t.resolve("x.npy").toString(),
                "--kernel", t.resolve("kernel.npy").toString(), "--output-grad", d.resolve("dy.npy").toString()},
            {"--layer", "depthwise", "--rank", "1", "--output-padding", "1", "--input", d.resolve("x.npy").toString(),
                "--kernel", d.resolve("kernel.npy").toString(), "--output-grad", d.resolve("dy.npy").toString()},
        };
        String[] expected = {"transposed", "--layer depthwise takes --rank 1 or 2", "--output-grad has shape",
            "--output-padding is only for --layer conv_transpose"};
        for (int i = 0; i < cases.length; i++) {
            List<String> args = new ArrayList<>(List.of("grad"));
            args.addAll(Arrays.asList(cases[i]));
            args.addAll(List.of("--input-grad", dir.resolve("dx.npy").toString(), "--kernel-grad",
                    dir.resolve("dk.npy").toString()));
            String line = CliRun.of(args.toArray(new String[0])).assertOneLineError();
            assertTrue(line.contains(expected[i]), "case " + i + ": " + line);
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(0, s.count(), "no output file after an error");
        }
    }

    private static NpyArray read(Path c, String tensor) throws IOException {
        return Npy.read(c.resolve(tensor + ".npy"));
    }

    private static void check(double terms, Path c, String tensor, NpyArray got, String what) throws IOException {
        float[] expected = read(c, "d" + tensor).data(), mag = read(c, "mag_d" + tensor).data(), actual = got.data();
        assertEquals(expected.length, actual.length, what + " d" + tensor + " length");
        double gamma = terms * U / (1 - terms * U);
        String source = what.substring(what.indexOf(' ') + 1) + " d" + tensor;
        for (int i = 0; i < expected.length; i++) {
            double bound = 2 * gamma * mag[i] + U * Math.abs(expected[i]) + Float.MIN_NORMAL;
            double err = Math.abs((double) actual[i] - expected[i]);
            WORST.merge(source, err / bound, Math::max);
            if (!(err <= bound)) {
                fail(what + " d" + tensor + ": element " + i + " is " + actual[i] + ", TensorFlow float64 says "
                        + expected[i] + " (bound " + bound + ")");
            }
        }
    }
}

package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.conv4j.cli.npy.Npy;
import org.conv4j.cli.npy.NpyArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** predict and summary on the Keras fixtures of conv4j-keras (tools/keras/make_model_fixtures.py). */
class PredictCommandTest {
    static final Path FIXTURES = Path.of("..", "keras", "src", "test", "resources", "keras");

    @TempDir
    Path tmp;

    static String f(String name) {
        return FIXTURES.resolve(name).toString();
    }

    @Test
    void twoInputsTwoOutputsMatchKeras() throws IOException {
        for (String backend : new String[] {"native", "java"}) {
            Path y0 = tmp.resolve(backend + "-score.npy");
            Path y1 = tmp.resolve(backend + "-probs.npy");
            CliRun run = CliRun.of("predict", "--model", f("graph.keras"), "--input", f("graph.in0.npy"),
                    "--input", f("graph.in1.npy"), "--output", y0.toString(), "--output", y1.toString(),
                    "--backend", backend, "--threads", "1");
            assertEquals(Main.EXIT_OK, run.exit(), run.err());
            assertTrue(run.out().contains("(probs, " + backend + ")"), run.out());
            for (int j = 0; j < 2; j++) {
                NpyArray got = Npy.read(j == 0 ? y0 : y1);
                NpyArray keras = Npy.read(FIXTURES.resolve("graph.out" + j + ".f32.npy"));
                assertArrayEquals(keras.shape(), got.shape());
                for (int i = 0; i < got.data().length; i++) {
                    // Both float32 runs are within ~1e-6 of Keras' float64 (KerasModelTest has the bound).
                    assertEquals(keras.data()[i], got.data()[i], 1e-5, "output " + j + " element " + i);
                }
            }
        }
    }

    @Test
    void convFamilyModelThreeInputsThreeOutputs() throws IOException {
        Path[] y = {tmp.resolve("y0.npy"), tmp.resolve("y1.npy"), tmp.resolve("y2.npy")};
        CliRun run = CliRun.of("predict", "--model", f("family.keras"), "--input", f("family.in0.npy"),
                "--input", f("family.in1.npy"), "--input", f("family.in2.npy"), "--output", y[0].toString(),
                "--output", y[1].toString(), "--output", y[2].toString(), "--threads", "2");
        assertEquals(Main.EXIT_OK, run.exit(), run.err());
        for (int j = 0; j < 3; j++) {
            NpyArray got = Npy.read(y[j]);
            NpyArray keras = Npy.read(FIXTURES.resolve("family.out" + j + ".f32.npy"));
            assertArrayEquals(keras.shape(), got.shape());
            for (int i = 0; i < got.data().length; i++) {
                assertEquals(keras.data()[i], got.data()[i], 1e-4, "output " + j + " element " + i);
            }
        }
    }

    @Test
    void legacyH5Predicts() throws IOException {
        Path y = tmp.resolve("y.npy");
        CliRun run = CliRun.of("predict", "--model", f("cnn2d.h5"), "--input", f("cnn2d.in0.npy"), "--output",
                y.toString());
        assertEquals(Main.EXIT_OK, run.exit(), run.err());
        assertArrayEquals(new int[] {3, 3}, Npy.read(y).shape());
    }

    @Test
    void summaryPrintsTheLayers() throws IOException {
        CliRun run = CliRun.of("summary", "--model", f("tcn1d.keras"));
        assertEquals(Main.EXIT_OK, run.exit(), run.err());
        assertTrue(run.out().startsWith("Model: \"tcn1d\""), run.out());
        // Keras' own summary of the fixture gives the totals line.
        String total = Files.readAllLines(FIXTURES.resolve("tcn1d.summary.txt")).stream()
                .filter(l -> l.startsWith(" Total params:")).findFirst().orElseThrow();
        assertTrue(run.out().contains("(Conv1D)") && run.out().contains(total + "\n"), run.out());
    }

    @Test
    void errorsAreOneLineAndWriteNothing() throws IOException {
        Path y = tmp.resolve("y.npy");
        String line = CliRun.of("predict", "--model", f("graph.keras"), "--input", f("graph.in0.npy"), "--output",
                y.toString(), "--output", tmp.resolve("y2.npy").toString()).assertOneLineError();
        assertTrue(line.contains("2 inputs") && line.contains("image_b"), line);
        line = CliRun.of("predict", "--model", f("cnn2d.keras"), "--input", f("tcn1d.in0.npy"), "--output",
                y.toString()).assertOneLineError();
        assertTrue(line.contains("needs [N, 9, 9, 3]"), line);
        Path bad = tmp.resolve("bad.keras");
        Files.write(bad, new byte[] {'P', 'K', 3, 4, 0, 0, 0});
        line = CliRun.of("predict", "--model", bad.toString(), "--input", f("cnn2d.in0.npy"), "--output",
                y.toString()).assertOneLineError();
        assertTrue(line.contains("bad.keras"), line);
        assertTrue(CliRun.of("summary", "--model", bad.toString()).assertOneLineError().contains("bad.keras"));
        assertFalse(Files.exists(y));
    }
}

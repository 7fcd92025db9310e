package org.conv4j.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.conv4j.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad files get one typed exception naming the layer or the file part: never another exception, a crash or a hang. */
class HostileModelTest {
    @TempDir
    Path tmp;

    /** The entries of a fixture .keras, in order. */
    static Map<String, byte[]> entries(String model) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(Fixtures.file(model + ".keras").toFile())) {
            var all = z.entries();
            while (all.hasMoreElements()) {
                ZipEntry e = all.nextElement();
                out.put(e.getName(), z.getInputStream(e).readAllBytes());
            }
        }
        return out;
    }

    Path zip(String name, Map<String, byte[]> entries) throws IOException {
        Path p = tmp.resolve(name);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(p))) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return p;
    }

    /** The fixture with its config.json edited by one literal replacement. */
    Path withConfig(String model, String from, String to) throws IOException {
        Map<String, byte[]> e = entries(model);
        String config = new String(e.get("config.json"), StandardCharsets.UTF_8);
        assertTrue(config.contains(from), "fixture config has " + from);
        e.put("config.json", config.replaceFirst(java.util.regex.Pattern.quote(from),
                java.util.regex.Matcher.quoteReplacement(to)).getBytes(StandardCharsets.UTF_8));
        return zip(model + "-edited.keras", e);
    }

    static String refused(Path p) {
        KerasModelException e = assertThrows(KerasModelException.class, () -> KerasModel.load(p, Backend.JAVA, 1));
        return e.getMessage();
    }

    static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "'" + message + "' should mention " + part);
        }
    }

    @Test
    void unknownLayerClassIsNamed() throws IOException {
        String m = refused(withConfig("cnn2d", "\"class_name\": \"Flatten\"", "\"class_name\": \"Flattish\""));
        assertMentions(m, "Flattish", "'flatten'", "not supported");
    }

    @Test
    void customObjectIsNamed() throws IOException {
        String m = refused(withConfig("cnn2d", "\"module\": \"keras.layers\", \"class_name\": \"Flatten\"",
                "\"module\": \"my_layers\", \"class_name\": \"MyFlatten\""));
        assertMentions(m, "MyFlatten", "custom");
    }

    @Test
    void float64LayerIsRefused() throws IOException {
        String m = refused(withConfig("tcn1d", "\"config\": {\"name\": \"float32\"}", "\"config\": {\"name\": \"float64\"}"));
        assertMentions(m, "float64", "float32 only");
    }

    @Test
    void unsupportedOptionIsNamed() throws IOException {
        String m = refused(withConfig("graph", "\"interpolation\": \"nearest\"", "\"interpolation\": \"bilinear\""));
        assertMentions(m, "UpSampling2D", "bilinear");
        m = refused(withConfig("cnn2d", "\"data_format\": \"channels_last\"", "\"data_format\": \"channels_first\""));
        assertMentions(m, "channels_first");
    }

    @Test
    void weightShapesThatDisagreeWithTheConfigAreRefusedBeforeReading() throws IOException {
        String m = refused(withConfig("tcn1d", "\"units\": 2", "\"units\": 3"));
        assertMentions(m, "Dense", "dense", "layers/dense/vars/0", "[3, 2]", "[3, 3]");
        // A config that claims a huge layer: refused by shapes, never allocated.
        m = refused(withConfig("tcn1d", "\"units\": 2", "\"units\": 16000000"));
        assertMentions(m, "Dense", "shape");
    }

    /** A .keras written by Keras 2 (keras_version 2.x) gets Keras 2's hard_sigmoid, clip(0.2x + 0.5, 0, 1). */
    @Test
    void keras2FilesGetKeras2HardSigmoid() throws Exception {
        assertEquals(0.1, Activations.parse("hard_sigmoid", "t", true).at(-2), 1e-15);
        assertEquals(1 / 6.0, Activations.parse("hard_sigmoid", "t", false).at(-2), 1e-15);
        Map<String, byte[]> e = entries("tcn1d");
        e.put("metadata.json", "{\"keras_version\": \"2.15.0\"}".getBytes(StandardCharsets.UTF_8));
        float[] x = Fixtures.floats(Fixtures.npy("tcn1d.in0.npy"));
        try (KerasModel k2 = KerasModel.load(zip("k2.keras", e), Backend.JAVA, 1);
             KerasModel k3 = KerasModel.load(Fixtures.file("tcn1d.keras"), Backend.JAVA, 1)) {
            float[] a = k2.predict(x, 3);
            float[] b = k3.predict(x, 3);
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                diff = Math.max(diff, Math.abs(a[i] - b[i]));
            }
            assertTrue(diff > 1e-3, "tcn1d's hard_sigmoid conv must differ between Keras 2 and 3: " + diff);
        }
    }

    @Test
    void zipBombIsRefused() throws IOException {
        Map<String, byte[]> e = entries("cnn2d");
        e.put("model.weights.h5", new byte[48 << 20]); // 48 MiB of zeros deflates to ~50 KB
        String m = refused(zip("bomb.keras", e));
        assertMentions(m, "zip bomb");
    }

    @Test
    void missingPartsAreNamed() throws IOException {
        Map<String, byte[]> e = entries("cnn2d");
        e.remove("model.weights.h5");
        assertMentions(refused(zip("noweights.keras", e)), "model.weights.h5");
        e = entries("cnn2d");
        e.remove("config.json");
        assertMentions(refused(zip("noconfig.keras", e)), "config.json");
        Path junk = tmp.resolve("junk.keras");
        Files.write(junk, "hello, not a model".getBytes(StandardCharsets.UTF_8));
        assertMentions(refused(junk), "neither");
        assertMentions(refused(tmp.resolve("absent.keras")), "no such file");
    }

    @Test
    void weightsOnlyH5IsRefused() throws IOException {
        // The .keras's inner model.weights.h5 is an HDF5 file without model_config.
        Path p = tmp.resolve("weights.h5");
        Files.write(p, entries("cnn2d").get("model.weights.h5"));
        assertMentions(refused(p), "model_config");
    }

    /**
     * Random byte flips, splices and truncations of every fixture (whole files, and the .keras's
     * inner config.json and model.weights.h5 re-zipped): each load either succeeds, and then
     * predicts, or throws {@link KerasModelException}; nothing else, and never past the timeout.
     */
    @Test
    void fuzzedFilesGetOnlyTheTypedException() throws Exception {
        Random rnd = new Random(14);
        int refusedCount = 0;
        int cases = 0;
        for (String model : Fixtures.MODELS) {
            byte[] keras = Files.readAllBytes(Fixtures.file(model + ".keras"));
            byte[] h5 = Files.readAllBytes(Fixtures.file(model + ".h5"));
            Map<String, byte[]> inner = entries(model);
            for (int i = 0; i < 40; i++) {
                cases += 4;
                refusedCount += tryLoad(write("raw.keras", mutate(keras, rnd)));
                refusedCount += tryLoad(write("raw.h5", mutate(h5, rnd)));
                Map<String, byte[]> e = new LinkedHashMap<>(inner);
                e.put("model.weights.h5", mutate(inner.get("model.weights.h5"), rnd));
                refusedCount += tryLoad(zip("inner-h5.keras", e));
                e = new LinkedHashMap<>(inner);
                e.put("config.json", mutate(inner.get("config.json"), rnd));
                refusedCount += tryLoad(zip("inner-json.keras", e));
            }
        }
        // Most mutations must be caught; a loader that accepted everything would not be checking.
        assertTrue(refusedCount > cases / 2, refusedCount + " of " + cases + " refused");
    }

    private Path write(String name, byte[] data) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, data);
        return p;
    }

    static byte[] mutate(byte[] in, Random rnd) {
        byte[] b = in.clone();
        switch (rnd.nextInt(4)) {
            case 0 -> {
                return java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
            }
            case 1 -> {
                for (int k = 1 + rnd.nextInt(8); k > 0; k--) {
                    b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 2 -> {
                int at = rnd.nextInt(b.length);
                int len = Math.min(1 + rnd.nextInt(64), b.length - at);
                for (int k = 0; k < len; k++) {
                    b[at + k] = (byte) rnd.nextInt(256);
                }
            }
            default -> {
                // Plausible lies: a size-like field set to a huge or negative value.
                int at = rnd.nextInt(Math.max(b.length - 8, 1));
                long v = rnd.nextBoolean() ? Long.MAX_VALUE : -1;
                for (int k = 0; k < 8 && at + k < b.length; k++) {
                    b[at + k] = (byte) (v >>> (8 * k));
                }
            }
        }
        return b;
    }

    /** 1 when refused with the typed exception, 0 when loaded and predicted. */
    private static int tryLoad(Path p) {
        return assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            KerasModel m;
            try {
                m = KerasModel.load(p, Backend.JAVA, 1);
            } catch (KerasModelException e) {
                return 1;
            } catch (Throwable t) {
                fail("untyped " + t + " for " + p.getFileName(), t);
                return 0;
            }
            try (m) {
                float[][] in = new float[m.inputShapes().size()][];
                for (int i = 0; i < in.length; i++) {
                    in[i] = new float[Math.toIntExact(count(m.inputShapes().get(i)))];
                }
                m.predict(in, 1);
            }
            return 0;
        }, () -> "load of a mutated " + p.getFileName() + " hung");
    }

    static long count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}

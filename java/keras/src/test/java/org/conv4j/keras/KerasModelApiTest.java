package org.conv4j.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** summary() against Keras' own, the buffer variants, zero garbage, sharing between threads, close. */
class KerasModelApiTest {
    /** Keras' summary rows as "name (Class)|shape|params", wrapped cells joined. */
    static List<String> kerasRows(String model) throws IOException {
        List<String> rows = new ArrayList<>();
        String[] cells = null;
        for (String line : Files.readAllLines(Fixtures.file(model + ".summary.txt"), StandardCharsets.UTF_8)) {
            if (line.startsWith("│")) {
                String[] parts = line.split("│", -1);
                if (cells == null) {
                    cells = new String[] {"", "", ""};
                }
                for (int c = 0; c < 3; c++) {
                    String t = parts[c + 1].trim();
                    if (!t.isEmpty()) {
                        cells[c] = cells[c].isEmpty() ? t : cells[c] + " " + t;
                    }
                }
            } else if ((line.startsWith("├") || line.startsWith("└")) && cells != null) {
                rows.add(String.join("|", cells));
                cells = null;
            } else if (line.startsWith(" Total") || line.startsWith(" Trainable") || line.startsWith(" Non-train")) {
                rows.add(line.trim());
            }
        }
        return rows;
    }

    /** Every ZeroPadding of the family fixture feeds a forward conv: none runs, the convs pad. */
    @Test
    void zeroPaddingFoldsIntoTheConvItFeeds() throws IOException {
        try (KerasModel m = KerasModel.load(Fixtures.file("family.keras"), Backend.JAVA, 1)) {
            int pads = 0;
            for (Graph.Node n : m.graph().nodes) {
                if (n.op instanceof Layers.PadOp) {
                    pads++;
                    assertTrue(n.folded, n.name + " was not folded into the conv it feeds");
                    Graph.Node reader = m.graph().nodes.stream()
                            .filter(r -> r.op != null && r.op.declaredInputs.length == 1
                                    && m.graph().nodes.get(r.op.declaredInputs[0]) == n)
                            .findFirst().orElseThrow();
                    Layers.ConvOp conv = (Layers.ConvOp) (reader.op instanceof Layers.ConvOp c && c.pre != null
                            ? c.pre : reader.op);
                    assertNotNull(conv.padBefore, reader.name + " has no explicit pads");
                }
            }
            assertEquals(4, pads);
        }
    }

    static List<String> ourRows(String summary) {
        List<String> rows = new ArrayList<>();
        for (String line : summary.split("\n")) {
            if (line.startsWith("│")) {
                String[] parts = line.split("│", -1);
                rows.add(parts[1].trim() + "|" + parts[2].trim() + "|" + parts[3].trim());
            } else if (line.startsWith(" Total") || line.startsWith(" Trainable") || line.startsWith(" Non-train")) {
                rows.add(line.trim());
            }
        }
        return rows;
    }

    @ParameterizedTest
    @ValueSource(strings = {"cnn2d", "tcn1d", "graph", "pool3d", "family"})
    void summaryListsWhatKerasLists(String model) throws IOException {
        List<String> keras = kerasRows(model);
        assertTrue(keras.size() > 5, "parsed Keras' summary of " + model);
        for (String ext : new String[] {".keras", ".h5"}) {
            try (KerasModel m = KerasModel.load(Fixtures.file(model + ext), Backend.JAVA, 1)) {
                String summary = m.summary();
                assertTrue(summary.startsWith("Model: \"" + model + "\""), summary);
                assertEquals(keras, ourRows(summary), summary);
            }
        }
    }

    private static final int CALLS = 3000;

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private static void assertNoGarbage(String what, Runnable call) {
        for (int i = 0; i < CALLS; i++) {
            call.run();
        }
        long before = allocatedBytes();
        for (int i = 0; i < CALLS; i++) {
            call.run();
        }
        long total = allocatedBytes() - before;
        assertTrue(total < CALLS, what + " allocated " + total + " bytes in " + CALLS + " calls");
    }

    /**
     * At a batch large enough for pooling, affines and merges to split over threads (more than
     * KerasModel.SPLIT_FLOATS output floats), every fixture gives the single-thread result bit for
     * bit (each output row is computed the same way whichever thread takes it), and a steady-state
     * call still allocates nothing on the caller's thread.
     */
    @ParameterizedTest
    @ValueSource(strings = {"cnn2d", "graph", "pool3d"}) // tcn1d is too small to split at this batch; family
    // has only a global pooling to split
    void splitJavaOpsMatchOneThreadAndAllocateNothing(String model) throws IOException {
        int batch = 192;
        java.util.SplittableRandom r = new java.util.SplittableRandom(model.length());
        float[][] in;
        try (KerasModel one = KerasModel.load(Fixtures.file(model + ".keras"), Backend.JAVA, 1);
             KerasModel all = KerasModel.load(Fixtures.file(model + ".keras"), Backend.JAVA, 0)) {
            in = new float[one.inputShapes().size()][];
            for (int i = 0; i < in.length; i++) {
                int n = batch;
                for (int d : one.inputShapes().get(i)) {
                    n *= d;
                }
                in[i] = new float[n];
                for (int j = 0; j < n; j++) {
                    in[i][j] = (float) r.nextGaussian();
                }
            }
            assertEquals(0, one.splitOps(batch));
            assertTrue(all.splitOps(batch) > 0, model + " has ops that split at batch " + batch);
            float[][] expected = one.predict(in, batch);
            float[][] got = all.predict(in, batch);
            for (int j = 0; j < expected.length; j++) {
                assertArrayEquals(expected[j], got[j], model + " output " + j);
            }
        }
        if (!model.equals("pool3d")) {
            return; // the quickest model whose pooling, padding and merges split at this batch
        }
        // Zero garbage is the native backend's promise (the Java backend's transposed convs allocate).
        try (KerasModel all = KerasModel.load(Fixtures.file(model + ".keras"), Backend.NATIVE, 0)) {
            float[][] got = all.predict(in, batch);
            int calls = 1000;
            for (int i = 0; i < calls; i++) {
                all.predict(in, batch, got);
            }
            long before = allocatedBytes();
            for (int i = 0; i < calls; i++) {
                all.predict(in, batch, got);
            }
            long total = allocatedBytes() - before;
            // Any object per call is >= 16 bytes (16,000 here); a one-off of a few KB (the JIT
            // deoptimizing a path whose arrays escape analysis had removed) stays below the bound.
            assertTrue(total < 8L * calls, model + " allocated " + total + " bytes in " + calls + " calls");
        }
    }

    @Test
    void bufferVariantsAgreeAndAllocateNothing() throws IOException {
        try (KerasModel m = KerasModel.load(Fixtures.file("graph.keras"), Backend.NATIVE, 1)) {
            float[][] in = {Fixtures.floats(Fixtures.npy("graph.in0.npy")), Fixtures.floats(Fixtures.npy("graph.in1.npy"))};
            int batch = 3;
            float[][] expected = m.predict(in, batch);
            float[][] out = {new float[expected[0].length], new float[expected[1].length]};
            assertNoGarbage("float[][]", () -> m.predict(in, batch, out));
            assertArrayEquals(expected[0], out[0]);
            assertArrayEquals(expected[1], out[1]);

            FloatBuffer[] bin = {direct(in[0]), direct(in[1])};
            FloatBuffer[] bout = {direct(new float[out[0].length]), direct(new float[out[1].length])};
            assertNoGarbage("FloatBuffer", () -> m.predict(bin, batch, bout));
            float[] got = new float[out[1].length];
            bout[1].get(0, got);
            assertArrayEquals(expected[1], got);

            try (FloatPointer p0 = new FloatPointer(in[0]); FloatPointer p1 = new FloatPointer(in[1]);
                 FloatPointer q0 = new FloatPointer(out[0].length); FloatPointer q1 = new FloatPointer(out[1].length)) {
                FloatPointer[] pin = {p0, p1};
                FloatPointer[] pout = {q0, q1};
                assertNoGarbage("FloatPointer", () -> m.predict(pin, batch, pout));
                q0.get(got = new float[out[0].length]);
                assertArrayEquals(expected[0], got);
            }
        }
        try (KerasModel m = KerasModel.load(Fixtures.file("cnn2d.h5"), Backend.NATIVE, 1)) {
            float[] x = Fixtures.floats(Fixtures.npy("cnn2d.in0.npy"));
            float[] y = new float[m.predict(x, 3).length];
            assertNoGarbage("single float[]", () -> m.predict(x, 3, y));
        }
    }

    private static FloatBuffer direct(float[] a) {
        FloatBuffer b = ByteBuffer.allocateDirect(a.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(0, a);
        return b;
    }

    /** Concurrent calls whose pooling and merges split over the workers: each gets its own loops. */
    @Test
    void splitOpsSharedBetweenThreadsGiveTheSameResults() throws Exception {
        int batch = 192;
        try (KerasModel m = KerasModel.load(Fixtures.file("pool3d.keras"), Backend.NATIVE, 0)) {
            assertTrue(m.splitOps(batch) > 0);
            int n = batch;
            for (int d : m.inputShapes().get(0)) {
                n *= d;
            }
            float[] x = new float[n];
            java.util.SplittableRandom r = new java.util.SplittableRandom(3);
            for (int i = 0; i < n; i++) {
                x[i] = (float) r.nextGaussian();
            }
            float[] expected = m.predict(x, batch);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    futures.add(pool.submit(() -> {
                        float[] out = new float[expected.length];
                        for (int i = 0; i < 30; i++) {
                            java.util.Arrays.fill(out, Float.NaN);
                            m.predict(x, batch, out);
                            assertArrayEquals(expected, out);
                        }
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void sharedBetweenThreadsGivesTheSameResults() throws Exception {
        try (KerasModel m = KerasModel.load(Fixtures.file("cnn2d.keras"))) {
            float[] x = Fixtures.floats(Fixtures.npy("cnn2d.in0.npy"));
            float[] one = m.predict(java.util.Arrays.copyOf(x, x.length / 3), 1);
            float[] three = m.predict(x, 3);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int id = t;
                    futures.add(pool.submit(() -> {
                        float[] out1 = new float[one.length];
                        float[] out3 = new float[three.length];
                        for (int i = 0; i < 300; i++) {
                            if ((i + id) % 2 == 0) {
                                m.predict(java.util.Arrays.copyOf(x, x.length / 3), 1, out1);
                                assertArrayEquals(one, out1);
                            } else {
                                m.predict(x, 3, out3);
                                assertArrayEquals(three, out3);
                            }
                        }
                    }));
                }
                for (Future<?> f : futures) {
                    f.get();
                }
            } finally {
                pool.shutdown();
            }
        }
    }

    /** close() while other threads predict: running calls finish, later ones get IllegalStateException. */
    @Test
    void closeWhilePredictingIsSafe() throws Exception {
        KerasModel m = KerasModel.load(Fixtures.file("cnn2d.keras"), Backend.NATIVE, 1);
        float[] x = Fixtures.floats(Fixtures.npy("cnn2d.in0.npy"));
        float[] expected = m.predict(x, 3);
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<Integer>> futures = new ArrayList<>();
            java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(3);
            for (int t = 0; t < 3; t++) {
                futures.add(pool.submit(() -> {
                    float[] y = new float[expected.length];
                    int done = 0;
                    started.countDown();
                    while (true) {
                        try {
                            m.predict(x, 3, y);
                        } catch (IllegalStateException closed) {
                            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
                            return done;
                        }
                        assertArrayEquals(expected, y);
                        done++;
                    }
                }));
            }
            started.await();
            Thread.sleep(50);
            m.close();
            for (Future<Integer> f : futures) {
                assertTrue(f.get() > 0, "each thread predicted before the close");
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void badCallsAreRefusedAndCloseIsFinal() throws IOException {
        KerasModel m = KerasModel.load(Fixtures.file("graph.h5"));
        assertEquals(List.of("image_a", "image_b"), m.inputNames());
        assertEquals(List.of("score", "probs"), m.outputNames());
        assertArrayEquals(new int[] {2, 3}, m.outputShapes().get(1));
        assertThrows(IllegalStateException.class, () -> m.predict(new float[72], 1)); // two inputs
        assertThrows(IllegalArgumentException.class, () -> m.predict(new float[][] {new float[72]}, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.predict(new float[][] {new float[72], new float[71]}, 1));
        assertTrue(e.getMessage().contains("image_b"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.predict(new float[][] {new float[72], new float[72]}, 0));
        m.close();
        m.close();
        assertTrue(m.isClosed());
        assertThrows(IllegalStateException.class, () -> m.predict(new float[][] {new float[72], new float[72]}, 1));
    }
}

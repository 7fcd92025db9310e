package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.internal.Conv4jNative;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The native backward passes through {@link NativeBackward} against {@link GradientReference} on random shapes
 * (rank 1 and 2, strides, dilation, same/valid/causal padding, groups and depthwise, both data formats, batch > 1),
 * within the direct-sum bounds of README "Accuracy"; dw bit-identical at 1, 2 and 3 threads; the pointer variants;
 * concurrent calls; the refusals.
 */
class NativeBackwardTest {
    private static int savedFlags;

    @BeforeAll
    static void nativeOnly() {
        assumeTrue(Conv4j.nativeAvailable(), "native library not loaded: " + Conv4j.nativeLoadError());
        savedFlags = NativePlan.extraFlags;
        NativePlan.extraFlags = savedFlags | Conv4jNative.FLAG_FULL_TEAM; // small calls really use the threads
    }

    @AfterAll
    static void restore() {
        NativePlan.extraFlags = savedFlags;
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextDouble(-1, 1);
        }
        return a;
    }

    /** A random forward geometry; Keras refuses strides > 1 with dilation > 1, so one of them is 1. */
    static ConvGeometry randomGeometry(SplittableRandom r) {
        int rank = 1 + r.nextInt(2);
        int groups = 1;
        int cin = 1 + r.nextInt(12);
        int filters;
        switch (r.nextInt(3)) {
            case 0: // depthwise, multiplier 1 or 2
                groups = cin;
                filters = cin * (1 + r.nextInt(2));
                break;
            case 1:
                groups = cin % 2 == 0 ? 2 : 1;
                filters = groups * (1 + r.nextInt(6));
                break;
            default:
                filters = 1 + r.nextInt(20);
                break;
        }
        boolean dilated = r.nextInt(3) == 0;
        int[] kernel = new int[rank], strides = new int[rank], dilation = new int[rank], in = new int[rank];
        for (int a = 0; a < rank; a++) {
            kernel[a] = 1 + r.nextInt(4);
            strides[a] = dilated ? 1 : 1 + r.nextInt(3);
            dilation[a] = dilated ? 1 + r.nextInt(3) : 1;
            in[a] = (kernel[a] - 1) * dilation[a] + 1 + r.nextInt(8);
        }
        Padding[] paddings = rank == 1 ? Padding.values() : new Padding[] {Padding.VALID, Padding.SAME};
        Padding padding = paddings[r.nextInt(paddings.length)];
        DataFormat format = r.nextBoolean() ? DataFormat.CHANNELS_LAST : DataFormat.CHANNELS_FIRST;
        ConvConfig config = new ConvConfig(rank, filters, kernel, strides, dilation, padding, groups, true,
                Activation.NONE, format, Algorithm.AUTO, false);
        int batch = 1 + r.nextInt(3);
        int[] shape = new int[rank + 2];
        shape[0] = batch;
        boolean last = format == DataFormat.CHANNELS_LAST;
        shape[last ? rank + 1 : 1] = cin;
        for (int a = 0; a < rank; a++) {
            shape[(last ? 1 : 2) + a] = in[a];
        }
        return ConvGeometry.of(config, shape);
    }

    @Test
    void gradientsMatchTheReferenceOnRandomShapes() {
        SplittableRandom r = new SplittableRandom(2026);
        for (int c = 0; c < 150; c++) {
            ConvGeometry g = randomGeometry(r);
            float[] x = random(r, g.inputCount());
            float[] w = random(r, g.kernelCount());
            float[] dy = random(r, g.outputCount());
            float[] bias = r.nextBoolean() ? random(r, g.inChannels()) : null;
            try (NativeBackward b = NativeBackward.create(g, w, bias, Activation.NONE)) {
                String what = c + ": " + g + "\n" + b.explanation();
                float[] dx = new float[g.inputCount()];
                b.inputGradient(dy, dx, 0);
                float[] dxMagnitude = GradientReference.inputGradient(g, Tolerance.abs(dy), Tolerance.abs(w),
                        bias == null ? null : Tolerance.abs(bias));
                // Each dx sums KH*KW*filters/groups products plus the bias.
                Tolerance.assertElementsWithin(g.kernelHeight() * g.kernelWidth() * (g.outChannels() / g.groups())
                                + 1.0, i -> dxMagnitude[i], "backward-data", g,
                        GradientReference.inputGradient(g, dy, w, bias), dx, "dx " + what);

                float[] dw = new float[g.kernelCount()];
                float[] db = new float[g.outChannels()];
                b.weightGradients(x, dy, dw, db, 1);
                double pixels = (double) g.batch() * g.outHeight() * g.outWidth();
                float[] dwMagnitude = GradientReference.kernelGradient(g, Tolerance.abs(x), Tolerance.abs(dy));
                Tolerance.assertElementsWithin(pixels + 1, i -> dwMagnitude[i], "backward-weights", g,
                        GradientReference.kernelGradient(g, x, dy), dw, "dw " + what);
                float[] dbMagnitude = GradientReference.biasGradient(g, Tolerance.abs(dy));
                Tolerance.assertElementsWithin(pixels + 1, i -> dbMagnitude[i], "bias-gradient", g,
                        GradientReference.biasGradient(g, dy), db, "db " + what);

                for (int threads = 2; threads <= 3; threads++) {
                    float[] dw2 = new float[dw.length];
                    float[] db2 = new float[db.length];
                    b.weightGradients(x, dy, dw2, db2, threads);
                    assertArrayEquals(dw, dw2, "dw at " + threads + " threads differs: " + what);
                    assertArrayEquals(db, db2, "db at " + threads + " threads differs: " + what);
                }
            }
        }
    }

    @Test
    void transposedLayerAppliesBiasAndRelu() {
        // Conv1D k=3 s=2 pads 1/1 over 5 inputs (Keras: length 5, same padding gives pads 1/1, 3 outputs).
        ConvConfig config = new ConvConfig(1, 1, new int[] {3}, new int[] {2}, new int[] {1}, Padding.SAME, 1, true,
                Activation.NONE, DataFormat.CHANNELS_LAST, Algorithm.AUTO, false);
        ConvGeometry g = ConvGeometry.of(config, 1, 5, 1);
        assertEquals(3, g.outWidth());
        try (NativeBackward b = NativeBackward.create(g, new float[] {1, 2, 3}, new float[] {0.5f}, Activation.RELU)) {
            float[] dx = new float[5];
            b.inputGradient(new float[] {-1, -10, 0.25f}, dx, 1);
            // dx before bias: [-2, -13, -20, -29.75, 0.5]; + 0.5 and relu.
            assertArrayEquals(new float[] {0, 0, 0, 0, 1}, dx);
        }
        try (NativeBackward b = NativeBackward.create(g, new float[] {1, 2, 3})) {
            float[] dx = new float[5];
            b.inputGradient(new float[] {1, 10, 100}, dx, 1);
            assertArrayEquals(new float[] {2, 13, 20, 130, 200}, dx);
            float[] dw = new float[3];
            float[] db = new float[1];
            b.weightGradients(new float[] {1, 2, 3, 4, 5}, new float[] {1, 10, 100}, dw, db, 1);
            assertArrayEquals(new float[] {420, 531, 42}, dw);
            assertArrayEquals(new float[] {111}, db);
        }
    }

    @Test
    void pointerVariantsMatchTheArrays() {
        SplittableRandom r = new SplittableRandom(7);
        for (int c = 0; c < 20; c++) {
            ConvGeometry g = randomGeometry(r);
            float[] x = random(r, g.inputCount());
            float[] w = random(r, g.kernelCount());
            float[] dy = random(r, g.outputCount());
            try (NativeBackward b = NativeBackward.create(g, w);
                 FloatPointer px = new FloatPointer(x);
                 FloatPointer pdy = new FloatPointer(dy);
                 FloatPointer pdx = new FloatPointer(g.inputCount());
                 FloatPointer pdw = new FloatPointer(g.kernelCount());
                 FloatPointer pdb = new FloatPointer(g.outChannels())) {
                float[] dx = new float[g.inputCount()];
                float[] dw = new float[g.kernelCount()];
                float[] db = new float[g.outChannels()];
                b.inputGradient(dy, dx, 2);
                b.weightGradients(x, dy, dw, db, 2);
                b.inputGradient(pdy, pdx, 2);
                b.weightGradients(px, pdy, pdw, pdb, 2);
                float[] got = new float[dx.length];
                pdx.get(got);
                assertArrayEquals(dx, got, g.toString());
                got = new float[dw.length];
                pdw.get(got);
                assertArrayEquals(dw, got, g.toString());
                got = new float[db.length];
                pdb.get(got);
                assertArrayEquals(db, got, g.toString());
            }
        }
    }

    @Test
    void concurrentCallsGiveTheSingleThreadedResult() throws Exception {
        SplittableRandom r = new SplittableRandom(99);
        ConvConfig config = new ConvConfig(2, 16, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, Padding.SAME,
                1, true, Activation.NONE, DataFormat.CHANNELS_LAST, Algorithm.AUTO, false);
        ConvGeometry g = ConvGeometry.of(config, 2, 12, 11, 8);
        float[] x = random(r, g.inputCount());
        float[] w = random(r, g.kernelCount());
        float[] dy = random(r, g.outputCount());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (NativeBackward b = NativeBackward.create(g, w)) {
            float[] dx = new float[g.inputCount()];
            float[] dw = new float[g.kernelCount()];
            b.inputGradient(dy, dx, 1);
            b.weightGradients(x, dy, dw, null, 1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 20; i++) {
                        float[] dx2 = new float[dx.length];
                        float[] dw2 = new float[dw.length];
                        b.inputGradient(dy, dx2, 1 + i % 2);
                        b.weightGradients(x, dy, dw2, null, 1 + i % 3);
                        assertArrayEquals(dx, dx2);
                        assertArrayEquals(dw, dw2);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badArgumentsAreRefusedInJava() {
        ConvConfig config = new ConvConfig(2, 4, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, Padding.VALID,
                1, true, Activation.NONE, DataFormat.CHANNELS_LAST, Algorithm.AUTO, false);
        ConvGeometry g = ConvGeometry.of(config, 1, 5, 5, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NativeBackward.create(g, new float[3]));
        assertTrue(e.getMessage().contains("kernel must have 72 floats"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> NativeBackward.create(g, new float[72], new float[4], Activation.NONE));
        assertTrue(e.getMessage().contains("one float per input channel (2), got 4"), e.getMessage());
        NativeBackward b = NativeBackward.create(g, new float[72]);
        e = assertThrows(IllegalArgumentException.class, () -> b.inputGradient(new float[35], new float[50], 1));
        assertTrue(e.getMessage().contains("output gradient has 35 floats, but shape [1, 3, 3, 4] needs 36"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> b.inputGradient(new float[36], new float[50], -1));
        assertTrue(e.getMessage().contains("threads must be >= 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> b.weightGradients(new float[50], new float[36], new float[72], new float[3], 1));
        assertTrue(e.getMessage().contains("bias gradient has 3 floats, needs 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> b.weightGradients(new float[50], new float[36], null, null, 1));
        assertTrue(e.getMessage().contains("kernel gradient must not be null"), e.getMessage());
        try (FloatPointer p = new FloatPointer(100)) {
            e = assertThrows(IllegalArgumentException.class, () -> b.inputGradient(p, p, 1));
            assertTrue(e.getMessage().contains("overlap"), e.getMessage());
        }
        b.close();
        b.close(); // idempotent
        IllegalStateException closed = assertThrows(IllegalStateException.class,
                () -> b.inputGradient(new float[36], new float[50], 1));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }
}

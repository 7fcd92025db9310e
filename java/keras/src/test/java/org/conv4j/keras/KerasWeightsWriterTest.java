package org.conv4j.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jhdf.HdfFile;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.conv4j.Activation;
import org.conv4j.Backend;
import org.conv4j.Conv2D;
import org.conv4j.Conv2DTranspose;
import org.conv4j.ConvLayer;
import org.conv4j.DepthwiseConv2D;
import org.conv4j.Optimizer;
import org.conv4j.Padding;
import org.conv4j.Sequential;
import org.conv4j.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The .weights.h5 writer: read back with jHDF, every layer's kernel and bias sit at Keras' paths
 * with Keras' shapes and the exact values. The files and the Java predictions are also left in
 * target/keras-export for tools/keras/check_weights_export.py, which loads them into Keras itself.
 */
class KerasWeightsWriterTest {
    @TempDir
    Path dir;

    static float[] random(SplittableRandom r, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble(-1, 1) * scale);
        }
        return v;
    }

    /** Each layer's arrays at layers/<key>/vars/i, equal to getWeights bit for bit. */
    static void assertWritten(Path file, List<? extends ConvLayer> layers, String... keys) {
        try (HdfFile h5 = new HdfFile(file)) {
            assertEquals(keys.length, ((Group) h5.getChild("layers")).getChildren().size());
            for (int i = 0; i < keys.length; i++) {
                ConvLayer.Weights w = layers.get(i).getWeights();
                Dataset k = h5.getDatasetByPath("layers/" + keys[i] + "/vars/0");
                assertArrayEquals(w.kernelShape(), k.getDimensions(), keys[i] + " kernel shape");
                assertArrayEquals(w.kernel(), (float[]) k.getDataFlat(), 0f, keys[i] + " kernel");
                Group vars = (Group) h5.getByPath("layers/" + keys[i] + "/vars");
                if (w.bias() == null) {
                    assertNull(vars.getChild("1"), keys[i] + " has no bias");
                    assertEquals(1, vars.getChildren().size());
                } else {
                    Dataset b = h5.getDatasetByPath("layers/" + keys[i] + "/vars/1");
                    assertArrayEquals(new int[] {w.bias().length}, b.getDimensions());
                    assertArrayEquals(w.bias(), (float[]) b.getDataFlat(), 0f, keys[i] + " bias");
                }
            }
        }
    }

    static void writeFloats(Path file, float[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        Files.write(file, b.array());
    }

    static Path exportDir() throws IOException {
        return Files.createDirectories(Path.of("target", "keras-export"));
    }

    @Test
    void trainedSequentialWritesKerasPaths() throws IOException {
        SplittableRandom r = new SplittableRandom(15);
        Conv2D a = Conv2D.builder().filters(4).kernelSize(3).padding(Padding.SAME).activation(Activation.RELU)
                .backend(Backend.JAVA).build();
        a.setWeights(random(r, 3 * 3 * 2 * 4, 0.5), random(r, 4, 0.1));
        Conv2D b = Conv2D.builder().filters(2).kernelSize(3).backend(Backend.JAVA).build();
        b.setWeights(random(r, 3 * 3 * 4 * 2, 0.3), random(r, 2, 0.1));
        int[] shape = {6, 7, 7, 2};
        float[] x = random(r, 6 * 7 * 7 * 2, 1);
        float[] y = random(r, 6 * 5 * 5 * 2, 1);
        try (Sequential m = Sequential.builder().input(7, 7, 2).add(a).add(b).build()) {
            float[] before = a.getWeights().kernel();
            Trainer.builder(m).optimizer(Optimizer.adam(0.01)).progress(line -> { }).build().fit(x, shape, y, 3, 3);
            assertFalse(java.util.Arrays.equals(before, a.getWeights().kernel()), "training changed the kernel");
            Path file = dir.resolve("trained.weights.h5");
            KerasWeightsWriter.write(m, file);
            assertWritten(file, m.layers(), "conv2d", "conv2d_1");
            try (var files = Files.list(dir)) {
                assertEquals(1, files.count(), "no temporary file left behind");
            }
            Path out = exportDir();
            KerasWeightsWriter.write(m, out.resolve("trained.weights.h5"));
            writeFloats(out.resolve("trained.x.f32"), x);
            writeFloats(out.resolve("trained.y.f32"), m.predict(x, shape));
        }
    }

    @Test
    void familyLayersWriteKerasShapes() throws IOException {
        SplittableRandom r = new SplittableRandom(16);
        Conv2D c = Conv2D.builder().filters(3).kernelSize(2).useBias(false).backend(Backend.JAVA).build();
        c.setWeights(random(r, 2 * 2 * 2 * 3, 0.5), null);
        DepthwiseConv2D d = DepthwiseConv2D.builder().inputChannels(3).depthMultiplier(2).kernelSize(3)
                .padding(Padding.SAME).backend(Backend.JAVA).build();
        d.setWeights(random(r, 3 * 3 * 3 * 2, 0.5), random(r, 6, 0.1));
        Conv2DTranspose t = Conv2DTranspose.builder().filters(2).kernelSize(2).strides(2)
                .backend(Backend.JAVA).build();
        t.setWeights(random(r, 2 * 2 * 2 * 6, 0.5), new int[] {2, 2, 2, 6}, random(r, 2, 0.1));
        Conv2D c2 = Conv2D.builder().filters(1).kernelSize(1).backend(Backend.JAVA).build();
        c2.setWeights(random(r, 2, 0.5), random(r, 1, 0.1));
        List<ConvLayer> layers = List.of(c, d, t, c2);
        Path file = dir.resolve("family.weights.h5");
        KerasWeightsWriter.write(layers, file);
        assertWritten(file, layers, "conv2d", "depthwise_conv2d", "conv2d_transpose", "conv2d_1");
        assertArrayEquals(new int[] {3, 3, 3, 2}, d.getWeights().kernelShape(), "Keras' depthwise layout");

        float[] x = random(r, 2 * 5 * 6 * 2, 1);
        float[] y = c.predict(x, 2, 5, 6, 2);
        y = d.predict(y, 2, 4, 5, 3);
        y = t.predict(y, 2, 4, 5, 6);
        y = c2.predict(y, 2, 8, 10, 2);
        Path out = exportDir();
        KerasWeightsWriter.write(layers, out.resolve("family.weights.h5"));
        writeFloats(out.resolve("family.x.f32"), x);
        writeFloats(out.resolve("family.y.f32"), y);
        for (ConvLayer l : layers) {
            l.close();
        }
    }

    @Test
    void refusesLayersWithoutWeights() {
        try (Conv2D c = Conv2D.builder().filters(1).kernelSize(1).backend(Backend.JAVA).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> KerasWeightsWriter.write(List.of(c), dir.resolve("x.weights.h5")));
            assertTrue(e.getMessage().contains("no weights"), e.getMessage());
            assertFalse(Files.exists(dir.resolve("x.weights.h5")));
        }
    }
}

package org.conv4j.keras;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.conv4j.ConvConfig;
import org.conv4j.ConvLayer;
import org.conv4j.Sequential;

/**
 * Writes conv layers' current weights (after training with {@link org.conv4j.Trainer}, say) as a
 * Keras 3 {@code .weights.h5} file, which {@code model.load_weights(path)} reads into a Keras model
 * built with the same layers in the same order: {@code layers/<key>/vars/0} the kernel (Keras
 * layout), {@code vars/1} the bias, where {@code <key>} is the snake-cased Keras class name numbered
 * per class ({@code conv2d}, {@code conv2d_1}, {@code depthwise_conv2d}, {@code conv2d_transpose}),
 * as Keras names them. The Keras model may have weightless layers (activations, pooling) in between;
 * they take no key of a conv class. A {@link org.conv4j.SeparableConv} in a {@link Sequential} is
 * written as its two steps (a depthwise conv and a 1x1 {@code Conv*D}), which is what a Keras model
 * built from {@code DepthwiseConv*D} then {@code Conv*D(kernel_size=1)} holds, not a Keras
 * {@code SeparableConv*D}. Stateless and thread-safe; the file is written whole to a temporary file
 * and moved into place, so a failure leaves no partial file.
 */
public final class KerasWeightsWriter {
    private KerasWeightsWriter() {
    }

    /** Writes {@code model}'s conv layers in order; see the class comment. */
    public static void write(Sequential model, Path file) throws IOException {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        write(model.layers(), file);
    }

    /**
     * Writes {@code layers} in order (each a Keras layer of its class); every layer must have its
     * weights set and be open.
     */
    public static void write(List<? extends ConvLayer> layers, Path file) throws IOException {
        if (layers == null || file == null) {
            throw new IllegalArgumentException("layers and file must not be null");
        }
        ConvLayer.Weights[] weights = new ConvLayer.Weights[layers.size()];
        String[] keys = new String[layers.size()];
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            ConvLayer l = layers.get(i);
            if (l == null) {
                throw new IllegalArgumentException("layer " + i + " is null");
            }
            weights[i] = l.getWeights();
            if (weights[i] == null) {
                throw new IllegalArgumentException("layer " + i + " (" + l + ") has no weights set");
            }
            keys[i] = Graph.weightKey(kerasClass(l.config()), counts);
        }
        Path dir = file.toAbsolutePath().getParent();
        Path temp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            try (WritableHdfFile h5 = HdfFile.write(temp)) {
                WritableGroup root = h5.putGroup("layers");
                for (int i = 0; i < keys.length; i++) {
                    WritableGroup vars = root.putGroup(keys[i]).putGroup("vars");
                    vars.putAttribute("name", keys[i]);
                    vars.putDataset("0", nested(weights[i].kernel(), weights[i].kernelShape()));
                    if (weights[i].bias() != null) {
                        vars.putDataset("1", weights[i].bias());
                    }
                }
                // Keras also writes an empty top-level "vars" group; jHDF 0.13 writes empty groups
                // unreadably, and Keras reads a missing group of a variable-less object as empty.
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** The Keras class a conv layer is: Conv2D, Conv1DTranspose, DepthwiseConv2D, ... */
    static String kerasClass(ConvConfig c) {
        return switch (c.kind()) {
            case CONV -> "Conv" + c.rank() + "D";
            case TRANSPOSE -> "Conv" + c.rank() + "DTranspose";
            case DEPTHWISE -> "DepthwiseConv" + c.rank() + "D";
        };
    }

    /** The flat row-major values as the nested float array of {@code shape} jHDF writes. */
    static Object nested(float[] flat, int[] shape) {
        Object out = Array.newInstance(float.class, shape);
        fill(out, flat, 0, shape, 0);
        return out;
    }

    private static int fill(Object array, float[] flat, int at, int[] shape, int axis) {
        if (axis == shape.length - 1) {
            float[] row = (float[]) array;
            System.arraycopy(flat, at, row, 0, row.length);
            return at + row.length;
        }
        for (int i = 0; i < shape[axis]; i++) {
            at = fill(Array.get(array, i), flat, at, shape, axis + 1);
        }
        return at;
    }
}

package org.conv4j.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.conv4j.ConvLayer;

/**
 * One or more conv4j layers applied in order to samples of one shape: configurations, weights and
 * the per-sample input shape (without the batch axis, in the first layer's data format). Built on
 * the driver, where {@link #of} checks everything with the library itself, so a bad configuration
 * fails there with the library's message before any task runs; then broadcast to the executors.
 * Immutable; its {@link #id()} names this exact configuration and these weights in the executors'
 * layer cache.
 */
public final class ConvStack implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Kernel (Keras layout) and bias (null without bias) of one layer. */
    public record Weights(float[] kernel, float[] bias) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private final String id = UUID.randomUUID().toString();
    private final int[] sampleShape;
    private final List<LayerSpec> specs;
    private final List<Weights> weights;
    private final int[] outputSampleShape;

    private ConvStack(int[] sampleShape, List<LayerSpec> specs, List<Weights> weights, int[] outputSampleShape) {
        this.sampleShape = sampleShape;
        this.specs = specs;
        this.weights = weights;
        this.outputSampleShape = outputSampleShape;
    }

    /**
     * The layers' configurations and current weights (copied), applied in order to samples of
     * {@code sampleShape}. The layers stay the caller's to close. Each executor uses its default
     * backend ({@code -Dconv4j.backend}, else native where it loads); to force one, give
     * {@link LayerSpec}s whose JSON names a {@code backend}.
     */
    public static ConvStack of(int[] sampleShape, ConvLayer... layers) {
        List<LayerSpec> specs = new ArrayList<>();
        List<Weights> weights = new ArrayList<>();
        describe(layers, specs, weights);
        return of(sampleShape, specs, weights);
    }

    /**
     * Appends each layer's configuration (without its backend: each executor uses its default,
     * native where it loads) and its current weights.
     */
    static void describe(ConvLayer[] layers, List<LayerSpec> specs, List<Weights> weights) {
        if (layers == null || layers.length == 0) {
            throw new IllegalArgumentException("at least one layer is needed");
        }
        for (int i = 0; i < layers.length; i++) {
            ConvLayer.Weights w = layers[i].getWeights();
            if (w == null) {
                throw new IllegalStateException("layer " + i + " (" + layers[i].config()
                        + "): weights are not set: call setWeights(kernel, bias) first");
            }
            specs.add(LayerSpec.of(layers[i], false));
            weights.add(new Weights(w.kernel(), w.bias()));
        }
    }

    /**
     * Configurations and weights as data (weights are copied). Builds every layer once here with
     * the library and runs its checks: configuration, weights, shapes and the channels flowing
     * from one layer into the next, and the native plan for a one-sample batch.
     */
    public static ConvStack of(int[] sampleShape, List<LayerSpec> specs, List<Weights> weights) {
        if (specs == null || specs.isEmpty()) {
            throw new IllegalArgumentException("at least one layer is needed");
        }
        if (weights == null || weights.size() != specs.size()) {
            throw new IllegalArgumentException(specs.size() + " layers need " + specs.size()
                    + " weights, got " + (weights == null ? "none" : weights.size()));
        }
        if (sampleShape == null || sampleShape.length != specs.get(0).rank() + 1) {
            throw new IllegalArgumentException("input shape must have " + (specs.get(0).rank() + 1)
                    + " dimensions per sample for " + specs.get(0).dataFormat().kerasName() + " Conv"
                    + specs.get(0).rank() + "D (no batch axis), got "
                    + (sampleShape == null ? "null" : Arrays.toString(sampleShape)));
        }
        List<Weights> copies = new ArrayList<>();
        for (Weights w : weights) {
            if (w == null || w.kernel() == null) {
                throw new IllegalArgumentException("kernel must not be null (layer " + copies.size() + ")");
            }
            copies.add(new Weights(w.kernel().clone(), w.bias() == null ? null : w.bias().clone()));
        }
        int[] shape = sampleShape.clone();
        for (int i = 0; i < specs.size(); i++) {
            int[] batchShape = withBatch(1, shape);
            if (batchShape.length != specs.get(i).rank() + 2) {
                throw new IllegalArgumentException("layer " + i + " (" + specs.get(i) + ") is Conv"
                        + specs.get(i).rank() + "D but its input, the output of layer " + (i - 1) + ", has shape "
                        + Arrays.toString(batchShape));
            }
            try (ConvLayer layer = specs.get(i).build(1)) {
                layer.setWeights(copies.get(i).kernel(), copies.get(i).bias());
                layer.explain(batchShape); // geometry, channels against the kernel, native plan
                int[] out = layer.outputShape(batchShape);
                shape = Arrays.copyOfRange(out, 1, out.length);
            } catch (IllegalArgumentException | IllegalStateException e) {
                throw new IllegalArgumentException("conv4j layer " + i + " of " + specs.size() + " on input "
                        + Arrays.toString(batchShape) + ": " + e.getMessage(), e);
            }
        }
        return new ConvStack(sampleShape.clone(), List.copyOf(specs), List.copyOf(copies), shape);
    }

    static int[] withBatch(int n, int[] sampleShape) {
        int[] s = new int[sampleShape.length + 1];
        s[0] = n;
        System.arraycopy(sampleShape, 0, s, 1, sampleShape.length);
        return s;
    }

    /** Names this configuration with these weights (a fresh UUID per stack). */
    public String id() {
        return id;
    }

    public int[] sampleShape() {
        return sampleShape.clone();
    }

    public int[] outputSampleShape() {
        return outputSampleShape.clone();
    }

    /** Floats per input sample. */
    public int sampleSize() {
        return product(sampleShape);
    }

    /** Floats per output sample. */
    public int outputSampleSize() {
        return product(outputSampleShape);
    }

    public List<LayerSpec> specs() {
        return specs;
    }

    /** The weights as held (not copied): do not modify the arrays. */
    public List<Weights> weights() {
        return weights;
    }

    public int size() {
        return specs.size();
    }

    /** Builds the layers with their weights, each using {@code threads} OpenMP threads per call. */
    ConvLayer[] build(int threads) {
        ConvLayer[] layers = new ConvLayer[specs.size()];
        try {
            for (int i = 0; i < layers.length; i++) {
                layers[i] = specs.get(i).build(threads);
                layers[i].setWeights(weights.get(i).kernel(), weights.get(i).bias());
            }
            return layers;
        } catch (RuntimeException e) {
            for (ConvLayer l : layers) {
                if (l != null) {
                    l.close();
                }
            }
            throw e;
        }
    }

    private static int product(int[] shape) {
        long p = 1;
        for (int d : shape) {
            p *= d;
        }
        return Math.toIntExact(p);
    }
}

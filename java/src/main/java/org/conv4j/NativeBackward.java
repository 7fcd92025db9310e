package org.conv4j;

import java.util.concurrent.atomic.AtomicBoolean;
import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.internal.Conv4jNative;

/**
 * The native backward passes of one forward convolution (a {@link ConvGeometry}): a backward-data plan over a copy
 * of the kernel, and a backward-weights plan, which needs none.
 *
 * <ul>
 *   <li>{@link #inputGradient}: dx = conv_transpose(dy, w), or, made by {@link #create(ConvGeometry, float[],
 *       float[], Activation)} with a bias over the input channels and relu, a transposed convolution layer's
 *       output.
 *   <li>{@link #weightGradients}: dw in the Keras kernel layout and db over the filters; bit-identical for every
 *       thread count.
 * </ul>
 *
 * <p>For a transposed layer (a transposed geometry: y = F^T(x) for the forward convolution F from y's shape to
 * x's) the roles turn: dx = F(dy) runs as a FORWARD plan of F over the same kernel, and dW = F's backward weights
 * with x and dy swapped (F's input is dy, its output gradient x), already in the transposed layer's Keras kernel
 * layout {@code [k..., filters, Cin]}; db = Σ dy per filter is summed here in double (F's bias gradient would be
 * over the wrong channels).
 *
 * <p>Gradients are those of the convolution before its activation: the passes have none, so for a relu layer the
 * caller first multiplies dy by relu's derivative (1 where the forward output is positive, else 0). Tensors are in
 * the geometry's data format; dy has the forward output's shape, dx the forward input's.
 *
 * <p>Thread-safe: the plans are immutable, any number of threads may call at once. {@link #close()} frees each
 * native plan after the last call running on it returns; calls after it throw {@link IllegalStateException}.
 */
final class NativeBackward implements AutoCloseable {
    private final ConvGeometry geometry;
    private final NativePlan data;
    private final NativePlan weights;
    private final AtomicBoolean closed = new AtomicBoolean();

    private NativeBackward(ConvGeometry geometry, NativePlan data, NativePlan weights) {
        this.geometry = geometry;
        this.data = data;
        this.weights = weights;
    }

    /** The gradient passes of {@code g} with {@code kernel} (Keras layout, copied). */
    static NativeBackward create(ConvGeometry g, float[] kernel) {
        return create(g, kernel, null, Activation.NONE);
    }

    /**
     * As {@link #create(ConvGeometry, float[])}, with {@code dataBias} (over the forward input channels, copied;
     * null for none) and {@code dataActivation} applied to the backward-data result: a transposed convolution.
     */
    static NativeBackward create(ConvGeometry g, float[] kernel, float[] dataBias, Activation dataActivation) {
        if (g == null) {
            throw new IllegalArgumentException("geometry must not be null");
        }
        if (kernel == null || kernel.length != g.kernelCount()) {
            throw new IllegalArgumentException("kernel must have " + g.kernelCount() + " floats for " + g + ", got "
                    + (kernel == null ? "null" : kernel.length));
        }
        if (dataBias != null && dataBias.length != g.inChannels()) {
            throw new IllegalArgumentException("backward-data bias must have one float per input channel ("
                    + g.inChannels() + "), got " + dataBias.length);
        }
        if (dataActivation == null) {
            throw new IllegalArgumentException("activation must not be null");
        }
        if (g.transposed() && (dataBias != null || dataActivation != Activation.NONE)) {
            throw new IllegalArgumentException("a transposed layer's input gradient takes no bias or activation");
        }
        NativePlan data = NativePlan.createBackward(g, g.transposed() ? Conv4jNative.PROPAGATION_FORWARD
                : Conv4jNative.PROPAGATION_BACKWARD_DATA, kernel, dataBias, dataActivation);
        try {
            return new NativeBackward(g, data,
                    NativePlan.createBackward(g, Conv4jNative.PROPAGATION_BACKWARD_WEIGHTS, null, null,
                            Activation.NONE));
        } catch (RuntimeException | Error e) {
            data.release();
            throw e;
        }
    }

    ConvGeometry geometry() {
        return geometry;
    }

    /** The explain lines of the two plans (which algorithm each runs). */
    String explanation() {
        return data.explanation() + "\n" + weights.explanation();
    }

    /** dx from dy; both arrays exactly the forward output's and input's element counts. */
    void inputGradient(float[] outputGradient, float[] inputGradient, int threads) {
        ConvLayer.requireTensor("output gradient", outputGradient, geometry, ConvLayer.Tensor.OUTPUT);
        ConvLayer.requireTensor("input gradient", inputGradient, geometry, ConvLayer.Tensor.INPUT);
        requireThreads(threads);
        NativePlan plan = acquire(data);
        try {
            plan.execute(outputGradient, inputGradient, threads);
        } finally {
            plan.release();
        }
    }

    /** dx from dy, from each pointer's position; the two must not overlap. */
    void inputGradient(FloatPointer outputGradient, FloatPointer inputGradient, int threads) {
        ConvLayer.requireRemaining("output gradient", outputGradient, geometry.outputCount());
        ConvLayer.requireRemaining("input gradient", inputGradient, geometry.inputCount());
        ConvLayer.requireDisjoint("gradients", start(outputGradient), geometry.outputCount(), start(inputGradient),
                geometry.inputCount());
        requireThreads(threads);
        NativePlan plan = acquire(data);
        try {
            plan.execute(outputGradient, inputGradient, threads);
        } finally {
            plan.release();
        }
    }

    /** dw (and db unless {@code biasGradient} is null) from x and dy; every array exactly its tensor's size. */
    void weightGradients(float[] input, float[] outputGradient, float[] kernelGradient, float[] biasGradient,
                         int threads) {
        ConvLayer.requireTensor("input", input, geometry, ConvLayer.Tensor.INPUT);
        ConvLayer.requireTensor("output gradient", outputGradient, geometry, ConvLayer.Tensor.OUTPUT);
        ConvLayer.requireTensor("kernel gradient", kernelGradient, geometry, ConvLayer.Tensor.KERNEL);
        if (biasGradient != null && biasGradient.length != geometry.outChannels()) {
            throw new IllegalArgumentException("bias gradient has " + biasGradient.length + " floats, needs "
                    + geometry.outChannels() + " (one per filter)");
        }
        requireThreads(threads);
        NativePlan plan = acquire(weights);
        try {
            if (geometry.transposed()) {
                plan.executeBackwardWeights(outputGradient, input, kernelGradient, null, threads);
                if (biasGradient != null) {
                    biasSum(outputGradient, null, biasGradient, null);
                }
            } else {
                plan.executeBackwardWeights(input, outputGradient, kernelGradient, biasGradient, threads);
            }
        } finally {
            plan.release();
        }
    }

    /** As the array variant, from each pointer's position; the outputs must not overlap the inputs or each other. */
    void weightGradients(FloatPointer input, FloatPointer outputGradient, FloatPointer kernelGradient,
                         FloatPointer biasGradient, int threads) {
        int in = geometry.inputCount(), out = geometry.outputCount(), k = geometry.kernelCount();
        ConvLayer.requireRemaining("input", input, in);
        ConvLayer.requireRemaining("output gradient", outputGradient, out);
        ConvLayer.requireGradientOutput("kernel gradient", kernelGradient, k, input, in, outputGradient, out, null,
                null, k);
        if (biasGradient != null) {
            ConvLayer.requireGradientOutput("bias gradient", biasGradient, geometry.outChannels(), input, in,
                    outputGradient, out, null, kernelGradient, k);
        }
        requireThreads(threads);
        NativePlan plan = acquire(weights);
        try {
            if (geometry.transposed()) {
                plan.executeBackwardWeights(outputGradient, input, kernelGradient, null, threads);
                if (biasGradient != null) {
                    biasSum(null, outputGradient, null, biasGradient);
                }
            } else {
                plan.executeBackwardWeights(input, outputGradient, kernelGradient, biasGradient, threads);
            }
        } finally {
            plan.release();
        }
    }

    /**
     * db[c] = Σ dy over every pixel of filter c, in double, from {@code array} or else {@code pointer} (from its
     * position), into {@code db} or else {@code dbPointer}; no allocation. Serial: the transposed layer's db is a small share of its backward.
     */
    private void biasSum(float[] array, FloatPointer pointer, float[] db, FloatPointer dbPointer) {
        int cout = geometry.outChannels(), per = geometry.outputCount() / geometry.batch() / cout;
        boolean last = geometry.config().dataFormat() == DataFormat.CHANNELS_LAST;
        long at = pointer == null ? 0 : pointer.position();
        for (int c = 0; c < cout; c++) {
            double sum = 0;
            for (int n = 0; n < geometry.batch(); n++) {
                for (int p = 0; p < per; p++) {
                    long i = last ? ((long) n * per + p) * cout + c : ((long) n * cout + c) * per + p;
                    sum += array != null ? array[(int) i] : pointer.get(at + i);
                }
            }
            if (db != null) {
                db[c] = (float) sum;
            } else {
                dbPointer.put(dbPointer.position() + c, (float) sum);
            }
        }
    }

    /** Frees both plans once the calls running on them return. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            data.release();
            weights.release();
        }
    }

    private NativePlan acquire(NativePlan plan) {
        if (closed.get() || !plan.acquire()) {
            throw new IllegalStateException("conv4j: backward passes already closed: " + geometry);
        }
        return plan;
    }

    private static long start(FloatPointer p) {
        return p.address() + p.position() * Float.BYTES;
    }

    private static void requireThreads(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = all), got " + threads);
        }
    }
}

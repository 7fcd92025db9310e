package org.conv4j;

import java.util.Arrays;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Keras' {@code SeparableConv1D} / {@code SeparableConv2D}: a depthwise convolution (kernel
 * {@code [k..., Cin, depth_multiplier]}, the layer's strides, padding and dilation, no bias) then
 * a pointwise one (kernel {@code [1(, 1), Cin × depth_multiplier, filters]}), one bias
 * {@code [filters]} on the pointwise, the activation at the end. On the native backend the
 * intermediate map lives in native memory only (allocated per call and freed before it returns);
 * the Java backend keeps it in a Java array.
 *
 * <p><b>Threads.</b> A layer may be shared: concurrent {@code predict} calls run in parallel;
 * {@link #setWeights} and {@link #close} wait for running calls and are atomic for them (a call
 * sees both new kernels or both old ones).
 */
public abstract class SeparableConv implements AutoCloseable {
    private final ConvLayer depthwise;
    private final ConvLayer pointwise;
    private final int filters;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();

    SeparableConv(ConvLayer depthwise, ConvLayer pointwise) {
        this.depthwise = depthwise;
        this.pointwise = pointwise;
        this.filters = pointwise.config().filters();
    }

    /** The depthwise step (no bias, no activation); owned by this layer. */
    ConvLayer depthwise() {
        return depthwise;
    }

    /** The pointwise step (bias and activation); owned by this layer. */
    ConvLayer pointwise() {
        return pointwise;
    }

    /** The depthwise step's configuration (kernel_size, strides, padding, dilation, depth_multiplier). */
    public ConvConfig depthwiseConfig() {
        return depthwise.config();
    }

    public int filters() {
        return filters;
    }

    public int depthMultiplier() {
        return depthwise.config().depthMultiplier();
    }

    public Backend backend() {
        return depthwise.backend();
    }

    /** Keras' count_params: the two kernels and the bias. */
    public long countParams() {
        ConvConfig d = depthwise.config();
        ConvConfig p = pointwise.config();
        return d.kernelVolume() * d.filters() + (long) d.filters() * filters + (p.useBias() ? filters : 0);
    }

    /**
     * Sets the depthwise kernel {@code [k..., Cin, depth_multiplier]}, the pointwise kernel
     * {@code [1(, 1), Cin × depth_multiplier, filters]} (flattened, Keras' order) and the bias
     * {@code [filters]} (null when use_bias is false). The arrays are copied.
     */
    public void setWeights(float[] depthwiseKernel, float[] pointwiseKernel, float[] bias) {
        int mid = depthwise.config().filters();
        if (pointwiseKernel == null || pointwiseKernel.length != (long) mid * filters) {
            throw new IllegalArgumentException("pointwise kernel must have Cin × depth_multiplier (" + mid
                    + ") × filters (" + filters + ") = " + (long) mid * filters + " values, got "
                    + (pointwiseKernel == null ? "null" : pointwiseKernel.length));
        }
        lock.writeLock().lock();
        try {
            depthwise.setWeights(depthwiseKernel, null);
            pointwise.setWeights(pointwiseKernel, bias);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The output shape for an input shape (layer's data format); validates it. */
    public int[] outputShape(int... inputShape) {
        return pointwise.outputShape(depthwise.outputShape(inputShape));
    }

    /** Runs the layer on {@code input} of {@code inputShape} (layer's data format); returns a new array. */
    public float[] predict(float[] input, int... inputShape) {
        lock.readLock().lock();
        try {
            int[] midShape = depthwise.outputShape(inputShape);
            if (depthwise.backend() == Backend.JAVA) {
                return pointwise.predict(depthwise.predict(input, inputShape), midShape);
            }
            ConvGeometry g = depthwise.geometry(inputShape);
            if (input == null || input.length != g.inputCount()) {
                throw new IllegalArgumentException("input has " + (input == null ? "null" : input.length)
                        + " floats, but shape " + Arrays.toString(inputShape) + " needs " + g.inputCount());
            }
            int[] outShape = pointwise.outputShape(midShape);
            try (FloatPointer in = new FloatPointer(input);
                 FloatPointer mid = new FloatPointer(g.outputCount());
                 FloatPointer out = new FloatPointer(count(outShape))) {
                depthwise.predict(in, inputShape, mid);
                pointwise.predict(mid, midShape, out);
                float[] result = new float[count(outShape)];
                out.get(result);
                return result;
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Runs between native pointers (native backend): the intermediate map never leaves native memory. */
    public void predict(FloatPointer input, int[] inputShape, FloatPointer output) {
        lock.readLock().lock();
        try {
            int[] midShape = depthwise.outputShape(inputShape);
            try (FloatPointer mid = new FloatPointer(count(midShape))) {
                depthwise.predict(input, inputShape, mid);
                pointwise.predict(mid, midShape, output);
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * The gradients of a separable layer: dL/dx, the depthwise kernel's {@code [k..., Cin, depth_multiplier]},
     * the pointwise kernel's {@code [1(, 1), Cin × depth_multiplier, filters]} (Keras' layouts, as
     * {@link #setWeights}) and the bias' ({@code [filters]}, null without bias).
     */
    public record SeparableGradients(float[] input, float[] depthwiseKernel, float[] pointwiseKernel, float[] bias) {
    }

    /**
     * The gradients for {@code outputGradient} dL/dy (the output's shape) at {@code input}: the chain rule
     * through the depthwise output m. The pointwise step's backward gives dm, dW_pointwise and db (relu's mask
     * from y); the depthwise step's backward of dm gives dx and dW_depthwise. Each step runs its layer's
     * backward on this layer's backend. Safe to call concurrently with {@code predict}, itself and
     * {@link #setWeights} (a call sees both old kernels or both new ones).
     */
    public SeparableGradients backward(float[] input, float[] outputGradient, int... inputShape) {
        lock.readLock().lock();
        try {
            int[] midShape = depthwise.outputShape(inputShape);
            float[] mid = depthwise.predict(input, inputShape);
            Gradients p = pointwise.backward(mid, outputGradient, midShape);
            Gradients d = depthwise.backward(input, p.input(), inputShape);
            return new SeparableGradients(d.input(), d.kernel(), p.kernel(), p.bias());
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * As {@link #backward(float[], float[], int...)} between native pointers (from each position): dx, the
     * two kernels' gradients and db (each may be null to skip it; db must be null without bias). The
     * depthwise output and its gradient live in native memory allocated for the call and freed before it
     * returns; the same bits as the array variant.
     */
    public void backward(FloatPointer input, int[] inputShape, FloatPointer outputGradient, FloatPointer inputGradient,
                         FloatPointer depthwiseKernelGradient, FloatPointer pointwiseKernelGradient,
                         FloatPointer biasGradient) {
        lock.readLock().lock();
        try {
            int[] midShape = depthwise.outputShape(inputShape);
            int midCount = count(midShape);
            try (FloatPointer mid = new FloatPointer(midCount); FloatPointer dmid = new FloatPointer(midCount)) {
                depthwise.predict(input, inputShape, mid);
                pointwise.backward(mid, midShape, outputGradient, dmid, pointwiseKernelGradient, biasGradient);
                if (inputGradient != null || depthwiseKernelGradient != null) {
                    depthwise.backward(input, inputShape, dmid, inputGradient, depthwiseKernelGradient, null);
                }
            }
        } finally {
            lock.readLock().unlock();
        }
    }

    private static int count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return Math.toIntExact(n);
    }

    public boolean isClosed() {
        return depthwise.isClosed();
    }

    /** Frees both steps' native memory; closing twice is harmless. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            depthwise.close();
            pointwise.close();
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        ConvConfig d = depthwise.config();
        return "SeparableConv" + d.rank() + "D(filters=" + filters + ", depth_multiplier=" + d.depthMultiplier()
                + ", depthwise=" + d + ", pointwise=" + pointwise.config() + ")";
    }

    /** Builder: the depthwise vocabulary plus filters; input channels are required, as for depthwise layers. */
    @SuppressWarnings("unchecked")
    public abstract static class Builder<B extends Builder<B>> extends ConvLayer.DepthwiseBuilder<B> {
        private int pointwiseFilters;

        Builder(int rank) {
            super(rank);
        }

        /** Output channels of the pointwise step (Keras {@code filters}). */
        @Override
        public B filters(int filters) {
            this.pointwiseFilters = filters;
            return (B) this;
        }

        /** The two steps: depthwise without bias or activation, then 1×1 pointwise with them. */
        ConvLayer[] steps() {
            if (pointwiseFilters < 1) {
                throw new IllegalArgumentException("filters must be set (a positive number of output channels), got "
                        + pointwiseFilters);
            }
            boolean bias = useBias;
            Activation act = activation;
            useBias = false;
            activation = Activation.NONE;
            ConvConfig dc;
            try {
                dc = config();
            } finally {
                useBias = bias;
                activation = act;
            }
            int[] ones = new int[rank];
            Arrays.fill(ones, 1);
            ConvConfig pc = new ConvConfig(ConvConfig.Kind.CONV, rank, pointwiseFilters, ones, ones, ones,
                    Padding.VALID, null, null, 1, useBias, activation, dataFormat, algorithm, winograd, dc.filters());
            ConvLayer d = rank == 1 ? new DepthwiseConv1D(dc, backend, threads) : new DepthwiseConv2D(dc, backend, threads);
            ConvLayer p = rank == 1 ? new Conv1D(pc, backend, threads) : new Conv2D(pc, backend, threads);
            return new ConvLayer[] {d, p};
        }
    }
}

package org.conv4j;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A convolution layer with Keras semantics: {@link Conv1D}, {@link Conv2D}, {@link Conv3D}, the
 * transposed {@link Conv1DTranspose}, {@link Conv2DTranspose}, {@link Conv3DTranspose}, and
 * {@link DepthwiseConv1D}, {@link DepthwiseConv2D}.
 *
 * <p><b>Threads.</b> A layer may be shared: any number of threads may call {@code predict} and
 * {@code backward} concurrently without locking. {@link #setWeights}, {@link #setThreads} and {@link #close} may be
 * called at any time; calls already running finish with the weights they started with, and their
 * native memory is freed when the last of them returns. Each native call uses up to
 * {@link #threads()} OpenMP threads (0 = all cores); when a Java thread pool drives the calls, set
 * 1 so that pool threads × OpenMP threads do not oversubscribe the cores. The Java backend uses
 * the calling thread plus up to {@code threads - 1} idle workers of one small shared pool (one
 * per core beyond the first), so concurrent calls never oversubscribe.
 *
 * <p><b>Memory.</b> The layer owns native memory (one plan per distinct input shape, the last
 * {@value PlanCache#CAPACITY} kept): close it, or use try-with-resources. With the native backend,
 * {@code predict} into a caller's {@code float[]}, direct {@link FloatBuffer} or
 * {@link FloatPointer} allocates nothing on the Java heap once the shape has been seen; with the
 * Java backend, {@code predict} into a caller's {@code float[]} does the same.
 * {@code float[]} arrays are pinned (not copied) for the duration of the native call; heap
 * (non-direct) buffers are copied.
 */
public abstract class ConvLayer implements AutoCloseable {
    private volatile ConvConfig config; // replaced only by setWinograd
    private final Backend backend;
    private volatile int threads;
    private final Object lock = new Object();
    private volatile WeightState weights; // null until setWeights
    private volatile boolean closed;

    /** The kernel and bias with the plans built from them; replaced whole by setWeights. */
    private static final class WeightState {
        final float[] kernel;
        final float[] bias;
        final int inChannels;
        final JavaConvolution java; // null on the native backend
        final PlanCache plans;
        final BackwardCache backwards; // null on the Java backend

        WeightState(float[] kernel, float[] bias, int inChannels, JavaConvolution java, PlanCache plans,
                    BackwardCache backwards) {
            this.kernel = kernel;
            this.bias = bias;
            this.inChannels = inChannels;
            this.java = java;
            this.plans = plans;
            this.backwards = backwards;
        }

        /** Frees the plans and backward passes once the calls running on them return. */
        void close() {
            plans.close();
            if (backwards != null) {
                backwards.close();
            }
        }
    }

    ConvLayer(ConvConfig config, Backend backend, int threads) {
        this.config = config;
        this.backend = backend == null ? Conv4j.defaultBackend() : backend;
        if (this.backend == Backend.NATIVE) {
            Conv4j.requireNative();
        } else if (config.algorithm() != Algorithm.AUTO) {
            throw new IllegalArgumentException("algorithm " + config.algorithm().cliName()
                    + " is a native algorithm; the java backend has only its reference");
        }
        setThreads(threads);
    }

    /** A builder for a layer of rank 1 ({@link Conv1D}), 2 ({@link Conv2D}) or 3 ({@link Conv3D}). */
    public static Builder builder(int rank) {
        if (rank < 1 || rank > 3) {
            throw new IllegalArgumentException("rank must be 1, 2 or 3 (Conv1D, Conv2D, Conv3D), got " + rank);
        }
        return new Builder(rank);
    }

    public ConvConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** Threads per call (OpenMP, or the Java backend's pool): 0 = all cores, 1 = the calling thread only. */
    public int threads() {
        return threads;
    }

    /** Sets the threads per call (0 = all cores); the Java backend caps it at the number of cores. */
    public void setThreads(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
        }
        this.threads = threads;
    }

    /**
     * Sets the kernel, Keras layout {@code [k..., Cin/groups, filters]} (transposed layers
     * {@code [k..., filters, Cin]}, depthwise {@code [k..., Cin, depth_multiplier]}), and the bias
     * {@code [filters]} (null when use_bias is false). Cin is inferred from the kernel's length.
     * The arrays are copied.
     */
    public void setWeights(float[] kernel, float[] bias) {
        if (kernel == null) {
            throw new IllegalArgumentException("kernel must not be null");
        }
        long perInChannel = ConvConfig.saturatedProduct(config.kernelVolume(), config.filters());
        if (kernel.length == 0 || kernel.length % perInChannel != 0) {
            throw new IllegalArgumentException("kernel has " + kernel.length + " values, not a positive multiple of "
                    + "prod(kernel_size " + Arrays.toString(config.kernelSize()) + ") × filters " + config.filters()
                    + " = " + perInChannel + " (layout " + kernelAxes() + ")");
        }
        int inChannelsPerGroup = (int) (kernel.length / perInChannel);
        setWeights(kernel, kernelShapeFor(inChannelsPerGroup), bias);
    }

    /**
     * Sets the kernel with its shape stated, checked against the configuration: {@code kernelShape}
     * must be {@code [kernel_size..., Cin/groups, filters]}.
     */
    public void setWeights(float[] kernel, int[] kernelShape, float[] bias) {
        if (kernel == null) {
            throw new IllegalArgumentException("kernel must not be null");
        }
        if (kernelShape == null || kernelShape.length != config.rank() + 2) {
            throw new IllegalArgumentException("kernel shape must have " + (config.rank() + 2) + " dimensions "
                    + kernelAxes() + ", got " + (kernelShape == null ? "null" : Arrays.toString(kernelShape)));
        }
        int r = config.rank();
        for (int i = 0; i < r; i++) {
            if (kernelShape[i] != config.kernelSize(i)) {
                throw new IllegalArgumentException("kernel shape " + Arrays.toString(kernelShape)
                        + " does not match kernel_size " + Arrays.toString(config.kernelSize()));
            }
        }
        int inChannelsPerGroup = inChannelsPerGroup(kernelShape);
        if (inChannelsPerGroup < 1) {
            throw new IllegalArgumentException("kernel shape " + Arrays.toString(kernelShape) + " " + kernelAxes()
                    + " must have Cin >= 1");
        }
        long expected = ConvConfig.saturatedProduct(ConvConfig.saturatedProduct(config.kernelVolume(), inChannelsPerGroup),
                config.filters());
        if (kernel.length != expected) {
            throw new IllegalArgumentException("kernel has " + kernel.length + " values, shape "
                    + Arrays.toString(kernelShape) + " needs " + expected);
        }
        long inChannels = (long) inChannelsPerGroup * config.groups();
        if (inChannels > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("kernel Cin/groups " + inChannelsPerGroup + " × groups "
                    + config.groups() + " overflows a 32-bit int");
        }
        if (config.inputChannels() > 0 && inChannels != config.inputChannels()) {
            throw new IllegalArgumentException("kernel shape " + Arrays.toString(kernelShape) + " is for " + inChannels
                    + " input channels (Cin/groups " + inChannelsPerGroup + " × groups " + config.groups()
                    + "), but the layer was built with inputChannels(" + config.inputChannels() + ")");
        }
        if (config.useBias()) {
            if (bias == null || bias.length != config.filters()) {
                throw new IllegalArgumentException("bias must have " + config.filters() + " values (filters; use_bias"
                        + " is true), got " + (bias == null ? "null" : bias.length));
            }
        } else if (bias != null) {
            throw new IllegalArgumentException("bias must be null when use_bias is false, got " + bias.length
                    + " values");
        }
        float[] kernelCopy = kernel.clone();
        float[] biasCopy = bias == null ? null : bias.clone();
        // Packed once here (Java) or on the first plan (native), shared by every input shape of these weights.
        JavaConvolution java = backend == Backend.JAVA
                ? new JavaConvolution(config, (int) inChannels, kernelCopy, biasCopy) : null;
        synchronized (lock) {
            requireOpen();
            WeightState old = weights;
            weights = weightState(kernelCopy, biasCopy, (int) inChannels, java);
            if (old != null) {
                old.close();
            }
        }
    }

    /** A weight state with its own plan cache and native weights (packed on the first plan). */
    private WeightState weightState(float[] kernel, float[] bias, int inChannels, JavaConvolution java) {
        NativeWeights nativeWeights = backend == Backend.NATIVE ? new NativeWeights(kernel, bias) : null;
        return new WeightState(kernel, bias, inChannels, java,
                new PlanCache((n, d, h, w, c, k, nw) -> newEntry(n, d, h, w, c, k, nw, java), kernel, nativeWeights),
                nativeWeights != null ? new BackwardCache(kernel) : null);
    }

    /**
     * Sets the Winograd switch of {@link ConvConfig#winograd()} after the layer was built (what
     * {@code Sequential.Builder.winograd} does to the layers it holds): the plans made so far are
     * dropped, as by {@link #setWeights}, and calls already running finish with them.
     */
    void setWinograd(boolean allow) {
        synchronized (lock) {
            requireOpen();
            if (config.winograd() == allow) {
                return;
            }
            config = config.withWinograd(allow);
            WeightState old = weights;
            if (old != null) {
                weights = weightState(old.kernel, old.bias, old.inChannels, old.java);
                old.close();
            }
        }
    }

    /** The kernel and bias as set, copied; null before {@link #setWeights}. */
    public Weights getWeights() {
        WeightState w = weights;
        requireOpen();
        if (w == null) {
            return null;
        }
        return new Weights(w.kernel.clone(), kernelShapeFor(w.inChannels / config.groups()),
                w.bias == null ? null : w.bias.clone());
    }

    /** Input channels the kernel expects (Cin/groups × groups), or -1 before setWeights. */
    int inChannels() {
        WeightState w = weights;
        return w == null ? -1 : w.inChannels;
    }

    /**
     * How many times the native weights were packed (conv4j_weights_pack_count): once per
     * algorithm the layer's plans used, whatever the number of input shapes; 0 before the first
     * plan, -1 for the Java backend or before setWeights.
     */
    long nativePackCount() {
        WeightState w = weights;
        return w == null ? -1 : w.plans.nativePackCount();
    }

    /** The current weights' native object (tests); null before setWeights, after close or for Java. */
    NativeWeights nativeWeights() {
        WeightState w = weights;
        return w == null ? null : w.plans.nativeWeights();
    }

    /** The kernel and bias of a layer, in Keras layout. */
    public record Weights(float[] kernel, int[] kernelShape, float[] bias) {}

    /** The output shape for an input shape, both in the layer's data format; validates the input shape. */
    public int[] outputShape(int... inputShape) {
        return ConvGeometry.of(config, inputShape).outputShape();
    }

    /** The geometry (padding, output size, counts) for an input shape. */
    public ConvGeometry geometry(int... inputShape) {
        return ConvGeometry.of(config, inputShape);
    }

    /**
     * What computes this input shape: the native plan's choice and the reasons the earlier
     * candidates gave, or the Java backend's micro-kernel ({@code scalar} or {@code vector-256}, ...).
     */
    public String explain(int... inputShape) {
        PlanCache.Entry e = acquire(normalized(inputShape));
        try {
            return e.plan == null ? e.java.description() : e.plan.explanation();
        } finally {
            e.release();
        }
    }

    /** The algorithm that computes this input shape ({@code direct}, {@code reference}, or {@code java}). */
    public String algorithm(int... inputShape) {
        PlanCache.Entry e = acquire(normalized(inputShape));
        try {
            return e.plan == null ? "java" : e.plan.algorithm();
        } finally {
            e.release();
        }
    }

    /** Convolves {@code input} of {@code inputShape} (layer's data format); returns a new array. */
    public float[] predict(float[] input, int... inputShape) {
        PlanCache.Entry e = acquire(normalized(inputShape));
        try {
            float[] output = new float[e.geometry.outputCount()];
            compute(e, input, output);
            return output;
        } finally {
            e.release();
        }
    }

    /** Convolves into the caller's {@code output}, which must have exactly the output's length. */
    public void predict(float[] input, int[] inputShape, float[] output) {
        int[] s = normalized(inputShape);
        run(input, output, s[0], s[1], s[2], s[3], s[4]);
    }

    /**
     * Convolves into {@code output} for an input of {@code n} samples, spatial sizes {@code d, h, w}
     * (1 for the axes a lower rank lacks) and {@code c} channels, whatever the data format; no
     * allocation in steady state (the rank-generic form of {@code Conv2D}'s sized overload).
     */
    public void predict(float[] input, float[] output, int n, int d, int h, int w, int c) {
        run(input, output, n, d, h, w, c);
    }

    /**
     * Convolves from {@code input}'s position into {@code output}'s position; positions are left
     * unchanged. Direct buffers must be in native byte order; they are used in place and must not
     * overlap (refused with {@link IllegalArgumentException}). A read-only output is refused; heap
     * buffers of any byte order are copied.
     */
    public void predict(FloatBuffer input, int[] inputShape, FloatBuffer output) {
        int[] s = normalized(inputShape);
        run(input, output, s[0], s[1], s[2], s[3], s[4]);
    }

    /** Convolves from {@code input}'s position into {@code output}'s position, in place, no copies. */
    public void predict(FloatPointer input, int[] inputShape, FloatPointer output) {
        int[] s = normalized(inputShape);
        run(input, output, s[0], s[1], s[2], s[3], s[4]);
    }

    /**
     * The gradients of this layer for {@code outputGradient} dL/dy (the output's shape) at
     * {@code input} of {@code inputShape}: dL/dx, dL/dW in Keras kernel layout and dL/db (null
     * without bias), in new arrays; every layer (rank 1–3, forward, depthwise, transposed: a
     * transposed layer's dL/dW is in its own layout {@code [k..., filters, Cin]}). With relu the
     * layer's forward output is computed first for the
     * mask (y ≤ 0 passes no gradient, as TensorFlow). Safe to call concurrently with {@code predict},
     * {@code backward} and {@code setWeights} (a call uses the weights it started with).
     */
    public Gradients backward(float[] input, float[] outputGradient, int... inputShape) {
        int[] s = normalized(inputShape);
        ConvGeometry g = geometry(inputShape);
        float[] dx = new float[g.inputCount()];
        float[] dw = new float[g.kernelCount()];
        float[] db = config.useBias() ? new float[g.outChannels()] : null;
        backward(input, s, null, outputGradient, dx, dw, db);
        return new Gradients(dx, dw, db);
    }

    /**
     * The gradients into the caller's arrays, each of exactly its tensor's length; any of the three
     * may be null to skip it ({@code biasGradient} must be null when the layer has no bias). They
     * must be distinct arrays, none of them {@code input} or {@code outputGradient}.
     */
    public void backward(float[] input, int[] inputShape, float[] outputGradient, float[] inputGradient,
                         float[] kernelGradient, float[] biasGradient) {
        int[] s = NORMALIZED.get(); // per thread: the steady-state native call allocates nothing
        normalized(inputShape, s);
        backward(input, s, null, outputGradient, inputGradient, kernelGradient, biasGradient);
    }

    private static final ThreadLocal<int[]> NORMALIZED = ThreadLocal.withInitial(() -> new int[5]);

    /**
     * The gradients between native buffers, from each pointer's position (positions are left
     * unchanged); any of the three outputs may be null to skip it ({@code biasGradient} must be null
     * without bias), and the outputs must not overlap the inputs or each other. A native layer runs
     * the native passes in place: relu's forward output and the masked dy go to native buffers it
     * keeps per input shape, so a steady-state call allocates nothing on the Java heap. The Java
     * backend copies through arrays.
     */
    public void backward(FloatPointer input, int[] inputShape, FloatPointer outputGradient, FloatPointer inputGradient,
                         FloatPointer kernelGradient, FloatPointer biasGradient) {
        int[] s = NORMALIZED.get();
        normalized(inputShape, s);
        WeightState ws;
        PlanCache.Entry e;
        do {
            ws = currentWeights();
            e = ws.plans.acquire(s[0], s[1], s[2], s[3], s[4]);
        } while (e == null);
        BackwardCache.Lease lease = null;
        try {
            ConvGeometry g = e.geometry;
            int in = g.inputCount(), out = g.outputCount(), k = g.kernelCount(), b = g.outChannels();
            requireRemaining("input", input, in);
            requireRemaining("output gradient", outputGradient, out);
            if (inputGradient != null) {
                requireGradientOutput("input gradient", inputGradient, in, input, in, outputGradient, out, null,
                        null, k);
            }
            if (kernelGradient != null) {
                requireGradientOutput("kernel gradient", kernelGradient, k, input, in, outputGradient, out,
                        inputGradient, null, k);
            }
            if (biasGradient != null) {
                if (!config.useBias()) {
                    throw new IllegalArgumentException("bias gradient must be null: the layer has no bias (use_bias"
                            + " is false)");
                }
                requireGradientOutput("bias gradient", biasGradient, b, input, in, outputGradient, out,
                        inputGradient, kernelGradient, k);
            }
            if (ws.backwards == null) { // Java backend: through arrays
                float[] x = new float[in], dy = new float[out];
                input.get(x);
                outputGradient.get(dy);
                float[] dx = inputGradient == null ? null : new float[in];
                float[] dw = kernelGradient == null ? null : new float[k];
                float[] db = biasGradient == null ? null : new float[b];
                backward(x, s, null, dy, dx, dw, db);
                if (dx != null) {
                    inputGradient.put(dx);
                }
                if (dw != null) {
                    kernelGradient.put(dw);
                }
                if (db != null) {
                    biasGradient.put(db);
                }
                return;
            }
            lease = ws.backwards.acquire(g, s);
            if (lease == null) { // the weights were replaced meanwhile: start again with the current ones
                e.release();
                e = null;
                backward(input, inputShape, outputGradient, inputGradient, kernelGradient, biasGradient);
                return;
            }
            BackwardCache.Scratch scratch = null;
            FloatPointer dz = outputGradient;
            try {
                if (config.activation() == Activation.RELU || (kernelGradient == null && biasGradient != null)) {
                    scratch = lease.takeScratch();
                }
                if (config.activation() == Activation.RELU) {
                    e.plan.execute(input, scratch.output, threads);
                    long callerLimit = outputGradient.limit();
                    scratch.maskedGradient.put(outputGradient.limit(outputGradient.position() + out));
                    outputGradient.limit(callerLimit);
                    for (int i = 0; i < out; i++) {
                        if (!(scratch.outputView.get(i) > 0)) {
                            scratch.maskedView.put(i, 0f); // relu's derivative is 0 at 0 and for NaN
                        }
                    }
                    dz = scratch.maskedGradient;
                }
                if (inputGradient != null) {
                    lease.passes.inputGradient(dz, inputGradient, threads);
                }
                if (kernelGradient != null || biasGradient != null) {
                    lease.passes.weightGradients(input, dz, kernelGradient != null ? kernelGradient
                            : scratch.kernelGradient, biasGradient, threads);
                }
            } finally {
                if (scratch != null) {
                    lease.giveScratch(scratch);
                }
            }
        } finally {
            if (lease != null) {
                lease.release();
            }
            if (e != null) {
                e.release();
            }
        }
    }

    private static long start(FloatPointer p) {
        return p.address() + p.position() * Float.BYTES;
    }

    /** The current weights; throws when the layer is closed or has none. */
    private WeightState currentWeights() {
        requireOpen();
        WeightState ws = weights;
        if (ws == null) {
            requireOpen();
            throw new IllegalStateException("weights are not set: call setWeights(kernel, bias) before backward");
        }
        return ws;
    }

    /** As the public variant, with the shape normalized and the forward output known (null: computed if relu needs it). */
    final void backward(float[] input, int[] s, float[] output, float[] outputGradient, float[] inputGradient,
                        float[] kernelGradient, float[] biasGradient) {
        WeightState ws;
        PlanCache.Entry e;
        do {
            ws = currentWeights();
            e = ws.plans.acquire(s[0], s[1], s[2], s[3], s[4]);
        } while (e == null);
        try {
            ConvGeometry g = e.geometry;
            requireTensor("input", input, g, Tensor.INPUT);
            requireTensor("output gradient", outputGradient, g, Tensor.OUTPUT);
            if (inputGradient != null) {
                requireTensor("input gradient", inputGradient, g, Tensor.INPUT);
            }
            if (kernelGradient != null) {
                requireTensor("kernel gradient", kernelGradient, g, Tensor.KERNEL);
            }
            if (biasGradient != null) {
                if (!config.useBias()) {
                    throw new IllegalArgumentException("bias gradient must be null: the layer has no bias (use_bias"
                            + " is false)");
                }
                requireTensor("bias gradient", biasGradient, g, Tensor.BIAS);
            }
            requireDistinct(input, outputGradient, inputGradient, kernelGradient, biasGradient);
            boolean relu = config.activation() == Activation.RELU;
            float[] y = output;
            if (y != null) {
                requireTensor("output", y, g, Tensor.OUTPUT);
            }
            if (ws.backwards == null) {
                if (relu && y == null) {
                    y = new float[g.outputCount()];
                    compute(e, input, y);
                }
                if (g.rank() == 3 || g.transposed()) { // JavaGradients' fast loops are rank 1–2 forward only
                    JavaGradients.computeByItems(g, input, ws.kernel, y, outputGradient, inputGradient,
                            kernelGradient, biasGradient, threads);
                } else {
                    JavaGradients.compute(g, input, ws.kernel, y, outputGradient, inputGradient, kernelGradient,
                            biasGradient, threads);
                }
                return;
            }
            BackwardCache.Lease lease = ws.backwards.acquire(g, s);
            if (lease == null) { // the weights were replaced meanwhile: start again with the current ones
                e.release();
                e = null;
                backward(input, s, output, outputGradient, inputGradient, kernelGradient, biasGradient);
                return;
            }
            try {
                nativeBackward(lease.passes, e, input, y, outputGradient, inputGradient, kernelGradient,
                        biasGradient);
            } finally {
                lease.release();
            }
        } finally {
            if (e != null) {
                e.release();
            }
        }
    }

    /** Per-thread scratch of the native backward path: forward output, masked dy, a dW nobody asked for. */
    private static final ThreadLocal<float[][]> BACKWARD_SCRATCH = ThreadLocal.withInitial(() -> new float[3][0]);

    /** Exactly {@code length} floats (the native passes check exact lengths): reused while the shape stays. */
    private static float[] scratch(int slot, int length) {
        float[][] s = BACKWARD_SCRATCH.get();
        if (s[slot].length != length) {
            s[slot] = new float[length];
        }
        return s[slot];
    }

    /**
     * The native passes: dy masked by relu (the mask from this layer's forward output) into
     * thread-local scratch, then backward data into dx and backward weights into dW and db. No heap
     * allocation once the shape and its scratch sizes have been seen.
     */
    private void nativeBackward(NativeBackward passes, PlanCache.Entry e, float[] input, float[] y, float[] dy,
                                float[] dx, float[] dw, float[] db) {
        ConvGeometry g = e.geometry;
        float[] dz = dy;
        if (config.activation() == Activation.RELU) {
            int count = g.outputCount();
            if (y == null) {
                y = scratch(0, count);
                compute(e, input, y);
            }
            dz = scratch(1, count);
            for (int i = 0; i < count; i++) {
                dz[i] = y[i] > 0 ? dy[i] : 0f; // relu's derivative is 0 at 0 and for NaN, as TensorFlow's
            }
        }
        if (dx != null) {
            passes.inputGradient(dz, dx, threads);
        }
        if (dw != null || db != null) {
            float[] kernelGradient = dw;
            if (kernelGradient == null) {
                kernelGradient = scratch(2, g.kernelCount());
            }
            passes.weightGradients(input, dz, kernelGradient, db, threads);
        }
    }

    /** The five arrays of a backward call pairwise distinct (nulls aside); no allocation. */
    private static void requireDistinct(float[] x, float[] dy, float[] dx, float[] dw, float[] db) {
        distinct(x, "input", dy, "output gradient");
        distinct(x, "input", dx, "input gradient");
        distinct(x, "input", dw, "kernel gradient");
        distinct(x, "input", db, "bias gradient");
        distinct(dy, "output gradient", dx, "input gradient");
        distinct(dy, "output gradient", dw, "kernel gradient");
        distinct(dy, "output gradient", db, "bias gradient");
        distinct(dx, "input gradient", dw, "kernel gradient");
        distinct(dx, "input gradient", db, "bias gradient");
        distinct(dw, "kernel gradient", db, "bias gradient");
    }

    private static void distinct(float[] a, String aName, float[] b, String bName) {
        if (a != null && a == b) {
            throw new IllegalArgumentException(aName + " and " + bName + " must be different arrays");
        }
    }

    /** Input shape in the layer's format → {n, d, h, w, c} (d = 1 below rank 3, h = 1 for rank 1), checking only its arity. */
    int[] normalized(int[] inputShape) {
        int[] s = new int[5];
        normalized(inputShape, s);
        return s;
    }

    /** As {@link #normalized(int[])}, into {@code s}. */
    private void normalized(int[] inputShape, int[] s) {
        if (inputShape == null || inputShape.length != config.rank() + 2) {
            // ConvGeometry words the error.
            ConvGeometry.of(config, inputShape);
        }
        boolean last = config.dataFormat() == DataFormat.CHANNELS_LAST;
        int r = config.rank();
        s[0] = inputShape[0];
        s[1] = 1;
        s[2] = 1;
        s[3] = 1;
        s[4] = last ? inputShape[r + 1] : inputShape[1];
        for (int i = 0; i < r; i++) {
            s[4 - r + i] = inputShape[(last ? 1 : 2) + i];
        }
    }

    /** The input shape in the layer's format from normalized sizes. */
    final int[] layerShape(int n, int d, int h, int w, int c) {
        return ConvGeometry.layoutShape(config, n, c, new int[] {d, h, w});
    }

    final void run(float[] input, float[] output, int n, int h, int w, int c) {
        run(input, output, n, 1, h, w, c);
    }

    final void run(FloatBuffer input, FloatBuffer output, int n, int h, int w, int c) {
        run(input, output, n, 1, h, w, c);
    }

    final void run(FloatPointer input, FloatPointer output, int n, int h, int w, int c) {
        run(input, output, n, 1, h, w, c);
    }

    final void run(float[] input, float[] output, int n, int d, int h, int w, int c) {
        PlanCache.Entry e = acquire(n, d, h, w, c);
        try {
            compute(e, input, output);
        } finally {
            e.release();
        }
    }

    final void run(FloatBuffer input, FloatBuffer output, int n, int d, int h, int w, int c) {
        PlanCache.Entry e = acquire(n, d, h, w, c);
        try {
            ConvGeometry g = e.geometry;
            requireRemaining("input", input, g.inputCount(), false);
            requireRemaining("output", output, g.outputCount(), true);
            if (e.plan != null && input.isDirect() && output.isDirect()) {
                requireDisjoint("buffers", DirectBuffers.address(input) + (long) input.position() * Float.BYTES,
                        g.inputCount(), DirectBuffers.address(output) + (long) output.position() * Float.BYTES,
                        g.outputCount());
                e.plan.execute(input, output, threads);
                return;
            }
            float[] in = new float[g.inputCount()];
            input.get(input.position(), in);
            float[] out = new float[g.outputCount()];
            compute(e, in, out);
            output.put(output.position(), out);
        } finally {
            e.release();
        }
    }

    final void run(FloatPointer input, FloatPointer output, int n, int d, int h, int w, int c) {
        PlanCache.Entry e = acquire(n, d, h, w, c);
        try {
            ConvGeometry g = e.geometry;
            requireRemaining("input", input, g.inputCount());
            requireRemaining("output", output, g.outputCount());
            requireDisjoint("pointers", input.address() + input.position() * Float.BYTES, g.inputCount(),
                    output.address() + output.position() * Float.BYTES, g.outputCount());
            if (e.plan != null) {
                e.plan.execute(input, output, threads);
                return;
            }
            float[] in = new float[g.inputCount()];
            input.get(in);
            float[] out = new float[g.outputCount()];
            compute(e, in, out);
            output.put(out);
        } finally {
            e.release();
        }
    }

    private void compute(PlanCache.Entry e, float[] input, float[] output) {
        ConvGeometry g = e.geometry;
        requireExactLength("input", input, g.inputCount(), g);
        requireExactLength("output", output, g.outputCount(), g);
        if (input == output) {
            throw new IllegalArgumentException("input and output must be different arrays: the convolution reads"
                    + " input values after it has written outputs");
        }
        if (e.plan != null) {
            e.plan.execute(input, output, threads);
        } else {
            e.java.compute(g, input, output, threads);
        }
    }

    private PlanCache.Entry acquire(int[] s) {
        return acquire(s[0], s[1], s[2], s[3], s[4]);
    }

    private PlanCache.Entry acquire(int n, int d, int h, int w, int c) {
        requireOpen();
        WeightState ws = weights;
        if (ws == null) {
            requireOpen();
            throw new IllegalStateException("weights are not set: call setWeights(kernel, bias) before predict");
        }
        PlanCache.Entry e = ws.plans.acquire(n, d, h, w, c);
        if (e == null) {
            // The layer was closed or re-weighted while we looked: take the current state.
            requireOpen();
            return acquire(n, d, h, w, c);
        }
        return e;
    }

    private PlanCache.Entry newEntry(int n, int d, int h, int w, int c, float[] kernel, NativeWeights nativeWeights,
            JavaConvolution java) {
        ConvGeometry g = ConvGeometry.of(config, layerShape(n, d, h, w, c));
        int expected = kernel.length / (int) (config.kernelVolume() * config.filters()) * config.groups();
        if (g.inChannels() != expected) {
            throw new IllegalArgumentException("input has " + g.inChannels() + " channels, but the kernel "
                    + Arrays.toString(kernelShapeFor(expected / config.groups())) + " expects " + expected
                    + " (Cin/groups " + expected / config.groups() + " × groups " + config.groups() + ")");
        }
        NativePlan plan = nativeWeights != null ? NativePlan.create(g, nativeWeights) : null;
        return new PlanCache.Entry(n, d, h, w, c, g, plan, java);
    }

    /** The kernel's shape in the layout Keras stores for this layer. */
    private int[] kernelShapeFor(int inChannelsPerGroup) {
        int[] k = config.kernelSize();
        int r = k.length;
        int[] shape = Arrays.copyOf(k, r + 2);
        switch (config.kind()) {
            case TRANSPOSE -> { shape[r] = config.filters(); shape[r + 1] = inChannelsPerGroup; }
            case DEPTHWISE -> { shape[r] = config.groups(); shape[r + 1] = config.depthMultiplier(); }
            default -> { shape[r] = inChannelsPerGroup; shape[r + 1] = config.filters(); }
        }
        return shape;
    }

    /** Cin/groups from a kernel shape in Keras' layout for this layer, after checking its channel axes. */
    private int inChannelsPerGroup(int[] kernelShape) {
        int r = config.rank();
        String shape = Arrays.toString(kernelShape);
        switch (config.kind()) {
            case TRANSPOSE -> {
                if (kernelShape[r] != config.filters()) {
                    throw new IllegalArgumentException("kernel shape " + shape + " " + kernelAxes() + " has "
                            + kernelShape[r] + " output channels, but filters is " + config.filters());
                }
                return kernelShape[r + 1];
            }
            case DEPTHWISE -> {
                if (kernelShape[r] != config.groups() || kernelShape[r + 1] != config.depthMultiplier()) {
                    throw new IllegalArgumentException("kernel shape " + shape + " " + kernelAxes() + " does not match"
                            + " the layer's " + config.groups() + " input channels and depth_multiplier "
                            + config.depthMultiplier());
                }
                return 1;
            }
            default -> {
                if (kernelShape[r + 1] != config.filters()) {
                    throw new IllegalArgumentException("kernel shape " + shape + " has " + kernelShape[r + 1]
                            + " output channels, but filters is " + config.filters());
                }
                return kernelShape[r];
            }
        }
    }

    private String kernelAxes() {
        String k = switch (config.rank()) {
            case 1 -> "K";
            case 2 -> "KH, KW";
            default -> "KD, KH, KW";
        };
        return switch (config.kind()) {
            case TRANSPOSE -> "[" + k + ", filters, Cin]";
            case DEPTHWISE -> "[" + k + ", Cin, depth_multiplier]";
            default -> "[" + k + ", Cin/groups, filters]";
        };
    }

    private static void requireExactLength(String name, float[] a, int needed, ConvGeometry g) {
        requireTensor(name, a, g, name.equals("input") ? Tensor.INPUT : Tensor.OUTPUT);
    }

    /** The tensors of one geometry, for length checks that build a shape only for the error message. */
    enum Tensor {
        INPUT, OUTPUT, KERNEL, BIAS;

        int count(ConvGeometry g) {
            return switch (this) {
                case INPUT -> g.inputCount();
                case OUTPUT -> g.outputCount();
                case KERNEL -> g.kernelCount();
                case BIAS -> g.outChannels();
            };
        }

        int[] shape(ConvGeometry g) {
            return switch (this) {
                case INPUT -> g.inputShape();
                case OUTPUT -> g.outputShape();
                case KERNEL -> g.kernelShape();
                case BIAS -> new int[] {g.outChannels()};
            };
        }
    }

    /** {@code a} is not null and has exactly tensor {@code t}'s length; allocates nothing unless it throws. */
    static void requireTensor(String name, float[] a, ConvGeometry g, Tensor t) {
        if (a == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        int needed = t.count(g);
        if (a.length != needed) {
            throw new IllegalArgumentException(name + " has " + a.length + " floats, but shape "
                    + Arrays.toString(t.shape(g)) + " needs " + needed);
        }
    }

    private static void requireRemaining(String name, FloatBuffer b, int needed, boolean written) {
        if (b == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (b.remaining() < needed) {
            throw new IllegalArgumentException(name + " buffer has " + b.remaining() + " floats remaining, needs "
                    + needed);
        }
        if (written && b.isReadOnly()) {
            throw new IllegalArgumentException(name + " buffer is read-only");
        }
        if (b.isDirect() && b.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException(name + " buffer is " + b.order() + " but the native order is "
                    + ByteOrder.nativeOrder() + ": create it with order(ByteOrder.nativeOrder())");
        }
    }

    static void requireRemaining(String name, FloatPointer p, int needed) {
        if (p == null || p.isNull()) {
            throw new IllegalArgumentException(name + " pointer must not be null");
        }
        long size = p.limit() > 0 ? p.limit() : p.capacity();
        if (size <= 0) {
            throw new IllegalArgumentException(name + " pointer has no known size (limit and capacity are 0): "
                    + "set limit(n) to the number of floats it holds");
        }
        long remaining = size - p.position();
        if (remaining < needed) {
            throw new IllegalArgumentException(name + " pointer has " + remaining + " floats after its position "
                    + p.position() + ", needs " + needed);
        }
    }

    /** in and out are native addresses of the first floats used. */
    static void requireDisjoint(String what, long in, int inputCount, long out, int outputCount) {
        if (overlap(in, inputCount, out, outputCount)) {
            throw overlapping(what);
        }
    }

    private static boolean overlap(long in, int inputCount, long out, int outputCount) {
        return in < out + (long) outputCount * Float.BYTES && out < in + (long) inputCount * Float.BYTES;
    }

    private static IllegalArgumentException overlapping(String what) {
        return new IllegalArgumentException("input and output " + what + " overlap: the convolution reads input"
                + " values after it has written outputs");
    }

    /**
     * Requires the backward output {@code name} ({@code n} floats from {@code p}'s position) to overlap neither
     * input ({@code x}: {@code in} floats, {@code dy}: {@code out}) nor the outputs written before it ({@code dx}:
     * {@code in} floats, {@code dw}: {@code k}; null when absent). x and dy are already checked. The pair's name is
     * built only on failure, so a valid call allocates nothing.
     */
    static void requireGradientOutput(String name, FloatPointer p, int n, FloatPointer x, int in, FloatPointer dy,
                                      int out, FloatPointer dx, FloatPointer dw, int k) {
        requireRemaining(name, p, n);
        long a = start(p);
        if (overlap(start(x), in, a, n)) {
            throw overlapping("input and " + name);
        }
        if (overlap(start(dy), out, a, n)) {
            throw overlapping("output gradient and " + name);
        }
        if (dx != null && overlap(start(dx), in, a, n)) {
            throw overlapping("input gradient and " + name);
        }
        if (dw != null && overlap(start(dw), k, a, n)) {
            throw overlapping("kernel gradient and " + name);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("layer is closed: " + config);
        }
    }

    /** True after {@link #close()}. */
    public boolean isClosed() {
        return closed;
    }

    /** Frees the native plans; calls still running finish first. Closing twice is harmless. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            WeightState w = weights;
            weights = null;
            if (w != null) {
                w.close();
            }
        }
    }

    @Override
    public String toString() {
        return config + " [" + backend.cliName() + (closed ? ", closed" : "") + "]";
    }

    /**
     * Shared builder vocabulary; defaults as in Keras (valid, stride 1, bias on, no activation). A
     * builder belongs to one thread; the layers it builds may be shared.
     */
    @SuppressWarnings("unchecked")
    public abstract static class AbstractBuilder<B extends AbstractBuilder<B>> {
        final int rank;
        int filters;
        int[] kernelSize;
        int[] strides;
        int[] dilationRate;
        Padding padding = Padding.VALID;
        ExplicitPadding explicitPadding;
        ConvConfig.Kind kind = ConvConfig.Kind.CONV;
        int[] outputPadding; // transposed builders only
        int groups = 1;
        boolean useBias = true;
        Activation activation = Activation.NONE;
        DataFormat dataFormat = DataFormat.CHANNELS_LAST;
        Algorithm algorithm = Algorithm.AUTO;
        boolean winograd = false;
        int inputChannels; // 0: not declared, the kernel decides
        Backend backend;
        int threads;

        AbstractBuilder(int rank) {
            this.rank = rank;
            strides = ones(rank);
            dilationRate = ones(rank);
        }

        private static int[] ones(int n) {
            int[] a = new int[n];
            Arrays.fill(a, 1);
            return a;
        }

        /** One value for a 2-D or 3-D layer means the same on every axis, as in Keras. */
        int[] perAxis(String name, int[] values) {
            if (values == null) {
                throw new IllegalArgumentException(name + " must not be null");
            }
            if (values.length == 1 && rank > 1) {
                int[] all = new int[rank];
                Arrays.fill(all, values[0]);
                return all;
            }
            return values.clone();
        }

        /**
         * Declares the input channels Cin (Keras' {@code input_shape[-1]}; optional). A kernel whose
         * Cin/groups × groups differs is then refused by {@code setWeights}, naming both numbers,
         * instead of failing at the first {@code predict}; so is an input with other channels.
         */
        public B inputChannels(int inputChannels) {
            if (inputChannels < 1) {
                throw new IllegalArgumentException("input channels must be positive, got " + inputChannels);
            }
            this.inputChannels = inputChannels;
            return (B) this;
        }

        /** Number of output channels (Keras {@code filters}). */
        public B filters(int filters) {
            this.filters = filters;
            return (B) this;
        }

        public B kernelSize(int... kernelSize) {
            this.kernelSize = perAxis("kernel_size", kernelSize);
            return (B) this;
        }

        public B strides(int... strides) {
            this.strides = perAxis("strides", strides);
            return (B) this;
        }

        public B dilationRate(int... dilationRate) {
            this.dilationRate = perAxis("dilation_rate", dilationRate);
            return (B) this;
        }

        public B padding(Padding padding) {
            this.padding = padding;
            this.explicitPadding = null;
            return (B) this;
        }

        /** Explicit pads, from {@link Padding#explicit(int[], int[])}; refused by transposed layers. */
        public B padding(ExplicitPadding pads) {
            if (pads == null) {
                throw new IllegalArgumentException("padding must not be null");
            }
            this.padding = Padding.VALID; // over the zero-padded input
            this.explicitPadding = pads;
            return (B) this;
        }

        /** Channel groups; Cin and filters must be divisible by it; Cin = groups is depthwise. */
        public B groups(int groups) {
            this.groups = groups;
            return (B) this;
        }

        public B useBias(boolean useBias) {
            this.useBias = useBias;
            return (B) this;
        }

        public B activation(Activation activation) {
            this.activation = activation;
            return (B) this;
        }

        public B dataFormat(DataFormat dataFormat) {
            this.dataFormat = dataFormat;
            return (B) this;
        }

        /** Forces a native algorithm (tests, measurements); {@link Algorithm#AUTO} by default. */
        public B algorithm(Algorithm algorithm) {
            this.algorithm = algorithm;
            return (B) this;
        }

        /**
         * Lets AUTO choose Winograd for this layer ({@code false} by default). Winograd runs 3×3
         * stride-1 layers with 16 or more channels faster, but its error depends on each output's
         * whole 6×6 input tile rather than on its own window: an output whose window reads only zeros
         * may then differ from the bias by ~1e-7 (README, "Semantics": both bounds). Off, every
         * algorithm AUTO picks meets the direct-sum bound. {@link Algorithm#WINOGRAD} forces it either way.
         */
        public B winograd(boolean winograd) {
            this.winograd = winograd;
            return (B) this;
        }

        /** Native or Java; by default {@link Conv4j#defaultBackend()}. */
        public B backend(Backend backend) {
            this.backend = backend;
            return (B) this;
        }

        /** OpenMP threads per call: 0 (default) = all cores, 1 = the calling thread only. */
        public B threads(int threads) {
            this.threads = threads;
            return (B) this;
        }

        ConvConfig config() {
            if (filters == 0) {
                throw new IllegalArgumentException("filters must be set (a positive number of output channels)");
            }
            if (kernelSize == null) {
                throw new IllegalArgumentException("kernel_size must be set");
            }
            return new ConvConfig(kind, rank, filters, kernelSize, strides, dilationRate, padding, explicitPadding,
                    outputPadding, groups, useBias, activation, dataFormat, algorithm, winograd, inputChannels);
        }
    }

    /** The builder vocabulary of the transposed layers: {@link #outputPadding}; groups stay 1. */
    @SuppressWarnings("unchecked")
    public abstract static class TransposeBuilder<B extends TransposeBuilder<B>> extends AbstractBuilder<B> {
        TransposeBuilder(int rank) {
            super(rank);
            kind = ConvConfig.Kind.TRANSPOSE;
        }

        /** Keras' output_padding: one value per axis (one value for all), each below its stride. */
        public B outputPadding(int... outputPadding) {
            this.outputPadding = perAxis("output_padding", outputPadding);
            return (B) this;
        }
    }

    /**
     * The builder vocabulary of the depthwise layers: {@link #depthMultiplier} and the required
     * {@code inputChannels}; filters and groups follow from them (Cin × M and Cin).
     */
    @SuppressWarnings("unchecked")
    public abstract static class DepthwiseBuilder<B extends DepthwiseBuilder<B>> extends AbstractBuilder<B> {
        int depthMultiplier = 1;

        DepthwiseBuilder(int rank) {
            super(rank);
            kind = ConvConfig.Kind.DEPTHWISE;
        }

        /** Keras' depth_multiplier M: output channels per input channel (default 1). */
        public B depthMultiplier(int depthMultiplier) {
            this.depthMultiplier = depthMultiplier;
            return (B) this;
        }

        @Override
        ConvConfig config() {
            String name = ConvConfig.kerasName(kind, rank);
            if (filters != 0 || groups != 1) {
                throw new IllegalArgumentException(name + " takes no filters or groups (they are Cin × "
                        + "depth_multiplier and Cin), got filters=" + filters + ", groups=" + groups);
            }
            ConvConfig.requirePositive("depth_multiplier", depthMultiplier);
            if (inputChannels < 1) {
                throw new IllegalArgumentException(name + " needs inputChannels(c): the kernel [k..., Cin,"
                        + " depth_multiplier] and the groups depend on it");
            }
            long f = (long) inputChannels * depthMultiplier;
            if (f > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("input channels " + inputChannels + " × depth_multiplier "
                        + depthMultiplier + " overflows a 32-bit int");
            }
            return new ConvConfig(kind, rank, (int) f, kernelSize, strides, dilationRate, padding, explicitPadding,
                    null, inputChannels, useBias, activation, dataFormat, algorithm, winograd, inputChannels);
        }
    }

    /** Builds a {@link Conv1D}, {@link Conv2D} or {@link Conv3D} by rank. */
    public static final class Builder extends AbstractBuilder<Builder> {
        Builder(int rank) {
            super(rank);
        }

        /** Validates the configuration; throws {@link IllegalArgumentException} naming the bad parameter. */
        public ConvLayer build() {
            ConvConfig c = config();
            return switch (rank) {
                case 1 -> new Conv1D(c, backend, threads);
                case 2 -> new Conv2D(c, backend, threads);
                default -> new Conv3D(c, backend, threads);
            };
        }
    }
}

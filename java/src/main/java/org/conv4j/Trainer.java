package org.conv4j;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Trains a {@link Sequential} model's kernels and biases by minibatch gradient descent:
 * {@code fit(inputs, targets, epochs, batchSize)} with a {@link Loss}, an {@link Optimizer}, an
 * optional {@link Head} (global average pooling, so a last conv with one filter per class is the
 * classifier) and a progress line per epoch.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder(model).loss(Trainer.Loss.MEAN_SQUARED_ERROR)
 *         .optimizer(Optimizer.sgd(0.1, 0.9)).progress(System.out::println).build();
 * Trainer.History h = trainer.fit(x, new int[] {64, 8, 8, 1}, y, 100, 16);
 * }</pre>
 *
 * <p>The trainer keeps the master copy of every weight (float) and the optimizer's state, and
 * pushes the weights to the layers with {@link ConvLayer#setWeights} after each step, so the model
 * predicts with the latest weights. When every layer runs on the native backend, the master
 * weights, gradients and state live in native memory and the update is one native call
 * ({@code conv4j_sgd_step} / {@code conv4j_adam_step}); the Java backend updates Java arrays with
 * the same formulas. Gradients come from each layer's {@link ConvLayer#backward}: when the model is
 * native and has layers only (no standalone activation stages), its forward maps stay in native
 * buffers and each layer's pointer {@code backward} writes dW and db straight into the optimizer's
 * gradient buffer; otherwise through {@link Sequential#backward}'s arrays. The trainer owns
 * that native memory: {@link #close} frees it (a trainer nobody closes is freed by JavaCPP's
 * garbage-collection hook). Not thread-safe: one thread trains, and nothing else should set the
 * model's weights meanwhile.
 */
public final class Trainer implements AutoCloseable {
    /** Losses, with Keras' reductions (the mean over samples, and over positions and outputs). */
    public enum Loss {
        /** mean((p − t)²) over every element. */
        MEAN_SQUARED_ERROR,
        /**
         * Softmax cross-entropy from logits over the channel axis, averaged over samples (and
         * positions without a head): Keras {@code CategoricalCrossentropy(from_logits=True)}.
         */
        CATEGORICAL_CROSSENTROPY,
        /** Sigmoid cross-entropy from logits, mean over every element: {@code BinaryCrossentropy(from_logits=True)}. */
        BINARY_CROSSENTROPY
    }

    /** What turns the model's output into the predictions the loss sees. */
    public enum Head {
        /** The model's output as is. */
        NONE,
        /** The mean over all positions: [N, ..., C] (or [N, C, ...]) becomes [N, C]. */
        GLOBAL_AVERAGE_POOL
    }

    /** Mean training loss of each epoch, first to last. */
    public record History(double[] loss) {
        public double last() {
            return loss[loss.length - 1];
        }
    }

    private final Sequential model;
    private final List<ConvLayer> layers;
    private final Loss loss;
    private final Optimizer optimizer;
    private final Head head;
    private final Consumer<String> progress;
    private final SplittableRandom random;
    private final float[][] kernels;
    private final int[][] kernelShapes;
    private final float[][] biases;
    private final NativeOptimizerState nativeState; // null unless every layer is native
    private final boolean pointerChain; // native state, and every stage of the model is a layer
    private final NativeBatch[] batches = new NativeBatch[2]; // the last batch shapes' buffers, newest first
    private long steps;

    private Trainer(Builder b) {
        model = b.model;
        layers = model.layers();
        loss = b.loss;
        optimizer = b.optimizer;
        head = b.head;
        progress = b.progress;
        random = new SplittableRandom(b.seed);
        kernels = new float[layers.size()][];
        kernelShapes = new int[layers.size()][];
        biases = new float[layers.size()][];
        for (int i = 0; i < layers.size(); i++) {
            ConvLayer.Weights w = layers.get(i).getWeights();
            kernels[i] = w.kernel();
            kernelShapes[i] = w.kernelShape();
            biases[i] = w.bias();
        }
        nativeState = !layers.isEmpty() && layers.stream().allMatch(l -> l.backend() == Backend.NATIVE)
                ? nativeState() : null;
        pointerChain = nativeState != null && b.pointerChain && model.size() == layers.size();
    }

    /**
     * Native maps of one batch shape for the pointer chain: maps[i] is layer i's input (maps[n] the
     * output), two gradient buffers take turns as dy and dx, and the output is read into an array.
     */
    private static final class NativeBatch {
        final int[] inputShape;
        final int[][] shapes;
        final FloatPointer[] maps;
        final FloatPointer[] gradients = new FloatPointer[2];
        final float[] output;

        NativeBatch(List<ConvLayer> layers, int[] inputShape) {
            this.inputShape = inputShape.clone();
            int n = layers.size();
            shapes = new int[n + 1][];
            shapes[0] = this.inputShape;
            long largest = count(shapes[0]);
            for (int i = 0; i < n; i++) {
                shapes[i + 1] = layers.get(i).outputShape(shapes[i]);
                largest = Math.max(largest, count(shapes[i + 1]));
            }
            maps = new FloatPointer[n + 1];
            try {
                for (int i = 0; i <= n; i++) {
                    maps[i] = allocate(count(shapes[i]));
                }
                gradients[0] = allocate(largest);
                gradients[1] = allocate(largest);
            } catch (RuntimeException | OutOfMemoryError e) {
                free();
                throw e;
            }
            output = new float[count(shapes[n])];
        }

        private static FloatPointer allocate(long n) {
            FloatPointer p = new FloatPointer(n);
            if (p.isNull()) {
                throw new OutOfMemoryError("conv4j: cannot allocate " + n + " floats for the trainer's maps");
            }
            return p;
        }

        void free() {
            for (FloatPointer p : maps) {
                if (p != null) {
                    p.deallocate();
                }
            }
            for (FloatPointer p : gradients) {
                if (p != null) {
                    p.deallocate();
                }
            }
        }
    }

    /** The buffers of this batch shape, made on first use; the oldest of the two kept is freed. */
    private NativeBatch batch(int[] inputShape) {
        for (int i = 0; i < batches.length; i++) {
            NativeBatch b = batches[i];
            if (b != null && Arrays.equals(b.inputShape, inputShape)) {
                if (i > 0) {
                    batches[i] = batches[0];
                    batches[0] = b;
                }
                return b;
            }
        }
        NativeBatch created = new NativeBatch(layers, inputShape);
        if (batches[batches.length - 1] != null) {
            batches[batches.length - 1].free();
        }
        System.arraycopy(batches, 0, batches, 1, batches.length - 1);
        batches[0] = created;
        return created;
    }

    /** Slots 2i (kernel) and 2i + 1 (bias, 0 floats without one) of layer i, master set from the layers. */
    private NativeOptimizerState nativeState() {
        int[] sizes = new int[2 * layers.size()];
        for (int i = 0; i < layers.size(); i++) {
            sizes[2 * i] = kernels[i].length;
            sizes[2 * i + 1] = biases[i] == null ? 0 : biases[i].length;
        }
        NativeOptimizerState state = new NativeOptimizerState(optimizer, sizes);
        for (int i = 0; i < layers.size(); i++) {
            state.setMaster(2 * i, kernels[i]);
            if (biases[i] != null) {
                state.setMaster(2 * i + 1, biases[i]);
            }
        }
        return state;
    }

    /** True when the master weights and optimizer state are in native memory (every layer native). */
    boolean nativeOptimizer() {
        return nativeState != null;
    }

    /** Frees the native master weights, gradients and optimizer state; later steps throw. Idempotent. */
    @Override
    public void close() {
        if (nativeState != null) {
            nativeState.close();
        }
        for (int i = 0; i < batches.length; i++) {
            if (batches[i] != null) {
                batches[i].free();
                batches[i] = null;
            }
        }
    }

    public static Builder builder(Sequential model) {
        return new Builder(model);
    }

    /** The predictions the loss sees: the model's output through the head. */
    public float[] predict(float[] inputs, int... inputShape) {
        return head(model.predict(inputs, inputShape), model.outputShape(inputShape));
    }

    /** The shape of {@link #predict}'s result (and of the targets) for an input shape. */
    public int[] predictionShape(int... inputShape) {
        int[] out = model.outputShape(inputShape);
        return head == Head.NONE ? out : new int[] {out[0], out[channelAxis(out)]};
    }

    /** The loss of the current weights on {@code inputs} and {@code targets}. */
    public double evaluate(float[] inputs, int[] inputShape, float[] targets) {
        float[] p = predict(inputs, inputShape);
        requireTargets(targets, p.length);
        return lossAndGradient(p, predictionShape(inputShape), targets, null);
    }

    /**
     * Trains for {@code epochs} passes over the samples in a new random order each (seeded by the
     * builder), in batches of {@code batchSize} (the last may be smaller); returns each epoch's mean
     * loss. {@code targets} has {@link #predictionShape}'s layout for the whole input.
     */
    public History fit(float[] inputs, int[] inputShape, float[] targets, int epochs, int batchSize) {
        if (inputs == null || inputShape == null) {
            throw new IllegalArgumentException("inputs and input shape must not be null");
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        int[] predShape = predictionShape(inputShape);
        int n = inputShape[0];
        int sampleIn = inputs.length / Math.max(n, 1);
        if ((long) sampleIn * n != inputs.length || sampleIn * n != count(inputShape)) {
            throw new IllegalArgumentException("inputs has " + inputs.length + " floats, shape "
                    + Arrays.toString(inputShape) + " needs " + count(inputShape));
        }
        requireTargets(targets, count(predShape));
        int sampleOut = targets.length / n;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        double[] history = new double[epochs];
        for (int epoch = 0; epoch < epochs; epoch++) {
            long start = System.nanoTime();
            for (int i = n - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            double sum = 0;
            for (int first = 0; first < n; first += batchSize) {
                int size = Math.min(batchSize, n - first);
                float[] x = new float[size * sampleIn];
                float[] y = new float[size * sampleOut];
                for (int k = 0; k < size; k++) {
                    System.arraycopy(inputs, order[first + k] * sampleIn, x, k * sampleIn, sampleIn);
                    System.arraycopy(targets, order[first + k] * sampleOut, y, k * sampleOut, sampleOut);
                }
                int[] shape = inputShape.clone();
                shape[0] = size;
                sum += step(x, shape, y) * size;
            }
            history[epoch] = sum / n;
            if (progress != null) {
                progress.accept(String.format(Locale.ROOT, "epoch %d/%d - loss %.6g - %d ms", epoch + 1, epochs,
                        history[epoch], (System.nanoTime() - start) / 1_000_000));
            }
        }
        return new History(history);
    }

    /**
     * One update on one batch; returns the batch's loss before the update. The native optimizer
     * step runs on the first layer's {@link ConvLayer#threads()}.
     */
    public double step(float[] inputs, int[] inputShape, float[] targets) {
        if (pointerChain) {
            return pointerStep(inputs, inputShape, targets);
        }
        float[][] maps = model.forwardMaps(inputs, inputShape);
        int[] outShape = model.outputShape(inputShape);
        float[] out = maps[maps.length - 1];
        float[] p = head(out, outShape);
        requireTargets(targets, p.length);
        float[] dp = new float[p.length];
        double value = lossAndGradient(p, predictionShape(inputShape), targets, dp);
        float[] dOut = headBackward(dp, outShape);
        Sequential.ModelGradients grads = model.backward(maps, inputShape, dOut, false);
        steps++;
        if (nativeState != null) {
            for (int i = 0; i < layers.size(); i++) {
                Gradients g = grads.layers().get(i);
                nativeState.setGradient(2 * i, g.kernel());
                if (biases[i] != null) {
                    nativeState.setGradient(2 * i + 1, g.bias());
                }
            }
            nativeState.step(steps, layers.get(0).threads());
        }
        push(grads);
        return value;
    }

    /**
     * The native step of a model of layers only: the forward maps in native buffers, each layer's
     * pointer {@code backward} writing dW and db straight into the optimizer's gradient buffer, one
     * native optimizer step. Only the output and its gradient pass through arrays (for the loss).
     */
    private double pointerStep(float[] inputs, int[] inputShape, float[] targets) {
        if (inputs == null || inputShape == null) {
            throw new IllegalArgumentException("inputs and input shape must not be null");
        }
        int[] outShape = model.outputShape(inputShape); // validates the shape
        if (inputs.length != count(inputShape)) {
            throw new IllegalArgumentException("inputs has " + inputs.length + " floats, shape "
                    + Arrays.toString(inputShape) + " needs " + count(inputShape));
        }
        NativeOptimizerState state = nativeState;
        state.gradient(0); // throws when the trainer was closed
        NativeBatch b = batch(inputShape);
        int n = layers.size();
        b.maps[0].put(inputs, 0, inputs.length);
        for (int i = 0; i < n; i++) {
            layers.get(i).predict(b.maps[i], b.shapes[i], b.maps[i + 1]);
        }
        b.maps[n].get(b.output, 0, b.output.length);
        float[] p = head(b.output, outShape);
        requireTargets(targets, p.length);
        float[] dp = new float[p.length];
        double value = lossAndGradient(p, predictionShape(inputShape), targets, dp);
        float[] dOut = headBackward(dp, outShape);
        FloatPointer dy = b.gradients[0], spare = b.gradients[1];
        dy.put(dOut, 0, dOut.length);
        for (int i = n - 1; i >= 0; i--) {
            FloatPointer dx = i > 0 ? spare : null;
            layers.get(i).backward(b.maps[i], b.shapes[i], dy, dx, state.gradient(2 * i),
                    biases[i] != null ? state.gradient(2 * i + 1) : null);
            if (dx != null) {
                spare = dy;
                dy = dx;
            }
        }
        steps++;
        state.step(steps, layers.get(0).threads());
        push(null);
        return value;
    }

    /** Brings the master weights to the layers: from native memory, or updated from {@code grads} on the Java path. */
    private void push(Sequential.ModelGradients grads) {
        for (int i = 0; i < layers.size(); i++) {
            if (nativeState != null) {
                nativeState.getMaster(2 * i, kernels[i]);
                if (biases[i] != null) {
                    nativeState.getMaster(2 * i + 1, biases[i]);
                }
            } else {
                Gradients g = grads.layers().get(i);
                optimizer.update(2 * i, kernels[i], g.kernel(), steps);
                if (biases[i] != null) {
                    optimizer.update(2 * i + 1, biases[i], g.bias(), steps);
                }
            }
            layers.get(i).setWeights(kernels[i], kernelShapes[i], biases[i]);
        }
    }

    private int channelAxis(int[] shape) {
        return model.layers().get(0).config().dataFormat() == DataFormat.CHANNELS_LAST ? shape.length - 1 : 1;
    }

    /** [N, C] means over positions, or the output itself. */
    private float[] head(float[] out, int[] shape) {
        if (head == Head.NONE) {
            return out;
        }
        boolean last = channelAxis(shape) != 1 || shape.length == 2;
        int n = shape[0], c = shape[channelAxis(shape)], positions = out.length / (n * c);
        float[] p = new float[n * c];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                for (int q = 0; q < positions; q++) {
                    sum += out[last ? (b * positions + q) * c + ch : (b * c + ch) * positions + q];
                }
                p[b * c + ch] = (float) (sum / positions);
            }
        }
        return p;
    }

    private float[] headBackward(float[] dp, int[] shape) {
        if (head == Head.NONE) {
            return dp;
        }
        boolean last = channelAxis(shape) != 1 || shape.length == 2;
        int n = shape[0], c = shape[channelAxis(shape)], positions = count(shape) / (n * c);
        float[] d = new float[count(shape)];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                float v = dp[b * c + ch] / positions;
                for (int q = 0; q < positions; q++) {
                    d[last ? (b * positions + q) * c + ch : (b * c + ch) * positions + q] = v;
                }
            }
        }
        return d;
    }

    /** The loss of predictions p (shape {@code shape}) against t; writes dL/dp into {@code dp} unless null. */
    private double lossAndGradient(float[] p, int[] shape, float[] t, float[] dp) {
        int count = p.length;
        double total = 0;
        switch (loss) {
            case MEAN_SQUARED_ERROR -> {
                for (int i = 0; i < count; i++) {
                    double e = (double) p[i] - t[i];
                    total += e * e;
                    if (dp != null) {
                        dp[i] = (float) (2 * e / count);
                    }
                }
                return total / count;
            }
            case BINARY_CROSSENTROPY -> {
                for (int i = 0; i < count; i++) {
                    double z = p[i];
                    total += Math.max(z, 0) - z * t[i] + Math.log1p(Math.exp(-Math.abs(z)));
                    if (dp != null) {
                        dp[i] = (float) ((1 / (1 + Math.exp(-z)) - t[i]) / count);
                    }
                }
                return total / count;
            }
            case CATEGORICAL_CROSSENTROPY -> {
                boolean last = head != Head.NONE || channelAxis(shape) != 1;
                int c = head != Head.NONE ? shape[1] : shape[channelAxis(shape)];
                int n = shape[0], positions = count / (n * c);
                int rows = n * positions;
                for (int b = 0; b < n; b++) {
                    for (int q = 0; q < positions; q++) {
                        int base = last ? (b * positions + q) * c : b * c * positions + q;
                        int stride = last ? 1 : positions;
                        double max = Double.NEGATIVE_INFINITY, targetSum = 0;
                        for (int ch = 0; ch < c; ch++) {
                            max = Math.max(max, p[base + ch * stride]);
                            targetSum += t[base + ch * stride];
                        }
                        double z = 0;
                        for (int ch = 0; ch < c; ch++) {
                            z += Math.exp(p[base + ch * stride] - max);
                        }
                        double logZ = max + Math.log(z);
                        for (int ch = 0; ch < c; ch++) {
                            int i = base + ch * stride;
                            total += t[i] * (logZ - p[i]);
                            if (dp != null) {
                                dp[i] = (float) ((Math.exp(p[i] - logZ) * targetSum - t[i]) / rows);
                            }
                        }
                    }
                }
                return total / rows;
            }
            default -> throw new AssertionError(loss);
        }
    }

    private static void requireTargets(float[] targets, int needed) {
        if (targets == null) {
            throw new IllegalArgumentException("targets must not be null");
        }
        if (targets.length != needed) {
            throw new IllegalArgumentException("targets has " + targets.length + " floats, the predictions "
                    + needed);
        }
    }

    private static int count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return (int) Math.min(n, Integer.MAX_VALUE);
    }

    /** Collects the loss (default mean squared error), optimizer (default Adam 0.001), head and progress output. */
    public static final class Builder {
        private final Sequential model;
        private Loss loss = Loss.MEAN_SQUARED_ERROR;
        private Optimizer optimizer = Optimizer.adam(0.001);
        private Head head = Head.NONE;
        private Consumer<String> progress;
        private long seed = 1;
        private boolean pointerChain = true;

        private Builder(Sequential model) {
            if (model == null) {
                throw new IllegalArgumentException("model must not be null");
            }
            this.model = model;
        }

        public Builder loss(Loss loss) {
            this.loss = java.util.Objects.requireNonNull(loss, "loss");
            return this;
        }

        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = java.util.Objects.requireNonNull(optimizer, "optimizer");
            return this;
        }

        public Builder head(Head head) {
            this.head = java.util.Objects.requireNonNull(head, "head");
            return this;
        }

        /** Receives one line per epoch ("epoch 3/20 - loss 0.0123 - 15 ms"); null (default) for none. */
        public Builder progress(Consumer<String> progress) {
            this.progress = progress;
            return this;
        }

        /** Seeds the order of the samples in each epoch. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Tests: false makes a native trainer take the array path (Sequential.backward) even when the chain applies. */
        Builder pointerChain(boolean on) {
            this.pointerChain = on;
            return this;
        }

        public Trainer build() {
            if (model.isClosed()) {
                throw new IllegalArgumentException("model '" + model.name() + "' is closed");
            }
            return new Trainer(this);
        }
    }
}

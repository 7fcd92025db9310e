package org.conv4j;

import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A stack of convolution layers and activations applied in order, as Keras' {@code Sequential}:
 * each layer sees the output of the one before it.
 *
 * <pre>{@code
 * try (Sequential model = Sequential.builder().input(28, 28, 1)
 *         .add(firstConv).add(Activation.RELU).add(secondConv).build()) {
 *     System.out.print(model.summary());
 *     float[] y = model.predict(x, 1, 28, 28, 1);
 * }
 * }</pre>
 *
 * <p>Shapes are checked when the model is built: every layer must have its weights set, and each
 * layer's output must fit the next layer's input (same rank and data format, channel count equal
 * to the next kernel's Cin). When every layer is native the feature maps between layers stay in
 * native memory; those buffers are allocated once per input shape and reused.
 *
 * <p><b>Threads.</b> A model may be shared: concurrent {@code predict} calls each take their own
 * set of intermediate buffers (a pool per input shape grows to the number of concurrent callers).
 * {@link #close()} closes the layers, which the model owns from {@link Builder#build()} on.
 */
public final class Sequential implements AutoCloseable {
    private final String name;
    private final List<Stage> stages;
    private final int[] sampleShape; // input shape without the batch axis, in the layers' data format
    private final boolean allNative;
    private final Object lock = new Object();
    private final List<BufferPool> pools = new ArrayList<>(); // guarded by lock
    private volatile boolean closed;

    /**
     * One step of the stack: a layer, or an activation applied in place. A separable layer is two
     * stages, its depthwise step {@code hidden} from the summary and its pointwise step shown with
     * the separable layer's name, type and parameters.
     */
    private record Stage(String name, ConvLayer layer, Activation activation, String type, boolean hidden) {
        Stage(String name, ConvLayer layer, Activation activation) {
            this(name, layer, activation, layer == null ? "Activation" : layer.getClass().getSimpleName(), false);
        }
    }

    private Sequential(String name, List<Stage> stages, int[] sampleShape) {
        this.name = name;
        this.stages = List.copyOf(stages);
        this.sampleShape = sampleShape;
        this.allNative = stages.stream().allMatch(s -> s.layer == null || s.layer.backend() == Backend.NATIVE);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The model's name, as {@link #summary()} prints it. */
    public String name() {
        return name;
    }

    /** Number of stages (layers and activations). */
    public int size() {
        return stages.size();
    }

    /** The conv layers in order (activations are not layers here). */
    public List<ConvLayer> layers() {
        List<ConvLayer> layers = new ArrayList<>();
        for (Stage s : stages) {
            if (s.layer != null) {
                layers.add(s.layer);
            }
        }
        return layers;
    }

    /** Input shape of one sample (no batch axis), in the layers' data format. */
    public int[] inputShape() {
        return sampleShape.clone();
    }

    /** The output shape for a full input shape {@code [N, ...]}; validates it. */
    public int[] outputShape(int... inputShape) {
        int[][] shapes = stageShapes(inputShape);
        return shapes[shapes.length - 1].clone();
    }

    /** Trainable parameters (kernel and bias values) of all layers. */
    public long countParams() {
        long total = 0;
        for (Stage s : stages) {
            total += paramCount(s);
        }
        return total;
    }

    /** A table of each stage's output shape and parameter count, laid out as Keras prints it. */
    public String summary() {
        int[] batchless = new int[sampleShape.length + 1];
        batchless[0] = 1;
        System.arraycopy(sampleShape, 0, batchless, 1, sampleShape.length);
        int[][] shapes = stageShapes(batchless);
        List<String[]> rows = new ArrayList<>();
        long carried = 0; // a separable layer's depthwise parameters, shown on its pointwise row
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            if (s.hidden) {
                carried += paramCount(s);
                continue;
            }
            rows.add(new String[] {s.name + " (" + s.type() + ")", kerasShape(shapes[i + 1]),
                Long.toString(paramCount(s) + carried)});
            carried = 0;
        }
        int w0 = "Layer (type)".length();
        int w1 = "Output Shape".length();
        for (String[] r : rows) {
            w0 = Math.max(w0, r[0].length());
            w1 = Math.max(w1, r[1].length());
        }
        String format = "%-" + (w0 + 3) + "s%-" + (w1 + 3) + "s%s%n";
        int width = w0 + w1 + 6 + "Param #".length();
        StringBuilder sb = new StringBuilder();
        sb.append("Model: \"").append(name).append("\"\n");
        sb.append(String.format(Locale.ROOT, format, "Layer (type)", "Output Shape", "Param #"));
        sb.append("=".repeat(width)).append('\n');
        for (String[] r : rows) {
            sb.append(String.format(Locale.ROOT, format, r[0], r[1], r[2]));
        }
        sb.append("=".repeat(width)).append('\n');
        sb.append("Total params: ").append(countParams()).append('\n');
        sb.append("Input shape: ").append(kerasShape(batchless)).append('\n');
        return sb.toString();
    }

    /** Runs the stack on {@code input} of full shape {@code [N, ...]}; returns a new array. */
    public float[] predict(float[] input, int... inputShape) {
        float[] output = new float[count(outputShape(inputShape))];
        predict(input, inputShape, output);
        return output;
    }

    /**
     * Runs the stack into the caller's {@code output} (exactly the output's length). With every layer
     * native, the input is copied once into native memory, the feature maps between layers never
     * leave it, and the last map is copied once into {@code output}; nothing is allocated on the Java
     * heap once the shape has been seen.
     */
    public void predict(float[] input, int[] inputShape, float[] output) {
        requireNonNull("input", input);
        requireNonNull("output", output);
        Buffers b = take(inputShape);
        try {
            int n = stages.size();
            requireLength("input", input.length, b.counts[0]);
            requireLength("output", output.length, b.counts[n]);
            if (allNative) {
                b.nativeMaps[0].put(input, 0, input.length);
                runNative(b, b.nativeMaps[0], true, b.nativeMaps[n]);
                b.nativeMaps[n].get(output, 0, output.length);
            } else {
                runHeap(b, input, output);
            }
        } finally {
            give(b);
        }
    }

    /**
     * Runs the stack from and to native memory at the pointers' positions (every layer must be
     * native); only the intermediate maps use the model's buffers. The input is never modified.
     */
    public void predict(FloatPointer input, int[] inputShape, FloatPointer output) {
        if (!allNative) {
            throw new IllegalStateException("predict(FloatPointer) needs every layer on the native backend");
        }
        Buffers b = take(inputShape);
        try {
            ConvLayer.requireRemaining("input", input, b.counts[0]);
            ConvLayer.requireRemaining("output", output, b.counts[stages.size()]);
            runNative(b, input, false, output);
        } finally {
            give(b);
        }
    }

    /**
     * Stage i reads map i and writes map i + 1; an activation works in place on a map the model
     * owns (copying the caller's input first if it comes first), and a final activation is copied
     * out to {@code output}.
     */
    private void runNative(Buffers b, FloatPointer input, boolean inputIsOwned, FloatPointer output) {
        FloatPointer current = input;
        int owned = inputIsOwned ? 0 : -1; // index of current in nativeMaps, -1 for a caller's pointer
        int n = stages.size();
        for (int i = 0; i < n; i++) {
            Stage s = stages.get(i);
            boolean last = i == n - 1;
            if (s.layer != null) {
                FloatPointer next = last ? output : b.nativeMaps[i + 1];
                int[] d = b.dims[i];
                s.layer.run(current, next, d[0], d[1], d[2], d[3], d[4]);
                current = next;
                owned = last ? -1 : i + 1;
            } else {
                if (owned < 0) {
                    long callerLimit = current.limit();
                    b.nativeMaps[i + 1].put(current.limit(current.position() + b.counts[i]));
                    current.limit(callerLimit);
                    current = b.nativeMaps[i + 1];
                    owned = i + 1;
                }
                applyInPlace(s.activation, b.views[owned], b.counts[i]);
                if (last && current != output) {
                    output.put(current);
                }
            }
        }
    }

    private void runHeap(Buffers b, float[] input, float[] output) {
        float[] current = input;
        int n = stages.size();
        for (int i = 0; i < n; i++) {
            Stage s = stages.get(i);
            boolean last = i == n - 1;
            if (s.layer != null) {
                float[] next = last ? output : b.heapMaps[i + 1];
                int[] d = b.dims[i];
                s.layer.run(current, next, d[0], d[1], d[2], d[3], d[4]);
                current = next;
            } else {
                float[] target = last ? output : current == input ? b.heapMaps[i + 1] : current;
                if (target != current) {
                    System.arraycopy(current, 0, target, 0, b.counts[i]);
                    current = target;
                }
                applyInPlace(s.activation, current, b.counts[i]);
            }
        }
    }

    /** relu keeps NaN, like the layers' fused activation. */
    private static void applyInPlace(Activation activation, float[] data, int count) {
        if (activation == Activation.RELU) {
            for (int i = 0; i < count; i++) {
                if (data[i] < 0f) {
                    data[i] = 0f;
                }
            }
        }
    }

    private static void applyInPlace(Activation activation, FloatBuffer data, int count) {
        if (activation == Activation.RELU) {
            for (int i = 0; i < count; i++) {
                if (data.get(i) < 0f) {
                    data.put(i, 0f);
                }
            }
        }
    }

    /**
     * The gradients of a model for one output gradient: {@code input} is dL/d(model input), and
     * {@code layers} holds each conv layer's {@link Gradients} in the order of {@link #layers()}.
     */
    public record ModelGradients(float[] input, List<Gradients> layers) {
    }

    /**
     * Backpropagates {@code outputGradient} (the model output's shape) through the stack at
     * {@code input}: runs the forward pass keeping every map, then each stage's backward pass from
     * the last to the first (relu stages and fused relu pass gradient only where their output is
     * > 0). Safe to call concurrently with {@code predict} and itself.
     */
    public ModelGradients backward(float[] input, int[] inputShape, float[] outputGradient) {
        requireNonNull("input", input);
        float[][] maps = forwardMaps(input, inputShape);
        return backward(maps, inputShape, outputGradient, true);
    }

    /**
     * The forward pass on the heap keeping every map: maps[i] is the input of stage i (maps[0] is
     * {@code input} itself), maps[size()] the output.
     */
    float[][] forwardMaps(float[] input, int[] inputShape) {
        int[][] shapes = stageShapes(inputShape);
        int n = stages.size();
        float[][] maps = new float[n + 1][];
        maps[0] = input;
        requireLength("input", input.length, count(shapes[0]));
        for (int i = 0; i < n; i++) {
            Stage s = stages.get(i);
            maps[i + 1] = new float[count(shapes[i + 1])];
            if (s.layer != null) {
                int[] d = s.layer.normalized(shapes[i]);
                s.layer.run(maps[i], maps[i + 1], d[0], d[1], d[2], d[3], d[4]);
            } else {
                System.arraycopy(maps[i], 0, maps[i + 1], 0, maps[i].length);
                applyInPlace(s.activation, maps[i + 1], maps[i + 1].length);
            }
        }
        return maps;
    }

    /** Backward from the maps of {@link #forwardMaps}; the input gradient is skipped (null) unless asked for. */
    ModelGradients backward(float[][] maps, int[] inputShape, float[] outputGradient, boolean inputGradient) {
        requireNonNull("output gradient", outputGradient);
        int[][] shapes = stageShapes(inputShape);
        int n = stages.size();
        requireLength("output gradient", outputGradient.length, maps[n].length);
        int firstLayer = 0;
        while (stages.get(firstLayer).layer == null) {
            firstLayer++;
        }
        List<Gradients> grads = new ArrayList<>();
        float[] g = outputGradient;
        for (int i = n - 1; i >= 0 && g != null; i--) {
            Stage s = stages.get(i);
            if (s.layer != null) {
                ConvConfig c = s.layer.config();
                float[] dx = i > firstLayer || inputGradient ? new float[maps[i].length] : null;
                float[] dw = new float[s.layer.geometry(shapes[i]).kernelCount()];
                float[] db = c.useBias() ? new float[c.filters()] : null;
                s.layer.backward(maps[i], s.layer.normalized(shapes[i]), maps[i + 1], g, dx, dw, db);
                grads.add(0, new Gradients(dx, dw, db));
                g = dx;
            } else if (s.activation == Activation.RELU) {
                float[] masked = new float[g.length];
                float[] y = maps[i + 1];
                for (int j = 0; j < g.length; j++) {
                    masked[j] = y[j] > 0 ? g[j] : 0f;
                }
                g = masked;
            }
        }
        return new ModelGradients(g, grads);
    }

    /**
     * Writes every layer's kernel and bias to {@code file}, replacing it atomically. The format
     * (little-endian): the 8 bytes {@code CONV4JW1}, the layer count (int32), then per layer the
     * kernel's rank r (int32), its r dimensions in Keras layout (int32), its values (float32), the
     * bias length b (int32, 0 for no bias) and b values (float32).
     */
    public void saveWeights(java.nio.file.Path file) throws java.io.IOException {
        List<ConvLayer> layers = layers();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeBytes(WEIGHTS_MAGIC);
        out.writeInt(Integer.reverseBytes(layers.size()));
        for (ConvLayer layer : layers) {
            ConvLayer.Weights w = layer.getWeights();
            out.writeInt(Integer.reverseBytes(w.kernelShape().length));
            for (int d : w.kernelShape()) {
                out.writeInt(Integer.reverseBytes(d));
            }
            for (float v : w.kernel()) {
                out.writeInt(Integer.reverseBytes(Float.floatToRawIntBits(v)));
            }
            float[] bias = w.bias() == null ? new float[0] : w.bias();
            out.writeInt(Integer.reverseBytes(bias.length));
            for (float v : bias) {
                out.writeInt(Integer.reverseBytes(Float.floatToRawIntBits(v)));
            }
        }
        out.flush();
        java.nio.file.Path dir = file.toAbsolutePath().getParent();
        java.nio.file.Path temp = java.nio.file.Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            java.nio.file.Files.write(temp, bytes.toByteArray());
            java.nio.file.Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            java.nio.file.Files.deleteIfExists(temp);
        }
    }

    /**
     * Loads weights written by {@link #saveWeights} into this model's layers. Every kernel shape and
     * bias length must equal the layer's own (checked for all layers before any is changed, so a
     * file for another model leaves this one as it was).
     */
    public void loadWeights(java.nio.file.Path file) throws java.io.IOException {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(file))
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        List<ConvLayer> layers = layers();
        List<ConvLayer.Weights> loaded = new ArrayList<>();
        try {
            byte[] magic = new byte[Math.min(WEIGHTS_MAGIC.length(), b.remaining())];
            b.get(magic);
            if (!new String(magic, java.nio.charset.StandardCharsets.ISO_8859_1).equals(WEIGHTS_MAGIC)) {
                throw new IllegalArgumentException(file + " is not a conv4j weights file (no " + WEIGHTS_MAGIC
                        + " header)");
            }
            int count = b.getInt();
            if (count != layers.size()) {
                throw new IllegalArgumentException(file + " holds " + count + " layers, model '" + name + "' has "
                        + layers.size());
            }
            for (int i = 0; i < count; i++) {
                ConvLayer.Weights own = layers.get(i).getWeights();
                int rank = b.getInt();
                if (rank != own.kernelShape().length) {
                    throw new IllegalArgumentException(file + ": layer " + (i + 1) + " kernel has " + rank
                            + " dimensions, the model's " + Arrays.toString(own.kernelShape()));
                }
                int[] shape = new int[rank];
                for (int d = 0; d < rank; d++) {
                    shape[d] = b.getInt();
                }
                if (!Arrays.equals(shape, own.kernelShape())) {
                    throw new IllegalArgumentException(file + ": layer " + (i + 1) + " kernel shape "
                            + Arrays.toString(shape) + " is not the model's " + Arrays.toString(own.kernelShape()));
                }
                float[] kernel = new float[own.kernel().length];
                b.asFloatBuffer().get(kernel);
                b.position(b.position() + kernel.length * Float.BYTES);
                int biasLength = b.getInt();
                int ownBias = own.bias() == null ? 0 : own.bias().length;
                if (biasLength != ownBias) {
                    throw new IllegalArgumentException(file + ": layer " + (i + 1) + " bias has " + biasLength
                            + " values, the model's " + ownBias);
                }
                float[] bias = biasLength == 0 ? null : new float[biasLength];
                if (bias != null) {
                    b.asFloatBuffer().get(bias);
                    b.position(b.position() + biasLength * Float.BYTES);
                }
                loaded.add(new ConvLayer.Weights(kernel, shape, bias));
            }
        } catch (java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException(file + " is truncated: " + b.capacity() + " bytes");
        }
        if (b.hasRemaining()) {
            throw new IllegalArgumentException(file + " has " + b.remaining() + " bytes after the last layer");
        }
        for (int i = 0; i < layers.size(); i++) {
            ConvLayer.Weights w = loaded.get(i);
            layers.get(i).setWeights(w.kernel(), w.kernelShape(), w.bias());
        }
    }

    private static final String WEIGHTS_MAGIC = "CONV4JW1";

    /** Per-stage input shapes (index i) and the final output shape (index size()), full with batch. */
    private int[][] stageShapes(int[] inputShape) {
        requireOpen();
        requireInput(inputShape);
        int[][] shapes = new int[stages.size() + 1][];
        shapes[0] = inputShape.clone();
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            shapes[i + 1] = s.layer == null ? shapes[i] : s.layer.outputShape(shapes[i]);
        }
        return shapes;
    }

    private void requireInput(int[] inputShape) {
        if (inputShape == null || inputShape.length != sampleShape.length + 1) {
            throw new IllegalArgumentException("input shape must be [N, " + joined(sampleShape) + "] for model '"
                    + name + "', got " + (inputShape == null ? "null" : Arrays.toString(inputShape)));
        }
        for (int i = 0; i < sampleShape.length; i++) {
            if (inputShape[i + 1] != sampleShape[i]) {
                throw new IllegalArgumentException("input shape " + Arrays.toString(inputShape)
                        + " does not match model '" + name + "' input [N, " + joined(sampleShape) + "]");
            }
        }
        if (inputShape[0] < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + inputShape[0]);
        }
    }

    /** The intermediate maps and per-stage sizes for one input shape; used by one call at a time. */
    private final class Buffers {
        final int[] counts;      // element count entering stage i; counts[size] = output
        final int[][] dims;      // normalized {n, h, w, c} of conv stage i's input (null for activations)
        final FloatPointer[] nativeMaps; // [0] = copied input, [i] = input of stage i, [size] = output
        final FloatBuffer[] views;
        final float[][] heapMaps;
        final int[] inputShape;

        Buffers(int[] inputShape) {
            this.inputShape = inputShape.clone();
            int[][] shapes = stageShapes(inputShape);
            int n = stages.size();
            counts = new int[n + 1];
            dims = new int[n][];
            for (int i = 0; i <= n; i++) {
                counts[i] = count(shapes[i]);
                if (i < n) {
                    ConvLayer layer = stages.get(i).layer;
                    dims[i] = layer == null ? null : layer.normalized(shapes[i]);
                }
            }
            nativeMaps = new FloatPointer[n + 1];
            views = new FloatBuffer[n + 1];
            heapMaps = new float[n + 1][];
            try {
                for (int i = 0; i <= n; i++) {
                    if (allNative) {
                        nativeMaps[i] = new FloatPointer(counts[i]);
                        views[i] = nativeMaps[i].asBuffer();
                    } else if (i > 0 && i < n) {
                        heapMaps[i] = new float[counts[i]];
                    }
                }
            } catch (RuntimeException | OutOfMemoryError e) {
                free();
                throw e;
            }
        }

        void free() {
            for (FloatPointer p : nativeMaps) {
                if (p != null) {
                    p.deallocate();
                }
            }
        }
    }

    /** Free buffer sets for one input shape. */
    private static final class BufferPool {
        final int[] shape;
        final ArrayDeque<Buffers> free = new ArrayDeque<>();

        BufferPool(int[] shape) {
            this.shape = shape.clone();
        }
    }

    private Buffers take(int[] inputShape) {
        synchronized (lock) {
            requireOpen();
            for (int i = 0; i < pools.size(); i++) { // no iterator: steady-state calls allocate nothing
                BufferPool pool = pools.get(i);
                if (Arrays.equals(pool.shape, inputShape)) {
                    Buffers b = pool.free.pollFirst();
                    return b != null ? b : new Buffers(inputShape);
                }
            }
            Buffers b = new Buffers(inputShape); // validates before the pool remembers the shape
            pools.add(new BufferPool(inputShape));
            return b;
        }
    }

    private void give(Buffers b) {
        synchronized (lock) {
            if (!closed) {
                for (int i = 0; i < pools.size(); i++) {
                    BufferPool pool = pools.get(i);
                    if (Arrays.equals(pool.shape, b.inputShape)) {
                        pool.free.addFirst(b);
                        return;
                    }
                }
            }
        }
        b.free();
    }

    private static long paramCount(Stage s) {
        if (s.layer == null) {
            return 0;
        }
        ConvConfig c = s.layer.config();
        long perGroupIn = s.layer.inChannels() / c.groups();
        return c.kernelVolume() * perGroupIn * c.filters() + (c.useBias() ? c.filters() : 0);
    }

    private static int count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^31-1 elements");
        }
        return (int) n;
    }

    private static String kerasShape(int[] shape) {
        StringBuilder sb = new StringBuilder("(None");
        for (int i = 1; i < shape.length; i++) {
            sb.append(", ").append(shape[i]);
        }
        return sb.append(')').toString();
    }

    private static String joined(int[] a) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < a.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(a[i]);
        }
        return sb.toString();
    }

    private static void requireNonNull(String what, float[] a) {
        if (a == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
    }

    private static void requireLength(String what, int actual, int needed) {
        if (actual != needed) {
            throw new IllegalArgumentException(what + " has " + actual + " floats, needs " + needed);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("model '" + name + "' is closed");
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Closes every layer and frees the buffers; calls still running finish first. Idempotent. */
    @Override
    public void close() {
        List<Buffers> toFree = new ArrayList<>();
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            for (BufferPool pool : pools) {
                toFree.addAll(pool.free);
                pool.free.clear();
            }
            pools.clear();
        }
        toFree.forEach(Buffers::free);
        for (Stage s : stages) {
            if (s.layer != null) {
                s.layer.close();
            }
        }
    }

    @Override
    public String toString() {
        return "Sequential '" + name + "' " + stages.size() + " stages" + (closed ? " [closed]" : "");
    }

    /** Keras' default layer name for a class: Conv2DTranspose → conv2d_transpose. */
    static String kerasName(String className) {
        // keras.src.utils.naming.to_snake_case
        return className.replaceAll("(.)([A-Z][a-z]+)", "$1_$2").replaceAll("([a-z])([A-Z])", "$1_$2")
                .toLowerCase(Locale.ROOT);
    }

    /**
     * Collects the input shape and the stages. Layers must have their weights set before
     * {@link #build()}, which checks the shapes and then owns the layers.
     */
    public static final class Builder {
        private String name = "sequential";
        private int[] inputShape;
        private Boolean winograd; // null: each layer keeps its own switch
        private final List<Object> items = new ArrayList<>();

        private Builder() {
        }

        public Builder name(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("name must not be blank");
            }
            this.name = name;
            return this;
        }

        /** Shape of one sample without the batch axis, in the layers' data format (Keras {@code Input}). */
        public Builder input(int... shape) {
            if (shape == null || shape.length < 2 || shape.length > 4) {
                throw new IllegalArgumentException("input shape must have 2 (rank 1), 3 (rank 2) or 4 (rank 3)"
                        + " dimensions"
                        + " without the batch axis, got " + (shape == null ? "null" : Arrays.toString(shape)));
            }
            for (int d : shape) {
                if (d < 1) {
                    throw new IllegalArgumentException("input shape must be positive, got " + Arrays.toString(shape));
                }
            }
            this.inputShape = shape.clone();
            return this;
        }

        public Builder add(ConvLayer layer) {
            if (layer == null) {
                throw new IllegalArgumentException("layer must not be null");
            }
            items.add(layer);
            return this;
        }

        /** A separable layer: its depthwise and pointwise steps, one row in the summary. */
        public Builder add(SeparableConv layer) {
            if (layer == null) {
                throw new IllegalArgumentException("layer must not be null");
            }
            items.add(layer);
            return this;
        }

        /**
         * Sets every conv layer's Winograd switch ({@link ConvLayer.AbstractBuilder#winograd}) when the
         * model is built, overriding what each layer was built with: {@code true} lets AUTO choose
         * Winograd in every layer, {@code false} keeps direct-sum accuracy throughout. Unset, each
         * layer keeps its own (off by default).
         */
        public Builder winograd(boolean winograd) {
            this.winograd = winograd;
            return this;
        }

        /** An activation applied to the previous stage's output (Keras {@code Activation}). */
        public Builder add(Activation activation) {
            if (activation == null) {
                throw new IllegalArgumentException("activation must not be null");
            }
            items.add(activation);
            return this;
        }

        /** Checks every shape and builds the model; on failure the message names the layer. */
        public Sequential build() {
            if (inputShape == null) {
                throw new IllegalArgumentException("input shape must be set: input(H, W, C) or input(L, C)");
            }
            if (items.stream().noneMatch(i -> i instanceof ConvLayer || i instanceof SeparableConv)) {
                throw new IllegalArgumentException("a Sequential model needs at least one conv layer");
            }
            int rank = inputShape.length - 1;
            DataFormat format = null;
            List<Stage> stages = new ArrayList<>();
            java.util.Map<String, Integer> used = new java.util.HashMap<>();
            int[] shape = new int[inputShape.length + 1];
            shape[0] = 1;
            System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
            java.util.IdentityHashMap<ConvLayer, Boolean> seen = new java.util.IdentityHashMap<>();
            List<Object> expanded = new ArrayList<>();
            List<Integer> itemIndex = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                if (items.get(i) instanceof SeparableConv sep) {
                    expanded.add(sep.depthwise());
                    itemIndex.add(i);
                    expanded.add(sep);
                } else {
                    expanded.add(items.get(i));
                }
                itemIndex.add(i);
            }
            String separableName = null;
            for (int j = 0; j < expanded.size(); j++) {
                Object item = expanded.get(j);
                int i = itemIndex.get(j);
                boolean hidden = j + 1 < expanded.size() && expanded.get(j + 1) instanceof SeparableConv
                        && itemIndex.get(j + 1) == i;
                String type = item instanceof Activation ? "Activation" : item.getClass().getSimpleName();
                String stageName;
                if (item instanceof SeparableConv) {
                    stageName = separableName;
                } else {
                    String base = hidden ? kerasName(items.get(i).getClass().getSimpleName())
                            : kerasName(type);
                    int k = used.merge(base, 1, Integer::sum) - 1;
                    stageName = k == 0 ? base : base + "_" + k;
                    separableName = stageName;
                }
                if (item instanceof Activation a) {
                    stages.add(new Stage(stageName, null, a));
                    continue;
                }
                ConvLayer layer = item instanceof SeparableConv sep ? sep.pointwise() : (ConvLayer) item;
                String where = "layer " + (i + 1) + " '" + stageName + "'";
                if (seen.put(layer, Boolean.TRUE) != null) {
                    throw new IllegalArgumentException(where + " is already in the model: a layer may appear once");
                }
                if (layer.isClosed()) {
                    throw new IllegalArgumentException(where + " is closed");
                }
                ConvConfig c = layer.config();
                if (c.rank() != rank) {
                    throw new IllegalArgumentException(where + " is rank " + c.rank() + " but the input shape "
                            + Arrays.toString(inputShape) + " is for rank " + rank);
                }
                if (format == null) {
                    format = c.dataFormat();
                } else if (c.dataFormat() != format) {
                    throw new IllegalArgumentException(where + " is " + c.dataFormat().kerasName()
                            + " but earlier layers are " + format.kerasName());
                }
                int inChannels = layer.inChannels();
                if (inChannels < 0) {
                    throw new IllegalArgumentException(where + " has no weights: call setWeights before build");
                }
                int channelAxis = format == DataFormat.CHANNELS_LAST ? shape.length - 1 : 1;
                if (shape[channelAxis] != inChannels) {
                    throw new IllegalArgumentException(where + " expects " + inChannels + " input channels (its"
                            + " kernel), but it receives " + shape[channelAxis] + ": "
                            + (stages.isEmpty() ? "the input" : "the output of '" + stages.get(stages.size() - 1).name
                            + "'") + " has shape " + kerasShape(shape));
                }
                try {
                    shape = layer.outputShape(shape);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + " cannot take input " + kerasShape(shape) + ": "
                            + e.getMessage(), e);
                }
                stages.add(item instanceof SeparableConv ? new Stage(stageName, layer, null, type, false)
                        : new Stage(stageName, layer, null, hidden ? "" : type, hidden));
            }
            if (winograd != null) {
                for (Stage s : stages) {
                    if (s.layer != null) {
                        s.layer.setWinograd(winograd);
                    }
                }
            }
            return new Sequential(name, stages, inputShape);
        }
    }
}

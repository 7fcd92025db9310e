package org.conv4j.keras;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.Backend;
import org.conv4j.Conv4j;

/**
 * A Keras model loaded from a Keras 3 {@code .keras} file or a legacy {@code .h5} file, ready to
 * predict.
 *
 * <pre>{@code
 * try (KerasModel model = KerasModel.load(Path.of("model.keras"))) {
 *     float[] y = model.predict(x, 1);   // x: one sample, channels_last, flattened
 * }
 * }</pre>
 *
 * <p>Tensors are float32, channels_last and flattened batch-major: an input of sample shape
 * {@code inputShapes().get(i)} and batch {@code N} has {@code N × prod(shape)} floats. Conv1D,
 * Conv2D and Dense run on conv4j's conv layers (native by default, or the Java backend);
 * the other layers are Java loops.
 *
 * <p><b>Threads.</b> A model may be shared: any number of threads may call {@code predict}
 * concurrently; each call takes its own set of intermediate arrays (a pool per batch size grows to
 * the number of concurrent callers). {@link #close()} frees the native layers; calls already
 * running finish first.
 *
 * <p><b>Memory.</b> {@code predict} into caller arrays or buffers allocates nothing on the Java
 * heap once the batch size has been seen (native backend).
 */
public final class KerasModel implements AutoCloseable {
    private final Graph graph;
    private final Backend backend;
    private final Object lock = new Object();
    private final List<Pool> pools = new ArrayList<>(); // guarded by lock
    private int running; // guarded by lock
    private volatile boolean closed;

    /** Threads per layer call (0 = all cores): the convs' and the split Java ops' (pooling, affines, merges). */
    private final int threads;

    private KerasModel(Graph graph, Backend backend, int threads) {
        this.graph = graph;
        this.backend = backend;
        this.threads = threads;
    }

    /**
     * Output floats per chunk of a split Java op: below about this much work a hand-off to a worker
     * costs more than it saves, so smaller layers run on the calling thread.
     */
    static final int SPLIT_FLOATS = 1 << 14;

    /** One split op's call state, per node and Buffers (one call at a time): no allocation per call. */
    private static final class UnitLoop extends org.conv4j.Parallel.Loop {
        final Op op;
        final int batch;
        final int units;
        final int grain;
        float[][] in;
        float[] out;

        UnitLoop(Op op, int batch) {
            this.op = op;
            this.batch = batch;
            this.units = op.units(batch);
            long perUnit = Math.max(1, (long) batch * op.outCount / Math.max(units, 1));
            this.grain = (int) Math.max(1, SPLIT_FLOATS / perUnit);
        }

        void go(float[][] in, float[] out, int threads) {
            this.in = in;
            this.out = out;
            try {
                run(units, grain, threads);
            } finally {
                this.in = null;
                this.out = null;
            }
        }

        @Override
        protected void range(int from, int to) {
            op.runUnits(in, out, batch, from, to);
        }
    }

    /** Loads with the default backend ({@link Conv4j#defaultBackend()}) and all cores per conv. */
    public static KerasModel load(Path path) throws KerasModelException {
        return load(path, Conv4j.defaultBackend(), 0);
    }

    /**
     * Loads a {@code .keras} or {@code .h5} model. Everything in the file is checked (layer classes
     * and options, shapes, weight shapes and dtypes) before any native memory is allocated.
     *
     * @param threads threads per conv call (0 = all cores)
     * @throws KerasModelException for anything refused, naming the layer or the file part
     */
    public static KerasModel load(Path path, Backend backend, int threads) throws KerasModelException {
        if (path == null || backend == null) {
            throw new IllegalArgumentException("path and backend must not be null");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
        }
        Graph graph;
        try (KerasFile file = KerasFile.open(path)) {
            graph = Graph.read(file);
        }
        KerasModel model = new KerasModel(graph, backend, threads);
        try {
            for (Graph.Node n : graph.nodes) {
                if (n.op != null) {
                    n.op.open(backend, threads);
                }
            }
        } catch (RuntimeException e) {
            model.close();
            throw new KerasModelException(path.getFileName() + ": the layers could not be created: "
                    + e.getMessage(), e);
        }
        return model;
    }

    /** The layer graph (tests, and the weights writer). */
    Graph graph() {
        return graph;
    }

    /** The model's name from its config. */
    public String name() {
        return graph.modelName;
    }

    public Backend backend() {
        return backend;
    }

    /** Sample shapes of the inputs (no batch axis), in the model's input order. */
    public List<int[]> inputShapes() {
        return shapes(graph.inputs);
    }

    /** Sample shapes of the outputs (no batch axis), in the model's output order. */
    public List<int[]> outputShapes() {
        return shapes(graph.outputs);
    }

    /** Names of the input layers, in order. */
    public List<String> inputNames() {
        return graph.inputs.stream().map(i -> graph.nodes.get(i).name).toList();
    }

    /** Names of the output layers, in order. */
    public List<String> outputNames() {
        return graph.outputs.stream().map(i -> graph.nodes.get(i).name).toList();
    }

    private List<int[]> shapes(List<Integer> ids) {
        List<int[]> out = new ArrayList<>();
        for (int i : ids) {
            out.add(graph.nodes.get(i).shape.clone());
        }
        return out;
    }

    /** Runs a one-input, one-output model; returns a new array. */
    public float[] predict(float[] input, int batch) {
        requireSingle();
        float[] out = new float[checkedBatchCount(graph.outputs.get(0), batch)];
        predict(input, batch, out);
        return out;
    }

    /** Runs a one-input, one-output model into {@code output}; no allocation in steady state. */
    public void predict(float[] input, int batch, float[] output) {
        requireSingle();
        Buffers b = take(batch);
        try {
            b.inputs[0] = input;
            b.outputs[0] = output;
            run(b);
        } finally {
            give(b);
        }
    }

    /** Runs the model on one array per input; returns one new array per output. */
    public float[][] predict(float[][] inputs, int batch) {
        float[][] outs = new float[graph.outputs.size()][];
        for (int i = 0; i < outs.length; i++) {
            outs[i] = new float[checkedBatchCount(graph.outputs.get(i), batch)];
        }
        predict(inputs, batch, outs);
        return outs;
    }

    /** Runs the model into the caller's output arrays (one per output); no allocation in steady state. */
    public void predict(float[][] inputs, int batch, float[][] outputs) {
        requireCount("inputs", inputs, graph.inputs.size());
        requireCount("outputs", outputs, graph.outputs.size());
        Buffers b = take(batch);
        try {
            System.arraycopy(inputs, 0, b.inputs, 0, inputs.length);
            System.arraycopy(outputs, 0, b.outputs, 0, outputs.length);
            run(b);
        } finally {
            give(b);
        }
    }

    /**
     * Runs the model from and to buffers (direct or heap, from and to their positions, which are
     * left unchanged); the data is copied through the model's own arrays; no allocation in steady state.
     */
    public void predict(FloatBuffer[] inputs, int batch, FloatBuffer[] outputs) {
        requireCount("inputs", inputs, graph.inputs.size());
        requireCount("outputs", outputs, graph.outputs.size());
        Buffers b = take(batch);
        try {
            for (int i = 0; i < inputs.length; i++) {
                float[] a = b.staging[i];
                requireRemaining("input ", i, inputs[i] == null ? -1 : inputs[i].remaining(), a.length);
                copy(inputs[i], a);
                b.inputs[i] = a;
            }
            for (int i = 0; i < outputs.length; i++) {
                float[] a = b.staging[inputs.length + i];
                requireRemaining("output ", i, outputs[i] == null ? -1 : outputs[i].remaining(), a.length);
                if (outputs[i].isReadOnly()) {
                    throw new IllegalArgumentException("output " + i + " buffer is read-only");
                }
                b.outputs[i] = a;
            }
            run(b);
            for (int i = 0; i < outputs.length; i++) {
                copy(b.outputs[i], outputs[i]);
            }
        } finally {
            give(b);
        }
    }

    /** Runs the model from and to native memory at the pointers' positions, copied through the model's arrays. */
    public void predict(FloatPointer[] inputs, int batch, FloatPointer[] outputs) {
        requireCount("inputs", inputs, graph.inputs.size());
        requireCount("outputs", outputs, graph.outputs.size());
        Buffers b = take(batch);
        try {
            for (int i = 0; i < inputs.length; i++) {
                float[] a = b.staging[i];
                requireRemaining("input ", i, remaining(inputs[i]), a.length);
                inputs[i].get(a);
                b.inputs[i] = a;
            }
            for (int i = 0; i < outputs.length; i++) {
                float[] a = b.staging[inputs.length + i];
                requireRemaining("output ", i, remaining(outputs[i]), a.length);
                b.outputs[i] = a;
            }
            run(b);
            for (int i = 0; i < outputs.length; i++) {
                outputs[i].put(b.outputs[i]);
            }
        } finally {
            give(b);
        }
    }

    /** Element loops: the JDK's bulk copies of direct buffers allocate on some versions. */
    private static void copy(FloatBuffer from, float[] to) {
        int p = from.position();
        for (int i = 0; i < to.length; i++) {
            to[i] = from.get(p + i);
        }
    }

    private static void copy(float[] from, FloatBuffer to) {
        int p = to.position();
        for (int i = 0; i < from.length; i++) {
            to.put(p + i, from[i]);
        }
    }

    private static long remaining(FloatPointer p) {
        if (p == null || p.isNull()) {
            return -1;
        }
        long size = p.limit() > 0 ? p.limit() : p.capacity();
        return size - p.position();
    }

    /**
     * Diagnostic: runs {@code calls} predictions and returns the nanoseconds spent in each layer
     * class (e.g. {@code Conv2D}, {@code BatchNormalization}), in first-seen order. Not for the hot
     * path: it reads the clock around every layer.
     */
    public java.util.Map<String, Long> profile(float[][] inputs, int batch, int calls) {
        requireCount("inputs", inputs, graph.inputs.size());
        java.util.Map<String, Long> nanos = new java.util.LinkedHashMap<>();
        float[][] outs = new float[graph.outputs.size()][];
        for (int i = 0; i < outs.length; i++) {
            outs[i] = new float[checkedBatchCount(graph.outputs.get(i), batch)];
        }
        Buffers b = take(batch);
        try {
            for (int c = 0; c < calls; c++) {
                System.arraycopy(inputs, 0, b.inputs, 0, inputs.length);
                System.arraycopy(outs, 0, b.outputs, 0, outs.length);
                b.clock = nanos;
                run(b);
            }
        } finally {
            b.clock = null;
            give(b);
        }
        return nanos;
    }

    private void run(Buffers b) {
        List<Graph.Node> nodes = graph.nodes;
        for (int i = 0; i < b.inputs.length; i++) {
            float[] a = b.inputs[i];
            int needed = b.counts[graph.inputs.get(i)];
            if (a == null || a.length != needed) {
                throw new IllegalArgumentException("input " + i + " ('" + nodes.get(graph.inputs.get(i)).name
                        + "', sample shape " + Shapes.text(nodes.get(graph.inputs.get(i)).shape) + ") has "
                        + (a == null ? "null" : a.length + " floats") + ", batch " + b.batch + " needs " + needed);
            }
            b.maps[graph.inputs.get(i)] = a;
        }
        for (int i = 0; i < b.outputs.length; i++) {
            float[] a = b.outputs[i];
            int needed = b.counts[graph.outputs.get(i)];
            if (a == null || a.length != needed) {
                throw new IllegalArgumentException("output " + i + " ('" + nodes.get(graph.outputs.get(i)).name
                        + "') has " + (a == null ? "null" : a.length + " floats") + ", batch " + b.batch
                        + " needs " + needed);
            }
        }
        for (int id = 0; id < nodes.size(); id++) {
            Graph.Node n = nodes.get(id);
            if (n.op == null) {
                continue;
            }
            if (n.root != id) {
                b.maps[id] = b.maps[n.root];
                continue;
            }
            float[][] ins = b.ins[id];
            int[] from = n.op.inputs;
            for (int j = 0; j < from.length; j++) {
                ins[j] = b.maps[from[j]];
            }
            if (b.clock == null) {
                run(b, id, n.op, ins);
            } else {
                long t0 = System.nanoTime();
                run(b, id, n.op, ins);
                b.clock.merge(n.op.className, System.nanoTime() - t0, Long::sum);
            }
        }
        for (int i = 0; i < b.outputs.length; i++) {
            int id = graph.outputs.get(i);
            System.arraycopy(b.maps[id], 0, b.outputs[i], 0, b.counts[id]);
        }
    }

    /** The op's loop when it splits into more than one chunk at this batch on several threads, else null. */
    private UnitLoop splitLoop(Op op, int batch) {
        if (threads == 1 || op.units(batch) == 0) {
            return null;
        }
        UnitLoop loop = new UnitLoop(op, batch);
        return loop.units > loop.grain ? loop : null;
    }

    /** How many ops run split over threads at this batch (tests). */
    int splitOps(int batch) {
        int n = 0;
        for (int id = 0; id < graph.nodes.size(); id++) {
            Graph.Node node = graph.nodes.get(id);
            if (node.op != null && node.root == id && splitLoop(node.op, batch) != null) {
                n++;
            }
        }
        return n;
    }

    private void run(Buffers b, int id, Op op, float[][] ins) {
        UnitLoop loop = b.loops[id];
        if (loop != null) {
            loop.go(ins, b.maps[id], threads);
        } else {
            op.run(ins, b.maps[id], b.batch);
        }
    }

    /** The arrays for one batch size; used by one call at a time. */
    private final class Buffers {
        final int batch;
        final int[] counts;
        final float[][] owned; // per node that computes its own output
        final float[][] maps; // per node, its current output array (owned, aliased or a caller's input)
        final float[][][] ins;
        final UnitLoop[] loops; // per node whose op splits over threads and has more than one chunk
        final float[][] inputs;
        final float[][] outputs;
        final float[][] staging; // buffer and pointer variants: inputs then outputs
        java.util.Map<String, Long> clock; // profile() only

        Buffers(int batch) {
            this.batch = batch;
            List<Graph.Node> nodes = graph.nodes;
            counts = new int[nodes.size()];
            owned = new float[nodes.size()][];
            maps = new float[nodes.size()][];
            ins = new float[nodes.size()][][];
            loops = new UnitLoop[nodes.size()];
            for (int id = 0; id < nodes.size(); id++) {
                Graph.Node n = nodes.get(id);
                counts[id] = checkedBatchCount(id, batch);
                if (n.op != null && n.root == id) {
                    owned[id] = new float[counts[id]];
                    maps[id] = owned[id];
                    ins[id] = new float[n.op.inputs.length][];
                    loops[id] = splitLoop(n.op, batch);
                }
            }
            inputs = new float[graph.inputs.size()][];
            outputs = new float[graph.outputs.size()][];
            staging = new float[inputs.length + outputs.length][];
            for (int i = 0; i < inputs.length; i++) {
                staging[i] = new float[counts[graph.inputs.get(i)]];
            }
            for (int i = 0; i < outputs.length; i++) {
                staging[inputs.length + i] = new float[counts[graph.outputs.get(i)]];
            }
        }

        void reset() {
            Arrays.fill(inputs, null);
            Arrays.fill(outputs, null);
            for (int id = 0; id < maps.length; id++) {
                maps[id] = owned[id];
            }
        }
    }

    private record Pool(int batch, ArrayDeque<Buffers> free) {}

    private Buffers take(int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        synchronized (lock) {
            requireOpen();
            running++;
            for (int i = 0; i < pools.size(); i++) { // no iterator: steady-state calls allocate nothing
                Pool p = pools.get(i);
                if (p.batch == batch) {
                    Buffers b = p.free.pollFirst();
                    return b != null ? b : newBuffers(batch);
                }
            }
            Buffers b = newBuffers(batch);
            pools.add(new Pool(batch, new ArrayDeque<>()));
            return b;
        }
    }

    private Buffers newBuffers(int batch) {
        try {
            return new Buffers(batch);
        } catch (RuntimeException | OutOfMemoryError e) {
            running--;
            throw e;
        }
    }

    private void give(Buffers b) {
        synchronized (lock) {
            b.reset();
            running--;
            if (!closed) {
                for (int i = 0; i < pools.size(); i++) {
                    Pool p = pools.get(i);
                    if (p.batch == b.batch) {
                        p.free.addFirst(b);
                        break;
                    }
                }
            } else if (running == 0) {
                closeOps();
            }
        }
    }

    private int checkedBatchCount(int node, int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        long n = (long) graph.nodes.get(node).count * batch;
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("batch " + batch + " makes layer '" + graph.nodes.get(node).name
                    + "' hold " + n + " floats, more than a Java array");
        }
        return (int) n;
    }

    private void requireSingle() {
        if (graph.inputs.size() != 1 || graph.outputs.size() != 1) {
            throw new IllegalStateException("model '" + graph.modelName + "' has " + graph.inputs.size()
                    + " inputs and " + graph.outputs.size() + " outputs: use predict(float[][], int, float[][])");
        }
    }

    private static void requireCount(String what, Object[] a, int n) {
        if (a == null || a.length != n) {
            throw new IllegalArgumentException(what + ": the model takes " + n + ", got "
                    + (a == null ? "null" : a.length));
        }
    }

    private static void requireRemaining(String what, int index, long remaining, int needed) {
        if (remaining < needed) {
            throw new IllegalArgumentException(what + index + (remaining < 0 ? " is null" : " has " + remaining
                    + " floats remaining") + ", needs " + needed);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("model '" + graph.modelName + "' is closed");
        }
    }

    /** Total parameters as Keras counts them (BatchNormalization's moving statistics included). */
    public long countParams() {
        long n = 0;
        for (Graph.Node node : graph.nodes) {
            if (node.op != null) {
                n += node.op.trainable + node.op.nonTrainable;
            }
        }
        return n;
    }

    /**
     * The model as Keras 3's {@code model.summary()} prints it: one row per layer with its output
     * shape and parameter count (and, for a Functional model, the layers it reads), then the
     * totals. Folded BatchNormalization layers are listed as in the file.
     */
    public String summary() {
        List<String[]> rows = new ArrayList<>();
        boolean functional = !graph.sequential;
        long trainable = 0;
        long fixed = 0;
        for (Graph.Node n : graph.nodes) {
            if (n.op == null && !functional || n.hidden) {
                continue;
            }
            String cls = n.op == null ? "InputLayer" : n.op.className;
            long params = n.op == null ? 0 : n.op.trainable + n.op.nonTrainable;
            if (n.op != null) {
                trainable += n.op.trainable;
                fixed += n.op.nonTrainable;
            }
            String connected = "-";
            if (n.op != null && functional) {
                StringBuilder sb = new StringBuilder();
                for (int in : n.op.declaredInputs) {
                    sb.append(sb.length() == 0 ? "" : ", ").append(graph.nodes.get(in).name).append("[0][0]");
                }
                connected = sb.toString();
            }
            rows.add(new String[] {n.name + " (" + cls + ")", Shapes.text(n.shape), String.format(Locale.ROOT,
                    "%,d", params), connected});
        }
        String[] head = {"Layer (type)", "Output Shape", "Param #", "Connected to"};
        int cols = functional ? 4 : 3;
        int[] w = new int[cols];
        for (int c = 0; c < cols; c++) {
            w[c] = head[c].length();
            for (String[] r : rows) {
                w[c] = Math.max(w[c], r[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append("Model: \"").append(graph.modelName).append("\"\n");
        sb.append(line(w, '┏', '━', '┳', '┓'));
        sb.append(row(w, head, '┃'));
        sb.append(line(w, '┡', '━', '╇', '┩'));
        for (int i = 0; i < rows.size(); i++) {
            sb.append(row(w, rows.get(i), '│'));
            sb.append(i == rows.size() - 1 ? line(w, '└', '─', '┴', '┘') : line(w, '├', '─', '┼', '┤'));
        }
        sb.append(" Total params: ").append(count(trainable + fixed)).append('\n');
        sb.append(" Trainable params: ").append(count(trainable)).append('\n');
        sb.append(" Non-trainable params: ").append(count(fixed)).append('\n');
        return sb.toString();
    }

    private static String count(long params) {
        double size = params * 4.0;
        String[] units = {"B", "KB", "MB", "GB", "TB", "PB"};
        int u = 0;
        while (size / 1024 >= 1 && u < units.length - 1) {
            size /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%,d (%.2f %s)", params, size, units[u]);
    }

    private static String line(int[] w, char left, char fill, char mid, char right) {
        StringBuilder sb = new StringBuilder().append(left);
        for (int c = 0; c < w.length; c++) {
            sb.append(String.valueOf(fill).repeat(w[c] + 2)).append(c == w.length - 1 ? right : mid);
        }
        return sb.append('\n').toString();
    }

    private static String row(int[] w, String[] cells, char bar) {
        StringBuilder sb = new StringBuilder().append(bar);
        for (int c = 0; c < w.length; c++) {
            String cell = cells[c];
            String pad = " ".repeat(w[c] - cell.length());
            sb.append(' ').append(c == 2 ? pad + cell : cell + pad).append(' ').append(bar);
        }
        return sb.append('\n').toString();
    }

    public boolean isClosed() {
        return closed;
    }

    /** Frees the native layers once no call is running; idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            pools.clear();
            if (running == 0) {
                closeOps();
            }
        }
    }

    private void closeOps() {
        for (Graph.Node n : graph.nodes) {
            if (n.op != null) {
                n.op.close();
            }
        }
    }

    @Override
    public String toString() {
        return "KerasModel '" + graph.modelName + "' " + graph.nodes.size() + " nodes [" + backend.cliName()
                + (closed ? ", closed" : "") + "]";
    }
}

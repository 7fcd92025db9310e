package org.conv4j.keras;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a model config (Sequential or Functional, Keras 3 or Keras 2 layout) into nodes in
 * topological order: inputs first, then one node per layer with the nodes it reads. Every layer's
 * op is made here, so its config, shapes and weights are all checked before anything runs.
 */
final class Graph {
    static final int MAX_LAYERS = 100_000;

    /** A node: an input (op null) or a layer's op; {@code root} is the node whose array holds its output. */
    static final class Node {
        final String name;
        final Op op;
        final int[] shape;
        final int count;
        int root;
        boolean folded; // a BatchNormalization folded into the conv before it: aliases its input
        boolean hidden; // the depthwise half of a SeparableConv: no row of its own in the summary

        Node(String name, Op op, int[] shape, int count) {
            this.name = name;
            this.op = op;
            this.shape = shape;
            this.count = count;
        }
    }

    final String modelName;
    final boolean sequential;
    final List<Node> nodes = new ArrayList<>();
    final List<Integer> inputs = new ArrayList<>();
    final List<Integer> outputs = new ArrayList<>();
    /** Node index by layer name (inbound references and input/output lists name layers). */
    final Map<String, Integer> byName = new HashMap<>();

    private final KerasFile file;
    private final Map<String, Integer> keyCounts = new HashMap<>();

    private Graph(KerasFile file, String modelName, boolean sequential) {
        this.file = file;
        this.modelName = modelName;
        this.sequential = sequential;
    }

    static Graph read(KerasFile file) throws KerasModelException {
        JsonObject m = file.model;
        String where = file.label + " model config";
        String cls = Json.string(m, "class_name", where);
        JsonObject config = Json.object(m, "config", where);
        String name = Json.string(config, "name", cls.toLowerCase(Locale.ROOT), where);
        JsonArray layers = Json.array(config, "layers", where);
        checkDtype(config, where);
        if (layers.size() > MAX_LAYERS) {
            throw new KerasModelException(where + ": " + layers.size() + " layers, more than " + MAX_LAYERS);
        }
        Graph g;
        switch (cls) {
            case "Sequential" -> {
                g = new Graph(file, name, true);
                g.readSequential(config, layers, where);
            }
            case "Functional", "Model" -> {
                g = new Graph(file, name, false);
                g.readFunctional(config, layers, where);
            }
            default -> throw new KerasModelException(where + ": model class '" + cls + "' is not supported"
                    + " (Sequential or Functional); a subclassed model has no config to rebuild it from");
        }
        g.foldZeroPadding();
        g.foldBatchNorms();
        g.fuseActivations();
        g.poolBeforeAffine();
        return g;
    }

    private void readSequential(JsonObject config, JsonArray layers, String where) throws KerasModelException {
        int start = 0;
        int[] shape = null;
        if (layers.size() > 0 && layers.get(0).isJsonObject()
                && "InputLayer".equals(Json.string(layers.get(0).getAsJsonObject(), "class_name", "", where))) {
            JsonObject in = layers.get(0).getAsJsonObject();
            shape = inputShape(Json.object(in, "config", where), "layer InputLayer");
            start = 1;
        } else if (Json.has(config, "build_input_shape")) {
            shape = Json.shape(Json.array(config, "build_input_shape", where), true, where + " build_input_shape");
        } else if (layers.size() > 0 && layers.get(0).isJsonObject()) {
            JsonObject c = Json.object(layers.get(0).getAsJsonObject(), "config", where);
            shape = inputShape(c, where + " first layer");
        }
        if (shape == null) {
            throw new KerasModelException(where + ": the Sequential model has no input shape");
        }
        addInput(Json.string(config, "name", "input", where) + "_input", shape);
        int previous = 0;
        for (int i = start; i < layers.size(); i++) {
            JsonElement e = layers.get(i);
            if (!e.isJsonObject()) {
                throw new KerasModelException(where + ": layer " + i + " is not an object");
            }
            previous = addLayer(e.getAsJsonObject(), new int[] {previous}, where + " layer " + i);
        }
        outputs.add(previous);
    }

    private void readFunctional(JsonObject config, JsonArray layers, String where) throws KerasModelException {
        for (int i = 0; i < layers.size(); i++) {
            JsonElement e = layers.get(i);
            if (!e.isJsonObject()) {
                throw new KerasModelException(where + ": layer " + i + " is not an object");
            }
            JsonObject layer = e.getAsJsonObject();
            String cls = Json.string(layer, "class_name", where + " layer " + i);
            if (cls.equals("InputLayer")) {
                JsonObject c = Json.object(layer, "config", where);
                String name = Json.string(layer, "name", Json.string(c, "name", "input", where), where);
                weightKey("InputLayer");
                addInput(name, inputShape(c, "layer InputLayer '" + name + "'"));
                continue;
            }
            String name = Json.string(layer, "name", where + " layer " + i);
            List<String> refs = inbound(layer, "layer " + cls + " '" + name + "'");
            int[] ins = new int[refs.size()];
            for (int j = 0; j < ins.length; j++) {
                ins[j] = node(refs.get(j), "layer " + cls + " '" + name + "'");
            }
            addLayer(layer, ins, where + " layer " + i);
        }
        for (String in : ends(config, "input_layers", where)) {
            int n = node(in, where + " input_layers");
            if (nodes.get(n).op != null) {
                throw new KerasModelException(where + ": input_layers names '" + in + "', which is not an InputLayer");
            }
        }
        inputs.clear();
        for (String in : ends(config, "input_layers", where)) {
            inputs.add(node(in, where + " input_layers"));
        }
        for (String out : ends(config, "output_layers", where)) {
            outputs.add(node(out, where + " output_layers"));
        }
        if (inputs.isEmpty() || outputs.isEmpty()) {
            throw new KerasModelException(where + ": the model needs at least one input and one output");
        }
    }

    /** input_layers / output_layers: [name, 0, 0] or [[name, 0, 0], ...]. */
    private static List<String> ends(JsonObject config, String key, String where) throws KerasModelException {
        JsonArray a = Json.array(config, key, where);
        List<String> names = new ArrayList<>();
        if (a.size() > 0 && Json.isString(a.get(0))) {
            names.add(a.get(0).getAsString());
            return names;
        }
        for (JsonElement e : a) {
            if (!e.isJsonArray() || e.getAsJsonArray().isEmpty() || !Json.isString(e.getAsJsonArray().get(0))) {
                throw new KerasModelException(where + ": bad entry in " + key + ": " + Json.brief(e));
            }
            names.add(e.getAsJsonArray().get(0).getAsString());
        }
        return names;
    }

    /** The layer names a Functional layer reads, from Keras 3 ({args: [...]}) or Keras 2 ([[name, 0, 0, {}]]) nodes. */
    private static List<String> inbound(JsonObject layer, String where) throws KerasModelException {
        JsonArray nodes = Json.array(layer, "inbound_nodes", where);
        if (nodes.size() != 1) {
            throw new KerasModelException(where + " is called " + nodes.size() + " times: shared layers are not"
                    + " supported (one call per layer)");
        }
        List<String> refs = new ArrayList<>();
        JsonElement node = nodes.get(0);
        if (node.isJsonObject()) {
            JsonArray args = Json.array(node.getAsJsonObject(), "args", where + " inbound node");
            collectTensors(args, refs, where, 0);
        } else if (node.isJsonArray()) {
            for (JsonElement t : node.getAsJsonArray()) {
                if (!t.isJsonArray() || t.getAsJsonArray().size() < 3 || !Json.isString(t.getAsJsonArray().get(0))) {
                    throw new KerasModelException(where + ": bad inbound node " + Json.brief(t));
                }
                requireFirstTensor(t.getAsJsonArray(), where);
                refs.add(t.getAsJsonArray().get(0).getAsString());
            }
        } else {
            throw new KerasModelException(where + ": bad inbound node " + Json.brief(node));
        }
        if (refs.isEmpty()) {
            throw new KerasModelException(where + " has no input tensors");
        }
        return refs;
    }

    private static void collectTensors(JsonElement e, List<String> refs, String where, int depth)
            throws KerasModelException {
        if (depth > 3) {
            throw new KerasModelException(where + ": inbound node nested too deeply");
        }
        if (e.isJsonArray()) {
            for (JsonElement x : e.getAsJsonArray()) {
                collectTensors(x, refs, where, depth + 1);
            }
        } else if (e.isJsonObject() && "__keras_tensor__".equals(Json.string(e.getAsJsonObject(), "class_name", "",
                where))) {
            JsonObject c = Json.object(e.getAsJsonObject(), "config", where);
            JsonArray h = Json.array(c, "keras_history", where);
            if (h.size() != 3 || !Json.isString(h.get(0))) {
                throw new KerasModelException(where + ": bad keras_history " + Json.brief(h));
            }
            requireFirstTensor(h, where);
            refs.add(h.get(0).getAsString());
        } else {
            throw new KerasModelException(where + ": inbound argument " + Json.brief(e) + " is not a tensor (extra"
                    + " call arguments are not supported)");
        }
    }

    private static void requireFirstTensor(JsonArray ref, String where) throws KerasModelException {
        int node = Json.integer(ref.get(1), where + " node index", 0, Integer.MAX_VALUE);
        int tensor = Json.integer(ref.get(2), where + " tensor index", 0, Integer.MAX_VALUE);
        if (node != 0 || tensor != 0) {
            throw new KerasModelException(where + " reads output " + tensor + " of call " + node + " of '"
                    + ref.get(0).getAsString() + "': shared layers and multi-output layers are not supported");
        }
    }

    private int node(String name, String where) throws KerasModelException {
        Integer n = byName.get(name);
        if (n == null) {
            throw new KerasModelException(where + " refers to layer '" + name + "', which is not defined before it");
        }
        return n;
    }

    private static int[] inputShape(JsonObject c, String where) throws KerasModelException {
        checkDtype(c, where);
        if (Json.bool(c, "sparse", false, where) || Json.bool(c, "ragged", false, where)) {
            throw new KerasModelException(where + ": sparse or ragged inputs are not supported");
        }
        for (String key : new String[] {"batch_shape", "batch_input_shape"}) {
            if (Json.has(c, key)) {
                int[] s = Json.shape(Json.array(c, key, where), true, where + " " + key);
                if (s.length == 0) {
                    throw new KerasModelException(where + ": scalar inputs are not supported");
                }
                return s;
            }
        }
        return null;
    }

    private void addInput(String name, int[] shape) throws KerasModelException {
        if (byName.containsKey(name)) {
            throw new KerasModelException("layer InputLayer '" + name + "': the name is used twice");
        }
        int id = nodes.size();
        Node n = new Node(name, null, shape, Shapes.count(shape, "input '" + name + "'"));
        n.root = id;
        nodes.add(n);
        byName.put(name, id);
        inputs.add(id);
    }

    /** The class-derived key of the layer's weights in model.weights.h5: conv2d, conv2d_1, ... */
    private String weightKey(String cls) {
        return weightKey(cls, keyCounts);
    }

    /** Keras' to_snake_case of the class name, numbered by how often it came before in {@code counts}. */
    static String weightKey(String cls, Map<String, Integer> counts) {
        String snake = cls.replaceAll("\\W+", "").replaceAll("(.)([A-Z][a-z]+)", "$1_$2")
                .replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
        int k = counts.merge(snake, 1, Integer::sum) - 1;
        return k == 0 ? snake : snake + "_" + k;
    }

    private int addLayer(JsonObject layer, int[] ins, String where) throws KerasModelException {
        String cls = Json.string(layer, "class_name", where);
        JsonObject c = Json.object(layer, "config", where);
        String name = Json.string(layer, "name", Json.string(c, "name", cls.toLowerCase(Locale.ROOT), where), where);
        String w = "layer " + cls + " '" + name + "'";
        String key = weightKey(cls);
        Layers.Factory f = Layers.REGISTRY.get(cls);
        if (f == null) {
            String module = Json.string(layer, "module", "keras.layers", w);
            boolean custom = Json.has(layer, "registered_name") && !cls.equals(Json.string(layer, "registered_name",
                    cls, w)) || !module.startsWith("keras");
            String why = cls.equals("Sequential") || cls.equals("Functional") || cls.equals("Model")
                    ? "nested models are not supported" : custom ? "custom objects are not supported"
                    : "this layer class is not supported";
            throw new KerasModelException(w + ": " + why + " (supported: InputLayer, "
                    + String.join(", ", Layers.REGISTRY.keySet()) + ")");
        }
        checkDtype(c, w);
        if (byName.containsKey(name)) {
            throw new KerasModelException(w + ": the name is used twice");
        }
        int[][] shapes = new int[ins.length][];
        for (int i = 0; i < ins.length; i++) {
            shapes[i] = nodes.get(ins[i]).shape;
        }
        if (ins.length > 1 && !(cls.equals("Concatenate")
                || List.of("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum").contains(cls))) {
            throw new KerasModelException(w + " takes one input, got " + ins.length);
        }
        Op op = f.make(new LayerSpec(cls, name, c, file.zipped ? key : name, file), shapes);
        op.declaredInputs = ins;
        if (op instanceof Layers.ConvOp conv && conv.pre != null) {
            conv.pre.inputs = ins;
            conv.pre.declaredInputs = ins;
            int pid = nodes.size();
            Node pn = new Node(name + "/depthwise", conv.pre, conv.pre.outShape, conv.pre.outCount);
            pn.root = pid;
            pn.hidden = true;
            nodes.add(pn);
            ins = new int[] {pid};
        }
        op.inputs = ins;
        int id = nodes.size();
        Node n = new Node(name, op, op.outShape, op.outCount);
        n.root = op.alias() ? nodes.get(ins[0]).root : id;
        nodes.add(n);
        byName.put(name, id);
        return id;
    }

    private static void checkDtype(JsonObject c, String where) throws KerasModelException {
        JsonElement d = c.get("dtype");
        String name = null;
        if (Json.isString(d)) {
            name = d.getAsString();
        } else if (d != null && d.isJsonObject()) {
            JsonObject policy = d.getAsJsonObject();
            JsonObject pc = Json.has(policy, "config") ? Json.object(policy, "config", where) : policy;
            name = Json.string(pc, "name", "float32", where);
        }
        if (name != null && !name.equals("float32")) {
            throw new KerasModelException(where + ": dtype '" + name + "' is not supported (float32 only)");
        }
    }

    /**
     * An elementwise activation layer (Activation other than softmax, ReLU, LeakyReLU) that reads a
     * linear conv or Dense (possibly through a folded BatchNormalization), with nothing else reading
     * the chain and no model output inside it, runs in the conv's call: a relu in the conv's native
     * output write, anything else applied to the conv's output array right after it.
     */
    private void fuseActivations() {
        int[] readers = readers();
        for (int id = 0; id < nodes.size(); id++) {
            Node n = nodes.get(id);
            if (!(n.op instanceof Layers.ActivationOp act) || !act.elementwise()) {
                continue;
            }
            int m = n.op.inputs[0];
            int src = nodes.get(m).folded ? nodes.get(m).op.inputs[0] : m;
            Node s = nodes.get(src);
            boolean single = readers[m] == 1 && readers[src] == 1 && !outputs.contains(m) && !outputs.contains(src);
            if (s.op instanceof Layers.ConvOp conv && conv.linear() && conv.post == null && single && s.root == src
                    && nodes.get(m).root == src) {
                conv.post = act;
                n.folded = true;
                n.root = src;
            }
        }
    }

    /**
     * A max pooling that reads an increasing per-channel affine (BatchNormalization after a relu
     * conv, Rescaling) which nothing else reads runs first, on the affine's input, and applies the
     * affine to its smaller output: max(a·x + b) = a·max(x) + b for a > 0, bit for bit, because
     * rounding is monotone.
     */
    private void poolBeforeAffine() {
        int[] readers = readers();
        for (int id = 0; id < nodes.size(); id++) {
            Node n = nodes.get(id);
            if (!(n.op instanceof Layers.PoolOp pool) || !pool.isMax() || pool.post != null) {
                continue;
            }
            int a = n.op.inputs[0];
            Node an = nodes.get(a);
            if (an.op instanceof Layers.AffineOp affine && !an.folded && an.root == a && affine.increasing()
                    && readers[a] == 1 && !outputs.contains(a)) {
                pool.post = affine;
                n.op.inputs = new int[] {an.op.inputs[0]};
                an.folded = true; // nothing reads its output any more
                an.root = nodes.get(an.op.inputs[0]).root;
            }
        }
    }

    /**
     * A ZeroPadding that feeds only a forward conv (not a transposed one), with no model output in
     * between, becomes that conv's explicit pads: the padded copy is never made.
     */
    private void foldZeroPadding() {
        int[] readers = readers();
        for (int id = 0; id < nodes.size(); id++) {
            Node n = nodes.get(id);
            if (!(n.op instanceof Layers.ConvOp conv) || conv.dense || conv.transpose) {
                continue;
            }
            int p = n.op.inputs[0];
            Node pn = nodes.get(p);
            if (pn.op instanceof Layers.PadOp pad && !pad.upsample && pn.root == p && readers[p] == 1
                    && !outputs.contains(p)) {
                int rank = conv.rank;
                int[] before = new int[rank];
                int[] after = new int[rank];
                for (int i = 0; i < rank; i++) {
                    before[i] = pad.before[3 - rank + i];
                    after[i] = pad.out3[3 - rank + i] - pad.in3[3 - rank + i] - before[i];
                }
                conv.foldPadding(pad.inShapes[0], before, after);
                n.op.inputs = new int[] {pn.op.inputs[0]};
                pn.folded = true; // nothing reads its output any more
                pn.root = nodes.get(pn.op.inputs[0]).root;
            }
        }
    }

    private int[] readers() {
        int[] readers = new int[nodes.size()];
        for (Node n : nodes) {
            if (n.op != null) {
                for (int i : n.op.inputs) {
                    readers[i]++;
                }
            }
        }
        return readers;
    }

    /**
     * A BatchNormalization that reads a linear conv or Dense which nothing else reads (and that is
     * not a model output) folds into that layer's kernel and bias: its node then hands the conv's
     * output on.
     */
    private void foldBatchNorms() {
        int[] readers = readers();
        for (int id = 0; id < nodes.size(); id++) {
            Node n = nodes.get(id);
            if (n.op instanceof Layers.AffineOp bn && n.op.className.equals("BatchNormalization")) {
                int src = n.op.inputs[0];
                Node s = nodes.get(src);
                if (s.op instanceof Layers.ConvOp conv && conv.linear() && readers[src] == 1
                        && !outputs.contains(src) && s.root == src) {
                    conv.fold(bn.scale, bn.shift);
                    n.folded = true;
                    n.root = src;
                }
            }
        }
    }
}

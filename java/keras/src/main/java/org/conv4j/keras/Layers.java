package org.conv4j.keras;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.conv4j.Activation;
import org.conv4j.Backend;
import org.conv4j.Conv1D;
import org.conv4j.Conv1DTranspose;
import org.conv4j.Conv2DTranspose;
import org.conv4j.Conv3DTranspose;
import org.conv4j.ConvLayer;
import org.conv4j.Padding;

/**
 * The supported Keras layer classes, one registry entry each, and their inference ops. A class not
 * in {@link #REGISTRY} is refused by name. The conv layers run on conv4j's {@link ConvLayer}s
 * (native or Java backend); the others are Java loops over float arrays.
 */
final class Layers {
    private Layers() {
    }

    /** Builds the op of one layer from its config, input shapes and weights (read and checked here). */
    interface Factory {
        Op make(LayerSpec spec, int[][] in) throws KerasModelException;
    }

    static final Map<String, Factory> REGISTRY;

    static {
        Map<String, Factory> r = new LinkedHashMap<>();
        r.put("Conv1D", (s, in) -> ConvOp.conv(s, in, 1, false));
        r.put("Conv2D", (s, in) -> ConvOp.conv(s, in, 2, false));
        // Depthwise: conv4j's grouped conv with groups = Cin; Keras' [k..., Cin, m] kernel is already
        // conv4j's [k..., 1, Cin*m] in memory (output channel c*m + j).
        r.put("DepthwiseConv1D", (s, in) -> ConvOp.conv(s, in, 1, true));
        r.put("DepthwiseConv2D", (s, in) -> ConvOp.conv(s, in, 2, true));
        r.put("Conv3D", (s, in) -> ConvOp.conv(s, in, 3, false));
        for (int rank = 1; rank <= 3; rank++) {
            int k = rank;
            r.put("Conv" + k + "DTranspose", (s, in) -> ConvOp.transpose(s, in, k));
        }
        // Separable: a depthwise op (its own hidden node) then a 1x1 conv with the bias and activation.
        r.put("SeparableConv1D", (s, in) -> ConvOp.separable(s, in, 1));
        r.put("SeparableConv2D", (s, in) -> ConvOp.separable(s, in, 2));
        r.put("Dense", ConvOp::dense);
        r.put("BatchNormalization", AffineOp::batchNorm);
        r.put("Rescaling", AffineOp::rescaling);
        r.put("Activation", ActivationOp::activation);
        r.put("ReLU", ActivationOp::relu);
        r.put("LeakyReLU", ActivationOp::leakyRelu);
        r.put("Flatten", IdentityOp::flatten);
        r.put("Reshape", IdentityOp::reshape);
        for (String identity : new String[] {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
            "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization"}) {
            r.put(identity, IdentityOp::identity);
        }
        for (int rank = 1; rank <= 3; rank++) {
            int k = rank;
            r.put("MaxPooling" + k + "D", (s, in) -> PoolOp.pool(s, in, k, true));
            r.put("AveragePooling" + k + "D", (s, in) -> PoolOp.pool(s, in, k, false));
            r.put("GlobalMaxPooling" + k + "D", (s, in) -> PoolOp.global(s, in, k, true));
            r.put("GlobalAveragePooling" + k + "D", (s, in) -> PoolOp.global(s, in, k, false));
            r.put("ZeroPadding" + k + "D", (s, in) -> PadOp.zeroPadding(s, in, k));
            r.put("UpSampling" + k + "D", (s, in) -> PadOp.upSampling(s, in, k));
        }
        for (String merge : new String[] {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"}) {
            r.put(merge, MergeOp::merge);
        }
        r.put("Concatenate", MergeOp::concatenate);
        REGISTRY = Collections.unmodifiableMap(r);
    }

    static int[] withLast(int[] shape, int last) {
        int[] s = shape.clone();
        s[s.length - 1] = last;
        return s;
    }

    static void requireRank(LayerSpec spec, int[] in, int rank) throws KerasModelException {
        if (in.length != rank) {
            throw new KerasModelException(spec.where() + " needs inputs of rank " + (rank + 1) + " (with batch),"
                    + " got " + Shapes.text(in));
        }
    }

    /** Normalized spatial view {d, h, w} of a channels_last sample shape of spatial rank 1..3. */
    static int[] spatial3(int[] sample) {
        int r = sample.length - 1;
        int[] s = {1, 1, 1};
        for (int i = 0; i < r; i++) {
            s[3 - r + i] = sample[i];
        }
        return s;
    }

    // ------------------------------------------------------------------ conv and dense

    /**
     * Conv1D/2D/3D, depthwise, transposed, the two halves of a separable conv, and Dense (a kernel-1
     * Conv1D over [1, rows, Cin]) on conv4j's conv layers.
     */
    static final class ConvOp extends Op {
        final int rank;
        final boolean dense;
        final boolean transpose;
        final int filters;
        final int[] kernelSize;
        final int[] strides;
        final int[] dilation;
        Padding padding;
        final int groups;
        final int cin;
        final Activations activation;
        float[] kernel;
        float[] bias; // null without bias
        int[] kernelShape;
        /** Keras' output_padding of a transposed conv; null for None. */
        int[] outputPadding;
        /** Pads of a ZeroPadding folded in front (Graph.foldZeroPadding); null when none. */
        int[] padBefore;
        int[] padAfter;
        /** The depthwise half of a SeparableConv, run as its own hidden node before this 1x1 conv. */
        ConvOp pre;
        /** An activation layer that directly follows and was absorbed (Graph.fuseActivations). */
        ActivationOp post;
        private ConvLayer layer;
        private int[] in3;

        private ConvOp(LayerSpec spec, int[][] in, int rank, boolean dense, int filters, int[] kernelSize,
                       int[] strides, int[] dilation, Padding padding, int groups, Activations activation) {
            super(spec, in);
            this.rank = rank;
            this.dense = dense;
            this.filters = filters;
            this.kernelSize = kernelSize;
            this.strides = strides;
            this.dilation = dilation;
            this.padding = padding;
            this.groups = groups;
            this.cin = in[0][in[0].length - 1];
            this.activation = activation;
            this.transpose = false;
        }

        private ConvOp(LayerSpec spec, int[][] in, int rank, int filters, int[] kernelSize, int[] strides,
                       int[] dilation, Padding padding, int[] outputPadding, Activations activation) {
            super(spec, in);
            this.rank = rank;
            this.dense = false;
            this.transpose = true;
            this.filters = filters;
            this.kernelSize = kernelSize;
            this.strides = strides;
            this.dilation = dilation;
            this.padding = padding;
            this.groups = 1;
            this.cin = in[0][in[0].length - 1];
            this.activation = activation;
            this.outputPadding = outputPadding;
        }

        /** Conv{1,2,3}DTranspose: kernel [k..., filters, Cin]; output size by Keras' deconv_output_length. */
        static Op transpose(LayerSpec s, int[][] in, int rank) throws KerasModelException {
            String w = s.where();
            s.requireChannelsLast();
            requireRank(s, in[0], rank + 1);
            int filters = Json.integer(s.config().get("filters"), w + ": 'filters'", 1, Shapes.MAX_DIM);
            int[] k = s.ints("kernel_size", rank, 1, Shapes.MAX_DIM);
            int[] st = s.ints("strides", rank, 1, Shapes.MAX_DIM);
            int[] dl = dilationOf(s, rank);
            Padding padding = paddingOf(s, rank, false);
            int[] op = null;
            JsonElement opEl = s.config().get("output_padding");
            if (opEl != null && !opEl.isJsonNull()) {
                op = s.ints("output_padding", rank, 0, Shapes.MAX_DIM);
                for (int i = 0; i < rank; i++) {
                    if (op[i] >= st[i]) {
                        throw new KerasModelException(w + ": output_padding " + Arrays.toString(op)
                                + " must be below the strides " + Arrays.toString(st));
                    }
                }
            }
            if (Json.integer(s.config(), "groups", 1, 1, Shapes.MAX_DIM, w) != 1) {
                throw new KerasModelException(w + ": groups other than 1 are not supported for transposed convs");
            }
            Activations act = activationOf(s);
            boolean useBias = Json.bool(s.config(), "use_bias", true, w);
            ConvOp conv = new ConvOp(s, in, rank, filters, k, st, dl, padding, op, act);
            int[] out = new int[rank + 1];
            for (int i = 0; i < rank; i++) {
                long span = (long) (k[i] - 1) * dl[i] + 1;
                long size = in[0][i];
                long o;
                if (op == null) {
                    o = padding == Padding.VALID ? size * st[i] + Math.max(span - st[i], 0) : size * st[i];
                } else {
                    long pad = padding == Padding.SAME ? span / 2 : 0;
                    o = (size - 1) * st[i] + span - 2 * pad + op[i];
                }
                if (o < 1 || o > Shapes.MAX_DIM) {
                    throw new KerasModelException(w + ": output size " + o + " on axis " + (i + 1)
                            + " is out of range for input " + Shapes.text(in[0]));
                }
                out[i] = (int) o;
            }
            out[rank] = filters;
            conv.out(out, w);
            int[] kshape = Arrays.copyOf(k, rank + 2);
            kshape[rank] = filters;
            kshape[rank + 1] = conv.cin;
            conv.readWeights(s, kshape, useBias);
            return conv;
        }

        /**
         * SeparableConv{1,2}D: the depthwise kernel [k..., Cin, M] runs in {@link #pre} (no bias,
         * linear), then a 1x1 conv over Cin·M channels with the pointwise kernel, bias and activation,
         * exactly Keras' two steps. The parameters are counted on the 1x1 op (one summary row).
         */
        static Op separable(LayerSpec s, int[][] in, int rank) throws KerasModelException {
            String w = s.where();
            s.requireChannelsLast();
            requireRank(s, in[0], rank + 1);
            int multiplier = Json.integer(s.config(), "depth_multiplier", 1, 1, Shapes.MAX_DIM, w);
            int filters = Json.integer(s.config().get("filters"), w + ": 'filters'", 1, Shapes.MAX_DIM);
            int cin = in[0][rank];
            long mid = (long) cin * multiplier;
            if (mid > Shapes.MAX_DIM) {
                throw new KerasModelException(w + ": " + mid + " depthwise channels is too many");
            }
            int[] k = s.ints("kernel_size", rank, 1, Shapes.MAX_DIM);
            int[] st = s.ints("strides", rank, 1, Shapes.MAX_DIM);
            int[] dl = dilationOf(s, rank);
            requireStridesOrDilation(w, st, dl);
            Padding padding = paddingOf(s, rank, true);
            boolean useBias = Json.bool(s.config(), "use_bias", true, w);
            ConvOp dw = new ConvOp(s, in, rank, false, (int) mid, k, st, dl, padding, cin, Activations.LINEAR);
            dw.out(withLast(convOut(w, in[0], rank, k, st, dl, padding), (int) mid), w);
            int[] ones = new int[rank];
            Arrays.fill(ones, 1);
            ConvOp pw = new ConvOp(s, new int[][] {dw.outShape}, rank, false, filters, ones, ones, ones, Padding.VALID,
                    1, activationOf(s));
            pw.out(withLast(dw.outShape, filters), w);
            int[] dk = Arrays.copyOf(k, rank + 2);
            dk[rank] = cin;
            dk[rank + 1] = multiplier;
            int[] pk = Arrays.copyOf(ones, rank + 2);
            pk[rank] = (int) mid;
            pk[rank + 1] = filters;
            float[][] wts = useBias ? s.weights(dk, pk, new int[] {filters}) : s.weights(dk, pk);
            dw.kernel = wts[0];
            dw.kernelShape = Arrays.copyOf(k, rank + 2);
            dw.kernelShape[rank] = 1;
            dw.kernelShape[rank + 1] = (int) mid;
            pw.kernel = wts[1];
            pw.kernelShape = pk;
            pw.bias = useBias ? wts[2] : null;
            boolean frozen = !Json.bool(s.config(), "trainable", true, w);
            long n = dw.kernel.length + pw.kernel.length + (useBias ? filters : 0);
            pw.trainable = frozen ? 0 : n;
            pw.nonTrainable = frozen ? n : 0;
            pw.pre = dw;
            return pw;
        }

        private static int[] dilationOf(LayerSpec s, int rank) throws KerasModelException {
            int[] dl = new int[rank];
            Arrays.fill(dl, 1);
            if (Json.has(s.config(), "dilation_rate")) {
                dl = s.ints("dilation_rate", rank, 1, Shapes.MAX_DIM);
            }
            return dl;
        }

        private static Padding paddingOf(LayerSpec s, int rank, boolean causalOk) throws KerasModelException {
            String w = s.where();
            String pad = Json.string(s.config(), "padding", "valid", w);
            switch (pad) {
                case "valid":
                    return Padding.VALID;
                case "same":
                    return Padding.SAME;
                case "causal":
                    if (rank != 1 || !causalOk) {
                        throw new KerasModelException(w + ": padding 'causal' is only for 1-D forward convs");
                    }
                    return Padding.CAUSAL;
                default:
                    throw new KerasModelException(w + ": padding '" + pad + "' is not valid/same/causal");
            }
        }

        private static void requireStridesOrDilation(String w, int[] st, int[] dl) throws KerasModelException {
            if (Arrays.stream(st).anyMatch(v -> v > 1) && Arrays.stream(dl).anyMatch(v -> v > 1)) {
                throw new KerasModelException(w + ": strides " + Arrays.toString(st) + " with dilation_rate "
                        + Arrays.toString(dl) + ": Keras refuses strides > 1 together with dilation > 1");
            }
        }

        /** The spatial output sizes (and a last entry to fill) of a forward conv; refuses a too-small input. */
        private static int[] convOut(String w, int[] in, int rank, int[] k, int[] st, int[] dl, Padding padding)
                throws KerasModelException {
            int[] out = new int[rank + 1];
            for (int i = 0; i < rank; i++) {
                int size = in[i];
                long span = (long) (k[i] - 1) * dl[i] + 1;
                long o = padding == Padding.VALID ? (size - span) / st[i] + 1 : (size - 1) / st[i] + 1;
                if (padding == Padding.VALID && size < span) {
                    throw new KerasModelException(w + ": input " + Shapes.text(in) + " is smaller than the"
                            + " dilated kernel (" + span + ") on axis " + (i + 1) + " with padding 'valid'");
                }
                out[i] = (int) o;
            }
            return out;
        }

        /**
         * Takes the pads of a ZeroPadding in front: this conv then reads the padding's input
         * ({@code in}, its sample shape) with explicit pads = its own padding's pads on the padded
         * size plus the zeros, the same output. Forward convs only.
         */
        void foldPadding(int[] in, int[] before, int[] after) {
            int[] b = new int[rank];
            int[] a = new int[rank];
            for (int i = 0; i < rank; i++) {
                int size = inShapes[0][i];
                int span = (kernelSize[i] - 1) * dilation[i] + 1;
                if (padding == Padding.SAME) {
                    int o = (size - 1) / strides[i] + 1;
                    int total = Math.max((o - 1) * strides[i] + span - size, 0);
                    b[i] = total / 2;
                    a[i] = total - total / 2;
                } else if (padding == Padding.CAUSAL) {
                    b[i] = span - 1;
                }
                b[i] += before[i];
                a[i] += after[i];
            }
            padBefore = b;
            padAfter = a;
            padding = Padding.VALID;
            inShapes = new int[][] {in};
        }

        static Op conv(LayerSpec s, int[][] in, int rank, boolean depthwise) throws KerasModelException {
            String w = s.where();
            s.requireChannelsLast();
            requireRank(s, in[0], rank + 1);
            int multiplier = depthwise ? Json.integer(s.config(), "depth_multiplier", 1, 1, Shapes.MAX_DIM, w) : 0;
            long f = depthwise ? (long) in[0][rank] * multiplier
                    : Json.integer(s.config().get("filters"), w + ": 'filters'", 1, Shapes.MAX_DIM);
            if (f > Shapes.MAX_DIM) {
                throw new KerasModelException(w + ": " + f + " output channels is too many");
            }
            int filters = (int) f;
            int[] k = s.ints("kernel_size", rank, 1, Shapes.MAX_DIM);
            int[] st = s.ints("strides", rank, 1, Shapes.MAX_DIM);
            int[] dl = dilationOf(s, rank);
            int groups = depthwise ? in[0][rank] : Json.integer(s.config(), "groups", 1, 1, Shapes.MAX_DIM, w);
            Padding padding = paddingOf(s, rank, true);
            requireStridesOrDilation(w, st, dl);
            int cin = in[0][rank];
            if (cin % groups != 0 || filters % groups != 0) {
                throw new KerasModelException(w + ": input channels " + cin + " and filters " + filters
                        + " must both be divisible by groups " + groups);
            }
            Activations act = activationOf(s);
            boolean useBias = Json.bool(s.config(), "use_bias", true, w);
            ConvOp op = new ConvOp(s, in, rank, false, filters, k, st, dl, padding, groups, act);
            int[] out = convOut(w, in[0], rank, k, st, dl, padding);
            out[rank] = filters;
            op.out(out, w);
            int[] kshape = Arrays.copyOf(k, rank + 2);
            kshape[rank] = depthwise ? cin : cin / groups;
            kshape[rank + 1] = depthwise ? multiplier : filters;
            op.readWeights(s, kshape, useBias);
            if (depthwise) {
                op.kernelShape = Arrays.copyOf(k, rank + 2);
                op.kernelShape[rank] = 1;
                op.kernelShape[rank + 1] = filters;
            }
            return op;
        }

        static Op dense(LayerSpec s, int[][] in) throws KerasModelException {
            String w = s.where();
            int units = Json.integer(s.config().get("units"), w + ": 'units'", 1, Shapes.MAX_DIM);
            requireNoLora(s);
            boolean useBias = Json.bool(s.config(), "use_bias", true, w);
            ConvOp op = new ConvOp(s, in, 1, true, units, new int[] {1}, new int[] {1}, new int[] {1},
                    Padding.VALID, 1, activationOf(s));
            op.out(withLast(in[0], units), w);
            op.readWeights(s, new int[] {op.cin, units}, useBias);
            return op;
        }

        private static void requireNoLora(LayerSpec s) throws KerasModelException {
            if (Json.has(s.config(), "lora_rank")) {
                throw new KerasModelException(s.where() + ": LoRA (lora_rank) is not supported");
            }
            if (Json.has(s.config(), "quantization_config")) {
                throw new KerasModelException(s.where() + ": quantized layers are not supported");
            }
        }

        static Activations activationOf(LayerSpec s) throws KerasModelException {
            JsonElement a = s.config().get("activation");
            if (a == null || a.isJsonNull()) {
                return Activations.LINEAR;
            }
            if (!Json.isString(a)) {
                throw new KerasModelException(s.where() + ": activation " + Json.brief(a) + " is a custom object;"
                        + " only Keras' named activations are supported");
            }
            return Activations.parse(a.getAsString(), s.where(), s.file().keras2);
        }

        private void readWeights(LayerSpec s, int[] kshape, boolean useBias) throws KerasModelException {
            float[][] wts = useBias ? s.weights(kshape, new int[] {filters}) : s.weights(kshape);
            kernel = wts[0];
            bias = useBias ? wts[1] : null;
            kernelShape = dense ? new int[] {1, kshape[0], kshape[1]} : kshape;
            boolean frozen = !Json.bool(s.config(), "trainable", true, s.where());
            long n = kernel.length + (bias == null ? 0 : bias.length);
            trainable = frozen ? 0 : n;
            nonTrainable = frozen ? n : 0;
        }

        /** Folds a following per-channel affine y*scale + shift into the kernel and bias. */
        void fold(double[] scale, double[] shift) {
            float[] k = kernel.clone();
            for (int i = 0; i < k.length; i++) {
                // Keras' transposed kernel is [k..., filters, Cin]; the others end in filters.
                k[i] = (float) (k[i] * scale[transpose ? i / cin % filters : i % filters]);
            }
            float[] b = new float[filters];
            for (int f = 0; f < filters; f++) {
                b[f] = (float) ((bias == null ? 0 : bias[f]) * scale[f] + shift[f]);
            }
            kernel = k;
            bias = b;
        }

        boolean linear() {
            return activation == Activations.LINEAR;
        }

        @Override
        void open(Backend backend, int threads) {
            in3 = spatial3(inShapes[0]);
            ConvLayer l;
            if (transpose) {
                l = switch (rank) {
                    case 1 -> common(Conv1DTranspose.builder(), backend, threads).build();
                    case 2 -> common(Conv2DTranspose.builder(), backend, threads).build();
                    default -> common(Conv3DTranspose.builder(), backend, threads).build();
                };
            } else {
                l = common(ConvLayer.builder(rank), backend, threads).groups(groups).build();
            }
            try {
                l.setWeights(kernel, kernelShape, bias);
            } catch (RuntimeException e) {
                l.close();
                throw e;
            }
            layer = l;
        }

        private <B extends ConvLayer.AbstractBuilder<B>> B common(B b, Backend backend, int threads) {
            b.filters(filters).kernelSize(kernelSize).strides(strides).dilationRate(dilation).useBias(bias != null)
                    .activation(activation == Activations.RELU || post != null && post.startsWithRelu()
                            ? Activation.RELU : Activation.NONE)
                    .backend(backend).threads(threads);
            if (padBefore != null) {
                b.padding(Padding.explicit(padBefore, padAfter));
            } else {
                b.padding(padding);
            }
            if (transpose && outputPadding != null) {
                ((ConvLayer.TransposeBuilder<?>) b).outputPadding(outputPadding);
            }
            return b;
        }

        @Override
        void run(float[][] in, float[] out, int batch) {
            float[] x = in[0];
            if (dense) {
                ((Conv1D) layer).predict(x, out, 1, batch * (outCount / filters), cin);
            } else {
                layer.predict(x, out, batch, in3[0], in3[1], in3[2], cin);
            }
            if (activation != Activations.RELU) {
                activation.apply(out, batch * outCount, filters);
            }
            if (post != null && !post.isRelu()) {
                post.applyInPlace(out, batch * outCount);
            }
        }

        @Override
        void close() {
            if (layer != null) {
                layer.close();
            }
        }
    }

    // ------------------------------------------------------------------ per-channel affine

    /** y = x * scale[c] + shift[c]: BatchNormalization not folded into a conv, and Rescaling. */
    static final class AffineOp extends Op {
        final double[] scale;
        final double[] shift;

        private final float[] scaleF;
        private final float[] shiftF;

        AffineOp(LayerSpec s, int[][] in, double[] scale, double[] shift) throws KerasModelException {
            super(s, in);
            this.scale = scale;
            this.shift = shift;
            this.scaleF = new float[scale.length];
            this.shiftF = new float[shift.length];
            for (int i = 0; i < scale.length; i++) {
                scaleF[i] = (float) scale[i];
                shiftF[i] = (float) shift[i];
            }
            out(in[0], s.where());
        }

        static Op batchNorm(LayerSpec s, int[][] in) throws KerasModelException {
            String w = s.where();
            int rank = in[0].length + 1;
            JsonElement axisEl = s.config().get("axis");
            if (axisEl != null && axisEl.isJsonArray() && axisEl.getAsJsonArray().size() == 1) {
                axisEl = axisEl.getAsJsonArray().get(0);
            }
            int axis = axisEl == null ? -1 : Json.integer(axisEl, w + ": 'axis'", -rank, rank - 1);
            if (axis != -1 && axis != rank - 1) {
                throw new KerasModelException(w + ": axis " + axis + " is not supported (the last axis only)");
            }
            if (Json.bool(s.config(), "renorm", false, w)) {
                throw new KerasModelException(w + ": renorm is a training-only option that is not supported");
            }
            double eps = Json.number(s.config(), "epsilon", 1e-3, w);
            boolean center = Json.bool(s.config(), "center", true, w);
            boolean scaled = Json.bool(s.config(), "scale", true, w);
            int c = in[0][in[0].length - 1];
            int n = 2 + (center ? 1 : 0) + (scaled ? 1 : 0);
            int[][] shapes = new int[n][];
            Arrays.fill(shapes, new int[] {c});
            float[][] wts = s.weights(shapes);
            int i = 0;
            float[] gamma = scaled ? wts[i++] : null;
            float[] beta = center ? wts[i++] : null;
            float[] mean = wts[i++];
            float[] var = wts[i];
            double[] scale = new double[c];
            double[] shift = new double[c];
            for (int j = 0; j < c; j++) {
                scale[j] = (gamma == null ? 1 : gamma[j]) / Math.sqrt(var[j] + eps);
                shift[j] = (beta == null ? 0 : beta[j]) - mean[j] * scale[j];
            }
            AffineOp op = new AffineOp(s, in, scale, shift);
            boolean frozen = !Json.bool(s.config(), "trainable", true, w);
            op.trainable = frozen ? 0 : (long) (n - 2) * c;
            op.nonTrainable = (long) n * c - op.trainable;
            return op;
        }

        static Op rescaling(LayerSpec s, int[][] in) throws KerasModelException {
            String w = s.where();
            int c = in[0][in[0].length - 1];
            double[] scale = new double[c];
            double[] shift = new double[c];
            Arrays.fill(scale, Json.number(s.config().get("scale"), w + ": 'scale' (a scalar here)"));
            Arrays.fill(shift, Json.number(s.config(), "offset", 0, w));
            return new AffineOp(s, in, scale, shift);
        }

        /** True when every channel's scale is > 0: then the affine is increasing and commutes with max. */
        boolean increasing() {
            for (float v : scaleF) {
                if (!(v > 0f)) {
                    return false;
                }
            }
            return true;
        }

        @Override
        void run(float[][] in, float[] out, int batch) {
            apply(in[0], out, 0, batch * outCount);
        }

        @Override
        int units(int batch) {
            return batch * (outCount / scaleF.length);
        }

        @Override
        void runUnits(float[][] in, float[] out, int batch, int from, int to) {
            apply(in[0], out, from * scaleF.length, to * scaleF.length);
        }

        /** out[from, to) = x * scale + shift per channel (x may be out; from, to whole pixels). */
        void apply(float[] x, float[] out, int from, int to) {
            float[] a = scaleF;
            float[] b = shiftF;
            int c = a.length;
            // float, as Keras computes it: scale and shift each rounded once from their double values.
            for (int i = from; i < to; i += c) {
                for (int j = 0; j < c; j++) {
                    out[i + j] = x[i + j] * a[j] + b[j];
                }
            }
        }
    }

    // ------------------------------------------------------------------ activations

    static final class ActivationOp extends Op {
        final Activations fn; // null for ReLU/LeakyReLU with arguments
        final double maxValue; // ReLU: +inf when None
        final double slope;
        final double threshold;

        private ActivationOp(LayerSpec s, int[][] in, Activations fn, double maxValue, double slope,
                             double threshold) throws KerasModelException {
            super(s, in);
            this.fn = fn;
            this.maxValue = maxValue;
            this.slope = slope;
            this.threshold = threshold;
            out(in[0], s.where());
        }

        static Op activation(LayerSpec s, int[][] in) throws KerasModelException {
            return new ActivationOp(s, in, ConvOp.activationOf(s), 0, 0, 0);
        }

        static Op relu(LayerSpec s, int[][] in) throws KerasModelException {
            String w = s.where();
            double max = Json.has(s.config(), "max_value") ? Json.number(s.config(), "max_value", 0, w)
                    : Double.POSITIVE_INFINITY;
            double slope = Json.number(s.config(), "negative_slope", 0, w);
            double threshold = Json.number(s.config(), "threshold", 0, w);
            if (!(max >= 0) || slope < 0) {
                throw new KerasModelException(w + ": max_value must be >= 0 and negative_slope >= 0, got " + max
                        + " and " + slope);
            }
            return new ActivationOp(s, in, null, max, slope, threshold);
        }

        static Op leakyRelu(LayerSpec s, int[][] in) throws KerasModelException {
            String w = s.where();
            double slope = Json.has(s.config(), "negative_slope") ? Json.number(s.config(), "negative_slope", 0.3, w)
                    : Json.number(s.config(), "alpha", 0.3, w);
            return new ActivationOp(s, in, null, Double.POSITIVE_INFINITY, slope, 0);
        }

        /** Elementwise (not softmax), so a conv before it may apply it to its own output. */
        boolean elementwise() {
            return fn != Activations.SOFTMAX;
        }

        /** max(x, 0) first, so that the conv's native relu may run before it. */
        boolean startsWithRelu() {
            return fn == Activations.RELU || fn == Activations.RELU6
                    || fn == null && slope == 0 && threshold == 0 && maxValue >= 0;
        }

        boolean isRelu() {
            return fn == Activations.RELU || fn == null && slope == 0 && threshold == 0 && maxValue == Double.POSITIVE_INFINITY;
        }

        @Override
        void run(float[][] in, float[] out, int batch) {
            int n = batch * outCount;
            System.arraycopy(in[0], 0, out, 0, n);
            applyInPlace(out, n);
        }

        void applyInPlace(float[] out, int n) {
            if (fn != null) {
                fn.apply(out, n, channels());
                return;
            }
            if (slope == 0 && threshold == 0) {
                float cap = (float) maxValue; // +inf when None
                for (int i = 0; i < n; i++) {
                    float x = out[i];
                    out[i] = x < 0f ? 0f : x > cap ? cap : x; // NaN stays NaN
                }
                return;
            }
            // Keras' relu(x, negative_slope, max_value, threshold).
            for (int i = 0; i < n; i++) {
                double x = out[i];
                double pos = threshold != 0 ? (x > threshold ? x : 0) : Math.max(x, 0);
                pos = Math.min(Math.max(pos, 0), maxValue);
                double neg = threshold != 0 ? Math.max(threshold - x, 0) : Math.max(-x, 0);
                out[i] = Double.isNaN(x) ? out[i] : (float) (pos - slope * neg);
            }
        }
    }

    // ------------------------------------------------------------------ shape-only layers

    static final class IdentityOp extends Op {
        IdentityOp(LayerSpec s, int[][] in, int[] shape) throws KerasModelException {
            super(s, in);
            out(shape, s.where());
            if (outCount != inCount(0)) {
                throw new KerasModelException(s.where() + ": cannot reshape " + Shapes.text(in[0]) + " ("
                        + inCount(0) + " values) to " + Shapes.text(shape));
            }
        }

        static Op identity(LayerSpec s, int[][] in) throws KerasModelException {
            return new IdentityOp(s, in, in[0]);
        }

        static Op flatten(LayerSpec s, int[][] in) throws KerasModelException {
            s.requireChannelsLast();
            return new IdentityOp(s, in, new int[] {Shapes.count(in[0], s.where())});
        }

        static Op reshape(LayerSpec s, int[][] in) throws KerasModelException {
            String w = s.where();
            JsonArray t = Json.array(s.config(), "target_shape", w);
            if (t.size() < 1 || t.size() > 8) {
                throw new KerasModelException(w + ": target_shape must have 1 to 8 axes, got " + Json.brief(t));
            }
            int[] shape = new int[t.size()];
            int unknown = -1;
            long known = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = Json.integer(t.get(i), w + ": 'target_shape'", -1, Shapes.MAX_DIM);
                if (shape[i] == 0 || (shape[i] == -1 && unknown >= 0)) {
                    throw new KerasModelException(w + ": bad target_shape " + Json.brief(t));
                }
                if (shape[i] == -1) {
                    unknown = i;
                } else {
                    known *= shape[i];
                }
            }
            int total = Shapes.count(in[0], w);
            if (unknown >= 0) {
                if (total % known != 0) {
                    throw new KerasModelException(w + ": cannot reshape " + Shapes.text(in[0]) + " to "
                            + Json.brief(t));
                }
                shape[unknown] = (int) (total / known);
            }
            return new IdentityOp(s, in, shape);
        }

        @Override
        boolean alias() {
            return true;
        }

        @Override
        void run(float[][] in, float[] out, int batch) {
            // Aliased: the graph hands the input array on.
        }
    }

    // ------------------------------------------------------------------ pooling

    /** Max/average pooling of spatial rank 1..3 (local or global), on a {d, h, w} view. */
    static final class PoolOp extends Op {
        final boolean max;
        final boolean global;
        final int[] in3;
        final int[] out3;
        final int[] pool = {1, 1, 1};
        final int[] stride = {1, 1, 1};
        final int[] before = {0, 0, 0};

        /**
         * An increasing per-channel affine (BatchNormalization, Rescaling) that fed this max pooling,
         * applied after it instead (Graph.poolBeforeAffine): on fewer values, with the same bits,
         * since rounding x·a + b is monotone in x when a > 0.
         */
        AffineOp post;

        boolean isMax() {
            return max;
        }

        private PoolOp(LayerSpec s, int[][] in, boolean max, boolean global) {
            super(s, in);
            this.max = max;
            this.global = global;
            this.in3 = spatial3(in[0]);
            this.out3 = new int[] {1, 1, 1};
        }

        static Op pool(LayerSpec s, int[][] in, int rank, boolean max) throws KerasModelException {
            String w = s.where();
            s.requireChannelsLast();
            requireRank(s, in[0], rank + 1);
            PoolOp op = new PoolOp(s, in, max, false);
            int[] p = s.ints("pool_size", rank, 1, Shapes.MAX_DIM);
            int[] st = Json.has(s.config(), "strides") ? s.ints("strides", rank, 1, Shapes.MAX_DIM) : p;
            String pad = Json.string(s.config(), "padding", "valid", w);
            if (!pad.equals("valid") && !pad.equals("same")) {
                throw new KerasModelException(w + ": padding '" + pad + "' is not valid or same");
            }
            int[] out = new int[rank + 1];
            for (int i = 0; i < rank; i++) {
                int a = 3 - rank + i;
                int size = in[0][i];
                int o;
                if (pad.equals("valid")) {
                    if (size < p[i]) {
                        throw new KerasModelException(w + ": input " + Shapes.text(in[0]) + " is smaller than"
                                + " pool_size " + Arrays.toString(p));
                    }
                    o = (size - p[i]) / st[i] + 1;
                } else {
                    o = (size - 1) / st[i] + 1;
                    long total = Math.max((long) (o - 1) * st[i] + p[i] - size, 0);
                    op.before[a] = (int) (total / 2);
                }
                op.pool[a] = p[i];
                op.stride[a] = st[i];
                op.out3[a] = o;
                out[i] = o;
            }
            out[rank] = in[0][rank];
            return op.out(out, w);
        }

        static Op global(LayerSpec s, int[][] in, int rank, boolean max) throws KerasModelException {
            String w = s.where();
            s.requireChannelsLast();
            requireRank(s, in[0], rank + 1);
            PoolOp op = new PoolOp(s, in, max, true);
            for (int a = 0; a < 3; a++) {
                op.pool[a] = op.in3[a];
            }
            int c = in[0][rank];
            int[] out;
            if (Json.bool(s.config(), "keepdims", false, w)) {
                out = new int[rank + 1];
                Arrays.fill(out, 1);
                out[rank] = c;
            } else {
                out = new int[] {c};
            }
            return op.out(out, w);
        }

        @Override
        void run(float[][] in, float[] out, int batch) {
            runUnits(in, out, batch, 0, units(batch));
        }

        /** One unit is one output row (sample, depth, height): out3[2] pixels. */
        @Override
        int units(int batch) {
            return batch * out3[0] * out3[1];
        }

        @Override
        void runUnits(float[][] in, float[] out, int batch, int from, int to) {
            float[] x = in[0];
            int c = inShapes[0][inShapes[0].length - 1];
            int d = in3[0];
            int h = in3[1];
            int w = in3[2];
            int inSample = d * h * w * c;
            int o = from * out3[2] * c;
            for (int u = from; u < to; u++) {
                int n = u / (out3[0] * out3[1]);
                int od = u / out3[1] % out3[0];
                int oh = u % out3[1];
                {
                    int d0 = od * stride[0] - before[0];
                    int d1 = Math.min(d0 + pool[0], d);
                    d0 = Math.max(d0, 0);
                    {
                        int h0 = oh * stride[1] - before[1];
                        int h1 = Math.min(h0 + pool[1], h);
                        h0 = Math.max(h0, 0);
                        for (int ow = 0; ow < out3[2]; ow++, o += c) {
                            int w0 = ow * stride[2] - before[2];
                            int w1 = Math.min(w0 + pool[2], w);
                            w0 = Math.max(w0, 0);
                            // The channel loop is innermost and contiguous; the output row accumulates.
                            java.util.Arrays.fill(out, o, o + c, max ? Float.NEGATIVE_INFINITY : 0f);
                            for (int i = d0; i < d1; i++) {
                                for (int j = h0; j < h1; j++) {
                                    int base = n * inSample + ((i * h + j) * w + w0) * c;
                                    for (int k = w0; k < w1; k++, base += c) {
                                        if (max) {
                                            for (int ch = 0; ch < c; ch++) {
                                                // Math.max propagates NaN, as TensorFlow's max pooling does.
                                                out[o + ch] = Math.max(out[o + ch], x[base + ch]);
                                            }
                                        } else {
                                            for (int ch = 0; ch < c; ch++) {
                                                out[o + ch] += x[base + ch];
                                            }
                                        }
                                    }
                                }
                            }
                            if (!max) {
                                // Keras' same: pads are not counted.
                                float cells = (d1 - d0) * (h1 - h0) * (w1 - w0);
                                for (int ch = 0; ch < c; ch++) {
                                    out[o + ch] /= cells;
                                }
                            }
                        }
                    }
                }
            }
            if (post != null) {
                post.apply(out, out, from * out3[2] * c, to * out3[2] * c);
            }
        }
    }

    // ------------------------------------------------------------------ zero padding and upsampling

    /** ZeroPadding (pads before/after per axis) or UpSampling (nearest repeat per axis). */
    static final class PadOp extends Op {
        final int[] in3;
        final int[] out3;
        final int[] before = {0, 0, 0};
        final int[] repeat = {1, 1, 1}; // UpSampling; 0 for padding
        final boolean upsample;

        private PadOp(LayerSpec s, int[][] in, boolean upsample) {
            super(s, in);
            this.in3 = spatial3(in[0]);
            this.out3 = in3.clone();
            this.upsample = upsample;
        }

        static Op zeroPadding(LayerSpec s, int[][] in, int rank) throws KerasModelException {
            String w = s.where();
            s.requireChannelsLast();
            requireRank(s, in[0], rank + 1);
            PadOp op = new PadOp(s, in, false);
            JsonElement p = s.config().get("padding");
            int[][] pads = new int[rank][2];
            String what = w + ": 'padding'";
            if (p != null && p.isJsonArray() && rank == 1) {
                JsonArray a = p.getAsJsonArray();
                if (a.size() != 2) {
                    throw new KerasModelException(what + " must be an int or (before, after), got " + Json.brief(p));
                }
                pads[0][0] = Json.integer(a.get(0), what, 0, Shapes.MAX_DIM);
                pads[0][1] = Json.integer(a.get(1), what, 0, Shapes.MAX_DIM);
            } else if (p != null && p.isJsonArray()) {
                JsonArray a = p.getAsJsonArray();
                if (a.size() != rank) {
                    throw new KerasModelException(what + " must have " + rank + " entries, got " + Json.brief(p));
                }
                for (int i = 0; i < rank; i++) {
                    JsonElement e = a.get(i);
                    if (e.isJsonArray() && e.getAsJsonArray().size() == 2) {
                        pads[i][0] = Json.integer(e.getAsJsonArray().get(0), what, 0, Shapes.MAX_DIM);
                        pads[i][1] = Json.integer(e.getAsJsonArray().get(1), what, 0, Shapes.MAX_DIM);
                    } else {
                        pads[i][0] = pads[i][1] = Json.integer(e, what, 0, Shapes.MAX_DIM);
                    }
                }
            } else {
                int v = Json.integer(p, what, 0, Shapes.MAX_DIM);
                for (int[] pad : pads) {
                    pad[0] = pad[1] = v;
                }
            }
            int[] out = in[0].clone();
            for (int i = 0; i < rank; i++) {
                long size = (long) in[0][i] + pads[i][0] + pads[i][1];
                if (size > Shapes.MAX_DIM) {
                    throw new KerasModelException(w + ": padded size " + size + " is too large");
                }
                out[i] = (int) size;
                op.before[3 - rank + i] = pads[i][0];
                op.out3[3 - rank + i] = (int) size;
            }
            return op.out(out, w);
        }

        static Op upSampling(LayerSpec s, int[][] in, int rank) throws KerasModelException {
            String w = s.where();
            s.requireChannelsLast();
            requireRank(s, in[0], rank + 1);
            String interpolation = Json.string(s.config(), "interpolation", "nearest", w);
            if (!interpolation.equals("nearest")) {
                throw new KerasModelException(w + ": interpolation '" + interpolation + "' is not supported"
                        + " (nearest only)");
            }
            PadOp op = new PadOp(s, in, true);
            int[] size = s.ints("size", rank, 1, Shapes.MAX_DIM);
            int[] out = in[0].clone();
            for (int i = 0; i < rank; i++) {
                long o = (long) in[0][i] * size[i];
                if (o > Shapes.MAX_DIM) {
                    throw new KerasModelException(w + ": upsampled size " + o + " is too large");
                }
                out[i] = (int) o;
                op.repeat[3 - rank + i] = size[i];
                op.out3[3 - rank + i] = (int) o;
            }
            return op.out(out, w);
        }

        @Override
        void run(float[][] in, float[] out, int batch) {
            float[] x = in[0];
            int c = channels();
            int inSample = inCount(0);
            if (!upsample) {
                Arrays.fill(out, 0, batch * outCount, 0f);
            }
            for (int n = 0; n < batch; n++) {
                for (int od = 0; od < out3[0]; od++) {
                    int id = upsample ? od / repeat[0] : od - before[0];
                    if (id < 0 || id >= in3[0]) {
                        continue;
                    }
                    for (int oh = 0; oh < out3[1]; oh++) {
                        int ih = upsample ? oh / repeat[1] : oh - before[1];
                        if (ih < 0 || ih >= in3[1]) {
                            continue;
                        }
                        int rowOut = n * outCount + (od * out3[1] + oh) * out3[2] * c;
                        int rowIn = n * inSample + (id * in3[1] + ih) * in3[2] * c;
                        if (upsample) {
                            for (int ow = 0; ow < out3[2]; ow++) {
                                System.arraycopy(x, rowIn + ow / repeat[2] * c, out, rowOut + ow * c, c);
                            }
                        } else {
                            System.arraycopy(x, rowIn, out, rowOut + before[2] * c, in3[2] * c);
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------ merges

    static final class MergeOp extends Op {
        final String kind;
        final int[] blocks; // Concatenate: per input, the values per outer index
        final int outer;

        private MergeOp(LayerSpec s, int[][] in, String kind, int[] shape, int[] blocks, int outer)
                throws KerasModelException {
            super(s, in);
            this.kind = kind;
            this.blocks = blocks;
            this.outer = outer;
            out(shape, s.where());
        }

        static Op merge(LayerSpec s, int[][] in) throws KerasModelException {
            String w = s.where();
            if (in.length < 2 || (s.className().equals("Subtract") && in.length != 2)) {
                throw new KerasModelException(w + " needs " + (s.className().equals("Subtract") ? "exactly 2"
                        : "at least 2") + " inputs, got " + in.length);
            }
            for (int[] shape : in) {
                if (!Arrays.equals(shape, in[0])) {
                    throw new KerasModelException(w + ": input shapes " + Shapes.text(in[0]) + " and "
                            + Shapes.text(shape) + " differ (broadcasting is not supported)");
                }
            }
            return new MergeOp(s, in, s.className(), in[0], null, 0);
        }

        static Op concatenate(LayerSpec s, int[][] in) throws KerasModelException {
            String w = s.where();
            int rank = in[0].length + 1;
            int axis = Json.integer(s.config(), "axis", -1, -rank, rank - 1, w);
            axis = axis < 0 ? axis + rank : axis;
            if (axis == 0) {
                throw new KerasModelException(w + ": concatenating on the batch axis is not supported");
            }
            int a = axis - 1;
            int[] shape = in[0].clone();
            shape[a] = 0;
            int[] blocks = new int[in.length];
            for (int i = 0; i < in.length; i++) {
                if (in[i].length != in[0].length) {
                    throw new KerasModelException(w + ": inputs " + Shapes.text(in[0]) + " and " + Shapes.text(in[i])
                            + " have different ranks");
                }
                for (int j = 0; j < in[0].length; j++) {
                    if (j != a && in[i][j] != in[0][j]) {
                        throw new KerasModelException(w + ": inputs " + Shapes.text(in[0]) + " and "
                                + Shapes.text(in[i]) + " differ outside axis " + axis);
                    }
                }
                long sum = (long) shape[a] + in[i][a];
                if (sum > Shapes.MAX_DIM) {
                    throw new KerasModelException(w + ": concatenated size is too large");
                }
                shape[a] = (int) sum;
                int block = 1;
                for (int j = a; j < in[i].length; j++) {
                    block *= in[i][j];
                }
                blocks[i] = block;
            }
            int outer = 1;
            for (int j = 0; j < a; j++) {
                outer *= in[0][j];
            }
            return new MergeOp(s, in, "Concatenate", shape, blocks, outer);
        }

        @Override
        void run(float[][] in, float[] out, int batch) {
            runUnits(in, out, batch, 0, units(batch));
        }

        /** One unit: a Concatenate's outer index, else one pixel (the last axis) of an elementwise merge. */
        @Override
        int units(int batch) {
            return blocks != null ? batch * outer : batch * (outCount / channels());
        }

        @Override
        void runUnits(float[][] in, float[] out, int batch, int from, int to) {
            if (blocks != null) {
                int o = from * (outCount / outer);
                for (int r = from; r < to; r++) {
                    for (int i = 0; i < in.length; i++) {
                        System.arraycopy(in[i], r * blocks[i], out, o, blocks[i]);
                        o += blocks[i];
                    }
                }
                return;
            }
            int c = channels();
            int start = from * c;
            int n = to * c;
            System.arraycopy(in[0], start, out, start, n - start);
            for (int i = 1; i < in.length; i++) {
                float[] y = in[i];
                switch (kind) {
                    case "Add", "Average" -> {
                        for (int j = start; j < n; j++) {
                            out[j] += y[j];
                        }
                    }
                    case "Subtract" -> {
                        for (int j = start; j < n; j++) {
                            out[j] -= y[j];
                        }
                    }
                    case "Multiply" -> {
                        for (int j = start; j < n; j++) {
                            out[j] *= y[j];
                        }
                    }
                    case "Maximum" -> {
                        for (int j = start; j < n; j++) {
                            out[j] = Math.max(out[j], y[j]);
                        }
                    }
                    default -> {
                        for (int j = start; j < n; j++) {
                            out[j] = Math.min(out[j], y[j]);
                        }
                    }
                }
            }
            if (kind.equals("Average")) {
                float k = in.length;
                for (int j = start; j < n; j++) {
                    out[j] /= k;
                }
            }
        }
    }
}

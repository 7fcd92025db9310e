package org.conv4j;

import java.util.Arrays;

/**
 * A {@link ConvConfig} applied to one input shape: padding resolved to explicit numbers, output
 * shape, element counts. Every rule is checked here, in Java, before anything crosses JNI. The
 * spatial axes are stored as depth, height, width: rank 1 as width with depth = height = 1, rank 2
 * with depth 1, so that one loop serves every rank. Immutable and thread-safe.
 *
 * <p>For a transposed layer the sizes are the layer's (input → output) and the pads are those of
 * the forward convolution it is the backward-data pass of: that convolution's input is the
 * transposed layer's output, its output the transposed layer's input, its channels swapped.
 */
public final class ConvGeometry {
    private static final String[] AXES = {"depth", "height", "width"};

    private final ConvConfig config;
    private final int batch;
    private final int inChannels;
    // index 0 = depth, 1 = height, 2 = width
    private final int[] in = {1, 1, 1}, out = {1, 1, 1}, kernel = {1, 1, 1}, stride = {1, 1, 1},
            dilation = {1, 1, 1}, padBefore = new int[3], padAfter = new int[3];
    private final int inputCount, outputCount, kernelCount;

    private ConvGeometry(ConvConfig config, int[] inputShape) {
        this.config = config;
        int rank = config.rank();
        if (inputShape == null) {
            throw new IllegalArgumentException("input shape must not be null");
        }
        if (inputShape.length != rank + 2) {
            throw new IllegalArgumentException("input shape must have " + (rank + 2) + " dimensions "
                    + axesName(config) + " for " + config.dataFormat().kerasName() + ", got "
                    + Arrays.toString(inputShape));
        }
        for (int d : inputShape) {
            if (d < 1) {
                throw new IllegalArgumentException("input shape " + axesName(config)
                        + " must be all positive, got " + Arrays.toString(inputShape));
            }
        }
        boolean last = config.dataFormat() == DataFormat.CHANNELS_LAST;
        batch = inputShape[0];
        inChannels = last ? inputShape[rank + 1] : inputShape[1];
        int spatialStart = last ? 1 : 2;
        if (config.inputChannels() > 0 && config.kind() == ConvConfig.Kind.DEPTHWISE
                && inChannels != config.inputChannels()) {
            throw new IllegalArgumentException("input has " + inChannels + " channels, but the "
                    + config.kerasClassName() + " was built for " + config.inputChannels());
        }
        if (inChannels % config.groups() != 0) {
            throw new IllegalArgumentException("input channels (" + inChannels + ") must be divisible by groups ("
                    + config.groups() + ")");
        }
        boolean transposed = config.kind() == ConvConfig.Kind.TRANSPOSE;
        for (int i = 0; i < rank; i++) {
            int a = 3 - rank + i;
            String axis = rank == 1 ? "length" : AXES[a];
            in[a] = inputShape[spatialStart + i];
            kernel[a] = config.kernelSize(i);
            stride[a] = config.stride(i);
            dilation[a] = config.dilation(i);
            if (transposed) {
                out[a] = transposedSize(config.padding(), axis, in[a], kernel[a], stride[a], dilation[a], config.outputPadding(i));
                // The forward convolution runs from out to in: its pads by TF's rule on out.
                int[] p = pads(config, i, out[a], kernel[a], stride[a], dilation[a]);
                padBefore[a] = p[0];
                padAfter[a] = p[1];
                long forward = forwardSize(out[a], kernel[a], stride[a], dilation[a], p[0], p[1]);
                if (forward != in[a]) {
                    throw new IllegalArgumentException(config.kerasClassName() + ": input " + axis + " " + in[a]
                            + " gives output " + axis + " " + out[a] + " by Keras' rule (kernel_size " + kernel[a]
                            + ", strides " + stride[a] + ", dilation_rate " + dilation[a] + ", padding "
                            + config.padding().kerasName() + ", output_padding " + outputPaddingText(config, i)
                            + "), but the convolution of that output size has " + axis + " " + forward
                            + ", not " + in[a] + ": TensorFlow refuses this shape");
                }
            } else {
                int[] p = pads(config, i, in[a], kernel[a], stride[a], dilation[a]);
                padBefore[a] = p[0];
                padAfter[a] = p[1];
                out[a] = outputSize(axis, in[a], kernel[a], stride[a], dilation[a], p[0], p[1]);
            }
        }
        int outChannels = config.filters();
        inputCount = count("input", batch, in[0], in[1], in[2], inChannels);
        // The C core sizes indices by the padded input too; refuse here what it would refuse.
        int[] forwardIn = transposed ? out : in;
        count("padded input", batch, (long) forwardIn[0] + padBefore[0] + padAfter[0],
                (long) forwardIn[1] + padBefore[1] + padAfter[1], (long) forwardIn[2] + padBefore[2] + padAfter[2],
                transposed ? outChannels : inChannels);
        outputCount = count("output", batch, out[0], out[1], out[2], outChannels);
        kernelCount = count("kernel", config.kernelVolume(), inChannels / config.groups(), outChannels);
    }

    /** Validates {@code inputShape} (in the layer's data format) against {@code config}. */
    public static ConvGeometry of(ConvConfig config, int... inputShape) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        return new ConvGeometry(config, inputShape);
    }

    /** Pads of config axis i for a forward input of size {@code in}. */
    private static int[] pads(ConvConfig config, int i, int in, int k, int s, int d) {
        long effective = (long) (k - 1) * d + 1;
        if (config.explicitPadding() != null) {
            return new int[] {config.explicitPadding().before(i), config.explicitPadding().after(i)};
        }
        switch (config.padding()) {
            case VALID:
                return new int[] {0, 0};
            case SAME: {
                long out = (in + (long) s - 1) / s;
                long total = Math.max((out - 1) * s + effective - in, 0);
                return new int[] {checkedPad(total / 2), checkedPad(total - total / 2)};
            }
            case CAUSAL:
                return new int[] {checkedPad(effective - 1), 0};
            default:
                throw new AssertionError(config.padding());
        }
    }

    /**
     * Keras' transposed output size (backend_utils._get_output_shape_given_tf_padding): valid
     * (in-1)·s + k_eff + (output_padding, or max(k_eff, s) - k_eff when None); same in·s when
     * output_padding is None, else (in-1)·s + k_eff % 2 + output_padding.
     */
    private static int transposedSize(Padding padding, String axis, int in, int k, int s, int d, int outputPadding) {
        long effective = (long) (k - 1) * d + 1;
        long size;
        if (padding == Padding.VALID) {
            long op = outputPadding < 0 ? Math.max(effective, s) - effective : outputPadding;
            size = (long) (in - 1) * s + effective + op;
        } else {
            size = outputPadding < 0 ? (long) in * s : (long) (in - 1) * s + effective % 2 + outputPadding;
        }
        if (size < 1 || size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("output " + axis + " would be " + size + ": input " + axis + " " + in
                    + ", kernel_size " + k + ", strides " + s + ", dilation_rate " + d);
        }
        return (int) size;
    }

    private static long forwardSize(int in, int k, int s, int d, int before, int after) {
        long span = (long) in + before + after - ((long) (k - 1) * d + 1);
        return span < 0 ? 0 : span / s + 1;
    }

    private static String outputPaddingText(ConvConfig c, int i) {
        return c.outputPadding(i) < 0 ? "None" : Integer.toString(c.outputPadding(i));
    }

    private static int checkedPad(long pad) {
        if (pad > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("padding of " + pad + " elements overflows a 32-bit int");
        }
        return (int) pad;
    }

    private int outputSize(String axis, int in, int k, int s, int d, int before, int after) {
        long effective = (long) (k - 1) * d + 1;
        long span = (long) in + before + after - effective;
        if (span < 0) {
            throw new IllegalArgumentException("output " + axis + " would be < 1: input " + axis + " " + in
                    + ", kernel_size " + k + ", dilation_rate " + d + " (effective kernel " + effective
                    + "), padding " + (config.explicitPadding() != null ? "explicit" : config.padding().kerasName())
                    + " (" + before + " before, " + after + " after)");
        }
        return (int) (span / s + 1);
    }

    private static int count(String what, long... factors) {
        long n = 1;
        for (long f : factors) {
            n = ConvConfig.saturatedProduct(n, f);
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " would have " + (n == Long.MAX_VALUE ? "more than 2^63" : n)
                    + " elements, more than the limit of " + Integer.MAX_VALUE + " (2^31 - 1)");
        }
        return (int) n;
    }

    private static String axesName(ConvConfig c) {
        boolean last = c.dataFormat() == DataFormat.CHANNELS_LAST;
        return switch (c.rank()) {
            case 1 -> last ? "[N, L, Cin]" : "[N, Cin, L]";
            case 2 -> last ? "[N, H, W, Cin]" : "[N, Cin, H, W]";
            default -> last ? "[N, D, H, W, Cin]" : "[N, Cin, D, H, W]";
        };
    }

    public ConvConfig config() { return config; }
    public int rank() { return config.rank(); }
    /** True for a transposed layer (see the class comment for what the pads mean then). */
    public boolean transposed() { return config.kind() == ConvConfig.Kind.TRANSPOSE; }
    public int batch() { return batch; }
    public int inChannels() { return inChannels; }
    public int outChannels() { return config.filters(); }
    public int groups() { return config.groups(); }
    /** Input depth; 1 below rank 3. */
    public int inDepth() { return in[0]; }
    /** Input height; 1 for rank 1. */
    public int inHeight() { return in[1]; }
    /** Input width, or the length for rank 1. */
    public int inWidth() { return in[2]; }
    public int outDepth() { return out[0]; }
    public int outHeight() { return out[1]; }
    public int outWidth() { return out[2]; }
    public int kernelDepth() { return kernel[0]; }
    public int kernelHeight() { return kernel[1]; }
    public int kernelWidth() { return kernel[2]; }
    public int strideDepth() { return stride[0]; }
    public int strideHeight() { return stride[1]; }
    public int strideWidth() { return stride[2]; }
    public int dilationDepth() { return dilation[0]; }
    public int dilationHeight() { return dilation[1]; }
    public int dilationWidth() { return dilation[2]; }
    public int padFront() { return padBefore[0]; }
    public int padBack() { return padAfter[0]; }
    public int padTop() { return padBefore[1]; }
    public int padBottom() { return padAfter[1]; }
    public int padLeft() { return padBefore[2]; }
    public int padRight() { return padAfter[2]; }
    public int inputCount() { return inputCount; }
    public int outputCount() { return outputCount; }
    public int kernelCount() { return kernelCount; }
    /**
     * Products summed per output element, at most: kernel volume × Cin / groups (for a transposed
     * layer, kernel volume × Cin bounds the taps that land on one output).
     */
    public int fanIn() { return kernel[0] * kernel[1] * kernel[2] * (inChannels / config.groups()); }

    /** The input shape in the layer's data format. */
    public int[] inputShape() {
        return shape(inChannels, in);
    }

    /** The output shape in the layer's data format. */
    public int[] outputShape() {
        return shape(config.filters(), out);
    }

    /**
     * The kernel shape in Keras layout: {@code [k..., Cin/groups, filters]}; transposed
     * {@code [k..., filters, Cin]}; depthwise {@code [k..., Cin, depth_multiplier]}.
     */
    public int[] kernelShape() {
        int r = config.rank();
        int[] s = Arrays.copyOf(config.kernelSize(), r + 2);
        switch (config.kind()) {
            case TRANSPOSE -> { s[r] = config.filters(); s[r + 1] = inChannels; }
            case DEPTHWISE -> { s[r] = inChannels; s[r + 1] = config.filters() / inChannels; }
            default -> { s[r] = inChannels / config.groups(); s[r + 1] = config.filters(); }
        }
        return s;
    }

    private int[] shape(int channels, int[] spatial) {
        return layoutShape(config, batch, channels, spatial);
    }

    /** {@code [n, spatial..., c]} or {@code [n, c, spatial...]} for the config's rank and format; spatial is (D, H, W). */
    static int[] layoutShape(ConvConfig config, int n, int channels, int[] spatial) {
        boolean last = config.dataFormat() == DataFormat.CHANNELS_LAST;
        int r = config.rank();
        int[] s = new int[r + 2];
        s[0] = n;
        s[last ? r + 1 : 1] = channels;
        for (int i = 0; i < r; i++) {
            s[(last ? 1 : 2) + i] = spatial[3 - r + i];
        }
        return s;
    }

    /** 2 × multiply-adds: for a forward layer N·outputs·Cout·fanIn, for a transposed one N·inputs·Cin·k·filters. */
    public double flops() {
        return transposed() ? 2.0 * inputCount * config.kernelVolume() * config.filters()
                : 2.0 * outputCount * fanIn();
    }

    @Override
    public String toString() {
        int r = config.rank();
        StringBuilder pads = new StringBuilder();
        for (int a = 3 - r; a < 3; a++) {
            pads.append('[').append(padBefore[a]).append(',').append(padAfter[a]).append(']');
        }
        return config + " on input " + Arrays.toString(inputShape()) + " -> " + Arrays.toString(outputShape())
                + ", pads " + pads;
    }
}

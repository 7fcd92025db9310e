package org.conv4j;

import java.util.Arrays;
import java.util.Objects;

/**
 * The validated, immutable configuration of a convolution layer in Keras vocabulary. It does not
 * know the input size; {@link ConvGeometry} adds that. Safe to share between threads.
 */
public final class ConvConfig {
    /** Which Keras layer family the configuration describes. */
    public enum Kind {
        /** Conv1D / Conv2D / Conv3D (groups included). */
        CONV,
        /** Conv1DTranspose / Conv2DTranspose / Conv3DTranspose: kernel {@code [k..., filters, Cin]}. */
        TRANSPOSE,
        /** DepthwiseConv1D / DepthwiseConv2D: groups = Cin, filters = Cin × depth_multiplier. */
        DEPTHWISE
    }

    private final Kind kind;
    private final ExplicitPadding explicitPadding; // null, or the pads of a valid convolution
    private final int[] outputPadding; // null: Keras' None (transposed only)
    private final int rank;
    private final int filters;
    private final int[] kernelSize;
    private final int[] strides;
    private final int[] dilationRate;
    private final Padding padding;
    private final int groups;
    private final boolean useBias;
    private final Activation activation;
    private final DataFormat dataFormat;
    private final Algorithm algorithm;
    private final boolean winograd;
    private final int inputChannels;

    ConvConfig(int rank, int filters, int[] kernelSize, int[] strides, int[] dilationRate, Padding padding,
               int groups, boolean useBias, Activation activation, DataFormat dataFormat, Algorithm algorithm,
               boolean winograd) {
        this(rank, filters, kernelSize, strides, dilationRate, padding, groups, useBias, activation, dataFormat,
                algorithm, winograd, 0);
    }

    ConvConfig(int rank, int filters, int[] kernelSize, int[] strides, int[] dilationRate, Padding padding,
               int groups, boolean useBias, Activation activation, DataFormat dataFormat, Algorithm algorithm,
               boolean winograd, int inputChannels) {
        this(Kind.CONV, rank, filters, kernelSize, strides, dilationRate, padding, null, null, groups, useBias,
                activation, dataFormat, algorithm, winograd, inputChannels);
    }

    ConvConfig(Kind kind, int rank, int filters, int[] kernelSize, int[] strides, int[] dilationRate,
               Padding padding, ExplicitPadding explicitPadding, int[] outputPadding, int groups, boolean useBias,
               Activation activation, DataFormat dataFormat, Algorithm algorithm, boolean winograd,
               int inputChannels) {
        this.kind = Objects.requireNonNull(kind, "kind must not be null");
        if (rank < 1 || rank > 3) {
            throw new IllegalArgumentException("rank must be 1, 2 or 3 (Conv1D, Conv2D, Conv3D), got " + rank);
        }
        if (kind == Kind.DEPTHWISE && rank == 3) {
            throw new IllegalArgumentException("Keras has no DepthwiseConv3D: rank must be 1 or 2, got 3");
        }
        this.rank = rank;
        this.filters = requirePositive("filters", filters);
        this.kernelSize = requirePositive("kernel_size", kernelSize, rank);
        this.strides = requirePositive("strides", strides, rank);
        this.dilationRate = requirePositive("dilation_rate", dilationRate, rank);
        this.padding = Objects.requireNonNull(padding, "padding must not be null");
        this.groups = requirePositive("groups", groups);
        this.useBias = useBias;
        this.activation = Objects.requireNonNull(activation, "activation must not be null");
        this.dataFormat = Objects.requireNonNull(dataFormat, "data_format must not be null");
        this.algorithm = Objects.requireNonNull(algorithm, "algorithm must not be null");
        this.winograd = winograd;
        if (inputChannels < 0) {
            throw new IllegalArgumentException("input channels must be positive (or not set), got " + inputChannels);
        }
        this.inputChannels = inputChannels;
        // Keras' Conv and ConvTranspose layers refuse this; its depthwise and separable layers do not.
        if (kind != Kind.DEPTHWISE && Arrays.stream(strides).anyMatch(s -> s > 1)
                && Arrays.stream(dilationRate).anyMatch(d -> d > 1)) {
            throw new IllegalArgumentException("strides " + Arrays.toString(strides) + " with dilation_rate "
                    + Arrays.toString(dilationRate) + ": Keras refuses strides > 1 together with dilation_rate > 1");
        }
        if (padding == Padding.CAUSAL && (rank != 1 || kind != Kind.CONV)) {
            throw new IllegalArgumentException("padding 'causal' is only for Conv1D (rank 1), got rank " + rank
                    + " " + kerasName(kind, rank) + "; Keras allows only 'valid' and 'same' there");
        }
        if (explicitPadding != null) {
            if (padding != Padding.VALID) {
                throw new IllegalArgumentException("explicit pads go with a valid convolution, got padding "
                        + padding.kerasName());
            }
            if (explicitPadding.rank() != rank) {
                throw new IllegalArgumentException("explicit padding " + explicitPadding + " has "
                        + explicitPadding.rank() + " axes, but the layer has rank " + rank);
            }
            if (kind == Kind.TRANSPOSE) {
                throw new IllegalArgumentException("explicit padding is refused for " + kerasName(kind, rank)
                        + ": Keras' transposed layers take only 'valid' and 'same' (crop the output instead)");
            }
        }
        this.explicitPadding = explicitPadding;
        if (outputPadding != null) {
            if (kind != Kind.TRANSPOSE) {
                throw new IllegalArgumentException("output_padding is only for transposed layers, not "
                        + kerasName(kind, rank));
            }
            this.outputPadding = requireNonNegative("output_padding", outputPadding, rank);
            for (int i = 0; i < rank; i++) {
                if (outputPadding[i] >= strides[i]) {
                    throw new IllegalArgumentException("output_padding must be strictly less than strides (Keras):"
                            + " at index " + i + ", output_padding is " + outputPadding[i] + " and strides is "
                            + strides[i] + "; received output_padding=" + Arrays.toString(outputPadding)
                            + ", strides=" + Arrays.toString(strides));
                }
            }
        } else {
            this.outputPadding = null;
        }
        if (kind == Kind.TRANSPOSE && groups != 1) {
            throw new IllegalArgumentException("groups must be 1 for " + kerasName(kind, rank)
                    + " (Keras has no grouped transposed convolution), got " + groups);
        }
        if (kind == Kind.DEPTHWISE && (inputChannels < 1 || groups != inputChannels)) {
            throw new IllegalArgumentException(kerasName(kind, rank) + " needs its input channels declared"
                    + " (inputChannels(c)), got " + inputChannels);
        }
        if (filters % groups != 0) {
            throw new IllegalArgumentException("filters (" + filters + ") must be divisible by groups (" + groups + ")");
        }
        if (inputChannels > 0 && inputChannels % groups != 0) {
            throw new IllegalArgumentException("input channels (" + inputChannels + ") must be divisible by groups ("
                    + groups + ")");
        }
    }

    private static int[] requireNonNegative(String name, int[] values, int rank) {
        return requireAtLeast(0, ">= 0", name, values, rank);
    }

    /** Keras' class name: Conv2D, Conv3DTranspose, DepthwiseConv1D. */
    static String kerasName(Kind kind, int rank) {
        return switch (kind) {
            case CONV -> "Conv" + rank + "D";
            case TRANSPOSE -> "Conv" + rank + "DTranspose";
            case DEPTHWISE -> "DepthwiseConv" + rank + "D";
        };
    }

    static int requirePositive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be positive, got " + value);
        }
        return value;
    }

    static int[] requirePositive(String name, int[] values, int rank) {
        return requireAtLeast(1, "positive", name, values, rank);
    }

    private static int[] requireAtLeast(int min, String wording, String name, int[] values, int rank) {
        if (values == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (values.length != rank) {
            throw new IllegalArgumentException(name + " must have " + rank + " value" + (rank == 1 ? "" : "s")
                    + " for rank " + rank + ", got " + Arrays.toString(values));
        }
        for (int v : values) {
            if (v < min) {
                throw new IllegalArgumentException(name + " must be " + wording + ", got " + Arrays.toString(values));
            }
        }
        return values.clone();
    }

    public Kind kind() { return kind; }
    /** Keras' class name of the layer: {@code Conv2D}, {@code Conv1DTranspose}, {@code DepthwiseConv2D}. */
    public String kerasClassName() { return kerasName(kind, rank); }
    /** Explicit pads (padding is then VALID over the zero-padded input), or null. */
    public ExplicitPadding explicitPadding() { return explicitPadding; }
    /** Transposed layers' output_padding, or null for Keras' None. */
    public int[] outputPadding() { return outputPadding == null ? null : outputPadding.clone(); }
    /** DepthwiseConv's depth_multiplier (filters / Cin); 1 for the other kinds. */
    public int depthMultiplier() { return kind == Kind.DEPTHWISE ? filters / inputChannels : 1; }
    public int rank() { return rank; }
    public int filters() { return filters; }
    public int[] kernelSize() { return kernelSize.clone(); }
    public int[] strides() { return strides.clone(); }
    public int[] dilationRate() { return dilationRate.clone(); }
    public Padding padding() { return padding; }
    public int groups() { return groups; }
    public boolean useBias() { return useBias; }
    public Activation activation() { return activation; }
    public DataFormat dataFormat() { return dataFormat; }
    public Algorithm algorithm() { return algorithm; }
    /**
     * Whether AUTO may choose Winograd for this layer (default false). Off, every algorithm AUTO may
     * pick meets the direct-sum bound per output, and an output whose window reads only zeros is
     * exactly the bias; Winograd is faster on 3×3 stride-1 layers with 16 or more channels, but its
     * error depends on the whole 6×6 input tile (README, "Semantics"). Forcing
     * {@link Algorithm#WINOGRAD} runs it whatever this says.
     */
    public boolean winograd() { return winograd; }
    /**
     * The input channels Cin the layer was declared with ({@code inputChannels(c)} on its builder,
     * Keras' {@code input_shape[-1]}), or 0 when not declared (then the kernel decides).
     */
    public int inputChannels() { return inputChannels; }

    /** This configuration with the Winograd switch set (what {@code Sequential.Builder.winograd} applies). */
    ConvConfig withWinograd(boolean allow) {
        if (allow == winograd) {
            return this;
        }
        return new ConvConfig(kind, rank, filters, kernelSize, strides, dilationRate, padding, explicitPadding,
                outputPadding, groups, useBias, activation, dataFormat, algorithm, allow, inputChannels);
    }

    /** This configuration with another activation (the linear twin the gradient bounds are taken on). */
    ConvConfig withActivation(Activation other) {
        return new ConvConfig(kind, rank, filters, kernelSize, strides, dilationRate, padding, explicitPadding,
                outputPadding, groups, useBias, other, dataFormat, algorithm, winograd, inputChannels);
    }

    int kernelSize(int i) { return kernelSize[i]; }
    int stride(int i) { return strides[i]; }
    int dilation(int i) { return dilationRate[i]; }
    int outputPadding(int i) { return outputPadding == null ? -1 : outputPadding[i]; }

    /** Product of the kernel's spatial sizes. */
    long kernelVolume() {
        long v = 1;
        for (int k : kernelSize) {
            v = saturatedProduct(v, k);
        }
        return v;
    }

    /** a·b, or Long.MAX_VALUE when that overflows: sizes past any array compare as too large. */
    static long saturatedProduct(long a, long b) {
        try {
            return Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    @Override
    public String toString() {
        return kerasName(kind, rank) + "(" + (kind == Kind.DEPTHWISE ? "depth_multiplier=" + depthMultiplier()
                : "filters=" + filters) + ", kernel_size=" + Arrays.toString(kernelSize)
                + ", strides=" + Arrays.toString(strides) + ", padding="
                + (explicitPadding != null ? explicitPadding.toString() : padding.kerasName())
                + (outputPadding != null ? ", output_padding=" + Arrays.toString(outputPadding) : "")
                + ", dilation_rate=" + Arrays.toString(dilationRate) + ", groups=" + groups
                + ", use_bias=" + useBias + ", activation=" + activation.kerasName()
                + ", data_format=" + dataFormat.kerasName() + (inputChannels > 0 ? ", input_channels=" + inputChannels : "")
                + (winograd ? ", winograd=true" : "") + ")";
    }
}

package org.conv4j;

import java.util.Arrays;

/**
 * A {@link ConvConfig} applied to one input shape: padding resolved to explicit numbers, output
 * shape, element counts. Every rule is checked here, in Java, before anything crosses JNI. Rank 1
 * is stored as rank 2 with height 1 so that one loop serves both. Immutable and thread-safe.
 */
public final class ConvGeometry {
    private final ConvConfig config;
    private final int batch;
    private final int inChannels;
    private final int inH, inW, outH, outW;
    private final int kernelH, kernelW, strideH, strideW, dilationH, dilationW;
    private final int padTop, padBottom, padLeft, padRight;
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
        inH = rank == 2 ? inputShape[spatialStart] : 1;
        inW = inputShape[spatialStart + rank - 1];
        if (inChannels % config.groups() != 0) {
            throw new IllegalArgumentException("input channels (" + inChannels + ") must be divisible by groups ("
                    + config.groups() + ")");
        }
        int hi = rank == 2 ? 0 : -1; // index of the height axis in the config arrays
        int wi = rank - 1;
        kernelH = hi < 0 ? 1 : config.kernelSize(hi);
        kernelW = config.kernelSize(wi);
        strideH = hi < 0 ? 1 : config.stride(hi);
        strideW = config.stride(wi);
        dilationH = hi < 0 ? 1 : config.dilation(hi);
        dilationW = config.dilation(wi);
        int[] padsH = pads(config.padding(), inH, kernelH, strideH, dilationH);
        int[] padsW = pads(config.padding(), inW, kernelW, strideW, dilationW);
        padTop = padsH[0];
        padBottom = padsH[1];
        padLeft = padsW[0];
        padRight = padsW[1];
        outH = outputSize(rank == 2 ? "height" : null, inH, kernelH, strideH, dilationH, padTop, padBottom);
        outW = outputSize(rank == 2 ? "width" : "length", inW, kernelW, strideW, dilationW, padLeft, padRight);
        inputCount = count("input", batch, inH, inW, inChannels);
        // The C core sizes indices by the padded input too; refuse here what it would refuse.
        count("padded input", batch, (long) inH + padTop + padBottom, (long) inW + padLeft + padRight, inChannels);
        outputCount = count("output", batch, outH, outW, config.filters());
        kernelCount = count("kernel", config.kernelVolume(), inChannels / config.groups(), config.filters());
    }

    /** Validates {@code inputShape} (in the layer's data format) against {@code config}. */
    public static ConvGeometry of(ConvConfig config, int... inputShape) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        return new ConvGeometry(config, inputShape);
    }

    private static int[] pads(Padding padding, int in, int k, int s, int d) {
        long effective = (long) (k - 1) * d + 1;
        switch (padding) {
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
                throw new AssertionError(padding);
        }
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
                    + "), padding " + config.padding().kerasName() + " (" + before + " before, " + after + " after)");
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
        if (c.rank() == 1) {
            return last ? "[N, L, Cin]" : "[N, Cin, L]";
        }
        return last ? "[N, H, W, Cin]" : "[N, Cin, H, W]";
    }

    public ConvConfig config() { return config; }
    public int rank() { return config.rank(); }
    public int batch() { return batch; }
    public int inChannels() { return inChannels; }
    public int outChannels() { return config.filters(); }
    public int groups() { return config.groups(); }
    /** Input height; 1 for rank 1. */
    public int inHeight() { return inH; }
    /** Input width, or the length for rank 1. */
    public int inWidth() { return inW; }
    public int outHeight() { return outH; }
    public int outWidth() { return outW; }
    public int kernelHeight() { return kernelH; }
    public int kernelWidth() { return kernelW; }
    public int strideHeight() { return strideH; }
    public int strideWidth() { return strideW; }
    public int dilationHeight() { return dilationH; }
    public int dilationWidth() { return dilationW; }
    public int padTop() { return padTop; }
    public int padBottom() { return padBottom; }
    public int padLeft() { return padLeft; }
    public int padRight() { return padRight; }
    public int inputCount() { return inputCount; }
    public int outputCount() { return outputCount; }
    public int kernelCount() { return kernelCount; }
    /** Products summed per output element: kernel volume × Cin / groups. */
    public int fanIn() { return kernelH * kernelW * (inChannels / config.groups()); }

    /** The input shape in the layer's data format. */
    public int[] inputShape() {
        return shape(inChannels, inH, inW);
    }

    /** The output shape in the layer's data format. */
    public int[] outputShape() {
        return shape(config.filters(), outH, outW);
    }

    /** The kernel shape in Keras layout: {@code [KH, KW, Cin/groups, Cout]} or {@code [K, Cin/groups, Cout]}. */
    public int[] kernelShape() {
        int cinG = inChannels / config.groups();
        return config.rank() == 2
                ? new int[] {kernelH, kernelW, cinG, config.filters()}
                : new int[] {kernelW, cinG, config.filters()};
    }

    private int[] shape(int channels, int h, int w) {
        boolean last = config.dataFormat() == DataFormat.CHANNELS_LAST;
        if (config.rank() == 1) {
            return last ? new int[] {batch, w, channels} : new int[] {batch, channels, w};
        }
        return last ? new int[] {batch, h, w, channels} : new int[] {batch, channels, h, w};
    }

    /** 2·N·Hout·Wout·Cout·Kh·Kw·Cin/groups: the multiply-adds counted as two operations. */
    public double flops() {
        return 2.0 * outputCount * fanIn();
    }

    @Override
    public String toString() {
        return config + " on input " + Arrays.toString(inputShape()) + " -> " + Arrays.toString(outputShape())
                + ", pads [" + padTop + "," + padBottom + "][" + padLeft + "," + padRight + "]";
    }
}

package org.conv4j;

/**
 * The pure-Java convolution: the oracle every native result is tested against, and the fallback
 * backend. Plain loops straight from the definition (cross-correlation, Keras kernel layout),
 * accumulated in double and rounded once to float, so its own error is below one float ulp plus
 * the double rounding of the sum. Stateless and thread-safe.
 */
public final class ReferenceConvolution {
    private ReferenceConvolution() {}

    /** Returns the output of the convolution; arrays are read from index 0. */
    public static float[] compute(ConvGeometry g, float[] input, float[] kernel, float[] bias) {
        float[] output = new float[g.outputCount()];
        compute(g, input, 0, kernel, bias, output, 0);
        return output;
    }

    /**
     * Writes the output at {@code output[outputOffset ...]}. {@code bias} is null for no bias;
     * the caller has checked lengths against {@code g}.
     */
    public static void compute(ConvGeometry g, float[] input, int inputOffset, float[] kernel, float[] bias,
                               float[] output, int outputOffset) {
        checkLength("input", input, inputOffset, g.inputCount());
        checkLength("output", output, outputOffset, g.outputCount());
        checkLength("kernel", kernel, 0, g.kernelCount());
        if (bias != null) {
            checkLength("bias", bias, 0, g.outChannels());
        }
        boolean last = g.config().dataFormat() == DataFormat.CHANNELS_LAST;
        int cin = g.inChannels(), cout = g.outChannels();
        int inH = g.inHeight(), inW = g.inWidth(), outH = g.outHeight(), outW = g.outWidth();
        int cinG = cin / g.groups(), coutG = cout / g.groups();
        // Element strides of [n, c, h, w] in each layout.
        long inC = last ? 1 : (long) inH * inW, inX = last ? cin : 1, inY = inX * inW, inN = (long) cin * inH * inW;
        long outC = last ? 1 : (long) outH * outW, outX = last ? cout : 1, outY = outX * outW,
                outN = (long) cout * outH * outW;
        boolean relu = g.config().activation() == Activation.RELU;
        for (int n = 0; n < g.batch(); n++) {
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++) {
                    for (int co = 0; co < cout; co++) {
                        int group = co / coutG;
                        double sum = 0;
                        for (int ky = 0; ky < g.kernelHeight(); ky++) {
                            int iy = oy * g.strideHeight() + ky * g.dilationHeight() - g.padTop();
                            if (iy < 0 || iy >= inH) {
                                continue;
                            }
                            for (int kx = 0; kx < g.kernelWidth(); kx++) {
                                int ix = ox * g.strideWidth() + kx * g.dilationWidth() - g.padLeft();
                                if (ix < 0 || ix >= inW) {
                                    continue;
                                }
                                long base = inputOffset + n * inN + iy * inY + ix * inX;
                                int tap = (ky * g.kernelWidth() + kx) * cinG;
                                for (int ci = 0; ci < cinG; ci++) {
                                    float x = input[(int) (base + (long) (group * cinG + ci) * inC)];
                                    float w = kernel[(tap + ci) * cout + co];
                                    sum += (double) x * w;
                                }
                            }
                        }
                        if (bias != null) {
                            sum += bias[co];
                        }
                        float v = (float) sum;
                        if (relu && v < 0) {
                            v = 0; // NaN is not < 0 and passes through, as in TensorFlow
                        }
                        output[(int) (outputOffset + n * outN + oy * outY + ox * outX + co * outC)] = v;
                    }
                }
            }
        }
    }

    private static void checkLength(String name, float[] a, int offset, int needed) {
        if (a == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (offset < 0 || (long) offset + needed > a.length) {
            throw new IllegalArgumentException(name + " needs " + needed + " floats from offset " + offset
                    + ", the array has " + a.length);
        }
    }
}

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
        computeRows(g, input, inputOffset, kernel, bias, output, outputOffset, 0, rows(g));
    }

    /** Output rows (n, z, y) of {@code g}: the units {@link #computeRows} splits the work into. */
    static int rows(ConvGeometry g) {
        return g.batch() * g.outDepth() * g.outHeight();
    }

    /**
     * {@link #compute} for output rows {@code from} .. {@code to - 1} (row = (n·Dout + z)·Hout + y);
     * lengths checked by the caller. Rows are independent, so threads may each take some.
     */
    static void computeRows(ConvGeometry g, float[] input, int inputOffset, float[] kernel, float[] bias,
                            float[] output, int outputOffset, int from, int to) {
        boolean last = g.config().dataFormat() == DataFormat.CHANNELS_LAST;
        int cin = g.inChannels(), cout = g.outChannels();
        int[] in = {g.inDepth(), g.inHeight(), g.inWidth()}, out = {g.outDepth(), g.outHeight(), g.outWidth()};
        int[] k = {g.kernelDepth(), g.kernelHeight(), g.kernelWidth()};
        int[] s = {g.strideDepth(), g.strideHeight(), g.strideWidth()};
        int[] d = {g.dilationDepth(), g.dilationHeight(), g.dilationWidth()};
        int[] pad = {g.padFront(), g.padTop(), g.padLeft()};
        int cinG = cin / g.groups(), coutG = cout / g.groups();
        boolean transposed = g.transposed();
        // Element strides of [n, c, z, y, x] in each layout.
        long inPlane = (long) in[0] * in[1] * in[2], outPlane = (long) out[0] * out[1] * out[2];
        long inC = last ? 1 : inPlane, inX = last ? cin : 1, inY = inX * in[2], inZ = inY * in[1], inN = cin * inPlane;
        long outC = last ? 1 : outPlane, outX = last ? cout : 1, outY = outX * out[2], outZ = outY * out[1],
                outN = cout * outPlane;
        boolean relu = g.config().activation() == Activation.RELU;
        int[] i = new int[3];
        for (int row = from; row < to; row++) {
            int n = row / (out[0] * out[1]), oz = row / out[1] % out[0], oy = row % out[1];
            for (int ox = 0; ox < out[2]; ox++) {
                for (int co = 0; co < cout; co++) {
                    int group = co / coutG;
                    double sum = 0;
                    for (int kz = 0; kz < k[0]; kz++) {
                        if ((i[0] = source(transposed, oz, kz, s[0], d[0], pad[0], in[0])) < 0) {
                            continue;
                        }
                        for (int ky = 0; ky < k[1]; ky++) {
                            if ((i[1] = source(transposed, oy, ky, s[1], d[1], pad[1], in[1])) < 0) {
                                continue;
                            }
                            for (int kx = 0; kx < k[2]; kx++) {
                                if ((i[2] = source(transposed, ox, kx, s[2], d[2], pad[2], in[2])) < 0) {
                                    continue;
                                }
                                long base = inputOffset + n * inN + i[0] * inZ + i[1] * inY + i[2] * inX;
                                int tap = (kz * k[1] + ky) * k[2] + kx;
                                for (int ci = 0; ci < cinG; ci++) {
                                    float x = input[(int) (base + (long) (group * cinG + ci) * inC)];
                                    // forward [k..., Cin/groups, Cout]; transposed [k..., filters, Cin]
                                    float w = transposed ? kernel[(tap * cout + co) * cin + ci]
                                            : kernel[(tap * cinG + ci) * cout + co];
                                    sum += (double) x * w;
                                }
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
                    output[(int) (outputOffset + n * outN + oz * outZ + oy * outY + ox * outX + co * outC)] = v;
                }
            }
        }
    }

    /**
     * The input index that kernel tap {@code t} reads for output index {@code o} on one axis, or -1
     * when it falls on padding. Forward: o·s + t·d - pad. Transposed (the gather form of the
     * forward convolution's backward-data pass, no scatter): the i with i·s + t·d - pad = o.
     */
    static int source(boolean transposed, int o, int t, int s, int d, int pad, int in) {
        if (!transposed) {
            int i = o * s + t * d - pad;
            return i < 0 || i >= in ? -1 : i;
        }
        int num = o + pad - t * d;
        if (num < 0 || num % s != 0) {
            return -1;
        }
        int i = num / s;
        return i < in ? i : -1;
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

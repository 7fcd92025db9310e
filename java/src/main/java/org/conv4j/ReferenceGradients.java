package org.conv4j;

/**
 * The pure-Java gradients of a convolution layer of any rank, forward or transposed, with any padding
 * (explicit pads too): the oracle for every backward pass. Straight from the
 * definition of the forward pass in {@link ReferenceConvolution}: each output's gradient dz (dy
 * masked by relu's derivative) is scattered back over the taps of its window, into dx (times the
 * weight) and dW (times the input), and summed into db. Accumulated in double and rounded once to
 * float. Stateless and thread-safe.
 */
public final class ReferenceGradients {
    private ReferenceGradients() {}

    /**
     * The gradients for {@code outputGradient} (the forward output's shape); {@code bias} null for
     * no bias. With relu the mask comes from the reference forward output.
     */
    public static Gradients compute(ConvGeometry g, float[] input, float[] kernel, float[] bias,
                                    float[] outputGradient) {
        return compute(g, input, kernel, bias, null, outputGradient);
    }

    /**
     * As {@link #compute(ConvGeometry, float[], float[], float[], float[])}, with relu's mask taken
     * from {@code output} (a forward output of these weights) when it is not null: an output y
     * passes its gradient only when y > 0.
     */
    public static Gradients compute(ConvGeometry g, float[] input, float[] kernel, float[] bias, float[] output,
                                    float[] outputGradient) {
        check("input", input, g.inputCount());
        check("kernel", kernel, g.kernelCount());
        check("output gradient", outputGradient, g.outputCount());
        if (bias != null) {
            check("bias", bias, g.outChannels());
        }
        boolean relu = g.config().activation() == Activation.RELU;
        float[] y = null;
        if (relu) {
            if (output != null) {
                check("output", output, g.outputCount());
                y = output;
            } else {
                y = ReferenceConvolution.compute(g, input, kernel, bias);
            }
        }
        double[] dx = new double[g.inputCount()];
        double[] dw = new double[g.kernelCount()];
        double[] db = bias == null ? null : new double[g.outChannels()];
        accumulate(g, input, kernel, y, outputGradient, dx, dw, db);
        return new Gradients(rounded(dx), rounded(dw), db == null ? null : rounded(db));
    }

    /**
     * The loops of {@link ReferenceConvolution#computeRows} (every rank, forward and transposed, explicit
     * pads through the geometry's pads) with each product's derivative: y[o] += x[i]·w[t] gives
     * dx[i] += w[t]·dz[o] and dW[t] += x[i]·dz[o]. A transposed layer's reference is a gather too, so the
     * same scatter-back holds with its kernel index. Null accumulators are skipped.
     */
    private static void accumulate(ConvGeometry g, float[] input, float[] kernel, float[] y, float[] dy,
                                   double[] dx, double[] dw, double[] db) {
        accumulate(g, input, kernel, y, dy, dx, dw, db, 0, g.batch());
    }

    /**
     * {@link #accumulate} over batch items {@code from} .. {@code to - 1} only: an item's dx slice is its
     * own, so items may run on different threads when each has its own dw and db accumulators.
     */
    static void accumulate(ConvGeometry g, float[] input, float[] kernel, float[] y, float[] dy,
                           double[] dx, double[] dw, double[] db, int from, int to) {
        boolean last = g.config().dataFormat() == DataFormat.CHANNELS_LAST;
        boolean relu = g.config().activation() == Activation.RELU;
        int cin = g.inChannels(), cout = g.outChannels();
        int[] in = {g.inDepth(), g.inHeight(), g.inWidth()}, out = {g.outDepth(), g.outHeight(), g.outWidth()};
        int[] k = {g.kernelDepth(), g.kernelHeight(), g.kernelWidth()};
        int[] s = {g.strideDepth(), g.strideHeight(), g.strideWidth()};
        int[] d = {g.dilationDepth(), g.dilationHeight(), g.dilationWidth()};
        int[] pad = {g.padFront(), g.padTop(), g.padLeft()};
        int cinG = cin / g.groups(), coutG = cout / g.groups();
        boolean transposed = g.transposed();
        long inPlane = (long) in[0] * in[1] * in[2], outPlane = (long) out[0] * out[1] * out[2];
        long inC = last ? 1 : inPlane, inX = last ? cin : 1, inY = inX * in[2], inZ = inY * in[1], inN = cin * inPlane;
        long outC = last ? 1 : outPlane, outX = last ? cout : 1, outY = outX * out[2], outZ = outY * out[1],
                outN = cout * outPlane;
        int[] i = new int[3];
        for (int n = from; n < to; n++) {
            for (int oz = 0; oz < out[0]; oz++) {
                for (int oy = 0; oy < out[1]; oy++) {
                    for (int ox = 0; ox < out[2]; ox++) {
                        for (int co = 0; co < cout; co++) {
                            int o = (int) (n * outN + oz * outZ + oy * outY + ox * outX + co * outC);
                            double dz = relu && !(y[o] > 0) ? 0 : dy[o]; // relu' is 0 at 0 and for NaN
                            if (db != null) {
                                db[co] += dz;
                            }
                            if (dx == null && dw == null) {
                                continue;
                            }
                            int group = co / coutG;
                            for (int kz = 0; kz < k[0]; kz++) {
                                if ((i[0] = ReferenceConvolution.source(transposed, oz, kz, s[0], d[0], pad[0], in[0])) < 0) {
                                    continue;
                                }
                                for (int ky = 0; ky < k[1]; ky++) {
                                    if ((i[1] = ReferenceConvolution.source(transposed, oy, ky, s[1], d[1], pad[1], in[1])) < 0) {
                                        continue;
                                    }
                                    for (int kx = 0; kx < k[2]; kx++) {
                                        if ((i[2] = ReferenceConvolution.source(transposed, ox, kx, s[2], d[2], pad[2], in[2])) < 0) {
                                            continue;
                                        }
                                        long base = n * inN + i[0] * inZ + i[1] * inY + i[2] * inX;
                                        int tap = (kz * k[1] + ky) * k[2] + kx;
                                        for (int ci = 0; ci < cinG; ci++) {
                                            int xi = (int) (base + (long) (group * cinG + ci) * inC);
                                            int wi = transposed ? (tap * cout + co) * cin + ci : (tap * cinG + ci) * cout + co;
                                            if (dx != null) {
                                                dx[xi] += (double) kernel[wi] * dz;
                                            }
                                            if (dw != null) {
                                                dw[wi] += (double) input[xi] * dz;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    static void round(double[] a, float[] into) {
        if (a != null) {
            for (int i = 0; i < a.length; i++) {
                into[i] = (float) a[i];
            }
        }
    }

    private static float[] rounded(double[] a) {
        float[] r = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = (float) a[i];
        }
        return r;
    }

    private static void check(String name, float[] a, int needed) {
        if (a == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (a.length != needed) {
            throw new IllegalArgumentException(name + " has " + a.length + " floats, needs " + needed);
        }
    }
}

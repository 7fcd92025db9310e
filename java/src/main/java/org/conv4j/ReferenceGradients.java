package org.conv4j;

/**
 * The pure-Java gradients of a convolution: the oracle for every backward pass. Straight from the
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
        boolean last = g.config().dataFormat() == DataFormat.CHANNELS_LAST;
        int cin = g.inChannels(), cout = g.outChannels();
        int inH = g.inHeight(), inW = g.inWidth(), outH = g.outHeight(), outW = g.outWidth();
        int cinG = cin / g.groups(), coutG = cout / g.groups();
        long inC = last ? 1 : (long) inH * inW, inX = last ? cin : 1, inY = inX * inW, inN = (long) cin * inH * inW;
        long outC = last ? 1 : (long) outH * outW, outX = last ? cout : 1, outY = outX * outW,
                outN = (long) cout * outH * outW;
        double[] dx = new double[g.inputCount()];
        double[] dw = new double[g.kernelCount()];
        double[] db = bias == null ? null : new double[cout];
        for (int n = 0; n < g.batch(); n++) {
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++) {
                    for (int co = 0; co < cout; co++) {
                        int o = (int) (n * outN + oy * outY + ox * outX + co * outC);
                        double dz = relu && !(y[o] > 0) ? 0 : outputGradient[o];
                        if (db != null) {
                            db[co] += dz;
                        }
                        int group = co / coutG;
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
                                long base = n * inN + iy * inY + ix * inX;
                                int tap = (ky * g.kernelWidth() + kx) * cinG;
                                for (int ci = 0; ci < cinG; ci++) {
                                    int xi = (int) (base + (long) (group * cinG + ci) * inC);
                                    int wi = (tap + ci) * cout + co;
                                    dx[xi] += (double) kernel[wi] * dz;
                                    dw[wi] += (double) input[xi] * dz;
                                }
                            }
                        }
                    }
                }
            }
        }
        return new Gradients(rounded(dx), rounded(dw), db == null ? null : rounded(db));
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

package org.conv4j;

/**
 * The gradients of a convolution, straight from the definition y[q][co] = sum x[ih][iw][ci] w[tap][ci][co] (the
 * activation left out), accumulated in double and rounded once: the oracle of the native backward passes. dy has
 * the forward output's shape, dx the forward input's, dw the Keras kernel layout; the geometry's data format.
 */
final class GradientReference {
    private GradientReference() {}

    /** Index of element (n, y, x, c) of a tensor of the geometry's format with h x w pixels and c channels. */
    private static int at(ConvGeometry g, int channels, int h, int w, int n, int y, int x, int c) {
        return g.config().dataFormat() == DataFormat.CHANNELS_LAST ? ((n * h + y) * w + x) * channels + c
                : ((n * channels + c) * h + y) * w + x;
    }

    /** Calls visit for every (input element, output element, kernel element) product of the convolution. */
    private interface Term {
        void add(int input, int output, int kernel);
    }

    private static void forEachTerm(ConvGeometry g, Term term) {
        int cin = g.inChannels(), cout = g.outChannels();
        int cinG = cin / g.groups(), coutG = cout / g.groups();
        for (int n = 0; n < g.batch(); n++) {
            for (int oy = 0; oy < g.outHeight(); oy++) {
                for (int ox = 0; ox < g.outWidth(); ox++) {
                    for (int ky = 0; ky < g.kernelHeight(); ky++) {
                        int iy = oy * g.strideHeight() + ky * g.dilationHeight() - g.padTop();
                        if (iy < 0 || iy >= g.inHeight()) {
                            continue;
                        }
                        for (int kx = 0; kx < g.kernelWidth(); kx++) {
                            int ix = ox * g.strideWidth() + kx * g.dilationWidth() - g.padLeft();
                            if (ix < 0 || ix >= g.inWidth()) {
                                continue;
                            }
                            for (int co = 0; co < cout; co++) {
                                int group = co / coutG;
                                for (int ci = 0; ci < cinG; ci++) {
                                    term.add(at(g, cin, g.inHeight(), g.inWidth(), n, iy, ix, group * cinG + ci),
                                            at(g, cout, g.outHeight(), g.outWidth(), n, oy, ox, co),
                                            ((ky * g.kernelWidth() + kx) * cinG + ci) * cout + co);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static float[] rounded(double[] sums) {
        float[] out = new float[sums.length];
        for (int i = 0; i < sums.length; i++) {
            out[i] = (float) sums[i];
        }
        return out;
    }

    /** dx = the transposed convolution of dy with the kernel, plus bias (over Cin, null for none). */
    static float[] inputGradient(ConvGeometry g, float[] dy, float[] kernel, float[] bias) {
        double[] dx = new double[g.inputCount()];
        forEachTerm(g, (i, o, k) -> dx[i] += (double) dy[o] * kernel[k]);
        if (bias != null) {
            int cin = g.inChannels();
            for (int n = 0; n < g.batch(); n++) {
                for (int y = 0; y < g.inHeight(); y++) {
                    for (int x = 0; x < g.inWidth(); x++) {
                        for (int c = 0; c < cin; c++) {
                            dx[at(g, cin, g.inHeight(), g.inWidth(), n, y, x, c)] += bias[c];
                        }
                    }
                }
            }
        }
        return rounded(dx);
    }

    /** dw[tap][ci][co] = the sum over the pixels of the batch of x * dy. */
    static float[] kernelGradient(ConvGeometry g, float[] x, float[] dy) {
        double[] dw = new double[g.kernelCount()];
        forEachTerm(g, (i, o, k) -> dw[k] += (double) x[i] * dy[o]);
        return rounded(dw);
    }

    /** db[co] = the sum of dy over the pixels of the batch. */
    static float[] biasGradient(ConvGeometry g, float[] dy) {
        double[] db = new double[g.outChannels()];
        int cout = g.outChannels();
        for (int n = 0; n < g.batch(); n++) {
            for (int y = 0; y < g.outHeight(); y++) {
                for (int x = 0; x < g.outWidth(); x++) {
                    for (int c = 0; c < cout; c++) {
                        db[c] += dy[at(g, cout, g.outHeight(), g.outWidth(), n, y, x, c)];
                    }
                }
            }
        }
        return rounded(db);
    }
}

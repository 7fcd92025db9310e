package org.conv4j;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Java backend's backward pass: same results as {@link ReferenceGradients} within the float
 * bounds of README "Training", in channels_last internally (channels_first is transposed in and
 * out). dx is gathered per input row (each row written by one thread: no races), as a sum over the
 * taps that reach it and the output channels of its group, with the kernel transposed once to
 * {@code [tap][co][ci]} so the inner loop runs along contiguous input channels. dW is computed per
 * (tap, group), summing over all output pixels in order: float partial sums over blocks of
 * {@value #BLOCK} pixels folded into double, so the bits do not depend on the thread count. db is
 * summed serially in double. Stateless; a call allocates its scratch.
 */
final class JavaGradients {
    /** Pixels summed in float before a dW partial sum is folded into double. */
    static final int BLOCK = 64;

    private JavaGradients() {}

    /**
     * Writes dx, dW and db (each may be null to skip it) for output gradient {@code dy}; {@code y}
     * is the forward output, needed (for relu's mask) only when the layer has relu.
     */
    static void compute(ConvGeometry g, float[] x, float[] w, float[] y, float[] dy, float[] dx, float[] dw,
                        float[] db, int threads) {
        boolean last = g.config().dataFormat() == DataFormat.CHANNELS_LAST;
        boolean relu = g.config().activation() == Activation.RELU;
        int n = g.batch(), cin = g.inChannels(), cout = g.outChannels();
        int pixels = n * g.outHeight() * g.outWidth();
        float[] xs = last ? x : toLast(x, n, cin, g.inHeight() * g.inWidth());
        float[] dz = last && !relu ? dy : last ? dy.clone() : toLast(dy, n, cout, g.outHeight() * g.outWidth());
        if (relu) {
            float[] yl = last ? y : toLast(y, n, cout, g.outHeight() * g.outWidth());
            for (int i = 0; i < dz.length; i++) {
                if (!(yl[i] > 0)) {
                    dz[i] = 0; // relu's derivative is 0 at 0 and for NaN, as TensorFlow's ReluGrad
                }
            }
        }
        if (db != null) {
            double[] sum = new double[cout];
            for (int p = 0, i = 0; p < pixels; p++) {
                for (int co = 0; co < cout; co++, i++) {
                    sum[co] += dz[i];
                }
            }
            for (int co = 0; co < cout; co++) {
                db[co] = (float) sum[co];
            }
        }
        int t = JavaConvolution.fullTeam || multiplyAdds(g) >= JavaConvolution.SERIAL_WORK_LIMIT
                ? JavaWorkers.effectiveThreads(threads) : 1;
        if (dw != null) {
            Task task = new Task(g.kernelHeight() * g.kernelWidth() * g.groups(),
                    u -> weightUnit(g, xs, dz, dw, u));
            JavaWorkers.invoke(task, Math.min(t, task.units));
        }
        if (dx != null) {
            float[] wt = transposed(g, w);
            float[] dxl = last ? dx : new float[dx.length];
            Task task = new Task(n * g.inHeight(), row -> inputRow(g, wt, dz, dxl, row));
            JavaWorkers.invoke(task, Math.min(t, task.units));
            if (!last) {
                toFirst(dxl, dx, n, cin, g.inHeight() * g.inWidth());
            }
        }
    }

    /**
     * Rank 3 and the transposed layers (no fast loops here yet): {@link ReferenceGradients}' double loops
     * split by batch item over the workers. Each item writes its own dx slice and its own dW and db
     * partial sums, added in item order afterwards, so the bits do not depend on the thread count
     * (they may differ from the serial reference's in the last place: another summation order).
     */
    static void computeByItems(ConvGeometry g, float[] x, float[] w, float[] y, float[] dy, float[] dx, float[] dw,
                               float[] db, int threads) {
        int n = g.batch();
        double[] dxd = dx == null ? null : new double[dx.length];
        double[][] dwn = dw == null ? null : new double[n][];
        double[][] dbn = db == null ? null : new double[n][];
        Task task = new Task(n, item -> {
            double[] dwi = dw == null ? null : new double[dw.length];
            double[] dbi = db == null ? null : new double[db.length];
            ReferenceGradients.accumulate(g, x, w, y, dy, dxd, dwi, dbi, item, item + 1);
            if (dwn != null) {
                dwn[item] = dwi;
            }
            if (dbn != null) {
                dbn[item] = dbi;
            }
        });
        int t = JavaConvolution.fullTeam || multiplyAdds(g) >= JavaConvolution.SERIAL_WORK_LIMIT
                ? JavaWorkers.effectiveThreads(threads) : 1;
        JavaWorkers.invoke(task, Math.min(t, n));
        ReferenceGradients.round(dxd, dx);
        ReferenceGradients.round(inOrder(dwn), dw);
        ReferenceGradients.round(inOrder(dbn), db);
    }

    /** Σ over items of the partial sums, item 0 first; null for null. */
    private static double[] inOrder(double[][] partials) {
        if (partials == null) {
            return null;
        }
        double[] total = partials[0].clone();
        for (int i = 1; i < partials.length; i++) {
            for (int j = 0; j < total.length; j++) {
                total[j] += partials[i][j];
            }
        }
        return total;
    }

    private static long multiplyAdds(ConvGeometry g) {
        return JavaConvolution.multiplyAdds(g);
    }

    /** Units claimed one at a time by the calling thread and idle workers. */
    private static final class Task extends JavaWorkers.Task {
        final AtomicInteger next = new AtomicInteger();
        final int units;
        final java.util.function.IntConsumer body;

        Task(int units, java.util.function.IntConsumer body) {
            this.units = units;
            this.body = body;
        }

        @Override
        void work() {
            for (int u = next.getAndIncrement(); u < units; u = next.getAndIncrement()) {
                body.accept(u);
            }
        }
    }

    /** dW for one tap and one group: Σ over output pixels of x(tap's input pixel) ⊗ dz(pixel). */
    private static void weightUnit(ConvGeometry g, float[] x, float[] dz, float[] dw, int unit) {
        int groups = g.groups(), cin = g.inChannels(), cout = g.outChannels();
        int cinG = cin / groups, coutG = cout / groups;
        int group = unit % groups, tap = unit / groups;
        int ky = tap / g.kernelWidth(), kx = tap % g.kernelWidth();
        int inH = g.inHeight(), inW = g.inWidth(), outH = g.outHeight(), outW = g.outWidth();
        float[] acc = new float[cinG * coutG];
        double[] total = new double[cinG * coutG];
        int inBlock = 0;
        for (int n = 0; n < g.batch(); n++) {
            for (int oy = 0; oy < outH; oy++) {
                int iy = oy * g.strideHeight() + ky * g.dilationHeight() - g.padTop();
                if (iy < 0 || iy >= inH) {
                    continue;
                }
                for (int ox = 0; ox < outW; ox++) {
                    int ix = ox * g.strideWidth() + kx * g.dilationWidth() - g.padLeft();
                    if (ix < 0 || ix >= inW) {
                        continue;
                    }
                    int xBase = ((n * inH + iy) * inW + ix) * cin + group * cinG;
                    int zBase = ((n * outH + oy) * outW + ox) * cout + group * coutG;
                    for (int ci = 0; ci < cinG; ci++) {
                        float xv = x[xBase + ci];
                        int a = ci * coutG;
                        for (int co = 0; co < coutG; co++) {
                            acc[a + co] += xv * dz[zBase + co];
                        }
                    }
                    if (++inBlock == BLOCK) {
                        fold(acc, total);
                        inBlock = 0;
                    }
                }
            }
        }
        fold(acc, total);
        for (int ci = 0; ci < cinG; ci++) {
            int dst = (tap * cinG + ci) * cout + group * coutG;
            for (int co = 0; co < coutG; co++) {
                dw[dst + co] = (float) total[ci * coutG + co];
            }
        }
    }

    private static void fold(float[] acc, double[] total) {
        for (int i = 0; i < acc.length; i++) {
            total[i] += acc[i];
            acc[i] = 0;
        }
    }

    /** The kernel as [tap][co][ci of its group]: the inner loop of dx runs along ci. */
    private static float[] transposed(ConvGeometry g, float[] w) {
        int cout = g.outChannels(), cinG = g.inChannels() / g.groups();
        int taps = g.kernelHeight() * g.kernelWidth();
        float[] t = new float[w.length];
        for (int tap = 0; tap < taps; tap++) {
            for (int ci = 0; ci < cinG; ci++) {
                for (int co = 0; co < cout; co++) {
                    t[(tap * cout + co) * cinG + ci] = w[(tap * cinG + ci) * cout + co];
                }
            }
        }
        return t;
    }

    /** dx for input row {@code row} = (n, iy), channels_last. */
    private static void inputRow(ConvGeometry g, float[] wt, float[] dz, float[] dx, int row) {
        int cin = g.inChannels(), cout = g.outChannels(), groups = g.groups();
        int cinG = cin / groups, coutG = cout / groups;
        int inH = g.inHeight(), inW = g.inWidth(), outH = g.outHeight(), outW = g.outWidth();
        int sh = g.strideHeight(), sw = g.strideWidth();
        int n = row / inH, iy = row % inH;
        int rowBase = row * inW * cin;
        Arrays.fill(dx, rowBase, rowBase + inW * cin, 0f);
        for (int ky = 0; ky < g.kernelHeight(); ky++) {
            int ty = iy + g.padTop() - ky * g.dilationHeight();
            if (ty < 0 || ty % sh != 0 || ty / sh >= outH) {
                continue;
            }
            int oy = ty / sh;
            for (int ix = 0; ix < inW; ix++) {
                int dst = rowBase + ix * cin;
                for (int kx = 0; kx < g.kernelWidth(); kx++) {
                    int tx = ix + g.padLeft() - kx * g.dilationWidth();
                    if (tx < 0 || tx % sw != 0 || tx / sw >= outW) {
                        continue;
                    }
                    int zBase = ((n * outH + oy) * outW + tx / sw) * cout;
                    int tap = ky * g.kernelWidth() + kx;
                    for (int co = 0; co < cout; co++) {
                        float v = dz[zBase + co];
                        int d = dst + co / coutG * cinG;
                        int src = (tap * cout + co) * cinG;
                        for (int ci = 0; ci < cinG; ci++) {
                            dx[d + ci] += wt[src + ci] * v;
                        }
                    }
                }
            }
        }
    }

    /** [n][c][p] → [n][p][c]. */
    static float[] toLast(float[] a, int n, int c, int plane) {
        float[] r = new float[a.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < plane; p++) {
                    r[(b * plane + p) * c + ch] = a[(b * c + ch) * plane + p];
                }
            }
        }
        return r;
    }

    /** [n][p][c] → [n][c][p], into {@code r}. */
    static void toFirst(float[] a, float[] r, int n, int c, int plane) {
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < plane; p++) {
                    r[(b * c + ch) * plane + p] = a[(b * plane + p) * c + ch];
                }
            }
        }
    }
}

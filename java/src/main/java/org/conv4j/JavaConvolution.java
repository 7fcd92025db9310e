package org.conv4j;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Java backend's convolution: fast, pure Java, same semantics as {@link ReferenceConvolution}.
 *
 * <p>The kernel is packed once (per {@code setWeights}) as {@code [group][channel block][k][width]}
 * with k = (kz, ky, kx, ci) and blocks of {@link MicroKernel#width()} output channels, zero-padded.
 * A call walks the output pixels (batch, rows and columns flattened) in blocks; per block and
 * group it gathers the input patch once ({@code [pixel][k]}, zeros for padding; both layouts)
 * and runs the micro-kernel over every channel block, so the weights of a block stay in L1/L2 and
 * the accumulators in registers. Depthwise layers in channels_last take a loop over channels
 * instead. The micro-kernel is the Vector API's when the {@code jdk.incubator.vector} module is
 * present (JVM option {@code --add-modules jdk.incubator.vector}) and
 * {@code -Dconv4j.java.vector=false} is not set, else plain Java that the JIT vectorizes.
 *
 * <p><b>Accuracy.</b> Sums are accumulated in float, each output's k products in a fixed order
 * from +0, then the bias: the error is within γ(k+1)·(Σ|x·w| + |b|) (Higham 3.5) rather than the
 * reference's single rounding, and the result is the same bits for any thread count. A kernel
 * with a NaN or an infinity goes to the reference, which skips the taps that fall on padding (a
 * zero-filled patch would turn 0·∞ into NaN there). Transposed layers have no
 * blocked path: the reference computes them too, its output rows split over the workers.
 *
 * <p><b>Threads.</b> Immutable after construction and safe to share; a call uses the calling
 * thread plus idle {@link JavaWorkers}, and per-thread scratch that grows to the largest shape
 * seen, so steady-state calls allocate nothing.
 */
final class JavaConvolution {
    /** System property: {@code false} keeps the plain-Java micro-kernel even with the Vector API present. */
    static final String VECTOR_PROPERTY = "conv4j.java.vector";
    static final MicroKernel KERNEL = chooseKernel();
    /** Floats of input patch per block: 32 K floats = 128 KB, about half of a core's L2. */
    private static final int PATCH_FLOATS = 1 << 15;
    private static final int MAX_TILES_PER_BLOCK = 32;

    private final MicroKernel kernel;
    private final Object packed; // [group][block][k][width] in the kernel's form; null for the reference or depthwise path
    private final float[] weights; // Keras layout, for the depthwise and reference paths
    private final float[] bias;
    private final boolean reference; // non-finite kernel or transposed layer: the reference computes
    private final int groups, cinG, coutG, cout, kd, kh, kw, k, blocks;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
    private static final ThreadLocal<Call> CALLS = ThreadLocal.withInitial(Call::new);

    /** Per-thread buffers, grown on demand and then reused. */
    private static final class Scratch {
        float[] patch = new float[0];
        float[][] acc = new float[0][];

        float[] patch(int n) {
            if (patch.length < n) {
                patch = new float[n];
            }
            return patch;
        }

        /** At least {@code rows} arrays of at least {@code width} floats. */
        float[][] acc(int rows, int width) {
            if (acc.length < rows || acc[0].length < width) {
                acc = new float[Math.max(rows, acc.length)][Math.max(width, acc.length == 0 ? 0 : acc[0].length)];
            }
            return acc;
        }
    }

    /** One call's arguments and work counter; each calling thread reuses its own. */
    private static final class Call extends JavaWorkers.Task {
        final AtomicInteger next = new AtomicInteger();
        JavaConvolution conv;
        ConvGeometry g;
        float[] input;
        float[] output;
        int units, pixelsPerBlock, splits;
        boolean depthwise;
        boolean reference;

        @Override
        void work() {
            for (int u = next.getAndIncrement(); u < units; u = next.getAndIncrement()) {
                if (reference) {
                    ReferenceConvolution.computeRows(g, input, 0, conv.weights, conv.bias, output, 0, u, u + 1);
                } else if (depthwise) {
                    conv.depthwiseRow(this, u);
                } else {
                    conv.unit(this, u);
                }
            }
        }
    }

    /**
     * Packs {@code weights} (Keras layout {@code [KD, KH, KW, Cin/groups, Cout]}; lower ranks have KD = KH = 1)
     * for {@code inChannels} input channels. Arrays are not copied: the caller keeps them unchanged.
     */
    JavaConvolution(ConvConfig config, int inChannels, float[] weights, float[] bias) {
        this(config, inChannels, weights, bias, KERNEL);
    }

    JavaConvolution(ConvConfig config, int inChannels, float[] weights, float[] bias, MicroKernel kernel) {
        this.kernel = kernel;
        this.weights = weights;
        this.bias = bias;
        groups = config.groups();
        cinG = inChannels / groups;
        cout = config.filters();
        coutG = cout / groups;
        int r = config.rank();
        kd = r == 3 ? config.kernelSize(0) : 1;
        kh = r >= 2 ? config.kernelSize(r - 2) : 1;
        kw = config.kernelSize(r - 1);
        k = kd * kh * kw * cinG;
        boolean allFinite = true;
        for (float v : weights) {
            allFinite &= Float.isFinite(v);
        }
        // Transposed layers have no blocked path yet: the reference runs them, output rows split over the workers.
        reference = !allFinite || config.kind() == ConvConfig.Kind.TRANSPOSE;
        int width = kernel.width();
        blocks = (coutG + width - 1) / width;
        boolean depthwiseOnly = cinG == 1 && coutG == 1 && config.dataFormat() == DataFormat.CHANNELS_LAST;
        packed = !reference && !depthwiseOnly ? kernel.pack(pack(width)) : null;
    }

    private float[] pack(int width) {
        float[] p = new float[Math.multiplyExact(Math.multiplyExact(groups * blocks, k), width)];
        for (int g = 0; g < groups; g++) {
            for (int b = 0; b < blocks; b++) {
                int base = (g * blocks + b) * k * width;
                int channels = Math.min(width, coutG - b * width);
                for (int i = 0; i < k; i++) {
                    // i = (ky·KW + kx)·cinG + ci, the same order as the Keras kernel's leading axes
                    System.arraycopy(weights, i * cout + g * coutG + b * width, p, base + i * width, channels);
                }
            }
        }
        return p;
    }

    /** What computes this layer on the Java backend, for {@code explain}. */
    String description() {
        return reference ? "java (the reference: double sums, rows over the workers)"
                : "java (" + kernel.name() + " micro-kernel)";
    }

    /** The micro-kernel this JVM uses, for reports. */
    static String kernelName() {
        return KERNEL.name();
    }

    private static MicroKernel chooseKernel() {
        if (!Boolean.parseBoolean(System.getProperty(VECTOR_PROPERTY, "true"))
                || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return new MicroKernel.Scalar();
        }
        try {
            return (MicroKernel) Class.forName("org.conv4j.VectorMicroKernel").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return new MicroKernel.Scalar();
        }
    }

    /** Multiply-adds below which a call runs on the calling thread only: SERIAL_WORK_LIMIT in native/src/plan.c. */
    static final long SERIAL_WORK_LIMIT = 1L << 17;

    /** Tests: no small-call cutoff, as CONV4J_FLAG_FULL_TEAM for native plans, so small shapes reach the workers. */
    static volatile boolean fullTeam;

    /** Multiply-adds of one call: N·Dout·Hout·Wout·Cout·KD·KH·KW·Cin/groups. */
    static long multiplyAdds(ConvGeometry g) {
        return (long) g.batch() * g.outDepth() * g.outHeight() * g.outWidth() * g.outChannels() * g.fanIn();
    }

    /** Computes {@code g} from {@code input} into {@code output} (lengths checked by the caller). */
    void compute(ConvGeometry g, float[] input, float[] output, int threads) {
        // Below the native core's small-call cutoff a team costs more than it saves (a call that
        // takes microseconds waits as long again for the workers' wake-up and join): stay on the
        // calling thread, as native plans do.
        int t = !fullTeam && multiplyAdds(g) < SERIAL_WORK_LIMIT ? 1 : JavaWorkers.effectiveThreads(threads);
        Call c = CALLS.get();
        c.conv = this;
        c.g = g;
        c.input = input;
        c.output = output;
        c.next.set(0);
        c.reference = reference;
        c.depthwise = packed == null;
        if (reference) {
            c.units = ReferenceConvolution.rows(g); // one output row per unit: rows are independent
        } else if (c.depthwise) {
            c.units = g.batch() * g.outDepth() * g.outHeight();
        } else {
            int rows = kernel.rows();
            int tiles = (int) Math.max(1, Math.min(MAX_TILES_PER_BLOCK, PATCH_FLOATS / ((long) k * rows)));
            c.pixelsPerBlock = tiles * rows;
            int pixels = g.batch() * g.outDepth() * g.outHeight() * g.outWidth();
            int units = (pixels + c.pixelsPerBlock - 1) / c.pixelsPerBlock * groups;
            // Too few pixel blocks to keep every thread busy: split the channel blocks too.
            c.splits = Math.max(1, Math.min(blocks, (4 * t + units - 1) / units));
            c.units = units * c.splits;
        }
        try {
            JavaWorkers.invoke(c, c.units == 1 ? 1 : t);
        } finally {
            c.conv = null; // do not keep the caller's arrays reachable
            c.g = null;
            c.input = null;
            c.output = null;
        }
    }

    /** One pixel block × group × share of the channel blocks. */
    private void unit(Call c, int u) {
        ConvGeometry g = c.g;
        int split = u % c.splits;
        int rest = u / c.splits;
        int group = rest % groups;
        int block = rest / groups;
        int pixels = g.batch() * g.outDepth() * g.outHeight() * g.outWidth();
        int q0 = block * c.pixelsPerBlock;
        int count = Math.min(c.pixelsPerBlock, pixels - q0);
        int rows = kernel.rows();
        int width = kernel.width();
        int tiles = (count + rows - 1) / rows;
        Scratch s = SCRATCH.get();
        float[] patch = s.patch(Math.multiplyExact(tiles * rows, k)); // one tile when k is large
        float[][] acc = s.acc(rows, width);
        gather(g, c.input, group, q0, count, tiles * rows, patch);
        int b0 = blocks * split / c.splits;
        int b1 = blocks * (split + 1) / c.splits;
        for (int b = b0; b < b1; b++) {
            int weightRow = (group * blocks + b) * k;
            int channels = Math.min(width, coutG - b * width);
            int co0 = group * coutG + b * width;
            for (int tile = 0; tile < tiles; tile++) {
                kernel.run(patch, tile * rows * k, k, packed, weightRow, acc);
                int first = q0 + tile * rows;
                store(g, c.output, acc, first, Math.min(rows, q0 + count - first), co0, channels);
            }
        }
    }

    /**
     * Writes {@code patch[p·k + ((kz·KH + ky)·KW + kx)·cinG + ci]} for pixels q0 .. q0+count-1 of
     * the flattened output (zeros where a tap falls on padding, and for rows up to {@code paddedRows}).
     */
    private void gather(ConvGeometry g, float[] in, int group, int q0, int count, int paddedRows, float[] patch) {
        boolean last = g.config().dataFormat() == DataFormat.CHANNELS_LAST;
        int outD = g.outDepth(), outH = g.outHeight(), outW = g.outWidth();
        int inD = g.inDepth(), inH = g.inHeight(), inW = g.inWidth();
        int cin = g.inChannels(), sd = g.strideDepth(), sh = g.strideHeight(), sw = g.strideWidth();
        int dd = g.dilationDepth(), dh = g.dilationHeight(), dw = g.dilationWidth();
        int pf = g.padFront(), pt = g.padTop(), pl = g.padLeft();
        int plane = inD * inH * inW;
        int n = q0 / (outD * outH * outW);
        int oz = q0 / (outH * outW) % outD;
        int oy = q0 / outW % outH;
        int ox = q0 % outW;
        for (int p = 0; p < count; p++) {
            int dst = p * k;
            int image = n * cin * plane;
            for (int kz = 0; kz < kd; kz++) {
                int iz = oz * sd + kz * dd - pf;
                for (int ky = 0; ky < kh; ky++) {
                    int iy = oy * sh + ky * dh - pt;
                    for (int kx = 0; kx < kw; kx++, dst += cinG) {
                        int ix = ox * sw + kx * dw - pl;
                        if (iz < 0 || iz >= inD || iy < 0 || iy >= inH || ix < 0 || ix >= inW) {
                            java.util.Arrays.fill(patch, dst, dst + cinG, 0f);
                        } else if (last) {
                            System.arraycopy(in, image + ((iz * inH + iy) * inW + ix) * cin + group * cinG, patch,
                                    dst, cinG);
                        } else {
                            int src = image + group * cinG * plane + (iz * inH + iy) * inW + ix;
                            for (int ci = 0; ci < cinG; ci++, src += plane) {
                                patch[dst + ci] = in[src];
                            }
                        }
                    }
                }
            }
            if (++ox == outW) {
                ox = 0;
                if (++oy == outH) {
                    oy = 0;
                    if (++oz == outD) {
                        oz = 0;
                        n++;
                    }
                }
            }
        }
        java.util.Arrays.fill(patch, count * k, paddedRows * k, 0f);
    }

    /** Bias, activation and the layout's addressing for {@code rows} pixels from flattened pixel {@code first}. */
    private void store(ConvGeometry g, float[] out, float[][] acc, int first, int rows, int co0, int channels) {
        boolean relu = g.config().activation() == Activation.RELU;
        boolean last = g.config().dataFormat() == DataFormat.CHANNELS_LAST;
        int plane = g.outDepth() * g.outHeight() * g.outWidth();
        for (int r = 0; r < rows; r++) {
            int q = first + r;
            float[] a = acc[r];
            if (last) {
                kernel.finish(a, bias, co0, relu, out, q * cout + co0, channels);
                continue;
            }
            int dst = (q / plane * cout + co0) * plane + q % plane;
            for (int c = 0; c < channels; c++, dst += plane) {
                float v = a[c];
                if (bias != null) {
                    v += bias[co0 + c];
                }
                if (relu && v < 0) {
                    v = 0; // NaN is not < 0 and passes through, as in TensorFlow
                }
                out[dst] = v;
            }
        }
    }

    /** Depthwise (one input and one output channel per group), channels_last: one output row, over channels. */
    private void depthwiseRow(Call c, int row) {
        ConvGeometry g = c.g;
        float[] in = c.input, out = c.output;
        int ch = cout, outD = g.outDepth(), outH = g.outHeight(), outW = g.outWidth();
        int inD = g.inDepth(), inH = g.inHeight(), inW = g.inWidth();
        int n = row / (outD * outH), oz = row / outH % outD, oy = row % outH;
        boolean relu = g.config().activation() == Activation.RELU;
        float[] acc = SCRATCH.get().acc(1, ch)[0];
        for (int ox = 0; ox < outW; ox++) {
            java.util.Arrays.fill(acc, 0, ch, 0f);
            for (int kz = 0; kz < kd; kz++) {
                int iz = oz * g.strideDepth() + kz * g.dilationDepth() - g.padFront();
                if (iz < 0 || iz >= inD) {
                    continue;
                }
                for (int ky = 0; ky < kh; ky++) {
                    int iy = oy * g.strideHeight() + ky * g.dilationHeight() - g.padTop();
                    if (iy < 0 || iy >= inH) {
                        continue;
                    }
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = ox * g.strideWidth() + kx * g.dilationWidth() - g.padLeft();
                        if (ix < 0 || ix >= inW) {
                            continue;
                        }
                        int src = (((n * inD + iz) * inH + iy) * inW + ix) * ch;
                        int w = ((kz * kh + ky) * kw + kx) * ch;
                        kernel.multiplyAdd(acc, in, src, weights, w, ch);
                    }
                }
            }
            kernel.finish(acc, bias, 0, relu, out, (((n * outD + oz) * outH + oy) * outW + ox) * ch, ch);
        }
    }
}

package org.conv4j;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A random valid convolution: configuration, input shape, weights and input values of a random {@link DataKind}
 * (half dense in [-1, 1], the rest sparse, post-relu with all-zero regions, large-range or mixed-sign).
 */
final class RandomCase {
    /** What the data looks like; the accuracy contract must hold on each (README, "Semantics"). */
    enum DataKind {
        /** Uniform in [-1, 1). */
        DENSE,
        /** Nine in ten values exactly 0. */
        SPARSE,
        /** Input max(x, 0) with one to three all-zero rectangles of whole pixels: what a second layer sees. */
        POST_RELU,
        /** Random sign, magnitude 10^[-3, 3]. */
        LARGE_RANGE,
        /** Input ~0.75, weights of alternating sign: outputs cancel. */
        MIXED_SIGN
    }

    final int rank;
    final int filters;
    final int[] kernelSize;
    final int[] strides;
    final int[] dilation;
    final Padding padding;
    final ExplicitPadding explicit; // explicit pads (padding is then VALID), or null
    final int groups;
    final boolean useBias;
    final Activation activation;
    final DataFormat dataFormat;
    final int[] inputShape;
    final float[] input;
    final float[] kernel;
    final float[] bias;
    final DataKind dataKind;

    /** How many case families {@link #RandomCase(long, int)} cycles through (index modulo this). */
    static final int FAMILIES = 8;

    /** Channel counts and widths one below, at and one above the SIMD tiles (8, 16) and the 6-row GEMM tile. */
    private static final int[] TAILS = {1, 2, 5, 6, 7, 8, 9, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49,
        63, 64, 65, 70};

    /**
     * Case {@code index} of a run seeded with {@code seed}. Index modulo {@link #FAMILIES} picks the family: 0
     * Winograd-shaped (3×3 stride 1, 8–70 channels), 1 GEMM-shaped (ungrouped 1×1 and small k×k), 2 depthwise, 3
     * small Cin (first layers, long dilated Conv1D), else the general family, where some indices force the edge
     * shapes. Channel counts and sizes favour the tile tails.
     */
    RandomCase(long seed, int index) {
        SplittableRandom r = new SplittableRandom(seed * 1_000_003L + index);
        int family = index % FAMILIES;
        boolean padsDrawn = false; // explicit pads on a VALID case (families 3 and the general one)
        if (family == 0) { // Winograd: 3×3, stride 1, undilated, ungrouped
            rank = 2;
            // Mostly what Winograd accepts (channels_last, >= 16 channels), some just outside it.
            dataFormat = r.nextInt(4) == 0 ? DataFormat.CHANNELS_FIRST : DataFormat.CHANNELS_LAST;
            groups = 1;
            int low = r.nextInt(4) == 0 ? 8 : 16;
            int cin = tail(r, low, 70);
            filters = tail(r, low, 70);
            kernelSize = new int[] {3, 3};
            strides = new int[] {1, 1};
            dilation = new int[] {1, 1};
            padding = r.nextBoolean() ? Padding.SAME : Padding.VALID;
            inputShape = shape(dataFormat, 1, cin, fit(tail(r, 1, 13), 3, padding), fit(tail(r, 1, 13), 3, padding));
        } else if (family == 1) { // GEMM: ungrouped 1×1 or small k×k, stride 1 or 2
            rank = 1 + r.nextInt(2);
            dataFormat = format(r);
            groups = 1;
            int cin = tail(r, 1, 40);
            filters = tail(r, 1, 40);
            boolean oneByOne = r.nextBoolean();
            boolean strided = r.nextInt(4) == 0;
            kernelSize = new int[rank];
            strides = new int[rank];
            dilation = new int[rank];
            padding = r.nextBoolean() ? Padding.SAME : Padding.VALID;
            int[] spatial = new int[rank];
            for (int i = 0; i < rank; i++) {
                kernelSize[i] = oneByOne ? 1 : 1 + r.nextInt(3);
                strides[i] = strided ? 2 : 1;
                dilation[i] = !oneByOne && !strided && r.nextInt(4) == 0 ? 2 : 1;
                spatial[i] = fit(tail(r, 1, 17), (kernelSize[i] - 1) * dilation[i] + 1, padding);
            }
            inputShape = shape(dataFormat, 1 + r.nextInt(2), cin, spatial);
        } else if (family == 2) { // depthwise: groups == Cin, mostly multiplier 1
            rank = r.nextInt(4) == 0 ? 1 : 2;
            dataFormat = format(r);
            int cin = tail(r, 1, 49);
            groups = cin;
            filters = cin * (r.nextInt(5) == 0 ? 2 : 1);
            boolean threeByThree = r.nextBoolean();
            boolean strided = r.nextBoolean();
            kernelSize = new int[rank];
            strides = new int[rank];
            dilation = new int[rank];
            padding = r.nextBoolean() ? Padding.SAME : Padding.VALID;
            int[] spatial = new int[rank];
            for (int i = 0; i < rank; i++) {
                kernelSize[i] = threeByThree ? 3 : 1 + r.nextInt(5);
                strides[i] = strided ? 2 : 1;
                dilation[i] = !threeByThree && !strided && r.nextInt(4) == 0 ? 2 : 1;
                spatial[i] = fit(tail(r, 1, 17), (kernelSize[i] - 1) * dilation[i] + 1, padding);
            }
            inputShape = shape(dataFormat, 1 + r.nextInt(2), cin, spatial);
        } else if (family == 3) { // small Cin: 7×7/2-like first layers and long dilated (causal) Conv1D
            rank = 1 + r.nextInt(2);
            dataFormat = format(r);
            groups = 1;
            int cin = 1 + r.nextInt(4);
            filters = tail(r, 1, 33);
            kernelSize = new int[rank];
            strides = new int[rank];
            dilation = new int[rank];
            Padding[] paddings = rank == 1 ? Padding.values() : new Padding[] {Padding.VALID, Padding.SAME};
            padding = paddings[r.nextInt(paddings.length)];
            padsDrawn = padding == Padding.VALID && r.nextBoolean();
            boolean strided = rank == 2 && r.nextBoolean();
            int[] spatial = new int[rank];
            for (int i = 0; i < rank; i++) {
                kernelSize[i] = rank == 1 ? 2 + r.nextInt(4) : 1 + r.nextInt(7);
                strides[i] = strided ? 2 : 1;
                dilation[i] = rank == 1 && r.nextBoolean() ? 2 + r.nextInt(7) : 1;
                spatial[i] = fit(tail(r, 1, rank == 1 ? 70 : 17), (kernelSize[i] - 1) * dilation[i] + 1, padding);
            }
            inputShape = shape(dataFormat, 1 + r.nextInt(2), cin, spatial);
        } else {
            rank = r.nextBoolean() ? 1 : 2;
            dataFormat = format(r);
            int groupKind = r.nextInt(4);
            int cinPerGroup = groupKind == 3 ? 1 : 1 + r.nextInt(5);
            groups = groupKind == 0 || groupKind == 1 ? 1 : groupKind == 2 ? 2 + r.nextInt(2) : 1 + r.nextInt(8);
            int cin = groups * cinPerGroup;
            filters = groups * (1 + r.nextInt(groupKind == 3 ? 2 : 4));
            boolean strided = r.nextInt(3) == 0;
            boolean dilated = !strided && r.nextInt(3) == 0;
            kernelSize = new int[rank];
            strides = new int[rank];
            dilation = new int[rank];
            int[] spatial = new int[rank];
            Padding[] paddings = rank == 1 ? Padding.values() : new Padding[] {Padding.VALID, Padding.SAME};
            padding = paddings[r.nextInt(paddings.length)];
            padsDrawn = padding == Padding.VALID && r.nextBoolean();
            int shapeKind = index % 10; // 0: kernel equals the input, 1: 1×1, 2: output length 1 by stride
            for (int i = 0; i < rank; i++) {
                kernelSize[i] = shapeKind == 1 ? 1 : 1 + r.nextInt(5);
                strides[i] = strided ? 1 + r.nextInt(3) : 1;
                dilation[i] = dilated ? 1 + r.nextInt(3) : 1;
                int effective = (kernelSize[i] - 1) * dilation[i] + 1;
                if (shapeKind == 0) {
                    spatial[i] = effective;
                } else if (shapeKind == 2) {
                    spatial[i] = 1 + r.nextInt(3);
                    strides[i] = strided ? 4 : 1;
                } else {
                    spatial[i] = 1 + r.nextInt(13);
                }
                if (padding == Padding.VALID && spatial[i] < effective) {
                    spatial[i] = effective + r.nextInt(3);
                }
            }
            inputShape = shape(dataFormat, 1 + r.nextInt(3), cin, spatial);
        }
        explicit = padsDrawn ? randomPads(r, rank) : null;
        useBias = r.nextBoolean();
        activation = r.nextBoolean() ? Activation.RELU : Activation.NONE;
        int inCount = 1;
        for (int s : inputShape) {
            inCount *= s;
        }
        int kCount = (inputChannels() / groups) * filters;
        for (int k : kernelSize) {
            kCount *= k;
        }
        DataKind[] kinds = DataKind.values();
        dataKind = r.nextBoolean() ? DataKind.DENSE : kinds[1 + r.nextInt(kinds.length - 1)];
        input = values(r, inCount, dataKind, true);
        if (dataKind == DataKind.POST_RELU) {
            zeroRectangles(r, input, inputShape, dataFormat);
        }
        kernel = values(r, kCount, dataKind, false);
        bias = useBias ? values(r, filters, dataKind == DataKind.MIXED_SIGN ? DataKind.DENSE : dataKind, false) : null;
    }

    /** {@code count} values of a kind; {@code isInput} for the input tensor (post-relu and mixed-sign differ). */
    static float[] values(SplittableRandom r, int count, DataKind kind, boolean isInput) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            float v = (float) (r.nextDouble() * 2 - 1);
            a[i] = switch (kind) {
                case DENSE -> v;
                case SPARSE -> r.nextInt(10) == 0 ? v : 0f;
                case POST_RELU -> isInput ? Math.max(v, 0f) : v;
                case LARGE_RANGE -> (float) Math.copySign(Math.pow(10, r.nextDouble(-3, 3)), v);
                case MIXED_SIGN -> isInput ? 0.75f + v / 64 : (i % 2 == 0 ? 1 : -1) * (0.5f + Math.abs(v) / 2);
            };
        }
        return a;
    }

    /** Zeroes one to three rectangles of whole pixels (every channel), up to half of each spatial size. */
    static void zeroRectangles(SplittableRandom r, float[] input, int[] shape, DataFormat format) {
        boolean last = format == DataFormat.CHANNELS_LAST;
        int rank = shape.length - 2;
        int n = shape[0];
        int c = shape[last ? rank + 1 : 1];
        int h = rank == 2 ? shape[last ? 1 : 2] : 1;
        int w = shape[last ? rank : rank + 1];
        int rectangles = 1 + r.nextInt(3);
        for (int k = 0; k < rectangles; k++) {
            int b = r.nextInt(n);
            int rh = 1 + r.nextInt((h + 1) / 2);
            int rw = 1 + r.nextInt((w + 1) / 2);
            int y0 = r.nextInt(h - rh + 1);
            int x0 = r.nextInt(w - rw + 1);
            for (int y = y0; y < y0 + rh; y++) {
                for (int x = x0; x < x0 + rw; x++) {
                    for (int ch = 0; ch < c; ch++) {
                        input[last ? ((b * h + y) * w + x) * c + ch : ((b * c + ch) * h + y) * w + x] = 0;
                    }
                }
            }
        }
    }

    int inputChannels() {
        return inputShape[dataFormat == DataFormat.CHANNELS_LAST ? rank + 1 : 1];
    }

    private static DataFormat format(SplittableRandom r) {
        return r.nextInt(3) == 0 ? DataFormat.CHANNELS_FIRST : DataFormat.CHANNELS_LAST;
    }

    /** A tail value in [low, high], or a uniform one when the draw misses the range. */
    private static int tail(SplittableRandom r, int low, int high) {
        int v = TAILS[r.nextInt(TAILS.length)];
        return v >= low && v <= high ? v : low + r.nextInt(high - low + 1);
    }

    /** A spatial size that VALID padding (explicit pads or none) can take: at least the dilated kernel. */
    private static int fit(int size, int effectiveKernel, Padding padding) {
        return padding == Padding.VALID ? Math.max(size, effectiveKernel) : size;
    }

    /** Asymmetric pads 0..3 on each side (ZeroPadding + conv, ONNX / PyTorch models). */
    private static ExplicitPadding randomPads(SplittableRandom r, int rank) {
        int[] before = new int[rank];
        int[] after = new int[rank];
        for (int i = 0; i < rank; i++) {
            before[i] = r.nextInt(4);
            after[i] = r.nextInt(4);
        }
        return Padding.explicit(before, after);
    }

    private static int[] shape(DataFormat format, int n, int cin, int... spatial) {
        int rank = spatial.length;
        int[] shape = new int[rank + 2];
        boolean last = format == DataFormat.CHANNELS_LAST;
        shape[0] = n;
        shape[last ? rank + 1 : 1] = cin;
        System.arraycopy(spatial, 0, shape, last ? 1 : 2, rank);
        return shape;
    }

    /** {@code count} values uniform in [-1, 1). */
    static float[] values(SplittableRandom r, int count) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    ConvLayer.Builder builder() {
        ConvLayer.Builder b = ConvLayer.builder(rank).filters(filters).kernelSize(kernelSize).strides(strides)
                .dilationRate(dilation).padding(padding).groups(groups).useBias(useBias)
                .activation(activation).dataFormat(dataFormat);
        return explicit == null ? b : b.padding(explicit);
    }

    ConvConfig config() {
        return builder().config();
    }

    ConvGeometry geometry() {
        return ConvGeometry.of(config(), inputShape);
    }

    ConvLayer layer(Backend backend, Algorithm algorithm) {
        ConvLayer layer = builder().backend(backend).algorithm(algorithm).build();
        layer.setWeights(kernel, bias);
        return layer;
    }

    @Override
    public String toString() {
        return "rank=" + rank + " filters=" + filters + " kernel=" + Arrays.toString(kernelSize) + " strides="
                + Arrays.toString(strides) + " dilation=" + Arrays.toString(dilation)
                + " padding=" + (explicit == null ? padding : explicit)
                + " groups=" + groups + " bias=" + useBias + " act=" + activation + " " + dataFormat + " input="
                + Arrays.toString(inputShape) + " data=" + dataKind;
    }
}

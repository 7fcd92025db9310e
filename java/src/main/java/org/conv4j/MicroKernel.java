package org.conv4j;

/**
 * The inner loop of {@link JavaConvolution}: {@link #rows()} output pixels × {@link #width()}
 * output channels, summed over k of a packed patch ({@code patch[row·k + i]}) and packed weights
 * (weight row i holds {@code width} channels), written to {@code acc[row][channel]}. Each output
 * sums its k products in order from +0, in float: the same bits whatever the tiling or threads.
 */
interface MicroKernel {
    int rows();

    int width();

    /** A short name for reports: {@code scalar} or {@code vector-256}. */
    String name();

    /** The kernel's own form of weights packed as {@code [row][width]} in one array. */
    Object pack(float[] packed);

    /** Sums {@code k} weight rows from {@code weightRow} of {@code weights} (from {@link #pack}). */
    void run(float[] patch, int patchOffset, int k, Object weights, int weightRow, float[][] acc);

    /** {@code acc[i] += x[xOffset + i] · w[wOffset + i]} for i below n: one depthwise tap over channels. */
    void multiplyAdd(float[] acc, float[] x, int xOffset, float[] w, int wOffset, int n);

    /**
     * {@code out[outOffset + i] = act(acc[i] + bias[biasOffset + i])} for i below n (no bias when
     * null); relu maps v < 0 to +0 and keeps NaN and -0, as the reference does.
     */
    void finish(float[] acc, float[] bias, int biasOffset, boolean relu, float[] out, int outOffset, int n);

    /**
     * Plain Java that C2 vectorizes over channels. Each weight row is its own array and each
     * pixel its own accumulator array, all indexed by the same {@code c}: C2 in JDK 17 does not
     * vectorize a loop whose arrays might overlap at different offsets, and this shape rules that
     * out. Multiply then add, not Math.fma: without FMA hardware Math.fma is a slow software path.
     */
    final class Scalar implements MicroKernel {
        static final int ROWS = 4;
        private final int width; // a field, not a constant: C2 fully unrolls short constant loops, unvectorized

        Scalar() {
            this(32);
        }

        Scalar(int width) {
            this.width = width;
        }

        @Override
        public int rows() {
            return ROWS;
        }

        @Override
        public int width() {
            return width;
        }

        @Override
        public String name() {
            return "scalar";
        }

        @Override
        public Object pack(float[] packed) {
            float[][] rows = new float[packed.length / width][];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = java.util.Arrays.copyOfRange(packed, i * width, (i + 1) * width);
            }
            return rows;
        }

        @Override
        public void finish(float[] acc, float[] bias, int biasOffset, boolean relu, float[] out, int outOffset,
                           int n) {
            for (int i = 0; i < n; i++) {
                float v = bias == null ? acc[i] : acc[i] + bias[biasOffset + i];
                out[outOffset + i] = relu && v < 0 ? 0f : v;
            }
        }

        @Override
        public void multiplyAdd(float[] acc, float[] x, int xOffset, float[] w, int wOffset, int n) {
            for (int i = 0; i < n; i++) {
                acc[i] += x[xOffset + i] * w[wOffset + i];
            }
        }

        @Override
        public void run(float[] patch, int patchOffset, int k, Object weights, int weightRow, float[][] acc) {
            float[][] w = (float[][]) weights;
            int width = this.width;
            float[] a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
            java.util.Arrays.fill(a0, 0, width, 0f);
            java.util.Arrays.fill(a1, 0, width, 0f);
            java.util.Arrays.fill(a2, 0, width, 0f);
            java.util.Arrays.fill(a3, 0, width, 0f);
            int p0 = patchOffset, p1 = p0 + k, p2 = p1 + k, p3 = p2 + k;
            for (int i = 0; i < k; i++) {
                float[] wi = w[weightRow + i];
                float x0 = patch[p0 + i], x1 = patch[p1 + i], x2 = patch[p2 + i], x3 = patch[p3 + i];
                for (int c = 0; c < width; c++) {
                    float wc = wi[c];
                    a0[c] += x0 * wc;
                    a1[c] += x1 * wc;
                    a2[c] += x2 * wc;
                    a3[c] += x3 * wc;
                }
            }
        }
    }
}

package org.conv4j;

/**
 * The inner loop of {@link JavaConvolution}: {@link #rows()} output pixels × {@link #width()}
 * output channels, summed over k of a packed patch ({@code patch[row·k + i]}) and packed weights
 * ({@code weights[i·width + channel]}), written to {@code acc[row·width + channel]}. Each output
 * sums its k products in order from +0, in float: the same bits whatever the tiling or threads.
 */
interface MicroKernel {
    int rows();

    int width();

    /** A short name for reports: {@code scalar} or {@code vector-256}. */
    String name();

    void run(float[] patch, int patchOffset, int k, float[] weights, int weightOffset, float[] acc);

    /**
     * Plain Java the JIT vectorizes over channels (the inner loop), with the accumulators in a
     * small array that stays in L1. Multiply then add, not Math.fma: without FMA hardware
     * Math.fma falls back to a very slow software path.
     */
    final class Scalar implements MicroKernel {
        static final int ROWS = 4;
        // An instance field, not a constant: C2 fully unrolls loops of small constant trip
        // count, and a fully unrolled loop is no longer vectorized by SuperWord.
        private final int width;

        Scalar() {
            this(Integer.getInteger("conv4j.java.scalarWidth", 64));
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
        public void run(float[] patch, int patchOffset, int k, float[] weights, int weightOffset, float[] acc) {
            int width = this.width;
            java.util.Arrays.fill(acc, 0, ROWS * width, 0f);
            for (int i = 0; i < k; i++) {
                int w = weightOffset + i * width;
                for (int r = 0; r < ROWS; r++) {
                    float x = patch[patchOffset + r * k + i];
                    int a = r * width;
                    for (int c = 0; c < width; c++) {
                        acc[a + c] += x * weights[w + c];
                    }
                }
            }
        }
    }
}

package org.conv4j.keras;

import java.util.Arrays;

/** Shape arithmetic with overflow checks: sample shapes never include the batch axis. */
final class Shapes {
    /** Largest size accepted for one axis, and for the elements of one sample. */
    static final int MAX_DIM = 1 << 24;
    static final int MAX_SAMPLE = 1 << 28;

    private Shapes() {
    }

    static int count(int[] shape, String what) throws KerasModelException {
        long n = 1;
        for (int d : shape) {
            n *= d;
            if (n > MAX_SAMPLE) {
                throw new KerasModelException(what + ": shape " + text(shape) + " has more than " + MAX_SAMPLE
                        + " elements per sample");
            }
        }
        return (int) n;
    }

    static long countLong(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n = ConvMath.saturatedProduct(n, d);
        }
        return n;
    }

    /** Keras' printing: (None, 6, 6, 4). */
    static String text(int[] sample) {
        StringBuilder sb = new StringBuilder("(None");
        for (int d : sample) {
            sb.append(", ").append(d);
        }
        return sb.append(')').toString();
    }

    static String plain(int[] shape) {
        return Arrays.toString(shape);
    }

    /** Product helpers that saturate instead of overflowing. */
    static final class ConvMath {
        private ConvMath() {
        }

        static long saturatedProduct(long a, long b) {
            try {
                return Math.multiplyExact(a, b);
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }
    }
}

package org.conv4j.cli.npy;

import java.util.Arrays;

/** A C-order float32 array with its shape, as stored in a .npy file. */
public final class NpyArray {
    private final float[] data;
    private final int[] shape;

    /** Keeps {@code data} without copying (arrays can be large); {@code shape} is copied. */
    public NpyArray(float[] data, int... shape) {
        long count = elementCount(shape);
        if (count != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count
                    + " elements but the data has " + data.length);
        }
        this.data = data;
        this.shape = shape.clone();
    }

    /** The product of the dimensions (1 for a 0-d array); dimensions must be non-negative. */
    public static long elementCount(int... shape) {
        long count = 1;
        for (int dim : shape) {
            if (dim < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, (long) dim);
        }
        return count;
    }

    /** The backing array, not a copy. */
    public float[] data() {
        return data;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int ndim() {
        return shape.length;
    }

    public int dim(int axis) {
        return shape[axis];
    }

    @Override
    public String toString() {
        return "NpyArray" + Arrays.toString(shape);
    }
}

package org.conv4j;

import java.util.Arrays;

/**
 * Explicit pads per spatial axis, from {@link Padding#explicit(int[], int[])}. Immutable and
 * thread-safe.
 */
public final class ExplicitPadding {
    private final int[] before;
    private final int[] after;

    ExplicitPadding(int[] before, int[] after) {
        if (before == null || after == null) {
            throw new IllegalArgumentException("explicit padding needs pads before and after, got before="
                    + Arrays.toString(before) + ", after=" + Arrays.toString(after));
        }
        if (before.length != after.length || before.length < 1 || before.length > 3) {
            throw new IllegalArgumentException("explicit padding needs one pad before and one after per spatial axis"
                    + " (1 to 3 axes), got before=" + Arrays.toString(before) + ", after=" + Arrays.toString(after));
        }
        for (int i = 0; i < before.length; i++) {
            if (before[i] < 0 || after[i] < 0) {
                throw new IllegalArgumentException("explicit pads must be >= 0, got before=" + Arrays.toString(before)
                        + ", after=" + Arrays.toString(after));
            }
        }
        this.before = before.clone();
        this.after = after.clone();
    }

    /** Number of spatial axes. */
    public int rank() { return before.length; }
    public int[] before() { return before.clone(); }
    public int[] after() { return after.clone(); }
    int before(int i) { return before[i]; }
    int after(int i) { return after[i]; }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExplicitPadding p && Arrays.equals(before, p.before) && Arrays.equals(after, p.after);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(before) + Arrays.hashCode(after);
    }

    @Override
    public String toString() {
        return "explicit(before=" + Arrays.toString(before) + ", after=" + Arrays.toString(after) + ")";
    }
}

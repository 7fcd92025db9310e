package org.conv4j;

import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.internal.Conv4jNative;

/**
 * A trainer's master weights, gradients and optimizer state in native memory: every parameter
 * (a layer's kernel or bias, a "slot") lives at its offset in one buffer per role, so one
 * {@code conv4j_sgd_step} / {@code conv4j_adam_step} call updates all of them (the update is
 * element-wise). The per-slot views are made once, so a steady-state {@link #step} allocates
 * nothing on the Java heap. Owns its native memory: {@link #close} frees it (idempotent); use
 * after close throws {@link IllegalStateException}. Not thread-safe: one trainer thread uses it.
 */
final class NativeOptimizerState implements AutoCloseable {
    private final Optimizer optimizer;
    private final long total;
    private final int[] sizes;
    private final long[] offsets;
    private FloatPointer master;
    private FloatPointer gradient;
    private FloatPointer state0; // null when the optimizer needs no state
    private FloatPointer state1;
    private final FloatPointer[] masterViews;
    private final FloatPointer[] gradientViews;

    /** Zeroed buffers for parameters of {@code sizes} floats each (>= 0); the state zeroed, as Keras starts it. */
    NativeOptimizerState(Optimizer optimizer, int[] sizes) {
        if (optimizer == null || sizes == null) {
            throw new IllegalArgumentException("optimizer and sizes must not be null");
        }
        this.optimizer = optimizer;
        this.sizes = sizes.clone();
        offsets = new long[sizes.length];
        long sum = 0;
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] < 0) {
                throw new IllegalArgumentException("parameter " + i + " has " + sizes[i] + " floats, must be >= 0");
            }
            offsets[i] = sum;
            sum += sizes[i];
        }
        total = sum;
        long n = Math.max(total, 1); // a 0-float FloatPointer is a null pointer
        int arrays = optimizer.stateArrays();
        try {
            master = zeroed(n);
            gradient = zeroed(n);
            state0 = arrays >= 1 ? zeroed(n) : null;
            state1 = arrays >= 2 ? zeroed(n) : null;
        } catch (RuntimeException | OutOfMemoryError e) {
            close();
            throw e;
        }
        masterViews = new FloatPointer[sizes.length];
        gradientViews = new FloatPointer[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            masterViews[i] = view(master, offsets[i], sizes[i]);
            gradientViews[i] = view(gradient, offsets[i], sizes[i]);
        }
    }

    private static FloatPointer zeroed(long n) {
        FloatPointer p = new FloatPointer(n);
        if (p.isNull()) {
            throw new OutOfMemoryError("conv4j: cannot allocate " + n + " floats of native optimizer memory");
        }
        p.zero();
        return p;
    }

    /** A pointer at {@code offset} floats into {@code base} with {@code count} floats left (no copy). */
    private static FloatPointer view(FloatPointer base, long offset, int count) {
        FloatPointer v = new FloatPointer(base);
        v.position(offset).limit(offset + count).capacity(offset + count);
        return v;
    }

    int slots() {
        return sizes.length;
    }

    /** Parameter {@code slot}'s master weights (position at its first float, limit past its last). */
    FloatPointer master(int slot) {
        requireOpen();
        return masterViews[slot];
    }

    /** Where the caller writes parameter {@code slot}'s gradient before {@link #step}. */
    FloatPointer gradient(int slot) {
        requireOpen();
        return gradientViews[slot];
    }

    /** Copies {@code values} (exactly the slot's size) into the slot's master weights. */
    void setMaster(int slot, float[] values) {
        requireOpen();
        requireSize(slot, values);
        master.position(offsets[slot]).put(values, 0, values.length);
        master.position(0);
    }

    /** Copies the slot's master weights into {@code out} (exactly the slot's size). */
    void getMaster(int slot, float[] out) {
        requireOpen();
        requireSize(slot, out);
        master.position(offsets[slot]).get(out, 0, out.length);
        master.position(0);
    }

    /** Copies {@code values} (exactly the slot's size) into the slot's gradient. */
    void setGradient(int slot, float[] values) {
        requireOpen();
        requireSize(slot, values);
        gradient.position(offsets[slot]).put(values, 0, values.length);
        gradient.position(0);
    }

    /** One optimizer step over every slot at step {@code t} (from 1), on up to {@code threads} OpenMP threads. */
    void step(long t, int threads) {
        requireOpen();
        if (t < 1) {
            throw new IllegalArgumentException("step must be >= 1, got " + t);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
        }
        int status = optimizer.nativeStep(master, state0, state1, gradient, total, t, threads);
        if (status != 0) {
            throw new IllegalStateException("conv4j: " + optimizer + " step " + t + " failed: "
                    + Conv4jNative.conv4j_status_string(status));
        }
    }

    private void requireSize(int slot, float[] values) {
        if (values == null || values.length != sizes[slot]) {
            throw new IllegalArgumentException("parameter " + slot + " has " + sizes[slot] + " floats, got "
                    + (values == null ? "null" : values.length));
        }
    }

    private void requireOpen() {
        if (master == null) {
            throw new IllegalStateException("conv4j: the trainer's native optimizer state was closed");
        }
    }

    @Override
    public void close() {
        for (FloatPointer p : new FloatPointer[] {master, gradient, state0, state1}) {
            if (p != null) {
                p.deallocate();
            }
        }
        master = gradient = state0 = state1 = null;
    }
}

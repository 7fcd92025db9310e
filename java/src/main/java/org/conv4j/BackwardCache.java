package org.conv4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A native layer's backward passes ({@link NativeBackward}), one per input shape, the last
 * {@value #CAPACITY} kept, for one set of weights. A call takes a {@link Lease} and releases it; a
 * {@link NativeBackward} is closed once the cache has dropped it (eviction or {@link #close}) and
 * the last lease on it is released, so replacing the weights never frees plans a running call uses.
 */
final class BackwardCache {
    static final int CAPACITY = 4;

    private final float[] kernel; // the weights' own copy, never modified
    private final ArrayList<Lease> entries = new ArrayList<>(); // most recently used first
    private boolean closed;

    BackwardCache(float[] kernel) {
        this.kernel = kernel;
    }

    /** The passes of one shape with a reference count (the cache's own counts as one). */
    static final class Lease {
        final NativeBackward passes;
        private final int[] shape;
        private int references = 1;

        private Lease(NativeBackward passes, int[] shape) {
            this.passes = passes;
            this.shape = shape.clone();
        }

        /** Ends the caller's use; the last release closes the passes. */
        void release() {
            boolean last;
            synchronized (this) {
                last = --references == 0;
            }
            if (last) {
                passes.close();
            }
        }
    }

    /** The passes for geometry {@code g} (shape {n, h, w, c}), leased; null when the cache was closed. */
    Lease acquire(ConvGeometry g, int[] shape) {
        Lease lease = null;
        Lease evicted = null;
        synchronized (this) {
            if (closed) {
                return null;
            }
            for (int i = 0; i < entries.size(); i++) { // no iterator: a steady-state call allocates nothing
                Lease l = entries.get(i);
                if (Arrays.equals(l.shape, shape)) {
                    lease = l;
                    if (i > 0) {
                        entries.remove(i);
                        entries.add(0, l);
                    }
                    break;
                }
            }
            if (lease == null) {
                lease = new Lease(NativeBackward.create(g, kernel), shape);
                entries.add(0, lease);
                if (entries.size() > CAPACITY) {
                    evicted = entries.remove(entries.size() - 1);
                }
            }
            synchronized (lease) {
                lease.references++;
            }
        }
        if (evicted != null) {
            evicted.release();
        }
        return lease;
    }

    /** Drops every entry; passes still leased close when their calls release them. Idempotent. */
    void close() {
        List<Lease> dropped;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            dropped = new ArrayList<>(entries);
            entries.clear();
        }
        dropped.forEach(Lease::release);
    }
}

package org.conv4j;

/**
 * A layer's geometries and native plans for the input shapes it has seen, for one set of weights.
 * The hot path (the same shape as last time) takes no lock and allocates nothing; a new shape
 * builds its entry under the lock. At most {@value #CAPACITY} entries are kept, oldest out first.
 * With the native backend the weights are one {@link NativeWeights}, packed once and shared by
 * every entry's plan; closing the cache drops its reference to them, once.
 */
final class PlanCache {
    static final int CAPACITY = 8;

    interface EntryFactory {
        /** Called under the cache's lock; {@code weights} is null for the Java backend. */
        Entry create(int n, int d, int h, int w, int c, float[] kernel, NativeWeights weights);
    }

    /** One input shape: its geometry and its native plan or the layer's Java convolution. */
    static final class Entry {
        final int n, d, h, w, c;
        final ConvGeometry geometry;
        final NativePlan plan; // null for the Java backend
        final JavaConvolution java; // null for the native backend

        Entry(int n, int d, int h, int w, int c, ConvGeometry geometry, NativePlan plan, JavaConvolution java) {
            this.n = n;
            this.d = d;
            this.h = h;
            this.w = w;
            this.c = c;
            this.geometry = geometry;
            this.plan = plan;
            this.java = java;
        }

        boolean matches(int n, int d, int h, int w, int c) {
            return this.n == n && this.d == d && this.h == h && this.w == w && this.c == c;
        }

        boolean acquire() {
            return plan == null || plan.acquire();
        }

        /** Ends one call's use of the entry. */
        void release() {
            if (plan != null) {
                plan.release();
            }
        }
    }

    private final EntryFactory factory;
    private final float[] kernel;
    private final NativeWeights weights; // null for the Java backend
    private final Entry[] entries = new Entry[CAPACITY]; // guarded by this
    private int nextSlot; // guarded by this
    private boolean closed; // guarded by this
    private volatile Entry last;

    /** {@code weights}: the native weights of {@code kernel}, owned by the cache from now on; null for Java. */
    PlanCache(EntryFactory factory, float[] kernel, NativeWeights weights) {
        this.factory = factory;
        this.kernel = kernel;
        this.weights = weights;
    }

    /** How many times the native weights were packed; 0 before the first plan, -1 for the Java backend. */
    synchronized long nativePackCount() {
        return weights == null ? -1 : weights.packCount();
    }

    /** The native weights (tests); null for the Java backend. */
    NativeWeights nativeWeights() {
        return weights;
    }

    /**
     * The entry for a shape, acquired for one call (release it when done); null when the cache
     * was closed meanwhile. Building an entry validates the shape and may throw.
     */
    Entry acquire(int n, int d, int h, int w, int c) {
        Entry e = last;
        if (e != null && e.matches(n, d, h, w, c) && e.acquire()) {
            return e;
        }
        synchronized (this) {
            if (closed) {
                return null;
            }
            for (Entry candidate : entries) {
                if (candidate != null && candidate.matches(n, d, h, w, c) && candidate.acquire()) {
                    last = candidate;
                    return candidate;
                }
            }
            Entry created = factory.create(n, d, h, w, c, kernel, weights);
            Entry evicted = entries[nextSlot];
            entries[nextSlot] = created;
            nextSlot = (nextSlot + 1) % CAPACITY;
            if (evicted != null) {
                evicted.release(); // the cache's own reference; running calls hold theirs
            }
            created.acquire();
            last = created;
            return created;
        }
    }

    /**
     * Drops the cache's references, the entries' then the native weights': each plan is freed when
     * its last running call returns, and the weights with the last plan made from them.
     */
    synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        last = null;
        for (int i = 0; i < entries.length; i++) {
            if (entries[i] != null) {
                entries[i].release();
                entries[i] = null;
            }
        }
        if (weights != null) {
            weights.destroy();
        }
    }
}

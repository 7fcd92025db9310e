package org.conv4j;

import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.FloatPointer;

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

        /** Ends the caller's use; the last release closes the passes and frees the scratch. */
        void release() {
            List<Scratch> free = null;
            synchronized (this) {
                if (--references == 0) {
                    free = new ArrayList<>(scratch);
                    scratch.clear();
                }
            }
            if (free != null) {
                passes.close();
                free.forEach(Scratch::free);
            }
        }

        private final ArrayDeque<Scratch> scratch = new ArrayDeque<>(); // guarded by this

        /** Native buffers for one pointer call (relu's forward output, masked dy, an unwanted dW). */
        Scratch takeScratch() {
            synchronized (this) {
                Scratch s = scratch.pollFirst();
                if (s != null) {
                    return s;
                }
            }
            return new Scratch(passes.geometry());
        }

        /** Returns buffers taken by {@link #takeScratch}; the caller still holds its lease. */
        void giveScratch(Scratch s) {
            synchronized (this) {
                scratch.addFirst(s);
            }
        }
    }

    /** Native scratch of one shape, owned by a {@link Lease}, freed with it. */
    static final class Scratch {
        final FloatPointer output;
        final FloatPointer maskedGradient;
        final FloatPointer kernelGradient;
        final FloatBuffer outputView;
        final FloatBuffer maskedView;

        Scratch(ConvGeometry g) {
            FloatPointer[] p = new FloatPointer[3];
            try {
                p[0] = new FloatPointer(g.outputCount());
                p[1] = new FloatPointer(g.outputCount());
                p[2] = new FloatPointer(g.kernelCount());
            } catch (RuntimeException | OutOfMemoryError e) {
                for (FloatPointer q : p) {
                    if (q != null) {
                        q.deallocate();
                    }
                }
                throw e;
            }
            output = p[0];
            maskedGradient = p[1];
            kernelGradient = p[2];
            outputView = output.asBuffer();
            maskedView = maskedGradient.asBuffer();
        }

        void free() {
            output.deallocate();
            maskedGradient.deallocate();
            kernelGradient.deallocate();
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

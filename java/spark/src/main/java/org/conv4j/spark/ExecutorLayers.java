package org.conv4j.spark;

import java.util.HashMap;
import java.util.Map;
import org.conv4j.ConvLayer;

/**
 * The executor JVM's native layers, built from broadcast {@link ConvStack}s. With
 * {@link LayerReuse#EXECUTOR}, tasks that run at the same time share one set of layers per stack
 * and thread count (conv4j layers are safe to share: {@code predict} runs concurrently without
 * locks); the set is reference-counted and closed when the last lease is released, which the
 * partition function does from a task-completion listener, so native memory never waits for the
 * garbage collector. With {@link LayerReuse#PARTITION} every lease builds and closes its own set.
 *
 * <p>Thread-safe. Building a set is cheap (the native plan is made on the first call, and
 * packing weights takes microseconds to a few milliseconds), so the lock is held while building.
 */
public final class ExecutorLayers {
    private ExecutorLayers() {}

    private record Key(String stackId, int threads) {}

    private static final class Shared {
        final ConvLayer[] layers;
        int leases;

        Shared(ConvLayer[] layers) {
            this.layers = layers;
        }
    }

    private static final Object LOCK = new Object();
    private static final Map<Key, Shared> SHARED = new HashMap<>();
    private static long layersCreated;
    private static long layersClosed;
    private static long leasesTaken;

    /** Counters of this JVM since it started: layers built and closed, leases taken (one per partition). */
    public record Stats(long layersCreated, long layersClosed, long leasesTaken) {
        /** Layers built and not yet closed. */
        public long layersOpen() {
            return layersCreated - layersClosed;
        }
    }

    /** A snapshot of the counters (for tests and monitoring). */
    public static Stats stats() {
        synchronized (LOCK) {
            return new Stats(layersCreated, layersClosed, leasesTaken);
        }
    }

    /**
     * The layers of {@code stack} for one task. Release the lease exactly when the task is done with
     * them; releasing twice is harmless.
     */
    public static Lease acquire(ConvStack stack, int threads, LayerReuse reuse) {
        synchronized (LOCK) {
            leasesTaken++;
            if (reuse == LayerReuse.PARTITION) {
                ConvLayer[] layers = stack.build(threads);
                layersCreated += layers.length;
                return new Lease(null, layers);
            }
            Key key = new Key(stack.id(), threads);
            Shared s = SHARED.get(key);
            if (s == null) {
                s = new Shared(stack.build(threads));
                layersCreated += s.layers.length;
                SHARED.put(key, s);
            }
            s.leases++;
            return new Lease(key, s.layers);
        }
    }

    private static void release(Key key, ConvLayer[] layers) {
        synchronized (LOCK) {
            if (key != null) {
                Shared s = SHARED.get(key);
                if (--s.leases > 0) {
                    return;
                }
                SHARED.remove(key);
            }
            for (ConvLayer l : layers) {
                l.close(); // calls still running on another thread finish first (ConvLayer's contract)
            }
            layersClosed += layers.length;
        }
    }

    /** One task's use of a set of layers. */
    public static final class Lease implements AutoCloseable {
        private final Key key;
        private final ConvLayer[] layers;
        private boolean released;

        private Lease(Key key, ConvLayer[] layers) {
            this.key = key;
            this.layers = layers;
        }

        /** The layers, in order; valid until {@link #close()}. */
        public ConvLayer[] layers() {
            return layers;
        }

        /** Releases this lease; the layers close when no other lease holds them. Idempotent. */
        @Override
        public void close() {
            synchronized (LOCK) {
                if (released) {
                    return;
                }
                released = true;
            }
            release(key, layers);
        }
    }
}

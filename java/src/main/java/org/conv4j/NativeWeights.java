package org.conv4j;

import org.conv4j.internal.Conv4jNative;
import org.conv4j.internal.Conv4jNative.ConvDesc;

/**
 * A layer's native {@code conv4j_weights} for one set of weights (one {@link PlanCache}): created
 * lazily from the first input shape's descriptor, then every per-shape {@link NativePlan} is made
 * from it, so the weights are packed once per algorithm, not once per shape. The plans hold their
 * own native references; {@link #destroy()} drops this object's one, once, when the cache closes.
 */
final class NativeWeights {
    private final float[] kernel;
    private final float[] bias;
    private Conv4jNative.Weights handle; // guarded by this; null until the first plan, and after destroy
    private boolean destroyed; // guarded by this

    NativeWeights(float[] kernel, float[] bias) {
        this.kernel = kernel;
        this.bias = bias;
    }

    /**
     * The native weights, created from {@code desc} (validated, only its kernel tensor is kept) on
     * the first call; {@code g} is the shape being planned, named in a failure.
     */
    synchronized Conv4jNative.Weights handle(ConvDesc desc, ConvGeometry g) {
        if (destroyed) {
            throw new IllegalStateException("conv4j: the layer's native weights were already released, creating"
                    + " a plan for " + g);
        }
        if (handle == null) {
            Conv4jNative.Weights created = new Conv4jNative.Weights();
            int status = Conv4jNative.conv4j_weights_create(desc, kernel, bias, created);
            if (status != 0 || created.isNull()) {
                throw NativePlan.failure(status, "creating a plan for " + g);
            }
            handle = created;
        }
        return handle;
    }

    /** True when a weight is NaN or ±Inf (some algorithms refuse such weights). */
    boolean nonFinite() {
        for (float v : kernel) {
            if (!Float.isFinite(v)) {
                return true;
            }
        }
        return false;
    }

    /** How many times the native weights were packed (once per algorithm used); 0 before the first plan. */
    synchronized long packCount() {
        return handle == null ? 0 : Conv4jNative.conv4j_weights_pack_count(handle);
    }

    synchronized boolean destroyed() {
        return destroyed;
    }

    /** Drops this object's native reference; plans made from it keep theirs. Idempotent. */
    synchronized void destroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        if (handle != null) {
            Conv4jNative.conv4j_weights_destroy(handle);
            handle.setNull();
            handle = null;
        }
    }
}

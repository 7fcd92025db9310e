package org.conv4j;

import java.nio.FloatBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.internal.Conv4jNative;
import org.conv4j.internal.Conv4jNative.ConvDesc;

/**
 * One native {@code conv4j_plan}: a geometry with its packed weights. Reference counted so that a
 * plan evicted from a layer's cache, or dropped by {@code close()} or {@code setWeights}, is freed
 * only after the last call running on it returns. Callers have validated every buffer.
 */
final class NativePlan {
    private final Conv4jNative.Plan handle;
    private final AtomicInteger references = new AtomicInteger(1); // the creator's (the cache's) reference
    private final String algorithm;
    private final String explanation;

    private NativePlan(Conv4jNative.Plan handle) {
        this.handle = handle;
        this.algorithm = Conv4jNative.conv4j_algorithm_name(Conv4jNative.conv4j_plan_algorithm(handle));
        this.explanation = Conv4jNative.conv4j_plan_explain(handle);
    }

    /**
     * Flag bits added to every plan created from now on; tests set {@link Conv4jNative#FLAG_FULL_TEAM}
     * so that small calls really run on the requested thread count. 0 in normal use.
     */
    static volatile int extraFlags;

    static NativePlan create(ConvGeometry g, float[] kernel, float[] bias) {
        Conv4j.requireNative();
        try (ConvDesc d = new ConvDesc()) {
            boolean rank2 = g.rank() == 2;
            d.rank(g.rank()).batch(g.batch()).inChannels(g.inChannels()).outChannels(g.outChannels())
                    .groups(g.groups())
                    .layout(g.config().dataFormat() == DataFormat.CHANNELS_LAST ? 0 : 1)
                    .activation(g.config().activation() == Activation.RELU ? 1 : 0)
                    .algorithm(g.config().algorithm().code())
                    .flags((g.config().winograd() ? Conv4jNative.FLAG_ALLOW_WINOGRAD : 0) | extraFlags);
            // Rank 1 uses index 0 only; the geometry stores it on the width axis.
            int w = rank2 ? 1 : 0;
            if (rank2) {
                d.inSize(0, g.inHeight()).kernel(0, g.kernelHeight()).stride(0, g.strideHeight())
                        .dilation(0, g.dilationHeight()).padBefore(0, g.padTop()).padAfter(0, g.padBottom());
            }
            d.inSize(w, g.inWidth()).kernel(w, g.kernelWidth()).stride(w, g.strideWidth())
                    .dilation(w, g.dilationWidth()).padBefore(w, g.padLeft()).padAfter(w, g.padRight());
            Conv4jNative.Plan handle = new Conv4jNative.Plan();
            int status = Conv4jNative.conv4j_plan_create(d, kernel, bias, handle);
            if (status != 0 || handle.isNull()) {
                throw failure(status, "creating a plan for " + g);
            }
            return new NativePlan(handle);
        }
    }

    /** Takes a reference for one call; false when the plan is already freed. */
    boolean acquire() {
        for (;;) {
            int n = references.get();
            if (n == 0) {
                return false;
            }
            if (references.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; the last one frees the native plan. */
    void release() {
        if (references.decrementAndGet() == 0) {
            Conv4jNative.conv4j_plan_destroy(handle);
            handle.setNull();
        }
    }

    String algorithm() {
        return algorithm;
    }

    String explanation() {
        return explanation;
    }

    void execute(float[] input, float[] output, int threads) {
        check(Conv4jNative.conv4j_plan_execute(handle, input, output, null, 0, threads));
    }

    void execute(FloatBuffer input, FloatBuffer output, int threads) {
        check(Conv4jNative.conv4j_plan_execute(handle, input, output, null, 0, threads));
    }

    void execute(FloatPointer input, FloatPointer output, int threads) {
        check(Conv4jNative.conv4j_plan_execute(handle, input, output, null, 0, threads));
    }

    private static void check(int status) {
        if (status != 0) {
            throw failure(status, "executing a plan");
        }
    }

    private static RuntimeException failure(int status, String doing) {
        String what = Conv4jNative.conv4j_status_string(status);
        if (status == 17) { // CONV4J_ERR_OUT_OF_MEMORY
            throw new OutOfMemoryError("conv4j: native memory exhausted " + doing + ": " + what);
        }
        if (status == 1) { // CONV4J_ERR_NULL_POINTER
            // Java never passes null: JNI returns null when it cannot copy (or pin) a Java array
            // into native memory, so this is an allocation failure too.
            throw new OutOfMemoryError("conv4j: native memory exhausted " + doing
                    + ": the JVM could not make a Java array available to native code");
        }
        if (status == 14) { // CONV4J_ERR_UNSUPPORTED: only a forced algorithm can be refused
            return new IllegalArgumentException("conv4j: the requested algorithm does not accept this problem ("
                    + what + ") " + doing);
        }
        // Java validates first (flags included: Java sets only known bits, so status 18,
        // CONV4J_ERR_INVALID_FLAGS, cannot come back), so this means the two sides disagree.
        return new IllegalStateException("conv4j: native status " + status + " (" + what + ") " + doing);
    }
}

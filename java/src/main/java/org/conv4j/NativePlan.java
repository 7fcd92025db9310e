package org.conv4j;

import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.internal.Conv4jNative;
import org.conv4j.internal.Conv4jNative.ConvDesc;
import org.conv4j.internal.NativeStatus;

/**
 * One native {@code conv4j_plan}: a geometry over the layer's {@link NativeWeights} (the plan holds
 * a native reference to them, so their packing outlives the cache's). Reference counted so that a
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

    /** A light plan for {@code g} over {@code weights}, which are created (and packed) on first use. */
    static NativePlan create(ConvGeometry g, NativeWeights weights) {
        Conv4j.requireNative();
        try (ConvDesc d = describe(new ConvDesc(), g)) {
            Conv4jNative.Weights shared = weights.handle(d, g);
            Conv4jNative.Plan handle = new Conv4jNative.Plan();
            int status = Conv4jNative.conv4j_plan_create_with_weights(d, shared, handle);
            if (status == NativeStatus.ERR_UNSUPPORTED.code()) {
                throw refusal(d, g, weights);
            }
            if (status != NativeStatus.OK.code() || handle.isNull()) {
                throw failure(status, "creating a plan for " + g);
            }
            return new NativePlan(handle);
        }
    }

    /** Fills {@code d} with the forward convolution of {@code g} (propagation forward) and returns it. */
    static ConvDesc describe(ConvDesc d, ConvGeometry g) {
        boolean rank2 = g.rank() == 2;
        d.rank(g.rank()).batch(g.batch()).inChannels(g.inChannels()).outChannels(g.outChannels())
                .groups(g.groups())
                .layout(g.config().dataFormat() == DataFormat.CHANNELS_LAST
                        ? Conv4jNative.LAYOUT_CHANNELS_LAST : Conv4jNative.LAYOUT_CHANNELS_FIRST)
                .activation(g.config().activation() == Activation.RELU
                        ? Conv4jNative.ACTIVATION_RELU : Conv4jNative.ACTIVATION_NONE)
                .algorithm(g.config().algorithm().code())
                .flags((g.config().winograd() ? Conv4jNative.FLAG_ALLOW_WINOGRAD : 0) | extraFlags)
                .propagation(Conv4jNative.PROPAGATION_FORWARD);
        // Rank 1 uses index 0 only; the geometry stores it on the width axis.
        int w = rank2 ? 1 : 0;
        if (rank2) {
            d.inSize(0, g.inHeight()).kernel(0, g.kernelHeight()).stride(0, g.strideHeight())
                    .dilation(0, g.dilationHeight()).padBefore(0, g.padTop()).padAfter(0, g.padBottom());
        }
        d.inSize(w, g.inWidth()).kernel(w, g.kernelWidth()).stride(w, g.strideWidth())
                .dilation(w, g.dilationWidth()).padBefore(w, g.padLeft()).padAfter(w, g.padRight());
        return d;
    }

    /**
     * A plan for a backward pass of {@code g}'s convolution ({@code Conv4jNative.PROPAGATION_BACKWARD_DATA}
     * or {@code _WEIGHTS}), with its own copy of {@code kernel} (null for backward weights) and {@code bias}
     * (over the input channels, backward data only; null for none). Only AUTO, GEMM and REFERENCE have backward
     * algorithms: a configured other algorithm runs AUTO here.
     */
    static NativePlan createBackward(ConvGeometry g, int propagation, float[] kernel, float[] bias,
                                     Activation activation) {
        Conv4j.requireNative();
        try (ConvDesc d = describe(new ConvDesc(), g)) {
            Algorithm algorithm = g.config().algorithm();
            boolean backwardRow = algorithm == Algorithm.AUTO || algorithm == Algorithm.GEMM
                    || algorithm == Algorithm.REFERENCE;
            d.propagation(propagation).activation(activation == Activation.RELU
                            ? Conv4jNative.ACTIVATION_RELU : Conv4jNative.ACTIVATION_NONE)
                    .algorithm(backwardRow ? algorithm.code() : Algorithm.AUTO.code());
            Conv4jNative.Plan handle = new Conv4jNative.Plan();
            int status = Conv4jNative.conv4j_plan_create(d, kernel, bias, handle);
            if (status != NativeStatus.OK.code() || handle.isNull()) {
                throw failure(status, "creating a backward plan for " + g);
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

    void executeBackwardWeights(float[] input, float[] outputGradient, float[] kernelGradient,
                                float[] biasGradient, int threads) {
        check(Conv4jNative.conv4j_plan_execute_backward_weights(handle, input, outputGradient, kernelGradient,
                biasGradient, null, 0, threads));
    }

    void executeBackwardWeights(FloatPointer input, FloatPointer outputGradient, FloatPointer kernelGradient,
                                FloatPointer biasGradient, int threads) {
        check(Conv4jNative.conv4j_plan_execute_backward_weights(handle, input, outputGradient, kernelGradient,
                biasGradient, null, 0, threads));
    }

    private static void check(int status) {
        if (status != NativeStatus.OK.code()) {
            throw failure(status, "executing a plan");
        }
    }

    /**
     * The exception for a failed native call (an {@link OutOfMemoryError} is thrown, not returned).
     * A forced algorithm's refusal is {@link #refusal}'s, not this.
     */
    static RuntimeException failure(int status, String doing) {
        String what = Conv4jNative.conv4j_status_string(status);
        NativeStatus s = NativeStatus.fromCode(status);
        if (s == NativeStatus.ERR_OUT_OF_MEMORY) {
            throw new OutOfMemoryError("conv4j: native memory exhausted " + doing + ": " + what);
        }
        if (s == NativeStatus.ERR_NULL_POINTER) {
            // Java never passes null: JNI returns null when it cannot copy (or pin) a Java array
            // into native memory, so this is an allocation failure too.
            throw new OutOfMemoryError("conv4j: native memory exhausted " + doing
                    + ": the JVM could not make a Java array available to native code");
        }
        // Java validates first (flags included: Java sets only known bits, so
        // CONV4J_ERR_INVALID_FLAGS cannot come back; and every shape's kernel tensor is the
        // weights', so CONV4J_ERR_WEIGHTS_MISMATCH cannot either), so this means the two sides disagree.
        return new IllegalStateException("conv4j: native status " + status + " ("
                + (s == null ? "unknown to the Java side" : s.cName()) + ": " + what + ") " + doing);
    }

    /**
     * A forced algorithm refused the problem (CONV4J_ERR_UNSUPPORTED): the typed exception, with
     * the reason from conv4j_explain's line for the same descriptor.
     */
    private static AlgorithmRefusedException refusal(ConvDesc d, ConvGeometry g, NativeWeights weights) {
        Algorithm algorithm = g.config().algorithm();
        byte[] buffer = new byte[2048];
        Conv4jNative.conv4j_explain(d, buffer, buffer.length);
        int end = 0;
        while (end < buffer.length && buffer[end] != 0) {
            end++;
        }
        String line = new String(buffer, 0, end, StandardCharsets.UTF_8);
        String reason = rejectionReason(line);
        if (reason == null) {
            // conv4j_explain sees the descriptor, not the weights: a refusal it does not show is
            // one for the weights' values.
            reason = weights.nonFinite() ? "non-finite weights (NaN or Inf in the kernel)"
                    : "refused, explain line: " + line;
        }
        return new AlgorithmRefusedException(algorithm, reason, g.toString());
    }

    /**
     * The rejections in an explain line ({@code "... -> unsupported (...); rejected: igemm (needs
     * channels_last)"}): the reason alone for one row, {@code "row: reason; row: reason"} for
     * several; null when the line does not say unsupported or lists no rejection. Reasons may hold
     * parentheses.
     */
    static String rejectionReason(String line) {
        String marker = "; rejected: ";
        int arrow = line.indexOf(" -> unsupported (");
        int at = arrow < 0 ? -1 : line.indexOf(marker, arrow);
        if (at < 0) {
            return null;
        }
        List<String> names = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        int i = at + marker.length();
        while (i < line.length()) {
            int open = line.indexOf(" (", i);
            if (open < 0) {
                break;
            }
            int depth = 0;
            int close = -1;
            for (int j = open + 1; j < line.length(); j++) {
                char ch = line.charAt(j);
                if (ch == '(') {
                    depth++;
                } else if (ch == ')' && --depth == 0) {
                    close = j;
                    break;
                }
            }
            if (close < 0) {
                break; // truncated line: keep what was parsed
            }
            names.add(line.substring(i, open));
            reasons.add(line.substring(open + 2, close));
            i = close + 1;
            if (line.startsWith(", ", i)) {
                i += 2;
            }
        }
        if (names.isEmpty()) {
            return null;
        }
        if (names.size() == 1) {
            return reasons.get(0);
        }
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < names.size(); k++) {
            b.append(k == 0 ? "" : "; ").append(names.get(k)).append(": ").append(reasons.get(k));
        }
        return b.toString();
    }
}

package org.conv4j;

import java.util.Locale;

/**
 * Native algorithm of a layer. {@link #AUTO} lets the plan take the first algorithm in its ordered
 * list that accepts the problem; forcing one is for tests and measurements, and fails with
 * {@link IllegalArgumentException} when that algorithm rejects the problem. The values mirror
 * {@code conv4j_algorithm} in {@code conv4j.h}.
 */
public enum Algorithm {
    AUTO(0),
    /** OpenMP loop over weights packed per output channel. */
    DIRECT(1),
    /** The plain C loop every other kernel is tested against. */
    REFERENCE(2),
    /** 1×1 and implicit (indirect) GEMM over a register-blocked micro-kernel. */
    GEMM(3),
    /** Winograd transform for 3×3 stride-1 convolutions. */
    WINOGRAD(4),
    /** One input channel per group. */
    DEPTHWISE(5);

    private final int code;

    Algorithm(int code) {
        this.code = code;
    }

    /** The {@code conv4j_algorithm} value. */
    public int code() {
        return code;
    }

    /** The algorithm with this {@code conv4j_algorithm} value. */
    public static Algorithm fromCode(int code) {
        for (Algorithm a : values()) {
            if (a.code == code) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown conv4j_algorithm value " + code);
    }

    /** Parses an algorithm name such as {@code "auto"} or {@code "gemm"}, any case. */
    public static Algorithm parse(String text) {
        return Enums.parse(Algorithm.class, "algorithm", text);
    }

    /** Lower-case name, as {@code conv4j_algorithm_name} spells it. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}

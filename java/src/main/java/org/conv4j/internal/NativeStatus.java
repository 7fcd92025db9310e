package org.conv4j.internal;

/**
 * Every {@code conv4j_status} of {@code native/include/conv4j.h}, with its number and C name, so
 * that Java code names statuses instead of comparing with numbers. HeaderConstantsTest parses the
 * header and fails when a value is missing on either side or differs.
 */
public enum NativeStatus {
    OK(0),
    ERR_NULL_POINTER(1),
    ERR_INVALID_RANK(2),
    ERR_INVALID_SIZE(3),
    ERR_INVALID_KERNEL(4),
    ERR_INVALID_STRIDE(5),
    ERR_INVALID_DILATION(6),
    ERR_INVALID_PADDING(7),
    ERR_INVALID_GROUPS(8),
    ERR_EMPTY_OUTPUT(9),
    ERR_SIZE_OVERFLOW(10),
    ERR_INVALID_LAYOUT(11),
    ERR_INVALID_ACTIVATION(12),
    ERR_INVALID_ALGORITHM(13),
    /** The requested algorithm rejects this problem or CPU: only a forced algorithm gets it. */
    ERR_UNSUPPORTED(14),
    ERR_WORKSPACE_TOO_SMALL(15),
    ERR_INVALID_THREADS(16),
    ERR_OUT_OF_MEMORY(17),
    ERR_INVALID_FLAGS(18),
    /** A descriptor's kernel tensor is not that of the weights it is planned with. */
    ERR_WEIGHTS_MISMATCH(19),
    /** Not a propagation value, or a call that does not run the plan's propagation. */
    ERR_INVALID_PROPAGATION(20),
    /** An optimizer's learning rate, momentum, beta, epsilon or step is out of range. */
    ERR_INVALID_HYPERPARAMETER(21);

    private static final NativeStatus[] BY_CODE = new NativeStatus[values().length];

    static {
        for (NativeStatus s : values()) {
            BY_CODE[s.code] = s; // the codes are 0..n-1 (HeaderConstantsTest)
        }
    }

    private final int code;

    NativeStatus(int code) {
        this.code = code;
    }

    /** The {@code conv4j_status} value. */
    public int code() {
        return code;
    }

    /** The C name, e.g. {@code CONV4J_ERR_UNSUPPORTED}. */
    public String cName() {
        return "CONV4J_" + name();
    }

    /** The status with this value, or null for a value this Java code does not know. */
    public static NativeStatus fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}

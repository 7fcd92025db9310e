package org.conv4j;

import java.util.Locale;

/** Activation fused into the convolution's output write. */
public enum Activation {
    /** Linear: the convolution plus bias. */
    NONE,
    /** max(x, 0); NaN stays NaN. */
    RELU;

    /** Parses {@code "none"} (also {@code "linear"}) or {@code "relu"}, any case. */
    public static Activation parse(String text) {
        if (text != null && text.trim().equalsIgnoreCase("linear")) {
            return NONE;
        }
        return Enums.parse(Activation.class, "activation", text);
    }

    /** The spelling used by the CLI. */
    public String kerasName() {
        return name().toLowerCase(Locale.ROOT);
    }
}

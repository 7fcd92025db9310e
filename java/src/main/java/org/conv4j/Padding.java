package org.conv4j;

import java.util.Locale;

/** Keras padding modes. */
public enum Padding {
    /** No padding: only windows that fit inside the input. */
    VALID,
    /**
     * TensorFlow SAME: output = ceil(input / stride); the total padding
     * max((output - 1) * stride + (kernel - 1) * dilation + 1 - input, 0) is split with the smaller
     * half before and the odd extra pixel after.
     */
    SAME,
    /** Conv1D only: (kernel - 1) * dilation zeros before the sequence, none after. */
    CAUSAL;

    /** Parses the Keras spelling ({@code "valid"}, {@code "same"}, {@code "causal"}), any case. */
    public static Padding parse(String text) {
        return Enums.parse(Padding.class, "padding", text);
    }

    /** The Keras spelling. */
    public String kerasName() {
        return name().toLowerCase(Locale.ROOT);
    }
}

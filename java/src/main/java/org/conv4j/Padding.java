package org.conv4j;

import java.util.Locale;

/**
 * Keras padding modes. Explicit pads (ZeroPadding + conv, ONNX / PyTorch models) are not a mode
 * here but {@link #explicit(int[], int[])}: a valid convolution over the zero-padded input.
 */
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

    /**
     * Zeros {@code before[i]} before and {@code after[i]} after spatial axis i (in the order of the
     * kernel's axes: D, H, W / H, W / L), the same as Keras' {@code ZeroPadding} layer in front of
     * a valid convolution. Pads must be &gt;= 0. The builders take it as
     * {@code padding(ExplicitPadding)}; the layer's {@link ConvConfig#padding()} is then
     * {@link #VALID} and {@link ConvConfig#explicitPadding()} holds the pads.
     */
    public static ExplicitPadding explicit(int[] before, int[] after) {
        return new ExplicitPadding(before, after);
    }

    /** Parses the Keras spelling ({@code "valid"}, {@code "same"}, {@code "causal"}), any case. */
    public static Padding parse(String text) {
        return Enums.parse(Padding.class, "padding", text);
    }

    /** The Keras spelling. */
    public String kerasName() {
        return name().toLowerCase(Locale.ROOT);
    }
}

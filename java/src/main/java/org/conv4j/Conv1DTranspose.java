package org.conv4j;

/**
 * Keras {@code Conv1DTranspose}: input {@code [N, L, Cin]} (channels_last) or {@code [N, Cin, L]}, kernel {@code [K, filters, Cin]} (Keras' layout), bias
 * {@code [filters]}; padding valid or same, {@code output_padding} (each value below its stride,
 * or unset for Keras' None), dilation. The output size follows Keras' rule (see README,
 * "Semantics"); shapes TensorFlow refuses are refused with {@link IllegalArgumentException}. It is
 * the backward-data pass of the forward convolution from the output back to the input; natively
 * it runs as that pass. See {@link ConvLayer} for threads and memory.
 */
public final class Conv1DTranspose extends ConvLayer {
    Conv1DTranspose(ConvConfig config, Backend backend, int threads) {
        super(config, backend, threads);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with Keras' defaults: strides 1, dilation 1, valid padding, output_padding None, bias on. */
    public static final class Builder extends TransposeBuilder<Builder> {
        Builder() {
            super(1);
        }

        public Conv1DTranspose build() {
            return new Conv1DTranspose(config(), backend, threads);
        }
    }
}

package org.conv4j;

/**
 * Keras {@code DepthwiseConv1D}: input {@code [N, L, Cin]} (channels_last) or {@code [N, Cin, L]}, kernel {@code [K, Cin, depth_multiplier]}, bias
 * {@code [Cin × depth_multiplier]}; output channel {@code c·M + m} is input channel c convolved
 * with {@code kernel[..., c, m]}, as in Keras. It is a grouped convolution with groups = Cin and
 * filters = Cin × M over the same kernel bytes, so it runs on every path a grouped layer does.
 * The input channels must be declared on the builder ({@code inputChannels(c)}). See
 * {@link ConvLayer} for threads and memory.
 */
public final class DepthwiseConv1D extends DepthwiseConv {
    DepthwiseConv1D(ConvConfig config, Backend backend, int threads) {
        super(config, backend, threads);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with Keras' defaults: strides 1, dilation 1, valid padding, multiplier 1, bias on. */
    public static final class Builder extends DepthwiseBuilder<Builder> {
        Builder() {
            super(1);
        }

        public DepthwiseConv1D build() {
            return new DepthwiseConv1D(config(), backend, threads);
        }
    }
}

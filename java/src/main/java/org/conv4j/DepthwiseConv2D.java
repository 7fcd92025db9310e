package org.conv4j;

/**
 * Keras {@code DepthwiseConv2D}: input {@code [N, H, W, Cin]} (channels_last) or {@code [N, Cin, H, W]}, kernel {@code [KH, KW, Cin, depth_multiplier]}, bias
 * {@code [Cin × depth_multiplier]}; output channel {@code c·M + m} is input channel c convolved
 * with {@code kernel[..., c, m]}, as in Keras. It is a grouped convolution with groups = Cin and
 * filters = Cin × M over the same kernel bytes, so it runs on every path a grouped layer does.
 * The input channels must be declared on the builder ({@code inputChannels(c)}). See
 * {@link ConvLayer} for threads and memory.
 */
public final class DepthwiseConv2D extends DepthwiseConv {
    DepthwiseConv2D(ConvConfig config, Backend backend, int threads) {
        super(config, backend, threads);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with Keras' defaults: strides 1, dilation 1, valid padding, multiplier 1, bias on. */
    public static final class Builder extends DepthwiseBuilder<Builder> {
        Builder() {
            super(2);
        }

        public DepthwiseConv2D build() {
            return new DepthwiseConv2D(config(), backend, threads);
        }
    }
}

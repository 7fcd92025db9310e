package org.conv4j;

/**
 * Keras {@code Conv3D}: input {@code [N, D, H, W, Cin]} (channels_last) or
 * {@code [N, Cin, D, H, W]}, kernel {@code [KD, KH, KW, Cin/groups, filters]}, bias
 * {@code [filters]}. Predict with {@link ConvLayer#predict(float[], int...)} and the other
 * {@code ConvLayer} overloads; see {@link ConvLayer} for threads and memory.
 */
public final class Conv3D extends ConvLayer {
    Conv3D(ConvConfig config, Backend backend, int threads) {
        super(config, backend, threads);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with Keras' defaults: strides 1, dilation 1, valid padding, bias on, no activation. */
    public static final class Builder extends AbstractBuilder<Builder> {
        Builder() {
            super(3);
        }

        public Conv3D build() {
            return new Conv3D(config(), backend, threads);
        }
    }
}

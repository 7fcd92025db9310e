package org.conv4j;

/**
 * Keras {@code SeparableConv1D}: depthwise then pointwise, one bias, the activation at the end
 * (see {@link SeparableConv}). The input channels must be declared on the builder.
 */
public final class SeparableConv1D extends SeparableConv {
    private SeparableConv1D(ConvLayer[] steps) {
        super(steps[0], steps[1]);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder with Keras' defaults: strides 1, dilation 1, valid padding, multiplier 1, bias on. */
    public static final class Builder extends SeparableConv.Builder<Builder> {
        Builder() {
            super(1);
        }

        public SeparableConv1D build() {
            return new SeparableConv1D(steps());
        }
    }
}

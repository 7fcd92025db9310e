package org.conv4j;

/**
 * What {@link DepthwiseConv1D} and {@link DepthwiseConv2D} share; package-private so the public
 * API stays the two Keras classes.
 */
abstract class DepthwiseConv extends ConvLayer {
    DepthwiseConv(ConvConfig config, Backend backend, int threads) {
        super(config, backend, threads);
    }

    /** Keras' depth_multiplier. */
    public int depthMultiplier() {
        return config().depthMultiplier();
    }
}

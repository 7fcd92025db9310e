package org.conv4j;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Keras {@code Conv2D}: input {@code [N, H, W, Cin]} (channels_last) or {@code [N, Cin, H, W]},
 * kernel {@code [KH, KW, Cin/groups, filters]}, bias {@code [filters]}. The four-int
 * {@code predict} overloads take the input shape in the layer's data format and allocate nothing
 * on the Java heap once the shape has been seen. See {@link ConvLayer} for threads and memory.
 *
 * <pre>{@code
 * try (Conv2D conv = Conv2D.builder().filters(32).kernelSize(3, 3).padding(Padding.SAME)
 *         .activation(Activation.RELU).build()) {
 *     conv.setWeights(kernel, bias);
 *     float[] y = conv.predict(x, 1, 224, 224, 3);
 * }
 * }</pre>
 */
public final class Conv2D extends ConvLayer {
    Conv2D(ConvConfig config, Backend backend, int threads) {
        super(config, backend, threads);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Returns a new output array for input shape {@code [d0, d1, d2, d3]}. */
    public float[] predict(float[] input, int d0, int d1, int d2, int d3) {
        return predict(input, new int[] {d0, d1, d2, d3});
    }

    /** Convolves into {@code output}; no allocation in steady state. */
    public void predict(float[] input, float[] output, int d0, int d1, int d2, int d3) {
        boolean last = config().dataFormat() == DataFormat.CHANNELS_LAST;
        run(input, output, d0, last ? d1 : d2, last ? d2 : d3, last ? d3 : d1);
    }

    /** Convolves between direct buffers (native byte order), from and to their positions. */
    public void predict(FloatBuffer input, FloatBuffer output, int d0, int d1, int d2, int d3) {
        boolean last = config().dataFormat() == DataFormat.CHANNELS_LAST;
        run(input, output, d0, last ? d1 : d2, last ? d2 : d3, last ? d3 : d1);
    }

    /** Convolves between native pointers, from and to their positions. */
    public void predict(FloatPointer input, FloatPointer output, int d0, int d1, int d2, int d3) {
        boolean last = config().dataFormat() == DataFormat.CHANNELS_LAST;
        run(input, output, d0, last ? d1 : d2, last ? d2 : d3, last ? d3 : d1);
    }

    /** Builder with Keras' defaults: strides 1, dilation 1, valid padding, bias on, no activation. */
    public static final class Builder extends AbstractBuilder<Builder> {
        Builder() {
            super(2);
        }

        public Conv2D build() {
            return new Conv2D(config(), backend, threads);
        }
    }
}

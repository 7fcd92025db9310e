package org.conv4j;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * Keras {@code Conv1D}: input {@code [N, L, Cin]} (channels_last) or {@code [N, Cin, L]}, kernel
 * {@code [K, Cin/groups, filters]}, bias {@code [filters]}; padding may also be
 * {@link Padding#CAUSAL}. The three-int {@code predict} overloads take the input shape in the
 * layer's data format and allocate nothing on the Java heap once the shape has been seen. See
 * {@link ConvLayer} for threads and memory.
 */
public final class Conv1D extends ConvLayer {
    Conv1D(ConvConfig config, Backend backend, int threads) {
        super(config, backend, threads);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Returns a new output array for input shape {@code [d0, d1, d2]}. */
    public float[] predict(float[] input, int d0, int d1, int d2) {
        return predict(input, new int[] {d0, d1, d2});
    }

    /** Convolves into {@code output}; no allocation in steady state. */
    public void predict(float[] input, float[] output, int d0, int d1, int d2) {
        boolean last = config().dataFormat() == DataFormat.CHANNELS_LAST;
        run(input, output, d0, 1, last ? d1 : d2, last ? d2 : d1);
    }

    /** Convolves between direct buffers (native byte order), from and to their positions. */
    public void predict(FloatBuffer input, FloatBuffer output, int d0, int d1, int d2) {
        boolean last = config().dataFormat() == DataFormat.CHANNELS_LAST;
        run(input, output, d0, 1, last ? d1 : d2, last ? d2 : d1);
    }

    /** Convolves between native pointers, from and to their positions. */
    public void predict(FloatPointer input, FloatPointer output, int d0, int d1, int d2) {
        boolean last = config().dataFormat() == DataFormat.CHANNELS_LAST;
        run(input, output, d0, 1, last ? d1 : d2, last ? d2 : d1);
    }

    /** Builder with Keras' defaults: stride 1, dilation 1, valid padding, bias on, no activation. */
    public static final class Builder extends AbstractBuilder<Builder> {
        Builder() {
            super(1);
        }

        public Conv1D build() {
            return new Conv1D(config(), backend, threads);
        }
    }
}

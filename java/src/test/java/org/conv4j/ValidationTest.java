package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every bad-input rule throws before JNI, with a message naming the parameter and the values. */
class ValidationTest {

    private static void rejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    private static Conv2D conv2d(int filters, int k, int inChannels) {
        Conv2D conv = Conv2D.builder().filters(filters).kernelSize(k, k).build();
        conv.setWeights(new float[k * k * inChannels * filters], new float[filters]);
        return conv;
    }

    @Test
    void configuration() {
        rejects(() -> Conv2D.builder().kernelSize(3, 3).build(), "filters");
        rejects(() -> Conv2D.builder().filters(-2).kernelSize(3, 3).build(), "filters", "-2");
        rejects(() -> Conv2D.builder().filters(2).build(), "kernel_size");
        rejects(() -> Conv2D.builder().filters(2).kernelSize(3, 0).build(), "kernel_size", "[3, 0]");
        rejects(() -> Conv2D.builder().filters(2).kernelSize(3, 3, 3).build(), "kernel_size", "2 values");
        rejects(() -> Conv1D.builder().filters(2).kernelSize(3, 3).build(), "kernel_size", "1 value");
        rejects(() -> Conv2D.builder().filters(2).kernelSize(3).strides(0, 1).build(), "strides", "[0, 1]");
        rejects(() -> Conv2D.builder().filters(2).kernelSize(3).dilationRate(1, -1).build(), "dilation_rate");
        rejects(() -> Conv1D.builder().filters(2).kernelSize(3).strides(2).dilationRate(2).build(),
                "strides [2]", "dilation_rate [2]", "Keras refuses");
        rejects(() -> Conv2D.builder().filters(2).kernelSize(3).padding(Padding.CAUSAL).build(), "causal", "rank 2");
        rejects(() -> Conv2D.builder().filters(6).kernelSize(3).groups(4).build(), "filters (6)", "groups (4)");
        rejects(() -> Conv2D.builder().filters(6).kernelSize(3).groups(0).build(), "groups", "0");
        rejects(() -> ConvLayer.builder(4), "rank", "4");
        assertThrows(NullPointerException.class, () -> Conv2D.builder().filters(2).kernelSize(3).padding((Padding) null).build());
        rejects(() -> Padding.parse("full"), "padding", "valid, same, causal", "full");
        rejects(() -> Activation.parse("tanh"), "activation", "tanh");
        rejects(() -> DataFormat.parse("nhwc"), "data_format", "nhwc");
        rejects(() -> Conv2D.builder().filters(2).kernelSize(3).threads(-1).build(), "threads", "-1");
        rejects(() -> Conv2D.builder().filters(2).kernelSize(3).backend(Backend.JAVA).algorithm(Algorithm.DIRECT)
                .build(), "algorithm direct", "java backend");
    }

    @Test
    void weights() {
        try (Conv2D conv = Conv2D.builder().filters(4).kernelSize(3, 3).groups(2).build()) {
            rejects(() -> conv.setWeights(null, new float[4]), "kernel", "null");
            rejects(() -> conv.setWeights(new float[35], new float[4]), "kernel has 35 values", "36");
            rejects(() -> conv.setWeights(new float[36], new float[3]), "bias must have 4 values", "3");
            rejects(() -> conv.setWeights(new float[36], null), "bias must have 4 values", "null");
            rejects(() -> conv.setWeights(new float[72], new int[] {3, 3, 2, 5}, new float[4]), "filters is 4");
            rejects(() -> conv.setWeights(new float[72], new int[] {3, 2, 2, 4}, new float[4]), "kernel_size");
            rejects(() -> conv.setWeights(new float[71], new int[] {3, 3, 2, 4}, new float[4]), "71", "72");
            rejects(() -> conv.setWeights(new float[72], new int[] {3, 3, 2}, new float[4]), "4 dimensions");
        }
        try (Conv1D conv = Conv1D.builder().filters(2).kernelSize(3).useBias(false).build()) {
            rejects(() -> conv.setWeights(new float[6], new float[2]), "bias must be null", "use_bias is false");
        }
    }

    @Test
    void inputShapes() {
        try (Conv2D conv = conv2d(8, 3, 4)) {
            rejects(() -> conv.predict(new float[16], 1, 2, 2, 4), "output height", "input height 2", "kernel_size 3");
            rejects(() -> conv.predict(new float[100], 1, 5, 5, 3), "input has 3 channels", "expects 4");
            rejects(() -> conv.predict(new float[100], 1, 5, 5), "4 dimensions", "[N, H, W, Cin]");
            rejects(() -> conv.predict(new float[100], 0, 5, 5, 4), "positive", "[0, 5, 5, 4]");
            rejects(() -> conv.predict(new float[99], 1, 5, 5, 4), "input has 99 floats", "100");
            rejects(() -> conv.predict(new float[100], new float[8], 1, 5, 5, 4), "output has 8 floats", "72");
            rejects(() -> conv.predict((float[]) null, 1, 5, 5, 4), "input", "null");
            rejects(() -> conv.predict(new float[100], (int[]) null), "input shape", "null");
            rejects(() -> conv.predict(new float[1], 1, 65536, 65536, 4), "input would have", "2147483647");
        }
        try (Conv2D conv = Conv2D.builder().filters(4).kernelSize(1).groups(4).build()) {
            conv.setWeights(new float[4], new float[4]);
            rejects(() -> conv.predict(new float[6], 1, 1, 1, 6), "input channels (6)", "groups (4)");
        }
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(1000).dilationRate(1_000_000)
                .padding(Padding.CAUSAL).build()) {
            conv.setWeights(new float[1000], new float[1]);
            // 999 000 000 zeros before each sequence: 3 sequences exceed 2^31 - 1 padded elements
            rejects(() -> conv.predict(new float[3000], 3, 1000, 1), "padded input would have", "2147483647");
        }
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(3).dilationRate(1 << 30)
                .padding(Padding.CAUSAL).build()) {
            conv.setWeights(new float[3], new float[1]);
            rejects(() -> conv.predict(new float[4], 1, 4, 1), "padding of 2147483648 elements overflows");
        }
        try (Conv2D conv = Conv2D.builder().filters(1 << 20).kernelSize(1 << 16, 1 << 16).build()) {
            rejects(() -> conv.setWeights(new float[4], new float[1 << 20]), "kernel has 4 values",
                    "not a positive multiple");
        }
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(3).dilationRate(4).build()) {
            conv.setWeights(new float[3], new float[1]);
            rejects(() -> conv.predict(new float[8], 1, 8, 1), "output length", "effective kernel 9");
        }
    }

    @Test
    void buffers() {
        try (Conv2D conv = conv2d(2, 1, 1)) {
            int[] shape = {1, 2, 2, 1};
            FloatBuffer small = ByteBuffer.allocateDirect(12).order(ByteOrder.nativeOrder()).asFloatBuffer();
            FloatBuffer ok = ByteBuffer.allocateDirect(32).order(ByteOrder.nativeOrder()).asFloatBuffer();
            FloatBuffer bigEndian = ByteBuffer.allocateDirect(32).order(ByteOrder.BIG_ENDIAN).asFloatBuffer();
            rejects(() -> conv.predict(small, shape, ok), "input buffer has 3 floats remaining", "needs 4");
            rejects(() -> conv.predict(ok, shape, small), "output buffer has 3", "needs 8");
            rejects(() -> conv.predict(ok, shape, ok.asReadOnlyBuffer()), "read-only");
            rejects(() -> conv.predict(bigEndian, shape, ok), "BIG_ENDIAN", "native order");
            rejects(() -> conv.predict((FloatBuffer) null, shape, ok), "input", "null");
            try (Conv2D one = conv2d(1, 1, 1)) {
                float[] same = new float[4];
                rejects(() -> one.predict(same, shape, same), "different arrays");
            }
            try (FloatPointer both = new FloatPointer(12)) {
                FloatPointer overlapping = new FloatPointer(both).position(3).limit(12);
                rejects(() -> conv.predict(both, shape, overlapping), "overlap");
            }
            try (FloatPointer in = new FloatPointer(4); FloatPointer out = new FloatPointer(7)) {
                rejects(() -> conv.predict(in, shape, out), "output pointer has 7", "needs 8");
                rejects(() -> conv.predict(new FloatPointer(), shape, out), "input pointer", "null");
                in.position(1);
                rejects(() -> conv.predict(in, shape, new FloatPointer(8)), "input pointer has 3", "position 1");
            }
        }
    }

    @Test
    void geometryMatchesTensorFlow() {
        // TF SAME: out = ceil(in / s), total = max((out-1)*s + (k-1)*d + 1 - in, 0), smaller half first.
        ConvConfig c = Conv2D.builder().filters(1).kernelSize(4, 3).strides(2, 3).padding(Padding.SAME).config();
        ConvGeometry g = ConvGeometry.of(c, 1, 7, 10, 1);
        assertEquals(4, g.outHeight());
        assertEquals(4, g.outWidth());
        assertEquals(1, g.padTop());   // total (4-1)*2 + 4 - 7 = 3
        assertEquals(2, g.padBottom());
        assertEquals(1, g.padLeft());  // total (4-1)*3 + 3 - 10 = 2
        assertEquals(1, g.padRight());
        ConvConfig causal = Conv1D.builder().filters(1).kernelSize(3).dilationRate(3).padding(Padding.CAUSAL)
                .config();
        ConvGeometry gc = ConvGeometry.of(causal, 2, 5, 1);
        assertEquals(6, gc.padLeft());
        assertEquals(0, gc.padRight());
        assertEquals(5, gc.outWidth());
        assertEquals(2 * 2 * 5 * 1 * 3, gc.flops());
    }
}

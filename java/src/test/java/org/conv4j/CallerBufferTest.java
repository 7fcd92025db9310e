package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * Caller-supplied buffers that cannot be used as given are refused with a clear
 * {@link IllegalArgumentException} before any native call; those that can (heap buffers of
 * either byte order, read-only input, disjoint views of one block) give the reference result.
 * ValidationTest covers the basic too-small, read-only output and wrong-order input cases.
 */
class CallerBufferTest {
    private static final int[] SHAPE = {1, 3, 4, 2}; // input 24 floats, output 2x3x3 = 18
    private static final float[] KERNEL = new float[2 * 2 * 2 * 3];
    private static final float[] BIAS = {0.5f, -1, 2};
    private static final float[] INPUT = new float[24];

    static {
        for (int i = 0; i < KERNEL.length; i++) {
            KERNEL[i] = (i % 7) - 3;
        }
        for (int i = 0; i < INPUT.length; i++) {
            INPUT[i] = i * 0.25f - 2;
        }
    }

    private static Conv2D layer() {
        Conv2D conv = Conv2D.builder().filters(3).kernelSize(2, 2).backend(Backend.NATIVE).threads(1).build();
        conv.setWeights(KERNEL, BIAS);
        return conv;
    }

    private static float[] expected() {
        try (Conv2D conv = Conv2D.builder().filters(3).kernelSize(2, 2).backend(Backend.JAVA).build()) {
            conv.setWeights(KERNEL, BIAS);
            return conv.predict(INPUT, SHAPE);
        }
    }

    private static FloatBuffer direct(int floats, ByteOrder order) {
        return ByteBuffer.allocateDirect(floats * Float.BYTES).order(order).asFloatBuffer();
    }

    private static void rejects(Runnable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should name '" + part + "'");
        }
    }

    @Test
    void overlappingDirectBuffersAreRefused() {
        try (Conv2D conv = layer()) {
            FloatBuffer block = direct(40, ByteOrder.nativeOrder());
            block.put(INPUT).rewind();
            FloatBuffer output = block.duplicate().position(10); // starts inside the input's 24 floats
            rejects(() -> conv.predict(block, SHAPE, output), "input and output buffers overlap");
            rejects(() -> conv.predict(block, SHAPE, block.duplicate()), "overlap");
            FloatBuffer sliceBehind = ((FloatBuffer) block.duplicate().position(20)).slice();
            rejects(() -> conv.predict(block, SHAPE, sliceBehind), "overlap");
        }
    }

    @Test
    void disjointViewsOfOneBlockWork() {
        try (Conv2D conv = layer()) {
            FloatBuffer block = direct(24 + 18, ByteOrder.nativeOrder());
            block.put(INPUT);
            FloatBuffer output = block.duplicate().position(24);
            block.rewind();
            conv.predict(block, SHAPE, output);
            float[] got = new float[18];
            output.get(24, got);
            assertArrayEquals(expected(), got);
        }
    }

    @Test
    void heapBuffersOfEitherByteOrderAreConverted() {
        for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
            try (Conv2D conv = layer()) {
                FloatBuffer in = ByteBuffer.allocate(24 * 4).order(order).asFloatBuffer().put(INPUT).rewind();
                FloatBuffer out = ByteBuffer.allocate(18 * 4).order(order).asFloatBuffer();
                conv.predict(in, SHAPE, out);
                float[] got = new float[18];
                out.get(0, got);
                assertArrayEquals(expected(), got, order.toString());
            }
        }
    }

    @Test
    void readOnlyInputIsFineReadOnlyOutputIsNot() {
        try (Conv2D conv = layer()) {
            FloatBuffer in = direct(24, ByteOrder.nativeOrder()).put(INPUT).rewind().asReadOnlyBuffer();
            FloatBuffer out = direct(18, ByteOrder.nativeOrder());
            conv.predict(in, SHAPE, out);
            float[] got = new float[18];
            out.get(0, got);
            assertArrayEquals(expected(), got);
            rejects(() -> conv.predict(in, SHAPE, FloatBuffer.allocate(18).asReadOnlyBuffer()), "output", "read-only");
            rejects(() -> conv.predict(in, SHAPE, out.asReadOnlyBuffer()), "output", "read-only");
        }
    }

    @Test
    void wrongOrderDirectOutputIsRefused() {
        ByteOrder other = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? ByteOrder.BIG_ENDIAN
                : ByteOrder.LITTLE_ENDIAN;
        try (Conv2D conv = layer()) {
            FloatBuffer in = direct(24, ByteOrder.nativeOrder()).put(INPUT).rewind();
            rejects(() -> conv.predict(in, SHAPE, direct(18, other)), "output buffer is " + other, "native order");
        }
    }

    @Test
    void tooSmallOrTooLargeArraysAndPointersAreRefused() {
        try (Conv2D conv = layer()) {
            rejects(() -> conv.predict(new float[23], SHAPE), "input has 23 floats", "needs 24");
            rejects(() -> conv.predict(INPUT, SHAPE, new float[17]), "output has 17 floats", "needs 18");
            rejects(() -> conv.predict(INPUT, SHAPE, new float[19]), "output has 19 floats", "needs 18");
            FloatBuffer in = direct(24, ByteOrder.nativeOrder());
            in.position(1);
            rejects(() -> conv.predict(in, SHAPE, direct(18, ByteOrder.nativeOrder())), "input buffer has 23",
                    "needs 24");
            try (FloatPointer p = new FloatPointer(24); FloatPointer q = new FloatPointer(18)) {
                q.limit(17);
                rejects(() -> conv.predict(p, SHAPE, q), "output pointer has 17", "needs 18");
            }
        }
    }

    /** LifecycleTest covers arrays after close; the buffer, pointer and query doors too. */
    @Test
    void closedLayerRefusesEveryDoor() {
        Conv2D conv = layer();
        FloatBuffer in = direct(24, ByteOrder.nativeOrder()).put(INPUT).rewind();
        FloatBuffer out = direct(18, ByteOrder.nativeOrder());
        conv.predict(in, SHAPE, out);
        conv.close();
        conv.close();
        try (FloatPointer p = new FloatPointer(24); FloatPointer q = new FloatPointer(18)) {
            for (Runnable use : new Runnable[] {
                () -> conv.predict(in, SHAPE, out),
                () -> conv.predict(p, SHAPE, q),
                () -> conv.explain(SHAPE),
                () -> conv.algorithm(SHAPE),
            }) {
                IllegalStateException e = assertThrows(IllegalStateException.class, use::run);
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
            }
        }
    }
}

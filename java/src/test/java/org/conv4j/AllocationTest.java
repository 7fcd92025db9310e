package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/** With caller-supplied buffers and a seen shape, the native path allocates nothing on the Java heap. */
class AllocationTest {
    private static final int CALLS = 20_000;

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private static void assertNoGarbage(String what, Runnable call) {
        for (int i = 0; i < CALLS; i++) { // warm up: plan built, code compiled
            call.run();
        }
        long before = allocatedBytes();
        for (int i = 0; i < CALLS; i++) {
            call.run();
        }
        long total = allocatedBytes() - before;
        // Any object made per call costs >= 16 bytes each time; a few one-off bytes (JIT, class
        // loading) stay far below one byte per call.
        assertTrue(total < CALLS, what + " allocated " + total + " bytes in " + CALLS + " calls");
    }

    @Test
    void steadyStateCallsAllocateNothing() {
        try (Conv2D conv = Conv2D.builder().filters(4).kernelSize(3, 3).padding(Padding.SAME).build();
             Conv1D conv1 = Conv1D.builder().filters(2).kernelSize(3).padding(Padding.CAUSAL).build();
             FloatPointer pin = new FloatPointer(6 * 6 * 2);
             FloatPointer pout = new FloatPointer(6 * 6 * 4)) {
            conv.setWeights(new float[3 * 3 * 2 * 4], new float[4]);
            conv1.setWeights(new float[3 * 2 * 2], new float[2]);
            conv.setThreads(1);
            float[] in = new float[6 * 6 * 2];
            float[] out = new float[6 * 6 * 4];
            FloatBuffer bin = ByteBuffer.allocateDirect(in.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
            FloatBuffer bout = ByteBuffer.allocateDirect(out.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
            float[] in1 = new float[10 * 2];
            float[] out1 = new float[10 * 2];
            assertNoGarbage("Conv2D float[]", () -> conv.predict(in, out, 1, 6, 6, 2));
            assertNoGarbage("Conv2D direct FloatBuffer", () -> conv.predict(bin, bout, 1, 6, 6, 2));
            assertNoGarbage("Conv2D FloatPointer", () -> conv.predict(pin, pout, 1, 6, 6, 2));
            assertNoGarbage("Conv1D float[]", () -> conv1.predict(in1, out1, 1, 10, 2));
        }
    }

    /** The Java backend into a caller's float[]: per-thread scratch and call state are reused, pool hand-off included. */
    @Test
    void javaBackendSteadyStateCallsAllocateNothing() {
        try (Conv2D conv = Conv2D.builder().filters(20).kernelSize(3, 3).padding(Padding.SAME)
                .backend(Backend.JAVA).build();
             Conv2D depthwise = Conv2D.builder().filters(8).kernelSize(3, 3).groups(8).padding(Padding.SAME)
                .backend(Backend.JAVA).build()) {
            conv.setWeights(new float[3 * 3 * 3 * 20], new float[20]);
            depthwise.setWeights(new float[3 * 3 * 1 * 8], new float[8]);
            float[] in = new float[12 * 12 * 3];
            float[] out = new float[12 * 12 * 20];
            float[] inDw = new float[12 * 12 * 8];
            float[] outDw = new float[12 * 12 * 8];
            for (int threads = 1; threads <= 2; threads++) {
                conv.setThreads(threads);
                depthwise.setThreads(threads);
                assertNoGarbage("Java Conv2D float[] threads " + threads, () -> conv.predict(in, out, 1, 12, 12, 3));
                assertNoGarbage("Java depthwise float[] threads " + threads,
                        () -> depthwise.predict(inDw, outDw, 1, 12, 12, 8));
            }
        }
    }
}

package org.conv4j;

import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;

/**
 * Run in its own JVM by {@link NativeMemoryLeakTest} with a fixed, pre-touched heap, so that the
 * resident set changes only with native memory (and the JIT's): creates, runs and closes a
 * native layer N times after a warm-up and prints one line with the figures, measured after a
 * collection and malloc_trim so that garbage and allocator caching do not count. Exit status 1
 * when a result is wrong. A third argument {@code leak} skips close(), to show the measurement
 * sees a real leak.
 */
public final class LeakProbe {
    private LeakProbe() {}

    public static void main(String[] args) {
        int iterations = Integer.parseInt(args[0]);
        int warmUp = Integer.parseInt(args[1]);
        boolean leak = args.length > 2 && args[2].equals("leak");
        float[] kernel = new float[3 * 3 * 16 * 32];
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] = (i % 11) * 0.125f - 0.5f;
        }
        float[] bias = new float[32];
        float[] input = new float[4 * 4 * 16];
        Arrays.fill(input, 1f);
        float[] expected = null;
        long baseline = 0;
        long baselineTracked = 0;
        long peak = Long.MIN_VALUE;
        long started = System.nanoTime();
        for (int i = 0; i < warmUp + iterations; i++) {
            if (i == warmUp) {
                baseline = residentBytes();
                baselineTracked = Pointer.totalBytes();
                started = System.nanoTime();
            }
            Conv2D conv = Conv2D.builder().filters(32).kernelSize(3, 3).padding(Padding.SAME).threads(1)
                    .backend(Backend.NATIVE).build();
            conv.setWeights(kernel, bias);
            float[] y = conv.predict(input, 1, 4, 4, 16);
            if (!leak) {
                conv.close();
            }
            if (expected == null) {
                expected = y;
            } else if (i % 997 == 0 && !Arrays.equals(expected, y)) {
                System.out.println("WRONG result at iteration " + i);
                System.exit(1);
            }
            if (i > warmUp && (i - warmUp) % Math.max(1, iterations / 10) == 0) {
                peak = Math.max(peak, residentBytes() - baseline);
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        long growth = residentBytes() - baseline;
        System.out.printf("LEAK cycles=%d growth=%d peak=%d tracked=%d rss=%d seconds=%.1f%n", iterations, growth,
                Math.max(peak, growth), Pointer.totalBytes() - baselineTracked, Pointer.physicalBytes(), seconds);
    }

    private static long residentBytes() {
        System.gc();
        Pointer.trimMemory();
        return Pointer.physicalBytes();
    }
}

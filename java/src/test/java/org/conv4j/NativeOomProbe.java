package org.conv4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in its own JVM by {@link NativeOutOfMemoryTest}: caps its own address space (RLIMIT_AS via
 * util-linux {@code prlimit}) just above what it uses, then asks for a plan whose native memory
 * cannot fit, and prints what came back. Mode {@code packing}: room for JNI's copy of the
 * kernel but not for the plan's packed copy, so conv4j_plan_create's malloc fails; mode
 * {@code jni-copy}: not even room for JNI's copy of the kernel array. Afterwards the cap is
 * lifted and a small convolution must still work: the failure left nothing broken.
 */
public final class NativeOomProbe {
    private static final int CHANNELS = 8192; // 1x1 kernel of 8192 x 8192 floats = 256 MiB
    private static final long KERNEL_BYTES = (long) CHANNELS * CHANNELS * Float.BYTES;

    private NativeOomProbe() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        float[] kernel = new float[CHANNELS * CHANNELS];
        try (Conv2D conv = Conv2D.builder().filters(CHANNELS).kernelSize(1).useBias(false).threads(1)
                .backend(Backend.NATIVE).build()) {
            conv.setWeights(kernel, null);
            kernel = null;
            long room = mode.equals("packing") ? KERNEL_BYTES * 3 / 2 : KERNEL_BYTES / 2;
            limitAddressSpace(Long.toString(virtualBytes() + room));
            try {
                float[] y = conv.predict(new float[CHANNELS], 1, 1, 1, CHANNELS);
                System.out.println("RESULT no error, " + y.length + " outputs");
            } catch (OutOfMemoryError e) {
                System.out.println("RESULT " + e.getClass().getName() + ": " + e.getMessage());
            } catch (RuntimeException e) {
                System.out.println("RESULT " + e.getClass().getName() + ": " + e.getMessage());
            } finally {
                limitAddressSpace("unlimited");
            }
        }
        try (Conv1D small = Conv1D.builder().filters(1).kernelSize(2).useBias(false).backend(Backend.NATIVE).build()) {
            small.setWeights(new float[] {1, 2}, null);
            float[] y = small.predict(new float[] {1, 1, 1}, 1, 3, 1);
            System.out.println("AFTER " + y[0] + " " + y[1]);
        }
    }

    /** VmSize of this process, bytes. */
    private static long virtualBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmSize:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmSize in /proc/self/status");
    }

    /** Sets this process's soft RLIMIT_AS; the hard limit stays, so it can be lifted again. */
    private static void limitAddressSpace(String soft) throws Exception {
        Process p = new ProcessBuilder("prlimit", "--pid", Long.toString(ProcessHandle.current().pid()),
                "--as=" + soft + ":").inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("prlimit --as=" + soft + ": exit " + p.exitValue());
        }
    }
}

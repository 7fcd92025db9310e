package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A native allocation that fails becomes a Java {@link OutOfMemoryError} with a message, not a
 * crash and not a misleading error. Each case runs {@link NativeOomProbe} in its own JVM, which
 * caps its address space (RLIMIT_AS) so that a 256 MiB native allocation fails: conv4j's own
 * malloc while packing the weights, or JNI's copy of the kernel array before conv4j runs.
 * The probe then lifts the cap and checks the library still works. Linux (prlimit, /proc).
 */
class NativeOutOfMemoryTest {

    @ParameterizedTest
    @ValueSource(strings = {"packing", "jni-copy"})
    void nativeAllocationFailureIsAnOutOfMemoryError(String mode) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = List.of(java.toString(), "-Xmx1200m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                NativeOomProbe.class.getName(), mode);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "probe timed out");
        assertEquals(0, p.exitValue(), "probe output:\n" + out);
        String result = out.lines().filter(l -> l.startsWith("RESULT ")).findFirst().orElse("none:\n" + out);
        assertTrue(result.startsWith("RESULT java.lang.OutOfMemoryError: conv4j: native memory exhausted creating a"
                + " plan for Conv2D(filters=8192"), result);
        assertTrue(out.contains("AFTER 3.0 3.0"), "library unusable after the failure:\n" + out);
        System.out.println(mode + ": " + result);
    }
}

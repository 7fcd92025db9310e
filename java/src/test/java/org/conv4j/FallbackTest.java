package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The backend choice in fresh JVMs: a platform with no native library falls back to the Java
 * reference with one warning and a reason; the system property forces either backend.
 */
class FallbackTest {

    /** Run in a child JVM: prints what the library decided and the tutorial's 1-D result. */
    public static void main(String[] args) {
        System.out.println("available=" + Conv4j.nativeAvailable());
        System.out.println("error=" + Conv4j.nativeLoadError());
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(3).build()) {
            conv.setWeights(new float[] {0, 1, 0}, new float[] {0});
            float[] y = conv.predict(new float[] {0, 0, 0, 1, 1, 0, 0, 0}, 1, 8, 1);
            System.out.println("backend=" + conv.backend() + " y=" + java.util.Arrays.toString(y));
        } catch (IllegalStateException e) {
            System.out.println("refused=" + e.getMessage());
        }
    }

    private static String run(String... properties) throws IOException, InterruptedException {
        return runMain(FallbackTest.class, properties);
    }

    /** Runs {@code main} in a child JVM on the test class path with these options; returns its output. */
    static String runMain(Class<?> main, String... options) throws IOException, InterruptedException {
        return runMain(Map.of(), main, options);
    }

    /**
     * Runs {@code main} in a child JVM on the test class path with these options and these
     * environment variables set on top of this JVM's; returns its output.
     */
    static String runMain(Map<String, String> environment, Class<?> main, String... options)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.addAll(List.of(options));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void nativeLoadsInAFreshJvmWithoutLibraryPath() throws Exception {
        String out = run();
        assertTrue(out.contains("available=true"), out);
        assertTrue(out.contains("backend=NATIVE y=[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]"), out);
    }

    @Test
    void unsupportedPlatformFallsBackWithOneWarning() throws Exception {
        String out = run("-Dorg.bytedeco.javacpp.platform=linux-sparc64");
        assertTrue(out.contains("available=false"), out);
        assertTrue(out.contains("backend=JAVA y=[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]"), out);
        assertEquals(1, out.split("native library unavailable", -1).length - 1, out);
    }

    @Test
    void propertyForcesJava() throws Exception {
        String out = run("-Dconv4j.backend=java");
        assertTrue(out.contains("available=false"), out);
        assertTrue(out.contains("error=not loaded: -Dconv4j.backend=java"), out);
        assertTrue(out.contains("backend=JAVA"), out);
        assertTrue(!out.contains("WARNING"), out);
    }

    @Test
    void badPropertyIsNamedInTheError() throws Exception {
        String out = run("-Dconv4j.backend=gpu");
        assertTrue(out.contains("refused=system property conv4j.backend must be auto, native or java, got 'gpu'"),
                out);
    }

    @Test
    void propertyForcesNativeAndRefusesWithoutIt() throws Exception {
        String out = run("-Dconv4j.backend=native", "-Dorg.bytedeco.javacpp.platform=linux-sparc64");
        assertTrue(out.contains("refused=the native backend is not available"), out);
    }
}

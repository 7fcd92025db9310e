package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extracting and loading the native library in fresh JVMs, as users meet it: from a jar (the
 * natives in target/classes would load in place, without extraction), into an unwritable, read-only
 * or noexec cache folder, and from two JVMs at once. The read-only and noexec cases mount a tmpfs in
 * a private user and mount namespace ({@code unshare -rm}), so they need util-linux and
 * unprivileged user namespaces (both present on Debian and in CI).
 */
class NativeLoadingTest {

    @TempDir
    static Path temp;
    private static Path nativesJar;

    /** Child JVM: what the library decided, and one convolution through the default backend. */
    public static void main(String[] args) {
        System.out.println("available=" + Conv4j.nativeAvailable());
        System.out.println("error=" + Conv4j.nativeLoadError());
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(3).build()) {
            conv.setWeights(new float[] {1, 2, 3}, new float[] {0.5f});
            float[] y = conv.predict(new float[] {1, 0, 0, 1}, 1, 4, 1);
            System.out.println("backend=" + conv.backend() + " y=" + java.util.Arrays.toString(y));
        }
    }

    /** A jar holding only this platform's natives, put first on the child's class path. */
    @BeforeAll
    static void packNatives() throws Exception {
        Path classes = Paths.get(Conv4j.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String folder = "org/conv4j/internal/" + Loader.getPlatform();
        nativesJar = temp.resolve("natives.jar");
        try (OutputStream file = Files.newOutputStream(nativesJar); JarOutputStream jar = new JarOutputStream(file);
                var libraries = Files.list(classes.resolve(folder))) {
            for (Path library : (Iterable<Path>) libraries::iterator) {
                jar.putNextEntry(new JarEntry(folder + "/" + library.getFileName()));
                jar.write(Files.readAllBytes(library));
                jar.closeEntry();
            }
        }
    }

    private static List<String> javaCommand(String... properties) {
        List<String> cmd = new ArrayList<>();
        cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        cmd.addAll(List.of(properties));
        cmd.add("-cp");
        cmd.add(nativesJar + File.pathSeparator + System.getProperty("java.class.path"));
        cmd.add(NativeLoadingTest.class.getName());
        return cmd;
    }

    private static String await(Process p) throws IOException, InterruptedException {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        return await(new ProcessBuilder(cmd).redirectErrorStream(true).start());
    }

    /** Runs the child inside a new mount namespace with a tmpfs mounted at dir with the options. */
    private static String runWithMount(Path dir, String options, String... properties) throws Exception {
        Files.createDirectories(dir);
        StringBuilder script = new StringBuilder("mount -t tmpfs -o " + options + " tmpfs '" + dir + "' && exec");
        for (String arg : javaCommand(properties)) {
            script.append(" '").append(arg).append('\'');
        }
        return run(List.of("unshare", "-rm", "sh", "-c", script.toString()));
    }

    private static void assertLoadedAndNative(String out) {
        assertTrue(out.contains("available=true"), out);
        assertTrue(out.contains("backend=NATIVE y=[1.5, 3.5]"), out);
    }

    private static void assertExplainedFallback(String out) {
        assertTrue(out.contains("available=false"), out);
        assertTrue(out.contains("backend=JAVA y=[1.5, 3.5]"), out);
        assertFalse(out.contains("\tat "), "no stack trace: " + out);
        assertEquals(1, out.split("native library unavailable", -1).length - 1, out);
    }

    @Test
    void extractsFromTheJarIntoAFreshCache() throws Exception {
        Path cache = temp.resolve("fresh-cache");
        String out = run(javaCommand("-Dorg.bytedeco.javacpp.cachedir=" + cache));
        assertLoadedAndNative(out);
        try (var files = Files.walk(cache)) {
            assertTrue(files.anyMatch(f -> f.getFileName().toString().contains("jniConv4jNative")), "extracted");
        }
    }

    @Test
    void unwritableCacheNamesTheProperty() throws Exception {
        Path file = Files.writeString(temp.resolve("a-file"), "not a folder");
        String out = run(javaCommand("-Dorg.bytedeco.javacpp.cachedir=" + file.resolve("cache"),
                "-Duser.home=" + file.resolve("home"), "-Djava.io.tmpdir=" + file.resolve("tmp")));
        assertExplainedFallback(out);
        assertTrue(out.contains("error=cannot extract the native library: no writable cache folder"), out);
        assertTrue(out.contains("-Dorg.bytedeco.javacpp.cachedir " + file.resolve("cache") + ": " + file
                + " is a file, not a folder"), out);
        assertTrue(out.contains("set -Dorg.bytedeco.javacpp.cachedir=<a writable folder"), out);
    }

    @Test
    void twoJvmsWithAnEmptyCacheBothLoad() throws Exception {
        for (int round = 0; round < 3; round++) {
            List<String> cmd = javaCommand("-Dorg.bytedeco.javacpp.cachedir=" + temp.resolve("shared-cache-" + round));
            Process first = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Process second = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            assertLoadedAndNative(await(first));
            assertLoadedAndNative(await(second));
        }
    }

    @Test
    void readOnlyTempFolderIsExplained() throws Exception {
        Path ro = temp.resolve("read-only");
        String out = runWithMount(ro, "ro", "-Dorg.bytedeco.javacpp.cachedir=" + ro.resolve("cache"),
                "-Duser.home=" + ro, "-Djava.io.tmpdir=" + ro);
        assertExplainedFallback(out);
        assertTrue(out.contains("-Dorg.bytedeco.javacpp.cachedir " + ro.resolve("cache") + ": read-only file system"),
                out);
        assertTrue(out.contains("java.io.tmpdir " + ro + "/.javacpp-"), out);
    }

    @Test
    void noexecCacheFolderIsExplained() throws Exception {
        Path noexec = temp.resolve("noexec");
        String out = runWithMount(noexec, "noexec", "-Dorg.bytedeco.javacpp.cachedir=" + noexec.resolve("cache"));
        assertExplainedFallback(out);
        assertTrue(out.contains("the system refused to map it executable: that file system is probably mounted noexec"),
                out);
        assertTrue(out.contains("extracted to " + noexec.resolve("cache")), out);
        assertTrue(out.contains("set -Dorg.bytedeco.javacpp.cachedir=<a folder where code may run"), out);
        assertTrue(out.contains("(the system said: failed to map segment from shared object)"), out);
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Creates, runs and closes native layers 10^5 times (-Dconv4j.leak.iterations=N; README
 * "Reliability" records a 10^6 run) and asserts that native memory stays bounded: the resident
 * set of a JVM whose heap is fixed and pre-touched ({@link LeakProbe}), measured by JavaCPP's
 * {@code Pointer.physicalBytes()}, grows by less than 32 MiB, and JavaCPP's tracked allocations
 * return to where they were. Each layer's plan holds a packed 3x3x16x32 kernel (18 KiB) plus
 * the plan itself, so losing one plan in 60 would break the bound; losing every plan, ~2 GB.
 */
class NativeMemoryLeakTest {
    private static final int ITERATIONS = Integer.getInteger("conv4j.leak.iterations", 100_000);
    private static final long BOUND = 32L << 20;

    @Test
    void createRunCloseKeepsNativeMemoryBounded() throws Exception {
        Matcher m = probe(ITERATIONS, false);
        long growth = Long.parseLong(m.group(2));
        long peak = Long.parseLong(m.group(3));
        long tracked = Long.parseLong(m.group(4));
        System.out.printf("leak: %s create/run/close cycles: resident memory grew %.1f MiB (peak %.1f MiB),"
                + " JavaCPP-tracked bytes grew %d, RSS %.0f MiB, %s s%n", m.group(1), growth / 1048576.0,
                peak / 1048576.0, tracked, Long.parseLong(m.group(5)) / 1048576.0, m.group(6));
        assertTrue(peak < BOUND, "resident memory grew by up to " + peak + " bytes over " + m.group(1) + " cycles");
        assertTrue(tracked <= 0, "JavaCPP-tracked native memory grew by " + tracked + " bytes");
    }

    /** The measurement is sensitive: layers left open (plans never freed) are seen at once. */
    @Test
    void layersLeftOpenAreSeen() throws Exception {
        Matcher m = probe(2_000, true); // more would hit JavaCPP's physical-memory cap in the 96 MiB probe
        long growth = Long.parseLong(m.group(2));
        assertTrue(growth > 50L << 20, "2000 unclosed layers (~150 MiB of plans and workspaces) grew RSS by only " + growth);
    }

    private static Matcher probe(int iterations, boolean leak) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = List.of(java.toString(), "-Xms96m", "-Xmx96m", "-XX:+AlwaysPreTouch",
                "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), LeakProbe.class.getName(),
                Integer.toString(iterations), leak ? "100" : "5000", leak ? "leak" : "close"); // warm-up cycles
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.MINUTES), "probe timed out");
        assertEquals(0, p.exitValue(), "probe output:\n" + out);
        Matcher m = Pattern.compile("LEAK cycles=(\\d+) growth=(-?\\d+) peak=(-?\\d+) tracked=(-?\\d+) rss=(\\d+)"
                + " seconds=([0-9.]+)").matcher(out);
        assertTrue(m.find(), "no figures in:\n" + out);
        return m;
    }
}

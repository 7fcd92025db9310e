package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import org.conv4j.internal.NativeIsa;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The native kernels at every ISA level this machine has: a child JVM per level runs with
 * {@code CONV4J_MAX_ISA=<level>} and compares a subset of {@link RandomConfigurationTest}'s random
 * cases (the same {@link RandomCase}s, {@link ForcedAlgorithm} and {@link Tolerance}) with the
 * reference, each algorithm forced in turn. A level the CPU lacks (above its own, or of the other
 * architecture: avx2 on arm64, neon on x86-64) is not tested, and says so in
 * one loud line ({@code ISA LEVEL NOT TESTED: avx512 (cpu: avx2)}).
 */
class IsaLevelsTest {
    /** The algorithms forced in each child; WINOGRAD is forced with the layer's Winograd switch on. */
    static final List<Algorithm> ALGORITHMS = List.of(Algorithm.GEMM, Algorithm.DIRECT, Algorithm.DEPTHWISE,
            Algorithm.WINOGRAD, Algorithm.REFERENCE, Algorithm.AUTO);
    static final int CASES = Integer.getInteger("conv4j.test.isaCases", 96);

    @ParameterizedTest(name = "CONV4J_MAX_ISA={0}")
    @EnumSource(NativeIsa.class)
    void nativeMatchesReferenceAtEveryIsaLevel(NativeIsa level) throws Exception {
        assumeTrue(Conv4j.nativeAvailable(), "native library not loaded: " + Conv4j.nativeLoadError());
        NativeIsa cpu = NativeIsa.fromName(Conv4j.cpuIsa());
        assertNotNull(cpu, "unknown cpu ISA " + Conv4j.cpuIsa());
        if (!level.availableOn(cpu)) {
            System.out.println("ISA LEVEL NOT TESTED: " + level.isaName() + " (cpu: " + cpu.isaName() + ")");
            assumeTrue(false, "ISA LEVEL NOT TESTED: " + level.isaName() + " (cpu: " + cpu.isaName() + ")");
        }
        String out = FallbackTest.runMain(Map.of("CONV4J_MAX_ISA", level.isaName()), IsaLevelsTest.class,
                "-Dconv4j.test.isa=" + level.isaName(), "-Dconv4j.test.isaCases=" + CASES,
                "-Dconv4j.test.seed=" + RandomConfigurationTest.SEED);
        String ran = out.lines().filter(l -> l.startsWith("ISA RAN ")).findFirst().orElse(null);
        assertNotNull(ran, "the child did not report:\n" + out);
        assertTrue(out.contains("ISA CHILD OK"), out);
        out.lines().filter(l -> l.startsWith("  ") || l.startsWith("ISA LEVEL")).forEach(System.out::println);
        // One line per level that really ran, for CI to collect (surefire writes it to
        // target/surefire-reports/org.conv4j.IsaLevelsTest-output.txt).
        String active = ran.substring("ISA RAN ".length()).split(" ")[0];
        System.out.println("ISA LEVEL TESTED: " + active + " (CONV4J_MAX_ISA=" + level.isaName() + ")");
    }

    /** The child: checks the level in use, then runs the comparison for each algorithm. */
    public static void main(String[] args) {
        NativeIsa requested = NativeIsa.fromName(System.getProperty("conv4j.test.isa"));
        NativeIsa active = NativeIsa.fromName(Conv4j.activeIsa());
        NativeIsa cpu = NativeIsa.fromName(Conv4j.cpuIsa());
        assertNotNull(requested, "no -Dconv4j.test.isa");
        assertNotNull(active, "unknown active ISA " + Conv4j.activeIsa());
        assertEquals(requested.isaName(), System.getenv("CONV4J_MAX_ISA"));
        assertTrue(requested.availableOn(cpu), "the parent runs only levels the CPU has");
        // Every x86-64 build has a kernel config for each level, and every arm64 build one for neon:
        // the cap is the level that runs.
        assertEquals(requested, active, "CONV4J_MAX_ISA=" + requested.isaName() + " on a " + cpu.isaName()
                + " cpu");
        System.out.println("ISA RAN " + active.isaName() + " (cap " + requested.isaName() + ", cpu " + cpu.isaName()
                + ")");
        long seed = Long.getLong("conv4j.test.seed", RandomConfigurationTest.SEED);
        int cases = Integer.getInteger("conv4j.test.isaCases", 96);
        for (Algorithm algorithm : ALGORITHMS) {
            int accepted = compare(algorithm, seed, cases, active);
            int minimum = ForcedAlgorithm.ACCEPTS_EVERYTHING.contains(algorithm) ? cases : Math.max(1, cases / 20);
            System.out.println("  " + algorithm.cliName() + ": " + accepted + " of " + cases + " cases within the"
                    + " bound at isa " + active.isaName());
            assertTrue(accepted >= minimum, algorithm + " accepted " + accepted + " of " + cases + ", expected >= "
                    + minimum);
        }
        System.out.println("ISA CHILD OK");
    }

    /** RandomConfigurationTest's comparison for one forced algorithm; returns the cases it accepted. */
    private static int compare(Algorithm algorithm, long seed, int cases, NativeIsa active) {
        int accepted = 0;
        for (int i = 0; i < cases; i++) {
            RandomCase c = new RandomCase(seed, i);
            ConvLayer.Builder b = c.builder().backend(Backend.NATIVE).algorithm(algorithm).threads(i % 3);
            if (algorithm == Algorithm.WINOGRAD) {
                b.winograd(true);
            }
            try (ConvLayer layer = b.build()) {
                layer.setWeights(c.kernel, c.bias);
                float[] actual = ForcedAlgorithm.predictOrRefusal(layer, algorithm, c.input, c.inputShape);
                if (actual == null) {
                    continue;
                }
                accepted++;
                String explain = layer.explain(c.inputShape);
                assertTrue(explain.contains("(isa " + active.isaName() + ")"), "explain names another ISA: " + explain);
                ConvGeometry g = c.geometry();
                String ran = layer.algorithm(c.inputShape);
                Tolerance.assertWithinBoundOf(ran, g, c.input, c.kernel, c.bias,
                        ReferenceConvolution.compute(g, c.input, c.kernel, c.bias), actual,
                        "isa " + active.isaName() + " case " + i + " " + c + " via " + ran);
            }
        }
        return accepted;
    }
}

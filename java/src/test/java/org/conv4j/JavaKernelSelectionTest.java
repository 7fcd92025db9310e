package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/**
 * The Java backend's micro-kernel choice in fresh JVMs: plain Java without the Vector API module
 * (the library must run there), the Vector API with {@code --add-modules jdk.incubator.vector},
 * plain Java again when {@code -Dconv4j.java.vector=false}; each JVM checks its results against
 * the reference on random configurations.
 */
class JavaKernelSelectionTest {

    /** Run in a child JVM: prints the micro-kernel and how many random cases matched the reference. */
    public static void main(String[] args) {
        int cases = 200;
        try {
            RandomConfigurationTest.javaBackendMatchesTheReference(RandomConfigurationTest.SEED + 5, cases);
            System.out.println("kernel=" + JavaConvolution.kernelName() + " matched=" + cases);
        } catch (AssertionFailedError e) {
            System.out.println("kernel=" + JavaConvolution.kernelName() + " mismatch: " + e.getMessage());
        }
    }

    @Test
    void withoutTheModuleThePlainJavaKernelServes() throws Exception {
        String out = FallbackTest.runMain(JavaKernelSelectionTest.class, "-Dconv4j.backend=java");
        assertTrue(out.contains("kernel=scalar matched=200"), out);
    }

    @Test
    void withTheModuleTheVectorKernelServes() throws Exception {
        String out = FallbackTest.runMain(JavaKernelSelectionTest.class, "-Dconv4j.backend=java",
                "--add-modules", "jdk.incubator.vector");
        assertTrue(out.contains("kernel=vector-") && out.contains(" matched=200"), out);
    }

    @Test
    void propertyTurnsTheVectorKernelOff() throws Exception {
        String out = FallbackTest.runMain(JavaKernelSelectionTest.class, "-Dconv4j.backend=java",
                "--add-modules", "jdk.incubator.vector", "-Dconv4j.java.vector=false");
        assertTrue(out.contains("kernel=scalar matched=200"), out);
    }
}

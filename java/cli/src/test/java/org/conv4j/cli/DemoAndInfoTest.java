package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.conv4j.Conv4j;
import org.junit.jupiter.api.Test;

class DemoAndInfoTest {
    @Test
    void demoPrintsBothTutorialExamplesAndTheirAgreement() {
        CliRun r = CliRun.of("demo");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertEquals("", r.err());
        String out = r.out();
        // Conv1D, as numpy prints the (1, 6, 1) prediction.
        assertTrue(out.contains("[[[0.]\n    [0.]\n    [1.]\n    [1.]\n    [0.]\n    [0.]]]"), out);
        // Conv2D, one Python list per output row.
        assertEquals(6, out.split("\\[0\\.0, 0\\.0, 3\\.0, 3\\.0, 0\\.0, 0\\.0\\]", -1).length - 1, out);
        assertTrue(out.contains("0 0 0 1 1 0 0 0"), out);
        assertTrue(out.contains("0 1 0"), out);
        assertEquals(2, out.split("matches the tutorial's answer: yes", -1).length - 1, out);
        if (Conv4j.nativeAvailable()) {
            assertEquals(4, out.split("backends agree: yes", -1).length - 1, out);
            assertTrue(out.contains("backends agree on layer 1: yes") && out.contains("backends agree on layer 2: yes"), out);
            assertTrue(out.contains("native:") && out.contains("java:"), out);
        } else {
            assertTrue(out.contains("native backend unavailable: "), out);
        }
    }

    @Test
    void infoReportsVersionPlatformNativeStatusAndJava() {
        CliRun r = CliRun.of("info");
        assertEquals(0, r.exit(), r.err());
        String out = r.out();
        assertTrue(out.startsWith("conv4j:") && out.contains(Conv4j.version()), out);
        for (String key : new String[] {"platform:", "native library:", "CPU features:", "detected ISA:",
            "ISA in use:", "OpenMP threads:", "java:"}) {
            assertTrue(out.contains("\n" + key), key + " missing in\n" + out);
        }
        assertTrue(out.contains(Conv4j.platform()), out);
        assertTrue(out.contains(System.getProperty("java.version")), out);
        if (Conv4j.nativeAvailable()) {
            assertTrue(out.contains("native library:  loaded"), out);
            // .ci/run greps this line: the level in use, alone, as conv4j_isa_name spells it.
            assertTrue(out.matches("(?s).*\\nISA in use: +" + Conv4j.activeIsa() + "\\R.*"), out);
            assertTrue(out.matches("(?s).*\\ndetected ISA: +" + Conv4j.cpuIsa() + "\\R.*"), out);
            assertTrue(Conv4j.activeIsa().matches("scalar|avx2|avx512|neon"), Conv4j.activeIsa());
        } else {
            assertTrue(out.contains("not loaded: "), out);
        }
    }

    @Test
    void noCommandIsAUsageError() {
        assertTrue(CliRun.of().assertOneLineError().contains("missing command"));
        assertTrue(CliRun.of("frobnicate").assertOneLineError().contains("frobnicate"));
    }

    @Test
    void helpAndVersionSucceed() {
        CliRun help = CliRun.of("conv", "--help");
        assertEquals(0, help.exit());
        assertTrue(help.out().contains("--data-format"), help.out());
        CliRun version = CliRun.of("--version");
        assertEquals(0, version.exit());
        assertEquals("conv4j " + Conv4j.version(), version.out().strip());
    }

    @Test
    void errorLinesAreSingleLine() {
        assertEquals("conv4j: error: a b c", Main.errorLine(new IllegalArgumentException("a\n  b\r\nc\n")));
        assertTrue(Main.errorLine(new NullPointerException()).startsWith("conv4j: error: internal error: "));
        assertEquals("conv4j: error: bad property",
                Main.errorLine(new ExceptionInInitializerError(new IllegalStateException("bad property"))));
    }
}

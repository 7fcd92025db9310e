package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * One version everywhere: the Maven project, the CMake project, the C library's conv4j_version()
 * and Conv4j.version(). Also, on the emulated arm64 run, that the JVM really is arm64 and the
 * portable kernels serve. Surefire passes the expected values as system properties.
 */
class VersionTest {

    private static String mavenVersion() {
        String v = System.getProperty("conv4j.expected.version");
        assertNotNull(v, "surefire sets conv4j.expected.version to the project version");
        return v.replaceFirst("-SNAPSHOT$", "");
    }

    @Test
    void javaAndCAgreeWithTheBuild() {
        assertTrue(Conv4j.nativeAvailable(), "native: " + Conv4j.nativeLoadError());
        assertEquals(mavenVersion(), Conv4j.version());
        assertEquals(Conv4j.version(), Conv4j.nativeVersion());
    }

    @Test
    void cmakeProjectVersionMatches() throws Exception {
        Path cmake = Paths.get(System.getProperty("user.dir")).resolve("../CMakeLists.txt");
        Matcher m = Pattern.compile("project\\(conv4j VERSION (\\S+)").matcher(Files.readString(cmake));
        assertTrue(m.find(), "project(conv4j VERSION ...) in " + cmake);
        assertEquals(mavenVersion(), m.group(1));
    }

    @Test
    void runsOnTheExpectedPlatform() {
        String expected = System.getProperty("conv4j.expected.platform", Conv4j.platform());
        assertEquals(expected, Conv4j.platform());
        if (expected.endsWith("arm64")) { // Advanced SIMD is on every AArch64 CPU
            assertEquals("neon", Conv4j.cpuIsa());
            assertEquals("scalar".equals(System.getenv("CONV4J_MAX_ISA")) ? "scalar" : "neon",
                    Conv4j.activeIsa());
        }
    }
}

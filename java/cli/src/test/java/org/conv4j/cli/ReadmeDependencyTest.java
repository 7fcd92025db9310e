package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's {@code <dependency>} snippet is exactly what the integration test
 * src/it/readme-dependency resolves and runs after this build installs conv4j (there with
 * {@code @project.version@} and {@code @conv4j.host.platform@} for the README's version and
 * {@code linux-x86_64}), so the snippet a new user copies is the one that is tested.
 */
class ReadmeDependencyTest {
    @Test
    void readmeSnippetIsTheIntegrationTestsDependencies() throws Exception {
        String readme = Files.readString(Path.of("../../README.md"), StandardCharsets.UTF_8);
        Matcher xml = Pattern.compile("(?s)```xml\\n(.*?)```").matcher(readme);
        assertTrue(xml.find(), "README.md has an ```xml dependency snippet");
        String snippet = xml.group(1);
        String itPom = Files.readString(Path.of("src/it/readme-dependency/pom.xml"), StandardCharsets.UTF_8);
        Matcher marked = Pattern.compile("(?s)<!-- README dependency snippet: begin -->\\n(.*?)\\n\\s*"
                + "<!-- README dependency snippet: end -->").matcher(itPom);
        assertTrue(marked.find(), "the IT pom marks its snippet");
        String tested = marked.group(1).replace("@conv4j.host.platform@", "linux-x86_64");
        Matcher version = Pattern.compile("<version>([^<]+)</version>").matcher(snippet);
        assertTrue(version.find(), snippet);
        tested = tested.replace("@project.version@", version.group(1));
        assertEquals(normalize(tested), normalize(snippet));
        String projectVersion = System.getProperty("conv4j.expected.version");
        if (projectVersion != null) {
            assertEquals(projectVersion, version.group(1), "the README names this build's version");
        }
    }

    /** The same lines, each stripped of its indentation. */
    private static String normalize(String xml) {
        return xml.strip().lines().map(String::strip).reduce((a, b) -> a + "\n" + b).orElse("");
    }
}

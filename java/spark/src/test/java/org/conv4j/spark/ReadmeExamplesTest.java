package org.conv4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Every {@code ```java} block of the repository's README.md compiles as shown, against this
 * module's test class path (conv4j, conv4j-spark and Spark: everything the README's examples use).
 * Lives here rather than in the core module because only here is Spark on the class path.
 *
 * <p>The convention for README blocks:
 * <ul>
 *   <li>a block begins with the {@code import} lines it needs (none are added for it);</li>
 *   <li>if what follows the imports starts with a type declaration ({@code class}, {@code record},
 *       {@code interface}, {@code enum}, possibly {@code public}/{@code final}), the block is a
 *       compilation unit and is compiled as is;</li>
 *   <li>otherwise it is a method body: it is wrapped, after its imports, in
 *       {@code class ReadmeExampleN { static void example() throws Exception { ... } }}, so every
 *       variable it uses must be declared in the block (with placeholder values where a real
 *       program would load trained weights or data).</li>
 * </ul>
 * Blocks are compiled, not run.
 */
class ReadmeExamplesTest {
    private static final Pattern BLOCK = Pattern.compile("(?m)^```java\\n(.*?)^```", Pattern.DOTALL);
    private static final Pattern TYPE = Pattern.compile(
            "^(public\\s+|final\\s+|abstract\\s+)*(class|record|interface|enum)\\s");

    private static final Pattern DECLARED = Pattern.compile(
            "(?m)^(?:public\\s+|final\\s+|abstract\\s+)*(?:class|record|interface|enum)\\s+(\\w+)");

    /** A compilation unit for one README block, by the convention above. */
    static String source(String block, int n) {
        StringBuilder imports = new StringBuilder();
        List<String> lines = new ArrayList<>(block.lines().toList());
        while (!lines.isEmpty() && (lines.get(0).startsWith("import ") || lines.get(0).isBlank())) {
            imports.append(lines.remove(0)).append('\n');
        }
        String body = String.join("\n", lines);
        if (TYPE.matcher(body.strip()).find()) {
            return imports + body + "\n";
        }
        return imports + "class ReadmeExample" + n + " {\n    static void example() throws Exception {\n" + body
                + "\n    }\n}\n";
    }

    static List<String> blocks(String markdown) {
        List<String> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(markdown);
        while (m.find()) {
            blocks.add(m.group(1));
        }
        return blocks;
    }

    @Test
    void everyJavaBlockOfTheReadmeCompiles() throws Exception {
        Path readme = Path.of("../../README.md");
        List<String> blocks = blocks(Files.readString(readme, StandardCharsets.UTF_8));
        assertTrue(blocks.size() >= 5, "README.md has its java examples (found " + blocks.size() + ")");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Path out = Files.createTempDirectory("readme-examples");
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) {
            String src = source(blocks.get(i), i + 1);
            Matcher declared = DECLARED.matcher(src);
            String name = declared.find() ? declared.group(1) : "ReadmeExample" + (i + 1);
            JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///" + name + ".java"),
                    JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return src;
                }
            };
            DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
            StringWriter log = new StringWriter();
            boolean ok = javac.getTask(log, null, diagnostics, List.of("-proc:none", "-d", out.toString(),
                    "-classpath", System.getProperty("java.class.path")), null, List.of(file)).call();
            if (!ok) {
                StringBuilder why = new StringBuilder("README java block " + (i + 1) + " does not compile:\n");
                diagnostics.getDiagnostics().forEach(d -> why.append("  line ").append(d.getLineNumber()).append(": ")
                        .append(d.getMessage(Locale.ROOT)).append('\n'));
                why.append("as compiled:\n").append(src);
                failures.add(why.toString());
            }
        }
        assertEquals(List.of(), failures, String.join("\n", failures));
    }

    @Test
    void conventionWrapsStatementsAndKeepsDeclarations() {
        String wrapped = source("import java.util.List;\n\nList<String> a = List.of();\n", 7);
        assertTrue(wrapped.startsWith("import java.util.List;\n"), wrapped);
        assertTrue(wrapped.contains("class ReadmeExample7 {\n    static void example() throws Exception {\n"), wrapped);
        String unit = source("import java.util.List;\npublic class Foo {}\n", 1);
        assertEquals("import java.util.List;\npublic class Foo {}\n", unit);
    }
}

package org.conv4j.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * The README's {@code ```java keras} blocks compile against this module, by the convention of
 * java/spark's ReadmeExamplesTest (imports first, then a method body). They are fenced apart so
 * that test, whose class path has no conv4j-keras, leaves them to this one.
 */
class ReadmeKerasExampleTest {
    @Test
    void kerasBlocksCompile() throws Exception {
        String readme = Files.readString(Path.of("../../README.md"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?m)^```java keras\\n(.*?)^```", Pattern.DOTALL).matcher(readme);
        List<String> blocks = new ArrayList<>();
        while (m.find()) {
            blocks.add(m.group(1));
        }
        assertTrue(!blocks.isEmpty(), "README.md has its Keras example");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        Path out = Files.createTempDirectory("readme-keras");
        for (int i = 0; i < blocks.size(); i++) {
            StringBuilder imports = new StringBuilder();
            List<String> lines = new ArrayList<>(blocks.get(i).lines().toList());
            while (!lines.isEmpty() && (lines.get(0).startsWith("import ") || lines.get(0).isBlank())) {
                imports.append(lines.remove(0)).append('\n');
            }
            String src = imports + "class ReadmeKeras" + i + " {\n    static void example() throws Exception {\n"
                    + String.join("\n", lines) + "\n    }\n}\n";
            JavaFileObject file = new SimpleJavaFileObject(URI.create("string:///ReadmeKeras" + i + ".java"),
                    JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return src;
                }
            };
            DiagnosticCollector<JavaFileObject> d = new DiagnosticCollector<>();
            boolean ok = javac.getTask(null, null, d, List.of("-proc:none", "-d", out.toString(), "-classpath",
                    System.getProperty("java.class.path")), null, List.of(file)).call();
            assertEquals(List.of(), ok ? List.of() : d.getDiagnostics().stream().map(Object::toString).toList(), src);
        }
    }
}

package org.conv4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.conv4j.Activation;
import org.conv4j.Algorithm;
import org.conv4j.Conv4j;
import org.conv4j.DataFormat;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The constants of {@code native/include/conv4j.h} and their Java twins agree, both ways: every
 * {@code CONV4J_OK} / {@code CONV4J_ERR_*}, {@code CONV4J_ALGORITHM_*}, {@code CONV4J_ISA_*},
 * {@code CONV4J_LAYOUT_*}, {@code CONV4J_ACTIVATION_*} and {@code #define CONV4J_FLAG_*} has a Java
 * constant with the same name and number, and no Java constant lacks its C one. A constant added
 * on one side only fails here. The header is parsed with regular expressions, not compiled.
 */
class HeaderConstantsTest {
    private static String header;

    @BeforeAll
    static void readHeader() throws IOException {
        header = Files.readString(findHeader(), StandardCharsets.UTF_8);
    }

    /** native/include/conv4j.h above the Maven basedir (the java module: ../native) or the working directory. */
    static Path findHeader() {
        String[] starts = {System.getProperty("basedir"), System.getProperty("user.dir")};
        for (String start : starts) {
            if (start == null) {
                continue;
            }
            for (Path dir = Path.of(start).toAbsolutePath(); dir != null; dir = dir.getParent()) {
                Path candidate = dir.resolve("native/include/conv4j.h");
                if (Files.isRegularFile(candidate)) {
                    return candidate;
                }
            }
        }
        throw new AssertionError("native/include/conv4j.h not found above basedir " + System.getProperty("basedir")
                + " or user.dir " + System.getProperty("user.dir"));
    }

    /**
     * The entries of {@code typedef enum <name> { ... } <name>;}: C name to value. Every entry must
     * have an explicit {@code = number}, so that none is skipped silently.
     */
    static Map<String, Integer> cEnum(String text, String name) {
        Matcher m = Pattern.compile("typedef\\s+enum\\s+" + name + "\\s*\\{(.*?)\\}\\s*" + name + "\\s*;",
                Pattern.DOTALL).matcher(text);
        assertTrue(m.find(), "typedef enum " + name + " not found in conv4j.h");
        String body = m.group(1).replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
        Map<String, Integer> entries = new TreeMap<>();
        for (String entry : body.split(",")) {
            String e = entry.strip();
            if (e.isEmpty()) {
                continue;
            }
            Matcher v = Pattern.compile("(CONV4J_\\w+)\\s*=\\s*(\\d+)").matcher(e);
            assertTrue(v.matches(), "enum " + name + " entry without an explicit value: '" + e + "'");
            entries.put(v.group(1), Integer.parseInt(v.group(2)));
        }
        assertFalse(entries.isEmpty(), "enum " + name + " has no entries");
        return entries;
    }

    /** {@code #define CONV4J_FLAG_<X> <number>}: C name to value. */
    static Map<String, Integer> cFlags(String text) {
        Map<String, Integer> flags = new TreeMap<>();
        Matcher m = Pattern.compile("(?m)^\\s*#\\s*define\\s+(CONV4J_FLAG_\\w+)\\s+(\\S+)").matcher(text);
        while (m.find()) {
            assertTrue(m.group(2).matches("\\d+"), m.group(1) + " is not a plain number: " + m.group(2));
            flags.put(m.group(1), Integer.parseInt(m.group(2)));
        }
        assertFalse(flags.isEmpty(), "no #define CONV4J_FLAG_ in conv4j.h");
        return flags;
    }

    /** Conv4jNative's {@code public static final int} fields whose name starts with prefix: C name to value. */
    static Map<String, Integer> javaFields(String prefix) throws IllegalAccessException {
        Map<String, Integer> fields = new TreeMap<>();
        for (Field f : Conv4jNative.class.getFields()) {
            int mod = f.getModifiers();
            if (Modifier.isStatic(mod) && Modifier.isFinal(mod) && f.getType() == int.class
                    && f.getName().startsWith(prefix)) {
                fields.put("CONV4J_" + f.getName(), f.getInt(null));
            }
        }
        return fields;
    }

    @Test
    void statusesMatch() {
        Map<String, Integer> java = new TreeMap<>();
        for (NativeStatus s : NativeStatus.values()) {
            java.put(s.cName(), s.code());
            assertEquals(s, NativeStatus.fromCode(s.code()));
        }
        Map<String, Integer> c = cEnum(header, "conv4j_status");
        assertTrue(c.keySet().stream().allMatch(k -> k.equals("CONV4J_OK") || k.startsWith("CONV4J_ERR_")),
                c.toString());
        assertEquals(c, java, "conv4j_status (C) vs NativeStatus (Java)");
        assertNull(NativeStatus.fromCode(-1));
        assertNull(NativeStatus.fromCode(c.size()));
    }

    @Test
    void algorithmsMatch() {
        Map<String, Integer> java = new TreeMap<>();
        for (Algorithm a : Algorithm.values()) {
            java.put("CONV4J_ALGORITHM_" + a.name(), a.code());
            assertEquals(a, Algorithm.fromCode(a.code()));
        }
        assertEquals(cEnum(header, "conv4j_algorithm"), java, "conv4j_algorithm (C) vs org.conv4j.Algorithm");
    }

    @Test
    void isaLevelsMatch() {
        Map<String, Integer> java = new TreeMap<>();
        for (NativeIsa isa : NativeIsa.values()) {
            java.put(isa.cName(), isa.code());
            assertEquals(isa, NativeIsa.fromName(isa.isaName()));
        }
        assertEquals(cEnum(header, "conv4j_isa"), java, "conv4j_isa (C) vs NativeIsa");
    }

    @Test
    void layoutsMatch() throws IllegalAccessException {
        Map<String, Integer> c = cEnum(header, "conv4j_layout");
        assertEquals(c, javaFields("LAYOUT_"), "conv4j_layout (C) vs Conv4jNative.LAYOUT_");
        Map<String, Integer> formats = new TreeMap<>();
        for (DataFormat f : DataFormat.values()) {
            formats.put("CONV4J_LAYOUT_" + f.name(), c.get("CONV4J_LAYOUT_" + f.name()));
        }
        assertEquals(c, formats, "every conv4j_layout is a DataFormat and back");
    }

    @Test
    void propagationsMatch() throws IllegalAccessException {
        assertEquals(cEnum(header, "conv4j_propagation"), javaFields("PROPAGATION_"),
                "conv4j_propagation (C) vs Conv4jNative.PROPAGATION_");
    }

    @Test
    void activationsMatch() throws IllegalAccessException {
        Map<String, Integer> c = cEnum(header, "conv4j_activation");
        assertEquals(c, javaFields("ACTIVATION_"), "conv4j_activation (C) vs Conv4jNative.ACTIVATION_");
        Map<String, Integer> activations = new TreeMap<>();
        for (Activation a : Activation.values()) {
            activations.put("CONV4J_ACTIVATION_" + a.name(), c.get("CONV4J_ACTIVATION_" + a.name()));
        }
        assertEquals(c, activations, "every conv4j_activation is an Activation and back");
    }

    @Test
    void flagsMatch() throws IllegalAccessException {
        assertEquals(cFlags(header), javaFields("FLAG_"), "#define CONV4J_FLAG_ (C) vs Conv4jNative.FLAG_");
    }

    /** The names the native core gives the values are the Java ones (needs the native library). */
    @Test
    void nativeNamesMatchTheJavaNames() {
        if (!Conv4j.nativeAvailable()) {
            System.out.println("HeaderConstantsTest: NATIVE NAMES NOT COMPARED, library not loaded: "
                    + Conv4j.nativeLoadError());
            return;
        }
        for (Algorithm a : Algorithm.values()) {
            assertEquals(a.cliName(), Conv4jNative.conv4j_algorithm_name(a.code()));
        }
        for (NativeIsa isa : NativeIsa.values()) {
            assertEquals(isa.isaName(), Conv4jNative.conv4j_isa_name(isa.code()));
        }
        String unknown = Conv4jNative.conv4j_status_string(NativeStatus.values().length);
        for (NativeStatus s : NativeStatus.values()) {
            assertTrue(!Conv4jNative.conv4j_status_string(s.code()).equals(unknown), s + " has no C description");
        }
    }

    /** The parser itself: a constant added in C without a Java twin is seen. */
    @Test
    void parserSeesANewConstant() {
        String patched = header.replace("CONV4J_ERR_WEIGHTS_MISMATCH = 19",
                "CONV4J_ERR_WEIGHTS_MISMATCH = 19,\n    CONV4J_ERR_SOMETHING_NEW = 20 /* new, with a comma */")
                .replace("#define CONV4J_FLAG_FULL_TEAM 4", "#define CONV4J_FLAG_FULL_TEAM 4\n#define CONV4J_FLAG_NEW 8");
        assertEquals(20, cEnum(patched, "conv4j_status").get("CONV4J_ERR_SOMETHING_NEW"));
        assertEquals(8, cFlags(patched).get("CONV4J_FLAG_NEW"));
    }
}

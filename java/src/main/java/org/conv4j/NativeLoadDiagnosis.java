package org.conv4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a failure to load the native library into one line that says what to do. JavaCPP extracts
 * the library from its jar into a cache folder before loading it; on servers that folder is often
 * unwritable, read-only or on a file system mounted {@code noexec}, and its own messages do not
 * say which. Stateless and thread-safe.
 */
final class NativeLoadDiagnosis {
    /** JavaCPP's system property for the extraction folder. */
    static final String CACHE_DIR_PROPERTY = "org.bytedeco.javacpp.cachedir";

    private static final Pattern LIBRARY_PATH = Pattern.compile("(/\\S+\\.(?:so|dylib|dll))");

    private NativeLoadDiagnosis() {}

    /** One line: the cause in plain words and the fix, then the original messages. */
    static String explain(Throwable t) {
        String chain = chain(t);
        if (chain.contains("Could not create the cache")) {
            return "cannot extract the native library: no writable cache folder (tried " + String.join("; ", candidates())
                    + "); set -D" + CACHE_DIR_PROPERTY + "=<a writable folder on a file system that allows executing code>";
        }
        Matcher m = LIBRARY_PATH.matcher(chain);
        String refusal = chain.contains("failed to map segment from shared object")
                ? "failed to map segment from shared object"
                : chain.contains("Operation not permitted") ? "Operation not permitted" : null;
        if (refusal != null && m.find()) {
            String folder = Paths.get(m.group(1)).getParent().toString();
            return "the native library was extracted to " + folder + " but the system refused to map it executable: "
                    + "that file system is probably mounted noexec (common for /tmp on hardened hosts); set -D"
                    + CACHE_DIR_PROPERTY + "=<a folder where code may run, e.g. ~/.javacpp/cache> (the system said: " + refusal + ")";
        }
        return chain;
    }

    /** Every cause's class and message, outermost first, on one line. */
    static String chain(Throwable t) {
        StringBuilder why = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (why.length() > 0) {
                why.append(" <- ");
            }
            why.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
        }
        return why.toString().replace('\n', ' ');
    }

    /** The folders JavaCPP tries, in its order, each with the reason it could not be used. */
    private static List<String> candidates() {
        List<String> tried = new ArrayList<>();
        addCandidate(tried, "-D" + CACHE_DIR_PROPERTY, System.getProperty(CACHE_DIR_PROPERTY));
        addCandidate(tried, "-Dorg.bytedeco.javacpp.cacheDir", System.getProperty("org.bytedeco.javacpp.cacheDir"));
        addCandidate(tried, "user.home", System.getProperty("user.home") + "/.javacpp/cache");
        addCandidate(tried, "java.io.tmpdir",
                System.getProperty("java.io.tmpdir") + "/.javacpp-" + System.getProperty("user.name") + "/cache");
        return tried;
    }

    private static void addCandidate(List<String> tried, String source, String folder) {
        if (folder != null) {
            tried.add(source + " " + folder + ": " + whyUnusable(folder));
        }
    }

    private static String whyUnusable(String folder) {
        Path p;
        try {
            p = Paths.get(folder).toAbsolutePath();
        } catch (InvalidPathException e) {
            return "not a valid path";
        }
        Path existing = p;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return "no part of it exists";
        }
        if (!Files.isDirectory(existing)) {
            return existing + " is a file, not a folder";
        }
        try {
            if (Files.getFileStore(existing).isReadOnly()) {
                return "read-only file system";
            }
        } catch (IOException e) {
            // fall through to the permission check
        }
        if (!Files.isWritable(existing)) {
            return existing + " is not writable by " + System.getProperty("user.name");
        }
        return "could not be created";
    }
}

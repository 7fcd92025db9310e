package org.conv4j;

import java.util.Locale;

/** Which implementation computes a layer. */
public enum Backend {
    /** The C core through JNI (OpenMP, CPU dispatch). */
    NATIVE,
    /**
     * Pure Java, always available, same semantics: blocked loops over packed weights, on the JDK's
     * Vector API when {@code --add-modules jdk.incubator.vector} is given (see README).
     */
    JAVA;

    /** Parses {@code "native"} or {@code "java"}, any case. */
    public static Backend parse(String text) {
        return Enums.parse(Backend.class, "backend", text);
    }

    /** Lower-case name, as the CLI spells it. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}

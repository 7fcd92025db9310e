package org.conv4j;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Parsing of the Keras spellings shared by the option enums. */
final class Enums {
    private Enums() {}

    static <E extends Enum<E>> E parse(Class<E> type, String parameter, String text) {
        if (text == null) {
            throw new IllegalArgumentException(parameter + " must not be null");
        }
        String wanted = text.trim().toUpperCase(Locale.ROOT);
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(wanted)) {
                return e;
            }
        }
        String allowed = Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", "));
        throw new IllegalArgumentException(parameter + " must be one of " + allowed + ", got '" + text + "'");
    }
}

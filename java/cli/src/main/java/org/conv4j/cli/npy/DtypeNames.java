package org.conv4j.cli.npy;

import java.util.Map;

/** Human names for numpy dtype strings such as '&lt;f8' (float64), so refusals say what the file holds. */
final class DtypeNames {
    private static final Map<Character, String> KINDS = Map.of(
            'f', "float", 'i', "int", 'u', "uint", 'c', "complex", 'b', "bool",
            'U', "unicode string", 'S', "byte string", 'O', "Python object", 'M', "datetime64", 'm', "timedelta64");

    private DtypeNames() {
    }

    /** E.g. "float64" for '&lt;f8', "int32" for '&lt;i4', "" when the string is not a simple dtype. */
    static String describe(String dtype) {
        String body = dtype;
        if (!body.isEmpty() && "<>|=".indexOf(body.charAt(0)) >= 0) {
            body = body.substring(1);
        }
        if (body.isEmpty() || !KINDS.containsKey(body.charAt(0))) {
            return "";
        }
        char kind = body.charAt(0);
        String name = KINDS.get(kind);
        String size = body.substring(1);
        if ("fiuc".indexOf(kind) >= 0 && size.matches("[0-9]{1,3}")) {
            return name + Integer.parseInt(size) * 8;
        }
        return name;
    }
}

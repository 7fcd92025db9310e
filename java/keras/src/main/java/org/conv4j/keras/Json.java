package org.conv4j.keras;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import java.io.StringReader;

/** Typed reads of a Keras JSON config; every failure is a {@link KerasModelException} naming {@code where}. */
final class Json {
    private Json() {
    }

    static JsonObject parse(String text, String where) throws KerasModelException {
        try {
            JsonReader reader = new JsonReader(new StringReader(text));
            reader.setStrictness(Strictness.LENIENT); // Python's json writes NaN and Infinity
            reader.setNestingLimit(64);
            JsonElement e = JsonParser.parseReader(reader);
            if (!e.isJsonObject()) {
                throw new KerasModelException(where + " is not a JSON object");
            }
            return e.getAsJsonObject();
        } catch (RuntimeException | StackOverflowError e) {
            throw new KerasModelException(where + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    static boolean has(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull();
    }

    static JsonObject object(JsonObject o, String key, String where) throws KerasModelException {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonObject()) {
            throw new KerasModelException(where + ": '" + key + "' must be a JSON object, got " + brief(e));
        }
        return e.getAsJsonObject();
    }

    static JsonArray array(JsonObject o, String key, String where) throws KerasModelException {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonArray()) {
            throw new KerasModelException(where + ": '" + key + "' must be a list, got " + brief(e));
        }
        return e.getAsJsonArray();
    }

    static String string(JsonObject o, String key, String where) throws KerasModelException {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new KerasModelException(where + ": '" + key + "' must be a string, got " + brief(e));
        }
        return e.getAsString();
    }

    static String string(JsonObject o, String key, String fallback, String where) throws KerasModelException {
        return has(o, key) ? string(o, key, where) : fallback;
    }

    static boolean bool(JsonObject o, String key, boolean fallback, String where) throws KerasModelException {
        if (!has(o, key)) {
            return fallback;
        }
        JsonElement e = o.get(key);
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isBoolean()) {
            throw new KerasModelException(where + ": '" + key + "' must be true or false, got " + brief(e));
        }
        return e.getAsBoolean();
    }

    static double number(JsonObject o, String key, double fallback, String where) throws KerasModelException {
        return has(o, key) ? number(o.get(key), where + ": '" + key + "'") : fallback;
    }

    static double number(JsonElement e, String what) throws KerasModelException {
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw new KerasModelException(what + " must be a number, got " + brief(e));
        }
        return e.getAsDouble();
    }

    /** A whole number in [min, max]. */
    static int integer(JsonElement e, String what, int min, int max) throws KerasModelException {
        double d = number(e, what);
        if (d != Math.rint(d) || d < min || d > max) {
            throw new KerasModelException(what + " must be a whole number in [" + min + ", " + max + "], got "
                    + brief(e));
        }
        return (int) d;
    }

    static int integer(JsonObject o, String key, int fallback, int min, int max, String where)
            throws KerasModelException {
        return has(o, key) ? integer(o.get(key), where + ": '" + key + "'", min, max) : fallback;
    }

    /** An int or a list of {@code n} ints (Keras' "int or tuple" arguments), each in [min, max]. */
    static int[] ints(JsonObject o, String key, int n, int min, int max, String where) throws KerasModelException {
        JsonElement e = o.get(key);
        String what = where + ": '" + key + "'";
        int[] out = new int[n];
        if (e != null && e.isJsonArray()) {
            JsonArray a = e.getAsJsonArray();
            if (a.size() != n) {
                throw new KerasModelException(what + " must have " + n + " values, got " + brief(e));
            }
            for (int i = 0; i < n; i++) {
                out[i] = integer(a.get(i), what, min, max);
            }
        } else {
            java.util.Arrays.fill(out, integer(e, what, min, max));
        }
        return out;
    }

    /** A shape list whose first entry may be null (the batch axis). */
    static int[] shape(JsonArray a, boolean withBatch, String what) throws KerasModelException {
        if (a.size() > 9) {
            throw new KerasModelException(what + " has " + a.size() + " axes; at most 8 are supported");
        }
        int from = withBatch ? 1 : 0;
        if (withBatch && a.size() > 0 && !a.get(0).isJsonNull() && !a.get(0).isJsonPrimitive()) {
            throw new KerasModelException(what + " has a bad batch axis: " + brief(a));
        }
        int[] s = new int[Math.max(a.size() - from, 0)];
        for (int i = from; i < a.size(); i++) {
            if (a.get(i).isJsonNull()) {
                throw new KerasModelException(what + " " + brief(a) + " has an unknown (None) size: conv4j needs"
                        + " fixed sizes except the batch");
            }
            s[i - from] = integer(a.get(i), what, 1, Shapes.MAX_DIM);
        }
        return s;
    }

    static String brief(JsonElement e) {
        if (e == null) {
            return "nothing";
        }
        String s = e.toString();
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    static boolean isString(JsonElement e) {
        return e != null && e.isJsonPrimitive() && ((JsonPrimitive) e).isString();
    }
}

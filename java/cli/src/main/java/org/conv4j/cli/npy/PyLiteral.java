package org.conv4j.cli.npy;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parser for the small subset of Python literals that .npy headers use: dicts with string keys,
 * strings, integers, True/False/None, tuples and lists. It never evaluates anything.
 */
final class PyLiteral {
    /** A Python tuple; kept apart from lists because numpy requires 'shape' to be a tuple. */
    record Tuple(List<Object> items) {
    }

    /** Python's None (null is avoided so that map lookups can tell "absent" from "None"). */
    enum None {
        NONE
    }

    /** Deep enough for any real header, shallow enough that hostile input cannot overflow the stack. */
    private static final int MAX_DEPTH = 32;

    private final String text;
    private int pos;

    private PyLiteral(String text) {
        this.text = text;
    }

    /** Parses one literal that must make up the whole text apart from surrounding whitespace. */
    static Object parse(String text) throws NpyFormatException {
        PyLiteral parser = new PyLiteral(text);
        Object value = parser.value(0);
        parser.skipWhitespace();
        if (parser.pos != text.length()) {
            throw parser.error("unexpected text after the header dict");
        }
        return value;
    }

    private Object value(int depth) throws NpyFormatException {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        skipWhitespace();
        if (pos >= text.length()) {
            throw error("unexpected end of header");
        }
        char c = text.charAt(pos);
        switch (c) {
            case '{':
                return dict(depth);
            case '(':
                return new Tuple(sequence(')', depth));
            case '[':
                return sequence(']', depth);
            case '\'':
            case '"':
                return string();
            default:
                if (c == '-' || c == '+' || Character.isDigit(c)) {
                    return integer();
                }
                if (Character.isLetter(c)) {
                    return keyword();
                }
                throw error("unexpected character '" + c + "'");
        }
    }

    private Map<String, Object> dict(int depth) throws NpyFormatException {
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        while (true) {
            skipWhitespace();
            if (consume('}')) {
                return map;
            }
            int keyPos = pos;
            Object key = value(depth + 1);
            if (!(key instanceof String)) {
                pos = keyPos;
                throw error("dict keys must be strings");
            }
            skipWhitespace();
            if (!consume(':')) {
                throw error("expected ':' after key '" + key + "'");
            }
            Object item = value(depth + 1);
            if (map.put((String) key, item) != null) {
                pos = keyPos;
                throw error("duplicate key '" + key + "'");
            }
            skipWhitespace();
            if (consume('}')) {
                return map;
            }
            if (!consume(',')) {
                throw error("expected ',' or '}' in dict");
            }
        }
    }

    private List<Object> sequence(char close, int depth) throws NpyFormatException {
        pos++; // '(' or '['
        List<Object> items = new ArrayList<>();
        while (true) {
            skipWhitespace();
            if (consume(close)) {
                return Collections.unmodifiableList(items);
            }
            items.add(value(depth + 1));
            skipWhitespace();
            if (consume(close)) {
                // In Python "(5)" is the number 5, not a tuple; numpy writes "(5,)".
                if (close == ')' && items.size() == 1) {
                    throw error("a one-element tuple needs a trailing comma, as in (5,)");
                }
                return Collections.unmodifiableList(items);
            }
            if (!consume(',')) {
                throw error("expected ',' or '" + close + "'");
            }
        }
    }

    private String string() throws NpyFormatException {
        char quote = text.charAt(pos++);
        StringBuilder sb = new StringBuilder();
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == quote) {
                return sb.toString();
            }
            if (c == '\\' && pos < text.length()) {
                sb.append(text.charAt(pos++));
            } else if (c == '\n') {
                break;
            } else {
                sb.append(c);
            }
        }
        throw error("unterminated string");
    }

    private BigInteger integer() throws NpyFormatException {
        int start = pos;
        if (text.charAt(pos) == '-' || text.charAt(pos) == '+') {
            pos++;
        }
        int digitsStart = pos;
        while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
            pos++;
        }
        if (pos == digitsStart) {
            throw error("expected digits");
        }
        BigInteger value = new BigInteger(text.substring(start, pos));
        // Headers written by numpy under Python 2 may carry a 'L' long suffix, e.g. (3L, 4L).
        if (pos < text.length() && (text.charAt(pos) == 'L' || text.charAt(pos) == 'l')) {
            pos++;
        }
        if (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '.')) {
            throw error("only integers are allowed here");
        }
        return value;
    }

    private Object keyword() throws NpyFormatException {
        int start = pos;
        while (pos < text.length() && (Character.isLetterOrDigit(text.charAt(pos)) || text.charAt(pos) == '_')) {
            pos++;
        }
        String word = text.substring(start, pos);
        switch (word) {
            case "True":
                return Boolean.TRUE;
            case "False":
                return Boolean.FALSE;
            case "None":
                return None.NONE;
            default:
                pos = start;
                throw error("unexpected name '" + word + "'");
        }
    }

    private boolean consume(char c) {
        if (pos < text.length() && text.charAt(pos) == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void skipWhitespace() {
        while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
            pos++;
        }
    }

    private NpyFormatException error(String what) {
        return new NpyFormatException("malformed header: " + what + " at offset " + pos + " in " + quoteForMessage(text));
    }

    /** The header on one line and not absurdly long, for error messages. */
    static String quoteForMessage(String header) {
        String flat = header.strip().replaceAll("\\s+", " ");
        return flat.length() <= 120 ? "\"" + flat + "\"" : "\"" + flat.substring(0, 117) + "...\"";
    }
}

package org.conv4j.cli;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.conv4j.Padding;

/**
 * A benchmark shape list such as the repository's {@code bench/shapes.csv} (the standard layer set,
 * the same rows as the shared {@code ../shared/bench-shapes.csv}): {@code #}
 * comments, one header line naming the columns, then one shape per line in Keras / NHWC notation;
 * 1-D shapes have dims=1 with H, KH, SH and DH 1. Every error names the file and line.
 */
final class BenchShapes {
    static final List<String> COLUMNS = List.of("name", "dims", "N", "H", "W", "Cin", "Cout", "KH", "KW",
            "SH", "SW", "DH", "DW", "groups", "padding");

    /** One row; {@code where} is "file:line" for messages. */
    record Shape(String name, int dims, int n, int h, int w, int cin, int cout, int kh, int kw, int sh, int sw,
                 int dh, int dw, int groups, Padding padding, String where) {
        int[] kernelSize() {
            return dims == 2 ? new int[] {kh, kw} : new int[] {kw};
        }

        int[] strides() {
            return dims == 2 ? new int[] {sh, sw} : new int[] {sw};
        }

        int[] dilation() {
            return dims == 2 ? new int[] {dh, dw} : new int[] {dw};
        }

        /** Input shape, channels_last. */
        int[] inputShape() {
            return dims == 2 ? new int[] {n, h, w, cin} : new int[] {n, w, cin};
        }
    }

    private BenchShapes() {}

    static List<Shape> read(Path file) {
        if (Files.isDirectory(file)) {
            throw new CliException("--shapes " + file + ": is a directory, not a CSV file");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (MalformedInputException e) {
            throw new CliException("--shapes " + file + ": not a UTF-8 text file");
        } catch (IOException e) {
            throw new CliException("--shapes " + file + ": " + ErrorMessages.reasonForFile(e));
        }
        return parse(file.toString(), lines);
    }

    static List<Shape> parse(String source, List<String> lines) {
        List<Shape> shapes = new ArrayList<>();
        int[] index = null; // column positions by COLUMNS order, once the header is read
        int width = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            String where = source + ":" + (i + 1);
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] cells = line.split(",", -1);
            for (int c = 0; c < cells.length; c++) {
                cells[c] = cells[c].strip();
            }
            if (index == null) {
                index = header(where, cells);
                width = cells.length;
                continue;
            }
            if (cells.length != width) {
                throw new CliException(where + ": " + cells.length + " columns, the header has " + width);
            }
            shapes.add(shape(where, cells, index));
        }
        if (index == null) {
            throw new CliException(source + ": no header line (" + String.join(",", COLUMNS) + ")");
        }
        if (shapes.isEmpty()) {
            throw new CliException(source + ": no shapes after the header");
        }
        return shapes;
    }

    private static int[] header(String where, String[] cells) {
        List<String> names = Arrays.asList(cells);
        int[] index = new int[COLUMNS.size()];
        for (int c = 0; c < index.length; c++) {
            index[c] = names.indexOf(COLUMNS.get(c));
            if (index[c] < 0) {
                throw new CliException(where + ": header lacks column '" + COLUMNS.get(c) + "' (needs "
                        + String.join(",", COLUMNS) + ")");
            }
        }
        return index;
    }

    private static Shape shape(String where, String[] cells, int[] index) {
        String name = cells[index[0]];
        if (name.isEmpty()) {
            throw new CliException(where + ": empty name");
        }
        int[] v = new int[13];
        for (int c = 1; c <= 13; c++) {
            String text = cells[index[c]];
            try {
                v[c - 1] = Integer.parseInt(text);
            } catch (NumberFormatException e) {
                throw new CliException(where + ": " + COLUMNS.get(c) + " '" + text + "' is not an integer");
            }
            if (v[c - 1] < 1) {
                throw new CliException(where + ": " + COLUMNS.get(c) + " must be positive, got " + v[c - 1]);
            }
        }
        Padding padding;
        try {
            padding = Padding.parse(cells[index[14]]);
        } catch (IllegalArgumentException e) {
            throw new CliException(where + ": " + e.getMessage());
        }
        Shape s = new Shape(name, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12],
                padding, where);
        if (s.dims() != 1 && s.dims() != 2) {
            throw new CliException(where + ": dims must be 1 or 2, got " + s.dims());
        }
        if (s.dims() == 1 && (s.h() != 1 || s.kh() != 1 || s.sh() != 1 || s.dh() != 1)) {
            throw new CliException(where + ": a 1-D shape needs H, KH, SH and DH of 1, got " + s.h() + ", "
                    + s.kh() + ", " + s.sh() + ", " + s.dh());
        }
        if (s.cin() % s.groups() != 0) {
            throw new CliException(where + ": Cin " + s.cin() + " is not divisible by groups " + s.groups());
        }
        return s;
    }
}

package org.conv4j.cli;

import java.util.ArrayList;
import java.util.List;

/** Small text renderings of float arrays for the demo. */
final class Grids {
    private Grids() {
    }

    /** Integral values without decimals, others compactly: "3", "-1", "0.25", "NaN". */
    static String number(float v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e7f) {
            return Integer.toString((int) v);
        }
        return Float.toString(v);
    }

    /** Row {@code r} of a row-major {@code rows x cols} matrix as right-aligned cells. */
    static String row(float[] data, int r, int cols, int width) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < cols; c++) {
            String cell = number(data[r * cols + c]);
            sb.append(c == 0 ? "" : " ").append(" ".repeat(Math.max(0, width - cell.length()))).append(cell);
        }
        return sb.toString();
    }

    /** Widest cell, so columns line up. */
    static int cellWidth(float[] data) {
        int width = 1;
        for (float v : data) {
            width = Math.max(width, number(v).length());
        }
        return width;
    }

    /** A row-major matrix as lines of aligned cells. */
    static List<String> matrix(float[] data, int rows, int cols) {
        int width = cellWidth(data);
        List<String> lines = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            lines.add(row(data, r, cols, width));
        }
        return lines;
    }

    /** numpy's repr of a float32 value: "0.", "3.", "0.5". */
    static String numpyFloat(float v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e7f) {
            return (int) v + ".";
        }
        return Float.toString(v);
    }

    /** Python's repr of a float: "0.0", "3.0", "0.5". */
    static String pythonFloat(float v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e7f) {
            return (int) v + ".0";
        }
        return Float.toString(v);
    }
}

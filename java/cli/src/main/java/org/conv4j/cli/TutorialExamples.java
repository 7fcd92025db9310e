package org.conv4j.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import org.conv4j.Activation;
import org.conv4j.Backend;
import org.conv4j.Conv2D;
import org.conv4j.ConvLayer;
import org.conv4j.Sequential;

/**
 * The tutorial's later chapters as runnable examples: line detectors and their combination,
 * several filters over several channels, and a stack whose second layer reads the first layer's
 * feature maps. Each example runs on every backend given and checks that they agree exactly
 * (all values are small integers, so any correct summation order gives the same floats).
 */
final class TutorialExamples {
    /** The tutorial's vertical-line detector: the middle column of a 3×3 window. */
    static final float[] VERTICAL = {0, 1, 0, 0, 1, 0, 0, 1, 0};
    /** The horizontal-line detector: the middle row. */
    static final float[] HORIZONTAL = {0, 0, 0, 1, 1, 1, 0, 0, 0};

    private TutorialExamples() {
    }

    /** Keras kernel [3, 3, cin, filters] from per-filter, per-channel 3×3 matrices (null = zeros). */
    static float[] kernel(float[][][] filters, int cin) {
        int count = filters.length;
        float[] k = new float[9 * cin * count];
        for (int f = 0; f < count; f++) {
            for (int c = 0; c < cin; c++) {
                float[] m = filters[f][c];
                if (m == null) {
                    continue;
                }
                for (int i = 0; i < 9; i++) {
                    k[(i * cin + c) * count + f] = m[i];
                }
            }
        }
        return k;
    }

    /** Channel {@code c} of an NHWC map with {@code channels} channels, as a row-major matrix. */
    static float[] channel(float[] map, int channels, int c) {
        float[] out = new float[map.length / channels];
        for (int i = 0; i < out.length; i++) {
            out[i] = map[i * channels + c];
        }
        return out;
    }

    static boolean run(PrintWriter out, List<Backend> backends) {
        boolean ok = lines(out, backends);
        out.println();
        ok &= rgb(out, backends);
        out.println();
        ok &= crossing(out, backends);
        return ok;
    }

    /** Example 3: two detectors, their maps, and a second layer that adds them into one "all lines" map. */
    private static boolean lines(PrintWriter out, List<Backend> backends) {
        int size = 8;
        float[] image = new float[size * size];
        for (int r = 0; r < size; r++) {
            for (int c = 0; c < size; c++) {
                image[r * size + c] = c == 2 || r == 5 ? 1 : 0;
            }
        }
        out.println("Example 3: a vertical and a horizontal line detector, then one map of all lines");
        out.println("  input [1, 8, 8, 1] with a vertical line (column 2) and a horizontal line (row 5):");
        Grids.matrix(image, size, size).forEach(l -> out.println("    " + l));
        out.println("  layer 1: Conv2D(filters=2, kernel_size=3), filter 0 = vertical, filter 1 = horizontal:");
        printSideBySide(out, "vertical", Grids.matrix(VERTICAL, 3, 3), "horizontal", Grids.matrix(HORIZONTAL, 3, 3));
        out.println("  layer 2: Conv2D(filters=1, kernel_size=1) with weights [1, 1]: a pixel of either map counts");

        float[][] firstMaps = new float[backends.size()][];
        float[][] combined = new float[backends.size()][];
        String summary = null;
        for (int b = 0; b < backends.size(); b++) {
            try (Sequential model = linesModel(backends.get(b), Activation.NONE, 0f)) {
                firstMaps[b] = model.layers().get(0).predict(image, 1, size, size, 1);
                combined[b] = model.predict(image, 1, size, size, 1);
                summary = model.summary();
            }
        }
        out.println("  " + summary.strip().replace("\n", "\n  "));
        float[] maps = firstMaps[0];
        out.println("  layer 1 output [1, 6, 6, 2], one 6x6 feature map per filter:");
        printSideBySide(out, "vertical map", Grids.matrix(channel(maps, 2, 0), 6, 6),
                "horizontal map", Grids.matrix(channel(maps, 2, 1), 6, 6));
        out.println("  layer 2 output [1, 6, 6, 1]: every window centred on a line scores >= 4, the crossing 6, the rest <= 2:");
        Grids.matrix(combined[0], 6, 6).forEach(l -> out.println("    " + l));
        boolean ok = agree(out, backends, firstMaps, "layer 1") & agree(out, backends, combined, "layer 2");
        for (int r = 0; r < 6; r++) {
            for (int c = 0; c < 6; c++) {
                boolean onLine = c + 1 == 2 || r + 1 == 5; // the window's centre pixel
                float v = combined[0][r * 6 + c];
                ok &= onLine ? v >= 4 : v <= 2;
            }
        }
        out.println("  lines stand out in the combined map: " + (ok ? "yes" : "NO"));
        return ok;
    }

    /** The two-layer stack of example 3; with relu and bias -5 its second layer finds crossings instead. */
    static Sequential linesModel(Backend backend, Activation secondActivation, float secondBias) {
        Conv2D detectors = Conv2D.builder().filters(2).kernelSize(3).useBias(false).backend(backend).build();
        detectors.setWeights(kernel(new float[][][] {{VERTICAL}, {HORIZONTAL}}, 1), null);
        Conv2D second = Conv2D.builder().filters(1).kernelSize(1).activation(secondActivation).backend(backend).build();
        second.setWeights(new float[] {1, 1}, new float[] {secondBias});
        return Sequential.builder().input(8, 8, 1).add(detectors).add(second).build();
    }

    /** Example 4: an RGB image, a layer of four 3×3×3 filters, four feature maps. */
    private static boolean rgb(PrintWriter out, List<Backend> backends) {
        int size = 6;
        float[] image = new float[size * size * 3];
        for (int r = 0; r < size; r++) {
            for (int c = 0; c < size; c++) {
                image[(r * size + c) * 3] = c == 2 ? 1 : 0;      // red: a vertical line
                image[(r * size + c) * 3 + 2] = r == 3 ? 1 : 0;  // blue: a horizontal line
            }
        }
        float[] ones = new float[9];
        Arrays.fill(ones, 1);
        String[] names = {"red vertical", "blue horizontal", "any colour vertical", "brightness"};
        float[] kernel = kernel(new float[][][] {
            {VERTICAL, null, null},
            {null, null, HORIZONTAL},
            {VERTICAL, VERTICAL, VERTICAL},
            {ones, ones, ones}}, 3);
        out.println("Example 4: several filters over several channels");
        out.println("  input [1, 6, 6, 3]: red has a vertical line (column 2), blue a horizontal line (row 3)");
        out.println("  Conv2D(filters=4, kernel_size=3): each filter is 3x3x3, one 3x3 slice per input channel;");
        out.println("  it sums over all three channels, so each filter gives ONE feature map:");
        for (int f = 0; f < names.length; f++) {
            out.println("    filter " + f + ": " + names[f]);
        }
        float[][] outputs = new float[backends.size()][];
        int[] shape = null;
        for (int b = 0; b < backends.size(); b++) {
            try (ConvLayer layer = Conv2D.builder().filters(4).kernelSize(3).useBias(false)
                    .backend(backends.get(b)).build()) {
                layer.setWeights(kernel, null);
                outputs[b] = layer.predict(image, 1, size, size, 3);
                shape = layer.outputShape(1, size, size, 3);
            }
        }
        out.println("  output " + Arrays.toString(shape) + ": depth " + shape[3] + " = the number of filters");
        for (int f = 0; f < names.length; f++) {
            out.println("  map " + f + " (" + names[f] + "):");
            Grids.matrix(channel(outputs[0], 4, f), 4, 4).forEach(l -> out.println("    " + l));
        }
        return agree(out, backends, outputs, null);
    }

    /** Example 5: the second layer fires only where both line features are strong. */
    private static boolean crossing(PrintWriter out, List<Backend> backends) {
        int size = 8;
        float[] image = new float[size * size];
        for (int r = 0; r < size; r++) {
            for (int c = 0; c < size; c++) {
                image[r * size + c] = c == 2 || r == 5 ? 1 : 0;
            }
        }
        out.println("Example 5: a later layer detects a combination of earlier features");
        out.println("  the same two detectors, then Conv2D(filters=1, kernel_size=1, activation='relu') with");
        out.println("  weights [1, 1] and bias -5: only vertical 3 + horizontal 3 = 6 survives, i.e. the crossing");
        float[][] outputs = new float[backends.size()][];
        for (int b = 0; b < backends.size(); b++) {
            try (Sequential model = linesModel(backends.get(b), Activation.RELU, -5f)) {
                outputs[b] = model.predict(image, 1, size, size, 1);
            }
        }
        out.println("  output [1, 6, 6, 1]:");
        Grids.matrix(outputs[0], 6, 6).forEach(l -> out.println("    " + l));
        float[] expected = new float[36];
        expected[(5 - 1) * 6 + (2 - 1)] = 1; // the window centred on row 5, column 2
        boolean found = Arrays.equals(expected, outputs[0]);
        out.println("  only the crossing fires: " + (found ? "yes" : "NO"));
        return agree(out, backends, outputs, null) & found;
    }

    private static boolean agree(PrintWriter out, List<Backend> backends, float[][] outputs, String what) {
        String prefix = what == null ? "  backends agree" : "  backends agree on " + what;
        for (int b = 1; b < outputs.length; b++) {
            if (!Arrays.equals(outputs[0], outputs[b])) {
                out.println(prefix + ": NO (" + backends.get(0).cliName() + " vs " + backends.get(b).cliName() + ")");
                return false;
            }
        }
        if (outputs.length > 1) {
            out.println(prefix + ": yes (identical output)");
        }
        return true;
    }

    /** Two blocks of lines side by side under their titles (the shorter padded with blank lines). */
    static void printSideBySide(PrintWriter out, String leftTitle, List<String> left, String rightTitle,
                                List<String> right) {
        int width = Math.max(leftTitle.length(), left.get(0).length()) + 4;
        out.println("    " + String.format("%-" + width + "s", leftTitle) + rightTitle);
        for (int i = 0; i < Math.max(left.size(), right.size()); i++) {
            out.println(("    " + String.format("%-" + width + "s", i < left.size() ? left.get(i) : "")
                    + (i < right.size() ? right.get(i) : "")).stripTrailing());
        }
    }
}

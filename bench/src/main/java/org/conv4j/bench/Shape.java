package org.conv4j.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.conv4j.Backend;
import org.conv4j.ConvGeometry;
import org.conv4j.ConvLayer;
import org.conv4j.Padding;

/**
 * One row of {@code bench-shapes.csv}: a convolution in Keras notation (NHWC; 1-D rows have
 * dims = 1, H = 1, KH = 1), always with bias. Every implementation in the suite is built from it.
 */
public record Shape(String name, int dims, int n, int h, int w, int cin, int cout, int kh, int kw,
                    int sh, int sw, int dh, int dw, int groups, Padding padding) {

    /** System property naming the shapes file; default the repository's {@code bench/shapes.csv}. */
    public static final String SHAPES_PROPERTY = "conv4j.bench.shapes";

    /**
     * The shapes file: the property, else the repository's {@code bench/shapes.csv} (the standard
     * layer set, the same rows as the shared {@code ../shared/bench-shapes.csv}), found from the
     * repository root or from bench/.
     */
    public static Path shapesFile() {
        String configured = System.getProperty(SHAPES_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return Paths.get(configured);
        }
        for (String candidate : new String[] {"bench/shapes.csv", "shapes.csv"}) {
            Path p = Paths.get(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalStateException("bench/shapes.csv not found from " + Paths.get("").toAbsolutePath()
                + ": run from the repository root or bench/, or set -D" + SHAPES_PROPERTY + "=FILE");
    }

    public static List<Shape> load() {
        return load(shapesFile());
    }

    /** Parses the CSV: '#' comments, one header line starting with "name", then one shape a line. */
    public static List<Shape> load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read shapes file " + file, e);
        }
        List<Shape> shapes = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith("name,")) {
                continue;
            }
            String[] f = line.split(",");
            if (f.length != 15) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": expected 15 fields, got " + f.length);
            }
            try {
                int[] v = new int[13];
                for (int k = 0; k < 13; k++) {
                    v[k] = Integer.parseInt(f[k + 1].trim());
                }
                shapes.add(new Shape(f[0].trim(), v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
                        v[10], v[11], v[12], Padding.valueOf(f[14].trim().toUpperCase(Locale.ROOT))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return shapes;
    }

    /** The shape of that name in the shapes file. */
    public static Shape named(String name) {
        for (Shape s : load()) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("no shape '" + name + "' in " + shapesFile());
    }

    /** A conv4j layer of this shape (bias on, the library's default algorithm choice), weights not yet set. */
    public ConvLayer layer(Backend backend, int threads) {
        return layer(backend, threads, false);
    }

    /**
     * As {@link #layer(Backend, int)}; with {@code forceWinograd} the layer opts in to Winograd and
     * forces it (its plan refuses shapes Winograd does not take).
     */
    public ConvLayer layer(Backend backend, int threads, boolean forceWinograd) {
        ConvLayer.Builder b = ConvLayer.builder(dims).filters(cout).padding(padding).groups(groups)
                .backend(backend).threads(threads);
        if (forceWinograd) {
            b.algorithm(org.conv4j.Algorithm.WINOGRAD).winograd(true);
        }
        if (dims == 1) {
            b.kernelSize(kw).strides(sw).dilationRate(dw);
        } else {
            b.kernelSize(kh, kw).strides(sh, sw).dilationRate(dh, dw);
        }
        return b.build();
    }

    /** The input shape in Keras channels_last order: {@code [N, W, Cin]} or {@code [N, H, W, Cin]}. */
    public int[] inputShape() {
        return dims == 1 ? new int[] {n, w, cin} : new int[] {n, h, w, cin};
    }

    /** Padding, output sizes and counts, as conv4j computes them (no native code involved). */
    public ConvGeometry geometry() {
        try (ConvLayer l = layer(Backend.JAVA, 1)) {
            return l.geometry(inputShape());
        }
    }

    /** 2·N·Hout·Wout·Cout·KH·KW·Cin/groups. */
    public double flops() {
        ConvGeometry g = geometry();
        return 2.0 * n * g.outHeight() * g.outWidth() * cout * kh * kw * (cin / groups);
    }

    /** Kernel values in Keras layout {@code [KH, KW, Cin/groups, Cout]}, fixed by the shape's name. */
    public float[] kernel() {
        return random(kh * kw * (cin / groups) * cout, 1, 1.0 / Math.sqrt(kh * kw * (cin / groups)));
    }

    public float[] bias() {
        return random(cout, 2, 0.1);
    }

    /** Input values, channels_last. */
    public float[] input() {
        return random(n * h * w * cin, 3, 1.0);
    }

    private float[] random(int count, int stream, double scale) {
        SplittableRandom r = new SplittableRandom(name.hashCode() * 31L + stream);
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    /**
     * Prints the shape names, comma-separated, for {@code -p shape=...}: all of them, or with
     * {@code --max-naive-seconds S} only those the naive loop (about 1 GFLOP/s) finishes within S.
     */
    public static void main(String[] args) {
        double maxSeconds = Double.POSITIVE_INFINITY;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--max-naive-seconds") && i + 1 < args.length) {
                maxSeconds = Double.parseDouble(args[++i]);
            } else {
                System.err.println("usage: Shape [--max-naive-seconds S]");
                System.exit(2);
            }
        }
        StringBuilder names = new StringBuilder();
        for (Shape s : load()) {
            if (s.flops() / NAIVE_FLOPS_PER_SECOND <= maxSeconds) {
                names.append(names.length() > 0 ? "," : "").append(s.name());
            }
        }
        System.out.println(names);
    }

    /** What the naive 7-loop convolution reaches here (1.0–1.6 GFLOP/s in anchors.md), low end. */
    static final double NAIVE_FLOPS_PER_SECOND = 1.0e9;
}

package org.conv4j.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.conv4j.Conv4j;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * Turns the suite's JMH JSON results into bench/README.md's tables (between the
 * {@code <!-- results:begin -->} and {@code <!-- results:end -->} markers) and bench/chart.png,
 * after measuring the machine's FMA peak at 1 and 2 threads. bench/run.sh calls it; it can be
 * rerun on saved results:
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar org.conv4j.bench.Report --results bench/target/results \
 *     --readme bench/README.md --chart bench/chart.png
 * </pre>
 */
public final class Report {
    /** Implementations in table order: key (from the benchmark class), label. */
    static final Map<String, String> IMPLS = new LinkedHashMap<>();

    static {
        IMPLS.put("conv4j", "conv4j native");
        IMPLS.put("java", "conv4j Java");
        IMPLS.put("naive", "naive Java");
        IMPLS.put("ort", "ONNX Runtime");
        IMPLS.put("onednn", "oneDNN");
    }

    static final int[] THREADS = {1, 2};
    static final String BEGIN = "<!-- results:begin -->";
    static final String END = "<!-- results:end -->";
    /** Shapes of at least this many FLOPs count as "large" for the 2-thread scaling target. */
    static final double LARGE_FLOPS = 100e6;

    record Key(String impl, String shape, int threads) {}

    final List<Shape> shapes;
    /** Milliseconds per call, every measured iteration. */
    final Map<Key, double[]> samples = new TreeMap<>((a, b) -> (a.impl + a.shape + a.threads).compareTo(
            b.impl + b.shape + b.threads));
    /** impl → shape → threads → what ran (from the implementation log). */
    final Map<String, Map<String, Map<Integer, String>>> chosen = new TreeMap<>();
    final double[] peakMedian = new double[3];
    final double[] peakBest = new double[3];

    Report(List<Shape> shapes) {
        this.shapes = shapes;
    }

    public static void main(String[] args) throws IOException {
        List<Path> results = new ArrayList<>();
        Path implLog = null;
        Path readme = Paths.get("bench/README.md");
        Path chart = Paths.get("bench/chart.png");
        double peakSeconds = 1.0;
        double[] givenPeak = new double[3];
        List<String> notes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = i + 1 < args.length ? args[i + 1] : null;
            if (v == null) {
                usage("missing value after " + a);
            }
            i++;
            switch (a) {
                case "--results" -> {
                    Path p = Paths.get(v);
                    if (Files.isDirectory(p)) {
                        try (DirectoryStream<Path> ds = Files.newDirectoryStream(p, "*.json")) {
                            ds.forEach(results::add);
                        }
                        Path log = p.resolve("implementations.tsv");
                        if (implLog == null && Files.isRegularFile(log)) {
                            implLog = log;
                        }
                    } else {
                        results.add(p);
                    }
                }
                case "--impl-log" -> implLog = Paths.get(v);
                case "--readme" -> readme = Paths.get(v);
                case "--chart" -> chart = Paths.get(v);
                case "--peak-seconds" -> peakSeconds = Double.parseDouble(v);
                case "--peak1" -> givenPeak[1] = Double.parseDouble(v);
                case "--peak2" -> givenPeak[2] = Double.parseDouble(v);
                case "--note" -> notes.add(v);
                default -> usage("unknown option " + a);
            }
        }
        if (results.isEmpty()) {
            usage("no results: --results DIR|FILE.json");
        }
        results.sort(null);
        Report r = new Report(Shape.load());
        for (Path p : results) {
            r.readJmh(p);
        }
        if (implLog != null) {
            r.readImplLog(implLog);
        }
        if (givenPeak[1] > 0 && givenPeak[2] > 0) {
            r.peakMedian[1] = r.peakBest[1] = givenPeak[1];
            r.peakMedian[2] = r.peakBest[2] = givenPeak[2];
        } else {
            r.measurePeak(peakSeconds, 3);
        }
        String section = r.markdown(notes);
        r.writeReadme(readme, section);
        r.writeChart(chart);
        System.out.println("wrote " + readme + " and " + chart);
    }

    private static void usage(String why) {
        System.err.println("Report: " + why + "\nusage: Report --results DIR|FILE.json [--results ...] [--impl-log FILE]"
                + " [--readme bench/README.md] [--chart bench/chart.png] [--peak-seconds 1 | --peak1 G --peak2 G]"
                + " [--note TEXT]");
        System.exit(2);
    }

    /** Reads one JMH JSON file; every iteration of every fork is kept, in ms per call. */
    @SuppressWarnings("unchecked")
    void readJmh(Path file) throws IOException {
        Object root = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
        for (Object o : (List<Object>) root) {
            Map<String, Object> run = (Map<String, Object>) o;
            String benchmark = (String) run.get("benchmark");
            String impl = implOf(benchmark);
            if (impl == null) {
                continue;
            }
            Map<String, Object> params = (Map<String, Object>) run.get("params");
            String shape = (String) params.get("shape");
            int threads = Integer.parseInt((String) params.get("threads"));
            Map<String, Object> metric = (Map<String, Object>) run.get("primaryMetric");
            double toMs = msPer((String) metric.get("scoreUnit"));
            List<Double> values = new ArrayList<>();
            for (Object fork : (List<Object>) metric.get("rawData")) {
                for (Object v : (List<Object>) fork) {
                    values.add(((Double) v) * toMs);
                }
            }
            samples.put(new Key(impl, shape, threads), values.stream().mapToDouble(Double::doubleValue).toArray());
        }
    }

    static String implOf(String benchmark) {
        String cls = benchmark.substring(0, benchmark.lastIndexOf('.'));
        switch (cls.substring(cls.lastIndexOf('.') + 1)) {
            case "Conv4jNativeBench": return "conv4j";
            case "Conv4jJavaBench": return "java";
            case "NaiveBench": return "naive";
            case "OnnxRuntimeBench": return "ort";
            case "OneDnnBench": return "onednn";
            default: return null;
        }
    }

    static double msPer(String unit) {
        switch (unit) {
            case "ns/op": return 1e-6;
            case "us/op": return 1e-3;
            case "ms/op": return 1;
            case "s/op": return 1e3;
            default: throw new IllegalArgumentException("unsupported JMH score unit " + unit + " (use AverageTime)");
        }
    }

    void readImplLog(Path file) throws IOException {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.split("\t", 4);
            if (f.length == 4) {
                chosen.computeIfAbsent(f[0], k -> new TreeMap<>()).computeIfAbsent(f[1], k -> new TreeMap<>())
                        .put(Integer.parseInt(f[2]), f[3]);
            }
        }
    }

    /** Alternates 1 and 2 threads, {@code repeats} times each; keeps the median and the best. */
    void measurePeak(double seconds, int repeats) {
        double[][] runs = new double[3][repeats];
        for (int r = 0; r < repeats; r++) {
            for (int t : THREADS) {
                runs[t][r] = Conv4j.measurePeakGflops(t, seconds);
            }
        }
        for (int t : THREADS) {
            peakMedian[t] = median(runs[t]);
            peakBest[t] = Arrays.stream(runs[t]).max().orElse(Double.NaN);
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** Median ms per call, NaN when not measured. */
    double ms(String impl, String shape, int threads) {
        double[] v = samples.get(new Key(impl, shape, threads));
        return v == null ? Double.NaN : median(v);
    }

    double gflops(Shape s, double ms) {
        return s.flops() / (ms * 1e6);
    }

    /** The faster of ONNX Runtime and oneDNN: {label, ms}. */
    Object[] bestPeer(Shape s, int t) {
        double ort = ms("ort", s.name(), t);
        double dnn = ms("onednn", s.name(), t);
        if (Double.isNaN(ort) && Double.isNaN(dnn)) {
            return null;
        }
        if (Double.isNaN(dnn) || (!Double.isNaN(ort) && ort < dnn)) {
            return new Object[] {"ORT", ort};
        }
        return new Object[] {"oneDNN", dnn};
    }

    String markdown(List<String> notes) {
        StringBuilder md = new StringBuilder();
        md.append(BEGIN).append("\n");
        md.append("<!-- generated by org.conv4j.bench.Report from the JMH results; edit the code, not this section -->\n\n");
        String ortVersion = firstChoice("ort");
        md.append("Run of ").append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")))
                .append(" UTC on ").append(Conv4j.platform()).append(" (").append(Conv4j.cpuFeatures()).append("), ")
                .append(Runtime.getRuntime().availableProcessors()).append(" CPUs, JDK ")
                .append(System.getProperty("java.version")).append("; ")
                .append(ortVersion == null ? "ONNX Runtime not run" : ortVersion).append(", oneDNN 3.13 (org.bytedeco:dnnl 3.13-1.5.14).\n");
        for (String n : notes) {
            md.append("\n").append(n).append("\n");
        }
        md.append("\nMeasured FMA peak (12 independent 256-bit FMA chains per thread, `Conv4j.measurePeakGflops`): ")
                .append(String.format(Locale.ROOT, "**%.1f GFLOP/s on 1 thread** (best %.1f), **%.1f on 2** (best %.1f); ",
                        peakMedian[1], peakBest[1], peakMedian[2], peakBest[2]))
                .append("the % of peak below uses these medians.\n");

        md.append("\n### Time per call: median ms (GFLOP/s)\n\n");
        md.append("GFLOP/s = 2·N·Hout·Wout·Cout·KH·KW·Cin/groups / time. Empty cell: not run (naive: one call over ~2 s).\n\n");
        md.append("| shape | MFLOP |");
        List<String[]> cols = new ArrayList<>();
        for (Map.Entry<String, String> e : IMPLS.entrySet()) {
            for (int t : THREADS) {
                if (e.getKey().equals("naive") && t != 1) {
                    continue;
                }
                cols.add(new String[] {e.getKey(), Integer.toString(t)});
                md.append(" ").append(e.getValue()).append(" ").append(t).append("t |");
            }
        }
        md.append("\n|---|---|").append("---|".repeat(cols.size())).append("\n");
        for (Shape s : shapes) {
            md.append("| ").append(s.name()).append(" | ").append(sig(s.flops() / 1e6)).append(" |");
            for (String[] c : cols) {
                double ms = ms(c[0], s.name(), Integer.parseInt(c[1]));
                md.append(" ").append(Double.isNaN(ms) ? "" : sig(ms) + " (" + sig(gflops(s, ms)) + ")").append(" |");
            }
            md.append("\n");
        }

        md.append("\n### Tutorial shapes: µs per call from Java (target for conv4j: ≤ 1 µs)\n\n");
        md.append("| shape | threads |");
        for (String label : IMPLS.values()) {
            md.append(" ").append(label).append(" |");
        }
        md.append(" conv4j ≤ 1 µs |\n|---|---|").append("---|".repeat(IMPLS.size() + 1)).append("\n");
        for (Shape s : shapes) {
            if (!isTiny(s)) {
                continue;
            }
            for (int t : THREADS) {
                md.append("| ").append(s.name()).append(" | ").append(t).append(" |");
                for (String impl : IMPLS.keySet()) {
                    double ms = ms(impl, s.name(), t);
                    md.append(" ").append(Double.isNaN(ms) ? "" : sig(ms * 1e3)).append(" |");
                }
                double us = ms("conv4j", s.name(), t) * 1e3;
                md.append(" ").append(Double.isNaN(us) ? "" : us <= 1 ? "yes" : "**no**").append(" |\n");
            }
        }

        md.append("\n### Ratios (speed-ups: > 1 means conv4j native is faster)\n\n");
        md.append("| shape | threads | conv4j GFLOP/s | % of peak | best peer | vs best peer | vs ORT | vs oneDNN |"
                + " native / naive | native / conv4j Java | conv4j 2t/1t | ORT 2t/1t | oneDNN 2t/1t |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Shape s : shapes) {
            for (int t : THREADS) {
                double c = ms("conv4j", s.name(), t);
                Object[] best = bestPeer(s, t);
                md.append("| ").append(s.name()).append(" | ").append(t).append(" | ")
                        .append(Double.isNaN(c) ? "" : sig(gflops(s, c))).append(" | ")
                        .append(Double.isNaN(c) ? "" : String.format(Locale.ROOT, "%.0f %%", 100 * gflops(s, c) / peakMedian[t]))
                        .append(" | ").append(best == null ? "" : best[0]).append(" | ")
                        .append(best == null ? "" : ratio((double) best[1], c)).append(" | ")
                        .append(ratio(ms("ort", s.name(), t), c)).append(" | ")
                        .append(ratio(ms("onednn", s.name(), t), c)).append(" | ")
                        .append(ratio(ms("naive", s.name(), 1), c)).append(" | ")
                        .append(ratio(ms("java", s.name(), t), c)).append(" | ");
                if (t == 2) {
                    md.append(ratio(ms("conv4j", s.name(), 1), c)).append(" | ")
                            .append(ratio(ms("ort", s.name(), 1), ms("ort", s.name(), 2))).append(" | ")
                            .append(ratio(ms("onednn", s.name(), 1), ms("onednn", s.name(), 2))).append(" |\n");
                } else {
                    md.append(" |  |  |\n");
                }
            }
        }
        md.append("\nnative / naive compares with the naive loop at 1 thread; native / conv4j Java with the Java backend"
                + " at the same thread count.\n");

        targets(md);

        md.append("\n### What ran\n\n| shape | conv4j native (1t) | conv4j Java (1t) | oneDNN implementation (1t / 2t) |\n|---|---|---|---|\n");
        for (Shape s : shapes) {
            md.append("| ").append(s.name()).append(" | ").append(choice("conv4j", s.name(), 1)).append(" | ")
                    .append(choice("java", s.name(), 1)).append(" | ").append(choice("onednn", s.name(), 1))
                    .append(" / ").append(choice("onednn", s.name(), 2)).append(" |\n");
        }
        md.append("\n![GFLOP/s per shape](chart.png)\n\n").append(END).append("\n");
        return md.toString();
    }

    /** The targets, each checked on this run's numbers. */
    private void targets(StringBuilder md) {
        md.append("\n### Targets (issue 3), checked on this run\n\n| target | 1 thread | 2 threads |\n|---|---|---|\n");
        targetRow(md, "never slower than the faster of oneDNN and ORT", s -> true, 1.0, "peer");
        targetRow(md, "≥ 1.5× the faster peer on 3×3 stride-1 shapes", Report::is3x3Stride1, 1.5, "peer");
        targetRow(md, "≥ 90 % of measured peak on 1×1 and 7×7/2", s -> (s.kh() == 1 && s.kw() == 1 && s.dims() == 2)
                || (s.kh() == 7 && s.sh() == 2), 0.9, "peak");
        targetRow(md, "depthwise at least as fast as oneDNN", s -> s.groups() > 1 && s.groups() == s.cin(), 1.0, "onednn");
        md.append("| two threads ≥ 1.9× one thread on large shapes (≥ 100 MFLOP) | | ")
                .append(count(s -> s.flops() >= LARGE_FLOPS, s -> ms("conv4j", s.name(), 1) / ms("conv4j", s.name(), 2), 1.9))
                .append(" |\n");
        md.append("| tutorial shapes ≤ 1 µs per call | ")
                .append(count(Report::isTiny, s -> 1e-3 / ms("conv4j", s.name(), 1), 1.0)).append(" | ")
                .append(count(Report::isTiny, s -> 1e-3 / ms("conv4j", s.name(), 2), 1.0)).append(" |\n");
        md.append("\nEach cell: shapes meeting the target / shapes measured, then the ones that miss with their value.\n");
    }

    private void targetRow(StringBuilder md, String name, java.util.function.Predicate<Shape> which, double goal,
                           String against) {
        md.append("| ").append(name).append(" |");
        for (int t : THREADS) {
            java.util.function.ToDoubleFunction<Shape> value = s -> {
                double c = ms("conv4j", s.name(), t);
                switch (against) {
                    case "peer": {
                        Object[] b = bestPeer(s, t);
                        return b == null ? Double.NaN : (double) b[1] / c;
                    }
                    case "peak":
                        return gflops(s, c) / peakMedian[t];
                    default:
                        return ms(against, s.name(), t) / c;
                }
            };
            md.append(" ").append(count(which, value, goal)).append(" |");
        }
        md.append("\n");
    }

    private String count(java.util.function.Predicate<Shape> which, java.util.function.ToDoubleFunction<Shape> value,
                         double goal) {
        int met = 0;
        int measured = 0;
        List<String> misses = new ArrayList<>();
        for (Shape s : shapes) {
            if (!which.test(s)) {
                continue;
            }
            double v = value.applyAsDouble(s);
            if (Double.isNaN(v)) {
                continue;
            }
            measured++;
            if (v >= goal) {
                met++;
            } else {
                misses.add(s.name() + " " + sig(v));
            }
        }
        return met + "/" + measured + (misses.isEmpty() ? "" : " (misses: " + String.join(", ", misses) + ")");
    }

    static boolean isTiny(Shape s) {
        return s.flops() < 1e5;
    }

    static boolean is3x3Stride1(Shape s) {
        return s.dims() == 2 && s.kh() == 3 && s.kw() == 3 && s.sh() == 1 && s.sw() == 1 && s.dh() == 1 && s.dw() == 1
                && s.groups() == 1 && !isTiny(s);
    }

    private String firstChoice(String impl) {
        Map<String, Map<Integer, String>> m = chosen.get(impl);
        if (m == null || m.isEmpty()) {
            return null;
        }
        return m.values().iterator().next().values().iterator().next();
    }

    private String choice(String impl, String shape, int threads) {
        Map<String, Map<Integer, String>> m = chosen.get(impl);
        String text = m == null || m.get(shape) == null ? null : m.get(shape).get(threads);
        if (text == null) {
            return "";
        }
        int arrow = text.lastIndexOf("->"); // conv4j's explain line: the choice follows the arrow
        return (arrow >= 0 ? text.substring(arrow + 2).trim() : text).replace("|", "/");
    }

    static String ratio(double numerator, double denominator) {
        double r = numerator / denominator;
        return Double.isNaN(r) || Double.isInfinite(r) ? "" : String.format(Locale.ROOT, "%.2f×", r);
    }

    /** Three significant digits, plain notation. */
    static String sig(double v) {
        if (Double.isNaN(v)) {
            return "";
        }
        if (v == 0) {
            return "0";
        }
        int digits = Math.max(0, 2 - (int) Math.floor(Math.log10(Math.abs(v))));
        return new java.math.BigDecimal(v).setScale(digits, java.math.RoundingMode.HALF_EVEN).toPlainString();
    }

    void writeReadme(Path readme, String section) throws IOException {
        String text = Files.isRegularFile(readme) ? Files.readString(readme, StandardCharsets.UTF_8) : "";
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        String updated;
        if (b >= 0 && e > b) {
            updated = text.substring(0, b) + section + text.substring(e + END.length() + (text.startsWith("\n", e + END.length()) ? 1 : 0));
        } else {
            updated = text + (text.isEmpty() || text.endsWith("\n") ? "" : "\n") + "\n## Results\n\n" + section;
        }
        Files.writeString(readme, updated, StandardCharsets.UTF_8);
    }

    /** Grouped bars: GFLOP/s per shape (the tutorial shapes left out), one series per implementation and thread count. */
    void writeChart(Path file) throws IOException {
        List<String> names = new ArrayList<>();
        for (Shape s : shapes) {
            if (!isTiny(s)) {
                names.add(s.name());
            }
        }
        CategoryChart chart = new CategoryChartBuilder().width(1300).height(520)
                .title("GFLOP/s per shape (higher is better); peak " + String.format(Locale.ROOT, "%.0f / %.0f",
                        peakMedian[1], peakMedian[2]) + " GFLOP/s at 1 / 2 threads")
                .xAxisTitle("shape").yAxisTitle("GFLOP/s").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setAvailableSpaceFill(0.85);
        chart.getStyler().setOverlapped(false);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        List<Color> colors = new ArrayList<>();
        Color[] base = {new Color(0xD62728), new Color(0x9467BD), new Color(0x7F7F7F), new Color(0x1F77B4), new Color(0x2CA02C)};
        int k = 0;
        for (Map.Entry<String, String> e : IMPLS.entrySet()) {
            Color c = base[k++];
            for (int t : THREADS) {
                List<Double> values = new ArrayList<>();
                boolean any = false;
                for (String n : names) {
                    Shape s = shapes.stream().filter(x -> x.name().equals(n)).findFirst().orElseThrow();
                    double ms = ms(e.getKey(), n, t);
                    any |= !Double.isNaN(ms);
                    values.add(Double.isNaN(ms) ? 0.0 : gflops(s, ms));
                }
                if (any) {
                    chart.addSeries(e.getValue() + " " + t + "t", names, values);
                    colors.add(t == 1 ? c : c.darker());
                }
            }
        }
        if (colors.isEmpty()) { // e.g. a smoke run of the tutorial shapes only
            System.out.println("no shape above the tutorial size was measured: " + file + " not written");
            return;
        }
        chart.getStyler().setSeriesColors(colors.toArray(new Color[0]));
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}

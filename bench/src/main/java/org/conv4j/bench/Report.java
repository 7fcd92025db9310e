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
        IMPLS.put("conv4j", "conv4j native (default algorithm)");
        IMPLS.put("java", "conv4j Java backend");
        IMPLS.put("naive", "reference loop (double, 1t)");
        IMPLS.put("ort", "ONNX Runtime");
        IMPLS.put("onednn", "oneDNN");
        IMPLS.put("winograd", "conv4j Winograd (opt-in, effective)");
    }

    static final int[] THREADS = {1, 2};
    static final String BEGIN = "<!-- results:begin -->";
    static final String END = "<!-- results:end -->";
    /** Shapes of at least this many FLOPs count as "large" for the 2-thread scaling target. */
    static final double LARGE_FLOPS = 100e6;

    record Key(String impl, String shape, int threads) {}

    final List<Shape> shapes;
    /** Milliseconds per call, every measured iteration. */
    static final java.util.Comparator<Key> KEY_ORDER = (a, b) -> (a.impl + "\t" + a.shape + "\t" + a.threads).compareTo(
            b.impl + "\t" + b.shape + "\t" + b.threads);
    final Map<Key, double[]> samples = new TreeMap<>(KEY_ORDER);
    /** impl → shape → threads → what ran (from the implementation log). */
    final Map<String, Map<String, Map<Integer, String>>> chosen = new TreeMap<>();
    /** What the suite wrote besides the samples: the algorithm that ran, failures, n/a, checks, the ISA. */
    final Map<Key, String> algorithms = new TreeMap<>(KEY_ORDER);
    final Map<Key, String> failures = new TreeMap<>(KEY_ORDER);
    final Map<Key, String> notApplicable = new TreeMap<>(KEY_ORDER);
    final Map<Key, String[]> checks = new TreeMap<>(KEY_ORDER);
    final java.util.Set<String> suiteIsas = new java.util.TreeSet<>();
    final double[] peakMedian = new double[3];
    final double[] peakBest = new double[3];

    Report(List<Shape> shapes) {
        this.shapes = shapes;
    }

    public static void main(String[] args) throws IOException {
        List<Path> results = new ArrayList<>();
        List<Path> suites = new ArrayList<>();
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
                        Path suite = p.resolve("samples.tsv");
                        if (Files.isRegularFile(suite)) {
                            suites.add(suite);
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
        if (results.isEmpty() && suites.isEmpty()) {
            usage("no results: --results DIR (samples.tsv from Suite, or JMH *.json) | FILE.json");
        }
        results.sort(null);
        Report r = new Report(Shape.load());
        for (Path p : results) {
            r.readJmh(p);
        }
        for (Path p : suites) {
            r.readSuite(p);
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

    /** Reads the interleaved suite's output ({@link Suite}): samples, algorithms, failures, n/a, checks. */
    void readSuite(Path file) throws IOException {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.split("\t", -1);
            if (f.length < 5) {
                continue;
            }
            Key k = new Key(f[1], f[2], Integer.parseInt(f[3]));
            switch (f[0]) {
                case "sample" -> {
                    samples.put(k, Arrays.stream(f[4].split(",")).mapToDouble(Double::parseDouble).toArray());
                    if (f.length > 5 && !f[5].isEmpty()) {
                        algorithms.put(k, f[5]);
                    }
                }
                case "fail" -> failures.merge(k, f[4], (a, b) -> a + "; " + b);
                case "na" -> notApplicable.put(k, f[4]);
                case "check" -> checks.put(k, new String[] {f[4], f.length > 5 ? f[5] : ""});
                case "isa" -> suiteIsas.add(f[4]);
                default -> { }
            }
        }
    }

    static String implOf(String benchmark) {
        String cls = benchmark.substring(0, benchmark.lastIndexOf('.'));
        switch (cls.substring(cls.lastIndexOf('.') + 1)) {
            case "Conv4jNativeBench": return "conv4j";
            case "Conv4jJavaBench": return "java";
            case "Conv4jWinogradBench": return "winograd";
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
        md.append("<!-- generated by org.conv4j.bench.Report from the suite's results; edit the code, not this section -->\n\n");
        String ortVersion = firstChoice("ort");
        String isa = isaInUse();
        md.append("Run of ").append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")))
                .append(" UTC on ").append(Conv4j.platform()).append(" (").append(Conv4j.cpuFeatures()).append("), ")
                .append(Runtime.getRuntime().availableProcessors()).append(" CPUs, JDK ")
                .append(System.getProperty("java.version")).append("; **conv4j ISA in use: ").append(isa).append("**; ")
                .append(ortVersion == null ? "ONNX Runtime not run" : ortVersion).append(", oneDNN 3.13 (org.bytedeco:dnnl 3.13-1.5.14).\n");
        for (String n : notes) {
            md.append("\n").append(n).append("\n");
        }
        md.append("\nMeasured FMA peak at the ISA in use (").append(isa).append(": ").append(peakProbe(isa))
                .append(", `conv4j_measure_peak_gflops`): ")
                .append(String.format(Locale.ROOT, "**%.1f GFLOP/s on 1 thread** (best %.1f), **%.1f on 2** (best %.1f); ",
                        peakMedian[1], peakBest[1], peakMedian[2], peakBest[2]))
                .append("% of peak below divides the default algorithm's GFLOP/s by these medians.\n");
        failuresSection(md);

        md.append("\n### Time per call: median [min–max of the rounds], GFLOP/s\n\n");
        md.append("Each cell: the median time per call over the interleaved rounds, their range in brackets, then GFLOP/s ="
                + " 2·N·Hout·Wout·Cout·KH·KW·Cin/groups / median time. \"missing\": the implementation failed on this"
                + " shape (see Failures); empty: not run (the reference loop: 1 thread, and not where one call takes over ~2 s)."
                + " conv4j native runs its default algorithm (named in the next column); the reference loop is"
                + " `ReferenceConvolution.compute`, the double-precision oracle every output is checked against, not an"
                + " optimized baseline.\n\n");
        List<String> timed = List.of("conv4j", "java", "naive", "ort", "onednn");
        md.append("| shape | threads | MFLOP |");
        for (String impl : timed) {
            md.append(" ").append(IMPLS.get(impl)).append(" |");
            if (impl.equals("conv4j")) {
                md.append(" algorithm |");
            }
        }
        md.append("\n|---|---|---|").append("---|".repeat(timed.size() + 1)).append("\n");
        for (Shape s : shapes) {
            for (int t : THREADS) {
                if (!measuredAt(s, t)) {
                    continue;
                }
                md.append("| ").append(s.name()).append(" | ").append(t).append(" | ").append(sig(s.flops() / 1e6)).append(" |");
                for (String impl : timed) {
                    md.append(" ").append(cell(impl, s, t)).append(" |");
                    if (impl.equals("conv4j")) {
                        String a = algorithms.get(new Key("conv4j", s.name(), t));
                        md.append(" ").append(a == null ? "" : a.equals("winograd") ? "**winograd** (effective)" : a).append(" |");
                    }
                }
                md.append("\n");
            }
        }

        winogradSection(md);

        md.append("\n### Ratios (speed-ups: > 1 means conv4j native, default algorithm, is faster)\n\n");
        md.append("% of peak: the default algorithm's GFLOP/s over the measured peak at the same thread count; left empty"
                + " when that algorithm is Winograd (effective GFLOP/s, not FMA work). \"vs best peer\" needs both peers:"
                + " a missing one makes it \"missing\", never a comparison with the other alone.\n\n");
        md.append("| shape | threads | conv4j GFLOP/s | % of peak | best peer | vs best peer | vs ORT | vs oneDNN |"
                + " native / reference loop | native / conv4j Java | conv4j 2t/1t | ORT 2t/1t | oneDNN 2t/1t |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Shape s : shapes) {
            for (int t : THREADS) {
                if (!measuredAt(s, t)) {
                    continue;
                }
                double c = ms("conv4j", s.name(), t);
                Object[] best = bestPeer(s, t);
                boolean peerMissing = failed("ort", s, t) || failed("onednn", s, t);
                md.append("| ").append(s.name()).append(" | ").append(t).append(" | ")
                        .append(Double.isNaN(c) ? (failed("conv4j", s, t) ? "missing" : "") : sig(gflops(s, c))).append(" | ")
                        .append(percentOfPeak(s, t)).append(" | ")
                        .append(peerMissing ? "missing" : best == null ? "" : best[0]).append(" | ")
                        .append(peerMissing ? "missing" : best == null ? "" : ratio((double) best[1], c)).append(" | ")
                        .append(failed("ort", s, t) ? "missing" : ratio(ms("ort", s.name(), t), c)).append(" | ")
                        .append(failed("onednn", s, t) ? "missing" : ratio(ms("onednn", s.name(), t), c)).append(" | ")
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
        md.append("\nnative / reference loop compares with the double-precision reference loop at 1 thread; native / conv4j Java"
                + " with the Java backend at the same thread count.\n");

        targets(md);
        checksSection(md);

        md.append("\n### What ran\n\n| shape | conv4j native (1t) | conv4j Java (1t) | oneDNN implementation (1t / 2t) |\n|---|---|---|---|\n");
        for (Shape s : shapes) {
            if (!measuredAt(s, 1) && !measuredAt(s, 2)) {
                continue;
            }
            md.append("| ").append(s.name()).append(" | ").append(choice("conv4j", s.name(), 1)).append(" | ")
                    .append(choice("java", s.name(), 1)).append(" | ").append(choice("onednn", s.name(), 1))
                    .append(" / ").append(choice("onednn", s.name(), 2)).append(" |\n");
        }
        md.append("\n![GFLOP/s per shape](chart.png)\n\n").append(END).append("\n");
        return md.toString();
    }

    /** The ISA the suite's runs reported (all of them should agree), else this JVM's. */
    String isaInUse() {
        return suiteIsas.isEmpty() ? Conv4j.activeIsa() : String.join(" / ", suiteIsas);
    }

    /** What the peak probe runs at that ISA. */
    static String peakProbe(String isa) {
        if (isa.contains("avx512")) {
            return "12 independent 512-bit FMA chains per thread";
        }
        if (isa.contains("avx2")) {
            return "12 independent 256-bit FMA chains per thread";
        }
        return "12 independent FMA chains per thread";
    }

    boolean failed(String impl, Shape s, int t) {
        return failures.containsKey(new Key(impl, s.name(), t));
    }

    /** Whether anything ran (or failed) for this shape at this thread count. */
    boolean measuredAt(Shape s, int t) {
        for (String impl : IMPLS.keySet()) {
            Key k = new Key(impl, s.name(), t);
            if (samples.containsKey(k) || failures.containsKey(k)) {
                return true;
            }
        }
        return false;
    }

    /** "1.47 ms [1.45–1.52], 157": time in µs below 1 ms, "missing" for a failure, empty when not run. */
    String cell(String impl, Shape s, int t) {
        double[] v = samples.get(new Key(impl, s.name(), t));
        if (v == null) {
            return failed(impl, s, t) ? "missing" : "";
        }
        double med = median(v);
        double min = Arrays.stream(v).min().orElse(Double.NaN);
        double max = Arrays.stream(v).max().orElse(Double.NaN);
        return time(med, min, max) + ", " + sig(gflops(s, med));
    }

    /** Median and range in one unit: µs when the median is under 1 ms, else ms. */
    static String time(double medMs, double minMs, double maxMs) {
        boolean us = medMs < 1;
        double f = us ? 1e3 : 1;
        return sig(medMs * f) + " [" + sig(minMs * f) + "–" + sig(maxMs * f) + "] " + (us ? "µs" : "ms");
    }

    /** The default algorithm's % of peak; empty when that algorithm was Winograd (effective figures). */
    String percentOfPeak(Shape s, int t) {
        double c = ms("conv4j", s.name(), t);
        if (Double.isNaN(c)) {
            return "";
        }
        if ("winograd".equals(algorithms.get(new Key("conv4j", s.name(), t)))) {
            return "(winograd: effective)";
        }
        return String.format(Locale.ROOT, "%.0f %%", 100 * gflops(s, c) / peakMedian[t]);
    }

    private void winogradSection(StringBuilder md) {
        boolean any = samples.keySet().stream().anyMatch(k -> k.impl().equals("winograd"))
                || failures.keySet().stream().anyMatch(k -> k.impl().equals("winograd"));
        if (!any) {
            return;
        }
        md.append("\n### Winograd, opt-in: effective GFLOP/s\n\n");
        md.append("conv4j native with Winograd F(4×4, 3×3) forced (`.algorithm(WINOGRAD).winograd(true)`), on the shapes it"
                + " takes. **Effective GFLOP/s**: the direct convolution's FLOP count over Winograd's time; Winograd does"
                + " fewer multiplications and is less accurate than a direct sum (README, \"Winograd accuracy\"), so these"
                + " figures are not FMA throughput and have no % of peak; they are kept out of the default algorithm's rows.\n\n");
        md.append("| shape | threads | Winograd: median [min–max], effective GFLOP/s | vs conv4j default | vs best peer |\n|---|---|---|---|---|\n");
        for (Shape s : shapes) {
            for (int t : THREADS) {
                Key k = new Key("winograd", s.name(), t);
                if (!samples.containsKey(k) && !failures.containsKey(k)) {
                    continue;
                }
                double w = ms("winograd", s.name(), t);
                Object[] best = bestPeer(s, t);
                boolean peerMissing = failed("ort", s, t) || failed("onednn", s, t);
                md.append("| ").append(s.name()).append(" | ").append(t).append(" | ").append(cell("winograd", s, t))
                        .append(" | ").append(ratio(ms("conv4j", s.name(), t), w)).append(" | ")
                        .append(peerMissing ? "missing" : best == null ? "" : ratio((double) best[1], w) + " (" + best[0] + ")")
                        .append(" |\n");
            }
        }
    }

    private void failuresSection(StringBuilder md) {
        if (failures.isEmpty()) {
            return;
        }
        md.append("\n**Failures: this run is incomplete.** The cells of these implementations say \"missing\":\n\n");
        failures.forEach((k, why) -> md.append("- ").append(IMPLS.getOrDefault(k.impl(), k.impl())).append(", ")
                .append(k.shape()).append(", ").append(k.threads()).append("t: ").append(why.replace("|", "/")).append("\n"));
    }

    private void checksSection(StringBuilder md) {
        if (checks.isEmpty()) {
            return;
        }
        long ok = checks.values().stream().filter(c -> c[0].equals("ok")).count();
        md.append("\n### Correctness of what was timed\n\n");
        md.append("After the timed rounds, the last output of every implementation (conv4j native, Winograd, the Java backend,"
                + " ONNX Runtime, oneDNN) is compared element by element with the double-precision reference"
                + " (`ReferenceConvolution`) within 2·γ(fanIn+1)·√fanIn + u·|ref| + 1e-6 (`Suite.tolerance`; twice a"
                + " direct sum's worst case for this data, and the library's Winograd test bound); a mismatch fails the run. ")
                .append(ok).append(" of ").append(checks.size()).append(" outputs within it");
        double worst = 0;
        String worstAt = "";
        for (Map.Entry<Key, String[]> e : checks.entrySet()) {
            try {
                double r = Double.parseDouble(e.getValue()[1]);
                if (r > worst) {
                    worst = r;
                    worstAt = IMPLS.getOrDefault(e.getKey().impl(), e.getKey().impl()) + " on " + e.getKey().shape()
                            + " " + e.getKey().threads() + "t";
                }
            } catch (NumberFormatException ignored) {
                // not a number: listed below if it is a mismatch
            }
        }
        md.append(String.format(Locale.ROOT, "; largest |error| / tolerance %.3g (%s).", worst, worstAt));
        for (Map.Entry<Key, String[]> e : checks.entrySet()) {
            if (!e.getValue()[0].equals("ok")) {
                md.append("\n- **MISMATCH**: ").append(IMPLS.getOrDefault(e.getKey().impl(), e.getKey().impl())).append(", ")
                        .append(e.getKey().shape()).append(", ").append(e.getKey().threads()).append("t: |error| / tolerance ")
                        .append(e.getValue()[1]);
            }
        }
        md.append("\n");
    }

    /** The issues' targets, each checked on this run's numbers (default algorithm; Winograd's target on its own rows). */
    private void targets(StringBuilder md) {
        md.append("\n### Targets (issues 3 and 11), checked on this run\n\n| target | 1 thread | 2 threads |\n|---|---|---|\n");
        targetRow(md, "default algorithm never slower than the faster of oneDNN and ORT", s -> true, 1.0, "conv4j", "peer");
        targetRow(md, "Winograd (opt-in) ≥ 1.5× the faster peer on 3×3 stride-1 shapes", Report::is3x3Stride1, 1.5,
                "winograd", "peer");
        targetRow(md, "≥ 90 % of measured peak on 1×1 and 7×7/2", s -> (s.kh() == 1 && s.kw() == 1 && s.dims() == 2)
                || (s.kh() == 7 && s.sh() == 2), 0.9, "conv4j", "peak");
        targetRow(md, "depthwise at least as fast as oneDNN", s -> s.groups() > 1 && s.groups() == s.cin(), 1.0, "conv4j",
                "onednn");
        md.append("| two threads ≥ 1.9× one thread on large shapes (≥ 100 MFLOP) | | ")
                .append(count(s -> s.flops() >= LARGE_FLOPS, s -> ms("conv4j", s.name(), 1) / ms("conv4j", s.name(), 2), 1.9,
                        s -> failed("conv4j", s, 1) || failed("conv4j", s, 2)))
                .append(" |\n");
        md.append("| tutorial shapes ≤ 1 µs per call | ")
                .append(count(Report::isTiny, s -> 1e-3 / ms("conv4j", s.name(), 1), 1.0, s -> failed("conv4j", s, 1))).append(" | ")
                .append(count(Report::isTiny, s -> 1e-3 / ms("conv4j", s.name(), 2), 1.0, s -> failed("conv4j", s, 2))).append(" |\n");
        md.append("\nEach cell: shapes meeting the target / shapes measured, then the ones that miss with their value, and"
                + " any shape left unmeasured by a failure (\"missing\").\n");
    }

    private void targetRow(StringBuilder md, String name, java.util.function.Predicate<Shape> which, double goal,
                           String impl, String against) {
        md.append("| ").append(name).append(" |");
        for (int t : THREADS) {
            java.util.function.ToDoubleFunction<Shape> value = s -> {
                double c = ms(impl, s.name(), t);
                switch (against) {
                    case "peer": {
                        if (failed("ort", s, t) || failed("onednn", s, t)) {
                            return Double.NaN;
                        }
                        Object[] b = bestPeer(s, t);
                        return b == null ? Double.NaN : (double) b[1] / c;
                    }
                    case "peak":
                        return "winograd".equals(algorithms.get(new Key(impl, s.name(), t))) ? Double.NaN
                                : gflops(s, c) / peakMedian[t];
                    default:
                        return ms(against, s.name(), t) / c;
                }
            };
            md.append(" ").append(count(which, value, goal, s -> failed(impl, s, t) || failed("ort", s, t)
                    || failed("onednn", s, t))).append(" |");
        }
        md.append("\n");
    }

    private String count(java.util.function.Predicate<Shape> which, java.util.function.ToDoubleFunction<Shape> value,
                         double goal, java.util.function.Predicate<Shape> missing) {
        int met = 0;
        int measured = 0;
        List<String> misses = new ArrayList<>();
        List<String> missingNames = new ArrayList<>();
        for (Shape s : shapes) {
            if (!which.test(s)) {
                continue;
            }
            if (missing.test(s)) {
                missingNames.add(s.name());
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
        return met + "/" + measured + (misses.isEmpty() ? "" : " (misses: " + String.join(", ", misses) + ")")
                + (missingNames.isEmpty() ? "" : " (missing: " + String.join(", ", missingNames) + ")");
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
            return algorithms.entrySet().stream().filter(e -> e.getKey().impl().equals(impl)).map(Map.Entry::getValue)
                    .findFirst().orElse(null);
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
                .title("GFLOP/s per shape (higher is better; Winograd: effective); " + isaInUse() + " peak " + String.format(Locale.ROOT, "%.0f / %.0f",
                        peakMedian[1], peakMedian[2]) + " GFLOP/s at 1 / 2 threads")
                .xAxisTitle("shape").yAxisTitle("GFLOP/s").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setAvailableSpaceFill(0.85);
        chart.getStyler().setOverlapped(false);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        List<Color> colors = new ArrayList<>();
        Color[] base = {new Color(0xD62728), new Color(0x9467BD), new Color(0x7F7F7F), new Color(0x1F77B4), new Color(0x2CA02C),
            new Color(0xFF9896)};
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

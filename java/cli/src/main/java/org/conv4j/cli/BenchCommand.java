package org.conv4j.cli;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.conv4j.Algorithm;
import org.conv4j.Backend;
import org.conv4j.Conv4j;
import org.conv4j.ConvGeometry;
import org.conv4j.ConvLayer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Times the shapes of a bench-shapes CSV through the public layer API; prints medians and GFLOP/s. */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Time each shape of a CSV file (format of bench/shapes.csv, the repository's standard layers; bias on,",
            "random weights)",
            "through the layer API: a warm-up, then the median of the repeated runs and its GFLOP/s",
            "(a run lasts at least 10 ms: a shorter call is repeated and the mean per call counted)",
            "(2·N·Hout·Wout·Cout·KH·KW·Cin/groups per run).",
            "csv output: name,threads,backend,median_ms,gflops,algorithm; algorithm is what ran (native:",
            "gemm, winograd, direct, depthwise, reference; java backend: java), or 'unsupported' with empty",
            "median_ms and gflops when a forced --algorithm refuses the shape.",
            "GFLOP/s of a winograd row is effective: the direct formula's count over Winograd's time."})
final class BenchCommand implements Callable<Integer> {
    static final String CSV_HEADER = "name,threads,backend,median_ms,gflops,algorithm";
    /** The algorithm column of a shape the forced algorithm refuses (no time, no GFLOP/s). */
    static final String UNSUPPORTED = "unsupported";
    static final List<String> ALGORITHMS = List.of("auto", "gemm", "winograd", "direct", "depthwise", "reference");
    /** Warm-up: at least this many calls and this long, so the JIT and the plans are settled. */
    private static final int WARMUP_CALLS = 5;
    private static final long WARMUP_NANOS = 500_000_000L;
    /**
     * A timed run lasts at least this long: a call shorter than that is repeated within the run and
     * the run's time divided by the calls, so a sub-microsecond call's spread measures the calls,
     * not the clock's resolution or one preempted call (a single-call spread reached 6000 %).
     */
    static final long MIN_RUN_NANOS = 10_000_000L;

    @Spec
    private CommandSpec spec;

    @Option(names = "--shapes", required = true, paramLabel = "FILE", description = "Shapes CSV, e.g. bench/shapes.csv from the repository root.")
    Path shapes;

    @Option(names = "--threads", paramLabel = "T", defaultValue = "0",
            description = "Threads per call; 0 (default) = all cores.")
    int threads;

    @Option(names = "--backend", paramLabel = "native|java",
            description = "Default: native when its library loads, else java.")
    Backend backend;

    @Option(names = "--algorithm", paramLabel = "auto|gemm|winograd|direct|depthwise|reference", defaultValue = "auto",
            description = {"Native algorithm: auto (default; the library's default choice, direct-sum accurate)",
                "or one forced. winograd opts in to Winograd (less accurate; its GFLOP/s are effective).",
                "A shape the forced algorithm refuses gives an 'unsupported' row; the run goes on."})
    String algorithm;

    @Option(names = "--repeats", paramLabel = "R", defaultValue = "5", description = "Timed runs per shape; default ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--format", paramLabel = "table|csv", defaultValue = "table", description = "Default: ${DEFAULT-VALUE}.")
    String format;

    /** One shape's measurement. */
    private record Result(BenchShapes.Shape shape, String algorithm, ConvGeometry geometry, double medianMs,
                          double minMs, double maxMs) {
        double gflops() {
            return geometry.flops() / (medianMs * 1e6);
        }

        boolean unsupported() {
            return algorithm.equals(UNSUPPORTED);
        }
    }

    @Override
    public Integer call() {
        if (threads < 0) {
            throw new CliException("--threads must be >= 0 (0 = all cores), got " + threads);
        }
        if (repeats < 1) {
            throw new CliException("--repeats must be >= 1, got " + repeats);
        }
        String fmt = format.strip().toLowerCase(Locale.ROOT);
        if (!fmt.equals("table") && !fmt.equals("csv")) {
            throw new CliException("--format must be table or csv, got '" + format + "'");
        }
        String algo = algorithm.strip().toLowerCase(Locale.ROOT);
        if (!ALGORITHMS.contains(algo)) {
            throw new CliException("--algorithm must be one of " + String.join(", ", ALGORITHMS) + ", got '"
                    + algorithm + "'");
        }
        Algorithm forced = Algorithm.parse(algo);
        List<BenchShapes.Shape> list = BenchShapes.read(shapes);
        Backend chosen = backend != null ? backend : Conv4j.defaultBackend();
        if (forced != Algorithm.AUTO && chosen != Backend.NATIVE) {
            throw new CliException("--algorithm " + algo + " needs the native backend (the java backend has one"
                    + " algorithm of its own); use --algorithm auto with --backend java");
        }
        // Build every layer first, so a shape the library refuses fails before any timing.
        List<ConvLayer> layers = new ArrayList<>();
        try {
            for (BenchShapes.Shape s : list) {
                layers.add(layer(s, chosen, forced));
            }
            PrintWriter out = spec.commandLine().getOut();
            Progress progress = new Progress(spec.commandLine().getErr(), System.console() != null, list.size());
            List<Result> results = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                progress.show(i, list.get(i).name());
                results.add(measure(list.get(i), layers.get(i)));
            }
            progress.done();
            int shownThreads = shownThreads(chosen);
            if (fmt.equals("csv")) {
                out.println(CSV_HEADER);
                for (Result r : results) {
                    out.println(r.shape().name() + "," + shownThreads + "," + chosen.cliName() + ","
                            + (r.unsupported() ? "," : plain(r.medianMs()) + "," + plain(r.gflops())) + ","
                            + r.algorithm());
                }
            } else {
                table(out, results, chosen, shownThreads);
            }
        } finally {
            layers.forEach(ConvLayer::close);
        }
        return Main.EXIT_OK;
    }

    private ConvLayer layer(BenchShapes.Shape s, Backend chosen, Algorithm forced) {
        ConvLayer layer = null;
        try {
            ConvLayer.Builder b = ConvLayer.builder(s.dims()).filters(s.cout()).kernelSize(s.kernelSize())
                    .strides(s.strides()).dilationRate(s.dilation()).groups(s.groups()).padding(s.padding())
                    .useBias(true).backend(chosen).threads(threads);
            if (forced != Algorithm.AUTO) {
                b.algorithm(forced);
            }
            if (forced == Algorithm.WINOGRAD) {
                b.winograd(true); // Winograd is opt-in: forcing it is the opt-in
            }
            layer = b.build();
            SplittableRandom random = new SplittableRandom(s.name().hashCode());
            int kernelCount = s.kh() * s.kw() * (s.cin() / s.groups()) * s.cout();
            layer.setWeights(values(random, kernelCount), values(random, s.cout()));
            layer.geometry(s.inputShape()); // validates the input against the configuration
            return layer;
        } catch (IllegalArgumentException e) {
            if (layer != null) {
                layer.close();
            }
            throw new CliException(s.where() + ": " + s.name() + ": " + e.getMessage());
        }
    }

    private Result measure(BenchShapes.Shape s, ConvLayer layer) {
        int[] shape = s.inputShape();
        ConvGeometry g = layer.geometry(shape);
        String ran;
        try {
            ran = layer.algorithm(shape); // creates the plan: a forced algorithm refuses the shape here
        } catch (IllegalArgumentException e) {
            if (layer.config().algorithm() == Algorithm.AUTO) {
                throw new CliException(s.where() + ": " + s.name() + ": " + e.getMessage());
            }
            return new Result(s, UNSUPPORTED, g, Double.NaN, Double.NaN, Double.NaN);
        }
        float[] input = values(new SplittableRandom(1), g.inputCount());
        float[] output = new float[g.outputCount()];
        long start = System.nanoTime();
        long warmupCalls = 0;
        while (warmupCalls < WARMUP_CALLS || System.nanoTime() - start < WARMUP_NANOS) {
            layer.predict(input, shape, output);
            warmupCalls++;
        }
        int calls = callsPerRun((double) (System.nanoTime() - start) / warmupCalls);
        double[] ms = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            for (int c = 0; c < calls; c++) {
                layer.predict(input, shape, output);
            }
            ms[i] = (System.nanoTime() - t0) / 1e6 / calls;
        }
        Arrays.sort(ms);
        double median = repeats % 2 == 1 ? ms[repeats / 2] : (ms[repeats / 2 - 1] + ms[repeats / 2]) / 2;
        return new Result(s, ran, g, median, ms[0], ms[repeats - 1]);
    }

    /** Calls per timed run so that a run lasts at least {@link #MIN_RUN_NANOS}: 1 for calls that long or longer. */
    static int callsPerRun(double nanosPerCall) {
        if (!(nanosPerCall > 0)) {
            return 1;
        }
        return (int) Math.max(1, Math.min(1_000_000, Math.ceil(MIN_RUN_NANOS / nanosPerCall)));
    }

    /** The thread count a call really uses: 0 resolved; the Java backend is capped at the cores. */
    private int shownThreads(Backend chosen) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (chosen == Backend.NATIVE) {
            return threads == 0 ? Conv4j.maxThreads() : threads;
        }
        return threads == 0 ? cores : Math.min(threads, cores);
    }

    private void table(PrintWriter out, List<Result> results, Backend chosen, int shownThreads) {
        String engine = chosen == Backend.NATIVE ? "native, ISA " + Conv4j.activeIsa() + ", algorithm "
                + algorithm.strip().toLowerCase(Locale.ROOT) : "java, " + Conv4j.javaKernel() + " micro-kernel";
        out.println(String.format(Locale.ROOT, "conv4j bench: %s, %d thread%s, median of the timed runs",
                engine, shownThreads, shownThreads == 1 ? "" : "s"));
        out.println(String.format(Locale.ROOT, "%-16s %-22s %-10s %12s %10s %9s %9s", "shape", "input -> output",
                "algorithm", "median", "GFLOP/s", "% of best", "spread"));
        double best = results.stream().filter(r -> !r.unsupported()).mapToDouble(Result::gflops).max().orElse(1);
        boolean effective = false;
        for (Result r : results) {
            ConvGeometry g = r.geometry();
            String io = dims(g.inputShape()) + " -> " + g.outChannels();
            if (r.unsupported()) {
                out.println(String.format(Locale.ROOT, "%-16s %-22s %-10s %12s %10s %9s %9s", r.shape().name(), io,
                        UNSUPPORTED, "-", "-", "-", "-"));
                continue;
            }
            effective |= r.algorithm().equals("winograd");
            boolean us = r.medianMs() < 1; // tiny shapes in µs, not 0.000 ms
            out.println(String.format(Locale.ROOT, "%-16s %-22s %-10s %9.3f %s %10.2f %8.0f%% %8.1f%%",
                    r.shape().name(), io, r.algorithm(), us ? r.medianMs() * 1e3 : r.medianMs(), us ? "µs" : "ms",
                    r.gflops(), 100 * r.gflops() / best,
                    100 * (r.maxMs() - r.minMs()) / r.medianMs()));
        }
        out.println("spread: (slowest - fastest) / median of the timed runs; a run repeats a call shorter than"
                + " 10 ms until it lasts 10 ms and");
        out.println("counts the mean per call. GFLOP/s counts a multiply-add as 2.");
        if (effective) {
            out.println("winograd rows: effective GFLOP/s (the direct formula's count over Winograd's time;"
                    + " Winograd is less accurate than a direct sum).");
        }
        if (results.stream().anyMatch(Result::unsupported)) {
            out.println("unsupported: the forced algorithm refuses that shape (not timed).");
        }
    }

    /** Four significant digits as a plain decimal with '.', whatever the locale: tiny values stay non-zero. */
    static String plain(double v) {
        return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
    }

    private static String dims(int[] shape) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            b.append(i == 0 ? "" : "x").append(shape[i]);
        }
        return b.toString();
    }

    private static float[] values(SplittableRandom r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    /** A one-line progress bar on stderr, drawn only on a terminal so piped stdout stays clean. */
    private static final class Progress {
        private static final int WIDTH = 30;
        private final PrintWriter err;
        private final boolean enabled;
        private final int total;

        Progress(PrintWriter err, boolean enabled, int total) {
            this.err = err;
            this.enabled = enabled;
            this.total = total;
        }

        void show(int done, String name) {
            if (!enabled) {
                return;
            }
            int filled = done * WIDTH / total;
            err.print("\r[" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] " + done + "/" + total + " "
                    + String.format(Locale.ROOT, "%-20s", name));
            err.flush();
        }

        void done() {
            if (enabled) {
                err.print("\r" + " ".repeat(WIDTH + 40) + "\r");
                err.flush();
            }
        }
    }
}

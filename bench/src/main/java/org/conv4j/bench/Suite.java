package org.conv4j.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.conv4j.Conv4j;
import org.conv4j.ConvGeometry;
import org.conv4j.ReferenceConvolution;

/**
 * The interleaved suite bench/run.sh runs: one JVM per shape and thread count (fresh JIT profiles
 * for the Java backend, and {@code OMP_NUM_THREADS} set for oneDNN), every implementation of the
 * suite set up side by side, warmed up, then timed in rounds: each round times every
 * implementation once (an iteration of about {@code --iteration-ms}, a batch of calls sized in the
 * warm-up), the order rotating from round to round, so a load spike on the shared machine lands on
 * all of them rather than on one column. The report takes the median of the rounds and shows
 * their min–max beside it.
 *
 * <p>JMH cannot interleave different benchmarks of one shape (a run is one benchmark at a time),
 * so this harness drives the JMH state classes ({@link ShapeState}: the same setup, call and
 * teardown) itself. A call is an opaque native call or writes an output array that stays
 * reachable, so nothing is optimized away.
 *
 * <p>At teardown the last output of every implementation is compared, element by element, with
 * the double-precision reference ({@link ReferenceConvolution#compute}); an output outside the
 * tolerance ({@link #tolerance}) is a {@code check ... MISMATCH} line and exit status 3. An
 * implementation whose setup or call throws is a {@code fail} line (the report shows "missing")
 * and exit status 4: a failed peer is never silently dropped. Forced Winograd on a shape it does
 * not take is {@code n/a}, not a failure.
 *
 * <p>Output, appended to {@code --out}, tab-separated:
 * <pre>
 * sample  IMPL SHAPE THREADS ms,ms,...  ALGORITHM   (ms per call, one value per round)
 * fail    IMPL SHAPE THREADS REASON
 * na      IMPL SHAPE THREADS REASON
 * check   IMPL SHAPE THREADS ok|MISMATCH  max |error| / tolerance
 * isa     -    SHAPE THREADS ISA-IN-USE
 * </pre>
 */
public final class Suite {
    /** Implementations in suite order: key → how to make one. */
    static final Map<String, Supplier<ShapeState>> IMPLS = new LinkedHashMap<>();

    static {
        IMPLS.put("conv4j", Conv4jNativeBench::new);
        IMPLS.put("winograd", Conv4jWinogradBench::new);
        IMPLS.put("java", Conv4jJavaBench::new);
        IMPLS.put("naive", NaiveBench::new);
        IMPLS.put("ort", OnnxRuntimeBench::new);
        IMPLS.put("onednn", OneDnnBench::new);
    }

    /** Pause between two implementations' iterations: lets the previous one's spinning worker threads go idle. */
    static final long SWITCH_PAUSE_MS = 5;

    private Suite() {}

    public static void main(String[] args) throws Exception {
        String shapeName = null;
        int threads = 1;
        int rounds = 5;
        double iterationMs = 200;
        double warmupMs = 500;
        double naiveMaxSeconds = 2;
        List<String> impls = new ArrayList<>(IMPLS.keySet());
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                usage("missing value after " + a);
            }
            String v = args[++i];
            switch (a) {
                case "--shape" -> shapeName = v;
                case "--threads" -> threads = Integer.parseInt(v);
                case "--rounds" -> rounds = Integer.parseInt(v);
                case "--iteration-ms" -> iterationMs = Double.parseDouble(v);
                case "--warmup-ms" -> warmupMs = Double.parseDouble(v);
                case "--naive-max-seconds" -> naiveMaxSeconds = Double.parseDouble(v);
                case "--impls" -> impls = List.of(v.split(","));
                case "--out" -> out = Paths.get(v);
                default -> usage("unknown option " + a);
            }
        }
        if (shapeName == null || out == null) {
            usage("--shape and --out are required");
        }
        for (String impl : impls) {
            if (!IMPLS.containsKey(impl)) {
                usage("unknown implementation " + impl + " (known: " + String.join(",", IMPLS.keySet()) + ")");
            }
        }
        Shape shape = Shape.named(shapeName);
        int status = new Run(shape, threads, out).run(impls, rounds, iterationMs, warmupMs, naiveMaxSeconds);
        System.exit(status);
    }

    private static void usage(String why) {
        System.err.println("Suite: " + why + "\nusage: Suite --shape NAME --out FILE [--threads 1] [--rounds 5]"
                + " [--iteration-ms 200] [--warmup-ms 500] [--naive-max-seconds 2] [--impls "
                + String.join(",", IMPLS.keySet()) + "]");
        System.exit(2);
    }

    /**
     * The bound an output must meet against the double-precision reference: 2·γ(fanIn+1)·S + u·|ref|
     * + 1e-6 with γ(n) = n·u/(1 − n·u), u = 2⁻²⁴ and S = √fanIn, a bound of Σ|x·w| for the
     * suite's data (inputs in [−1, 1], weights in ±1/√fanIn; {@link Shape}). This is twice a direct
     * sum's worst case (PeerCorrectnessTest's tolerance), and it is also the library's documented
     * test bound for Winograd, 2·γ(9·Cin + 1)·Σ|x·w| + u·|ref|, since a 3×3 Winograd layer has
     * fanIn = 9·Cin.
     */
    static double tolerance(Shape s, double reference) {
        int fanIn = s.kh() * s.kw() * (s.cin() / s.groups());
        double u = Math.ulp(1.0f) / 2;
        double gamma = (fanIn + 1) * u / (1 - (fanIn + 1) * u);
        return 2 * gamma * Math.sqrt(fanIn) + u * Math.abs(reference) + 1e-6;
    }

    /** The largest |actual − expected| / tolerance; > 1 is a mismatch; +Inf for a length mismatch or NaN. */
    static double worstRatio(Shape s, float[] expected, float[] actual) {
        if (actual == null || expected.length != actual.length) {
            return Double.POSITIVE_INFINITY;
        }
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double r = Math.abs((double) actual[i] - expected[i]) / tolerance(s, expected[i]);
            if (!(r <= worst)) {
                worst = Double.isNaN(r) ? Double.POSITIVE_INFINITY : r;
            }
        }
        return worst;
    }

    /** One shape at one thread count. */
    static final class Run {
        final Shape shape;
        final int threads;
        final Path out;
        final List<String> lines = new ArrayList<>();

        Run(Shape shape, int threads, Path out) {
            this.shape = shape;
            this.threads = threads;
            this.out = out;
        }

        private void line(String kind, String impl, String... rest) {
            StringBuilder b = new StringBuilder(kind).append('\t').append(impl).append('\t').append(shape.name())
                    .append('\t').append(threads);
            for (String r : rest) {
                b.append('\t').append(r.replace('\t', ' ').replace('\n', ' '));
            }
            System.out.println("[suite] " + b);
            lines.add(b.toString());
        }

        private static String why(Throwable t) {
            String m = t.getMessage();
            return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
        }

        int run(List<String> wanted, int rounds, double iterationMs, double warmupMs, double naiveMaxSeconds) {
            int status = 0;
            line("isa", "-", Conv4j.activeIsa());
            // Set up every implementation first.
            List<String> names = new ArrayList<>();
            List<ShapeState> states = new ArrayList<>();
            for (String impl : wanted) {
                if (impl.equals("naive") && (threads != 1
                        || shape.flops() / Shape.NAIVE_FLOPS_PER_SECOND > naiveMaxSeconds)) {
                    continue; // single-threaded, and skipped where a call takes over ~naiveMaxSeconds
                }
                ShapeState st = IMPLS.get(impl).get();
                st.shape = shape.name();
                st.threads = threads;
                try {
                    setUp(st);
                    names.add(impl);
                    states.add(st);
                } catch (Throwable t) {
                    if (impl.equals("winograd") && t instanceof IllegalArgumentException) {
                        line("na", impl, why(t)); // Winograd does not take this shape
                    } else {
                        line("fail", impl, "setup: " + why(t));
                        status = 4;
                    }
                    tearDownQuietly(st);
                }
            }
            // Warm-up, and the batch of calls that makes an iteration of about iterationMs.
            int[] batch = new int[names.size()];
            boolean[] alive = new boolean[names.size()];
            for (int k = 0; k < names.size(); k++) {
                alive[k] = true;
                try {
                    long start = System.nanoTime();
                    long calls = 0;
                    do {
                        call(states.get(k));
                        calls++;
                    } while (System.nanoTime() - start < warmupMs * 1e6);
                    double perCallNs = (System.nanoTime() - start) / (double) calls;
                    batch[k] = (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.round(iterationMs * 1e6 / perCallNs)));
                } catch (Throwable t) {
                    line("fail", names.get(k), "warm-up: " + why(t));
                    alive[k] = false;
                    status = 4;
                }
            }
            // Rounds: every implementation once per round, the order rotating.
            double[][] ms = new double[names.size()][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int j = 0; j < names.size(); j++) {
                    int k = (j + r) % names.size();
                    if (!alive[k]) {
                        continue;
                    }
                    pause();
                    try {
                        ShapeState st = states.get(k);
                        long t0 = System.nanoTime();
                        for (int c = 0; c < batch[k]; c++) {
                            call(st);
                        }
                        ms[k][r] = (System.nanoTime() - t0) / 1e6 / batch[k];
                    } catch (Throwable t) {
                        line("fail", names.get(k), "round " + r + ": " + why(t));
                        alive[k] = false;
                        status = 4;
                    }
                }
            }
            // Teardown: what each computed against the double-precision reference, then the samples.
            float[] reference = null;
            int naive = names.indexOf("naive");
            if (naive >= 0 && alive[naive]) {
                reference = states.get(naive).outputNhwc().clone(); // the reference loop's own output
            } else {
                ConvGeometry g = shape.geometry();
                reference = ReferenceConvolution.compute(g, shape.input(), shape.kernel(), shape.bias());
            }
            for (int k = 0; k < names.size(); k++) {
                ShapeState st = states.get(k);
                if (alive[k]) {
                    String algorithm = "";
                    try {
                        String a = st.algorithm();
                        algorithm = a == null ? "" : a;
                        if (k == naive) {
                            line("sample", names.get(k), samples(ms[k]), algorithm); // it is the reference
                            continue;
                        }
                        double worst = worstRatio(shape, reference, st.outputNhwc());
                        boolean ok = worst <= 1;
                        line("check", names.get(k), ok ? "ok" : "MISMATCH", String.format(Locale.ROOT, "%.3g", worst));
                        if (!ok && status != 4) {
                            status = 3;
                        }
                    } catch (Throwable t) {
                        line("fail", names.get(k), "check: " + why(t));
                        status = 4;
                    }
                    line("sample", names.get(k), samples(ms[k]), algorithm);
                }
            }
            states.forEach(Run::tearDownQuietly);
            write();
            return status;
        }

        private static String samples(double[] ms) {
            StringBuilder v = new StringBuilder();
            for (double x : ms) {
                v.append(v.length() > 0 ? "," : "").append(String.format(Locale.ROOT, "%.6g", x));
            }
            return v.toString();
        }

        private static void setUp(ShapeState st) throws Exception {
            if (st instanceof Conv4jLayerBench b) {
                b.setUp();
            } else if (st instanceof NaiveBench b) {
                b.setUp();
            } else if (st instanceof OnnxRuntimeBench b) {
                b.setUp();
            } else if (st instanceof OneDnnBench b) {
                b.setUp();
            } else {
                throw new IllegalStateException("unknown state " + st.getClass());
            }
        }

        private static void call(ShapeState st) throws Exception {
            if (st instanceof Conv4jLayerBench b) {
                b.conv();
            } else if (st instanceof NaiveBench b) {
                b.conv();
            } else if (st instanceof OnnxRuntimeBench b) {
                b.conv();
            } else {
                ((OneDnnBench) st).conv();
            }
        }

        private static void tearDownQuietly(ShapeState st) {
            try {
                if (st instanceof Conv4jLayerBench b) {
                    b.tearDown();
                } else if (st instanceof OnnxRuntimeBench b) {
                    b.tearDown();
                } else if (st instanceof OneDnnBench b) {
                    b.tearDown();
                }
            } catch (Throwable ignored) {
                // set up only partly: nothing more to free
            }
        }

        private static void pause() {
            try {
                Thread.sleep(SWITCH_PAUSE_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void write() {
            try {
                if (out.getParent() != null) {
                    Files.createDirectories(out.getParent());
                }
                Files.write(out, lines, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot append to " + out, e);
            }
        }
    }
}

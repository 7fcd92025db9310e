package org.conv4j.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.ConvGeometry;
import org.conv4j.internal.Conv4jNative;
import org.conv4j.internal.Conv4jNative.ConvDesc;
import org.conv4j.internal.NativeStatus;

/**
 * The backward passes, conv4j native (AUTO, {@code conv4j_plan_execute} on a BACKWARD_DATA plan,
 * {@code conv4j_plan_execute_backward_weights} with db) against oneDNN 3.13's {@code backward_data} and
 * {@code backward_weights} ({@link OneDnnBackward}), NHWC, one line per shape and pass: median time of calls
 * alternated between the two for about {@code seconds} each, GFLOP/s (2·N·Hout·Wout·Cout·KH·KW·Cin/groups, the
 * forward count: each pass does as many multiply-adds) and conv4j / oneDNN. Threads: OMP_NUM_THREADS, which both
 * read (conv4j with threads = 0).
 *
 * <p>Usage: {@code BackwardBench [seconds per cell, default 1] [shape,shape,...]}
 */
public final class BackwardBench {
    private BackwardBench() {}

    /** A fixed pseudo-random dy of g's output shape. */
    static float[] outputGradient(ConvGeometry g) {
        SplittableRandom r = new SplittableRandom(17);
        float[] a = new float[g.outputCount()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    /** conv4j's plan for one pass of the shape, NHWC, AUTO. */
    private static Conv4jNative.Plan plan(Shape s, int propagation) {
        return plan(s, propagation, null);
    }

    /**
     * As {@link #plan(Shape, int)} with a bias (backward data: over the forward Cin, which makes the plan a
     * transposed convolution layer).
     */
    static Conv4jNative.Plan plan(Shape s, int propagation, float[] bias) {
        ConvGeometry g = s.geometry();
        try (ConvDesc d = new ConvDesc()) {
            int w = s.dims() == 2 ? 1 : 0;
            d.rank(s.dims()).batch(s.n()).inChannels(s.cin()).outChannels(s.cout()).groups(s.groups())
                    .layout(Conv4jNative.LAYOUT_CHANNELS_LAST).activation(Conv4jNative.ACTIVATION_NONE)
                    .propagation(propagation);
            if (w == 1) {
                d.inSize(0, s.h()).kernel(0, s.kh()).stride(0, s.sh()).dilation(0, s.dh()).padBefore(0, g.padTop())
                        .padAfter(0, g.padBottom());
            }
            d.inSize(w, s.w()).kernel(w, s.kw()).stride(w, s.sw()).dilation(w, s.dw()).padBefore(w, g.padLeft())
                    .padAfter(w, g.padRight());
            Conv4jNative.Plan plan = new Conv4jNative.Plan();
            int status = Conv4jNative.conv4j_plan_create(d,
                    propagation == Conv4jNative.PROPAGATION_BACKWARD_WEIGHTS ? null : s.kernel(), bias, plan);
            if (status != NativeStatus.OK.code()) {
                throw new IllegalStateException(s.name() + ": conv4j_plan_create: " + status);
            }
            return plan;
        }
    }

    private static double median(List<Double> times) {
        double[] t = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return t[t.length / 2];
    }

    /**
     * Median seconds of {@code ours} and {@code theirs}, called alternately (3 warm-up pairs, then for about
     * {@code 2 * seconds} and at least 5 pairs), so a load spike on the shared machine lands on both.
     */
    static double[] medians(Runnable ours, Runnable theirs, double seconds) {
        List<Double> a = new ArrayList<>(), b = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ours.run();
            theirs.run();
        }
        long end = System.nanoTime() + (long) (2 * seconds * 1e9);
        while (System.nanoTime() < end || a.size() < 5) {
            long t0 = System.nanoTime();
            ours.run();
            long t1 = System.nanoTime();
            theirs.run();
            long t2 = System.nanoTime();
            a.add((t1 - t0) * 1e-9);
            b.add((t2 - t1) * 1e-9);
        }
        return new double[] {median(a), median(b)};
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        List<String> names = args.length > 1 ? Arrays.asList(args[1].split(","))
                : List.of("r50_3x3_56", "r50_1x1_56", "r50_3x3_28", "r50_3x3_14", "r50_3x3_7", "mbv2_dw_112", "tcn1d");
        System.out.printf(Locale.ROOT, "threads=%d isa=%s%n", Conv4jNative.conv4j_max_threads(),
                Conv4jNative.conv4j_isa_name(Conv4jNative.conv4j_active_isa()));
        System.out.println("| shape | pass | conv4j GFLOP/s | oneDNN GFLOP/s | conv4j / oneDNN | conv4j row | oneDNN impl |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (String name : names) {
            Shape s = Shape.named(name);
            ConvGeometry g = s.geometry();
            for (boolean weightsPass : new boolean[] {false, true}) {
                int propagation = weightsPass ? Conv4jNative.PROPAGATION_BACKWARD_WEIGHTS
                        : Conv4jNative.PROPAGATION_BACKWARD_DATA;
                Conv4jNative.Plan plan = plan(s, propagation);
                try (OneDnnBackward onednn = new OneDnnBackward(s, weightsPass);
                     FloatPointer x = new FloatPointer(s.input());
                     FloatPointer dy = new FloatPointer(outputGradient(g));
                     FloatPointer dx = new FloatPointer(g.inputCount());
                     FloatPointer dw = new FloatPointer(g.kernelCount());
                     FloatPointer db = new FloatPointer(s.cout())) {
                    Runnable ours = weightsPass
                            ? () -> Conv4jNative.conv4j_plan_execute_backward_weights(plan, x, dy, dw, db, null, 0, 0)
                            : () -> Conv4jNative.conv4j_plan_execute(plan, dy, dx, null, 0, 0);
                    double[] t = medians(ours, onednn::run, seconds);
                    double ga = s.flops() / t[0] * 1e-9, gb = s.flops() / t[1] * 1e-9;
                    String row = Conv4jNative.conv4j_plan_explain(plan);
                    row = row.substring(row.indexOf("-> ") + 3).split(" ")[0];
                    System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.2fx | %s | %s |%n", name,
                            weightsPass ? "backward_weights" : "backward_data", ga, gb, ga / gb, row,
                            onednn.implementation());
                } finally {
                    Conv4jNative.conv4j_plan_destroy(plan);
                }
            }
        }
    }
}

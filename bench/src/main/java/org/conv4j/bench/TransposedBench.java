package org.conv4j.bench;

import java.util.Locale;
import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.ConvGeometry;
import org.conv4j.Padding;
import org.conv4j.internal.Conv4jNative;

/**
 * Transposed convolution (Keras {@code Conv2DTranspose}, with bias): conv4j native (a BACKWARD_DATA plan with
 * a bias, AUTO, {@code conv4j_plan_execute}) against oneDNN 3.13's forward deconvolution ({@link OneDnnDeconv}),
 * NHWC, one line per shape: median time of calls alternated between the two for about {@code seconds} each
 * ({@link BackwardBench#medians}), GFLOP/s (2·N·Hin·Win·Cin·KH·KW·filters, the forward count) and conv4j /
 * oneDNN. Threads: OMP_NUM_THREADS, which both read.
 *
 * <p>Usage: {@code TransposedBench [seconds per cell, default 1]}
 */
public final class TransposedBench {
    private TransposedBench() {}

    /**
     * A Conv2DTranspose(filters, k, strides=2, padding='same'), in ×in×cin -> 2in × 2in × filters, as its
     * forward convolution (2in × 2in × filters -> in × in × cin, TF-same pads). With k = 4 that is Keras'
     * default output_padding; with k = 3 the same sizes are Keras' output_padding = 1 (pads 0 and 1).
     */
    static Shape decoder(String name, int in, int cin, int filters, int k) {
        return new Shape(name, 2, 1, 2 * in, 2 * in, filters, cin, k, k, 2, 2, 1, 1, 1, Padding.SAME);
    }

    static final Shape[] SHAPES = {
        decoder("dec_4x4_28x128_to_56x64", 28, 128, 64, 4),
        decoder("dec_3x3op1_28x128_to_56x64", 28, 128, 64, 3),
        decoder("dec_4x4_56x64_to_112x32", 56, 64, 32, 4),
        decoder("dec_3x3op1_56x64_to_112x32", 56, 64, 32, 3),
    };

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        System.out.printf(Locale.ROOT, "threads=%d isa=%s%n", Conv4jNative.conv4j_max_threads(),
                Conv4jNative.conv4j_isa_name(Conv4jNative.conv4j_active_isa()));
        System.out.println("| shape | conv4j GFLOP/s | oneDNN GFLOP/s | conv4j / oneDNN | conv4j row | oneDNN impl |");
        System.out.println("|---|---|---|---|---|---|");
        for (Shape s : SHAPES) {
            ConvGeometry g = s.geometry();
            float[] bias = new float[s.cin()];
            java.util.Arrays.fill(bias, 0.1f);
            Conv4jNative.Plan plan = BackwardBench.plan(s, Conv4jNative.PROPAGATION_BACKWARD_DATA, bias);
            try (OneDnnDeconv onednn = new OneDnnDeconv(s);
                 FloatPointer dy = new FloatPointer(BackwardBench.outputGradient(g));
                 FloatPointer dx = new FloatPointer(g.inputCount())) {
                double[] t = BackwardBench.medians(() -> Conv4jNative.conv4j_plan_execute(plan, dy, dx, null, 0, 0),
                        onednn::run, seconds);
                double ga = s.flops() / t[0] * 1e-9, gb = s.flops() / t[1] * 1e-9;
                String row = Conv4jNative.conv4j_plan_explain(plan);
                row = row.substring(row.indexOf("-> ") + 3).split(" ")[0];
                System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.2fx | %s | %s |%n", s.name(), ga, gb, ga / gb,
                        row, onednn.implementation());
            } finally {
                Conv4jNative.conv4j_plan_destroy(plan);
            }
        }
    }
}

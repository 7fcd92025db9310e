package org.conv4j;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A quick timing of the Java backend against the naive reference on a few shapes of
 * ../shared/bench-shapes.csv; not a test (speed is never asserted). Run from java/ after
 * {@code mvn -o -q test-compile}:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes:$(ls ~/.m2/repository/org/bytedeco/javacpp/1.5.14/javacpp-1.5.14.jar) org.conv4j.JavaConvolutionTiming
 * </pre>
 * Arguments: seconds per measurement (default 1) and {@code cpu} to time one-thread runs in
 * thread CPU time. Prints the median GFLOP/s of: the reference (one thread), the plain-Java
 * micro-kernel and the Vector API micro-kernel (when the module is present) at 1 and 2 threads.
 */
public final class JavaConvolutionTiming {
    private JavaConvolutionTiming() {}

    // name, rank, N, H, W, Cin, Cout, KH, KW, stride, groups
    private static final Object[][] SHAPES = {
        {"r50_3x3_56", 2, 1, 56, 56, 64, 64, 3, 3, 1, 1},
        {"r50_1x1_56", 2, 1, 56, 56, 64, 256, 1, 1, 1, 1},
        {"mbv2_dw_112", 2, 1, 112, 112, 32, 32, 3, 3, 1, 32},
        {"tcn1d", 1, 1, 1, 4096, 128, 128, 1, 3, 1, 1},
        {"r50_3x3_7", 2, 1, 7, 7, 512, 512, 3, 3, 1, 1},
        {"r50_conv1", 2, 1, 224, 224, 3, 64, 7, 7, 2, 1},
    };

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        boolean cpu = args.length > 1 && args[1].equals("cpu");
        MicroKernel[] kernels = JavaConvolution.KERNEL instanceof MicroKernel.Scalar
                ? new MicroKernel[] {JavaConvolution.KERNEL}
                : new MicroKernel[] {new MicroKernel.Scalar(), JavaConvolution.KERNEL};
        System.out.printf(Locale.ROOT, "%-12s %9s", "shape", "naive");
        for (MicroKernel k : kernels) {
            System.out.printf(Locale.ROOT, " %11s %11s", k.name() + "/1", k.name() + "/2");
        }
        System.out.println("   (GFLOP/s, median)");
        for (Object[] s : SHAPES) {
            int rank = (int) s[1], n = (int) s[2], h = (int) s[3], w = (int) s[4], cin = (int) s[5],
                    cout = (int) s[6], kh = (int) s[7], kw = (int) s[8], stride = (int) s[9], groups = (int) s[10];
            ConvLayer.Builder b = ConvLayer.builder(rank).filters(cout).groups(groups).padding(Padding.SAME);
            if (rank == 2) {
                b.kernelSize(kh, kw).strides(stride, stride);
            } else {
                b.kernelSize(kw).strides(stride);
            }
            ConvConfig config = b.config();
            int[] shape = rank == 2 ? new int[] {n, h, w, cin} : new int[] {n, w, cin};
            ConvGeometry g = ConvGeometry.of(config, shape);
            SplittableRandom r = new SplittableRandom(1);
            float[] x = RandomCase.values(r, g.inputCount());
            float[] kernel = RandomCase.values(r, g.kernelCount());
            float[] bias = RandomCase.values(r, cout);
            float[] y = new float[g.outputCount()];
            double flops = g.flops();
            System.out.printf(Locale.ROOT, "%-12s %9.2f", s[0],
                    flops / 1e9 / median(() -> ReferenceConvolution.compute(g, x, 0, kernel, bias, y, 0), seconds, cpu));
            for (MicroKernel k : kernels) {
                JavaConvolution conv = new JavaConvolution(config, cin, kernel, bias, k);
                for (int t = 1; t <= 2; t++) {
                    int threads = t;
                    System.out.printf(Locale.ROOT, " %11.2f",
                            flops / 1e9 / median(() -> conv.compute(g, x, y, threads), seconds, cpu && threads == 1));
                }
            }
            System.out.println();
        }
    }

    private static long clock(boolean cpu) {
        return cpu ? java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() : System.nanoTime();
    }

    /**
     * Median seconds per run after a warm-up, running for about {@code budget} seconds; with
     * {@code cpu}, in the calling thread's CPU time, which other processes on a shared machine
     * distort far less than wall time (only for one-thread runs: workers' time is not counted).
     */
    private static double median(Runnable run, double budget, boolean cpu) {
        long start = clock(cpu);
        while (clock(cpu) - start < budget * 0.5e9) {
            run.run();
        }
        double[] times = new double[64];
        int count = 0;
        start = clock(cpu);
        while (count < times.length && (count < 3 || clock(cpu) - start < budget * 1e9)) {
            long t0 = clock(cpu);
            run.run();
            times[count++] = (clock(cpu) - t0) / 1e9;
        }
        java.util.Arrays.sort(times, 0, count);
        return times[count / 2];
    }
}

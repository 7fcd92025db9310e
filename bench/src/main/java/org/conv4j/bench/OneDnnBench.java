package org.conv4j.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * oneDNN: execute + wait (see {@link OneDnnConv}). Its OpenMP threads come from the environment,
 * so the fork must run with {@code OMP_NUM_THREADS} equal to {@code threads} (bench/run.sh runs
 * one JMH invocation per thread count with that set); a mismatch is refused rather than measured.
 */
public class OneDnnBench extends ShapeState {
    private OneDnnConv conv;

    @Setup(Level.Trial)
    public void setUp() {
        String omp = System.getenv("OMP_NUM_THREADS");
        if (omp == null || !omp.trim().equals(Integer.toString(threads))) {
            throw new IllegalStateException("oneDNN takes its threads from OMP_NUM_THREADS: run this fork with"
                    + " OMP_NUM_THREADS=" + threads + " (threads param), got " + omp);
        }
        Shape s = Shape.named(shape);
        conv = new OneDnnConv(s, s.kernel(), s.bias(), s.input());
        logImplementation("onednn", conv.implementation());
    }

    @Override
    public float[] outputNhwc() {
        return conv.output();
    }

    @Override
    public String algorithm() {
        return conv.implementation();
    }

    @Benchmark
    public void conv() {
        conv.run();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        conv.close();
    }
}

package org.conv4j.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import org.conv4j.Conv1D;
import org.conv4j.Conv2D;
import org.conv4j.ConvLayer;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What every benchmark of the suite shares: the shape (a name from bench-shapes.csv, given with
 * {@code -p shape=a,b,...}; bench/run.sh passes all of them) and the thread count. Average time
 * per call in µs, so the tiny tutorial shapes and the large layers share one unit; run.sh
 * shortens the iterations further so that the whole suite fits in 15 minutes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 3, time = 500, timeUnit = TimeUnit.MILLISECONDS)
public abstract class ShapeState {
    /** System property naming the file each setup appends "what ran" lines to (see {@link #logImplementation}). */
    public static final String IMPL_LOG_PROPERTY = "conv4j.bench.implLog";

    @Param("seed2d")
    public String shape;

    @Param("1")
    public int threads;

    /**
     * Records which kernel an implementation chose for this shape: printed once per fork, and
     * appended as {@code impl<TAB>shape<TAB>threads<TAB>text} to the file the report reads.
     */
    protected void logImplementation(String impl, String text) {
        String line = impl + "\t" + shape + "\t" + threads + "\t" + text.replace('\t', ' ').replace('\n', ' ');
        System.out.println("[conv4j-bench] " + line);
        String file = System.getProperty(IMPL_LOG_PROPERTY);
        if (file == null || file.isBlank()) {
            return;
        }
        Path p = Paths.get(file);
        try {
            if (p.getParent() != null) {
                Files.createDirectories(p.getParent());
            }
            Files.writeString(p, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + p, e);
        }
    }

    /**
     * The output of the last call in channels_last order ({@code [N, Hout, Wout, Cout]}, 1-D
     * {@code [N, Wout, Cout]}), for the correctness check the interleaved suite ({@link Suite})
     * runs at teardown against the double-precision reference.
     */
    public abstract float[] outputNhwc();

    /** The algorithm that ran, as the report names it ({@code gemm}, {@code winograd}, ...); null if not applicable. */
    public String algorithm() {
        return null;
    }

    /**
     * {@code layer.predict} through the rank's int-argument overload, the one that allocates
     * nothing per call (the {@code int[]} overload copies the shape).
     */
    protected static void predictInto(ConvLayer layer, float[] input, int[] shape, float[] output) {
        if (layer instanceof Conv2D c) {
            c.predict(input, output, shape[0], shape[1], shape[2], shape[3]);
        } else {
            ((Conv1D) layer).predict(input, output, shape[0], shape[1], shape[2]);
        }
    }
}

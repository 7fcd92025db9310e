package org.conv4j.bench;

import org.conv4j.ConvGeometry;
import org.conv4j.ReferenceConvolution;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;

/**
 * The naive loop: {@link ReferenceConvolution#compute}, the oracle (double accumulation, seven
 * plain loops). Single-threaded by nature, so only threads = 1 is accepted; run.sh leaves out
 * the shapes where one call would take more than about 2 s.
 */
public class NaiveBench extends ShapeState {
    private ConvGeometry geometry;
    private float[] input;
    private float[] kernel;
    private float[] bias;
    private float[] output;

    @Setup(Level.Trial)
    public void setUp() {
        if (threads != 1) {
            throw new IllegalArgumentException("the naive reference is single-threaded: run it with -p threads=1, got "
                    + threads);
        }
        Shape s = Shape.named(shape);
        geometry = s.geometry();
        input = s.input();
        kernel = s.kernel();
        bias = s.bias();
        output = new float[geometry.outputCount()];
    }

    @Override
    public float[] outputNhwc() {
        return output;
    }

    @Override
    public String algorithm() {
        return "reference (double)";
    }

    @Benchmark
    public float[] conv() {
        ReferenceConvolution.compute(geometry, input, 0, kernel, bias, output, 0);
        return output;
    }
}

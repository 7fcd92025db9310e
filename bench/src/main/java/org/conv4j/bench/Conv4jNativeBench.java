package org.conv4j.bench;

import org.conv4j.Backend;
import org.conv4j.ConvLayer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * conv4j's native backend through the public layer API, as a user calls it: threads set on the
 * layer, input and output in the caller's {@code float[]} (pinned, not copied), so a call
 * allocates nothing.
 */
public class Conv4jNativeBench extends ShapeState {
    private ConvLayer layer;
    private float[] input;
    private float[] output;
    private int[] inputShape;

    @Setup(Level.Trial)
    public void setUp() {
        Shape s = Shape.named(shape);
        layer = s.layer(Backend.NATIVE, threads);
        layer.setWeights(s.kernel(), s.bias());
        inputShape = s.inputShape();
        input = s.input();
        output = new float[s.geometry().outputCount()];
        logImplementation("conv4j", layer.explain(inputShape));
    }

    @Benchmark
    public float[] conv() {
        predictInto(layer, input, inputShape, output);
        return output;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        layer.close();
    }
}

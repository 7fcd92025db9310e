package org.conv4j.bench;

import org.conv4j.Backend;
import org.conv4j.ConvLayer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * conv4j's pure-Java backend through the layer API ({@code Backend.JAVA}, threads set on the
 * layer): whatever that backend is in this build, i.e. the optimized Java path once it lands.
 */
public class Conv4jJavaBench extends ShapeState {
    private ConvLayer layer;
    private float[] input;
    private float[] output;
    private int[] inputShape;

    @Setup(Level.Trial)
    public void setUp() {
        Shape s = Shape.named(shape);
        layer = s.layer(Backend.JAVA, threads);
        layer.setWeights(s.kernel(), s.bias());
        inputShape = s.inputShape();
        input = s.input();
        output = new float[s.geometry().outputCount()];
        logImplementation("java", layer.explain(inputShape));
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

package org.conv4j.bench;

import org.conv4j.Backend;
import org.conv4j.ConvLayer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One conv4j backend through the public layer API, as a user calls it: threads set on the layer,
 * input and output in the caller's {@code float[]}. Subclasses name the backend; JMH runs the
 * inherited benchmark under the subclass's name.
 */
public abstract class Conv4jLayerBench extends ShapeState {
    private final Backend backend;
    private final String implementation;
    private final boolean forceWinograd;
    private ConvLayer layer;
    private float[] input;
    private float[] output;
    private int[] inputShape;

    /** {@code implementation} is the name the report and the "what ran" log use. */
    protected Conv4jLayerBench(Backend backend, String implementation) {
        this(backend, implementation, false);
    }

    /** With {@code forceWinograd}: the layer opts in to Winograd and forces it (refused where it does not apply). */
    protected Conv4jLayerBench(Backend backend, String implementation, boolean forceWinograd) {
        this.backend = backend;
        this.implementation = implementation;
        this.forceWinograd = forceWinograd;
    }

    @Setup(Level.Trial)
    public void setUp() {
        Shape s = Shape.named(shape);
        layer = s.layer(backend, threads, forceWinograd);
        layer.setWeights(s.kernel(), s.bias());
        inputShape = s.inputShape();
        layer.algorithm(inputShape); // plans now: a forced algorithm that refuses the shape throws here
        input = s.input();
        output = new float[s.geometry().outputCount()];
        logImplementation(implementation, layer.explain(inputShape));
    }

    @Override
    public float[] outputNhwc() {
        return output;
    }

    @Override
    public String algorithm() {
        return layer.algorithm(inputShape);
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

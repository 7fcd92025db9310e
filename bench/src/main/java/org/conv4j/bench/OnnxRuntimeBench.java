package org.conv4j.bench;

import ai.onnxruntime.OrtException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/** ONNX Runtime Java: {@code session.run} alone (see {@link OnnxConv}); intra-op threads = {@code threads}. */
public class OnnxRuntimeBench extends ShapeState {
    private OnnxConv conv;

    @Setup(Level.Trial)
    public void setUp() throws OrtException {
        Shape s = Shape.named(shape);
        conv = new OnnxConv(s, threads, s.kernel(), s.bias(), s.input());
        logImplementation("ort", "onnxruntime " + ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion());
    }

    @Override
    public String algorithm() {
        return "onnxruntime " + ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion();
    }

    @Override
    public float[] outputNhwc() {
        Shape s = Shape.named(shape);
        org.conv4j.ConvGeometry g = s.geometry();
        return conv.outputNhwc(s.n(), g.outHeight(), g.outWidth(), s.cout());
    }

    @Benchmark
    public void conv() throws OrtException {
        conv.run();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        conv.close();
    }
}

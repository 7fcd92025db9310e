package org.conv4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Map;
import org.conv4j.ConvGeometry;

/**
 * One shape in ONNX Runtime: a session over {@link OnnxConvModel} with {@code threads} intra-op
 * threads, the input already transposed to NCHW (ONNX's Conv layout; done once here, outside any
 * timing) in a direct buffer, and a pinned output tensor, so {@link #run()} is
 * {@code session.run} and nothing else.
 */
public final class OnnxConv implements AutoCloseable {
    private final OrtSession session;
    private final OnnxTensor in;
    private final OnnxTensor out;
    private final FloatBuffer outBuffer;
    private final Map<String, OnnxTensor> inputs;
    private final Map<String, OnnxTensor> outputs;

    public OnnxConv(Shape s, int threads, float[] kerasKernel, float[] bias, float[] nhwcInput) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        ConvGeometry g = s.geometry();
        boolean oneD = s.dims() == 1;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(OnnxConvModel.build(s, kerasKernel, bias), options);
        }
        FloatBuffer inBuffer = direct(nhwcInput.length);
        inBuffer.put(toNchw(nhwcInput, s.n(), s.h(), s.w(), s.cin())).rewind();
        outBuffer = direct(g.outputCount());
        in = OnnxTensor.createTensor(env, inBuffer, OnnxConvModel.nchw(oneD, s.n(), s.cin(), s.h(), s.w()));
        out = OnnxTensor.createTensor(env, outBuffer,
                OnnxConvModel.nchw(oneD, s.n(), s.cout(), g.outHeight(), g.outWidth()));
        inputs = Map.of(OnnxConvModel.INPUT, in);
        outputs = Map.of(OnnxConvModel.OUTPUT, out);
    }

    /** A direct native-order buffer of exactly {@code floats} elements starting on a 64-byte boundary. */
    static FloatBuffer direct(long floats) {
        int n = Math.toIntExact(floats);
        // alignedSlice may round the end down by up to 63 bytes, hence the slack; then exactly n.
        return ByteBuffer.allocateDirect(n * 4 + 128).alignedSlice(64).order(ByteOrder.nativeOrder()).asFloatBuffer()
                .slice(0, n);
    }

    /** One inference into the pinned output. */
    public void run() throws OrtException {
        session.run(inputs, outputs).close(); // the Result does not own pinned outputs
    }

    /** The last output, back in channels_last order. */
    public float[] outputNhwc(int n, int h, int w, int c) {
        float[] nchw = new float[outBuffer.capacity()];
        outBuffer.get(0, nchw);
        float[] nhwc = new float[nchw.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < h * w; p++) {
                    nhwc[(b * h * w + p) * c + ch] = nchw[(b * c + ch) * h * w + p];
                }
            }
        }
        return nhwc;
    }

    static float[] toNchw(float[] nhwc, int n, int h, int w, int c) {
        float[] nchw = new float[nhwc.length];
        for (int b = 0; b < n; b++) {
            for (int p = 0; p < h * w; p++) {
                for (int ch = 0; ch < c; ch++) {
                    nchw[(b * c + ch) * h * w + p] = nhwc[(b * h * w + p) * c + ch];
                }
            }
        }
        return nchw;
    }

    @Override
    public void close() throws OrtException {
        in.close();
        out.close();
        session.close();
    }
}

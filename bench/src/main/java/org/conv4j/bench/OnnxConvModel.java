package org.conv4j.bench;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.conv4j.ConvGeometry;

/**
 * A one-node ONNX model (Conv, NCHW, weights and bias as initializers so ONNX Runtime pre-packs
 * them) written as protobuf bytes by hand: the few ModelProto fields it needs, no generated
 * classes. Field numbers from onnx/onnx.proto.
 */
public final class OnnxConvModel {
    public static final String INPUT = "x";
    public static final String OUTPUT = "y";
    static final int IR_VERSION = 8;
    static final int OPSET = 13;
    private static final int FLOAT = 1; // TensorProto.DataType.FLOAT

    private OnnxConvModel() {}

    /** The model for a shape, with conv4j's Keras kernel {@code [KH, KW, Cin/g, Cout]} turned into ONNX's {@code [Cout, Cin/g, KH, KW]}. */
    public static byte[] build(Shape s, float[] kerasKernel, float[] bias) {
        ConvGeometry g = s.geometry();
        int cinG = s.cin() / s.groups();
        float[] w = new float[kerasKernel.length];
        for (int ky = 0; ky < s.kh(); ky++) {
            for (int kx = 0; kx < s.kw(); kx++) {
                for (int ci = 0; ci < cinG; ci++) {
                    for (int co = 0; co < s.cout(); co++) {
                        w[((co * cinG + ci) * s.kh() + ky) * s.kw() + kx] =
                                kerasKernel[((ky * s.kw() + kx) * cinG + ci) * s.cout() + co];
                    }
                }
            }
        }
        boolean oneD = s.dims() == 1;
        long[] weightDims = oneD ? new long[] {s.cout(), cinG, s.kw()} : new long[] {s.cout(), cinG, s.kh(), s.kw()};
        long[] kernelShape = oneD ? new long[] {s.kw()} : new long[] {s.kh(), s.kw()};
        long[] strides = oneD ? new long[] {s.sw()} : new long[] {s.sh(), s.sw()};
        long[] dilations = oneD ? new long[] {s.dw()} : new long[] {s.dh(), s.dw()};
        // ONNX pads: all begins, then all ends.
        long[] pads = oneD ? new long[] {g.padLeft(), g.padRight()}
                : new long[] {g.padTop(), g.padLeft(), g.padBottom(), g.padRight()};

        Proto node = new Proto()
                .string(1, INPUT).string(1, "W").string(1, "B")
                .string(2, OUTPUT)
                .string(3, "conv")
                .string(4, "Conv")
                .message(5, intsAttribute("kernel_shape", kernelShape))
                .message(5, intsAttribute("strides", strides))
                .message(5, intsAttribute("dilations", dilations))
                .message(5, intsAttribute("pads", pads))
                .message(5, new Proto().string(1, "group").varint(3, s.groups()).varint(20, 2)); // INT
        Proto graph = new Proto()
                .message(1, node)
                .string(2, "conv4j_bench_" + s.name())
                .message(5, tensor("W", weightDims, w))
                .message(5, tensor("B", new long[] {s.cout()}, bias))
                .message(11, valueInfo(INPUT, nchw(oneD, s.n(), s.cin(), s.h(), s.w())))
                .message(12, valueInfo(OUTPUT, nchw(oneD, s.n(), s.cout(), g.outHeight(), g.outWidth())));
        return new Proto()
                .varint(1, IR_VERSION)
                .string(2, "conv4j-bench")
                .message(7, graph)
                .message(8, new Proto().string(1, "").varint(2, OPSET))
                .bytes();
    }

    /** {@code [N, C, H, W]}, or {@code [N, C, W]} for 1-D. */
    public static long[] nchw(boolean oneD, int n, int c, int h, int w) {
        return oneD ? new long[] {n, c, w} : new long[] {n, c, h, w};
    }

    private static Proto intsAttribute(String name, long[] values) {
        Proto a = new Proto().string(1, name);
        for (long v : values) {
            a.varint(8, v);
        }
        return a.varint(20, 7); // AttributeType INTS
    }

    private static Proto tensor(String name, long[] dims, float[] values) {
        Proto t = new Proto();
        for (long d : dims) {
            t.varint(1, d);
        }
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        return t.varint(2, FLOAT).string(8, name).raw(9, raw.array());
    }

    private static Proto valueInfo(String name, long[] dims) {
        Proto shape = new Proto();
        for (long d : dims) {
            shape.message(1, new Proto().varint(1, d));
        }
        Proto tensorType = new Proto().varint(1, FLOAT).message(2, shape);
        return new Proto().string(1, name).message(2, new Proto().message(1, tensorType));
    }

    /** Protobuf wire format, the two wire types ONNX needs here: varint (0) and length-delimited (2). */
    static final class Proto {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(int field, long value) {
            writeVarint((long) field << 3);
            writeVarint(value);
            return this;
        }

        Proto raw(int field, byte[] data) {
            writeVarint(((long) field << 3) | 2);
            writeVarint(data.length);
            out.write(data, 0, data.length);
            return this;
        }

        Proto string(int field, String text) {
            return raw(field, text.getBytes(StandardCharsets.UTF_8));
        }

        Proto message(int field, Proto message) {
            return raw(field, message.bytes());
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private void writeVarint(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
        }
    }
}

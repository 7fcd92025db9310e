package org.conv4j.bench;

import static org.bytedeco.dnnl.global.dnnl.*;

import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.conv4j.ConvGeometry;

/**
 * One shape's backward pass in oneDNN 3.13 (C API): {@code backward_data} (dy, weights -> dx) or
 * {@code backward_weights} (x, dy -> dw, db), {@code convolution_auto}, NHWC activations, weights /
 * weight gradient in the layout the primitive chooses ({@code any}; the forward weights reordered
 * into it once, the gradient left in it: the Keras-layout conversion is not timed), with a
 * {@code forward_training} primitive descriptor as the hint oneDNN requires. {@link #run()} is
 * execute + stream wait.
 */
public final class OneDnnBackward implements AutoCloseable {
    private final dnnl_engine engine = new dnnl_engine();
    private final dnnl_stream stream = new dnnl_stream();
    private final dnnl_primitive_desc hint = new dnnl_primitive_desc();
    private final dnnl_primitive_desc pd = new dnnl_primitive_desc();
    private final dnnl_primitive primitive = new dnnl_primitive();
    private final dnnl_memory_desc[] mds = new dnnl_memory_desc[6];
    private final dnnl_memory[] memories = new dnnl_memory[4];
    private final FloatPointer[] data = new FloatPointer[4];
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(4);
    private final int argCount;
    private final String implementation;

    /** {@code weightsPass}: backward weights, else backward data. */
    public OneDnnBackward(Shape s, boolean weightsPass) {
        ConvGeometry g = s.geometry();
        boolean oneD = s.dims() == 1;
        int groups = s.groups();
        for (int i = 0; i < mds.length; i++) {
            mds[i] = new dnnl_memory_desc();
        }
        try {
            check(dnnl_engine_create(engine, dnnl_cpu, 0), "engine_create");
            check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "stream_create");
            long[] srcDims = OnnxConvModel.nchw(oneD, s.n(), s.cin(), s.h(), s.w());
            long[] dstDims = OnnxConvModel.nchw(oneD, s.n(), s.cout(), g.outHeight(), g.outWidth());
            long[] spatialK = oneD ? new long[] {s.kw()} : new long[] {s.kh(), s.kw()};
            long[] weightDims = groups == 1 ? concat(new long[] {s.cout(), s.cin()}, spatialK)
                    : concat(new long[] {groups, s.cout() / groups, s.cin() / groups}, spatialK);
            int tag = oneD ? dnnl_nwc : dnnl_nhwc;
            dnnl_memory_desc src = mds[0], dst = mds[1], weightsAny = mds[2], bias = mds[3];
            check(dnnl_memory_desc_create_with_tag(src, srcDims.length, srcDims, dnnl_f32, tag), "src md");
            check(dnnl_memory_desc_create_with_tag(dst, dstDims.length, dstDims, dnnl_f32, tag), "dst md");
            check(dnnl_memory_desc_create_with_tag(weightsAny, weightDims.length, weightDims, dnnl_f32,
                    dnnl_format_tag_any), "weights md");
            check(dnnl_memory_desc_create_with_tag(bias, 1, new long[] {s.cout()}, dnnl_f32, dnnl_x), "bias md");
            long[] strides = oneD ? new long[] {s.sw()} : new long[] {s.sh(), s.sw()};
            long[] dilates = oneD ? new long[] {s.dw() - 1} : new long[] {s.dh() - 1, s.dw() - 1};
            long[] padL = oneD ? new long[] {g.padLeft()} : new long[] {g.padTop(), g.padLeft()};
            long[] padR = oneD ? new long[] {g.padRight()} : new long[] {g.padBottom(), g.padRight()};
            check(dnnl_convolution_forward_primitive_desc_create(hint, engine, dnnl_forward_training,
                    dnnl_convolution_auto, src, weightsAny, bias, dst, strides, dilates, padL, padR, null),
                    "forward_training hint");
            if (weightsPass) {
                check(dnnl_convolution_backward_weights_primitive_desc_create(pd, engine, dnnl_convolution_auto, src,
                        weightsAny, bias, dst, strides, dilates, padL, padR, hint, null), "backward_weights pd");
            } else {
                check(dnnl_convolution_backward_data_primitive_desc_create(pd, engine, dnnl_convolution_auto, src,
                        weightsAny, dst, strides, dilates, padL, padR, hint, null), "backward_data pd");
            }
            PointerPointer<?> info = new PointerPointer<>(1);
            check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, info), "impl_info_str");
            implementation = info.getString(0);
            info.close();
            check(dnnl_primitive_create(primitive, pd), "primitive_create");
            dnnl_memory_desc chosen = dnnl_primitive_desc_query_md(pd,
                    weightsPass ? dnnl_query_diff_weights_md : dnnl_query_weights_md, 0);
            float[] x = s.input();
            float[] dy = BackwardBench.outputGradient(g);
            // Values do not matter for timing; the kernel's only shape does (chosen layout size).
            data[0] = aligned(g.inputCount());
            data[1] = aligned(g.outputCount()).put(dy, 0, g.outputCount());
            data[2] = aligned(dnnl_memory_desc_get_size(chosen) / 4);
            data[3] = aligned(s.cout());
            if (weightsPass) {
                data[0].put(x, 0, g.inputCount());
            } else {
                float[] k = s.kernel(); // any values: the primitive's layout, unreordered
                data[2].put(k, 0, (int) Math.min(k.length, data[2].limit()));
            }
            memories[0] = new dnnl_memory();
            memories[1] = new dnnl_memory();
            memories[2] = new dnnl_memory();
            check(dnnl_memory_create(memories[0], src, engine, data[0]), "src memory");
            check(dnnl_memory_create(memories[1], dst, engine, data[1]), "dst memory");
            check(dnnl_memory_create(memories[2], chosen, engine, data[2]), "weights memory");
            if (weightsPass) {
                memories[3] = new dnnl_memory();
                check(dnnl_memory_create(memories[3], bias, engine, data[3]), "bias memory");
                args.position(0).arg(DNNL_ARG_SRC).memory(memories[0]);
                args.position(1).arg(DNNL_ARG_DIFF_DST).memory(memories[1]);
                args.position(2).arg(DNNL_ARG_DIFF_WEIGHTS).memory(memories[2]);
                args.position(3).arg(DNNL_ARG_DIFF_BIAS).memory(memories[3]);
                argCount = 4;
            } else {
                args.position(0).arg(DNNL_ARG_DIFF_SRC).memory(memories[0]);
                args.position(1).arg(DNNL_ARG_DIFF_DST).memory(memories[1]);
                args.position(2).arg(DNNL_ARG_WEIGHTS).memory(memories[2]);
                argCount = 3;
            }
            args.position(0);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** What oneDNN chose, e.g. {@code brg_conv_bwd_d:avx512_core}. */
    public String implementation() {
        return implementation;
    }

    public void run() {
        check(dnnl_primitive_execute(primitive, stream, argCount, args), "execute");
        check(dnnl_stream_wait(stream), "stream_wait");
    }

    static FloatPointer aligned(long floats) {
        return new FloatPointer(OnnxConv.direct(floats));
    }

    static long[] concat(long[] a, long[] b) {
        long[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN " + what + " failed with status " + status);
        }
    }

    @Override
    public void close() {
        release(memories, primitive, new dnnl_primitive_desc[] {pd, hint}, mds, stream, engine, data, args);
    }

    /**
     * Frees what a oneDNN wrapper owns, users before what they were made from (memories, primitive, primitive
     * descriptors, memory descriptors, stream, engine, then the data); null or never-created handles are skipped,
     * so a constructor that failed part-way can call it.
     */
    static void release(dnnl_memory[] memories, dnnl_primitive primitive, dnnl_primitive_desc[] pds,
                        dnnl_memory_desc[] mds, dnnl_stream stream, dnnl_engine engine, Pointer[] data,
                        dnnl_exec_arg_t args) {
        for (dnnl_memory m : memories) {
            if (m != null && !m.isNull()) {
                dnnl_memory_destroy(m);
            }
        }
        if (!primitive.isNull()) {
            dnnl_primitive_destroy(primitive);
        }
        for (dnnl_primitive_desc p : pds) {
            if (!p.isNull()) {
                dnnl_primitive_desc_destroy(p);
            }
        }
        for (dnnl_memory_desc md : mds) {
            if (md != null && !md.isNull()) {
                dnnl_memory_desc_destroy(md);
            }
        }
        if (!stream.isNull()) {
            dnnl_stream_destroy(stream);
        }
        if (!engine.isNull()) {
            dnnl_engine_destroy(engine);
        }
        for (Pointer p : data) {
            if (p != null) {
                p.close();
            }
        }
        args.close();
    }
}

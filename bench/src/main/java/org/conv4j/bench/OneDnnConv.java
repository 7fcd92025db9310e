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
 * One shape in oneDNN through its C API (org.bytedeco:dnnl): a {@code forward_inference}
 * convolution with {@code convolution_auto}, NHWC activations ({@code nwc} for 1-D), the Keras
 * kernel reordered once into the layout the primitive asks for ({@code any}), bias as given.
 * {@link #run()} is execute + stream wait. oneDNN's OpenMP runtime takes its thread count from
 * {@code OMP_NUM_THREADS} when the process starts, so one process serves one thread count.
 */
public final class OneDnnConv implements AutoCloseable {
    private final dnnl_engine engine = new dnnl_engine();
    private final dnnl_stream stream = new dnnl_stream();
    private final dnnl_primitive_desc pd = new dnnl_primitive_desc();
    private final dnnl_primitive conv = new dnnl_primitive();
    private final dnnl_memory_desc srcMd = new dnnl_memory_desc();
    private final dnnl_memory_desc weightsAnyMd = new dnnl_memory_desc();
    private final dnnl_memory_desc userWeightsMd = new dnnl_memory_desc();
    private final dnnl_memory_desc biasMd = new dnnl_memory_desc();
    private final dnnl_memory_desc dstMd = new dnnl_memory_desc();
    private final dnnl_memory src = new dnnl_memory();
    private final dnnl_memory weights = new dnnl_memory();
    private final dnnl_memory biasMem = new dnnl_memory();
    private final dnnl_memory dst = new dnnl_memory();
    private final FloatPointer srcData;
    private final FloatPointer weightsData;
    private final FloatPointer biasData;
    private final FloatPointer dstData;
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(4);
    private final String implementation;

    public OneDnnConv(Shape s, float[] kerasKernel, float[] bias, float[] nhwcInput) {
        ConvGeometry g = s.geometry();
        boolean oneD = s.dims() == 1;
        int groups = s.groups();
        try {
            check(dnnl_engine_create(engine, dnnl_cpu, 0), "engine_create");
            check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "stream_create");

            long[] srcDims = OnnxConvModel.nchw(oneD, s.n(), s.cin(), s.h(), s.w()); // oneDNN dims are logical NCHW
            long[] dstDims = OnnxConvModel.nchw(oneD, s.n(), s.cout(), g.outHeight(), g.outWidth());
            long[] spatialK = oneD ? new long[] {s.kw()} : new long[] {s.kh(), s.kw()};
            long[] weightDims = groups == 1
                    ? concat(new long[] {s.cout(), s.cin()}, spatialK)
                    : concat(new long[] {groups, s.cout() / groups, s.cin() / groups}, spatialK);
            int activationTag = oneD ? dnnl_nwc : dnnl_nhwc;
            // Keras [KH, KW, Cin/g, Cout] with Cout = g·(Cout/g) + o is hwio, or hwigo with groups.
            int kerasTag = groups == 1 ? (oneD ? dnnl_wio : dnnl_hwio) : (oneD ? dnnl_wigo : dnnl_hwigo);
            check(dnnl_memory_desc_create_with_tag(srcMd, srcDims.length, srcDims, dnnl_f32, activationTag), "src md");
            check(dnnl_memory_desc_create_with_tag(dstMd, dstDims.length, dstDims, dnnl_f32, activationTag), "dst md");
            check(dnnl_memory_desc_create_with_tag(weightsAnyMd, weightDims.length, weightDims, dnnl_f32,
                    dnnl_format_tag_any), "weights md");
            check(dnnl_memory_desc_create_with_tag(userWeightsMd, weightDims.length, weightDims, dnnl_f32, kerasTag),
                    "user weights md");
            check(dnnl_memory_desc_create_with_tag(biasMd, 1, new long[] {s.cout()}, dnnl_f32, dnnl_x), "bias md");

            long[] strides = oneD ? new long[] {s.sw()} : new long[] {s.sh(), s.sw()};
            long[] dilates = oneD ? new long[] {s.dw() - 1} : new long[] {s.dh() - 1, s.dw() - 1}; // 0 = dense
            long[] padL = oneD ? new long[] {g.padLeft()} : new long[] {g.padTop(), g.padLeft()};
            long[] padR = oneD ? new long[] {g.padRight()} : new long[] {g.padBottom(), g.padRight()};
            check(dnnl_convolution_forward_primitive_desc_create(pd, engine, dnnl_forward_inference,
                    dnnl_convolution_auto, srcMd, weightsAnyMd, biasMd, dstMd, strides, dilates, padL, padR, null),
                    "convolution_forward primitive_desc_create");
            PointerPointer<?> info = new PointerPointer<>(1);
            check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, info), "impl_info_str");
            implementation = info.getString(0);
            info.close();
            check(dnnl_primitive_create(conv, pd), "primitive_create");

            // Weights: the Keras array, reordered once into the primitive's chosen layout.
            dnnl_memory_desc chosenWeightsMd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
            weightsData = aligned(dnnl_memory_desc_get_size(chosenWeightsMd) / 4);
            check(dnnl_memory_create(weights, chosenWeightsMd, engine, weightsData), "weights memory");
            FloatPointer userWeightsData = aligned(kerasKernel.length).put(kerasKernel);
            dnnl_memory userWeights = new dnnl_memory();
            check(dnnl_memory_create(userWeights, userWeightsMd, engine, userWeightsData), "user weights memory");
            reorder(userWeights, userWeightsMd, weights, chosenWeightsMd);
            check(dnnl_memory_destroy(userWeights), "memory_destroy");
            userWeightsData.close();

            srcData = aligned(nhwcInput.length).put(nhwcInput);
            biasData = aligned(bias.length).put(bias);
            dstData = aligned(g.outputCount());
            check(dnnl_memory_create(src, srcMd, engine, srcData), "src memory");
            check(dnnl_memory_create(biasMem, biasMd, engine, biasData), "bias memory");
            check(dnnl_memory_create(dst, dstMd, engine, dstData), "dst memory");
            args.position(0).arg(DNNL_ARG_SRC).memory(src);
            args.position(1).arg(DNNL_ARG_WEIGHTS).memory(weights);
            args.position(2).arg(DNNL_ARG_BIAS).memory(biasMem);
            args.position(3).arg(DNNL_ARG_DST).memory(dst);
            args.position(0);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void reorder(dnnl_memory from, dnnl_memory_desc fromMd, dnnl_memory to, dnnl_memory_desc toMd) {
        dnnl_primitive_desc rpd = new dnnl_primitive_desc();
        dnnl_primitive r = new dnnl_primitive();
        dnnl_exec_arg_t rargs = new dnnl_exec_arg_t(2);
        try {
            check(dnnl_reorder_primitive_desc_create(rpd, fromMd, engine, toMd, engine, null), "reorder pd");
            check(dnnl_primitive_create(r, rpd), "reorder primitive");
            rargs.position(0).arg(DNNL_ARG_FROM).memory(from);
            rargs.position(1).arg(DNNL_ARG_TO).memory(to);
            rargs.position(0);
            check(dnnl_primitive_execute(r, stream, 2, rargs), "reorder execute");
            check(dnnl_stream_wait(stream), "stream_wait");
        } finally {
            if (!r.isNull()) {
                dnnl_primitive_destroy(r);
            }
            if (!rpd.isNull()) {
                dnnl_primitive_desc_destroy(rpd);
            }
            rargs.close();
        }
    }

    /** What oneDNN chose, e.g. {@code brg_conv_fwd:avx2}. */
    public String implementation() {
        return implementation;
    }

    /** One convolution: execute, then wait for the stream. */
    public void run() {
        check(dnnl_primitive_execute(conv, stream, 4, args), "execute");
        check(dnnl_stream_wait(stream), "stream_wait");
    }

    /** The last output, channels_last. */
    public float[] output() {
        float[] y = new float[Math.toIntExact(dstData.limit())];
        dstData.get(y);
        return y;
    }

    /**
     * Native floats starting on a 64-byte boundary (the alignment oneDNN's kernels prefer), at
     * position 0: JavaCPP adds a pointer's position in bytes, not elements, where the C side
     * takes {@code void*}.
     */
    private static FloatPointer aligned(long floats) {
        return new FloatPointer(OnnxConv.direct(floats));
    }

    private static long[] concat(long[] a, long[] b) {
        long[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN " + what + " failed with status " + status);
        }
    }

    @Override
    public void close() {
        for (dnnl_memory m : new dnnl_memory[] {src, weights, biasMem, dst}) {
            if (!m.isNull()) {
                dnnl_memory_destroy(m);
            }
        }
        if (!conv.isNull()) {
            dnnl_primitive_destroy(conv);
        }
        if (!pd.isNull()) {
            dnnl_primitive_desc_destroy(pd);
        }
        for (dnnl_memory_desc md : new dnnl_memory_desc[] {srcMd, weightsAnyMd, userWeightsMd, biasMd, dstMd}) {
            if (!md.isNull()) {
                dnnl_memory_desc_destroy(md);
            }
        }
        if (!stream.isNull()) {
            dnnl_stream_destroy(stream);
        }
        if (!engine.isNull()) {
            dnnl_engine_destroy(engine);
        }
        for (Pointer p : new Pointer[] {srcData, weightsData, biasData, dstData}) {
            if (p != null) {
                p.close();
            }
        }
        args.close();
    }
}

package org.conv4j.bench;

import static org.bytedeco.dnnl.global.dnnl.*;
import static org.conv4j.bench.OneDnnBackward.aligned;
import static org.conv4j.bench.OneDnnBackward.check;

import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.conv4j.ConvGeometry;

/**
 * oneDNN 3.13's forward deconvolution (C API, {@code deconvolution_direct}, {@code forward_inference}) of
 * the transposed convolution whose forward convolution is the 2-D {@link Shape} {@code s}: src is that
 * convolution's output (N, Hout, Wout, s.cout), dst its input (N, H, W, s.cin), bias over s.cin, the same
 * strides, dilation and pads. NHWC activations; weights in the layout the primitive chooses ({@code any},
 * filled once outside the timed call: timing only, the values are not checked). {@link #run()} is
 * execute + stream wait.
 */
public final class OneDnnDeconv implements AutoCloseable {
    private final dnnl_engine engine = new dnnl_engine();
    private final dnnl_stream stream = new dnnl_stream();
    private final dnnl_primitive_desc pd = new dnnl_primitive_desc();
    private final dnnl_primitive primitive = new dnnl_primitive();
    private final dnnl_memory_desc[] mds = new dnnl_memory_desc[4];
    private final dnnl_memory[] memories = new dnnl_memory[4];
    private final FloatPointer[] data = new FloatPointer[4];
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(4);
    private final String implementation;

    public OneDnnDeconv(Shape s) {
        if (s.dims() != 2 || s.groups() != 1) {
            throw new IllegalArgumentException(s.name() + ": OneDnnDeconv takes 2-D shapes without groups");
        }
        ConvGeometry g = s.geometry();
        for (int i = 0; i < mds.length; i++) {
            mds[i] = new dnnl_memory_desc();
        }
        try {
            check(dnnl_engine_create(engine, dnnl_cpu, 0), "engine_create");
            check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "stream_create");
            long[] srcDims = {s.n(), s.cout(), g.outHeight(), g.outWidth()};
            long[] dstDims = {s.n(), s.cin(), s.h(), s.w()};
            long[] weightDims = {s.cin(), s.cout(), s.kh(), s.kw()}; // deconvolution: OC = dst channels
            dnnl_memory_desc src = mds[0], dst = mds[1], weightsAny = mds[2], bias = mds[3];
            check(dnnl_memory_desc_create_with_tag(src, 4, srcDims, dnnl_f32, dnnl_nhwc), "src md");
            check(dnnl_memory_desc_create_with_tag(dst, 4, dstDims, dnnl_f32, dnnl_nhwc), "dst md");
            check(dnnl_memory_desc_create_with_tag(weightsAny, 4, weightDims, dnnl_f32, dnnl_format_tag_any),
                    "weights md");
            check(dnnl_memory_desc_create_with_tag(bias, 1, new long[] {s.cin()}, dnnl_f32, dnnl_x), "bias md");
            check(dnnl_deconvolution_forward_primitive_desc_create(pd, engine, dnnl_forward_inference,
                    dnnl_deconvolution_direct, src, weightsAny, bias, dst, new long[] {s.sh(), s.sw()},
                    new long[] {s.dh() - 1, s.dw() - 1}, new long[] {g.padTop(), g.padLeft()},
                    new long[] {g.padBottom(), g.padRight()}, null), "deconvolution pd");
            PointerPointer<?> info = new PointerPointer<>(1);
            check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, info), "impl_info_str");
            implementation = info.getString(0);
            info.close();
            check(dnnl_primitive_create(primitive, pd), "primitive_create");
            dnnl_memory_desc chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
            data[0] = aligned(g.outputCount()).put(BackwardBench.outputGradient(g), 0, g.outputCount());
            data[1] = aligned(g.inputCount());
            data[2] = aligned(dnnl_memory_desc_get_size(chosen) / 4);
            float[] k = s.kernel();
            data[2].put(k, 0, (int) Math.min(k.length, data[2].limit()));
            data[3] = aligned(s.cin());
            dnnl_memory_desc[] descs = {src, dst, chosen, bias};
            int[] roles = {DNNL_ARG_SRC, DNNL_ARG_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS};
            for (int i = 0; i < 4; i++) {
                memories[i] = new dnnl_memory();
                check(dnnl_memory_create(memories[i], descs[i], engine, data[i]), "memory " + i);
                args.position(i).arg(roles[i]).memory(memories[i]);
            }
            args.position(0);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** What oneDNN chose, e.g. {@code brg_deconv:avx512_core}. */
    public String implementation() {
        return implementation;
    }

    public void run() {
        check(dnnl_primitive_execute(primitive, stream, 4, args), "execute");
        check(dnnl_stream_wait(stream), "stream_wait");
    }

    @Override
    public void close() {
        OneDnnBackward.release(memories, primitive, new dnnl_primitive_desc[] {pd}, mds, stream, engine, data, args);
    }
}

package org.conv4j.internal;

import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.NoException;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * JavaCPP binding of {@code native/include/conv4j.h}. JavaCPP generates and compiles the JNI
 * glue from this class at build time; the glue links the static C library built by CMake.
 *
 * <p>Internal: callers validate every argument first (see {@code NativePlan}); the C side checks
 * again and answers with a status code. Nothing here is thread-unsafe except the descriptor
 * object, which belongs to one thread while a plan is being created.
 */
@Properties(value = @Platform(include = "conv4j.h"))
public final class Conv4jNative {
    static {
        Loader.load();
    }

    private Conv4jNative() {}

    /** {@code conv4j_conv_desc}: zeroed on allocation; free with {@link #close()}. */
    @Name("conv4j_conv_desc")
    public static final class ConvDesc extends Pointer {
        static {
            Loader.load();
        }

        public ConvDesc() {
            super((Pointer) null);
            allocate();
        }

        private native void allocate();

        public native int rank(); public native ConvDesc rank(int value);
        public native int batch(); public native ConvDesc batch(int value);
        @Name("in_size") public native int inSize(int i); @Name("in_size") public native ConvDesc inSize(int i, int value);
        @Name("in_channels") public native int inChannels(); @Name("in_channels") public native ConvDesc inChannels(int value);
        @Name("out_channels") public native int outChannels(); @Name("out_channels") public native ConvDesc outChannels(int value);
        public native int kernel(int i); public native ConvDesc kernel(int i, int value);
        public native int stride(int i); public native ConvDesc stride(int i, int value);
        public native int dilation(int i); public native ConvDesc dilation(int i, int value);
        @Name("pad_before") public native int padBefore(int i); @Name("pad_before") public native ConvDesc padBefore(int i, int value);
        @Name("pad_after") public native int padAfter(int i); @Name("pad_after") public native ConvDesc padAfter(int i, int value);
        public native int groups(); public native ConvDesc groups(int value);
        public native int layout(); public native ConvDesc layout(int value);
        public native int activation(); public native ConvDesc activation(int value);
        public native int algorithm(); public native ConvDesc algorithm(int value);
        public native int flags(); public native ConvDesc flags(int value);
        public native int propagation(); public native ConvDesc propagation(int value);
    }

    // The #define constants of conv4j.h; HeaderConstantsTest checks them against the header.

    /** {@code CONV4J_FLAG_NO_WINOGRAD}: the plan never runs Winograd. */
    public static final int FLAG_NO_WINOGRAD = 1;

    /** {@code CONV4J_FLAG_ALLOW_WINOGRAD}: AUTO may choose Winograd. */
    public static final int FLAG_ALLOW_WINOGRAD = 2;

    /** {@code CONV4J_FLAG_FULL_TEAM}: no small-call cutoff (tests of the threaded paths). */
    public static final int FLAG_FULL_TEAM = 4;

    /** {@code conv4j_layout} values. */
    public static final int LAYOUT_CHANNELS_LAST = 0;
    public static final int LAYOUT_CHANNELS_FIRST = 1;

    /** {@code conv4j_propagation} values. */
    public static final int PROPAGATION_FORWARD = 0;
    public static final int PROPAGATION_BACKWARD_DATA = 1;
    public static final int PROPAGATION_BACKWARD_WEIGHTS = 2;

    /** {@code conv4j_activation} values. */
    public static final int ACTIVATION_NONE = 0;
    public static final int ACTIVATION_RELU = 1;

    // conv4j_status, conv4j_algorithm and conv4j_isa: NativeStatus, org.conv4j.Algorithm, NativeIsa.

    /** The opaque {@code conv4j_plan}; owned and freed by {@code NativePlan}. */
    @Opaque
    @Name("conv4j_plan")
    public static final class Plan extends Pointer {
        public Plan() {
            super((Pointer) null);
        }

        public Plan(Pointer p) {
            super(p);
        }
    }

    /**
     * The opaque {@code conv4j_weights}: a layer's copied weights, packed once per algorithm and
     * shared by the plans made from them (each holds its own native reference). Owned by
     * {@code NativeWeights}.
     */
    @Opaque
    @Name("conv4j_weights")
    public static final class Weights extends Pointer {
        public Weights() {
            super((Pointer) null);
        }

        public Weights(Pointer p) {
            super(p);
        }
    }

    @NoException public static native @Cast("const char*") String conv4j_version();
    @NoException public static native @Cast("const char*") String conv4j_status_string(@Cast("conv4j_status") int status);
    @NoException public static native @Cast("const char*") String conv4j_algorithm_name(@Cast("conv4j_algorithm") int algorithm);
    @NoException public static native @Cast("const char*") String conv4j_isa_name(@Cast("conv4j_isa") int isa);
    @NoException public static native @Cast("int") int conv4j_cpu_isa();
    @NoException public static native @Cast("int") int conv4j_active_isa();
    @NoException public static native @Cast("const char*") String conv4j_cpu_features();
    @NoException public static native int conv4j_max_threads();
    @NoException public static native double conv4j_measure_peak_gflops(int threads, double seconds);

    @NoException public static native @Cast("int") int conv4j_output_size(@Const ConvDesc desc, int[] outSize);

    @NoException public static native @Cast("int") int conv4j_plan_create(
            @Const ConvDesc desc, @Const float[] kernel, @Const float[] bias, @ByPtrPtr Plan planOut);

    @NoException public static native @Cast("int") int conv4j_weights_create(
            @Const ConvDesc desc, @Const float[] kernel, @Const float[] bias, @ByPtrPtr Weights weightsOut);

    @NoException public static native @Cast("int") int conv4j_plan_create_with_weights(
            @Const ConvDesc desc, Weights weights, @ByPtrPtr Plan planOut);

    @NoException public static native @Cast("int64_t") long conv4j_weights_pack_count(@Const Weights weights);

    @NoException public static native void conv4j_weights_destroy(Weights weights);

    /** Writes the explain line a plan for desc would get (also when it would be refused) into buffer. */
    @NoException public static native @Cast("int") int conv4j_explain(
            @Const ConvDesc desc, @Cast("char*") byte[] buffer, @Cast("size_t") long capacity);

    @NoException public static native @Cast("size_t") long conv4j_plan_workspace_size(@Const Plan plan);
    @NoException public static native @Cast("int") int conv4j_plan_algorithm(@Const Plan plan);
    @NoException public static native @Cast("const char*") String conv4j_plan_explain(@Const Plan plan);

    // Heap arrays are pinned rather than copied: the convolution reads and writes them in place.
    @NoException @CriticalRegion public static native @Cast("int") int conv4j_plan_execute(
            @Const Plan plan, @Const float[] input, float[] output,
            Pointer workspace, @Cast("size_t") long workspaceSize, int threads);

    @NoException public static native @Cast("int") int conv4j_plan_execute(
            @Const Plan plan, @Const FloatBuffer input, FloatBuffer output,
            Pointer workspace, @Cast("size_t") long workspaceSize, int threads);

    @NoException public static native @Cast("int") int conv4j_plan_execute(
            @Const Plan plan, @Const FloatPointer input, FloatPointer output,
            Pointer workspace, @Cast("size_t") long workspaceSize, int threads);

    /** Backward weights of a {@code CONV4J_PROPAGATION_BACKWARD_WEIGHTS} plan; biasGradient may be null. */
    @NoException @CriticalRegion public static native @Cast("int") int conv4j_plan_execute_backward_weights(
            @Const Plan plan, @Const float[] input, @Const float[] outputGradient, float[] kernelGradient,
            float[] biasGradient, Pointer workspace, @Cast("size_t") long workspaceSize, int threads);

    @NoException public static native @Cast("int") int conv4j_plan_execute_backward_weights(
            @Const Plan plan, @Const FloatPointer input, @Const FloatPointer outputGradient,
            FloatPointer kernelGradient, FloatPointer biasGradient, Pointer workspace,
            @Cast("size_t") long workspaceSize, int threads);

    @NoException public static native void conv4j_plan_destroy(Plan plan);

    /** One Keras SGD step in place; velocity may be null when momentum is 0. */
    @NoException public static native @Cast("int") int conv4j_sgd_step(
            FloatPointer weights, FloatPointer velocity, @Const FloatPointer gradient,
            @Cast("int64_t") long count, double learningRate, double momentum, int threads);

    /** One Keras Adam step in place; step counts from 1. */
    @NoException public static native @Cast("int") int conv4j_adam_step(
            FloatPointer weights, FloatPointer m, FloatPointer v, @Const FloatPointer gradient,
            @Cast("int64_t") long count, double learningRate, double beta1, double beta2, double epsilon,
            @Cast("int64_t") long step, int threads);
}

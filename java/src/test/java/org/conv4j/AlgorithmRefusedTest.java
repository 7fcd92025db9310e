package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A forced algorithm that does not accept a problem is an {@link AlgorithmRefusedException}: the
 * algorithm, the native core's reason (from conv4j_explain) and the shape, not a message to match.
 */
class AlgorithmRefusedTest {
    @BeforeAll
    static void nativeOnly() {
        assumeTrue(Conv4j.nativeAvailable(), "native library not loaded: " + Conv4j.nativeLoadError());
    }

    private static AlgorithmRefusedException refusal(ConvLayer layer, int... shape) {
        try (layer) {
            ConvGeometry g = layer.geometry(shape);
            AlgorithmRefusedException e = assertThrows(AlgorithmRefusedException.class,
                    () -> layer.predict(new float[g.inputCount()], shape));
            assertTrue(e.getMessage().contains(e.algorithm().cliName()), e.getMessage());
            assertTrue(e.getMessage().contains(e.reason()), e.getMessage());
            assertTrue(e.getMessage().contains(java.util.Arrays.toString(g.inputShape())), e.getMessage());
            // The refusal is not cached: asking again refuses again, the same way.
            AlgorithmRefusedException again = assertThrows(AlgorithmRefusedException.class,
                    () -> layer.explain(shape));
            assertEquals(e.getMessage(), again.getMessage());
            return e;
        }
    }

    @Test
    void winogradNeedsA3x3Conv2DKernel() {
        ConvLayer conv = Conv2D.builder().filters(16).kernelSize(5, 5).algorithm(Algorithm.WINOGRAD)
                .backend(Backend.NATIVE).build();
        conv.setWeights(new float[5 * 5 * 16 * 16], new float[16]);
        AlgorithmRefusedException e = refusal(conv, 1, 8, 8, 16);
        assertEquals(Algorithm.WINOGRAD, e.algorithm());
        assertEquals("needs a 3x3 Conv2D kernel", e.reason());
        assertTrue(e instanceof IllegalArgumentException);
    }

    @Test
    void winogradOnAConv1D() {
        ConvLayer conv = Conv1D.builder().filters(16).kernelSize(3).algorithm(Algorithm.WINOGRAD)
                .backend(Backend.NATIVE).build();
        conv.setWeights(new float[3 * 16 * 16], new float[16]);
        assertEquals("needs a 3x3 Conv2D kernel", refusal(conv, 2, 20, 16).reason());
    }

    @Test
    void depthwiseRefusesADenseConvolution() {
        ConvLayer conv = Conv2D.builder().filters(4).kernelSize(3, 3).algorithm(Algorithm.DEPTHWISE)
                .backend(Backend.NATIVE).build();
        conv.setWeights(new float[3 * 3 * 4 * 4], new float[4]);
        AlgorithmRefusedException e = refusal(conv, 1, 6, 6, 4);
        assertEquals(Algorithm.DEPTHWISE, e.algorithm());
        assertEquals("not depthwise (groups != Cin)", e.reason());
    }

    /**
     * conv4j_explain sees the descriptor, not the weights: a refusal for the weights' values
     * (Winograd would spread a NaN over its tile) still comes back typed, with the reason.
     */
    @Test
    void nonFiniteWeightsAreARefusalToo() {
        ConvLayer conv = Conv2D.builder().filters(16).kernelSize(3, 3).algorithm(Algorithm.WINOGRAD)
                .backend(Backend.NATIVE).build();
        float[] kernel = new float[3 * 3 * 16 * 16];
        kernel[7] = Float.NaN;
        conv.setWeights(kernel, new float[16]);
        AlgorithmRefusedException e = refusal(conv, 1, 8, 8, 16);
        assertEquals(Algorithm.WINOGRAD, e.algorithm());
        assertTrue(e.reason().startsWith("non-finite weights"), e.reason());
    }

    @Test
    void reasonsAreParsedFromTheExplainLine() {
        String prefix = "conv4j: rank=2 N=1 in=8x8x16 out=4x4x16 k=5x5 s=1x1 d=1x1 pad=0,0/0,0 groups=1"
                + " layout=channels_last act=none";
        assertEquals("needs a 3x3 Conv2D kernel", NativePlan.rejectionReason(prefix
                + " -> unsupported (algorithm winograd, isa avx2); rejected: winograd_f4x4_3x3 (needs a 3x3 Conv2D kernel)"));
        assertEquals("gemm_1x1: kernel is not 1x1; igemm: non-finite weights with padding (its zero rows would give"
                + " 0*Inf = NaN)", NativePlan.rejectionReason(prefix + " -> unsupported (algorithm gemm, isa avx2);"
                + " rejected: gemm_1x1 (kernel is not 1x1), igemm (non-finite weights with padding (its zero rows"
                + " would give 0*Inf = NaN))"));
        // A line that chose an algorithm, or lists no rejection, gives no reason.
        assertNull(NativePlan.rejectionReason(prefix + " -> igemm_avx2 (isa avx2); rejected: gemm_1x1 (kernel is not 1x1)"));
        assertNull(NativePlan.rejectionReason(prefix + " -> unsupported (algorithm gemm, isa avx2)"));
        assertNull(NativePlan.rejectionReason("conv4j: Memory allocation failed."));
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Weights in and out, close semantics, plan reuse across shapes. */
class LifecycleTest {

    @ParameterizedTest
    @EnumSource(Backend.class)
    void weightsRoundTripAsCopies(Backend backend) {
        float[] kernel = {1, 2, 3, 4, 5, 6};
        float[] bias = {7, 8};
        try (Conv1D conv = Conv1D.builder().filters(2).kernelSize(3).backend(backend).build()) {
            assertNull(conv.getWeights());
            conv.setWeights(kernel, bias);
            kernel[0] = 100; // the layer kept its own copy
            ConvLayer.Weights w = conv.getWeights();
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w.kernel());
            assertArrayEquals(new int[] {3, 1, 2}, w.kernelShape());
            assertArrayEquals(bias, w.bias());
            assertNotSame(w.kernel(), conv.getWeights().kernel());
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void predictBeforeWeightsIsAnError(Backend backend) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(1).backend(backend).build()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> conv.predict(new float[1], 1, 1, 1));
            assertTrue(e.getMessage().contains("setWeights"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void closeIsIdempotentAndUseAfterCloseThrows(Backend backend) {
        Conv1D conv = Conv1D.builder().filters(1).kernelSize(1).backend(backend).build();
        conv.setWeights(new float[] {2}, new float[] {0});
        assertArrayEquals(new float[] {4}, conv.predict(new float[] {2}, 1, 1, 1));
        conv.close();
        conv.close();
        assertTrue(conv.isClosed());
        for (Runnable use : new Runnable[] {
            () -> conv.predict(new float[] {2}, 1, 1, 1),
            () -> conv.predict(new float[] {2}, new float[1], 1, 1, 1),
            () -> conv.setWeights(new float[] {1}, new float[] {0}),
            conv::getWeights,
        }) {
            IllegalStateException e = assertThrows(IllegalStateException.class, use::run);
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void newWeightsTakeEffectAndShapesAreCachedApart(Backend backend) {
        try (Conv1D conv = Conv1D.builder().filters(1).kernelSize(1).useBias(false).backend(backend).build()) {
            conv.setWeights(new float[] {2}, null);
            // more shapes than the cache holds, then back to the first
            for (int len = 1; len <= PlanCache.CAPACITY + 3; len++) {
                float[] x = new float[len];
                x[len - 1] = len;
                assertEquals(2f * len, conv.predict(x, 1, len, 1)[len - 1]);
            }
            assertArrayEquals(new float[] {6}, conv.predict(new float[] {3}, 1, 1, 1));
            conv.setWeights(new float[] {-1}, null);
            assertArrayEquals(new float[] {-3}, conv.predict(new float[] {3}, 1, 1, 1));
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void reportsWhatComputes(Backend backend) {
        try (Conv2D conv = Conv2D.builder().filters(1).kernelSize(1).backend(backend).build()) {
            conv.setWeights(new float[] {1}, new float[] {0});
            assertEquals(backend, conv.backend());
            String algorithm = conv.algorithm(1, 2, 2, 1);
            String explanation = conv.explain(1, 2, 2, 1);
            if (backend == Backend.JAVA) {
                assertEquals("java", algorithm);
            } else {
                assertTrue(algorithm.equals("direct") || algorithm.equals("reference"), algorithm);
                assertTrue(explanation.contains(algorithm), explanation);
            }
            assertFalse(conv.toString().isEmpty());
        }
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code inputChannels(c)} (Keras' input_shape[-1]): a kernel for another Cin fails at setWeights. */
class InputChannelsTest {
    @Test
    void conv2dKernelWithWrongCinFailsAtSetWeightsNamingBothNumbers() {
        try (Conv2D conv = Conv2D.builder().inputChannels(3).filters(4).kernelSize(3).useBias(false).build()) {
            // [3, 3, 2, 4]: a kernel for 2 input channels
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> conv.setWeights(new float[3 * 3 * 2 * 4], null));
            assertTrue(e.getMessage().contains("for 2 input channels"), e.getMessage());
            assertTrue(e.getMessage().contains("inputChannels(3)"), e.getMessage());
            assertEquals(-1, conv.inChannels(), "the refused kernel was not set");
            conv.setWeights(new float[3 * 3 * 3 * 4], null);
            assertEquals(3, conv.inChannels());
            assertArrayEquals(new int[] {1, 6, 6, 4}, conv.outputShape(1, 8, 8, 3));
        }
    }

    @Test
    void statedKernelShapeIsCheckedToo() {
        try (Conv2D conv = Conv2D.builder().inputChannels(8).groups(2).filters(4).kernelSize(1).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> conv.setWeights(new float[3 * 4], new int[] {1, 1, 3, 4}, new float[4]));
            assertTrue(e.getMessage().contains("6 input channels") && e.getMessage().contains("inputChannels(8)"),
                    e.getMessage());
            conv.setWeights(new float[4 * 4], new int[] {1, 1, 4, 4}, new float[4]); // Cin/groups 4 × 2 = 8
        }
    }

    @Test
    void conv1dAndConvLayerBuilderTakeItAndBothBackendsRefuse() {
        for (Backend backend : new Backend[] {Backend.JAVA, Conv4j.defaultBackend()}) {
            try (Conv1D conv = Conv1D.builder().inputChannels(5).filters(2).kernelSize(3).backend(backend).build()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> conv.setWeights(new float[3 * 4 * 2], new float[2]));
                assertTrue(e.getMessage().contains("4 input channels") && e.getMessage().contains("inputChannels(5)"),
                        e.getMessage());
                conv.setWeights(new float[3 * 5 * 2], new float[2]);
            }
            try (ConvLayer layer = ConvLayer.builder(2).inputChannels(1).filters(1).kernelSize(3).backend(backend)
                    .build()) {
                assertEquals(1, layer.config().inputChannels());
                assertTrue(layer.config().toString().contains("input_channels=1"), layer.config().toString());
                assertThrows(IllegalArgumentException.class, () -> layer.setWeights(new float[18], new float[1]));
                layer.setWeights(new float[9], new float[1]);
            }
        }
    }

    @Test
    void withoutItTheKernelDecidesAsBefore() {
        try (Conv2D conv = Conv2D.builder().filters(1).kernelSize(3).build()) {
            assertEquals(0, conv.config().inputChannels());
            conv.setWeights(new float[18], new float[1]);
            assertEquals(2, conv.inChannels());
        }
    }

    @Test
    void badValuesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Conv2D.builder().inputChannels(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Conv2D.builder().inputChannels(3).groups(2).filters(4).kernelSize(1).build());
        assertTrue(e.getMessage().contains("input channels (3) must be divisible by groups (2)"), e.getMessage());
    }
}

package org.conv4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.conv4j.ConvLayer;
import org.conv4j.Padding;
import org.junit.jupiter.api.Test;

/** A layer's configuration survives the trip to the executors and through saved JSON. */
class LayerSpecTest {
    @Test
    void theWinogradSwitchTravelsWithTheLayer() {
        try (ConvLayer off = ConvLayer.builder(2).filters(16).kernelSize(3).padding(Padding.SAME).build();
             ConvLayer on = ConvLayer.builder(2).filters(16).kernelSize(3).winograd(true).build()) {
            LayerSpec spec = LayerSpec.of(off, false);
            try (ConvLayer rebuilt = spec.build(1)) {
                assertFalse(rebuilt.config().winograd(), "built on the executor");
            }
            LayerSpec loaded = LayerSpec.fromJson(LayerSpec.toJson(List.of(spec))).get(0);
            assertEquals(spec, loaded);
            try (ConvLayer rebuilt = loaded.build(1)) {
                assertFalse(rebuilt.config().winograd(), "after save and load");
            }
            LayerSpec onSpec = LayerSpec.of(on, false);
            try (ConvLayer rebuilt = onSpec.build(1)) {
                assertTrue(rebuilt.config().winograd(), "an opted-in layer stays opted in on the executor");
            }
            try (ConvLayer rebuilt = LayerSpec.fromJson(LayerSpec.toJson(List.of(onSpec))).get(0).build(1)) {
                assertTrue(rebuilt.config().winograd(), "and after save and load");
            }
        }
        String noKey = "[{\"class_name\":\"Conv2D\",\"filters\":4,\"kernel_size\":3}]";
        try (ConvLayer layer = LayerSpec.fromJson(noKey).get(0).build(1)) {
            assertFalse(layer.config().winograd(), "Keras JSON without the key keeps the default: Winograd off");
        }
    }
}

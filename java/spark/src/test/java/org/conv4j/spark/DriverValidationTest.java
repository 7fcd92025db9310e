package org.conv4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.conv4j.Algorithm;
import org.conv4j.ConvLayer;
import org.conv4j.Padding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * A bad configuration fails in {@code transform} on the driver, with the library's own message,
 * and no task runs (no layer lease is ever taken).
 */
class DriverValidationTest {
    private static final Random RANDOM = new Random(21);

    /** The message the library itself gives for {@code call}. */
    private static String libraryMessage(Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    private static void assertFailsOnTheDriver(Conv4jTransformer conv, Dataset<Row> df, String libraryMessage) {
        long leases = ExecutorLayers.stats().leasesTaken();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> conv.transform(df).collectAsList());
        assertTrue(e.getMessage().contains(libraryMessage), e.getMessage() + "\n  should contain\n" + libraryMessage);
        assertEquals(leases, ExecutorLayers.stats().leasesTaken(), "a task ran");
    }

    private static Dataset<Row> images(int sampleSize) {
        return SparkTestSession.images(SparkTestSession.samples(RANDOM, 4, sampleSize, 0), 2);
    }

    @Test
    void aKernelLargerThanTheValidInputFailsWithTheLibrarysMessage() {
        try (ConvLayer layer = ConvLayer.builder(2).filters(2).kernelSize(5, 5).build()) {
            layer.setWeights(SparkTestSession.floats(RANDOM, 5 * 5 * 3 * 2), SparkTestSession.floats(RANDOM, 2));
            String message = libraryMessage(() -> layer.outputShape(1, 4, 4, 3));
            Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setInputShape(4, 4, 3)
                    .setLayers(layer);
            assertFailsOnTheDriver(conv, images(48), message);
        }
    }

    @Test
    void inputChannelsTheKernelDoesNotExpectFailWithTheLibrarysMessage() {
        try (ConvLayer layer = ConvLayer.builder(2).filters(2).kernelSize(3, 3).padding(Padding.SAME).build()) {
            layer.setWeights(SparkTestSession.floats(RANDOM, 3 * 3 * 4 * 2), SparkTestSession.floats(RANDOM, 2));
            String message = libraryMessage(() -> layer.predict(new float[5 * 5 * 3], 1, 5, 5, 3));
            Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setInputShape(5, 5, 3)
                    .setLayers(layer);
            assertFailsOnTheDriver(conv, images(75), message);
        }
    }

    @Test
    void aSecondLayerThatDoesNotFitTheFirstsOutputFails() {
        try (ConvLayer first = ConvLayer.builder(2).filters(4).kernelSize(3, 3).build();
             ConvLayer second = ConvLayer.builder(2).filters(2).kernelSize(1, 1).build()) {
            first.setWeights(SparkTestSession.floats(RANDOM, 3 * 3 * 3 * 4), SparkTestSession.floats(RANDOM, 4));
            second.setWeights(SparkTestSession.floats(RANDOM, 5 * 2), SparkTestSession.floats(RANDOM, 2)); // Cin 5, not 4
            String message = libraryMessage(() -> second.predict(new float[6 * 6 * 4], 1, 6, 6, 4));
            Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setInputShape(8, 8, 3)
                    .setLayers(first, second);
            assertFailsOnTheDriver(conv, images(192), message);
        }
    }

    @Test
    void aBadJsonConfigurationFailsWithTheBuildersMessage() {
        String message = libraryMessage(() -> ConvLayer.builder(2).filters(4).kernelSize(3, 3).groups(3).build());
        Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setInputShape(5, 5, 3)
                .setLayersJson("[{\"class_name\":\"Conv2D\",\"filters\":4,\"kernel_size\":[3,3],\"groups\":3}]")
                .setWeights(List.of(new ConvStack.Weights(new float[3 * 3 * 1 * 4], new float[4])));
        assertFailsOnTheDriver(conv, images(75), message);
    }

    @Test
    void aBadPaddingNameFailsWithTheLibrarysParserMessage() {
        String message = libraryMessage(() -> Padding.parse("full"));
        Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setInputShape(5, 5, 3)
                .setLayersJson("[{\"class_name\":\"Conv2D\",\"filters\":4,\"kernel_size\":3,\"padding\":\"full\"}]")
                .setWeights(List.of(new ConvStack.Weights(new float[3 * 3 * 3 * 4], new float[4])));
        assertFailsOnTheDriver(conv, images(75), message);
    }

    @Test
    void weightsOfTheWrongSizeFailWithTheLibrarysMessage() {
        try (ConvLayer layer = ConvLayer.builder(2).filters(4).kernelSize(3, 3).build()) {
            float[] kernel = new float[3 * 3 * 3 * 4];
            String message = libraryMessage(() -> layer.setWeights(kernel, new float[3]));
            Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setInputShape(5, 5, 3)
                    .setLayersJson("[{\"class_name\":\"Conv2D\",\"filters\":4,\"kernel_size\":3}]")
                    .setWeights(List.of(new ConvStack.Weights(kernel, new float[3])));
            assertFailsOnTheDriver(conv, images(75), message);
        }
    }

    @Test
    void aForcedAlgorithmThatRejectsTheProblemFailsWithTheLibrarysMessage() {
        // Winograd is for 3×3 stride 1: a 5×5 stride-2 problem is refused (by the plan, or by the Java backend).
        String json = "[{\"class_name\":\"Conv2D\",\"filters\":4,\"kernel_size\":5,\"strides\":2,"
                + "\"algorithm\":\"winograd\"}]";
        LayerSpec spec = LayerSpec.fromJson(json).get(0);
        float[] kernel = SparkTestSession.floats(RANDOM, 5 * 5 * 3 * 4);
        String message = libraryMessage(() -> {
            try (ConvLayer layer = spec.build(1)) {
                layer.setWeights(kernel, new float[4]);
                layer.explain(1, 9, 9, 3);
            }
        });
        Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setInputShape(9, 9, 3)
                .setLayersJson(json).setWeights(List.of(new ConvStack.Weights(kernel, new float[4])));
        assertFailsOnTheDriver(conv, images(243), message);
    }

    @Test
    void anUnknownAlgorithmNameFailsWithTheParsersMessage() {
        String message = libraryMessage(() -> Algorithm.parse("fft"));
        Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setInputShape(5, 5, 3)
                .setLayersJson("[{\"class_name\":\"Conv2D\",\"filters\":4,\"kernel_size\":3,\"algorithm\":\"fft\"}]")
                .setWeights(List.of(new ConvStack.Weights(new float[3 * 3 * 3 * 4], new float[4])));
        assertFailsOnTheDriver(conv, images(75), message);
    }

    @Test
    void aMissingOrWronglyTypedColumnFailsOnTheDriver() {
        try (ConvLayer layer = ConvLayer.builder(2).filters(2).kernelSize(3, 3).build()) {
            layer.setWeights(SparkTestSession.floats(RANDOM, 3 * 3 * 3 * 2), SparkTestSession.floats(RANDOM, 2));
            Conv4jTransformer conv = new Conv4jTransformer().setInputCol("pixels").setInputShape(5, 5, 3)
                    .setLayers(layer);
            assertFailsOnTheDriver(conv, images(75), "input column 'pixels' does not exist");
            conv.setInputCol("id");
            assertFailsOnTheDriver(conv, images(75), "input column 'id' must be array<float>, got int");
        }
    }
}

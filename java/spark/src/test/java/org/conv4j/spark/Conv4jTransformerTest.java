package org.conv4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.conv4j.Activation;
import org.conv4j.ConvLayer;
import org.conv4j.Padding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ML Transformer: output, Pipeline save and load, driver-side checks. */
class Conv4jTransformerTest {
    private static final int[] SHAPE = {7, 9, 4};

    private static void closeAll(ConvLayer[] layers) {
        for (ConvLayer l : layers) {
            l.close();
        }
    }

    private static void assertSameAsLibrary(ConvLayer[] layers, float[][] samples, float[][] out) {
        for (int i = 0; i < samples.length; i++) {
            float[] expected = samples[i] == null ? null : ConvPartitionFunctionTest.direct(layers, SHAPE, samples[i]);
            assertTrue(Arrays.equals(expected, out[i]), "row " + i);
        }
    }

    @Test
    void transformIsBitIdenticalToTheLibraryAndKeepsTheOtherColumns() {
        Random random = new Random(11);
        ConvLayer[] layers = ConvPartitionFunctionTest.twoLayers(random, 4);
        try {
            Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setOutputCol("features")
                    .setInputShape(SHAPE).setLayers(layers).setBatchSize(3);
            float[][] samples = SparkTestSession.samples(random, 23, 252, 7);
            Dataset<Row> out = conv.transform(SparkTestSession.images(samples, 3));
            assertEquals(List.of("id", "image", "features"), Arrays.asList(out.columns()));
            assertArrayEquals(Arrays.stream(conv.stack().outputSampleShape()).asLongStream().toArray(),
                    out.schema().apply("features").metadata().getLongArray(ConvPartitionFunction.SHAPE_METADATA),
                    "the sample shape travels in the column's metadata");
            assertSameAsLibrary(layers, samples, SparkTestSession.byId(out.collectAsList(), "features", 23));
        } finally {
            closeAll(layers);
        }
    }

    @Test
    void aPipelineWithTheTransformerSavesAndLoadsWithItsWeightsAndGivesTheSameOutput(@TempDir Path dir) throws Exception {
        Random random = new Random(12);
        ConvLayer[] layers = ConvPartitionFunctionTest.twoLayers(random, 4);
        try {
            Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setOutputCol("features")
                    .setInputShape(SHAPE).setLayers(layers).setLayerReuse(LayerReuse.PARTITION).setBatchSize(4);
            SQLTransformer select = new SQLTransformer().setStatement("SELECT id, features FROM __THIS__");
            Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {conv, select});
            float[][] samples = SparkTestSession.samples(random, 17, 252, 0);
            Dataset<Row> images = SparkTestSession.images(samples, 2);
            PipelineModel model = pipeline.fit(images);
            float[][] expected = SparkTestSession.byId(model.transform(images).collectAsList(), "features", 17);
            assertSameAsLibrary(layers, samples, expected);

            pipeline.write().overwrite().save(dir.resolve("pipeline").toString());
            model.write().overwrite().save(dir.resolve("model").toString());
            // The layers that supplied the weights are gone: the loaded stages must bring their own.
            closeAll(layers);

            PipelineModel loadedModel = PipelineModel.load(dir.resolve("model").toString());
            PipelineModel refitted = Pipeline.load(dir.resolve("pipeline").toString()).fit(images);
            for (PipelineModel m : List.of(loadedModel, refitted)) {
                Dataset<Row> out = m.transform(images);
                assertEquals(List.of("id", "features"), Arrays.asList(out.columns()));
                float[][] got = SparkTestSession.byId(out.collectAsList(), "features", 17);
                for (int i = 0; i < 17; i++) {
                    assertTrue(Arrays.equals(expected[i], got[i]), "row " + i);
                }
                Conv4jTransformer loaded = (Conv4jTransformer) m.stages()[0];
                assertEquals(conv.uid(), loaded.uid());
                assertEquals(conv.getOrDefault(conv.layers()), loaded.getOrDefault(loaded.layers()));
                assertEquals("partition", loaded.getOrDefault(loaded.layerReuse()));
                assertEquals(4, (Integer) loaded.getOrDefault(loaded.batchSize()));
                assertArrayEquals(SHAPE, loaded.getOrDefault(loaded.inputShape()));
            }
        } finally {
            closeAll(layers);
        }
    }

    @Test
    void theTransformerAloneSavesAndLoadsWithoutBias(@TempDir Path dir) throws Exception {
        Random random = new Random(13);
        try (ConvLayer layer = ConvLayer.builder(1).filters(3).kernelSize(2).padding(Padding.CAUSAL).useBias(false)
                .build()) {
            layer.setWeights(SparkTestSession.floats(random, 2 * 5 * 3), null);
            Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setInputShape(6, 5).setLayers(layer);
            conv.save(dir.resolve("t").toString());
            Conv4jTransformer loaded = Conv4jTransformer.load(dir.resolve("t").toString());
            assertEquals(1, loaded.getWeights().size());
            assertEquals(null, loaded.getWeights().get(0).bias());
            assertArrayEquals(conv.getWeights().get(0).kernel(), loaded.getWeights().get(0).kernel());
            float[][] samples = SparkTestSession.samples(random, 5, 30, 0);
            String out = conv.getOrDefault(conv.outputCol());
            float[][] got = SparkTestSession.byId(loaded.transform(SparkTestSession.images(samples, 1)).collectAsList(),
                    out, 5);
            for (int i = 0; i < 5; i++) {
                assertTrue(Arrays.equals(layer.predict(samples[i], 1, 6, 5), got[i]), "row " + i);
            }
        }
    }

    @Test
    void twoOpenMpThreadsPerTaskGiveTheSameBitsAndBadParamValuesAreRefused() {
        Random random = new Random(16);
        ConvLayer[] layers = ConvPartitionFunctionTest.twoLayers(random, 4);
        try {
            Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setOutputCol("features")
                    .setInputShape(SHAPE).setLayers(layers).setThreadsPerTask(2);
            float[][] samples = SparkTestSession.samples(random, 9, 252, 0);
            assertSameAsLibrary(layers, samples, SparkTestSession.byId(
                    conv.transform(SparkTestSession.images(samples, 2)).collectAsList(), "features", 9));
            assertThrows(IllegalArgumentException.class, () -> conv.setThreadsPerTask(-1));
            assertThrows(IllegalArgumentException.class, () -> conv.setBatchSize(0));
            assertThrows(IllegalArgumentException.class, () -> conv.set(conv.layerReuse(), "cluster"));
        } finally {
            closeAll(layers);
        }
    }

    @Test
    void copyKeepsTheWeightsAndAppliesExtraParams() {
        Random random = new Random(14);
        ConvLayer[] layers = ConvPartitionFunctionTest.twoLayers(random, 4);
        try {
            Conv4jTransformer conv = new Conv4jTransformer().setInputCol("image").setInputShape(SHAPE)
                    .setLayers(layers);
            Conv4jTransformer copy = conv.copy(new org.apache.spark.ml.param.ParamMap()
                    .put(conv.outputCol().w("other")));
            assertEquals("other", copy.getOrDefault(copy.outputCol()));
            assertEquals(conv.getWeights(), copy.getWeights());
            assertArrayEquals(conv.stack().outputSampleShape(), copy.stack().outputSampleShape());
        } finally {
            closeAll(layers);
        }
    }

    @Test
    void layerConfigurationsSurviveTheirJsonForm() {
        Random random = new Random(15);
        ConvLayer[] layers = ConvPartitionFunctionTest.twoLayers(random, 4);
        try {
            List<LayerSpec> specs = List.of(LayerSpec.of(layers[0], true), LayerSpec.of(layers[1], false));
            assertEquals(specs, LayerSpec.fromJson(LayerSpec.toJson(specs)));
            // Keras defaults fill what is left out.
            LayerSpec minimal = LayerSpec.fromJson("[{\"class_name\":\"Conv2D\",\"filters\":6,\"kernel_size\":3,"
                    + "\"padding\":\"same\",\"activation\":\"relu\"}]").get(0);
            try (ConvLayer built = minimal.build(1)) {
                assertEquals(layers[0].config().toString(), built.config().toString());
            }
        } finally {
            closeAll(layers);
        }
    }
}

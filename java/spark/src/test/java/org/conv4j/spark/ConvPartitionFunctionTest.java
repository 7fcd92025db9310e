package org.conv4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.conv4j.Activation;
import org.conv4j.ConvLayer;
import org.conv4j.DataFormat;
import org.conv4j.Padding;
import org.junit.jupiter.api.Test;

/** The mapPartitions function on local[2]: results, layer lifetime, failures. */
class ConvPartitionFunctionTest {

    @Test
    void runsOnTheSparkVersionTheBuildChose() {
        assertEquals(System.getProperty("spark.expected.version"), SparkTestSession.get().version());
    }

    /** Layers with random weights; the caller closes them. */
    static ConvLayer[] twoLayers(Random random, int cin) {
        ConvLayer a = ConvLayer.builder(2).filters(6).kernelSize(3, 3).padding(Padding.SAME)
                .activation(Activation.RELU).build();
        a.setWeights(SparkTestSession.floats(random, 3 * 3 * cin * 6), SparkTestSession.floats(random, 6));
        ConvLayer b = ConvLayer.builder(2).filters(4).kernelSize(2, 3).strides(2, 1).groups(2).build();
        b.setWeights(SparkTestSession.floats(random, 2 * 3 * 3 * 4), SparkTestSession.floats(random, 4));
        return new ConvLayer[] {a, b};
    }

    /** Closes layers at the end of a try block. */
    interface Closing extends AutoCloseable {
        @Override
        void close();
    }

    static Closing closing(ConvLayer[] layers) {
        return () -> {
            for (ConvLayer l : layers) {
                l.close();
            }
        };
    }

    /** What the library itself gives for one sample through the layers. */
    static float[] direct(ConvLayer[] layers, int[] sampleShape, float[] sample) {
        int[] shape = ConvStack.withBatch(1, sampleShape);
        float[] x = sample;
        for (ConvLayer l : layers) {
            float[] y = l.predict(x, shape);
            shape = l.outputShape(shape);
            x = y;
        }
        return x;
    }

    static Dataset<Row> apply(ConvStack stack, Dataset<Row> df, UnaryOperator<ConvPartitionFunction> options) {
        ConvPartitionFunction f = options.apply(new ConvPartitionFunction(SparkTestSession.jsc().broadcast(stack),
                df.schema(), "image", "out"));
        return df.mapPartitions(f, f.encoder());
    }

    @Test
    void twoConv2DLayersAreBitIdenticalToTheLibraryAcrossBatchesPartitionsAndNulls() {
        Random random = new Random(1);
        int[] shape = {7, 9, 4};
        ConvLayer[] layers = twoLayers(random, 4);
        try (Closing closing = closing(layers)) {
            ConvStack stack = ConvStack.of(shape, layers);
            int[] out1 = layers[1].outputShape(layers[0].outputShape(1, 7, 9, 4));
            assertArrayEquals(Arrays.copyOfRange(out1, 1, 4), stack.outputSampleShape());
            float[][] samples = SparkTestSession.samples(random, 41, 7 * 9 * 4, 10);
            for (int batch : new int[] {1, 5, 32}) {
                for (LayerReuse reuse : LayerReuse.values()) {
                    List<Row> rows = apply(stack, SparkTestSession.images(samples, 3),
                            f -> f.batchSize(batch).reuse(reuse)).collectAsList();
                    assertEquals(samples.length, rows.size());
                    float[][] out = SparkTestSession.byId(rows, "out", samples.length);
                    for (int i = 0; i < samples.length; i++) {
                        if (samples[i] == null) {
                            assertNull(out[i], "row " + i);
                        } else {
                            // Arrays.equals on floats compares bits: bit-identical, not within a tolerance.
                            assertTrue(Arrays.equals(direct(layers, shape, samples[i]), out[i]),
                                    "row " + i + " batch " + batch + " " + reuse);
                        }
                    }
                }
            }
        }
    }

    @Test
    void randomConv1DAndConv2DConfigurationsMatchTheLibraryBitForBit() {
        Random random = new Random(2);
        for (int trial = 0; trial < 12; trial++) {
            int rank = 1 + trial % 2;
            boolean channelsFirst = random.nextBoolean();
            int groups = 1 + random.nextInt(2);
            int cin = groups * (1 + random.nextInt(3));
            int filters = groups * (1 + random.nextInt(4));
            int k = 1 + random.nextInt(3);
            int stride = 1 + random.nextInt(2);
            Padding padding = rank == 1 && random.nextBoolean() ? Padding.CAUSAL
                    : random.nextBoolean() ? Padding.SAME : Padding.VALID;
            boolean bias = random.nextBoolean();
            try (ConvLayer layer = ConvLayer.builder(rank).filters(filters).kernelSize(k).strides(stride)
                    .padding(padding).groups(groups).useBias(bias)
                    .activation(random.nextBoolean() ? Activation.RELU : Activation.NONE)
                    .dataFormat(channelsFirst ? DataFormat.CHANNELS_FIRST : DataFormat.CHANNELS_LAST).build()) {
                int kernelCount = (rank == 2 ? k * k : k) * (cin / groups) * filters;
                layer.setWeights(SparkTestSession.floats(random, kernelCount),
                        bias ? SparkTestSession.floats(random, filters) : null);
                int h = 3 + random.nextInt(6);
                int w = 3 + random.nextInt(6);
                int[] shape = rank == 1 ? (channelsFirst ? new int[] {cin, w} : new int[] {w, cin})
                        : (channelsFirst ? new int[] {cin, h, w} : new int[] {h, w, cin});
                ConvStack stack = ConvStack.of(shape, layer);
                float[][] samples = SparkTestSession.samples(random, 9, stack.sampleSize(), 0);
                float[][] out = SparkTestSession.byId(apply(stack, SparkTestSession.images(samples, 2),
                        f -> f.batchSize(4)).collectAsList(), "out", samples.length);
                for (int i = 0; i < samples.length; i++) {
                    assertTrue(Arrays.equals(direct(new ConvLayer[] {layer}, shape, samples[i]), out[i]),
                            "trial " + trial + " " + layer.config() + " row " + i);
                }
            }
        }
    }

    @Test
    void theOutputColumnIsArrayOfNonNullFloats() {
        Random random = new Random(3);
        ConvLayer[] layers = twoLayers(random, 4);
        try (Closing closing = closing(layers)) {
            ConvStack stack = ConvStack.of(new int[] {7, 9, 4}, layers);
            Dataset<Row> out = apply(stack, SparkTestSession.images(SparkTestSession.samples(random, 2, 252, 0), 1),
                    f -> f);
            assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false), out.schema().apply("out").dataType());
            assertEquals(List.of("id", "image", "out"), Arrays.asList(out.columns()));
        }
    }

    // Both tasks of a two-partition job meet here after taking their lease, so they provably overlap.
    private static final CyclicBarrier BOTH_TASKS = new CyclicBarrier(2);

    /** Takes the lease (in the delegate's call), then waits for the other task. Static: captures nothing. */
    private static final class Overlapping implements MapPartitionsFunction<Row, Row> {
        private final ConvPartitionFunction delegate;

        Overlapping(ConvPartitionFunction delegate) {
            this.delegate = delegate;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws Exception {
            Iterator<Row> out = delegate.call(rows);
            BOTH_TASKS.await(60, TimeUnit.SECONDS);
            return out;
        }
    }

    @Test
    void executorReuseBuildsOneSetForConcurrentTasksAndClosesItWhenTheJobEnds() {
        Random random = new Random(4);
        ConvLayer[] layers = twoLayers(random, 4);
        try (Closing closing = closing(layers)) {
            ConvStack stack = ConvStack.of(new int[] {7, 9, 4}, layers);
            Dataset<Row> df = SparkTestSession.images(SparkTestSession.samples(random, 20, 252, 0), 2);
            df.cache().count();
            ConvPartitionFunction f = new ConvPartitionFunction(SparkTestSession.jsc().broadcast(stack), df.schema(),
                    "image", "out").reuse(LayerReuse.EXECUTOR);
            ExecutorLayers.Stats before = ExecutorLayers.stats();
            assertEquals(20, df.mapPartitions(new Overlapping(f), f.encoder()).collectAsList().size());
            ExecutorLayers.Stats after = ExecutorLayers.stats();
            assertEquals(2, after.leasesTaken() - before.leasesTaken(), "one lease per partition");
            assertEquals(2, after.layersCreated() - before.layersCreated(), "one set of two layers for both tasks");
            assertEquals(2, after.layersClosed() - before.layersClosed(), "closed when the last task completed");
            assertEquals(0, after.layersOpen());
            df.unpersist();
        }
    }

    @Test
    void partitionReuseBuildsOneSetPerPartitionAndClosesEach() {
        Random random = new Random(5);
        ConvLayer[] layers = twoLayers(random, 4);
        try (Closing closing = closing(layers)) {
            ConvStack stack = ConvStack.of(new int[] {7, 9, 4}, layers);
            ExecutorLayers.Stats before = ExecutorLayers.stats();
            assertEquals(30, apply(stack, SparkTestSession.images(SparkTestSession.samples(random, 30, 252, 0), 5),
                    f -> f.reuse(LayerReuse.PARTITION)).collectAsList().size());
            ExecutorLayers.Stats after = ExecutorLayers.stats();
            assertEquals(5, after.leasesTaken() - before.leasesTaken());
            assertEquals(10, after.layersCreated() - before.layersCreated());
            assertEquals(10, after.layersClosed() - before.layersClosed());
            assertEquals(0, after.layersOpen());
        }
    }

    @Test
    void executorReuseWithMorePartitionsThanSlotsNeverBuildsMoreThanOnePerLeaseAndClosesAll() {
        Random random = new Random(6);
        ConvLayer[] layers = twoLayers(random, 4);
        try (Closing closing = closing(layers)) {
            ConvStack stack = ConvStack.of(new int[] {7, 9, 4}, layers);
            ExecutorLayers.Stats before = ExecutorLayers.stats();
            apply(stack, SparkTestSession.images(SparkTestSession.samples(random, 40, 252, 0), 8), f -> f)
                    .collectAsList();
            ExecutorLayers.Stats after = ExecutorLayers.stats();
            long built = after.layersCreated() - before.layersCreated();
            assertEquals(8, after.leasesTaken() - before.leasesTaken());
            assertTrue(built >= 2 && built <= 16, "built " + built);
            assertEquals(built, after.layersClosed() - before.layersClosed());
        }
    }

    @Test
    void readingOnlyPartOfAPartitionStillClosesTheLayersAtTaskCompletion() {
        Random random = new Random(7);
        ConvLayer[] layers = twoLayers(random, 4);
        try (Closing closing = closing(layers)) {
            ConvStack stack = ConvStack.of(new int[] {7, 9, 4}, layers);
            ExecutorLayers.Stats before = ExecutorLayers.stats();
            // limit(1) stops reading the output iterator after one row: only the listener can close.
            assertEquals(1, apply(stack, SparkTestSession.images(SparkTestSession.samples(random, 50, 252, 0), 1),
                    f -> f.batchSize(4)).limit(1).collectAsList().size());
            ExecutorLayers.Stats after = ExecutorLayers.stats();
            assertTrue(after.leasesTaken() > before.leasesTaken());
            assertEquals(after.layersCreated() - before.layersCreated(), after.layersClosed() - before.layersClosed());
        }
    }

    @Test
    void aRowOfTheWrongLengthFailsTheJobNamingTheColumnAndTheLayersAreStillClosed() throws Exception {
        Random random = new Random(8);
        ConvLayer[] layers = twoLayers(random, 4);
        try (Closing closing = closing(layers)) {
            ConvStack stack = ConvStack.of(new int[] {7, 9, 4}, layers);
            float[][] samples = SparkTestSession.samples(random, 10, 252, 0);
            samples[6] = new float[251];
            long openBefore = ExecutorLayers.stats().layersOpen();
            SparkException e = assertThrows(SparkException.class,
                    () -> apply(stack, SparkTestSession.images(samples, 2), f -> f).collectAsList());
            assertTrue(String.valueOf(e.getMessage()).contains(
                    "column 'image' has a row of 251 floats, but the input shape [7, 9, 4] needs 252"), e.getMessage());
            // The other task may still be running when the job reports the failure.
            assertEquals(openBefore, SparkTestSession.await(() -> ExecutorLayers.stats().layersOpen(), openBefore));
        }
    }

    @Test
    void theDriverRefusesAColumnThatIsNotArrayOfFloat() {
        Random random = new Random(9);
        ConvLayer[] layers = twoLayers(random, 4);
        try (Closing closing = closing(layers)) {
            ConvStack stack = ConvStack.of(new int[] {7, 9, 4}, layers);
            Dataset<Row> df = SparkTestSession.images(SparkTestSession.samples(random, 2, 252, 0), 1)
                    .selectExpr("id", "cast(image as array<double>) as image");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new ConvPartitionFunction(SparkTestSession.jsc().broadcast(stack), df.schema(), "image",
                            "out"));
            assertEquals("input column 'image' must be array<float>, got array<double>", e.getMessage());
        }
    }
}

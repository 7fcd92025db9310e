package org.conv4j.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.sum;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.DoubleSupplier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.conv4j.Activation;
import org.conv4j.Conv4j;
import org.conv4j.ConvLayer;
import org.conv4j.Padding;

/**
 * Throughput (images per second) of conv4j inside Spark on local[1] and local[2] against calling
 * the library directly on the same images, so the Spark overhead is known. Not a test: run it with
 * {@code mvn -B -pl java,java/spark -am -DskipTests -Pbench verify} (args: {@code -Dbench.args="images reps"}).
 * Each figure is the median of {@code reps} timed runs after warm-up runs.
 */
public final class SparkThroughputBenchmark {
    private static final int WARMUP = 1;

    public static void main(String[] args) {
        int images = args.length > 0 ? Integer.parseInt(args[0]) : 512;
        int reps = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Random random = new Random(42);
        int[] shape = {32, 32, 3};
        float[][] samples = SparkTestSession.samples(random, images, 32 * 32 * 3, 0);
        System.out.printf(Locale.ROOT, "conv4j %s, native %s (%s), %d cores, Spark %s, %d images of %s, median of %d%n",
                Conv4j.version(), Conv4j.nativeAvailable(), Conv4j.activeIsa(), Runtime.getRuntime().availableProcessors(),
                org.apache.spark.package$.MODULE$.SPARK_VERSION(), images, Arrays.toString(shape), reps);

        // CIFAR-sized first layer, and a 1×1 layer so cheap that what remains is Spark's cost.
        ConvLayer conv3 = ConvLayer.builder(2).filters(16).kernelSize(3, 3).padding(Padding.SAME)
                .activation(Activation.RELU).build();
        conv3.setWeights(SparkTestSession.floats(random, 3 * 3 * 3 * 16), SparkTestSession.floats(random, 16));
        ConvLayer conv1 = ConvLayer.builder(2).filters(3).kernelSize(1, 1).build();
        conv1.setWeights(SparkTestSession.floats(random, 3 * 3), SparkTestSession.floats(random, 3));

        List<String> table = new ArrayList<>() {
            @Override
            public boolean add(String line) {
                System.out.println(line); // as measured, so a long run shows progress
                return super.add(line);
            }
        };
        table.add("| layer | how | images/s | µs/image |");
        table.add("|---|---|---:|---:|");
        for (ConvLayer layer : new ConvLayer[] {conv3, conv1}) {
            String name = layer.config().kernelSize()[0] + "×" + layer.config().kernelSize()[1] + " conv, 3→"
                    + layer.config().filters();
            for (int threads : new int[] {1, 0}) {
                double ips = median(reps, () -> direct(layer, shape, samples, 32, threads));
                table.add(row(name, "library directly, batches of 32, " + (threads == 1 ? "1 thread" : "all cores"), ips));
            }
        }
        for (int cores : new int[] {1, 2}) {
            SparkSession spark = session(cores);
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < samples.length; i++) {
                rows.add(RowFactory.create(i, samples[i]));
            }
            Dataset<Row> df = spark.createDataFrame(rows, SparkTestSession.IMAGES).repartition(2 * cores).cache();
            df.count();
            String local = "Spark local[" + cores + "]";
            table.add(row("none", local + ": read the cached images only", median(reps,
                    () -> timed(images, () -> df.agg(sum(element_at(col("image"), 1))).first()))));
            for (ConvLayer layer : new ConvLayer[] {conv3, conv1}) {
                String name = layer.config().kernelSize()[0] + "×" + layer.config().kernelSize()[1] + " conv, 3→"
                        + layer.config().filters();
                for (Object[] c : new Object[][] {{LayerReuse.EXECUTOR, 32}, {LayerReuse.PARTITION, 32},
                        {LayerReuse.EXECUTOR, 1}}) {
                    if (layer == conv3 && (Integer) c[1] == 1) { // per-call overhead shows on the cheap layer
                        continue;
                    }
                    Conv4jTransformer t = new Conv4jTransformer().setInputCol("image").setOutputCol("features")
                            .setInputShape(shape).setLayers(layer).setLayerReuse((LayerReuse) c[0])
                            .setBatchSize((Integer) c[1]);
                    double ips = median(reps, () -> timed(images,
                            () -> t.transform(df).agg(sum(element_at(col("features"), 1))).first()));
                    table.add(row(name, local + ", " + ((LayerReuse) c[0]).paramName() + " reuse, batches of " + c[1],
                            ips));
                }
            }
            spark.stop();
        }
        // What a set of layers costs to build and tear down: the price of partition reuse per task.
        for (ConvLayer layer : new ConvLayer[] {conv3, conv1}) {
            ConvStack stack = ConvStack.of(shape, layer);
            double perSecond = median(reps, () -> timed(200, () -> {
                for (int i = 0; i < 200; i++) {
                    try (ExecutorLayers.Lease lease = ExecutorLayers.acquire(stack, 1, LayerReuse.PARTITION)) {
                        lease.layers()[0].explain(ConvStack.withBatch(32, shape)); // builds the native plan
                    }
                }
            }));
            System.out.printf(Locale.ROOT, "build + plan + close of %s: %.1f µs%n", layer.config(), 1e6 / perSecond);
        }
        conv3.close();
        conv1.close();
        System.out.println();
        table.forEach(System.out::println);
    }

    private static String row(String layer, String how, double ips) {
        return String.format(Locale.ROOT, "| %s | %s | %,.0f | %,.1f |", layer, how, ips, 1e6 / ips);
    }

    private static SparkSession session(int cores) {
        SparkSession s = SparkSession.builder().master("local[" + cores + "]").appName("conv4j-bench")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", String.valueOf(cores))
                .getOrCreate();
        s.sparkContext().setLogLevel("WARN");
        return s;
    }

    /** Images per second of the library on its own, one predict call per batch. */
    private static double direct(ConvLayer layer, int[] shape, float[][] samples, int batch, int threads) {
        layer.setThreads(threads);
        int size = samples[0].length;
        float[] in = new float[batch * size];
        int[] batchShape = ConvStack.withBatch(batch, shape);
        float[] out = new float[Math.toIntExact(Arrays.stream(layer.outputShape(batchShape)).asLongStream()
                .reduce(1, (a, b) -> a * b))];
        return timed(samples.length - samples.length % batch, () -> {
            for (int i = 0; i + batch <= samples.length; i += batch) {
                for (int k = 0; k < batch; k++) {
                    System.arraycopy(samples[i + k], 0, in, k * size, size);
                }
                layer.predict(in, batchShape, out);
            }
        });
    }

    private static double timed(int images, Runnable run) {
        long t = System.nanoTime();
        run.run();
        return images / ((System.nanoTime() - t) / 1e9);
    }

    private static double median(int reps, DoubleSupplier run) {
        for (int i = 0; i < WARMUP; i++) {
            run.getAsDouble();
        }
        double[] v = new double[reps];
        for (int i = 0; i < reps; i++) {
            v[i] = run.getAsDouble();
        }
        Arrays.sort(v);
        return v[reps / 2];
    }
}

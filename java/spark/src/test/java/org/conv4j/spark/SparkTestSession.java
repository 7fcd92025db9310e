package org.conv4j.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.LongSupplier;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** The one local[2] SparkSession every test class shares (Spark allows one context per JVM), on loopback, quiet. */
final class SparkTestSession {
    private SparkTestSession() {}

    private static SparkSession session;

    static synchronized SparkSession get() {
        if (session == null) {
            session = SparkSession.builder()
                    .master("local[2]")
                    .appName("conv4j-spark-tests")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .config("spark.default.parallelism", "2")
                    .getOrCreate();
            session.sparkContext().setLogLevel("WARN");
        }
        return session;
    }

    static JavaSparkContext jsc() {
        return JavaSparkContext.fromSparkContext(get().sparkContext());
    }

    static final StructType IMAGES = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("image", DataTypes.createArrayType(DataTypes.FloatType, false), true);

    /** Random samples in [-1, 1), with every {@code nullEvery}-th image null (0: none). */
    static float[][] samples(Random random, int count, int sampleSize, int nullEvery) {
        float[][] s = new float[count][];
        for (int i = 0; i < count; i++) {
            if (nullEvery > 0 && i % nullEvery == nullEvery - 1) {
                continue;
            }
            s[i] = new float[sampleSize];
            for (int k = 0; k < sampleSize; k++) {
                s[i][k] = random.nextFloat() * 2 - 1;
            }
        }
        return s;
    }

    /** Rows (id, image) in {@code partitions} partitions. */
    static Dataset<Row> images(float[][] samples, int partitions) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < samples.length; i++) {
            rows.add(RowFactory.create(i, samples[i]));
        }
        return get().createDataFrame(rows, IMAGES).repartition(partitions);
    }

    /** Random floats in [-1, 1). */
    static float[] floats(Random random, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = random.nextFloat() * 2 - 1;
        }
        return a;
    }

    /** The float column of each row, indexed by its id (null where null). */
    static float[][] byId(List<Row> rows, String column, int count) {
        float[][] out = new float[count][];
        for (Row r : rows) {
            int i = r.fieldIndex(column);
            if (!r.isNullAt(i)) {
                List<Float> list = r.getList(i);
                float[] a = new float[list.size()];
                for (int k = 0; k < a.length; k++) {
                    a[k] = list.get(k);
                }
                out[r.<Integer>getAs("id")] = a;
            }
        }
        return out;
    }

    /** Waits up to 30 s for {@code value} to reach {@code expected} (task cleanup after a failed job is asynchronous). */
    static long await(LongSupplier value, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        long v = value.getAsLong();
        while (v != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
            v = value.getAsLong();
        }
        return v;
    }
}

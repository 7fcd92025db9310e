package org.conv4j.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.conv4j.ConvLayer;

/**
 * A Spark ML stage that applies one or more conv4j layers to an {@code array<float>} column (one
 * sample per row, flattened in {@link #inputShape()}) and appends the result as
 * {@link #outputCol()}. Works in a {@link org.apache.spark.ml.Pipeline}; {@link #write()} saves the
 * parameters (layer configurations as Keras-style JSON in {@link #layers()}) and the weights
 * (Parquet under {@code path/weights}), and {@link #load} restores both.
 *
 * <pre>{@code
 * Conv4jTransformer conv = new Conv4jTransformer()
 *         .setInputCol("image").setOutputCol("features")
 *         .setInputShape(32, 32, 3)
 *         .setLayers(layer);                         // configuration and weights copied from a conv4j layer
 * Dataset<Row> out = conv.transform(images);
 * }</pre>
 *
 * <p>{@link #transformSchema} (which {@code transform} and a Pipeline call first) checks the
 * column type and builds every layer once on the driver, so a bad configuration fails there with
 * the library's message before any task runs. Executors run {@link ConvPartitionFunction} over a
 * broadcast {@link ConvStack}; see {@link LayerReuse} for the layers' lifetime. Like every Spark
 * ML stage, an instance is configured by one thread and may then be used by many.
 */
public final class Conv4jTransformer extends Transformer implements MLWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final IntArrayParam inputShape;
    private final Param<String> layers;
    private final Param<String> layerReuse;
    private final IntParam batchSize;
    private final IntParam threadsPerTask;

    /** Kernel and bias per layer; saved beside the params, not in them. */
    private List<ConvStack.Weights> weights = List.of();

    // The validated stack and its broadcast, rebuilt when the params or weights change.
    private transient ConvStack stack;
    private transient String stackSource;
    private transient List<ConvStack.Weights> stackWeights;
    private transient Broadcast<ConvStack> broadcast;
    private transient SparkContext broadcastContext;

    public Conv4jTransformer() {
        this(Identifiable.randomUID("conv4j"));
    }

    /** With a given uid; {@link DefaultParamsReader} needs this constructor. */
    public Conv4jTransformer(String uid) {
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "array<float> column, one flattened sample per row");
        outputCol = new Param<>(this, "outputCol", "output column (array<float>, flattened)");
        inputShape = new IntArrayParam(this, "inputShape",
                "shape of one input sample, without the batch axis, in the first layer's data format");
        layers = new Param<>(this, "layers", "layer configurations, a Keras-style JSON list (see LayerSpec)");
        layerReuse = new Param<>(this, "layerReuse", "native layers per executor JVM shared by concurrent tasks"
                + " (executor) or built per task (partition)",
                ParamValidators.inArray(List.of("executor", "partition")));
        batchSize = new IntParam(this, "batchSize", "samples per native call", ParamValidators.gtEq(1));
        threadsPerTask = new IntParam(this, "threadsPerTask",
                "OpenMP threads per native call; 0 = spark.task.cpus", ParamValidators.gtEq(0));
        setDefault(outputCol, uid + "__output");
        setDefault(layerReuse, "executor");
        setDefault(batchSize, 32);
        setDefault(threadsPerTask, 0);
    }

    @Override
    public String uid() {
        return uid;
    }

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public IntArrayParam inputShape() {
        return inputShape;
    }

    public Param<String> layers() {
        return layers;
    }

    public Param<String> layerReuse() {
        return layerReuse;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public IntParam threadsPerTask() {
        return threadsPerTask;
    }

    public Conv4jTransformer setInputCol(String value) {
        set(inputCol, value);
        return this;
    }

    public Conv4jTransformer setOutputCol(String value) {
        set(outputCol, value);
        return this;
    }

    public Conv4jTransformer setInputShape(int... value) {
        set(inputShape, value.clone());
        return this;
    }

    /** Copies the configurations and current weights of {@code layers} (which stay the caller's to close). */
    public Conv4jTransformer setLayers(ConvLayer... layers) {
        List<LayerSpec> specs = new ArrayList<>();
        List<ConvStack.Weights> w = new ArrayList<>();
        ConvStack.describe(layers, specs, w);
        set(this.layers, LayerSpec.toJson(specs));
        this.weights = List.copyOf(w);
        return this;
    }

    /** Sets the configurations as JSON (see {@link LayerSpec#fromJson}); pair with {@link #setWeights}. */
    public Conv4jTransformer setLayersJson(String json) {
        set(layers, json);
        return this;
    }

    /** Kernel (Keras layout) and bias per layer, in order; copied. */
    public Conv4jTransformer setWeights(List<ConvStack.Weights> weights) {
        List<ConvStack.Weights> copies = new ArrayList<>();
        for (ConvStack.Weights w : Objects.requireNonNull(weights, "weights")) {
            copies.add(new ConvStack.Weights(w.kernel() == null ? null : w.kernel().clone(),
                    w.bias() == null ? null : w.bias().clone()));
        }
        this.weights = List.copyOf(copies);
        return this;
    }

    public Conv4jTransformer setLayerReuse(LayerReuse value) {
        set(layerReuse, value.paramName());
        return this;
    }

    public Conv4jTransformer setBatchSize(int value) {
        set(batchSize, value);
        return this;
    }

    public Conv4jTransformer setThreadsPerTask(int value) {
        set(threadsPerTask, value);
        return this;
    }

    /** The weights as held: do not modify the arrays. */
    public List<ConvStack.Weights> getWeights() {
        return weights;
    }

    /**
     * The validated stack for the current parameters and weights; built (and checked by the
     * library) on the first call after a change.
     */
    public synchronized ConvStack stack() {
        if (!isDefined(inputShape) || !isDefined(layers)) {
            throw new IllegalArgumentException("inputShape and layers must be set (setInputShape, setLayers)");
        }
        String source = Arrays.toString(getOrDefault(inputShape)) + getOrDefault(layers);
        if (stack == null || !source.equals(stackSource) || stackWeights != weights) {
            stack = ConvStack.of(getOrDefault(inputShape), LayerSpec.fromJson(getOrDefault(layers)), weights);
            stackSource = source;
            stackWeights = weights;
            broadcast = null;
        }
        return stack;
    }

    private synchronized Broadcast<ConvStack> broadcast(SparkSession spark) {
        ConvStack s = stack();
        SparkContext sc = spark.sparkContext();
        if (broadcast == null || broadcastContext != sc) {
            // Left to Spark's ContextCleaner once unreachable: a lazy Dataset may still need it.
            broadcast = JavaSparkContext.fromSparkContext(sc).broadcast(s);
            broadcastContext = sc;
        }
        return broadcast;
    }

    @Override
    public StructType transformSchema(StructType schema) {
        ConvPartitionFunction.checkInput(schema, getOrDefault(inputCol));
        return ConvPartitionFunction.outputSchema(schema, getOrDefault(outputCol), stack());
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType schema = transformSchema(dataset.schema(), true);
        ConvPartitionFunction f = new ConvPartitionFunction(broadcast(dataset.sparkSession()), dataset.schema(),
                getOrDefault(inputCol), getOrDefault(outputCol))
                .batchSize((Integer) getOrDefault(batchSize))
                .reuse(LayerReuse.parse(getOrDefault(layerReuse)))
                .threadsPerTask((Integer) getOrDefault(threadsPerTask));
        String out = getOrDefault(outputCol);
        // The row encoder drops column metadata; put the sample shape back.
        return dataset.toDF().mapPartitions(f, f.encoder()).withMetadata(out, schema.apply(out).metadata());
    }

    @Override
    public Conv4jTransformer copy(ParamMap extra) {
        Conv4jTransformer that = new Conv4jTransformer(uid);
        that.weights = weights; // immutable list of arrays nobody modifies
        return copyValues(that, extra);
    }

    @Override
    public MLWriter write() {
        return new Writer(this);
    }

    /** The reader {@link org.apache.spark.ml.Pipeline} and {@code PipelineModel} call by reflection. */
    public static MLReader<Conv4jTransformer> read() {
        return new Reader();
    }

    public static Conv4jTransformer load(String path) {
        return read().load(path);
    }

    private static final StructType WEIGHTS_SCHEMA = new StructType()
            .add("layer", DataTypes.IntegerType, false)
            .add("kernel", DataTypes.createArrayType(DataTypes.FloatType, false), false)
            .add("bias", DataTypes.createArrayType(DataTypes.FloatType, false), true);

    /** Params through Spark's own metadata format (so Pipeline loading finds the class), weights as Parquet. */
    private static final class Writer extends MLWriter {
        private final Conv4jTransformer instance;

        Writer(Conv4jTransformer instance) {
            this.instance = instance;
        }

        @Override
        public void saveImpl(String path) {
            try {
                new DefaultParamsWriter(instance).session(sparkSession()).save(path);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot save the params of " + instance.uid() + " to " + path, e);
            }
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < instance.weights.size(); i++) {
                ConvStack.Weights w = instance.weights.get(i);
                rows.add(RowFactory.create(i, w.kernel(), w.bias()));
            }
            sparkSession().createDataFrame(rows, WEIGHTS_SCHEMA).coalesce(1).write().parquet(weightsPath(path));
        }
    }

    private static final class Reader extends MLReader<Conv4jTransformer> {
        @Override
        public Conv4jTransformer load(String path) {
            Conv4jTransformer t = new DefaultParamsReader<Conv4jTransformer>().session(sparkSession()).load(path);
            List<Row> rows = sparkSession().read().parquet(weightsPath(path)).orderBy("layer").collectAsList();
            List<ConvStack.Weights> w = new ArrayList<>();
            for (Row r : rows) {
                if (r.getInt(0) != w.size()) {
                    throw new IllegalStateException("weights under " + weightsPath(path) + " lack layer " + w.size());
                }
                w.add(new ConvStack.Weights(floats(r, 1), r.isNullAt(2) ? null : floats(r, 2)));
            }
            t.weights = List.copyOf(w);
            return t;
        }

        private static float[] floats(Row r, int i) {
            List<Float> list = r.getList(i);
            float[] a = new float[list.size()];
            for (int k = 0; k < a.length; k++) {
                a[k] = list.get(k);
            }
            return a;
        }
    }

    private static String weightsPath(String path) {
        return new org.apache.hadoop.fs.Path(path, "weights").toString();
    }
}

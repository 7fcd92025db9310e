package org.conv4j.spark;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRow;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.TaskCompletionListener;
import org.conv4j.ConvLayer;

/**
 * For {@code Dataset<Row>.mapPartitions}: applies a broadcast {@link ConvStack} to an
 * {@code array<float>} column (one sample per row, flattened in the stack's input shape) and
 * appends the result as a new {@code array<float>} column. Rows go through the layers in batches of
 * {@link #batchSize} samples; a null input gives a null output.
 *
 * <pre>{@code
 * ConvPartitionFunction f = new ConvPartitionFunction(jsc.broadcast(stack), df.schema(), "image", "features");
 * Dataset<Row> out = df.mapPartitions(f, f.encoder());
 * }</pre>
 *
 * <p>Everything that can be checked is checked in the constructor, on the driver. Each task leases
 * its layers from {@link ExecutorLayers} and releases them from a task-completion listener (also
 * when the task fails or stops reading early); see {@link LayerReuse} for how long they live.
 * Each native call uses {@link #threadsPerTask} OpenMP threads, by default the task's CPUs
 * ({@code spark.task.cpus}, 1 unless set), so tasks × threads never oversubscribe the cores.
 */
public final class ConvPartitionFunction implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final Broadcast<ConvStack> stack;
    private final int inputIndex;
    private final String inputCol;
    private final StructType outputSchema;
    private int batchSize = 32;
    private LayerReuse reuse = LayerReuse.EXECUTOR;
    private int threadsPerTask;

    /**
     * @param stack     the layers, broadcast ({@code JavaSparkContext.broadcast(stack)})
     * @param schema    the schema of the rows the function will see
     * @param inputCol  an {@code array<float>} column holding one sample per row
     * @param outputCol the new column's name
     */
    public ConvPartitionFunction(Broadcast<ConvStack> stack, StructType schema, String inputCol, String outputCol) {
        if (stack == null) {
            throw new IllegalArgumentException("stack must not be null");
        }
        ConvStack s = stack.value(); // the driver's copy: no round trip
        this.stack = stack;
        this.inputCol = inputCol;
        this.inputIndex = checkInput(schema, inputCol);
        this.outputSchema = outputSchema(schema, outputCol, s);
    }

    /** The index of {@code inputCol}; fails unless it exists and is {@code array<float>}. */
    static int checkInput(StructType schema, String inputCol) {
        if (schema == null || inputCol == null) {
            throw new IllegalArgumentException("schema and input column must not be null");
        }
        if (!Arrays.asList(schema.fieldNames()).contains(inputCol)) {
            throw new IllegalArgumentException("input column '" + inputCol + "' does not exist; columns: "
                    + Arrays.toString(schema.fieldNames()));
        }
        DataType t = schema.apply(inputCol).dataType();
        if (!(t instanceof ArrayType a) || !a.elementType().equals(DataTypes.FloatType)) {
            throw new IllegalArgumentException("input column '" + inputCol + "' must be array<float>, got "
                    + t.simpleString());
        }
        return schema.fieldIndex(inputCol);
    }

    /**
     * {@code schema} plus {@code outputCol}: non-null floats, the per-sample shape in its metadata
     * (mapPartitions' row encoder drops metadata; {@link Conv4jTransformer} puts it back).
     */
    static StructType outputSchema(StructType schema, String outputCol, ConvStack stack) {
        if (outputCol == null || outputCol.isEmpty()) {
            throw new IllegalArgumentException("output column must be a non-empty name");
        }
        if (Arrays.asList(schema.fieldNames()).contains(outputCol)) {
            throw new IllegalArgumentException("output column '" + outputCol + "' already exists");
        }
        long[] shape = Arrays.stream(stack.outputSampleShape()).asLongStream().toArray();
        Metadata meta = new MetadataBuilder().putLongArray(SHAPE_METADATA, shape).build();
        return schema.add(new StructField(outputCol, DataTypes.createArrayType(DataTypes.FloatType, false), true,
                meta));
    }

    /** Column metadata key holding the per-sample output shape (batch axis excluded). */
    public static final String SHAPE_METADATA = "conv4j.shape";

    /** Samples per native call (default 32); larger batches amortize the call and copy overhead. */
    public ConvPartitionFunction batchSize(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        this.batchSize = batchSize;
        return this;
    }

    public ConvPartitionFunction reuse(LayerReuse reuse) {
        if (reuse == null) {
            throw new IllegalArgumentException("layer reuse must not be null");
        }
        this.reuse = reuse;
        return this;
    }

    /** OpenMP threads per native call; 0 (default) = the task's CPUs ({@code spark.task.cpus}). */
    public ConvPartitionFunction threadsPerTask(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads per task must be >= 0 (0 = spark.task.cpus), got " + threads);
        }
        this.threadsPerTask = threads;
        return this;
    }

    public StructType outputSchema() {
        return outputSchema;
    }

    /** The encoder for {@code mapPartitions}: rows of {@link #outputSchema()}. */
    public Encoder<Row> encoder() {
        return Encoders.row(outputSchema);
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        TaskContext task = TaskContext.get();
        int threads = threadsPerTask > 0 ? threadsPerTask : task != null ? task.cpus() : 1;
        ExecutorLayers.Lease lease = ExecutorLayers.acquire(stack.value(), threads, reuse);
        if (task != null) {
            // The output iterator is lazy: only task completion knows the layers are no longer used.
            task.addTaskCompletionListener((TaskCompletionListener) context -> lease.close());
        }
        return new Batches(rows, lease, stack.value(), inputIndex, inputCol, batchSize);
    }

    /** Pulls up to batchSize rows, convolves them in one call per layer, hands them out one by one. */
    private static final class Batches implements Iterator<Row> {
        private final Iterator<Row> rows;
        private final ExecutorLayers.Lease lease;
        private final ConvStack stack;
        private final int inputIndex;
        private final String inputCol;
        private final int batchSize;
        private final int inSize;
        private final int outSize;
        private final Row[] pending;
        private final int[] slot; // output slot of each pending row, -1 for a null input
        private float[][] buffers; // per layer boundary, for the current batch length
        private int buffersFor = -1;
        private int count;
        private int next;

        Batches(Iterator<Row> rows, ExecutorLayers.Lease lease, ConvStack stack, int inputIndex, String inputCol,
                int batchSize) {
            this.rows = rows;
            this.lease = lease;
            this.stack = stack;
            this.inputIndex = inputIndex;
            this.inputCol = inputCol;
            this.batchSize = batchSize;
            this.inSize = stack.sampleSize();
            this.outSize = stack.outputSampleSize();
            this.pending = new Row[batchSize];
            this.slot = new int[batchSize];
        }

        @Override
        public boolean hasNext() {
            if (next < count) {
                return true;
            }
            if (!rows.hasNext()) {
                lease.close(); // early release; the listener's close is then a no-op
                return false;
            }
            fill();
            return true;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Row r = pending[next];
            int s = slot[next];
            pending[next] = null;
            next++;
            Object[] values = new Object[r.length() + 1];
            for (int i = 0; i < r.length(); i++) {
                values[i] = r.get(i);
            }
            if (s >= 0) {
                float[] out = buffers[buffers.length - 1];
                values[r.length()] = Arrays.copyOfRange(out, s * outSize, (s + 1) * outSize);
            }
            return new GenericRow(values);
        }

        private void fill() {
            count = 0;
            next = 0;
            int samples = 0;
            while (count < batchSize && rows.hasNext()) {
                Row r = rows.next();
                pending[count] = r;
                slot[count] = r.isNullAt(inputIndex) ? -1 : samples++;
                count++;
            }
            if (samples == 0) {
                return;
            }
            ensureBuffers(samples);
            float[] in = buffers[0];
            for (int i = 0; i < count; i++) {
                if (slot[i] >= 0) {
                    copySample(pending[i].get(inputIndex), in, slot[i] * inSize);
                }
            }
            ConvLayer[] layers = lease.layers();
            int[] shape = ConvStack.withBatch(samples, stack.sampleShape());
            for (int l = 0; l < layers.length; l++) {
                layers[l].predict(buffers[l], shape, buffers[l + 1]);
                shape = layers[l].outputShape(shape);
            }
        }

        /** One float array per layer boundary, sized for {@code samples}; reused while that size holds. */
        private void ensureBuffers(int samples) {
            if (buffersFor == samples) {
                return;
            }
            ConvLayer[] layers = lease.layers();
            buffers = new float[layers.length + 1][];
            int[] shape = ConvStack.withBatch(samples, stack.sampleShape());
            buffers[0] = new float[samples * inSize];
            for (int l = 0; l < layers.length; l++) {
                shape = layers[l].outputShape(shape);
                buffers[l + 1] = new float[Math.toIntExact(count(shape))];
            }
            buffersFor = samples;
        }

        private static long count(int[] shape) {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }

        private void copySample(Object value, float[] dst, int offset) {
            if (value instanceof scala.collection.mutable.ArraySeq.ofFloat unboxed) {
                float[] a = unboxed.array();
                checkLength(a.length);
                System.arraycopy(a, 0, dst, offset, inSize);
            } else if (value instanceof float[] a) {
                checkLength(a.length);
                System.arraycopy(a, 0, dst, offset, inSize);
            } else if (value instanceof scala.collection.Seq<?> seq) {
                checkLength(seq.length());
                for (int i = 0; i < inSize; i++) {
                    dst[offset + i] = element(seq.apply(i), i);
                }
            } else if (value instanceof java.util.List<?> list) {
                checkLength(list.size());
                for (int i = 0; i < inSize; i++) {
                    dst[offset + i] = element(list.get(i), i);
                }
            } else {
                throw new IllegalArgumentException("column '" + inputCol + "' holds a "
                        + value.getClass().getName() + ", not an array of floats");
            }
        }

        private float element(Object v, int i) {
            if (v == null) {
                throw new IllegalArgumentException("column '" + inputCol + "' has a null at index " + i
                        + "; conv4j needs every value");
            }
            return (Float) v;
        }

        private void checkLength(int length) {
            if (length != inSize) {
                throw new IllegalArgumentException("column '" + inputCol + "' has a row of " + length
                        + " floats, but the input shape " + Arrays.toString(stack.sampleShape()) + " needs " + inSize);
            }
        }
    }
}

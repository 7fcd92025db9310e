package org.conv4j.keras;

import org.conv4j.Backend;

/**
 * One Keras layer at inference: its output shape for one sample (channels_last, no batch axis) and
 * the computation from its inputs' arrays into its output array, batch-major. Ops never write into
 * their inputs, so an identity layer may hand on its input's array ({@link #alias}).
 */
abstract class Op {
    final String className;
    final String name;
    int[][] inShapes;
    int[] outShape;
    int outCount;
    long trainable;
    long nonTrainable;
    /** Nodes whose outputs this op reads (set by the graph). */
    int[] inputs;
    /** The nodes the config says it reads (the summary's "Connected to"), before any folding. */
    int[] declaredInputs;

    Op(LayerSpec spec, int[][] inShapes) {
        this.className = spec.className();
        this.name = spec.name();
        this.inShapes = inShapes;
    }

    final Op out(int[] shape, String where) throws KerasModelException {
        this.outShape = shape;
        this.outCount = Shapes.count(shape, where);
        return this;
    }

    /** True when the output is the first input's array, unchanged (identity, reshape). */
    boolean alias() {
        return false;
    }

    /** Computes {@code batch} samples. */
    abstract void run(float[][] in, float[] out, int batch);

    /**
     * Units (output rows) a call of {@code batch} samples splits into for several threads; 0 when
     * the op does not split (KerasModel then calls {@link #run}).
     */
    int units(int batch) {
        return 0;
    }

    /** Computes units {@code [from, to)} of a {@code batch}-sample call; concurrent ranges are disjoint. */
    void runUnits(float[][] in, float[] out, int batch, int from, int to) {
        throw new UnsupportedOperationException(className + " does not split");
    }

    /** Allocates what the op needs to run (native layers); after every check of the file. */
    void open(Backend backend, int threads) {
    }

    void close() {
    }

    final int inCount(int i) {
        int n = 1;
        for (int d : inShapes[i]) {
            n *= d;
        }
        return n;
    }

    final int channels() {
        return outShape[outShape.length - 1];
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.internal.Conv4jNative;
import org.conv4j.internal.NativeStatus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The optimizers' native path (conv4j_sgd_step, conv4j_adam_step over the trainer's native
 * buffers) against the Java array path, its Java-heap allocation, its validation, and the
 * trainer's native path.
 */
class NativeOptimizerTest {
    @BeforeAll
    static void nativeOnly() {
        assumeTrue(Conv4j.nativeAvailable(), "native library not available");
    }

    /** An optimizer factory (state is per optimizer, so each side gets its own) and its learning rate. */
    private record Case(java.util.function.Supplier<Optimizer> make, double lr) {}

    private static List<Case> cases() {
        return List.of(new Case(() -> Optimizer.sgd(0.1, 0), 0.1), new Case(() -> Optimizer.sgd(0.05, 0.9), 0.05),
                new Case(() -> Optimizer.adam(0.01), 0.01), new Case(() -> Optimizer.adam(0.003, 0.5, 0.75, 0.25), 0.003),
                new Case(() -> Optimizer.adam(0.1, 0.0, 0.0, 1e-3), 0.1));
    }

    /**
     * Same formulas in the same float32 order on both sides; the only operation that may round
     * differently is β^t (powf vs Math.pow), one ulp of α, so after t steps a weight may differ by
     * at most t · (2 ulp(|w|) + 2⁻²⁰ · |largest update|) — the update of Adam is at most
     * lr·√(1−β2ᵗ)/(1−β1ᵗ)·|m|/(√v+ε), bounded here by {@code 4 · lr · t} with |g| ≤ 2.
     */
    @Test
    void nativeStepsAgreeWithTheJavaArrayPath() {
        SplittableRandom r = new SplittableRandom(15);
        int[] sizes = {37, 0, 1, 1000, 40_000}; // one past the native serial cutoff (32768)
        for (Case c : cases()) {
            Optimizer javaOpt = c.make().get();
            Optimizer nativeOpt = c.make().get();
            float[][] w = new float[sizes.length][];
            try (NativeOptimizerState state = new NativeOptimizerState(nativeOpt, sizes)) {
                for (int s = 0; s < sizes.length; s++) {
                    w[s] = RandomCase.values(r, sizes[s]);
                    state.setMaster(s, w[s]);
                }
                int identical = 0, total = 0;
                for (long t = 1; t <= 8; t++) {
                    for (int s = 0; s < sizes.length; s++) {
                        float[] g = RandomCase.values(r, sizes[s]);
                        for (int i = 0; i < g.length; i++) {
                            g[i] *= 2;
                        }
                        if (t == 4) {
                            java.util.Arrays.fill(g, 0, g.length / 3, 0f); // zero gradients: epsilon alone
                        }
                        javaOpt.update(s, w[s], g, t);
                        state.setGradient(s, g);
                    }
                    state.step(t, (int) (t % 3)); // 0 = all threads, 1, 2
                    double lr = c.lr();
                    for (int s = 0; s < sizes.length; s++) {
                        float[] got = new float[sizes[s]];
                        state.getMaster(s, got);
                        for (int i = 0; i < got.length; i++) {
                            double bound = t * (2 * Math.ulp(Math.abs(w[s][i])) + Math.scalb(4 * lr * t, -20));
                            double err = Math.abs(got[i] - w[s][i]);
                            if (!(err <= bound)) {
                                throw new AssertionError(javaOpt + " step " + t + " slot " + s + " [" + i
                                        + "]: native " + got[i] + " java " + w[s][i] + " (bound " + bound + ")");
                            }
                            identical += got[i] == w[s][i] ? 1 : 0;
                            total++;
                        }
                    }
                }
                assertTrue(total > 0);
                // Not asserted bit for bit (powf), but nearly all are: a broken formula would not be.
                assertTrue(identical > total * 0.9, javaOpt + ": only " + identical + " of " + total + " identical");
            }
        }
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** The trainer's native update (gradients in, one step, weights out) allocates nothing on the Java heap. */
    @Test
    void steadyStateNativeStepAllocatesNothing() {
        int calls = 20_000;
        int[] sizes = {3 * 3 * 4, 4, 50};
        float[][] g = {new float[36], new float[4], new float[50]};
        float[][] w = {new float[36], new float[4], new float[50]};
        for (Optimizer o : List.of(Optimizer.sgd(1e-3, 0.9), Optimizer.adam(1e-3))) {
            try (NativeOptimizerState state = new NativeOptimizerState(o, sizes)) {
                long[] t = {0};
                Runnable step = () -> {
                    for (int s = 0; s < sizes.length; s++) {
                        state.setGradient(s, g[s]);
                    }
                    state.step(++t[0], 1);
                    for (int s = 0; s < sizes.length; s++) {
                        state.getMaster(s, w[s]);
                    }
                };
                for (int i = 0; i < calls; i++) {
                    step.run();
                }
                long before = allocatedBytes();
                for (int i = 0; i < calls; i++) {
                    step.run();
                }
                long total = allocatedBytes() - before;
                assertTrue(total < calls, o + ": " + total + " bytes in " + calls + " steps");
            }
        }
    }

    @Test
    void badArgumentsAreRefusedInJavaAndInC() {
        try (NativeOptimizerState state = new NativeOptimizerState(Optimizer.adam(0.1), new int[] {3, 2})) {
            String msg = assertThrows(IllegalArgumentException.class, () -> state.setMaster(1, new float[3]))
                    .getMessage();
            assertTrue(msg.contains("parameter 1 has 2 floats, got 3"), msg);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> state.step(0, 1)).getMessage()
                    .contains("step must be >= 1, got 0"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> state.step(1, -1)).getMessage()
                    .contains("threads must be >= 0"));
            state.close();
            state.close();
            assertTrue(assertThrows(IllegalStateException.class, () -> state.step(1, 1)).getMessage()
                    .contains("closed"));
        }
        assertThrows(IllegalArgumentException.class, () -> new NativeOptimizerState(Optimizer.adam(0.1),
                new int[] {-1}));
        // C refuses what Java would have refused, with its own status.
        try (FloatPointer w = new FloatPointer(2); FloatPointer s = new FloatPointer(2);
             FloatPointer g = new FloatPointer(2)) {
            assertEquals(NativeStatus.ERR_INVALID_HYPERPARAMETER.code(),
                    Conv4jNative.conv4j_sgd_step(w, s, g, 2, 0.1, 1.0, 1));
            assertEquals(NativeStatus.ERR_INVALID_HYPERPARAMETER.code(),
                    Conv4jNative.conv4j_adam_step(w, s, s, g, 2, Double.NaN, 0.9, 0.999, 1e-7, 1, 1));
            assertEquals(NativeStatus.ERR_INVALID_HYPERPARAMETER.code(),
                    Conv4jNative.conv4j_adam_step(w, s, s, g, 2, 0.1, 0.9, 0.999, 1e-7, 0, 1));
            assertEquals(NativeStatus.ERR_NULL_POINTER.code(),
                    Conv4jNative.conv4j_sgd_step(w, null, g, 2, 0.1, 0.5, 1));
            assertEquals(NativeStatus.ERR_INVALID_SIZE.code(),
                    Conv4jNative.conv4j_sgd_step(w, s, g, -1, 0.1, 0.5, 1));
        }
    }

    /**
     * A native model trains with its optimizer state in native memory; its weights follow the Java
     * model's (same data, same optimizer) within the bound the two backends' forward and backward
     * passes allow over a few steps; close frees the state and a later step says so.
     */
    @Test
    void nativeTrainerFollowsTheJavaTrainer() {
        SplittableRandom r = new SplittableRandom(4);
        float[] k1 = RandomCase.values(r, 3 * 2 * 4), k2 = RandomCase.values(r, 3 * 4 * 1);
        float[] x = RandomCase.values(r, 8 * 12 * 2), y = RandomCase.values(r, 8 * 12);
        int[] shape = {8, 12, 2};
        float[][] trained = new float[2][];
        for (Backend backend : List.of(Backend.JAVA, Backend.NATIVE)) {
            Conv1D a = Conv1D.builder().filters(4).kernelSize(3).padding(Padding.SAME).activation(Activation.RELU)
                    .backend(backend).build();
            Conv1D b = Conv1D.builder().filters(1).kernelSize(3).padding(Padding.SAME).backend(backend).build();
            a.setWeights(k1, new float[4]);
            b.setWeights(k2, new float[1]);
            try (Sequential m = Sequential.builder().input(12, 2).add(a).add(b).build();
                 Trainer t = Trainer.builder(m).optimizer(Optimizer.adam(0.01)).build()) {
                assertEquals(backend == Backend.NATIVE, t.nativeOptimizer());
                double first = t.step(x, shape, y);
                double last = first;
                for (int i = 0; i < 20; i++) {
                    last = t.step(x, shape, y);
                }
                assertTrue(last < first, backend + ": loss " + first + " -> " + last);
                trained[backend.ordinal() == Backend.JAVA.ordinal() ? 0 : 1] = m.layers().get(0).getWeights().kernel();
                t.close();
                if (backend == Backend.NATIVE) {
                    assertTrue(assertThrows(IllegalStateException.class, () -> t.step(x, shape, y)).getMessage()
                            .contains("closed"));
                }
            }
        }
        // 21 Adam steps of lr 0.01 move a weight by at most 0.21; the two backends' gradients differ
        // only by float rounding, which Adam's normalisation can amplify for tiny m/√v, so the bound
        // is a small fraction of the total movement rather than ulps.
        for (int i = 0; i < trained[0].length; i++) {
            assertEquals(trained[0][i], trained[1][i], 2e-3, "kernel[" + i + "]");
        }
    }

    /**
     * A native model of layers only trains through native buffers (forward maps, dW and db written
     * by each layer's pointer backward into the optimizer's gradient buffer); the same model through
     * Sequential.backward's arrays runs the same plans and passes, so after several steps (two batch
     * shapes, so both cached buffer sets and the eviction run) the weights are the same bits.
     */
    @Test
    void pointerChainEqualsTheArrayPath() {
        SplittableRandom r = new SplittableRandom(21);
        float[] k1 = RandomCase.values(r, 5 * 3 * 6), b1 = RandomCase.values(r, 6);
        float[] k2 = RandomCase.values(r, 3 * 6 * 3), b2 = RandomCase.values(r, 3);
        float[] x = RandomCase.values(r, 10 * 16 * 3);
        float[] y = new float[10 * 3];
        for (int i = 0; i < 10; i++) {
            y[i * 3 + r.nextInt(3)] = 1;
        }
        float[][][] kernels = new float[2][][];
        double[][] losses = new double[2][];
        for (int path = 0; path < 2; path++) {
            Conv1D a = Conv1D.builder().filters(6).kernelSize(5).strides(2).padding(Padding.SAME)
                    .activation(Activation.RELU).backend(Backend.NATIVE).build();
            Conv1D b = Conv1D.builder().filters(3).kernelSize(3).padding(Padding.VALID).backend(Backend.NATIVE).build();
            a.setWeights(k1, b1);
            b.setWeights(k2, b2);
            try (Sequential m = Sequential.builder().input(16, 3).add(a).add(b).build();
                 Trainer t = Trainer.builder(m).loss(Trainer.Loss.CATEGORICAL_CROSSENTROPY)
                         .head(Trainer.Head.GLOBAL_AVERAGE_POOL).optimizer(Optimizer.sgd(0.05, 0.9))
                         .pointerChain(path == 0).seed(3).build()) {
                losses[path] = t.fit(x, new int[] {10, 16, 3}, y, 4, 4).loss(); // batches of 4, 4, 2
                kernels[path] = new float[][] {a.getWeights().kernel(), a.getWeights().bias(),
                        b.getWeights().kernel(), b.getWeights().bias()};
            }
        }
        assertTrue(!java.util.Arrays.equals(kernels[0][0], k1), "the weights did not move");
        for (int i = 0; i < 4; i++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(kernels[1][i], kernels[0][i], "parameter " + i);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(losses[1], losses[0]);
    }

    /** A standalone activation stage is not a layer: the native trainer then takes the array path, and still trains. */
    @Test
    void modelsWithActivationStagesTakeTheArrayPath() {
        SplittableRandom r = new SplittableRandom(5);
        Conv1D a = Conv1D.builder().filters(4).kernelSize(3).padding(Padding.SAME).backend(Backend.NATIVE).build();
        Conv1D b = Conv1D.builder().filters(1).kernelSize(3).padding(Padding.SAME).backend(Backend.NATIVE).build();
        a.setWeights(RandomCase.values(r, 3 * 1 * 4), new float[4]);
        b.setWeights(RandomCase.values(r, 3 * 4), new float[1]);
        float[] x = RandomCase.values(r, 6 * 10), y = RandomCase.values(r, 6 * 10);
        try (Sequential m = Sequential.builder().input(10, 1).add(a).add(Activation.RELU).add(b).build();
             Trainer t = Trainer.builder(m).optimizer(Optimizer.adam(0.02)).build()) {
            assertTrue(t.nativeOptimizer());
            Trainer.History h = t.fit(x, new int[] {6, 10, 1}, y, 10, 3);
            assertTrue(h.last() < h.loss()[0], java.util.Arrays.toString(h.loss()));
        }
    }

    /**
     * The layers stay shareable while a native trainer updates them: another thread predicting with
     * the first layer throughout gets, every time, the output of one whole weight version the
     * trainer pushed (kernel and bias of one step, never a mix), recorded after every step.
     */
    @Test
    void predictDuringTrainingSeesWholeWeightVersions() throws Exception {
        SplittableRandom r = new SplittableRandom(8);
        Conv1D a = Conv1D.builder().filters(4).kernelSize(3).padding(Padding.SAME).activation(Activation.RELU)
                .backend(Backend.NATIVE).threads(1).build();
        Conv1D b = Conv1D.builder().filters(1).kernelSize(3).padding(Padding.SAME).backend(Backend.NATIVE)
                .threads(1).build();
        a.setWeights(RandomCase.values(r, 3 * 2 * 4), RandomCase.values(r, 4));
        b.setWeights(RandomCase.values(r, 3 * 4), RandomCase.values(r, 1));
        float[] x = RandomCase.values(r, 4 * 9 * 2), y = RandomCase.values(r, 4 * 9);
        float[] probe = RandomCase.values(r, 9 * 2);
        int[] shape = {4, 9, 2};
        java.util.Set<String> versions = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.List<float[]> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        try (Sequential m = Sequential.builder().input(9, 2).add(a).add(b).build();
             Trainer t = Trainer.builder(m).optimizer(Optimizer.sgd(0.05, 0.9)).build()) {
            versions.add(java.util.Arrays.toString(a.predict(probe, 1, 9, 2)));
            java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
            Thread reader = new Thread(() -> {
                while (!done.get()) {
                    seen.add(a.predict(probe, 1, 9, 2));
                }
            });
            reader.start();
            try {
                for (int i = 0; i < 60; i++) {
                    t.step(x, shape, y);
                    versions.add(java.util.Arrays.toString(a.predict(probe, 1, 9, 2)));
                }
            } finally {
                done.set(true);
                reader.join();
            }
        }
        assertTrue(versions.size() > 50, "the weights did not change: " + versions.size());
        assertTrue(!seen.isEmpty());
        synchronized (seen) {
            for (float[] out : seen) {
                assertTrue(versions.contains(java.util.Arrays.toString(out)), "a mixed or unknown version: "
                        + java.util.Arrays.toString(out));
            }
        }
    }
}

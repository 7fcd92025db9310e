package org.conv4j;

import org.bytedeco.javacpp.FloatPointer;
import org.conv4j.internal.Conv4jNative;

/**
 * How a {@link Trainer} turns gradients into weight updates: {@link #sgd} (with momentum) or
 * {@link #adam}, with Keras 3's update rules, defaults and float32 order of operations. The same
 * formulas run on Java arrays (the Java backend) and in native memory ({@code conv4j_sgd_step},
 * {@code conv4j_adam_step}, the native backend). An optimizer keeps per-parameter state
 * (velocities, moments), so it belongs to one trainer and is not thread-safe.
 */
public abstract class Optimizer {
    private final java.util.Map<Integer, float[][]> state = new java.util.HashMap<>();

    Optimizer() {}

    /**
     * Keras' SGD: {@code v = v·momentum − g·lr; w += v} (momentum 0: {@code w −= g·lr}, no
     * velocity), in float32. learningRate > 0 and finite, momentum in [0, 1).
     */
    public static Optimizer sgd(double learningRate, double momentum) {
        positive("learning rate", learningRate);
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        float lr = (float) learningRate, mu = (float) momentum; // Keras casts them to the variable's dtype
        return new Optimizer() {
            @Override
            void step(float[][] s, float[] w, float[] g, long t) {
                if (mu == 0f) {
                    for (int i = 0; i < w.length; i++) {
                        w[i] -= g[i] * lr;
                    }
                    return;
                }
                float[] v = s[0];
                for (int i = 0; i < w.length; i++) {
                    v[i] = v[i] * mu - g[i] * lr;
                    w[i] += v[i];
                }
            }

            @Override
            int stateArrays() {
                return mu == 0f ? 0 : 1;
            }

            @Override
            int nativeStep(FloatPointer w, FloatPointer s0, FloatPointer s1, FloatPointer g, long count, long t,
                           int threads) {
                return Conv4jNative.conv4j_sgd_step(w, s0, g, count, learningRate, momentum, threads);
            }

            @Override
            public String toString() {
                return "SGD(learning_rate=" + learningRate + ", momentum=" + momentum + ")";
            }
        };
    }

    /** Adam with Keras' defaults β1 = 0.9, β2 = 0.999, ε = 1e-7. */
    public static Optimizer adam(double learningRate) {
        return adam(learningRate, 0.9, 0.999, 1e-7);
    }

    /**
     * Keras' Adam (no amsgrad), in float32: {@code α = lr·√(1−β2ᵗ)/(1−β1ᵗ); m += (g − m)·(1−β1);
     * v += (g² − v)·(1−β2); w −= (m·α)/(√v + ε)}.
     */
    public static Optimizer adam(double learningRate, double beta1, double beta2, double epsilon) {
        positive("learning rate", learningRate);
        positive("epsilon", epsilon);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta1 and beta2 must be in [0, 1), got " + beta1 + " and " + beta2);
        }
        float lr = (float) learningRate, b1 = (float) beta1, b2 = (float) beta2, eps = (float) epsilon;
        float c1 = (float) (1 - beta1), c2 = (float) (1 - beta2); // Python's 1 - beta, then the cast
        return new Optimizer() {
            @Override
            void step(float[][] s, float[] w, float[] g, long t) {
                float[] m = s[0];
                float[] v = s[1];
                float alpha = lr * (float) Math.sqrt(1f - (float) Math.pow(b2, (float) t))
                        / (1f - (float) Math.pow(b1, (float) t));
                for (int i = 0; i < w.length; i++) {
                    float gi = g[i];
                    m[i] += (gi - m[i]) * c1;
                    v[i] += (gi * gi - v[i]) * c2;
                    w[i] -= (m[i] * alpha) / ((float) Math.sqrt(v[i]) + eps);
                }
            }

            @Override
            int stateArrays() {
                return 2;
            }

            @Override
            int nativeStep(FloatPointer w, FloatPointer s0, FloatPointer s1, FloatPointer g, long count, long t,
                           int threads) {
                return Conv4jNative.conv4j_adam_step(w, s0, s1, g, count, learningRate, beta1, beta2, epsilon, t,
                        threads);
            }

            @Override
            public String toString() {
                return "Adam(learning_rate=" + learningRate + ", beta_1=" + beta1 + ", beta_2=" + beta2
                        + ", epsilon=" + epsilon + ")";
            }
        };
    }

    private static void positive(String name, double v) {
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(name + " must be positive and finite, got " + v);
        }
    }

    /** Updates parameter {@code slot} (its own state) in place; {@code t} counts steps from 1. */
    final void update(int slot, float[] w, float[] g, long t) {
        if (g.length != w.length) {
            throw new IllegalArgumentException("gradient has " + g.length + " floats, the weights " + w.length);
        }
        float[][] s = state.computeIfAbsent(slot, k -> new float[][] {new float[w.length], new float[w.length]});
        step(s, w, g, t);
    }

    abstract void step(float[][] state, float[] w, float[] g, long t);

    /** Native state arrays of {@code count} floats the native step needs (0, 1 or 2). */
    abstract int stateArrays();

    /**
     * The same step on native memory: {@code count} floats from each pointer's position; s0 and s1
     * are the state arrays ({@link #stateArrays} of them, zeroed before the first step, others may
     * be null). Returns the {@code conv4j_status}.
     */
    abstract int nativeStep(FloatPointer w, FloatPointer s0, FloatPointer s1, FloatPointer g, long count, long t,
                            int threads);
}

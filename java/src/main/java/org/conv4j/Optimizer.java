package org.conv4j;

/**
 * How a {@link Trainer} turns gradients into weight updates: {@link #sgd} (with momentum) or
 * {@link #adam}, with Keras' update rules and defaults. An optimizer keeps per-parameter state
 * (velocities, moments), so it belongs to one trainer and is not thread-safe.
 */
public abstract class Optimizer {
    private java.util.Map<Integer, double[][]> state = new java.util.HashMap<>();

    Optimizer() {}

    /**
     * Keras' SGD: {@code v = momentum·v − lr·g; w += v} (momentum 0: {@code w −= lr·g}).
     * learningRate > 0, momentum in [0, 1).
     */
    public static Optimizer sgd(double learningRate, double momentum) {
        positive("learning rate", learningRate);
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        return new Optimizer() {
            @Override
            void step(double[][] s, float[] w, float[] g, long t) {
                double[] v = s[0];
                for (int i = 0; i < w.length; i++) {
                    v[i] = momentum * v[i] - learningRate * g[i];
                    w[i] = (float) (w[i] + v[i]);
                }
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
     * Keras' Adam: {@code m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
     * w −= lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε)}.
     */
    public static Optimizer adam(double learningRate, double beta1, double beta2, double epsilon) {
        positive("learning rate", learningRate);
        positive("epsilon", epsilon);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta1 and beta2 must be in [0, 1), got " + beta1 + " and " + beta2);
        }
        return new Optimizer() {
            @Override
            void step(double[][] s, float[] w, float[] g, long t) {
                double[] m = s[0];
                double[] v = s[1];
                double alpha = learningRate * Math.sqrt(1 - Math.pow(beta2, t)) / (1 - Math.pow(beta1, t));
                for (int i = 0; i < w.length; i++) {
                    m[i] = beta1 * m[i] + (1 - beta1) * g[i];
                    v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
                    w[i] = (float) (w[i] - alpha * m[i] / (Math.sqrt(v[i]) + epsilon));
                }
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
        double[][] s = state.computeIfAbsent(slot, k -> new double[][] {new double[w.length], new double[w.length]});
        step(s, w, g, t);
    }

    abstract void step(double[][] state, float[] w, float[] g, long t);
}

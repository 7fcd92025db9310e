package org.conv4j.keras;

import java.util.Locale;

/**
 * Keras' activation functions at inference, computed in double and rounded once to float. Softmax
 * works on the last axis; the others element by element, in place.
 */
enum Activations {
    LINEAR, RELU, RELU6, LEAKY_RELU, ELU, SELU, SIGMOID, HARD_SIGMOID, TANH, SOFTMAX, SWISH, GELU, SOFTPLUS,
    SOFTSIGN,
    /** Keras 2's hard_sigmoid, clip(0.2x + 0.5, 0, 1); Keras 3's is relu6(x + 3) / 6. */
    HARD_SIGMOID_KERAS2;

    /** Keras' name (also "silu" for swish, "hard_silu" is not here). */
    static Activations parse(String name, String where, boolean keras2) throws KerasModelException {
        Activations a = parse(name, where);
        return keras2 && a == HARD_SIGMOID ? HARD_SIGMOID_KERAS2 : a;
    }

    static Activations parse(String name, String where) throws KerasModelException {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.equals("hard_sigmoid_keras2")) {
            throw new KerasModelException(where + ": activation '" + name + "' is not supported");
        }
        if (n.equals("silu")) {
            return SWISH;
        }
        for (Activations a : values()) {
            if (a.name().toLowerCase(Locale.ROOT).equals(n)) {
                return a;
            }
        }
        throw new KerasModelException(where + ": activation '" + name + "' is not supported (supported: linear,"
                + " relu, relu6, leaky_relu, elu, selu, sigmoid, hard_sigmoid, tanh, softmax, swish/silu, gelu,"
                + " softplus, softsign)");
    }

    String kerasName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Applies to data[0, count) in place; {@code lastAxis} is the size of the last axis (softmax). */
    void apply(float[] data, int count, int lastAxis) {
        switch (this) {
            case LINEAR -> { }
            case SOFTMAX -> softmax(data, count, lastAxis);
            default -> {
                for (int i = 0; i < count; i++) {
                    data[i] = (float) at(data[i]);
                }
            }
        }
    }

    double at(double x) {
        return switch (this) {
            case LINEAR, SOFTMAX -> x;
            case RELU -> x < 0 ? 0 : x; // NaN stays NaN
            case RELU6 -> x < 0 ? 0 : x > 6 ? 6 : x;
            case LEAKY_RELU -> x < 0 ? 0.2 * x : x;
            case ELU -> x > 0 ? x : Math.expm1(x);
            case SELU -> 1.0507009873554805 * (x > 0 ? x : 1.6732632423543772 * Math.expm1(x));
            case SIGMOID -> sigmoid(x);
            case HARD_SIGMOID -> Math.min(Math.max(x / 6 + 0.5, 0), 1);
            case HARD_SIGMOID_KERAS2 -> Math.min(Math.max(0.2 * x + 0.5, 0), 1);
            case TANH -> Math.tanh(x);
            case SWISH -> x * sigmoid(x);
            case GELU -> 0.5 * x * (1 + erf(x / Math.sqrt(2)));
            case SOFTPLUS -> x > 30 ? x : Math.log1p(Math.exp(x));
            case SOFTSIGN -> x / (1 + Math.abs(x));
        };
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    private static void softmax(float[] data, int count, int n) {
        for (int row = 0; row + n <= count; row += n) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = row; i < row + n; i++) {
                max = Math.max(max, data[i]);
            }
            double sum = 0;
            for (int i = row; i < row + n; i++) {
                sum += Math.exp(data[i] - max);
            }
            for (int i = row; i < row + n; i++) {
                data[i] = (float) (Math.exp(data[i] - max) / sum);
            }
        }
    }

    /**
     * erf to double accuracy: its Taylor series below 3 (terms alternate, at most ~20 bits of
     * cancellation there), above it 1 - erfc from the continued fraction, which converges fast.
     */
    static double erf(double x) {
        double a = Math.abs(x);
        double r;
        if (Double.isNaN(x)) {
            return x;
        }
        if (a < 3) {
            double term = a;
            double sum = a;
            double x2 = a * a;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.abs(t) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            r = sum * 2 / Math.sqrt(Math.PI);
        } else if (a > 27) {
            r = 1;
        } else {
            // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...)))))
            double f = a;
            for (int k = 80; k >= 1; k--) {
                f = a + (k / 2.0) / f;
            }
            r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
        }
        return x < 0 ? -r : r;
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The README's small real task: a 1-D conv net learns to tell three kinds of noisy signal apart
 * (a slow sine, a fast sine, a step), trained with {@link Trainer#fit} and measured on held-out
 * signals.
 */
class SignalClassificationTest {
    static final int LENGTH = 64;
    static final int CLASSES = 3;

    /** {@code n} signals [n, 64, 1] with one-hot labels [n, 3]; class i = index % 3. */
    static float[][] signals(SplittableRandom r, int n) {
        float[] x = new float[n * LENGTH];
        float[] y = new float[n * CLASSES];
        for (int s = 0; s < n; s++) {
            int label = s % CLASSES;
            y[s * CLASSES + label] = 1;
            double amplitude = 0.5 + r.nextDouble();
            double phase = r.nextDouble() * 2 * Math.PI;
            double cycles = label == 0 ? 1 + 2 * r.nextDouble() : 8 + 4 * r.nextDouble();
            int step = 8 + r.nextInt(LENGTH - 16);
            for (int t = 0; t < LENGTH; t++) {
                double v = label == 2 ? (t < step ? -amplitude : amplitude) / 2
                        : amplitude * Math.sin(2 * Math.PI * cycles * t / LENGTH + phase);
                x[s * LENGTH + t] = (float) (v + 0.3 * gaussian(r));
            }
        }
        return new float[][] {x, y};
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    static Conv1D layer(SplittableRandom r, int filters, int k, int cin, int stride, Activation act) {
        Conv1D c = Conv1D.builder().filters(filters).kernelSize(k).strides(stride).padding(Padding.SAME)
                .activation(act).build();
        float[] w = new float[k * cin * filters];
        double limit = Math.sqrt(6.0 / (k * cin + k * filters)); // Keras' glorot_uniform
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((r.nextDouble() * 2 - 1) * limit);
        }
        c.setWeights(w, new float[filters]);
        return c;
    }

    static double accuracy(float[] logits, float[] labels) {
        int right = 0, n = labels.length / CLASSES;
        for (int s = 0; s < n; s++) {
            int best = 0, truth = 0;
            for (int c = 1; c < CLASSES; c++) {
                best = logits[s * CLASSES + c] > logits[s * CLASSES + best] ? c : best;
                truth = labels[s * CLASSES + c] > labels[s * CLASSES + truth] ? c : truth;
            }
            right += best == truth ? 1 : 0;
        }
        return (double) right / n;
    }

    @Test
    void aSmallConvNetLearnsToClassifySignals() {
        SplittableRandom r = new SplittableRandom(2026);
        float[][] train = signals(r, 600);
        float[][] test = signals(r, 300);
        try (Sequential model = Sequential.builder().input(LENGTH, 1)
                .add(layer(r, 8, 7, 1, 1, Activation.RELU))
                .add(layer(r, 8, 5, 8, 2, Activation.RELU))
                .add(layer(r, CLASSES, 1, 8, 1, Activation.NONE))
                .build()) {
            List<String> progress = new ArrayList<>();
            Trainer trainer = Trainer.builder(model).loss(Trainer.Loss.CATEGORICAL_CROSSENTROPY)
                    .head(Trainer.Head.GLOBAL_AVERAGE_POOL).optimizer(Optimizer.adam(0.01)).seed(1)
                    .progress(progress::add).build();
            double before = accuracy(trainer.predict(test[0], 300, LENGTH, 1), test[1]);
            long start = System.nanoTime();
            Trainer.History h = trainer.fit(train[0], new int[] {600, LENGTH, 1}, train[1], 15, 32);
            double seconds = (System.nanoTime() - start) / 1e9;
            double after = accuracy(trainer.predict(test[0], 300, LENGTH, 1), test[1]);
            System.out.printf("signal classification: held-out accuracy %.3f before, %.3f after 15 epochs"
                    + " (%.1f s); %s%n", before, after, seconds, progress.get(progress.size() - 1));
            assertTrue(after >= 0.95, "held-out accuracy " + after + ", losses " + java.util.Arrays.toString(h.loss()));
            assertTrue(h.last() < h.loss()[0] / 4, java.util.Arrays.toString(h.loss()));
        }
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sequential.backward, the trainer's losses, heads and optimizers, weight files. */
class TrainerTest {
    @TempDir
    Path dir;

    private static Conv1D conv1d(int filters, int k, int cin, Activation act, Backend backend, SplittableRandom r) {
        Conv1D c = Conv1D.builder().filters(filters).kernelSize(k).padding(Padding.SAME).activation(act)
                .backend(backend).build();
        float[] w = RandomCase.values(r, k * cin * filters);
        double scale = Math.sqrt(2.0 / (k * cin));
        for (int i = 0; i < w.length; i++) {
            w[i] *= (float) scale;
        }
        c.setWeights(w, new float[filters]);
        return c;
    }

    private static List<Backend> backends() {
        return Conv4j.nativeAvailable() ? List.of(Backend.JAVA, Backend.NATIVE) : List.of(Backend.JAVA);
    }

    @Test
    void sequentialBackwardChainsTheLayersBackwardPasses() {
        SplittableRandom r = new SplittableRandom(3);
        for (Backend backend : backends()) {
            Conv1D a = conv1d(4, 3, 2, Activation.RELU, backend, r);
            Conv1D b = conv1d(3, 3, 4, Activation.NONE, backend, r);
            Conv1D c = conv1d(2, 1, 3, Activation.NONE, backend, r);
            try (Sequential m = Sequential.builder().input(10, 2).add(a).add(b).add(Activation.RELU).add(c).build()) {
                int[] shape = {2, 10, 2};
                float[] x = RandomCase.values(r, 40);
                float[] dy = RandomCase.values(r, 2 * 10 * 2);
                Sequential.ModelGradients g = m.backward(x, shape, dy);
                // By hand: forward keeping each map, then each layer's backward in reverse.
                float[] y1 = a.predict(x, shape);
                float[] y2 = b.predict(y1, 2, 10, 4);
                float[] y3 = y2.clone();
                for (int i = 0; i < y3.length; i++) {
                    y3[i] = Math.max(y3[i], 0);
                }
                Gradients gc = c.backward(y3, dy, 2, 10, 3);
                float[] d3 = gc.input().clone();
                for (int i = 0; i < d3.length; i++) {
                    d3[i] = y3[i] > 0 ? d3[i] : 0;
                }
                Gradients gb = b.backward(y1, d3, 2, 10, 4);
                Gradients ga = a.backward(x, gb.input(), shape);
                assertEquals(3, g.layers().size());
                assertArrayEquals(gc.kernel(), g.layers().get(2).kernel());
                assertArrayEquals(gb.kernel(), g.layers().get(1).kernel());
                assertArrayEquals(gb.bias(), g.layers().get(1).bias());
                assertArrayEquals(ga.kernel(), g.layers().get(0).kernel());
                assertArrayEquals(ga.input(), g.input());
                assertTrue(assertThrows(IllegalArgumentException.class, () -> m.backward(x, shape, new float[3]))
                        .getMessage().contains("output gradient has 3 floats"));
            }
        }
    }

    /** dL/db by central differences of evaluate(), against the step SGD takes with lr small. */
    @Test
    void everyLossAndHeadHasTheGradientOfItsValue() {
        SplittableRandom r = new SplittableRandom(5);
        for (Trainer.Loss loss : Trainer.Loss.values()) {
            for (Trainer.Head head : Trainer.Head.values()) {
                for (DataFormat format : DataFormat.values()) {
                    Conv1D conv = Conv1D.builder().filters(3).kernelSize(1).dataFormat(format).backend(Backend.JAVA)
                            .build();
                    float[] w = RandomCase.values(r, 2 * 3);
                    float[] bias = RandomCase.values(r, 3);
                    conv.setWeights(w, bias);
                    int[] shape = format == DataFormat.CHANNELS_LAST ? new int[] {4, 5, 2} : new int[] {4, 2, 5};
                    try (Sequential m = Sequential.builder().input(shape[1], shape[2]).add(conv).build()) {
                        float[] x = RandomCase.values(r, 40);
                        double lr = 1e-3;
                        Trainer t = Trainer.builder(m).loss(loss).head(head).optimizer(Optimizer.sgd(lr, 0)).build();
                        int[] ps = t.predictionShape(shape);
                        float[] targets = targets(r, loss, ps, head == Trainer.Head.NONE ? format : DataFormat.CHANNELS_LAST);
                        double[] numeric = new double[3];
                        for (int co = 0; co < 3; co++) {
                            float h = 1f / 256;
                            float[] bp = bias.clone();
                            bp[co] += h;
                            conv.setWeights(w, bp);
                            double plus = t.evaluate(x, shape, targets);
                            bp[co] -= 2 * h;
                            conv.setWeights(w, bp);
                            double minus = t.evaluate(x, shape, targets);
                            numeric[co] = (plus - minus) / (2 * h);
                        }
                        conv.setWeights(w, bias);
                        t.step(x, shape, targets);
                        float[] after = conv.getWeights().bias();
                        for (int co = 0; co < 3; co++) {
                            double analytic = (bias[co] - after[co]) / lr;
                            assertEquals(numeric[co], analytic, 2e-3 * (1 + Math.abs(numeric[co])),
                                    loss + " " + head + " " + format + " db[" + co + "]");
                        }
                    }
                }
            }
        }
    }

    /** One-hot rows for categorical, 0/1 for binary, values for MSE; the class axis by format. */
    private static float[] targets(SplittableRandom r, Trainer.Loss loss, int[] shape, DataFormat format) {
        int count = 1;
        for (int d : shape) {
            count *= d;
        }
        float[] t = new float[count];
        if (loss == Trainer.Loss.MEAN_SQUARED_ERROR) {
            return RandomCase.values(r, count);
        }
        if (loss == Trainer.Loss.BINARY_CROSSENTROPY) {
            for (int i = 0; i < count; i++) {
                t[i] = r.nextBoolean() ? 1 : 0;
            }
            return t;
        }
        boolean last = format == DataFormat.CHANNELS_LAST;
        int c = last ? shape[shape.length - 1] : shape[1];
        int positions = count / (shape[0] * c);
        for (int b = 0; b < shape[0]; b++) {
            for (int q = 0; q < positions; q++) {
                int k = r.nextInt(c);
                t[last ? (b * positions + q) * c + k : (b * c + k) * positions + q] = 1;
            }
        }
        return t;
    }

    @Test
    void lossValuesAreKerasOnes() {
        Conv1D conv = Conv1D.builder().filters(2).kernelSize(1).useBias(false).backend(Backend.JAVA).build();
        conv.setWeights(new float[] {0, 0}, null); // logits 0 everywhere
        try (Sequential m = Sequential.builder().input(1, 1).add(conv).build()) {
            float[] x = {1};
            int[] shape = {1, 1, 1};
            assertEquals(Math.log(2), Trainer.builder(m).loss(Trainer.Loss.CATEGORICAL_CROSSENTROPY).build()
                    .evaluate(x, shape, new float[] {1, 0}), 1e-12);
            assertEquals(Math.log(2), Trainer.builder(m).loss(Trainer.Loss.BINARY_CROSSENTROPY).build()
                    .evaluate(x, shape, new float[] {1, 0}), 1e-12);
            assertEquals(2.5, Trainer.builder(m).build().evaluate(x, shape, new float[] {1, 2}), 1e-12);
        }
    }

    @Test
    void weightsSavedAfterTrainingLoadBackIntoTheSameLayers() throws Exception {
        SplittableRandom r = new SplittableRandom(8);
        Conv1D a = conv1d(4, 3, 1, Activation.RELU, Backend.JAVA, r);
        Conv1D b = conv1d(1, 3, 4, Activation.NONE, Backend.JAVA, r);
        float[] x = RandomCase.values(r, 16 * 12);
        float[] y = RandomCase.values(r, 16 * 12);
        int[] shape = {16, 12, 1};
        Path file = dir.resolve("model.weights");
        float[] trained;
        try (Sequential m = Sequential.builder().input(12, 1).add(a).add(b).build()) {
            List<String> lines = new ArrayList<>();
            Trainer.History h = Trainer.builder(m).optimizer(Optimizer.adam(0.01)).progress(lines::add).build()
                    .fit(x, shape, y, 5, 4);
            assertEquals(5, h.loss().length);
            assertEquals(5, lines.size());
            assertTrue(lines.get(4).startsWith("epoch 5/5 - loss "), lines.get(4));
            assertTrue(h.last() < h.loss()[0], "loss did not fall: " + java.util.Arrays.toString(h.loss()));
            m.saveWeights(file);
            trained = m.predict(x, shape);
        }
        SplittableRandom other = new SplittableRandom(99);
        try (Sequential fresh = Sequential.builder().input(12, 1)
                .add(conv1d(4, 3, 1, Activation.RELU, Backend.JAVA, other))
                .add(conv1d(1, 3, 4, Activation.NONE, Backend.JAVA, other)).build()) {
            float[] before = fresh.predict(x, shape);
            fresh.loadWeights(file);
            assertArrayEquals(trained, fresh.predict(x, shape));
            assertTrue(!java.util.Arrays.equals(before, trained));
        }
        try (Sequential wrong = Sequential.builder().input(12, 1)
                .add(conv1d(4, 5, 1, Activation.RELU, Backend.JAVA, other))
                .add(conv1d(1, 3, 4, Activation.NONE, Backend.JAVA, other)).build()) {
            float[] before = wrong.predict(x, shape);
            String msg = assertThrows(IllegalArgumentException.class, () -> wrong.loadWeights(file)).getMessage();
            assertTrue(msg.contains("layer 1 kernel shape [3, 1, 4] is not the model's [5, 1, 4]"), msg);
            assertArrayEquals(before, wrong.predict(x, shape));
            Files.write(file, new byte[] {1, 2, 3});
            assertTrue(assertThrows(IllegalArgumentException.class, () -> wrong.loadWeights(file)).getMessage()
                    .contains("not a conv4j weights file"));
        }
    }

    @Test
    void badFitArgumentsNameTheParameter() {
        Conv1D conv = Conv1D.builder().filters(1).kernelSize(1).backend(Backend.JAVA).build();
        conv.setWeights(new float[] {1}, new float[] {0});
        try (Sequential m = Sequential.builder().input(4, 1).add(conv).build()) {
            Trainer t = Trainer.builder(m).build();
            float[] x = new float[8];
            int[] shape = {2, 4, 1};
            assertTrue(assertThrows(IllegalArgumentException.class, () -> t.fit(x, shape, new float[8], 0, 1))
                    .getMessage().contains("epochs"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> t.fit(x, shape, new float[8], 1, 0))
                    .getMessage().contains("batch size"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> t.fit(x, shape, new float[7], 1, 1))
                    .getMessage().contains("targets has 7 floats"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Optimizer.sgd(-1, 0))
                    .getMessage().contains("learning rate"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Optimizer.sgd(0.1, 1))
                    .getMessage().contains("momentum"));
        }
    }
}

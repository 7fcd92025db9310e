package org.conv4j.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.conv4j.Backend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every fixture model, .keras and .h5 (and Keras 2's .h5 layout for two), on both backends, against Keras' float64 run of the same
 * weights. Bound (README, "Keras models"): per output tensor, max |ours − f64| must stay within
 * 4 × the error of Keras' own float32 run, with a floor of 16 ulp(1) × max(1, max |f64|).
 */
class KerasModelTest {
    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String m : Fixtures.MODELS) {
            // .k2.h5: the same model written in Keras 2's legacy layout by the fixture script.
            for (String ext : new String[] {".keras", ".h5", ".k2.h5"}) {
                if (!java.nio.file.Files.exists(Fixtures.file(m + ext))) {
                    continue;
                }
                for (Backend b : Backend.values()) {
                    out.add(Arguments.of(m, ext, b));
                }
            }
        }
        return out;
    }

    static double bound(double[] f64, double[] f32) {
        double keras = 0;
        double scale = 1;
        for (int i = 0; i < f64.length; i++) {
            keras = Math.max(keras, Math.abs(f32[i] - f64[i]));
            scale = Math.max(scale, Math.abs(f64[i]));
        }
        return Math.max(4 * keras, 16 * Math.ulp(1f) * scale);
    }

    @ParameterizedTest(name = "{0}{1} {2}")
    @MethodSource("cases")
    void matchesKerasFloat64(String model, String ext, Backend backend) throws Exception {
        try (KerasModel m = KerasModel.load(Fixtures.file(model + ext), backend, 1)) {
            int nIn = Fixtures.count(model + ".in");
            int nOut = Fixtures.count(model + ".out");
            assertEquals(nIn, m.inputShapes().size());
            assertEquals(nOut, m.outputShapes().size());
            float[][] inputs = new float[nIn][];
            int batch = 0;
            for (int i = 0; i < nIn; i++) {
                Fixtures.Npy x = Fixtures.npy(model + ".in" + i + ".npy");
                batch = x.batch();
                int[] sample = java.util.Arrays.copyOfRange(x.shape(), 1, x.shape().length);
                assertArrayEquals(sample, m.inputShapes().get(i), "input " + i + " shape");
                inputs[i] = Fixtures.floats(x);
            }
            float[][] outputs = m.predict(inputs, batch);
            for (int j = 0; j < nOut; j++) {
                Fixtures.Npy f64 = Fixtures.npy(model + ".out" + j + ".f64.npy");
                Fixtures.Npy f32 = Fixtures.npy(model + ".out" + j + ".f32.npy");
                assertArrayEquals(java.util.Arrays.copyOfRange(f64.shape(), 1, f64.shape().length),
                        m.outputShapes().get(j), "output " + j + " shape");
                assertEquals(f64.data().length, outputs[j].length);
                double bound = bound(f64.data(), f32.data());
                double worst = 0;
                for (int i = 0; i < outputs[j].length; i++) {
                    worst = Math.max(worst, Math.abs(outputs[j][i] - f64.data()[i]));
                }
                System.out.printf("%s%s %s output %d: max |err| %.3g, bound %.3g%n", model, ext, backend, j, worst,
                        bound);
                assertTrue(worst <= bound, model + ext + " " + backend + " output " + j + ": max |err| " + worst
                        + " > bound " + bound);
            }
        }
    }
}

package org.conv4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Both optimizer paths against Keras 3.15.1's own SGD and Adam (optimizer_steps.txt, from
 * tools/keras/make_optimizer_fixtures.py): 6 steps of 48 weights each, compared after every step.
 */
class OptimizerKerasTest {
    private record Step(float[] g, float[] w) {}

    private record Case(String name, Optimizer java, Optimizer forNative, double lr, float[] w0, List<Step> steps) {}

    private static float[] floats(String[] parts, int from) {
        float[] v = new float[parts.length - from];
        for (int i = 0; i < v.length; i++) {
            v[i] = Float.parseFloat(parts[from + i]);
        }
        return v;
    }

    private static Optimizer make(String kind, double lr, double a, double b, double eps) {
        return kind.equals("sgd") ? Optimizer.sgd(lr, a) : Optimizer.adam(lr, a, b, eps);
    }

    private static List<Case> cases() throws Exception {
        var in = OptimizerKerasTest.class.getResourceAsStream("optimizer_steps.txt");
        assertNotNull(in, "optimizer_steps.txt");
        List<Case> cases = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            float[] g = null;
            while ((line = r.readLine()) != null) {
                String[] p = line.trim().split(" ");
                switch (p[0]) {
                    case "case" -> {
                        double lr = Double.parseDouble(p[3]), a = Double.parseDouble(p[4]),
                                b = Double.parseDouble(p[5]), eps = Double.parseDouble(p[6]);
                        cases.add(new Case(p[1], make(p[2], lr, a, b, eps), make(p[2], lr, a, b, eps), lr, null,
                                new ArrayList<>()));
                    }
                    case "w0" -> {
                        Case c = cases.remove(cases.size() - 1);
                        cases.add(new Case(c.name(), c.java(), c.forNative(), c.lr(), floats(p, 1), c.steps()));
                    }
                    case "g" -> g = floats(p, 2);
                    case "w" -> cases.get(cases.size() - 1).steps().add(new Step(g, floats(p, 2)));
                    default -> throw new AssertionError("bad fixture line: " + line);
                }
            }
        }
        assertEquals(4, cases.size());
        return cases;
    }

    /**
     * The bound of NativeOptimizerTest: the float operations are Keras' own, in its order; only β^t
     * may round differently (one ulp of α), so after step t a weight is within t·(2 ulp(|w|) +
     * 2⁻²⁰·4·lr·t) of Keras' (measured: every weight of both paths equals Keras' bit for bit).
     */
    @Test
    void bothPathsFollowKerasStepByStep() throws Exception {
        for (Case c : cases()) {
            float[] w = c.w0().clone();
            NativeOptimizerState state = Conv4j.nativeAvailable()
                    ? new NativeOptimizerState(c.forNative(), new int[] {w.length}) : null;
            try {
                if (state != null) {
                    state.setMaster(0, w);
                }
                float[] got = new float[w.length];
                int identical = 0, total = 0;
                for (int t = 1; t <= c.steps().size(); t++) {
                    Step s = c.steps().get(t - 1);
                    c.java().update(0, w, s.g(), t);
                    identical += check(c.name() + " java", t, c.lr(), w, s.w());
                    total += w.length;
                    if (state != null) {
                        state.setGradient(0, s.g());
                        state.step(t, 1);
                        state.getMaster(0, got);
                        identical += check(c.name() + " native", t, c.lr(), got, s.w());
                        total += w.length;
                    }
                }
                System.out.printf("optimizer %s: %d of %d weights bit-identical to Keras%n", c.name(), identical,
                        total);
                assertTrue(identical > total * 0.9, c.name() + ": only " + identical + " of " + total + " identical");
            } finally {
                if (state != null) {
                    state.close();
                }
            }
        }
    }

    /** Asserts the bound; returns how many weights equal Keras' exactly. */
    private static int check(String what, int t, double lr, float[] got, float[] keras) {
        int identical = 0;
        for (int i = 0; i < got.length; i++) {
            double bound = t * (2 * Math.ulp(Math.abs(keras[i])) + Math.scalb(4 * lr * t, -20));
            assertTrue(Math.abs(got[i] - keras[i]) <= bound, what + " step " + t + " [" + i + "]: " + got[i]
                    + " vs Keras " + keras[i] + " (bound " + bound + ")");
            identical += got[i] == keras[i] ? 1 : 0;
        }
        return identical;
    }
}

package org.conv4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.conv4j.Padding;
import org.conv4j.ReferenceConvolution;
import org.junit.jupiter.api.Test;

/** The suite's teardown check: the tolerance lets rounding through and stops wrong outputs. */
class SuiteTest {
    static final Shape S = new Shape("t", 2, 1, 9, 8, 16, 16, 3, 3, 1, 1, 1, 1, 1, Padding.SAME);

    @Test
    void referenceAgainstItselfAndAgainstAFloatSum() throws Exception {
        float[] ref = ReferenceConvolution.compute(S.geometry(), S.input(), S.kernel(), S.bias());
        assertEquals(0.0, Suite.worstRatio(S, ref, ref.clone()));
        try (OneDnnConv dnn = new OneDnnConv(S, S.kernel(), S.bias(), S.input())) { // a float32 sum
            dnn.run();
            double r = Suite.worstRatio(S, ref, dnn.output());
            assertTrue(r > 0 && r <= 1, "oneDNN's float sum within the bound: " + r);
        }
    }

    @Test
    void wrongOutputsAreMismatches() {
        float[] ref = ReferenceConvolution.compute(S.geometry(), S.input(), S.kernel(), S.bias());
        float[] off = ref.clone();
        off[off.length / 2] += 0.01f; // one output off by about a thirtieth of a typical value
        assertTrue(Suite.worstRatio(S, ref, off) > 1);
        float[] nan = ref.clone();
        nan[0] = Float.NaN;
        assertEquals(Double.POSITIVE_INFINITY, Suite.worstRatio(S, ref, nan));
        assertEquals(Double.POSITIVE_INFINITY, Suite.worstRatio(S, ref, new float[ref.length - 1]));
        assertEquals(Double.POSITIVE_INFINITY, Suite.worstRatio(S, ref, null));
    }
}

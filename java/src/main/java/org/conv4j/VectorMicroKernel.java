package org.conv4j;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link MicroKernel} on the JDK's Vector API (incubator module {@code jdk.incubator.vector}):
 * 6 pixels × 2 vectors of channels, twelve accumulators held in registers, one FMA each per k.
 * Loaded only when the module is in the boot layer (see {@link JavaConvolution}), so the library
 * runs without it.
 */
final class VectorMicroKernel implements MicroKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    static final int ROWS = 6;

    @Override
    public int rows() {
        return ROWS;
    }

    @Override
    public int width() {
        return 2 * L;
    }

    @Override
    public String name() {
        return "vector-" + S.vectorBitSize();
    }

    @Override
    public void finish(float[] acc, float[] bias, int biasOffset, boolean relu, float[] out, int outOffset, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            FloatVector v = FloatVector.fromArray(S, acc, i);
            if (bias != null) {
                v = v.add(FloatVector.fromArray(S, bias, biasOffset + i));
            }
            if (relu) {
                v = v.blend(0f, v.lt(0f)); // NaN and -0 are not < 0 and stay
            }
            v.intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            float v = bias == null ? acc[i] : acc[i] + bias[biasOffset + i];
            out[outOffset + i] = relu && v < 0 ? 0f : v;
        }
    }

    @Override
    public void multiplyAdd(float[] acc, float[] x, int xOffset, float[] w, int wOffset, int n) {
        int i = 0;
        for (int end = S.loopBound(n); i < end; i += L) {
            FloatVector a = FloatVector.fromArray(S, acc, i);
            FloatVector.fromArray(S, x, xOffset + i).fma(FloatVector.fromArray(S, w, wOffset + i), a).intoArray(acc, i);
        }
        for (; i < n; i++) {
            acc[i] = Math.fma(x[xOffset + i], w[wOffset + i], acc[i]);
        }
    }

    @Override
    public Object pack(float[] packed) {
        return packed;
    }

    @Override
    public void run(float[] patch, int patchOffset, int k, Object packedWeights, int weightRow, float[][] acc) {
        float[] weights = (float[]) packedWeights;
        int weightOffset = weightRow * 2 * L;
        FloatVector a00 = FloatVector.zero(S), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        int p0 = patchOffset, p1 = p0 + k, p2 = p1 + k, p3 = p2 + k, p4 = p3 + k, p5 = p4 + k;
        int w = weightOffset;
        for (int i = 0; i < k; i++, w += 2 * L) {
            FloatVector w0 = FloatVector.fromArray(S, weights, w);
            FloatVector w1 = FloatVector.fromArray(S, weights, w + L);
            FloatVector x = FloatVector.broadcast(S, patch[p0 + i]);
            a00 = x.fma(w0, a00);
            a01 = x.fma(w1, a01);
            x = FloatVector.broadcast(S, patch[p1 + i]);
            a10 = x.fma(w0, a10);
            a11 = x.fma(w1, a11);
            x = FloatVector.broadcast(S, patch[p2 + i]);
            a20 = x.fma(w0, a20);
            a21 = x.fma(w1, a21);
            x = FloatVector.broadcast(S, patch[p3 + i]);
            a30 = x.fma(w0, a30);
            a31 = x.fma(w1, a31);
            x = FloatVector.broadcast(S, patch[p4 + i]);
            a40 = x.fma(w0, a40);
            a41 = x.fma(w1, a41);
            x = FloatVector.broadcast(S, patch[p5 + i]);
            a50 = x.fma(w0, a50);
            a51 = x.fma(w1, a51);
        }
        a00.intoArray(acc[0], 0);
        a01.intoArray(acc[0], L);
        a10.intoArray(acc[1], 0);
        a11.intoArray(acc[1], L);
        a20.intoArray(acc[2], 0);
        a21.intoArray(acc[2], L);
        a30.intoArray(acc[3], 0);
        a31.intoArray(acc[3], L);
        a40.intoArray(acc[4], 0);
        a41.intoArray(acc[4], L);
        a50.intoArray(acc[5], 0);
        a51.intoArray(acc[5], L);
    }
}

package org.conv4j;

import java.util.EnumSet;
import java.util.Set;

/**
 * Running a layer whose native algorithm is forced. AUTO, DIRECT and REFERENCE take every valid
 * problem; the specialized algorithms (GEMM, WINOGRAD, DEPTHWISE) may refuse one, which the library
 * reports as an {@link AlgorithmRefusedException} naming the algorithm and the reason. Tests count
 * the accepted cases and assert a minimum, so an algorithm that refuses everything fails instead of
 * passing vacuously.
 */
final class ForcedAlgorithm {
    static final Set<Algorithm> ACCEPTS_EVERYTHING = EnumSet.of(Algorithm.AUTO, Algorithm.DIRECT, Algorithm.REFERENCE);

    private ForcedAlgorithm() {}

    /**
     * {@code layer.predict(input, inputShape)}, or null when {@code algorithm} may refuse and did. Any
     * other exception propagates.
     */
    static float[] predictOrRefusal(ConvLayer layer, Algorithm algorithm, float[] input, int... inputShape) {
        try {
            return layer.predict(input, inputShape);
        } catch (AlgorithmRefusedException e) {
            if (ACCEPTS_EVERYTHING.contains(algorithm) || e.algorithm() != algorithm || e.reason().isEmpty()) {
                throw e;
            }
            return null;
        }
    }
}

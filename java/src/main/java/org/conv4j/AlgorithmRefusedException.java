package org.conv4j;

/**
 * A forced native {@link Algorithm} does not accept a problem (an input shape of a layer, or the
 * layer's weights): the typed form of {@code CONV4J_ERR_UNSUPPORTED}. {@link #reason()} is the
 * native core's rejection text, as its explain line gives it (for example
 * {@code "needs a 3x3 Conv2D kernel"}). Only a forced algorithm can be refused: {@link Algorithm#AUTO}
 * always finds one.
 */
public class AlgorithmRefusedException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final Algorithm algorithm;
    private final String reason;

    AlgorithmRefusedException(Algorithm algorithm, String reason, String problem) {
        super("conv4j: algorithm " + algorithm.cliName() + " refuses " + problem + ": " + reason);
        this.algorithm = algorithm;
        this.reason = reason;
    }

    /** The forced algorithm that refused. */
    public Algorithm algorithm() {
        return algorithm;
    }

    /**
     * Why, in the native core's words; when the algorithm has several variants (GEMM: {@code gemm_1x1}
     * and {@code igemm}), each variant's reason prefixed with its name, separated by "; ".
     */
    public String reason() {
        return reason;
    }
}

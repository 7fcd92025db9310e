package org.conv4j.bench;

import org.conv4j.Backend;

/**
 * conv4j native with Winograd forced (the opt-in: {@code .algorithm(WINOGRAD).winograd(true)}),
 * on the shapes Winograd takes (3×3, stride 1, ≥ 16 channels); setup fails on the others. Its
 * figures are effective GFLOP/s (the direct formula's count over Winograd's time) from an
 * algorithm less accurate than a direct sum; the report keeps them apart from the default's.
 */
public class Conv4jWinogradBench extends Conv4jLayerBench {
    public Conv4jWinogradBench() {
        super(Backend.NATIVE, "winograd", true);
    }
}

package org.conv4j.bench;

import org.conv4j.Backend;

/**
 * conv4j's native backend through the public layer API, as a user calls it: threads set on the
 * layer, input and output in the caller's {@code float[]} (pinned, not copied), so a call
 * allocates nothing.
 */
public class Conv4jNativeBench extends Conv4jLayerBench {
    public Conv4jNativeBench() {
        super(Backend.NATIVE, "conv4j");
    }
}

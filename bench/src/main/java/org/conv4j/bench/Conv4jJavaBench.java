package org.conv4j.bench;

import org.conv4j.Backend;

/**
 * conv4j's pure-Java backend through the layer API ({@code Backend.JAVA}, threads set on the
 * layer): whatever that backend is in this build, i.e. the optimized Java path once it lands.
 */
public class Conv4jJavaBench extends Conv4jLayerBench {
    public Conv4jJavaBench() {
        super(Backend.JAVA, "java");
    }
}

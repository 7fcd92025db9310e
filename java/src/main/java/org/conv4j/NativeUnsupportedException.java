package org.conv4j;

/**
 * The native library in use has no pass for this layer yet (a rank-3 or transposed layer on a
 * build without those kernels): nothing ran. The Java backend ({@link Backend#JAVA}) computes
 * every layer.
 */
public class NativeUnsupportedException extends UnsupportedOperationException {
    private static final long serialVersionUID = 1L;

    NativeUnsupportedException(String message) {
        super(message);
    }
}

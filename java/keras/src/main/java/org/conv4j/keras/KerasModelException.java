package org.conv4j.keras;

import java.io.IOException;

/**
 * A Keras model file that conv4j refuses or cannot read: an unknown or custom layer, an option it
 * does not implement, a dtype other than float32, a malformed, truncated or oversized file. The
 * message names the layer (class and name) or the part of the file. Thrown before any native
 * memory is allocated for the model.
 */
public final class KerasModelException extends IOException {
    private static final long serialVersionUID = 1L;

    public KerasModelException(String message) {
        super(message);
    }

    public KerasModelException(String message, Throwable cause) {
        super(message, cause);
    }
}

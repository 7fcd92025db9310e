package org.conv4j.cli.npy;

import java.io.IOException;

/** A file that is not a readable float32 .npy array; the message says what is wrong with it. */
public final class NpyFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public NpyFormatException(String message) {
        super(message);
    }
}

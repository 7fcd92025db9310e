package org.conv4j.cli;

/** A problem the user can fix (bad arguments or files); its message is shown as is. */
final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CliException(String message) {
        super(message);
    }
}

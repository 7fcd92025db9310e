package org.conv4j.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import org.conv4j.cli.npy.NpyFormatException;
import org.conv4j.keras.KerasModelException;

/** Words for failures: the user's mistakes as their message, anything else named for what it is. */
final class ErrorMessages {
    private ErrorMessages() {
    }

    static String describe(Throwable t) {
        if (t instanceof ExceptionInInitializerError && t.getCause() != null) {
            return describe(t.getCause()); // e.g. a bad system property seen while the library initialises
        }
        if (t instanceof CliException || t instanceof NpyFormatException || t instanceof KerasModelException
                || t instanceof IllegalArgumentException || t instanceof IllegalStateException) {
            return messageOrName(t);
        }
        if (t instanceof NoSuchFileException) {
            return "no such file or directory: " + ((NoSuchFileException) t).getFile();
        }
        if (t instanceof AccessDeniedException) {
            return "permission denied: " + ((AccessDeniedException) t).getFile();
        }
        if (t instanceof NotDirectoryException) {
            return "not a directory: " + ((NotDirectoryException) t).getFile();
        }
        if (t instanceof FileAlreadyExistsException) {
            return "already exists: " + ((FileAlreadyExistsException) t).getFile();
        }
        if (t instanceof FileSystemException) {
            FileSystemException e = (FileSystemException) t;
            return e.getFile() + ": " + (e.getReason() != null ? e.getReason() : t.getClass().getSimpleName());
        }
        if (t instanceof java.io.IOException) {
            return "I/O error: " + messageOrName(t);
        }
        if (t instanceof OutOfMemoryError) {
            return "out of memory (" + messageOrName(t) + "); give the JVM more heap, e.g. java -Xmx4g -jar ...";
        }
        return "internal error: " + t;
    }

    /** Like {@link #describe} but without repeating the file name, for messages that already give it. */
    static String reasonForFile(java.io.IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
            return ((FileSystemException) e).getReason();
        }
        return describe(e);
    }

    private static String messageOrName(Throwable t) {
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
    }
}

package org.conv4j.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file so that it appears complete or not at all: the bytes go to a hidden temporary file
 * in the target's directory (same file system, so the rename is atomic), which replaces the
 * target only after everything was written and flushed.
 */
final class AtomicFiles {
    interface Writer {
        void writeTo(FileChannel channel) throws IOException;
    }

    private AtomicFiles() {
    }

    /** The directory a file will be created in, checked before any expensive work starts. */
    static Path checkWritableTarget(Path target) {
        Path absolute = target.toAbsolutePath();
        if (Files.isDirectory(absolute)) {
            throw new CliException("output " + target + " is a directory");
        }
        Path dir = absolute.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new CliException("output directory " + (dir == null ? "(none)" : dir) + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new CliException("output directory " + dir + " is not writable");
        }
        return dir;
    }

    static void write(Path target, Writer writer) throws IOException {
        Path dir = checkWritableTarget(target);
        Path temp = createTemp(dir, target.getFileName().toString());
        temp.toFile().deleteOnExit(); // also on Ctrl-C while writing; a no-op once renamed
        boolean done = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                writer.writeTo(channel);
                channel.force(true);
            }
            Files.move(temp, target.toAbsolutePath(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(temp);
            }
        }
    }

    /** Not Files.createTempFile: that makes the file owner-only, and the result should get the usual umask mode. */
    private static Path createTemp(Path dir, String name) throws IOException {
        for (int attempt = 0; ; attempt++) {
            long tag = ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE;
            Path temp = dir.resolve("." + name + "." + Long.toString(tag, 36) + ".tmp");
            try {
                Files.newByteChannel(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return temp;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }
}

package org.conv4j.cli;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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

    /**
     * The file that will be replaced, checked before any expensive work starts: a symbolic link is
     * followed (the link stays, its target is replaced), and anything that exists but is not a
     * regular file is refused, since the atomic rename would replace a device or pipe with a file.
     */
    static Path checkWritableTarget(Path target) {
        Path absolute = target.toAbsolutePath();
        if (Files.isSymbolicLink(absolute)) {
            try {
                absolute = absolute.toRealPath();
            } catch (IOException e) {
                throw new CliException("output " + target + " is a symbolic link that leads nowhere ("
                        + ErrorMessages.reasonForFile(e) + ")");
            }
        }
        if (Files.isDirectory(absolute)) {
            throw new CliException("output " + target + " is a directory");
        }
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(absolute)) {
            throw new CliException("output " + target + " is not a regular file (a device, pipe or socket);"
                    + " conv4j replaces its output atomically, so give a regular file or a new name");
        }
        Path dir = absolute.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new CliException("output directory " + (dir == null ? "(none)" : dir) + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new CliException("output directory " + dir + " is not writable");
        }
        return absolute;
    }

    static void write(Path target, Writer writer) throws IOException {
        Path resolved = checkWritableTarget(target);
        Path dir = resolved.getParent();
        Path temp;
        try {
            temp = createTemp(dir, resolved.getFileName().toString());
        } catch (IOException e) {
            throw new CliException("cannot create output " + target + " in " + dir + ": "
                    + ErrorMessages.reasonForFile(e));
        }
        temp.toFile().deleteOnExit(); // also on Ctrl-C while writing; a no-op once renamed
        boolean done = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                writer.writeTo(channel);
                channel.force(true);
            }
            Files.move(temp, resolved, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
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

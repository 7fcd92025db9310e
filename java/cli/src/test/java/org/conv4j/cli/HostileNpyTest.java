package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.conv4j.cli.npy.Npy;
import org.conv4j.cli.npy.NpyArray;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile files through every door of {@code conv}: each as --input, --kernel and --bias in turn,
 * and hostile output paths. Every case must end with exit status 2, exactly one
 * "conv4j: error:" line on stderr naming the problem, no stack trace, and no output file or
 * temporary file left behind. Big-endian float32 is converted and accepted (ConvCommandTest);
 * float64 of either byte order is refused by name rather than narrowed silently.
 */
class HostileNpyTest {
    @TempDir
    Path dir;

    private Path x;
    private Path k;
    private Path b;
    private Path out;

    @BeforeEach
    void validFiles() throws IOException {
        x = write("x.npy", new float[1 * 5 * 5 * 2], 1, 5, 5, 2);
        k = write("k.npy", new float[3 * 3 * 2 * 4], 3, 3, 2, 4);
        b = write("b.npy", new float[4], 4);
        out = dir.resolve("out.npy");
    }

    private Path write(String name, float[] data, int... shape) throws IOException {
        Path p = dir.resolve(name);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            Npy.write(ch, new NpyArray(data, shape));
        }
        return p;
    }

    /** A file with the given format version, header dict (padded as numpy pads it) and data. */
    private Path raw(String name, int major, String dict, int dataBytes) throws IOException {
        int preamble = major == 1 ? 10 : 12;
        int padded = (preamble + dict.length() + 1 + 63) / 64 * 64;
        String header = dict + " ".repeat(padded - preamble - dict.length() - 1) + "\n";
        ByteBuffer buffer = ByteBuffer.allocate(padded + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            buffer.putShort((short) header.length());
        } else {
            buffer.putInt(header.length());
        }
        buffer.put(header.getBytes(StandardCharsets.ISO_8859_1));
        Path p = dir.resolve(name);
        Files.write(p, buffer.array());
        return p;
    }

    private static String dict(String descr, boolean fortran, String shape) {
        return "{'descr': " + descr + ", 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape
                + ", }";
    }

    /** Runs conv with the hostile file in each input role; returns the error lines. */
    private List<String> refusedInEveryRole(Path hostile) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int role = 0; role < 3; role++) {
            Path in = role == 0 ? hostile : x;
            Path kernel = role == 1 ? hostile : k;
            Path bias = role == 2 ? hostile : b;
            CliRun r = CliRun.of("conv", "--rank", "2", "--input", in.toString(), "--kernel", kernel.toString(),
                    "--bias", bias.toString(), "--output", out.toString());
            String line = r.assertOneLineError();
            String option = role == 0 ? "--input" : role == 1 ? "--kernel" : "--bias";
            assertTrue(line.contains(option), option + " not named: " + line);
            lines.add(line);
            assertNoOutput();
        }
        return lines;
    }

    private void assertNoOutput() throws IOException {
        assertFalse(Files.exists(out, LinkOption.NOFOLLOW_LINKS), "output left behind");
        try (Stream<Path> s = Files.list(dir)) {
            List<String> temps = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
            assertEquals(List.of(), temps, "temporary files left behind");
        }
    }

    private void assertAllContain(List<String> lines, String... parts) {
        for (String line : lines) {
            for (String part : parts) {
                assertTrue(line.contains(part), "'" + line + "' should say '" + part + "'");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"'<f8'", "'>f8'", "'<i4'", "'|u1'", "'<f2'", "'|b1'", "'<c8'", "[('a', '<f4')]"})
    void otherDtypesAreRefusedByName(String descr) throws IOException {
        Path p = raw("dtype.npy", 1, dict(descr, false, "(4,)"), 64);
        assertAllContain(refusedInEveryRole(p), "unsupported dtype", "only float32");
    }

    @Test
    void fortranOrderIsRefused() throws IOException {
        Path p = raw("fortran.npy", 1, dict("'<f4'", true, "(1, 5, 5, 2)"), 200);
        assertAllContain(refusedInEveryRole(p), "Fortran-order");
    }

    @Test
    void truncatedDataAndFilesAreRefused() throws IOException {
        assertAllContain(refusedInEveryRole(raw("short.npy", 1, dict("'<f4'", false, "(1, 5, 5, 2)"), 199)),
                "truncated data");
        byte[] whole = Files.readAllBytes(x);
        for (int length : new int[] {0, 5, 9, 30}) {
            Path p = dir.resolve("cut" + length + ".npy");
            Files.write(p, java.util.Arrays.copyOf(whole, length));
            assertAllContain(refusedInEveryRole(p), "truncated");
        }
    }

    @Test
    void headersThatLieAboutTheShapeAreRefused() throws IOException {
        // More data than the shape accounts for, and less.
        assertAllContain(refusedInEveryRole(raw("more.npy", 1, dict("'<f4'", false, "(1, 5, 5, 1)"), 200)),
                "accounts for only 100");
        assertAllContain(refusedInEveryRole(raw("less.npy", 1, dict("'<f4'", false, "(1, 5, 5, 4)"), 200)),
                "truncated data", "needs 400");
        // A shape far beyond any array, refused before anything is allocated.
        assertAllContain(refusedInEveryRole(raw("huge.npy", 1, dict("'<f4'", false, "(1099511627776, 5, 5, 2)"),
                200)), "too large");
        assertAllContain(refusedInEveryRole(raw("big.npy", 1, dict("'<f4'", false, "(65536, 65536)"), 200)),
                "more elements than a Java array can hold");
        assertAllContain(refusedInEveryRole(raw("neg.npy", 1, dict("'<f4'", false, "(-1, 5)"), 200)),
                "negative dimension");
    }

    @Test
    void megabyteHeadersAreRefused() throws IOException {
        // A real 3 MiB header (version 2.0), and a small file whose header length claims 5 MiB.
        Path real = raw("mb.npy", 2, dict("'<f4'", false, "(1, 5, 5, 2)") + " ".repeat(3 << 20), 200);
        assertAllContain(refusedInEveryRole(real), "exceeds the limit of " + Npy.MAX_HEADER_BYTES);
        Path claim = raw("claim.npy", 2, dict("'<f4'", false, "(1, 5, 5, 2)"), 200);
        byte[] bytes = Files.readAllBytes(claim);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 5 << 20);
        Files.write(claim, bytes);
        assertAllContain(refusedInEveryRole(claim), "header length 5242880 exceeds");
        // Deep nesting in a header within the limit: no stack overflow, a message.
        Path nested = raw("nested.npy", 2, dict("'<f4'", false, "(".repeat(200_000) + ")".repeat(200_000)), 200);
        assertAllContain(refusedInEveryRole(nested), "nesting deeper than");
    }

    @Test
    void missingFilesDirectoriesAndPipesAreRefused() throws Exception {
        assertAllContain(refusedInEveryRole(dir.resolve("missing.npy")), "no such file");
        Path sub = Files.createDirectory(dir.resolve("sub.npy"));
        assertAllContain(refusedInEveryRole(sub), "is a directory");
        // A named pipe would block a read forever.
        Path fifo = mkfifo("pipe.npy");
        assertAllContain(refusedInEveryRole(fifo), "not a regular file");
    }

    private Path mkfifo(String name) throws Exception {
        Path fifo = dir.resolve(name);
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, p.waitFor(), "mkfifo");
        return fifo;
    }

    private CliRun convTo(Path output) {
        return CliRun.of("conv", "--rank", "2", "--input", x.toString(), "--kernel", k.toString(), "--bias",
                b.toString(), "--output", output.toString());
    }

    @Test
    void unwritableOutputPathsAreRefusedWithoutLeftovers() throws Exception {
        // The parent is a regular file; the output is a directory; the directory is missing.
        assertTrue(convTo(x.resolve("out.npy")).assertOneLineError().contains("does not exist"));
        Path sub = Files.createDirectory(dir.resolve("sub"));
        assertTrue(convTo(sub).assertOneLineError().contains("is a directory"));
        assertTrue(convTo(dir.resolve("none").resolve("out.npy")).assertOneLineError().contains("does not exist"));
        // A directory no file can be created in, even by root: procfs.
        String line = convTo(Path.of("/proc/conv4j-hostile-test.npy")).assertOneLineError();
        assertTrue(line.contains("cannot create output /proc/conv4j-hostile-test.npy")
                || line.contains("output directory /proc is not writable"), line);
        assertNoOutput();
        assertArrayEquals(new String[] {"b.npy", "k.npy", "sub", "x.npy"}, names());
    }

    /** Found while testing: the atomic rename replaced a device or pipe (e.g. /dev/null, as root) with a file. */
    @Test
    void outputThatIsNotARegularFileIsLeftAlone() throws Exception {
        Path fifo = mkfifo("out-pipe.npy");
        assertTrue(convTo(fifo).assertOneLineError().contains("not a regular file"));
        assertTrue(Files.exists(fifo) && !Files.isRegularFile(fifo), "the pipe was replaced");
    }

    @Test
    void outputThroughASymbolicLinkReplacesTheTargetAndKeepsTheLink() throws Exception {
        Path target = dir.resolve("real.npy");
        Files.writeString(target, "previous");
        Path link = Files.createSymbolicLink(dir.resolve("link.npy"), target);
        CliRun r = convTo(link);
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.isSymbolicLink(link), "the link itself was replaced");
        assertArrayEquals(new int[] {1, 3, 3, 4}, Npy.read(target).shape());
        Path dangling = Files.createSymbolicLink(dir.resolve("dangling.npy"), dir.resolve("nowhere/x.npy"));
        assertTrue(convTo(dangling).assertOneLineError().contains("symbolic link that leads nowhere"));
    }

    private String[] names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }
}

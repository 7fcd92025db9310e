package org.conv4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.conv4j.Conv4j;
import org.conv4j.Padding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The bench command: shapes file parsing, csv and table output, and one-line errors. */
class BenchCommandTest {
    private static final List<String> NAMES = List.of("seed1d", "seed2d", "small_3x3", "small_dw_s2", "small_causal");

    @TempDir
    Path dir;

    private static Path fixture() throws URISyntaxException {
        return Path.of(BenchCommandTest.class.getResource("/bench-shapes-small.csv").toURI());
    }

    private Path file(String... lines) throws IOException {
        Path p = dir.resolve("shapes.csv");
        Files.write(p, List.of(lines));
        return p;
    }

    private static final String HEADER = "name,dims,N,H,W,Cin,Cout,KH,KW,SH,SW,DH,DW,groups,padding";

    @Test
    void theRepositorysShapesFileIsWhatTheReadmeNames() {
        List<BenchShapes.Shape> shapes = BenchShapes.read(Path.of("../../bench/shapes.csv"));
        assertEquals(13, shapes.size());
        assertEquals("seed1d", shapes.get(0).name());
        assertEquals("r50_conv1", shapes.get(2).name());
    }

    @Test
    void shortCallsAreRepeatedWithinARunSoSpreadsMeasureCallsNotTheClock() {
        assertEquals(1, BenchCommand.callsPerRun(25e6), "a 25 ms call is one call per run");
        assertEquals(1, BenchCommand.callsPerRun(10e6));
        assertEquals(20, BenchCommand.callsPerRun(0.5e6));
        assertEquals(33_334, BenchCommand.callsPerRun(300), "a 0.3 µs call: enough calls for 10 ms");
        assertEquals(1_000_000, BenchCommand.callsPerRun(1), "capped");
        assertEquals(1, BenchCommand.callsPerRun(0));
        assertEquals(1, BenchCommand.callsPerRun(Double.NaN));
    }

    @Test
    void parsesCommentsHeaderAndRows() throws Exception {
        List<BenchShapes.Shape> shapes = BenchShapes.read(fixture());
        assertEquals(NAMES, shapes.stream().map(BenchShapes.Shape::name).toList());
        BenchShapes.Shape dw = shapes.get(3);
        assertEquals(List.of(2, 2, 10, 10, 8, 8, 3, 3, 2, 2, 1, 1, 8), List.of(dw.dims(), dw.n(), dw.h(), dw.w(),
                dw.cin(), dw.cout(), dw.kh(), dw.kw(), dw.sh(), dw.sw(), dw.dh(), dw.dw(), dw.groups()));
        assertEquals(Padding.SAME, dw.padding());
        BenchShapes.Shape causal = shapes.get(4);
        assertEquals(Padding.CAUSAL, causal.padding());
        assertEquals(List.of(1, 64, 4), List.of(causal.inputShape()[0], causal.inputShape()[1], causal.inputShape()[2]));
        assertEquals(2, causal.dilation()[0]);
        assertTrue(dw.where().endsWith("bench-shapes-small.csv:8"), dw.where());
    }

    @Test
    void numbersKeepFourSignificantDigits() {
        assertEquals("0.000008527", BenchCommand.plain(8.52716e-6));
        assertEquals("75.99", BenchCommand.plain(75.9913));
        assertEquals("1235", BenchCommand.plain(1234.6));
        assertEquals("100", BenchCommand.plain(100));
    }

    @Test
    void columnsMayComeInAnyOrder() {
        List<BenchShapes.Shape> shapes = BenchShapes.parse("x", List.of(
                "padding,name,dims,N,H,W,Cin,Cout,KH,KW,SH,SW,DH,DW,groups", "same, a ,2,1,5,6,4,8,3,3,1,1,1,1,2"));
        assertEquals("a", shapes.get(0).name());
        assertEquals(6, shapes.get(0).w());
        assertEquals(2, shapes.get(0).groups());
    }

    /** Runs bench in csv and returns the data rows, checking the header and each row's form. */
    private static List<String[]> csvRows(CliRun r, String backend, int threads) {
        return csvRows(r, backend, threads, NAMES);
    }

    private static final List<String> NATIVE_ALGORITHMS = List.of("gemm", "winograd", "direct", "depthwise",
            "reference");

    private static List<String[]> csvRows(CliRun r, String backend, int threads, List<String> names) {
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err(), "no progress bar without a terminal");
        String[] lines = r.out().split("\\R");
        assertEquals("name,threads,backend,median_ms,gflops,algorithm", lines[0]);
        assertEquals(BenchCommand.CSV_HEADER, lines[0]);
        assertEquals(names.size() + 1, lines.length, r.out());
        List<String[]> rows = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            String[] cells = lines[i].split(",", -1);
            assertEquals(6, cells.length, lines[i]);
            assertEquals(names.get(i - 1), cells[0]);
            assertEquals(Integer.toString(threads), cells[1], lines[i]);
            assertEquals(backend, cells[2]);
            if (cells[5].equals("unsupported")) {
                assertEquals("", cells[3], lines[i]);
                assertEquals("", cells[4], lines[i]);
                rows.add(cells);
                continue;
            }
            if (backend.equals("java")) {
                assertEquals("java", cells[5], lines[i]);
            } else {
                assertTrue(NATIVE_ALGORITHMS.contains(cells[5]), lines[i]);
            }
            double ms = Double.parseDouble(cells[3]);
            double gflops = Double.parseDouble(cells[4]);
            assertTrue(ms > 0 && Double.isFinite(ms), lines[i]);
            assertTrue(gflops > 0 && Double.isFinite(gflops), lines[i]);
            assertTrue(cells[3].matches("\\d+(\\.\\d+)?") && cells[4].matches("\\d+(\\.\\d+)?"), lines[i]);
            rows.add(cells);
        }
        return rows;
    }

    @Test
    void csvHasOneRowPerShapeWithDotDecimalsInAnyLocale() throws Exception {
        Locale saved = Locale.getDefault();
        try {
            Locale.setDefault(Locale.GERMANY); // would print 0,1234 if the locale leaked in
            csvRows(CliRun.of("bench", "--shapes", fixture().toString(), "--format", "csv", "--repeats", "2",
                    "--backend", "java", "--threads", "1"), "java", 1);
        } finally {
            Locale.setDefault(saved);
        }
    }

    @Test
    void defaultsAreAllThreadsAndTheDefaultBackend() throws Exception {
        String backend = Conv4j.defaultBackend().cliName();
        int threads = Conv4j.nativeAvailable() ? Conv4j.maxThreads() : Runtime.getRuntime().availableProcessors();
        csvRows(CliRun.of("bench", "--shapes", fixture().toString(), "--format", "csv", "--repeats", "1"),
                backend, threads);
    }

    @Test
    void nativeBackendWhenAvailable() throws Exception {
        if (!Conv4j.nativeAvailable()) {
            assertTrue(CliRun.of("bench", "--shapes", fixture().toString(), "--backend", "native")
                    .assertOneLineError().contains("native backend is not available"));
            return;
        }
        csvRows(CliRun.of("bench", "--shapes", fixture().toString(), "--format", "csv", "--repeats", "3",
                "--backend", "native", "--threads", "2"), "native", 2);
    }

    /** Rows by name: cells. */
    private static java.util.Map<String, String[]> byName(List<String[]> rows) {
        java.util.Map<String, String[]> m = new java.util.HashMap<>();
        rows.forEach(r -> m.put(r[0], r));
        return m;
    }

    @Test
    void forcedAlgorithmNamesWhatRanAndMarksRefusedShapes() throws Exception {
        if (!Conv4j.nativeAvailable()) {
            return;
        }
        // Depthwise takes only the depthwise row; every other shape is a row saying so, and the run goes on.
        var dw = byName(csvRows(CliRun.of("bench", "--shapes", fixture().toString(), "--format", "csv",
                "--repeats", "1", "--threads", "1", "--algorithm", "depthwise"), "native", 1));
        assertEquals("depthwise", dw.get("small_dw_s2")[5]);
        for (String name : List.of("seed1d", "seed2d", "small_3x3", "small_causal")) {
            assertEquals("unsupported", dw.get(name)[5], name);
        }
        // The reference loop takes everything.
        for (String[] row : csvRows(CliRun.of("bench", "--shapes", fixture().toString(), "--format", "csv",
                "--repeats", "1", "--threads", "1", "--algorithm", "REFERENCE"), "native", 1)) {
            assertEquals("reference", row[5], String.join(",", row));
        }
        // GEMM: whatever it takes says gemm.
        for (String[] row : csvRows(CliRun.of("bench", "--shapes", fixture().toString(), "--format", "csv",
                "--repeats", "1", "--threads", "1", "--algorithm", "gemm"), "native", 1)) {
            assertTrue(row[5].equals("gemm") || row[5].equals("unsupported"), String.join(",", row));
        }
    }

    @Test
    void winogradIsOptInAndForcedByTheOption() throws Exception {
        if (!Conv4j.nativeAvailable()) {
            return;
        }
        Path p = file(HEADER, "wino,2,1,12,12,16,16,3,3,1,1,1,1,1,same", "tiny,2,1,8,8,1,1,3,3,1,1,1,1,1,valid");
        var rows = byName(csvRows(CliRun.of("bench", "--shapes", p.toString(), "--format", "csv", "--repeats", "1",
                "--threads", "1", "--algorithm", "winograd"), "native", 1, List.of("wino", "tiny")));
        assertEquals("winograd", rows.get("wino")[5]);
        assertEquals("unsupported", rows.get("tiny")[5]);
        CliRun table = CliRun.of("bench", "--shapes", p.toString(), "--repeats", "1", "--threads", "1",
                "--algorithm", "winograd");
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().contains("algorithm winograd"), table.out());
        assertTrue(table.out().contains("effective GFLOP/s"), table.out());
        assertTrue(table.out().matches("(?s).*\\ntiny +1x8x8x1 -> 1 +unsupported .*"), table.out());
    }

    @Test
    void algorithmErrorsGetOneLine() throws Exception {
        String shapes = fixture().toString();
        assertTrue(CliRun.of("bench", "--shapes", shapes, "--algorithm", "fft").assertOneLineError()
                .contains("--algorithm must be one of auto, gemm, winograd, direct, depthwise, reference, got 'fft'"));
        assertTrue(CliRun.of("bench", "--shapes", shapes, "--backend", "java", "--algorithm", "gemm")
                .assertOneLineError().contains("--algorithm gemm needs the native backend"));
    }

    @Test
    void tableNamesEveryShapeWithUnits() throws Exception {
        CliRun r = CliRun.of("bench", "--shapes", fixture().toString(), "--repeats", "2", "--backend", "java",
                "--threads", "2");
        assertEquals(0, r.exit(), r.err());
        String out = r.out();
        assertTrue(out.startsWith("conv4j bench: java, " + Conv4j.javaKernel() + " micro-kernel, 2 threads"), out);
        assertTrue(out.contains("GFLOP/s") && (out.contains(" ms ") || out.contains(" µs ")) && out.contains("%"), out);
        assertTrue(out.matches("(?s).*\\nseed1d .* µs .*"), "a tiny shape in µs, not 0.000 ms: " + out);
        assertTrue(out.contains("a run repeats a call shorter than 10 ms"), out);
        for (String name : NAMES) {
            assertTrue(out.contains("\n" + name + " "), name + " missing in\n" + out);
        }
        assertTrue(out.contains("1x8x8x1 -> 1"), out);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "name,dims,N,H,W,Cin,Cout,KH,KW,SH,SW,DH,DW,groups|x,2,1,8,8,1,1,3,3,1,1,1,1,1=header lacks column 'padding'",
        HEADER + "|x,2,1,8,8,1,1,3,3,1,1,1,1,1=shapes.csv:2: 14 columns, the header has 15",
        HEADER + "|x,2,1,8,eight,1,1,3,3,1,1,1,1,1,same=shapes.csv:2: W 'eight' is not an integer",
        HEADER + "|x,2,1,8,8,1,1,3,3,0,1,1,1,1,same=shapes.csv:2: SH must be positive, got 0",
        HEADER + "|x,2,1,8,8,1,1,3,3,1,1,1,1,1,full=shapes.csv:2: padding must be one of valid, same, causal, got 'full'",
        HEADER + "|x,3,1,8,8,1,1,3,3,1,1,1,1,1,same=shapes.csv:2: dims must be 1 or 2, got 3",
        HEADER + "|x,1,1,2,8,1,1,1,3,1,1,1,1,1,same=shapes.csv:2: a 1-D shape needs H, KH, SH and DH of 1",
        HEADER + "|x,2,1,8,8,4,6,3,3,1,1,1,1,3,same=shapes.csv:2: Cin 4 is not divisible by groups 3",
        HEADER + "|x,2,1,8,8,4,6,3,3,1,1,1,1,4,same=shapes.csv:2: x: filters (6) must be divisible by groups (4)",
        HEADER + "|x,2,1,2,2,1,1,3,3,1,1,1,1,1,valid=shapes.csv:2: x: output height would be < 1",
        HEADER + "|x,2,1,8,8,1,1,3,3,2,2,2,2,1,same=shapes.csv:2: x: strides [2, 2] with dilation_rate [2, 2]",
        "# only a comment=no header line",
        HEADER + "|# no rows=no shapes after the header",
    })
    void malformedFilesGetOneLineNamingFileAndLine(String spec) throws Exception {
        String[] parts = spec.split("=", 2);
        Path p = file(parts[0].split("\\|"));
        String line = CliRun.of("bench", "--shapes", p.toString(), "--backend", "java").assertOneLineError();
        assertTrue(line.contains(parts[1]), line);
    }

    @Test
    void badArgumentsGetOneLine() throws Exception {
        String shapes = fixture().toString();
        assertTrue(CliRun.of("bench", "--shapes", dir.resolve("missing.csv").toString()).assertOneLineError()
                .contains("missing.csv: no such file or directory"));
        assertTrue(CliRun.of("bench", "--shapes", dir.toString()).assertOneLineError().contains("is a directory"));
        assertTrue(CliRun.of("bench").assertOneLineError().contains("--shapes"));
        assertTrue(CliRun.of("bench", "--shapes", shapes, "--repeats", "0").assertOneLineError()
                .contains("--repeats must be >= 1, got 0"));
        assertTrue(CliRun.of("bench", "--shapes", shapes, "--threads", "-1").assertOneLineError()
                .contains("--threads must be >= 0"));
        assertTrue(CliRun.of("bench", "--shapes", shapes, "--threads", "two").assertOneLineError()
                .contains("--threads"));
        assertTrue(CliRun.of("bench", "--shapes", shapes, "--format", "xml").assertOneLineError()
                .contains("--format must be table or csv, got 'xml'"));
        assertTrue(CliRun.of("bench", "--shapes", shapes, "--backend", "gpu").assertOneLineError()
                .contains("backend must be one of native, java"));
        Path binary = dir.resolve("binary.csv");
        Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        assertTrue(CliRun.of("bench", "--shapes", binary.toString()).assertOneLineError()
                .contains("not a UTF-8 text file"));
    }
}

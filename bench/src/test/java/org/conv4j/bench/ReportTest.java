package org.conv4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.conv4j.Padding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report reads JMH's JSON, takes medians, computes GFLOP/s and ratios, and rewrites only its section. */
class ReportTest {
    // 2·1·56·56·256·1·1·64 = 102,760,448 FLOPs.
    static final Shape POINTWISE = new Shape("pw", 2, 1, 56, 56, 64, 256, 1, 1, 1, 1, 1, 1, 1, Padding.VALID);

    static String run(String bench, String shape, int threads, String unit, double... iterations) {
        StringBuilder raw = new StringBuilder();
        for (double v : iterations) {
            raw.append(raw.length() > 0 ? ", " : "").append(v);
        }
        return "{\"benchmark\": \"org.conv4j.bench." + bench + ".conv\", \"mode\": \"avgt\", \"params\": {\"shape\": \""
                + shape + "\", \"threads\": \"" + threads + "\"}, \"primaryMetric\": {\"score\": 1.0, \"scoreError\": \"NaN\","
                + " \"scoreUnit\": \"" + unit + "\", \"rawData\": [[" + raw + "]]}, \"secondaryMetrics\": {}}";
    }

    @Test
    void tablesFromJmhJson(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("t.json");
        Files.writeString(json, "[" + String.join(",\n",
                run("Conv4jNativeBench", "pw", 1, "us/op", 3000, 2000, 9000), // median 3 ms
                run("Conv4jNativeBench", "pw", 2, "ms/op", 1.5, 1.5, 1.6),    // median 1.5 ms
                run("OnnxRuntimeBench", "pw", 1, "us/op", 4000, 4000, 4000),
                run("OneDnnBench", "pw", 1, "us/op", 6000, 6000, 6000),
                run("NaiveBench", "pw", 1, "s/op", 0.09, 0.09, 0.09),
                run("SomethingElse", "pw", 1, "us/op", 1)) + "]");
        Path implLog = dir.resolve("impl.tsv");
        Files.writeString(implLog, "onednn\tpw\t1\tbrgconv_1x1:avx2\nconv4j\tpw\t1\tconv4j: ... -> gemm_avx2 (isa avx2)\n");

        Report r = new Report(List.of(POINTWISE));
        r.readJmh(json);
        r.readImplLog(implLog);
        r.peakMedian[1] = 40;
        r.peakMedian[2] = 80;
        assertEquals(3.0, r.ms("conv4j", "pw", 1), 1e-12);
        assertEquals(1.5, r.ms("conv4j", "pw", 2), 1e-12);
        assertEquals(90.0, r.ms("naive", "pw", 1), 1e-9);
        assertTrue(Double.isNaN(r.ms("java", "pw", 1)));

        String md = r.markdown(List.of("pre-merge"));
        // 102.76 MFLOP in 3 ms = 34.3 GFLOP/s, 86 % of 40; ORT (4 ms) is the best peer: 1.33×.
        assertTrue(md.contains("| pw | 1 | 103 | 3.00 [2.00–9.00] ms, 34.3 |  |"), md);
        assertTrue(md.contains("| pw | 2 | 103 | 1.50 [1.50–1.60] ms, 68.5 |  |"), md);
        assertTrue(md.contains("| pw | 1 | 34.3 | 86 % | ORT | 1.33× | 1.33× | 2.00× | 30.00× |"), md);
        assertTrue(md.contains("| 2.00× |"), "2t/1t scaling: " + md);
        assertTrue(md.contains("| pw | gemm_avx2 (isa avx2) |  | brgconv_1x1:avx2 /  |"), md);
        assertTrue(md.contains("pre-merge"));

        Path readme = dir.resolve("README.md");
        Files.writeString(readme, "# head\nkept\n" + Report.BEGIN + "\nold\n" + Report.END + "\ntail kept\n");
        r.writeReadme(readme, md);
        String text = Files.readString(readme);
        assertTrue(text.startsWith("# head\nkept\n" + Report.BEGIN));
        assertTrue(text.endsWith(Report.END + "\ntail kept\n"), text);
        assertTrue(!text.contains("old"));

        Path chart = dir.resolve("chart.png");
        r.writeChart(chart);
        assertTrue(Files.size(chart) > 1000 && Files.size(chart) < 200_000, "chart size " + Files.size(chart));
    }

    // A 3×3 layer the default algorithm ran with Winograd (before the accuracy contract), and a tiny one.
    static final Shape WINO = new Shape("w3", 2, 1, 28, 28, 128, 128, 3, 3, 1, 1, 1, 1, 1, Padding.SAME);
    static final Shape TINY = new Shape("tiny", 2, 1, 8, 8, 1, 1, 3, 3, 1, 1, 1, 1, 1, Padding.VALID);

    @Test
    void suiteResultsCarryHonestLabels(@TempDir Path dir) throws Exception {
        Path tsv = dir.resolve("samples.tsv");
        Files.write(tsv, List.of(
                "isa\t-\tpw\t1\tavx512",
                "sample\tconv4j\tpw\t1\t3,2,4\tgemm",
                "na\twinograd\tpw\t1\tIllegalArgumentException: does not accept",
                "fail\tort\tpw\t1\tsetup: OrtException: boom",
                "sample\tonednn\tpw\t1\t2,2,2\tbrgconv_1x1:avx512_core",
                "sample\tjava\tpw\t1\t6,6,6\tjava",
                "check\tconv4j\tpw\t1\tok\t0.01",
                "check\tjava\tpw\t1\tMISMATCH\t7.5",
                "check\tonednn\tpw\t1\tok\t0.02",
                "sample\tconv4j\tw3\t1\t1,1,1\twinograd",
                "sample\twinograd\tw3\t1\t0.9,1.0,1.1\twinograd",
                "sample\tort\tw3\t1\t2,2,2\tonnxruntime 1.29.0",
                "sample\tonednn\tw3\t1\t1.8,1.8,1.8\tx",
                "sample\tconv4j\ttiny\t1\t0.0002,0.00019,0.00025\tdirect",
                "sample\tnaive\ttiny\t1\t0.003,0.003,0.003\treference (double)"));
        Report r = new Report(List.of(POINTWISE, WINO, TINY));
        r.readSuite(tsv);
        r.peakMedian[1] = 40;
        r.peakMedian[2] = 80;
        String md = r.markdown(List.of());
        assertTrue(md.contains("**conv4j ISA in use: avx512**") && md.contains("512-bit FMA chains"), md);
        assertTrue(md.contains("reference loop (double, 1t)"), "the naive column says what it is: " + md);
        // The failed peer: "missing" in its cell and in "vs best peer", never a ratio against oneDNN alone.
        assertTrue(md.contains("| pw | 1 | 103 | 3.00 [2.00–4.00] ms, 34.3 | gemm | 6.00 [6.00–6.00] ms, 17.1 |  | missing |"), md);
        assertTrue(md.contains("| pw | 1 | 34.3 | 86 % | missing | missing | missing | 0.67× |"), md);
        assertTrue(md.contains("**Failures: this run is incomplete.**") && md.contains("ONNX Runtime, pw, 1t: setup: OrtException: boom"), md);
        assertTrue(md.contains("(missing: pw)"), "targets name the shape a failure left out: " + md);
        // The mismatch is listed.
        assertTrue(md.contains("**MISMATCH**: conv4j Java backend, pw, 1t"), md);
        assertTrue(md.contains("2 of 3 outputs within it"), md);
        // Winograd: effective, no % of peak, in its own table.
        assertTrue(md.contains("| w3 | 1 | 231 | 1.00 [1.00–1.00] ms, 231 | **winograd** (effective) |"), md);
        assertTrue(md.contains("| w3 | 1 | 231 | (winograd: effective) | oneDNN | 1.80× |"), md);
        assertTrue(md.contains("### Winograd, opt-in: effective GFLOP/s"), md);
        assertTrue(md.contains("| w3 | 1 | 1.00 [0.900–1.10] ms, 231 | 1.00× | 1.80× (oneDNN) |"), md);
        assertTrue(md.contains("onnxruntime 1.29.0, oneDNN 3.13"), md);
        // Tiny shapes in µs.
        assertTrue(md.contains("| tiny | 1 | 0.000648 | 0.200 [0.190–0.250] µs, 3.24 | direct |"), md);
        assertTrue(!md.contains("| pw | 2 |"), "no row for a thread count that did not run: " + md);
    }

    @Test
    void medianAndFormatting() {
        assertEquals(2.0, Report.median(new double[] {3, 1, 2}));
        assertEquals(2.5, Report.median(new double[] {4, 1, 2, 3}));
        assertEquals("0.00361", Report.sig(0.0036055));
        assertEquals("1234", Report.sig(1234.4));
        assertEquals("12.3", Report.sig(12.34));
        assertThrows(IllegalArgumentException.class, () -> Report.msPer("ops/s"));
    }

    @Test
    void shapesCsv(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("s.csv");
        Files.writeString(csv, "# comment\nname,dims,N,H,W,Cin,Cout,KH,KW,SH,SW,DH,DW,groups,padding\n"
                + "a,2,1,8,8,1,1,3,3,1,1,1,1,1,valid\nb,1,1,1,16000,64,64,1,2,1,1,1,8,1,valid\n");
        List<Shape> shapes = Shape.load(csv);
        assertEquals(2, shapes.size());
        assertEquals(new Shape("a", 2, 1, 8, 8, 1, 1, 3, 3, 1, 1, 1, 1, 1, Padding.VALID), shapes.get(0));
        // wavenet1d: out = 16000 - 8 = 15992; 2·15992·64·2·64 = 262,012,928 (anchors.md: 262 MFLOP).
        assertEquals(262_012_928.0, shapes.get(1).flops());
        Files.writeString(csv, "a,2,1,8,8\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.load(csv));
        assertTrue(e.getMessage().contains("s.csv:1") && e.getMessage().contains("15 fields"), e.getMessage());
    }
}

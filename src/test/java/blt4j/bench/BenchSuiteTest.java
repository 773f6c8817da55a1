package blt4j.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CI smoke test of the bench suite at toy sizes: files exist and parse. Never asserts on timing. */
class BenchSuiteTest {

    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Minimal RFC 4180 reader (quoted fields with doubled quotes, no embedded newlines). */
    static List<List<String>> readCsv(Path p) throws IOException {
        List<List<String>> rows = new ArrayList<>();
        for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
            List<String> cells = new ArrayList<>();
            StringBuilder cell = new StringBuilder();
            boolean quoted = false;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quoted) {
                    if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        cell.append('"');
                        i++;
                    } else if (c == '"') {
                        quoted = false;
                    } else {
                        cell.append(c);
                    }
                } else if (c == '"') {
                    quoted = true;
                } else if (c == ',') {
                    cells.add(cell.toString());
                    cell.setLength(0);
                } else {
                    cell.append(c);
                }
            }
            assertTrue(!quoted, "unterminated quote in " + p + ": " + line);
            cells.add(cell.toString());
            rows.add(cells);
        }
        int width = rows.get(0).size();
        for (List<String> r : rows) {
            assertEquals(width, r.size(), p + ": row width differs from the header: " + r);
        }
        return rows;
    }

    static long rowsFor(List<List<String>> csv, String backend) {
        int col = csv.get(0).indexOf("backend");
        return csv.stream().skip(1).filter(r -> r.get(col).equals(backend)).count();
    }

    @Test
    void tinyRunWritesParsableCsvsReportAndCharts(@TempDir Path out) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        BenchSuite.Options o = new BenchSuite.Options(true, true, List.of("reference", "cpu"), List.of(1), 1, 1,
                BenchSuite.Profile.TINY, false, out, null);
        BenchSuite.Result r = new BenchSuite(o, new PrintStream(buf, true, StandardCharsets.UTF_8)).run();
        assertEquals(0, r.exitCode(), buf.toString(StandardCharsets.UTF_8));
        Path dir = r.folder();
        for (String name : List.of("kernels.csv", "model.csv", "breakdown.csv")) {
            List<List<String>> csv = readCsv(dir.resolve(name));
            assertTrue(csv.get(0).containsAll(List.of("backend", "profile", "machine", "cpu_model", "jdk", "commit", "device")),
                    name + " header " + csv.get(0));
            for (String b : List.of("reference", "cpu-1t")) {
                assertTrue(rowsFor(csv, b) >= 1, name + " has no row for " + b);
            }
        }
        List<List<String>> model = readCsv(dir.resolve("model.csv"));
        int wl = model.get(0).indexOf("workload");
        for (String w : List.of("train step blt-micro", "entropy scoring entropy-tiny", "blt generate blt-micro",
                "baseline generate", "startup: weight upload blt-micro", "peak fp32 FMA")) {
            assertTrue(model.stream().anyMatch(row -> row.get(wl).equals(w)), "model.csv lacks " + w);
        }
        String report = Files.readString(dir.resolve("report.md"));
        assertTrue(report.startsWith("# blt4j backend comparison"), report);
        assertTrue(report.contains("## Kernels") && report.contains("## Model workloads") && report.contains("## Stage breakdown"));
        for (String png : List.of("speedup.png", "roofline.png")) {
            BufferedImage img = ImageIO.read(dir.resolve(png).toFile());
            assertNotNull(img, png + " does not decode");
            assertTrue(img.getWidth() > 100 && img.getHeight() > 100);
        }
    }

    @Test
    void missingBackendBecomesAnUnavailableRow(@TempDir Path out) throws IOException {
        // a device profile that matches no platform: the backend is missing here whether or not OpenCL is installed
        Path profile = Files.writeString(out.resolve("no-such-device.properties"), "backend=opencl\nplatform.name=NoSuchPlatformXYZ\n");
        for (boolean skip : new boolean[] {false, true}) {
            BenchSuite.Options o = new BenchSuite.Options(true, true, List.of("opencl"), List.of(1), 1, 0,
                    BenchSuite.Profile.TINY, skip, out.resolve("skip-" + skip), profile.toString());
            BenchSuite.Result r = new BenchSuite(o, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).run();
            assertEquals(skip ? 0 : BenchSuite.EXIT_MISSING, r.exitCode());
            assertEquals(List.of("opencl"), r.missing());
            for (String name : List.of("kernels.csv", "model.csv")) {
                List<List<String>> csv = readCsv(r.folder().resolve(name));
                int status = csv.get(0).indexOf("status");
                assertTrue(csv.stream().skip(1).anyMatch(row -> row.get(csv.get(0).indexOf("backend")).equals("opencl")
                        && row.get(status).startsWith("unavailable")), name + ": " + csv);
            }
            assertTrue(Files.readString(r.folder().resolve("report.md")).contains("unavailable"));
        }
    }

    @Test
    void peerRunHasTheFourPyTorchWorkloadsWithFlopsAndStages(@TempDir Path out) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        BenchSuite.Options o = new BenchSuite.Options(false, true, List.of("cpu"), List.of(2), 1, 1, BenchSuite.Profile.TINY,
                false, out, null, true);
        BenchSuite.Result r = new BenchSuite(o, new PrintStream(buf, true, StandardCharsets.UTF_8)).run();
        assertEquals(0, r.exitCode(), buf.toString(StandardCharsets.UTF_8));
        List<List<String>> model = readCsv(r.folder().resolve("model.csv"));
        int wl = model.get(0).indexOf("workload");
        int flops = model.get(0).indexOf("flops");
        int bytesPerSec = model.get(0).indexOf("bytes_per_s");
        for (String w : List.of("peer: blt train step blt-micro", "peer: blt forward blt-micro",
                "peer: byte-transformer train step", "peer: byte-transformer forward")) {
            List<String> row = model.stream().filter(x -> x.get(wl).equals(w)).findFirst().orElseThrow(() ->
                    new AssertionError("model.csv lacks " + w + ": " + model));
            assertTrue(Double.parseDouble(row.get(flops)) > 0 && Double.parseDouble(row.get(bytesPerSec)) > 0, w + ": " + row);
        }
        // a training step counts about three times the FLOPs of a forward pass (forward + two products per backward)
        double train = Double.parseDouble(model.stream().filter(x -> x.get(wl).equals("peer: byte-transformer train step"))
                .findFirst().orElseThrow().get(flops));
        double fwd = Double.parseDouble(model.stream().filter(x -> x.get(wl).equals("peer: byte-transformer forward"))
                .findFirst().orElseThrow().get(flops));
        assertTrue(train > 2.5 * fwd && train < 3.5 * fwd, train + " vs " + fwd);
        assertTrue(model.stream().noneMatch(x -> x.get(wl).equals("train step blt-micro")), "peer runs only its workloads");
        // MFU's denominator is the reported peak: the larger of the readings before and after the workloads
        int gflops = model.get(0).indexOf("gflops");
        int peakCol = model.get(0).indexOf("peak_gflops");
        int note = model.get(0).indexOf("note");
        List<String> peakRow = model.stream().filter(x -> x.get(wl).equals("peak fp32 FMA")).findFirst().orElseThrow();
        double peak = Double.parseDouble(peakRow.get(gflops));
        assertTrue(peakRow.get(note).contains("before the workloads") && peakRow.get(note).contains("after"), peakRow.toString());
        for (List<String> row : model) {
            if (row.get(wl).startsWith("peer: ")) {
                assertEquals(peak, Double.parseDouble(row.get(peakCol)), 1e-6 * peak, row.get(wl) + " divides by another peak");
            }
        }
        assertTrue(readCsv(r.folder().resolve("breakdown.csv")).stream()
                .anyMatch(x -> x.get(0).equals("peer: blt train step blt-micro")), "no stage breakdown for the BLT step");
    }

    @Test
    void gemmShapesParseAndBadOnesAreNamed() {
        GemmBenchmark.Shape s = GemmBenchmark.Shape.parse("4096,128,512,n,t");
        assertEquals(4096, s.m());
        assertEquals(128, s.n());
        assertEquals(512, s.k());
        assertTrue(!s.ta() && s.tb());
        for (String bad : List.of("1,2", "1,x,3", "1,2,3,q,n", "0,2,3")) {
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> GemmBenchmark.Shape.parse(bad));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
        for (String shape : GemmBenchmark.MODEL_SHAPES) {
            GemmBenchmark.Shape.parse(shape);
        }
        try (blt4j.compute.CpuBackend be = new blt4j.compute.CpuBackend(1)) {
            List<GemmBenchmark.Row> rows = GemmBenchmark.run("cpu-1t", be, List.of(GemmBenchmark.Shape.parse("7,13,5,t,n")),
                    new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            assertEquals(1, rows.size());
            assertTrue(rows.get(0).medianGflops() > 0 && rows.get(0).bestGflops() >= rows.get(0).medianGflops());
        }
    }

    @Test
    void peakMicroBenchmarksMeasureSomething() {
        assertTrue(PeakFlops.vector(1, 100_000, 1) > 0);
        assertTrue(PeakFlops.scalar(100_000, 1) > 0);
        assertTrue(PeakFlops.triadBandwidth(1, 1 << 16, 1) > 0);
    }

    @Test
    void statisticsSummarise() {
        Stats.Summary s = Stats.summarize(0, new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        assertEquals(5.5, s.medianMs(), 1e-12);
        assertTrue(s.ciLowMs() <= s.medianMs() && s.medianMs() <= s.ciHighMs());
        assertTrue(s.ciLevel() >= 0.95);
        assertEquals(Math.sqrt(110.0 / 12) / 5.5, s.cv(), 1e-9);
    }
}

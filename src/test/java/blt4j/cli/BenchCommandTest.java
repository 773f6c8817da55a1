package blt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code blt bench} on the command line: a missing backend is a row, and a non-zero exit without --skip-missing. */
class BenchCommandTest {

    private static int run(String... args) {
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(new StringWriter()));
        cmd.setErr(new PrintWriter(new StringWriter()));
        return cmd.execute(args);
    }

    private static Path onlyFolder(Path root) throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            List<Path> l = s.toList();
            assertEquals(1, l.size(), l.toString());
            return l.get(0);
        }
    }

    @Test
    void missingBackendIsReportedAndFailsUnlessSkipped(@TempDir Path tmp) throws IOException {
        // a device profile that matches no platform: the backend is missing here whether or not OpenCL is installed
        String profile = Files.writeString(tmp.resolve("no-such-device.properties"), "backend=opencl\nplatform.name=NoSuchPlatformXYZ\n").toString();
        Path strict = tmp.resolve("strict");
        int code = run("bench", "kernels", "--tiny", "--backends", "opencl", "--device-profile", profile, "--reps", "1", "--out",
                strict.toString());
        assertNotEquals(0, code);
        String csv = Files.readString(onlyFolder(strict).resolve("kernels.csv"));
        assertTrue(csv.lines().skip(1).anyMatch(l -> l.contains(",opencl,") && l.contains("unavailable")), csv);

        Path lenient = tmp.resolve("lenient");
        assertEquals(0, run("bench", "kernels", "--tiny", "--backends", "opencl", "--device-profile", profile, "--reps", "1",
                "--skip-missing", "--out", lenient.toString()));
        assertTrue(Files.readString(onlyFolder(lenient).resolve("report.md")).contains("unavailable"));
    }

    @Test
    void peakPrintsOneLineWithBothRates() {
        java.io.PrintStream saved = System.out;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        int code;
        try {
            code = run("bench", "peak");
        } finally {
            System.setOut(saved);
        }
        assertEquals(0, code);
        String line = buf.toString(java.nio.charset.StandardCharsets.UTF_8).strip();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                "fma peak: 1 thread ([0-9.]+) GFLOP/s, (\\d+) threads ([0-9.]+) GFLOP/s \\(([0-9.]+) cores' worth\\)").matcher(line);
        assertTrue(m.matches(), line);
        assertTrue(Double.parseDouble(m.group(1)) > 0 && Double.parseDouble(m.group(3)) > 0, line);
    }

    @Test
    void generationBenchHasEveryModeAndMatchingOutputs(@TempDir Path tmp) throws IOException {
        assertEquals(0, run("bench", "generation", "-c", "../shared/fixtures/blt-micro", "--backends", "cpu", "--bytes", "12",
                "--reps", "1", "--warmups", "0", "--out", tmp.toString()));
        List<String> rows = Files.readAllLines(onlyFolder(tmp).resolve("generation.csv"));
        assertEquals(9, rows.size(), rows.toString());
        for (String mode : new String[] {",plain,1,", ",speculative k=2,1,", ",speculative k=8,1,", ",batched 1,1,",
                ",batched 4,4,", ",batched 16,16,", ",prefill "}) {
            assertTrue(rows.stream().anyMatch(r -> r.startsWith("cpu" + mode)), mode + " missing: " + rows);
        }
        assertTrue(rows.stream().skip(1).allMatch(r -> r.endsWith(",true")), "an output differs from plain: " + rows);
        // the time split by part: plain and speculative k=8 rows whose parts add up to the total, and the ceiling line
        String md = Files.readString(onlyFolder(tmp).resolve("generation.md"));
        for (String mode : new String[] {"plain", "speculative k=8"}) {
            String row = md.lines().filter(l -> l.startsWith("| cpu | " + mode + " | ") && l.split("\\|").length == 9)
                    .findFirst().orElseThrow(() -> new AssertionError(mode + " part row missing: " + md));
            String[] c = row.split("\\|");
            double sum = 0;
            for (int i = 3; i <= 7; i++) {
                double v = Double.parseDouble(c[i].trim());
                assertTrue(v >= 0, row);
                sum += v;
            }
            assertEquals(Double.parseDouble(c[8].trim()), sum, 0.3, row);
            assertTrue(sum > 0, row);
        }
        assertTrue(md.contains("speculation with these drafts is at most"), md);
        assertNotEquals(0, run("bench", "generation", "--backends", "cpu", "--out", tmp.toString()), "no checkpoint");
        assertEquals(0, run("bench", "generation", "-c", "../shared/fixtures/blt-micro", "--backends", "cpu", "--bytes", "6",
                "--target-patch-size", "3", "--reps", "1", "--warmups", "0", "--out", tmp.resolve("target").toString()));
        assertTrue(Files.readString(onlyFolder(tmp.resolve("target")).resolve("generation.md"))
                .contains("global threshold giving 3.0 bytes per patch"));
        assertNotEquals(0, run("bench", "generation", "--model", "blt-micro", "--target-patch-size", "3", "--backends", "cpu",
                "--out", tmp.toString()), "--target-patch-size needs -c");
        assertNotEquals(0, run("bench", "kernels", "-c", "../shared/fixtures/blt-micro", "--tiny", "--out", tmp.toString()));
    }

    @Test
    void badSelectionIsAClearError(@TempDir Path tmp) {
        assertEquals(1, run("bench", "everything", "--out", tmp.toString()));
        assertNotEquals(0, run("bench", "kernels", "--backends", "quantum", "--tiny", "--out", tmp.toString()));
    }
}

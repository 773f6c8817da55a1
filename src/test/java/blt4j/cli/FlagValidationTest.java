package blt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** Every bad flag exits non-zero with one line naming the flag, before the command does any work. */
class FlagValidationTest {

    @TempDir
    static Path tmp;

    /** exit code, picocli out + System.out, picocli err (System.err is left alone: the command's err writer is captured) */
    static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out));
        cmd.setErr(new PrintWriter(err));
        PrintStream oldOut = System.out;
        ByteArrayOutputStream sysOut = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(sysOut, true));
            code = cmd.execute(args);
        } finally {
            System.setOut(oldOut);
        }
        return new String[] {Integer.toString(code), out + sysOut.toString(), err.toString()};
    }

    private static String[] withArgs(String[] base, String... more) {
        List<String> all = new ArrayList<>(List.of(base));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    static Stream<Arguments> badTrainingFlags() {
        return Stream.of(
                Arguments.of("--steps", "0"), Arguments.of("--steps", "-5"),
                Arguments.of("--batch", "0"), Arguments.of("--batch", "-1"),
                Arguments.of("--seq-len", "0"), Arguments.of("--seq-len", "1000000000"),
                Arguments.of("--warmup", "-1"),
                Arguments.of("--eval-every", "-1"), Arguments.of("--eval-batches", "-1"),
                Arguments.of("--checkpoint-every", "-1"), Arguments.of("--log-every", "0"),
                Arguments.of("--lr", "0"), Arguments.of("--lr", "-1e-3"), Arguments.of("--lr", "NaN"), Arguments.of("--lr", "Infinity"),
                Arguments.of("--lr-min-ratio", "2"),
                Arguments.of("--weight-decay", "-0.1"), Arguments.of("--weight-decay", "NaN"),
                Arguments.of("--clip", "-1"), Arguments.of("--clip", "Infinity"),
                Arguments.of("--held-out", "1"), Arguments.of("--held-out", "-0.1"), Arguments.of("--held-out", "NaN"),
                Arguments.of("--minutes", "-1"), Arguments.of("--minutes", "NaN"),
                Arguments.of("--max-train-flops", "-1"));
    }

    @ParameterizedTest(name = "train-entropy {0} {1}")
    @MethodSource("badTrainingFlags")
    void badTrainEntropyFlag(String flag, String value) {
        Path out = tmp.resolve("te-" + flag.substring(2) + value.hashCode());
        assertRefused(flag, out, withArgs(new String[] {"train-entropy", "--out", out.toString()}, flag, value));
    }

    @ParameterizedTest(name = "train {0} {1}")
    @MethodSource("badTrainingFlags")
    void badTrainFlag(String flag, String value) {
        Path out = tmp.resolve("t-" + flag.substring(2) + value.hashCode());
        assertRefused(flag, out, withArgs(new String[] {"train", "--model", "blt-micro", "--out", out.toString()}, flag, value));
    }

    private static void assertRefused(String flag, Path out, String... args) {
        String[] r = run(args);
        assertNotEquals("0", r[0], String.join(" ", args) + " was accepted");
        assertTrue(r[2].contains(flag), "the error does not name " + flag + ": " + r[2]);
        assertFalse(r[1].contains("data:"), "the command started work: " + r[1]);
        if (out != null) {
            assertFalse(Files.exists(out), "the run folder was created");
        }
    }

    @Test
    void trainFlagsThatNeedTheModel() throws Exception {
        // --seq-len over an entropy model's max_seqlen (entropy-tiny: 8192), checked before the corpus is read
        Path out = tmp.resolve("seq");
        assertRefused("--seq-len", out, "train-entropy", "--out", out.toString(), "--seq-len", "9000");
        // a batch whose activations cannot fit in the heap is refused before anything is allocated
        assertRefused("--batch", out, "train-entropy", "--out", out.toString(), "--seq-len", "8192", "--batch", "65536");
        assertRefused("--batch", out, "train", "--model", "byte-transformer", "--out", out.toString(),
                "--seq-len", "1048576", "--batch", "65536");
        assertRefused("--threshold", out, "train", "--out", out.toString(), "--threshold", "NaN");
        assertRefused("--target-patch-size", out, "train", "--out", out.toString(), "--target-patch-size", "0.5");
        assertRefused("--entropy-model", out, "train", "--model", "blt-micro", "--out", out.toString());
        String[] r = run("train", "--model", "blt-micro", "--out", out.toString(), "--entropy-model", tmp.resolve("none").toString());
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains("not found"), r[2]);
        assertFalse(Files.exists(out));
        r = run("train", "--model", "blt-nano", "--out", out.toString());
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains("unknown BLT preset 'blt-nano'"), r[2]);
    }

    @Test
    void badConfigFilesAndPaths() throws Exception {
        Path out = tmp.resolve("cfg");
        Path bad = tmp.resolve("bad.json");
        Files.writeString(bad, "{\"dim\": 32, \"n_heads\": 0}");
        String[] r = run("train-entropy", "--out", out.toString(), "--config", bad.toString());
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains(bad + ": n_heads = 0"), r[2]);
        assertFalse(Files.exists(out));
        r = run("train-entropy", "--out", out.toString(), "--config", tmp.toString());
        assertTrue(r[2].contains("is a folder"), r[2]);
        r = run("train", "--out", out.toString(), "--config", tmp.resolve("missing.json").toString());
        assertTrue(r[2].contains("not found"), r[2]);
        r = run("train-entropy", "--out", out.toString(), "--data", tmp.resolve("missing").toString());
        assertTrue(r[2].contains("--data") && r[2].contains("not found"), r[2]);
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        r = run("train-entropy", "--out", file.toString());
        assertTrue(r[2].contains("--out") && r[2].contains("is a file"), r[2]);
        assertFalse(r[1].contains("data:"));
    }

    static Stream<Arguments> badGenerateFlags() {
        return Stream.of(
                Arguments.of("-t", "-0.5"), Arguments.of("--temperature", "NaN"), Arguments.of("--temperature", "Infinity"),
                Arguments.of("--top-p", "0"), Arguments.of("--top-p", "1.5"), Arguments.of("--top-p", "NaN"),
                Arguments.of("-n", "-1"), Arguments.of("--max-bytes", "-10"), Arguments.of("--threshold", "NaN"),
                Arguments.of("--speculate", "65"), Arguments.of("--speculate", "-1"));
    }

    @ParameterizedTest(name = "generate {0} {1}")
    @MethodSource("badGenerateFlags")
    void badGenerateFlag(String flag, String value) {
        String[] r = run("generate", "-c", "../shared/fixtures/blt-micro", flag, value);
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains(flag), r[2]);
        assertFalse(r[2].contains("bytes in"), "generation ran: " + r[2]);
    }

    static Stream<Arguments> badPatchFlags() {
        return Stream.of(
                Arguments.of("--stride", "0"), Arguments.of("--stride", "-3"),
                Arguments.of("--target-patch-size", "0.9"), Arguments.of("--target-patch-size", "NaN"),
                Arguments.of("--target-patch-size", "Infinity"),
                Arguments.of("--sample", "0"), Arguments.of("--max-patch-length", "0"),
                Arguments.of("--show", "-1"), Arguments.of("--offset", "-1"),
                Arguments.of("--threshold", "NaN"), Arguments.of("--threshold-add", "Infinity"),
                Arguments.of("--scheme", "bpe"));
    }

    @ParameterizedTest(name = "patch {0} {1}")
    @MethodSource("badPatchFlags")
    void badPatchFlag(String flag, String value) {
        String[] r = run("patch", "--scheme", "stride", "pom.xml", flag, value);
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains(flag), r[2]);
        assertFalse(r[1].contains("patching of"), "patching ran: " + r[1]);
    }

    @Test
    void patchInputMustBeAFile() {
        String[] r = run("patch", "--scheme", "space", "src");
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains("src is a folder, not a file"), r[2]);
        r = run("patch", "--scheme", "space", "no-such-file.txt");
        assertTrue(r[2].contains("input file not found: no-such-file.txt"), r[2]);
        r = run("entropy", "-c", "../shared/fixtures/blt-micro", "src");
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains("is a folder, not a file"), r[2]);
        r = run("patch", "--scheme", "stride", "--stride", "7", "pom.xml");
        assertTrue(r[0].equals("0") && r[1].contains("stride patching of pom.xml"), r[2]);
    }

    static Stream<Arguments> badEvalFlags() {
        return Stream.of(
                Arguments.of("--held-out", "0"), Arguments.of("--held-out", "1.5"), Arguments.of("--held-out", "NaN"),
                Arguments.of("--seq-len", "0"), Arguments.of("--seq-len", "1000000000"), Arguments.of("--max-rows", "-1"));
    }

    @ParameterizedTest(name = "eval {0} {1}")
    @MethodSource("badEvalFlags")
    void badEvalFlag(String flag, String value) {
        String[] r = run("eval", "-c", "../shared/fixtures/blt-micro", flag, value);
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains(flag), r[2]);
        assertFalse(r[1].contains("bits/byte"), "evaluation ran: " + r[1]);
    }

    @Test
    void evalMissingDataIsClear() {
        String[] r = run("eval", "-c", "../shared/fixtures/blt-micro", "--data", "no-such-dir");
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains("--data no-such-dir not found"), r[2]);
    }

    @Test
    void parseErrorsAreOneLineNotTheUsage() {
        String[] r = run("patch", "--scheme", "space", "--stride", "0", "pom.xml");
        assertTrue(r[2].startsWith("blt patch: --stride must be ≥ 1, got 0"), r[2]);
        assertFalse(r[2].contains("Could not invoke"), r[2]);
        assertTrue(r[2].lines().count() <= 2, r[2]);
    }

    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
            "demo --minutes 0|--minutes", "demo --minutes NaN|--minutes", "demo --backend quantum|unknown backend",
            "bench model --threads 0|--threads", "bench model --threads 5000|--threads", "bench model --backends cpu,gpu9|gpu9",
            "bench model --reps 0|--reps"})
    void badDemoAndBenchFlags(String command, String named) {
        String[] r = run(command.split(" "));
        assertNotEquals("0", r[0], command + " was accepted");
        assertTrue(r[2].contains(named), r[2]);
        assertFalse(r[1].contains("== [") || r[1].contains("blt bench ("), "the command started work: " + r[1]);
    }

    @org.junit.jupiter.api.Test
    void generateRefusesBadPromptsFiles() throws Exception {
        String model = "../shared/fixtures/blt-micro";
        Path binary = tmp.resolve("binary-prompts.txt");
        java.nio.file.Files.write(binary, new byte[] {'h', 'i', (byte) 0xff, (byte) 0xfe, '\n'});
        Path badEscape = tmp.resolve("escape-prompts.txt");
        java.nio.file.Files.writeString(badEscape, "ok\nA tab\\t here\n");
        Path blank = tmp.resolve("blank-prompts.txt");
        java.nio.file.Files.writeString(blank, "\n  \n\n");
        Path good = tmp.resolve("good-prompts.txt");
        java.nio.file.Files.writeString(good, "First\\nCitizen\n\nROMEO:\n");
        String[][] cases = {
                {"--prompts", tmp.resolve("missing.txt").toString(), "no file"},
                {"--prompts", binary.toString(), "not UTF-8"},
                {"--prompts", badEscape.toString(), "line 2"},
                {"--prompts", blank.toString(), "holds no prompt"},
                {"--prompts", good.toString(), "-p", "hi", "not both"},
                {"--prompts", good.toString(), "--speculate", "2", "one prompt at a time"}};
        for (String[] c : cases) {
            String[] args = withArgs(new String[] {"generate", "-c", model}, java.util.Arrays.copyOf(c, c.length - 1));
            String[] r = run(args);
            assertNotEquals("0", r[0], String.join(" ", args) + " was accepted");
            assertTrue(r[2].contains(c[c.length - 1]), r[2]);
        }
        String[] r = run("generate", "-c", model, "--prompts", good.toString(), "-n", "5", "--ignore-eos");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].startsWith("First\nCitizen") && r[1].contains("\n\nROMEO:"), r[1]);
    }

    @org.junit.jupiter.api.Test
    void generateRefusesAnEmptyOrOversizedPrompt() {
        String[] r = run("generate", "-c", "../shared/fixtures/blt-micro", "-p", "");
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains("--prompt is empty"), r[2]);
        r = run("generate", "-c", "../shared/fixtures/blt-micro", "-p", "a".repeat(1024), "-n", "4");
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains("longer than the model's max_encoder_seq_length 1024"), r[2]);
        r = run("generate", "-c", "../shared/fixtures/blt-micro", "-p", "hi", "--stop", "");
        assertNotEquals("0", r[0]);
        assertTrue(r[2].contains("--stop is empty"), r[2]);
    }
}

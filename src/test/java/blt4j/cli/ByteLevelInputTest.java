package blt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Scoring and patching are byte-level: empty files, binary files and invalid UTF-8 all work. */
class ByteLevelInputTest {
    @TempDir
    Path tmp;

    private Path input(String kind) throws Exception {
        Path f = tmp.resolve(kind + ".bin");
        byte[] data = switch (kind) {
            case "empty" -> new byte[0];
            case "binary" -> {
                byte[] b = new byte[3000];
                new Random(5).nextBytes(b);
                yield b;
            }
            default -> new byte[] {'a', (byte) 0xC3, (byte) 0x28, (byte) 0xFF, (byte) 0xE2, (byte) 0x82, 'z', 0, 10};
        };
        Files.write(f, data);
        return f;
    }

    /** Runs the CLI capturing stdout; returns {exit code, stdout}. */
    private static String[] run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            var cmd = Main.commandLine();
            cmd.setErr(new PrintWriter(new StringWriter()));
            int code = cmd.execute(args);
            return new String[] {Integer.toString(code), captured.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setOut(old);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"empty", "binary", "invalid-utf8"})
    void entropyScoresEveryByte(String kind) throws Exception {
        Path f = input(kind);
        String fixture = SharedData.bltMicro().toString();
        String[] r = run("entropy", "--backend", "reference", "--checkpoint", fixture, f.toString());
        assertEquals("0", r[0]);
        long lines = r[1].lines().count();
        assertEquals(1 + 1 + Files.size(f), lines, "header + BOS + one line per byte");
    }

    @ParameterizedTest
    @ValueSource(strings = {"empty", "binary", "invalid-utf8"})
    void everyPatchSchemeCoversEveryByte(String kind) throws Exception {
        Path f = input(kind);
        String fixture = SharedData.bltMicro().toString();
        for (String scheme : new String[] {"entropy", "space", "stride", "byte"}) {
            String[] r = run("patch", "--backend", "reference", "--scheme", scheme, "--checkpoint", fixture, "--threshold", "2.87",
                    "--json", f.toString());
            assertEquals("0", r[0], scheme);
            var json = com.google.gson.JsonParser.parseString(r[1].trim()).getAsJsonObject();
            long sum = 0;
            for (var l : json.getAsJsonArray("lengths")) {
                sum += l.getAsInt();
            }
            assertEquals(Files.size(f) + 1, sum, scheme + " patch lengths cover [BOS] + every byte");
            assertTrue(json.get("tokens").getAsLong() == Files.size(f) + 1);
        }
    }
}

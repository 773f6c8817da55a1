package blt4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.io.SafetensorsFile;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code blt forward} on the reference-layout fixture reproduces the reference's ids, patches and logits. */
class ForwardDumpTest {
    @TempDir
    Path tmp;

    @Test
    void dumpMatchesTheFixture() throws Exception {
        Path fixture = SharedData.bltMicro();
        Path caseDir = fixture.resolve("cases/short");
        Path out = tmp.resolve("dump.safetensors");
        int code = Main.commandLine().execute("forward", "--backend", "reference", "-c", fixture.toString(),
                "-i", caseDir.resolve("input.txt").toString(), "--out", out.toString());
        assertEquals(0, code);
        JsonObject exp = com.google.gson.JsonParser.parseString(Files.readString(caseDir.resolve("expected.json"))).getAsJsonObject();
        try (SafetensorsFile dump = SafetensorsFile.open(out); SafetensorsFile ref = SafetensorsFile.open(caseDir.resolve("tensors.safetensors"))) {
            assertArrayEquals(ints(exp, "x"), dump.readInts("tokens"));
            assertArrayEquals(ints(exp, "patch_lengths"), dump.readInts("patch_lengths"));
            assertArrayEquals(ints(exp, "patch_ids"), dump.readInts("patch_ids"));
            assertArrayEquals(ints(exp, "decoder_patch_ids"), dump.readInts("decoder_patch_ids"));
            float[] want = ref.readFloats("logits");
            float[] got = dump.readFloats("logits");
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                assertTrue(Math.abs(want[i] - got[i]) <= 1e-4 + 1e-3 * Math.abs(want[i]), "logit " + i);
            }
        }
    }

    private static int[] ints(JsonObject o, String key) {
        var a = o.getAsJsonArray(key);
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).getAsInt();
        }
        return r;
    }
}

package blt4j.patch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import blt4j.SharedData;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Patch-id helpers against the blt-micro fixtures (reference {@code patch_ids_from_lengths},
 * {@code decoder_patch_ids_from_lengths} and the global-token rule), starting from the expected lengths.
 */
class BltMicroPatchTest {

    static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"short", "long", "packed"})
    void idsFromLengths(String name) throws IOException {
        JsonObject exp = JsonParser.parseString(Files.readString(
                SharedData.bltMicro().resolve("cases").resolve(name).resolve("expected.json"),
                StandardCharsets.UTF_8)).getAsJsonObject();
        int n = exp.get("N").getAsInt();
        int[] x = ints(exp.getAsJsonArray("x"));
        int[] lengths = ints(exp.getAsJsonArray("patch_lengths"));
        int[] starts = ints(exp.getAsJsonArray("patch_start_ids"));
        assertEquals(n + 1, IntStream.of(lengths).sum());
        assertEquals(exp.get("num_patches").getAsInt(), lengths.length);

        assertArrayEquals(ints(exp.getAsJsonArray("patch_ids")), PatchIds.patchIdsFromLengths(lengths, n));
        assertArrayEquals(ints(exp.getAsJsonArray("decoder_patch_ids")), PatchIds.decoderPatchIds(lengths, n));
        assertArrayEquals(ints(exp.getAsJsonArray("global_tokens")), PatchIds.globalTokens(x, lengths));

        assertArrayEquals(starts, PatchIds.lengthsToStarts(lengths));
        assertArrayEquals(lengths, PatchIds.startsToLengths(starts, n + 1));
        assertArrayEquals(starts, ints(exp.getAsJsonArray("patch_start_ids_raw")));

        int[] noNext = ints(exp.getAsJsonArray("patch_lengths_without_next_slot"));
        assertEquals(n, IntStream.of(noNext).sum());
        assertArrayEquals(noNext, PatchIds.startsToLengths(PatchIds.lengthsToStarts(noNext), n));
        assertEquals(exp.get("bytes_per_patch").getAsDouble(), (double) n / lengths.length, 1e-12);
    }
}

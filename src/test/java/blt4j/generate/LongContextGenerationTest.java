package blt4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.TestBackends;
import blt4j.compute.Backend;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.EntropyModel;
import blt4j.model.PatchingConfig;
import blt4j.patch.PatchingScheme;
import blt4j.train.ModelFiles;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Generation far past the local windows, the entropy model's row length and the RoPE tables: the fixture's weights
 * with local windows of 16 bytes, an entropy window of 8 whose context restarts every 40 tokens, and tables of only
 * 64 bytes and 16 patches for the cached model. Cached generation (whose local caches keep their windows only, and
 * whose RoPE angles past a table are computed per block) must equal full recomputation by the same weights with
 * tables large enough, byte for byte, plain and speculative.
 */
class LongContextGenerationTest {
    private static final byte[] PROMPT = "First Citizen:\nBefore we proceed".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    /** The fixture's folder with its window and length fields replaced. */
    private Path variant(String name, int maxEncoderSeqLength, int maxPatches) throws Exception {
        Path src = SharedData.bltMicro();
        Path dir = Files.createDirectories(tmp.resolve(name));
        for (String f : new String[] {"weights.safetensors", "entropy_model.safetensors"}) {
            Files.copy(src.resolve(f), dir.resolve(f));
        }
        JsonObject root = JsonParser.parseString(Files.readString(src.resolve("config.json"))).getAsJsonObject();
        JsonObject args = root.getAsJsonObject("args");
        args.addProperty("local_attention_window_len", 16);
        args.addProperty("max_encoder_seq_length", maxEncoderSeqLength);
        args.addProperty("max_seqlen", maxPatches);
        JsonObject entropy = root.getAsJsonObject("entropy_model");
        entropy.addProperty("sliding_window", 8);
        entropy.addProperty("max_seqlen", 40);
        Files.writeString(dir.resolve("config.json"), root.toString());
        return dir;
    }

    @ParameterizedTest(name = "{0} θ={1} monotonic={2}, {3} bytes, k = {4}")
    @CsvSource({"cpu, 2.2, false, 300, 3", "cpu, 0.3, true, 240, 4", "reference, 2.2, false, 120, 2",
            "opencl, 2.2, false, 200, 3"})
    void cachedGenerationEqualsFullRecomputationPastEveryLimit(String backendName, double threshold, boolean monotonic,
                                                                int n, int k) throws Exception {
        PatchingConfig patching = new PatchingConfig("entropy", threshold, null, monotonic, null, 4.5);
        Path small = variant("small", 64, 16);
        Path large = variant("large", 1024, 512);
        try (Backend backend = TestBackends.create(backendName)) {
            Generator cached = generator(small, patching, backend);
            Generator full = generator(large, patching, backend);
            byte[] expected = full.generateFullRecompute(PROMPT, n);
            assertEquals(n, expected.length);
            Generator.Result plain = cached.generate(PROMPT, n, Sampler.greedy(), b -> { });
            assertArrayEquals(expected, plain.bytes(), "cached generation past the windows and tables");
            assertTrue(plain.patches() > 16, "only " + plain.patches() + " patches: the global table was not passed");
            Generator.Result speculative = cached.generateSpeculative(PROMPT, n, k, null, b -> { });
            assertArrayEquals(expected, speculative.bytes(), "speculative generation past the windows and tables");
        }
    }

    private static Generator generator(Path dir, PatchingConfig patching, Backend backend) throws Exception {
        ByteLatentTransformer blt = ModelFiles.loadBlt(dir, backend);
        EntropyModel entropy = ModelFiles.loadEntropyModel(dir, backend);
        return new Generator(blt, PatchingScheme.of(patching, entropy)).ignoringSpecialIds();
    }
}

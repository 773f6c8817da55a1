package blt4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.TestBackends;
import blt4j.compute.Backend;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.EntropyModel;
import blt4j.model.PatchingConfig;
import blt4j.patch.PatchingScheme;
import blt4j.train.ModelFiles;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Cached generation (patching on the fly, one global step per patch) equals the reference's full recomputation,
 * byte for byte, for every incremental patching scheme.
 */
class IncrementalGenerationTest {
    private static final byte[] PROMPT = "First Citizen:\nBefore we proceed".getBytes(StandardCharsets.UTF_8);

    private static void check(String backendName, PatchingConfig patching, int n, boolean ignoreSpecials) throws Exception {
        try (Backend backend = TestBackends.create(backendName)) {
            Path dir = SharedData.bltMicro();
            ByteLatentTransformer blt = ModelFiles.loadBlt(dir, backend);
            EntropyModel entropy = ModelFiles.loadEntropyModel(dir, backend);
            Generator gen = new Generator(blt, PatchingScheme.of(patching, entropy));
            if (ignoreSpecials) {
                gen = gen.ignoringSpecialIds();
            }
            byte[] full = gen.generateFullRecompute(PROMPT, n);
            ByteArrayOutputStream streamed = new ByteArrayOutputStream();
            Generator.Result r = gen.generate(PROMPT, n, Sampler.greedy(), streamed::write);
            assertArrayEquals(full, r.bytes(), "incremental and full recomputation disagree for " + patching.describe());
            assertArrayEquals(r.bytes(), streamed.toByteArray(), "streamed bytes differ from the result");
            // the fixture's BLT has random weights; it may pick a special id (a stop) early, identically in both paths
            assertTrue(r.bytes().length >= (ignoreSpecials ? n : 8), "generated only " + r.bytes().length + " bytes");
            assertTrue(r.patches() > 2 && r.patches() <= PROMPT.length + r.bytes().length + 1, "patches: " + r.patches());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl"})
    void globalThresholdOnEveryBackend(String backendName) throws Exception {
        // a low threshold makes many patches, so the global step runs often
        check(backendName, PatchingConfig.globalThreshold(2.2), 40, false);
    }

    @ParameterizedTest(name = "{0} θ={1} θ_add={2} monotonic={3} max={4}")
    @CsvSource(nullValues = "null", value = {
            "entropy, 0.15, null, true, null",   // monotonic
            "entropy, 2.0, 0.0, false, null",    // threshold_add (combined)
            "entropy, 3.5, null, false, 3",      // max_patch_length splits long patches
            "entropy, 0.15, null, true, 2",      // monotonic with max length
            "space, null, null, false, null",
            "space, null, null, false, 4",
            "static, null, null, false, null",
            "byte, null, null, false, null"})
    void everyIncrementalScheme(String mode, Double threshold, Double thresholdAdd, boolean monotonic, Integer max)
            throws Exception {
        check("cpu", new PatchingConfig(mode, threshold, thresholdAdd, monotonic, max, 3), 32, true);
    }

    @Test
    void monotonicOnOpenCl() throws Exception {
        check("opencl", new PatchingConfig("entropy", 0.15, null, true, 3, 4.5), 24, true);
    }

    @ParameterizedTest(name = "{0} θ={1} monotonic={2} max={3}, k = {4}")
    @CsvSource(nullValues = "null", value = {
            "entropy, 2.2, false, null, 1", "entropy, 2.2, false, null, 2", "entropy, 2.2, false, null, 4",
            "entropy, 2.2, false, null, 8", "entropy, 0.15, true, null, 4", "entropy, 0.15, true, 3, 3",
            "entropy, 3.5, false, 2, 5", "space, null, false, null, 4", "static, null, false, null, 2"})
    void speculativeGreedyEqualsPlainGreedy(String mode, Double threshold, boolean monotonic, Integer max, int k) throws Exception {
        try (Backend backend = TestBackends.create("cpu")) {
            Path dir = SharedData.bltMicro();
            ByteLatentTransformer blt = ModelFiles.loadBlt(dir, backend);
            EntropyModel entropy = ModelFiles.loadEntropyModel(dir, backend);
            PatchingConfig patching = new PatchingConfig(mode, threshold, null, monotonic, max, 3);
            for (String text : new String[] {"First Citizen:\nBefore we proceed", "ab", "The quick brown fox "}) {
                byte[] prompt = text.getBytes(StandardCharsets.UTF_8);
                for (boolean ignore : new boolean[] {false, true}) {
                    Generator gen = new Generator(blt, PatchingScheme.of(patching, entropy));
                    if (ignore) {
                        gen = gen.ignoringSpecialIds();
                    }
                    byte[] plain = gen.generate(prompt, 30, Sampler.greedy(), b -> { }).bytes();
                    ByteArrayOutputStream streamed = new ByteArrayOutputStream();
                    byte[] spec = gen.generateSpeculative(prompt, 30, k, null, streamed::write).bytes();
                    assertArrayEquals(plain, spec, "speculative (k = " + k + ") and plain greedy differ for \"" + text + "\"");
                    assertArrayEquals(spec, streamed.toByteArray());
                    if (ignore) {
                        assertArrayEquals(gen.generateFullRecompute(prompt, 30), spec, "speculative and full recomputation differ");
                    }
                }
            }
        }
    }

    @Test
    void speculativeGreedyOnOpenClAndWithAStopSequence() throws Exception {
        try (Backend backend = TestBackends.create("opencl")) {
            Path dir = SharedData.bltMicro();
            ByteLatentTransformer blt = ModelFiles.loadBlt(dir, backend);
            EntropyModel entropy = ModelFiles.loadEntropyModel(dir, backend);
            Generator gen = new Generator(blt, PatchingScheme.of(PatchingConfig.globalThreshold(2.2), entropy)).ignoringSpecialIds();
            byte[] plain = gen.generate(PROMPT, 24, Sampler.greedy(), b -> { }).bytes();
            assertArrayEquals(plain, gen.generateSpeculative(PROMPT, 24, 4, null, b -> { }).bytes());
            byte[] stop = java.util.Arrays.copyOfRange(plain, 10, 12);
            assertArrayEquals(gen.generate(PROMPT, 24, Sampler.greedy(), stop, b -> { }).bytes(),
                    gen.generateSpeculative(PROMPT, 24, 4, stop, b -> { }).bytes());
        }
    }

    @Test
    void aStopSequenceEndsGenerationAndIsNotPartOfTheOutput() throws Exception {
        try (Backend backend = TestBackends.create("cpu")) {
            Path dir = SharedData.bltMicro();
            ByteLatentTransformer blt = ModelFiles.loadBlt(dir, backend);
            EntropyModel entropy = ModelFiles.loadEntropyModel(dir, backend);
            Generator gen = new Generator(blt, PatchingScheme.of(PatchingConfig.globalThreshold(2.2), entropy)).ignoringSpecialIds();
            byte[] full = gen.generate(PROMPT, 40, Sampler.greedy(), b -> { }).bytes();
            byte[] stop = java.util.Arrays.copyOfRange(full, 20, 22);
            int first = 0;
            while (!java.util.Arrays.equals(full, first, first + 2, stop, 0, 2)) {
                first++;
            }
            ByteArrayOutputStream streamed = new ByteArrayOutputStream();
            Generator.Result r = gen.generate(PROMPT, 40, Sampler.greedy(), stop, streamed::write);
            assertArrayEquals(java.util.Arrays.copyOf(full, first), r.bytes(), "output before the stop sequence");
            assertArrayEquals(r.bytes(), streamed.toByteArray());
        }
    }

    @Test
    void aPromptBeyondTheLocalModelsPositionsIsAClearError() throws Exception {
        try (Backend backend = TestBackends.create("reference")) {
            Path dir = SharedData.bltMicro();
            ByteLatentTransformer blt = ModelFiles.loadBlt(dir, backend);
            EntropyModel entropy = ModelFiles.loadEntropyModel(dir, backend);
            Generator gen = new Generator(blt, PatchingScheme.of(PatchingConfig.globalThreshold(2.2), entropy));
            int limit = blt.config().maxEncoderSeqLength;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> gen.generate(new byte[limit], 10, Sampler.greedy(), b -> { }));
            assertTrue(e.getMessage().contains("max_encoder_seq_length"), e.getMessage());
            // one byte less fits (BOS + limit − 1), and generation may go past the limit
            assertEquals(3, gen.ignoringSpecialIds().generate(new byte[limit - 1], 3, Sampler.greedy(), b -> { }).bytes().length);
        }
    }

    @Test
    void topKIsRefusedClearly() throws Exception {
        try (Backend backend = TestBackends.create("reference")) {
            Path dir = SharedData.bltMicro();
            ByteLatentTransformer blt = ModelFiles.loadBlt(dir, backend);
            EntropyModel entropy = ModelFiles.loadEntropyModel(dir, backend);
            PatchingScheme topK = PatchingScheme.of(new PatchingConfig("entropy", null, null, false, null, 4.5), entropy);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Generator(blt, topK));
            assertTrue(e.getMessage().contains("whole sequence"), e.getMessage());
        }
    }
}

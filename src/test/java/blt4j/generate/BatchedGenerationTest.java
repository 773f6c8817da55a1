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
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Batched generation equals one-at-a-time generation, prompt by prompt and byte for byte: prompts of different
 * lengths (one byte, empty, past the local window), prompts that stop at different steps (EOS, a stop string, the
 * byte budget), greedy and sampled, and more prompts than one batch holds.
 */
class BatchedGenerationTest {
    private static List<byte[]> prompts(int count) {
        String[] base = {"First Citizen:\nBefore we proceed", "A", "", "MENENIUS:\nEither you must confess yourselves wondrous"
                + " malicious, or be accused of folly. ".repeat(12), "What say you to\u00e9 it?", "O, sir,",
                "KING RICHARD III:\nNow is the winter", "ROMEO:\n"};
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add((base[i % base.length] + (i >= base.length ? " " + i : "")).getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}: {1} prompts, {2}, t={3}, ignore EOS {4}, stop ''{5}''")
    @CsvSource(nullValues = "null", value = {
            "cpu, 5, entropy, 0, true, null",
            "cpu, 7, entropy, 0, false, null",
            "cpu, 6, entropy, 0.9, false, e",
            "cpu, 18, entropy, 0, true, null",
            "cpu, 4, space, 0.7, true, null",
            "cpu, 4, monotonic, 0, true, null",
            "reference, 3, entropy, 0.8, false, null",
            "opencl, 5, entropy, 0, true, null",
            "opencl, 4, entropy, 0.9, false, the"})
    void batchedEqualsOneAtATime(String backendName, int count, String mode, double temperature, boolean ignoreEos,
                                 String stop) throws Exception {
        PatchingConfig patching = switch (mode) {
            case "space" -> new PatchingConfig("space", null, null, false, 6, 4.5);
            case "monotonic" -> new PatchingConfig("entropy", 0.15, null, true, null, 4.5);
            default -> PatchingConfig.globalThreshold(2.2);
        };
        int n = 48;
        byte[] stopBytes = stop == null ? null : stop.getBytes(StandardCharsets.UTF_8);
        try (Backend backend = TestBackends.create(backendName)) {
            Path dir = SharedData.bltMicro();
            ByteLatentTransformer blt = ModelFiles.loadBlt(dir, backend);
            EntropyModel entropy = ModelFiles.loadEntropyModel(dir, backend);
            Generator gen = new Generator(blt, PatchingScheme.of(patching, entropy));
            if (ignoreEos) {
                gen = gen.ignoringSpecialIds();
            }
            Sampler sampler = new Sampler(temperature, 0.95, 11);
            List<byte[]> prompts = prompts(count);
            List<ByteArrayOutputStream> streams = new ArrayList<>();
            List<IntConsumer> sinks = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                ByteArrayOutputStream s = new ByteArrayOutputStream();
                streams.add(s);
                sinks.add(s::write);
            }
            List<Generator.Result> batched = gen.generateBatch(prompts, n, sampler, stopBytes, sinks);
            assertEquals(count, batched.size());
            int lengths = 0;
            for (int i = 0; i < count; i++) {
                Generator.Result alone = gen.generate(prompts.get(i), n, sampler.fresh(), stopBytes, b -> { });
                assertArrayEquals(alone.bytes(), batched.get(i).bytes(), "prompt " + i + " batched vs alone");
                assertEquals(alone.patches(), batched.get(i).patches(), "prompt " + i + " patches");
                assertArrayEquals(batched.get(i).bytes(), streams.get(i).toByteArray(), "prompt " + i + " streamed");
                lengths += batched.get(i).bytes().length;
            }
            assertTrue(lengths > count * 4, "the prompts generated only " + lengths + " bytes in all");
        }
    }
}

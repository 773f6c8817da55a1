package blt4j.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.compute.Backend;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.EntropyModel;
import blt4j.train.ModelFiles;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Cached generation (patching on the fly, one global step per patch) equals the reference's full recomputation. */
class IncrementalGenerationTest {

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl"})
    void greedyIncrementalEqualsFullRecompute(String backendName) throws Exception {
        try (Backend backend = blt4j.TestBackends.create(backendName)) {
            var dir = SharedData.bltMicro();
            ByteLatentTransformer blt = ModelFiles.loadBlt(dir, backend);
            EntropyModel entropy = ModelFiles.loadEntropyModel(dir, backend);
            // a low threshold makes many patches, so the global step runs often
            Generator gen = new Generator(blt, entropy, 2.2f);
            byte[] prompt = "First Citizen:\nBefore we proceed".getBytes(StandardCharsets.UTF_8);
            int n = 40;
            byte[] full = gen.generateFullRecompute(prompt, n);
            ByteArrayOutputStream streamed = new ByteArrayOutputStream();
            Generator.Result r = gen.generate(prompt, n, Sampler.greedy(), streamed::write);
            assertArrayEquals(full, r.bytes(), "incremental and full recomputation disagree");
            assertArrayEquals(r.bytes(), streamed.toByteArray(), "streamed bytes differ from the result");
            // the fixture's BLT has random weights; it may pick a special id (a stop) early, identically in both paths
            assertTrue(r.bytes().length >= 8, "generated only " + r.bytes().length + " bytes");
            assertTrue(r.patches() > 2 && r.patches() < prompt.length + n + 1, "patches: " + r.patches());
        }
    }
}

package blt4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import blt4j.compute.Backend;
import blt4j.io.SafetensorsFile;
import blt4j.io.SafetensorsWeights;
import blt4j.patch.EntropyPatcher;
import com.google.gson.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The fixture's entropy model: entropies, logits and the patch decisions they imply, per backend. */
class EntropyModelFixtureTest {

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"short,reference", "long,reference", "packed,reference", "short,cpu", "long,cpu", "packed,cpu",
        "short,opencl", "long,opencl", "packed,opencl"})
    void entropiesAndPatchesMatchTheReference(String caseName, String backendName) throws Exception {
        JsonObject exp = Fixtures.expected(caseName);
        int[] x = Fixtures.ints(exp, "x");
        EntropyModelConfig cfg = EntropyModelConfig.read(Fixtures.dir().resolve("config.json"));
        try (Backend backend = blt4j.TestBackends.create(backendName);
             SafetensorsFile weights = SafetensorsFile.open(Fixtures.dir().resolve("entropy_model.safetensors"));
             SafetensorsFile tensors = SafetensorsFile.open(Fixtures.caseDir(caseName).resolve("tensors.safetensors"))) {
            EntropyModel model = new EntropyModel(cfg, backend);
            model.parameters().load(new SafetensorsWeights(weights), false);
            float[] logits = model.forward(x, 1, x.length).toHost();
            float[] entropies = model.entropies();
            Fixtures.assertClose("entropy logits", tensors.readFloats("entropy_logits"), logits, 1e-4, 1e-3);
            Fixtures.assertClose("entropies", tensors.readFloats("entropies"), entropies, 1e-4, 1e-3);

            float threshold = exp.has("threshold") ? exp.get("threshold").getAsFloat() : 2.87f;
            EntropyPatcher patcher = EntropyPatcher.global(threshold);
            assertArrayEquals(Fixtures.ints(exp, "patch_lengths"), patcher.lengths(entropies), "patch lengths (next slot)");
            assertArrayEquals(Fixtures.ints(exp, "patch_lengths_without_next_slot"),
                    patcher.withIncludeNextToken(false).lengths(entropies), "patch lengths (no next slot)");
            assertEquals(x.length, entropies.length);
        }
    }
}

package blt4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.TestBackends;
import blt4j.compute.Backend;
import blt4j.io.SafetensorsFile;
import blt4j.io.StDtype;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.EntropyModel;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The blt-micro fixture written in every layout blt4j reads (the released reference layout and the Hugging Face
 * port; F32, BF16 and F16; one file or shards) and loaded back: logits and entropies reproduce the reference code's.
 */
class ModelLayoutsTest {
    /** bf16 keeps 8 significant bits (weights move by up to 2^-9 of their size): measured worst error 0.021 on logits, 0.046 on entropies; f16: 0.012 on entropies. */
    static final double BF16_ATOL = 0.08;
    static final double F16_ATOL = 0.03;

    @TempDir
    Path tmp;

    private static float[] fixture(String key) throws IOException {
        try (SafetensorsFile t = SafetensorsFile.open(SharedData.bltMicro().resolve("cases/long/tensors.safetensors"))) {
            return t.readFloats(key);
        }
    }

    private static JsonObject expected() throws IOException {
        return new Gson().fromJson(Files.readString(SharedData.bltMicro().resolve("cases/long/expected.json")), JsonObject.class);
    }

    private static int[] ints(JsonObject o, String key) {
        return new Gson().fromJson(o.get(key), int[].class);
    }

    @ParameterizedTest(name = "{0} {1} shard {2} on {3}")
    @CsvSource({
        "REFERENCE, F32, 0, reference", "REFERENCE, F32, 0, cpu", "REFERENCE, F32, 0, opencl",
        "HF, F32, 0, reference", "HF, F32, 0, cpu", "HF, F32, 0, opencl",
        "HF, F32, 200000, cpu", "REFERENCE, F32, 150000, reference",
        "REFERENCE, BF16, 0, cpu", "HF, BF16, 300000, reference", "HF, BF16, 0, opencl",
        "HF, F16, 0, cpu"})
    void convertedFixtureReproducesTheReference(String target, String dtype, long shard, String backendName) throws Exception {
        Path out = tmp.resolve("model");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), out,
                new ModelExport.Options(ModelExport.Target.valueOf(target), StDtype.valueOf(dtype), shard));
        ModelFolder folder = ModelFolder.open(out);
        assertEquals(target.equals("HF") ? ModelFolder.Layout.HF : ModelFolder.Layout.RELEASED, folder.layout());
        if (shard > 0) {
            assertTrue(Files.exists(out.resolve("model.safetensors.index.json")) || Files.exists(
                    out.resolve("entropy_model/model.safetensors.index.json")), "sharded output has an index");
        }
        JsonObject exp = expected();
        int[] x = ints(exp, "x");
        int[] lengths = ints(exp, "patch_lengths");
        double atol = dtype.equals("F32") ? 1e-4 : dtype.equals("BF16") ? BF16_ATOL : F16_ATOL;
        double rel = dtype.equals("F32") ? 1e-3 : 0;
        try (Backend backend = TestBackends.create(backendName)) {
            ByteLatentTransformer blt = ModelFiles.loadBlt(out, backend);
            assertTrue(blt.hashTablesInFile());
            assertEquals(dtype.equals("BF16"), blt.parameters().lowPrecision(), "bf16 files keep bf16 matrix weights");
            blt.forward(x, 1, x.length, new int[][] {lengths});
            float[] logits = blt.activations().logits().toHost();
            double worst = assertClose("logits", fixture("logits"), logits, atol, rel);
            EntropyModel em = ModelFiles.loadEntropyModel(out, backend);
            em.forward(x, 1, x.length);
            double worstH = assertClose("entropies", fixture("entropies"), em.entropies(), atol, rel);
            System.out.printf("layout %s %s shard %d on %s: worst |Δ| logits %.3g, entropies %.3g%n", target, dtype,
                    shard, backendName, worst, worstH);
        }
    }

    /**
     * A bf16 checkpoint run with bf16 weights equals the same checkpoint widened to fp32 (convert widens exactly), up
     * to summation order: the bf16 kernels compute what the fp32 ones do on the same values.
     */
    @ParameterizedTest(name = "on {0}")
    @CsvSource({"reference", "cpu", "opencl"})
    void bf16WeightsComputeWhatTheirFp32WideningDoes(String backendName) throws Exception {
        Path bf16 = tmp.resolve("bf16");
        Path widened = tmp.resolve("widened");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), bf16,
                new ModelExport.Options(ModelExport.Target.REFERENCE, StDtype.BF16, 0));
        ModelExport.convert(ModelFolder.open(bf16), widened, new ModelExport.Options(ModelExport.Target.HF, StDtype.F32, 0));
        JsonObject exp = expected();
        int[] x = ints(exp, "x");
        int[] lengths = ints(exp, "patch_lengths");
        try (Backend backend = TestBackends.create(backendName)) {
            ByteLatentTransformer low = ModelFiles.loadBlt(bf16, backend);
            ByteLatentTransformer wide = ModelFiles.loadBlt(widened, backend);
            assertTrue(low.parameters().lowPrecision() && !wide.parameters().lowPrecision());
            low.forward(x, 1, x.length, new int[][] {lengths});
            wide.forward(x, 1, x.length, new int[][] {lengths});
            assertClose("logits", wide.activations().logits().toHost(), low.activations().logits().toHost(), 1e-4, 1e-4);
            EntropyModel e16 = ModelFiles.loadEntropyModel(bf16, backend);
            EntropyModel e32 = ModelFiles.loadEntropyModel(widened, backend);
            e16.forward(x, 1, x.length);
            e32.forward(x, 1, x.length);
            assertClose("entropies", e32.entropies(), e16.entropies(), 1e-4, 1e-4);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> low.parameters().grads());
            assertTrue(e.getMessage().contains("inference only"), e.getMessage());
        }
    }

    /** With bf16 weights, batched and speculative greedy generation still give exactly the plain one-at-a-time bytes. */
    @ParameterizedTest(name = "on {0}")
    @CsvSource({"cpu", "opencl"})
    void bf16GenerationModesAgreeByteForByte(String backendName) throws Exception {
        Path bf16 = tmp.resolve("bf16gen");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), bf16,
                new ModelExport.Options(ModelExport.Target.HF, StDtype.BF16, 0));
        try (Backend backend = TestBackends.create(backendName)) {
            ByteLatentTransformer blt = ModelFiles.loadBlt(bf16, backend);
            assertTrue(blt.parameters().lowPrecision());
            blt4j.generate.Generator gen = new blt4j.generate.Generator(blt,
                    blt4j.patch.PatchingScheme.of(blt4j.model.PatchingConfig.globalThreshold(2.2),
                            ModelFiles.loadEntropyModel(bf16, backend))).ignoringSpecialIds();
            blt4j.generate.Sampler greedy = new blt4j.generate.Sampler(0, 1, 0);
            java.util.List<byte[]> prompts = java.util.List.of("First Citizen:\n".getBytes(), "To be, or not".getBytes(),
                    "ROMEO:".getBytes());
            java.util.List<java.util.function.IntConsumer> sinks = java.util.List.of(b -> { }, b -> { }, b -> { });
            var batched = gen.generateBatch(prompts, 40, greedy, null, sinks);
            for (int i = 0; i < prompts.size(); i++) {
                byte[] alone = gen.generate(prompts.get(i), 40, greedy.fresh(), null, b -> { }).bytes();
                assertTrue(java.util.Arrays.equals(alone, batched.get(i).bytes()), "prompt " + i + " batched vs alone");
                byte[] spec = gen.generateSpeculative(prompts.get(i), 40, 4, greedy.fresh(), null, b -> { }).bytes();
                assertTrue(java.util.Arrays.equals(alone, spec), "prompt " + i + " speculative vs plain");
                assertEquals(40, alone.length);
            }
        }
    }

    @Test
    void trainableLoadOfTheFusedTablesEqualsTheFixtureWeights() throws Exception {
        Path out = tmp.resolve("hf");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), out,
                new ModelExport.Options(ModelExport.Target.HF, StDtype.F32, 0));
        try (Backend b = TestBackends.create("reference")) {
            float[] fromHf = ModelFiles.loadTrainableBlt(out, b).parameters().params().toHost();
            float[] fromFixture = ModelFiles.loadTrainableBlt(SharedData.bltMicro(), b).parameters().params().toHost();
            assertTrue(java.util.Arrays.equals(fromFixture, fromHf), "HF round trip keeps every weight bit");
        }
    }

    @Test
    void anInferenceModelRefusesToTrain() throws Exception {
        try (Backend b = TestBackends.create("reference")) {
            ByteLatentTransformer blt = ModelFiles.loadBlt(SharedData.bltMicro(), b);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> blt.newState(1, 8, 4, true));
            assertTrue(e.getMessage().contains("inference only"), e.getMessage());
        }
    }

    @Test
    void aMissingShardIsNamedBeforeAnythingLoads() throws Exception {
        Path out = tmp.resolve("sharded");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), out,
                new ModelExport.Options(ModelExport.Target.HF, StDtype.F32, 200_000));
        Path shard;
        try (Stream<Path> s = Files.list(out)) {
            shard = s.filter(p -> p.getFileName().toString().matches("model-0000[2-9]-of-.*")).findFirst().orElseThrow();
        }
        Files.delete(shard);
        try (Backend b = TestBackends.create("reference")) {
            IOException e = assertThrows(IOException.class, () -> ModelFiles.loadBlt(out, b));
            assertTrue(e.getMessage().contains(shard.getFileName().toString()) && e.getMessage().contains("is missing"),
                    e.getMessage());
        }
    }

    @Test
    void aTensorOfTheWrongShapeIsNamed() throws Exception {
        Path out = tmp.resolve("ref");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), out,
                new ModelExport.Options(ModelExport.Target.REFERENCE, StDtype.F32, 0));
        // a config that asks for a wider hash vocabulary than the file's tables hold
        Path config = out.resolve("config.json");
        String text = Files.readString(config).replace("\"encoder_hash_byte_group_vocab\": 1009", "\"encoder_hash_byte_group_vocab\": 1013");
        assertFalse(text.equals(Files.readString(config)), "the test edited the config");
        Files.writeString(config, text);
        try (Backend b = TestBackends.create("reference")) {
            IOException e = assertThrows(IOException.class, () -> ModelFiles.loadBlt(out, b));
            assertTrue(e.getMessage().contains("encoder_hash_tok_embedding.0.weight") && e.getMessage().contains("[1009, 32]")
                    && e.getMessage().contains("[1013, 32]"), e.getMessage());
        }
    }

    @Test
    void aConfigTooLargeForTheHeapIsRefusedWithWhatItNeedsBeforeAnythingIsAllocated() throws Exception {
        Path out = tmp.resolve("huge");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), out,
                new ModelExport.Options(ModelExport.Target.REFERENCE, StDtype.BF16, 0));
        Path config = out.resolve("config.json");
        String text = Files.readString(config).replace("\"dim_global\": 64", "\"dim_global\": 16384")
                .replace("\"n_layers_global\": 2", "\"n_layers_global\": 96");
        assertFalse(text.equals(Files.readString(config)), "the test edited the config");
        Files.writeString(config, text);
        try (Backend b = TestBackends.create("cpu")) {
            Exception e = assertThrows(Exception.class, () -> ModelFiles.loadBlt(out, b));
            assertTrue(e.getMessage().contains("needs at least") && e.getMessage().contains("GiB of")
                    && e.getMessage().contains("heap"), e.getMessage());
        }
    }

    @Test
    void aTensorOfTheWrongDtypeIsNamedBeforeAnythingLoads() throws Exception {
        Path out = tmp.resolve("dtype");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), out,
                new ModelExport.Options(ModelExport.Target.REFERENCE, StDtype.F32, 0));
        Path weights = out.resolve("model.safetensors");
        blt4j.io.SafetensorsWriter w = new blt4j.io.SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            for (String name : f.tensors().keySet()) {
                int[] shape = f.intShape(name);
                float[] v = f.readFloats(name);
                if (name.equals("local_decoder.norm.weight")) {
                    w.addInts(name, new int[v.length], shape); // an integer tensor where a weight belongs
                } else {
                    w.addFloats(name, v, shape);
                }
            }
        }
        w.write(weights);
        try (Backend b = TestBackends.create("reference")) {
            IOException e = assertThrows(IOException.class, () -> ModelFiles.loadBlt(out, b));
            assertTrue(e.getMessage().contains("local_decoder.norm.weight") && e.getMessage().contains("I32"), e.getMessage());
        }
    }

    @Test
    void anOutputFolderThatExistsIsRefusedAndNothingIsLeftBehind() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("taken"));
        Files.writeString(out.resolve("keep.txt"), "mine");
        IOException e = assertThrows(IOException.class, () -> ModelExport.convert(ModelFolder.open(SharedData.bltMicro()),
                out, new ModelExport.Options(ModelExport.Target.HF, StDtype.F32, 0)));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(1, s.count(), "no temporary folder left");
        }
    }

    /** |a − e| ≤ atol + rel·|e| for every element; returns the worst |a − e|. */
    static double assertClose(String what, float[] expected, float[] actual, double atol, double rel) {
        assertEquals(expected.length, actual.length, what + " length");
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(actual[i] - expected[i]);
            worst = Math.max(worst, d);
            if (!(d <= atol + rel * Math.abs(expected[i]))) {
                throw new AssertionError(what + "[" + i + "] = " + actual[i] + ", expected " + expected[i] + " (atol " + atol
                        + ", rel " + rel + ")");
            }
        }
        return worst;
    }
}

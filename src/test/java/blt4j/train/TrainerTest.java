package blt4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.compute.Backend;
import blt4j.backends.Backends;
import blt4j.model.EntropyModel;
import blt4j.model.EntropyModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Resume, divergence and checkpoint-safety behaviour of the shared training loop. */
class TrainerTest {
    @TempDir
    Path tmp;

    static EntropyModelConfig small() {
        EntropyModelConfig c = EntropyModelConfig.tiny();
        c.dim = 16;
        c.nHeads = 2;
        c.nLayers = 1;
        c.multipleOf = 16;
        c.maxSeqlen = 64;
        return c;
    }

    static Corpus corpus() throws IOException {
        String text = "the quick brown fox jumps over the lazy dog. ".repeat(40);
        return Corpus.of(List.of(text.getBytes(StandardCharsets.UTF_8)), "test");
    }

    static TrainOptions options(Path dir, int maxSteps, int ckptEvery) {
        return new TrainOptions(2, 32, 1e-2, 2, 0.1, 0.01, 1.0, maxSteps, 0, 0, 2, ckptEvery, 1, 7, dir);
    }

    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void aResumedRunContinuesTheSameLossCurveBitwise(String backendName) throws Exception {
        Corpus[] data = corpus().split(0.1);
        List<TrainingState.Point> straight;
        try (Backend b = Backends.create(backendName, 2, null)) {
            Trainer t = new Trainer(new EntropyModel(small(), b).initialize(1), options(tmp.resolve("a"), 6, 3), data[0], null, QUIET);
            t.run();
            straight = t.history();
        }
        try (Backend b = Backends.create(backendName, 2, null)) {
            Trainer killed = new Trainer(new EntropyModel(small(), b).initialize(1), options(tmp.resolve("b"), 6, 3), data[0], null, QUIET);
            killed.run(3); // stops after the step-3 checkpoint, as a killed run would have
        }
        try (Backend b = Backends.create(backendName, 2, null)) {
            // a different initial seed proves that the weights come from the checkpoint
            Trainer resumed = new Trainer(new EntropyModel(small(), b).initialize(99), options(tmp.resolve("b"), 6, 3), data[0], null, QUIET);
            assertTrue(resumed.resume());
            assertEquals(3, resumed.step());
            resumed.run();
            List<TrainingState.Point> h = resumed.history();
            assertEquals(straight.size(), h.size());
            for (int i = 0; i < straight.size(); i++) {
                assertEquals(Double.doubleToLongBits(straight.get(i).loss()), Double.doubleToLongBits(h.get(i).loss()),
                        "loss at step " + (i + 1) + ": " + straight.get(i).loss() + " vs " + h.get(i).loss());
            }
        }
        assertTrue(straight.get(5).loss() < straight.get(0).loss(), "loss should fall: " + straight);
    }

    @Test
    void aNanLossStopsTrainingAndKeepsTheLastGoodCheckpoint() throws Exception {
        Corpus[] data = corpus().split(0.1);
        Path dir = tmp.resolve("nan");
        try (Backend b = Backends.create("reference", 1, null)) {
            EntropyModel model = new EntropyModel(small(), b).initialize(1);
            Trainer t = new Trainer(model, options(dir, 10, 1), data[0], null, QUIET);
            t.run(2);
            Path good = Checkpoint.latestDir(dir);
            float[] poison = new float[model.parameters().size()];
            java.util.Arrays.fill(poison, Float.NaN);
            b.upload(poison, 0, model.parameters().params());
            Trainer.TrainingDivergedException e = assertThrows(Trainer.TrainingDivergedException.class, t::run);
            assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains(good.toString()), e.getMessage());
            assertEquals(good, Checkpoint.latestDir(dir));
            EntropyModel reloaded = ModelFiles.loadEntropyModel(dir, b);
            for (float v : reloaded.parameters().params().toHost()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void aCrashWhileWritingACheckpointLeavesThePreviousOneIntact() throws Exception {
        Corpus[] data = corpus().split(0.1);
        Path dir = tmp.resolve("crash");
        try (Backend b = Backends.create("reference", 1, null)) {
            Trainer t = new Trainer(new EntropyModel(small(), b).initialize(1), options(dir, 10, 2), data[0], null, QUIET);
            t.run(2);
            Path good = Checkpoint.latestDir(dir);
            // what a kill mid-write leaves: a half-written folder under its temporary name, and a truncated file
            Path partial = Files.createDirectory(dir.resolve(".writing-step-0000003-x"));
            Files.write(partial.resolve(Checkpoint.MODEL_FILE), new byte[] {1, 2, 3});
            assertEquals(good, Checkpoint.latestDir(dir));
            assertNotNull(ModelFiles.loadEntropyModel(dir, b));
            // a corrupt weights file in the checkpoint itself is reported, naming the file
            Files.write(good.resolve(Checkpoint.MODEL_FILE), new byte[] {9, 9, 9, 9});
            IOException e = assertThrows(IOException.class, () -> ModelFiles.loadEntropyModel(dir, b));
            assertTrue(e.getMessage().contains(Checkpoint.MODEL_FILE), e.getMessage());
        }
    }

    @Test
    void missingCheckpointsGiveClearErrors() {
        try (Backend b = Backends.create("reference", 1, null)) {
            IOException e = assertThrows(IOException.class, () -> ModelFiles.loadEntropyModel(tmp.resolve("nope"), b));
            assertTrue(e.getMessage().contains("not found"), e.getMessage());
        }
    }
}

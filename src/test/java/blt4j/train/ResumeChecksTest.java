package blt4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.backends.Backends;
import blt4j.compute.Backend;
import blt4j.model.EntropyModel;
import blt4j.model.EntropyModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resume checks what it resumes, and checkpoint saving never breaks the checkpoint {@code latest} names: a corrupt
 * or inconsistent state, a checkpoint of another model or other options fail with a clear message and change
 * nothing on disk; the final save of a run that ends on a checkpoint step keeps that folder; leftovers of
 * interrupted saves are removed; a fresh run refuses to start over an existing one.
 */
class ResumeChecksTest {
    @TempDir
    Path tmp;

    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    private Corpus[] data() throws IOException {
        return TrainerTest.corpus().split(0.1);
    }

    private Trainer trainer(Backend b, Path dir, TrainOptions o, EntropyModelConfig c) throws IOException {
        return new Trainer(new EntropyModel(c, b).initialize(1), o, data()[0], null, QUIET);
    }

    private Path finishedRun(Backend b) throws IOException {
        Path dir = tmp.resolve("run");
        trainer(b, dir, TrainerTest.options(dir, 4, 2), TrainerTest.small()).run();
        return dir;
    }

    /** Every file of a run with its bytes, to prove a failed resume changed nothing. */
    private static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return m;
    }

    private static void assertSame(Map<String, byte[]> before, Map<String, byte[]> after) {
        assertEquals(before.keySet(), after.keySet(), "files of the run changed");
        for (String k : before.keySet()) {
            assertArrayEquals(before.get(k), after.get(k), k + " changed");
        }
    }

    private IOException failedResume(Backend b, Path dir, TrainOptions o) throws IOException {
        Map<String, byte[]> before = snapshot(dir);
        IOException e = assertThrows(IOException.class, () -> trainer(b, dir, o, TrainerTest.small()).resume());
        assertSame(before, snapshot(dir));
        return e;
    }

    @Test
    void corruptOrMissingStateFailsClearlyAndChangesNothing() throws Exception {
        try (Backend b = Backends.create("reference", 1, null)) {
            Path dir = finishedRun(b);
            Path state = Checkpoint.latestDir(dir).resolve("state.json");
            String good = Files.readString(state);
            for (String bad : new String[] {good.replaceFirst("\"step\": 4", "\"step\": \"abc\""), "{", "", "null", "[]",
                    good.replaceFirst("\"history\": \\[", "\"history\": [[\"x\"],"), good.replaceFirst("\"seq_len\": 32", "\"seq_len\": null")}) {
                Files.writeString(state, bad);
                IOException e = failedResume(b, dir, TrainerTest.options(dir, 4, 2));
                assertTrue(e.getMessage().contains("state.json"), e.getMessage());
            }
            Files.delete(state);
            IOException e = failedResume(b, dir, TrainerTest.options(dir, 4, 2));
            assertTrue(e.getMessage().contains("state.json") && e.getMessage().contains("not found"), e.getMessage());
        }
    }

    @Test
    void stepsOfStateFolderAndOptimizerMustAgree() throws Exception {
        try (Backend b = Backends.create("reference", 1, null)) {
            Path dir = finishedRun(b);
            Path state = Checkpoint.latestDir(dir).resolve("state.json");
            Files.writeString(state, Files.readString(state).replaceFirst("\"step\": 4", "\"step\": 2"));
            IOException e = failedResume(b, dir, TrainerTest.options(dir, 4, 2));
            assertTrue(e.getMessage().contains("inconsistent") && e.getMessage().contains("step 2"), e.getMessage());
        }
    }

    @Test
    void anOptimizerOrWeightsOfAnotherModelAreRefused() throws Exception {
        try (Backend b = Backends.create("reference", 1, null)) {
            Path dir = finishedRun(b);
            EntropyModelConfig other = TrainerTest.small();
            other.dim *= 2;
            Path otherDir = tmp.resolve("other");
            new Trainer(new EntropyModel(other, b).initialize(1), TrainerTest.options(otherDir, 4, 2), data()[0], null, QUIET).run();
            Path latest = Checkpoint.latestDir(dir);
            Files.copy(Checkpoint.latestDir(otherDir).resolve("optimizer.safetensors"), latest.resolve("optimizer.safetensors"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            IOException e = failedResume(b, dir, TrainerTest.options(dir, 4, 2));
            assertTrue(e.getMessage().contains("optimizer") && e.getMessage().contains("another model"), e.getMessage());
        }
    }

    @Test
    void resumingWithOtherOptionsIsRefusedUnlessOverridden() throws Exception {
        try (Backend b = Backends.create("reference", 1, null)) {
            Path dir = tmp.resolve("run");
            trainer(b, dir, TrainerTest.options(dir, 6, 2), TrainerTest.small()).run(2);
            TrainOptions o = TrainerTest.options(dir, 6, 2);
            TrainOptions otherBatch = new TrainOptions(3, o.seqLen(), o.peakLr(), o.warmupSteps(), o.minLrRatio(), o.weightDecay(),
                    o.clipNorm(), o.maxSteps(), 0, 0, 2, 2, 1, o.seed(), dir);
            TrainOptions otherLr = new TrainOptions(o.batchRows(), o.seqLen(), 5e-3, o.warmupSteps(), o.minLrRatio(), o.weightDecay(),
                    o.clipNorm(), o.maxSteps(), 0, 0, 2, 2, 1, o.seed(), dir);
            for (TrainOptions bad : List.of(otherBatch, otherLr)) {
                IOException e = failedResume(b, dir, bad);
                assertTrue(e.getMessage().contains("--override-resume-options"), e.getMessage());
                assertTrue(e.getMessage().contains(bad == otherBatch ? "--batch 2 → 3" : "--lr 0.01 → 0.005"), e.getMessage());
            }
            Trainer t = trainer(b, dir, otherLr, TrainerTest.small());
            assertTrue(t.resume(true));
            assertEquals(2, t.step());
        }
    }

    @Test
    void aRunEndingOnACheckpointStepKeepsThatFolderWhenSavedAgain() throws Exception {
        try (Backend b = Backends.create("reference", 1, null)) {
            Path dir = finishedRun(b); // 4 steps, a checkpoint every 2: the final save is a checkpoint step
            Path latest = Checkpoint.latestDir(dir);
            Map<String, byte[]> before = snapshot(latest);
            Trainer again = trainer(b, dir, TrainerTest.options(dir, 4, 2), TrainerTest.small());
            assertTrue(again.resume());
            again.run(); // nothing to train: the final save must not replace the folder latest names
            assertEquals(latest, Checkpoint.latestDir(dir));
            assertSame(before, snapshot(latest));
        }
    }

    @Test
    void leftoversOfInterruptedSavesAreRemovedAtTheNextStart() throws Exception {
        try (Backend b = Backends.create("reference", 1, null)) {
            Path dir = tmp.resolve("run");
            trainer(b, dir, TrainerTest.options(dir, 6, 2), TrainerTest.small()).run(2);
            Path half = Files.createDirectory(dir.resolve(".writing-step-0000003-123"));
            Files.write(half.resolve("model.safetensors"), new byte[1000]);
            Path tmpLatest = Files.writeString(dir.resolve(".latest.777.tmp"), "step-0000003");
            Trainer t = trainer(b, dir, TrainerTest.options(dir, 6, 2), TrainerTest.small());
            assertTrue(t.resume());
            assertFalse(Files.exists(half));
            assertFalse(Files.exists(tmpLatest));
            t.run();
            List<String> names = new ArrayList<>();
            try (Stream<Path> s = Files.list(dir)) {
                s.forEach(p -> names.add(p.getFileName().toString()));
            }
            assertTrue(names.stream().noneMatch(n -> n.startsWith(".")), "leftovers: " + names);
        }
    }

    @Test
    void aFreshRunRefusesToStartOverAnExistingOne() throws Exception {
        try (Backend b = Backends.create("reference", 1, null)) {
            Path dir = finishedRun(b);
            Map<String, byte[]> before = snapshot(dir);
            IOException e = assertThrows(IOException.class, () -> trainer(b, dir, TrainerTest.options(dir, 4, 2), TrainerTest.small()).run());
            assertTrue(e.getMessage().contains("--resume"), e.getMessage());
            assertSame(before, snapshot(dir));
        }
    }

    @Test
    void deleteRunRefusesFoldersThatHoldOtherFiles() throws Exception {
        try (Backend b = Backends.create("reference", 1, null)) {
            Path dir = finishedRun(b);
            Files.writeString(dir.resolve("notes.txt"), "mine");
            assertThrows(IOException.class, () -> Checkpoint.deleteRun(dir));
            assertTrue(Files.exists(dir.resolve("notes.txt")));
            Files.delete(dir.resolve("notes.txt"));
            Checkpoint.deleteRun(dir);
            assertFalse(Files.exists(dir));
        }
    }
}

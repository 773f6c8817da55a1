package blt4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.backends.Backends;
import blt4j.compute.Backend;
import blt4j.io.SafetensorsFile;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 at random moments of a training run (a checkpoint is written after every step, so many kills land inside
 * the checkpoint writer): after every kill {@code latest} names a complete, loadable checkpoint (or none exists
 * yet), no leftovers survive the next start, and resuming until the end gives bitwise the losses and weights of an
 * uninterrupted run (cpu backend, one thread). {@code -Dblt4j.kills=N} asks for more kills (default 6).
 */
class KillResumeTest {
    @TempDir
    Path tmp;

    private static final int KILLS = Integer.getInteger("blt4j.kills", 6);

    private String[] args(Path data, Path config, Path run, int steps, boolean resume) {
        List<String> a = new ArrayList<>(List.of("train-entropy", "--data", data.toString(), "--config", config.toString(),
                "-o", run.toString(), "--steps", Integer.toString(steps), "--batch", "4", "--seq-len", "128",
                "--checkpoint-every", "1", "--eval-every", "0", "--held-out", "0", "--backend", "cpu", "--threads", "1",
                "--log-every", "1000", "--seed", "3", "--warmup", "5"));
        if (resume) {
            a.add("--resume");
        }
        return a.toArray(new String[0]);
    }

    private Process child(String[] args, Path log) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "--add-modules", "jdk.incubator.vector", "-cp",
                System.getProperty("java.class.path"), "blt4j.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return pb.start();
    }

    @Test
    void killedRunsResumeToTheUninterruptedResult() throws Exception {
        Path data = tmp.resolve("data.txt");
        StringBuilder text = new StringBuilder();
        Random r = new Random(1);
        for (int i = 0; i < 3000; i++) {
            text.append("word").append(r.nextInt(50)).append(i % 9 == 0 ? ".\n" : " ");
        }
        Files.writeString(data, text, StandardCharsets.UTF_8);
        Path config = tmp.resolve("config.json");
        Files.writeString(config, "{\"dim\": 64, \"n_layers\": 2, \"n_heads\": 2, \"max_seqlen\": 256, \"multiple_of\": 64}");
        int steps = Math.max(40, KILLS * 12);

        Path straight = tmp.resolve("straight");
        Path straightLog = tmp.resolve("straight.log");
        Process p0 = child(args(data, config, straight, steps, false), straightLog);
        assertTrue(p0.waitFor(300, TimeUnit.SECONDS), "uninterrupted run timed out");
        assertEquals(0, p0.exitValue(), Files.readString(straightLog));

        Path run = tmp.resolve("killed");
        Path log = tmp.resolve("killed.log");
        Random when = new Random(42);
        int kills = 0;
        int attempts = 0;
        boolean done = false;
        while (!done && attempts++ < KILLS * 4) {
            Process p = child(args(data, config, run, steps, kills > 0 || Files.exists(run.resolve(Checkpoint.LATEST))), log);
            long delayMs = 350 + when.nextInt(900);
            if (kills < KILLS && !p.waitFor(delayMs, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly(); // SIGKILL on Linux
                p.waitFor(30, TimeUnit.SECONDS);
                kills++;
                checkLatestIsComplete(run);
                Path at = Checkpoint.latestDir(run);
                System.out.printf("KillResumeTest: kill %d after %d ms, latest %s%n", kills, delayMs, at == null ? "none" : at.getFileName());
                continue;
            }
            assertTrue(p.waitFor(300, TimeUnit.SECONDS), "resumed run timed out");
            assertEquals(0, p.exitValue(), Files.readString(log));
            done = true;
        }
        assertTrue(done, "the killed run never finished: " + Files.readString(log));
        System.out.printf("KillResumeTest: %d kills, %d starts%n", kills, attempts);
        assertTrue(kills >= Math.min(KILLS, 3), "only " + kills + " kills landed");
        try (var s = Files.list(run)) {
            assertTrue(s.noneMatch(f -> f.getFileName().toString().startsWith(".")), "leftovers in " + run);
        }
        Path a = Checkpoint.latestDir(straight);
        Path b = Checkpoint.latestDir(run);
        assertEquals(a.getFileName(), b.getFileName());
        assertArrayEquals(losses(a), losses(b), "loss curves differ after kills and resumes");
        try (SafetensorsFile x = SafetensorsFile.open(a.resolve(Checkpoint.MODEL_FILE));
             SafetensorsFile y = SafetensorsFile.open(b.resolve(Checkpoint.MODEL_FILE))) {
            for (String name : x.tensors().keySet()) {
                assertArrayEquals(x.readFloats(name), y.readFloats(name), "weights " + name + " differ");
            }
        }
    }

    /** latest is absent (killed before the first save) or names a checkpoint whose model loads. */
    private static void checkLatestIsComplete(Path run) throws Exception {
        if (!Files.exists(run.resolve(Checkpoint.LATEST))) {
            return;
        }
        Path dir = Checkpoint.latestDir(run);
        assertNotNull(dir, "latest names a missing or incomplete folder: " + Files.readString(run.resolve(Checkpoint.LATEST)));
        try (Backend b = Backends.create("reference", 1, null)) {
            assertNotNull(ModelFiles.loadEntropyModel(run, b));
        }
        assertTrue(Files.isRegularFile(dir.resolve("state.json")) && Files.isRegularFile(dir.resolve("optimizer.safetensors")),
                "checkpoint " + dir + " lacks files: " + String.join(", ", new File(dir.toString()).list()));
    }

    private static double[] losses(Path checkpoint) throws Exception {
        JsonObject o = JsonParser.parseString(Files.readString(checkpoint.resolve("state.json"))).getAsJsonObject();
        JsonArray h = o.getAsJsonArray("history");
        double[] out = new double[h.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = h.get(i).getAsJsonArray().get(1).getAsDouble();
        }
        return out;
    }
}

package blt4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.backends.Backends;
import blt4j.compute.Backend;
import blt4j.generate.Generator;
import blt4j.generate.Sampler;
import blt4j.model.ByteLatentTransformer;
import blt4j.train.ModelFiles;
import blt4j.io.SafetensorsFile;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A checkpoint's own patching settings (args and patcher_args: monotonicity, threshold_add, max_patch_length) are
 * what {@code blt forward} patches with, and what {@code blt patch} uses when no scheme is given: both give the same
 * lengths as {@code blt patch} with the equivalent explicit scheme, and generation with them equals full
 * recomputation.
 */
class CheckpointPatchingTest {
    @TempDir
    Path tmp;

    /** The fixture checkpoint with its patching settings replaced in both args and patcher_args. */
    private Path checkpoint(double threshold, Double thresholdAdd, boolean monotonic, Integer max) throws Exception {
        Path fixture = SharedData.bltMicro();
        Path dir = tmp.resolve("ckpt");
        Files.createDirectories(dir);
        for (String f : new String[] {"weights.safetensors", "entropy_model.safetensors"}) {
            Files.copy(fixture.resolve(f), dir.resolve(f));
        }
        JsonObject cfg = JsonParser.parseString(Files.readString(fixture.resolve("config.json"))).getAsJsonObject();
        JsonObject args = cfg.getAsJsonObject("args");
        args.addProperty("patching_threshold", threshold);
        args.add("patching_threshold_add", orNull(thresholdAdd));
        args.addProperty("monotonicity", monotonic);
        args.add("max_patch_length", orNull(max));
        JsonObject patcher = cfg.getAsJsonObject("patcher_args");
        patcher.addProperty("threshold", threshold);
        patcher.add("threshold_add", orNull(thresholdAdd));
        patcher.addProperty("monotonicity", monotonic);
        patcher.add("max_patch_length", orNull(max));
        Files.writeString(dir.resolve("config.json"), cfg.toString());
        return dir;
    }

    private static JsonElement orNull(Number n) {
        return n == null ? JsonNull.INSTANCE : new JsonPrimitive(n);
    }

    private static int[] forwardLengths(Path ckpt, Path input, Path out) throws Exception {
        int code = Main.commandLine().execute("forward", "--backend", "cpu", "-c", ckpt.toString(), "-i", input.toString(),
                "--out", out.toString());
        assertEquals(0, code, "blt forward failed");
        try (SafetensorsFile dump = SafetensorsFile.open(out)) {
            return dump.readInts("patch_lengths");
        }
    }

    private static int[] patchLengths(String... args) throws Exception {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = Main.commandLine().execute(args);
        } finally {
            System.setOut(saved);
        }
        assertEquals(0, code, "blt patch failed: " + buf);
        var a = JsonParser.parseString(buf.toString(StandardCharsets.UTF_8)).getAsJsonObject().getAsJsonArray("lengths");
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).getAsInt();
        }
        return r;
    }

    @ParameterizedTest(name = "θ={0} θ_add={1} monotonic={2} max={3} → --scheme {4}")
    @CsvSource(nullValues = "null", value = {
            "0.15, null, true, null, monotonic",
            "0.15, null, true, 3, monotonic",
            "2.0, 0.0, false, null, combined",
            "3.0, null, false, 4, entropy"})
    void forwardPatchesAsTheCheckpointSays(double threshold, Double thresholdAdd, boolean monotonic, Integer max,
                                           String scheme) throws Exception {
        Path ckpt = checkpoint(threshold, thresholdAdd, monotonic, max);
        Path input = SharedData.bltMicro().resolve("cases/long/input.txt");
        int[] forward = forwardLengths(ckpt, input, tmp.resolve("dump.safetensors"));
        java.util.List<String> explicit = new java.util.ArrayList<>(java.util.List.of("patch", input.toString(), "--backend",
                "cpu", "-c", ckpt.toString(), "--scheme", scheme, "--threshold", Double.toString(threshold), "--next-slot",
                "--json"));
        if (thresholdAdd != null) {
            explicit.addAll(java.util.List.of("--threshold-add", Double.toString(thresholdAdd)));
        }
        if (max != null) {
            explicit.addAll(java.util.List.of("--max-patch-length", Integer.toString(max)));
        }
        int[] patched = patchLengths(explicit.toArray(new String[0]));
        assertArrayEquals(patched, forward, "blt forward and blt patch --scheme " + scheme + " disagree");
        int[] fromConfig = patchLengths("patch", input.toString(), "--backend", "cpu", "-c", ckpt.toString(), "--next-slot",
                "--json");
        assertArrayEquals(patched, fromConfig, "blt patch without --scheme ignored the checkpoint's settings");
        if (max != null) {
            assertTrue(java.util.Arrays.stream(forward).max().getAsInt() <= max, "max_patch_length not applied");
        }
        // greedy incremental generation with the checkpoint's own settings equals full recomputation
        try (Backend backend = Backends.create("cpu", 2, null)) {
            ByteLatentTransformer blt = ModelFiles.loadBlt(ckpt, backend);
            Generator gen = new Generator(blt, ModelFiles.patchingScheme(ckpt, blt.config().patching(), backend))
                    .ignoringSpecialIds();
            byte[] prompt = "Before we proceed any further".getBytes(StandardCharsets.UTF_8);
            byte[] incremental = gen.generate(prompt, 24, Sampler.greedy(), b -> { }).bytes();
            assertArrayEquals(gen.generateFullRecompute(prompt, 24), incremental, "generation with " + scheme);
            assertEquals(24, incremental.length);
        }
        // the settings matter: the released global rule would cut this input differently
        int[] global = patchLengths("patch", input.toString(), "--backend", "cpu", "-c", ckpt.toString(), "--scheme", "entropy",
                "--threshold", Double.toString(threshold), "--next-slot", "--json");
        if (monotonic || thresholdAdd != null) {
            assertTrue(!java.util.Arrays.equals(global, forward), "the test input does not tell the schemes apart");
        }
    }
}

package blt4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.backends.Backends;
import blt4j.compute.Backend;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.EntropyModel;
import blt4j.model.TrainableModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated copies of whole checkpoint folders (a reference-layout BLT and a training run's checkpoint), loaded the
 * way the commands load them. Every outcome must be a clean error of the project's own kinds (an IOException, or an
 * IllegalArgumentException subclass declared in blt4j, with a message) or a load that equals the original; never
 * another exception, an OutOfMemoryError, a hang, or different weights. Data-byte flips in files without checksums
 * (the downloaded reference layout) may load with different data: that is what a checksum-less format allows.
 * {@code -Dblt4j.fuzz.checkpoints=N} runs N mutations (default 600).
 */
class CheckpointFuzzTest {
    @TempDir
    Path tmp;

    private static final int MUTATIONS = Integer.getInteger("blt4j.fuzz.checkpoints", 600);
    private static final long SLOW_MS = 5000;

    enum Outcome { CLEAN_ERROR, IDENTICAL, TOLERATED_DATA_FLIP, BAD }

    private final Map<String, int[]> counts = new TreeMap<>();

    @Test
    void mutatedCheckpointsFailCleanlyOrLoadTheOriginal() throws Exception {
        Path run = tmp.resolve("run");
        try (Backend b = Backends.create("cpu", 1, null)) {
            Trainer t = new Trainer(new EntropyModel(TrainerTest.small(), b).initialize(1), TrainerTest.options(run, 2, 2),
                    TrainerTest.corpus().split(0.1)[0], null, new PrintStream(new ByteArrayOutputStream()));
            t.run();
        }
        Path runCheckpoint = Checkpoint.latestDir(run);
        Path reference = SharedData.bltMicro();
        float[] runWeights;
        float[] refWeights;
        try (Backend b = Backends.create("cpu", 1, null)) {
            runWeights = ModelFiles.loadEntropyModel(run, b).parameters().params().toHost();
            refWeights = ModelFiles.loadBlt(reference, b).parameters().params().toHost();
        }
        Random rnd = new Random(20261201);
        List<String> bad = new ArrayList<>();
        try (Backend b = Backends.create("cpu", 1, null)) {
            for (int i = 0; i < MUTATIONS; i++) {
                boolean useRun = rnd.nextBoolean();
                Path copy = tmp.resolve("m" + i);
                if (useRun) {
                    copyTree(run, copy);
                } else {
                    copyTree(reference, copy, "config.json", "weights.safetensors", "entropy_model.safetensors");
                }
                Path dir = useRun ? copy.resolve(runCheckpoint.getFileName()) : copy;
                String kind = mutate(useRun, copy, dir, rnd);
                Outcome o = load(b, useRun, copy, useRun ? runWeights : refWeights, kind, bad);
                counts.computeIfAbsent((useRun ? "run " : "reference ") + kind, k -> new int[Outcome.values().length])[o.ordinal()]++;
                deleteQuietly(copy);
            }
        }
        System.out.println("CheckpointFuzzTest: " + MUTATIONS + " mutations; per kind: clean error / identical / tolerated data flip / bad");
        counts.forEach((k, v) -> System.out.printf("  %-40s %s%n", k, Arrays.toString(v)));
        assertEquals(List.of(), bad.subList(0, Math.min(bad.size(), 20)), bad.size() + " bad outcomes");
    }

    private Outcome load(Backend b, boolean run, Path copy, float[] original, String kind, List<String> bad) {
        long t0 = System.nanoTime();
        Outcome o;
        String detail = "";
        try {
            float[] got;
            if (run) {
                EntropyModel m = new EntropyModel(TrainerTest.small(), b);
                Trainer t = new Trainer(m, TrainerTest.options(copy, 2, 2), TrainerTest.corpus().split(0.1)[0], null,
                        new PrintStream(new ByteArrayOutputStream()));
                if (!t.resume()) {
                    throw new IOException("no checkpoint");
                }
                got = m.parameters().params().toHost();
                // what eval and generate do with a run folder
                ModelFiles.loadEntropyModel(copy, b);
            } else {
                ByteLatentTransformer m = ModelFiles.loadBlt(copy, b);
                ModelFiles.loadEntropyModel(copy, b);
                got = m.parameters().params().toHost();
            }
            if (Arrays.equals(original, got)) {
                o = Outcome.IDENTICAL;
            } else if (!run && kind.equals("data byte flip")) {
                o = Outcome.TOLERATED_DATA_FLIP;
            } else {
                o = Outcome.BAD;
                detail = "loaded different weights";
            }
        } catch (IOException e) {
            o = e.getMessage() == null ? Outcome.BAD : Outcome.CLEAN_ERROR;
            detail = "IOException without a message";
        } catch (IllegalArgumentException e) {
            boolean ours = e.getClass().getName().startsWith("blt4j.") && e.getMessage() != null;
            o = ours ? Outcome.CLEAN_ERROR : Outcome.BAD;
            detail = e.toString();
        } catch (Throwable e) {
            o = Outcome.BAD;
            detail = e.toString();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (ms > SLOW_MS) {
            o = Outcome.BAD;
            detail = "took " + ms + " ms";
        }
        if (o == Outcome.BAD) {
            bad.add((run ? "run " : "reference ") + kind + ": " + detail);
        }
        return o;
    }

    private static final String[] JSON_VALUES = {"0", "-1", "1e12", "2147483648", "-2147483649", "\"abc\"", "null", "true",
            "[]", "{}", "1.5", "\"NaN\"", "1e-300"};

    /** Applies one random mutation; returns its kind. */
    private static String mutate(boolean run, Path copy, Path dir, Random rnd) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(copy)) {
            s.filter(Files::isRegularFile).forEach(files::add);
        }
        files.sort(null);
        Path f = files.get(rnd.nextInt(files.size()));
        String name = f.getFileName().toString();
        byte[] bytes = Files.readAllBytes(f);
        int kind = rnd.nextInt(name.endsWith(".json") ? 5 : name.endsWith(".safetensors") ? 5 : 3);
        if (name.endsWith(".json")) {
            String text = new String(bytes, StandardCharsets.UTF_8);
            switch (kind) {
                case 0 -> {
                    // replace one JSON value (a number, string, literal) with an odd one
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile(":\\s*(-?[0-9.eE+-]+|\"[^\"]*\"|true|false|null)").matcher(text);
                    List<int[]> spans = new ArrayList<>();
                    while (m.find()) {
                        spans.add(new int[] {m.start(1), m.end(1)});
                    }
                    if (spans.isEmpty()) {
                        return "json value edit (none)";
                    }
                    int[] sp = spans.get(rnd.nextInt(spans.size()));
                    Files.writeString(f, text.substring(0, sp[0]) + JSON_VALUES[rnd.nextInt(JSON_VALUES.length)] + text.substring(sp[1]));
                    return "json value edit";
                }
                case 1 -> {
                    Files.write(f, Arrays.copyOf(bytes, rnd.nextInt(Math.max(1, bytes.length))));
                    return "json truncation";
                }
                case 2 -> {
                    // duplicate a key: repeat the first "key": value pair of a random object
                    int at = text.indexOf('{', rnd.nextInt(Math.max(1, text.length() / 2)));
                    if (at < 0) {
                        at = text.indexOf('{');
                    }
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"([^\"]+)\"\\s*:\\s*(-?[0-9.eE+-]+|\"[^\"]*\"|true|false|null)").matcher(text);
                    if (!m.find(at)) {
                        return "json duplicate key (none)";
                    }
                    Files.writeString(f, text.substring(0, m.end()) + ", " + m.group() + text.substring(m.end()));
                    return "json duplicate key";
                }
                case 3 -> {
                    // delete one "key": value pair
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"[^\"]+\"\\s*:\\s*(-?[0-9.eE+-]+|\"[^\"]*\"|true|false|null)\\s*,").matcher(text);
                    List<int[]> spans = new ArrayList<>();
                    while (m.find()) {
                        spans.add(new int[] {m.start(), m.end()});
                    }
                    if (spans.isEmpty()) {
                        return "json key removal (none)";
                    }
                    int[] sp = spans.get(rnd.nextInt(spans.size()));
                    Files.writeString(f, text.substring(0, sp[0]) + text.substring(sp[1]));
                    return "json key removal";
                }
                default -> {
                    flip(bytes, 0, bytes.length, rnd);
                    Files.write(f, bytes);
                    return "json byte flip";
                }
            }
        }
        if (name.endsWith(".safetensors")) {
            long headerLen = bytes.length >= 8 ? java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong() : 0;
            int dataStart = (int) Math.min(bytes.length, Math.max(8, 8 + headerLen));
            switch (kind) {
                case 0 -> {
                    Files.write(f, Arrays.copyOf(bytes, rnd.nextInt(Math.max(1, bytes.length))));
                    return "safetensors truncation";
                }
                case 1 -> {
                    flip(bytes, 8, dataStart, rnd);
                    Files.write(f, bytes);
                    return "header byte flip";
                }
                case 2 -> {
                    if (dataStart >= bytes.length) {
                        return "data byte flip (none)";
                    }
                    flip(bytes, dataStart, bytes.length, rnd);
                    Files.write(f, bytes);
                    return "data byte flip";
                }
                case 3 -> {
                    long d = rnd.nextInt(17) - 8;
                    java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(headerLen + (d == 0 ? 1 : d));
                    Files.write(f, bytes);
                    return "header length edit";
                }
                default -> {
                    byte[] longer = Arrays.copyOf(bytes, bytes.length + 1 + rnd.nextInt(64));
                    Files.write(f, longer);
                    return "appended bytes";
                }
            }
        }
        // latest and other small files
        switch (kind) {
            case 0 -> {
                Files.writeString(f, new String[] {"", "step-9999999", "../run", "step-0000002/../..", "\u0000", "step-"}[rnd.nextInt(6)]);
                return "latest edit";
            }
            case 1 -> {
                Files.delete(f);
                Files.createDirectory(f);
                return "directory in place of " + (name.equals(Checkpoint.LATEST) ? "latest" : "a file");
            }
            default -> {
                Files.delete(f);
                return "missing " + (name.equals(Checkpoint.LATEST) ? "latest" : "file");
            }
        }
    }

    private static void flip(byte[] b, int from, int to, Random rnd) {
        if (to <= from) {
            return;
        }
        int n = 1 + rnd.nextInt(3);
        for (int i = 0; i < n; i++) {
            int at = from + rnd.nextInt(to - from);
            b[at] ^= (byte) (1 << rnd.nextInt(8));
        }
    }

    private static void copyTree(Path from, Path to, String... only) throws IOException {
        Files.createDirectories(to);
        if (only.length > 0) {
            for (String n : only) {
                Files.copy(from.resolve(n), to.resolve(n));
            }
            return;
        }
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                }
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a leftover temporary folder does no harm
        }
    }
}

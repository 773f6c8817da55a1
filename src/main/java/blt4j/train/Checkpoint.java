package blt4j.train;

import blt4j.model.ConfigException;
import blt4j.model.ConfigJson;
import blt4j.model.TrainableModel;

import blt4j.compute.Tensor;
import blt4j.io.AtomicFiles;
import blt4j.io.SafetensorsFile;
import blt4j.io.SafetensorsWeights;
import blt4j.io.SafetensorsWriter;
import blt4j.nn.AdamW;
import blt4j.nn.Parameter;
import blt4j.nn.ParameterStore;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.nio.file.StandardCopyOption;

/**
 * Training checkpoints: {@code <run>/step-NNNNNNN/} holds {@code config.json}, {@code model.safetensors} (reference
 * tensor names), {@code optimizer.safetensors} (AdamW moments) and {@code state.json}; {@code <run>/latest} names the
 * newest complete one. A step folder is written under a temporary name and renamed, and {@code latest} is replaced
 * atomically afterwards, so a crash at any point leaves the previous checkpoint usable.
 */
public final class Checkpoint {
    private Checkpoint() {}

    public static final String LATEST = "latest";
    public static final String MODEL_FILE = "model.safetensors";
    public static final String CONFIG_FILE = "config.json";
    private static final String OPTIMIZER_FILE = "optimizer.safetensors";
    private static final String STATE_FILE = "state.json";
    private static final int KEEP = 2;
    // nulls are written: a field set to null (no sliding window, no EOS id) must not come back as its default
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().create();

    /** Writes weights only (for export; no optimizer state). */
    public static void saveWeights(Path file, ParameterStore store, String kind) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        w.putMetadata("format", "blt4j");
        w.putMetadata("kind", kind);
        for (Parameter p : store.all()) {
            w.addFloats(p.name(), store.read(p), p.shape());
        }
        w.write(file);
    }

    /**
     * Writes the checkpoint of {@code state.step()} and points {@code latest} at it. Order, so that a kill at any
     * moment leaves {@code latest} naming a complete folder: everything is written into a temporary folder, which is
     * renamed to {@code step-N}; only then is {@code latest} replaced (atomically); older folders are pruned last.
     * The folder {@code latest} names is never deleted or replaced: when it already holds this step (a finished run
     * resumed, or a time budget ending on a checkpoint step, both with nothing trained since), it is kept as it is.
     */
    public static Path save(Path runDir, TrainableModel model, AdamW optimizer, TrainingState state) throws IOException {
        Files.createDirectories(runDir);
        String name = stepName(state.step());
        Path dir = runDir.resolve(name);
        Path current = latestDir(runDir);
        if (current != null && current.getFileName().toString().equals(name)) {
            return dir;
        }
        Path tmp = Files.createTempDirectory(runDir, WRITING_PREFIX + name + "-");
        try {
            JsonObject config = new JsonObject();
            config.addProperty("kind", model.kind());
            config.add("model", GSON.fromJson(model.configJson(), JsonObject.class));
            AtomicFiles.writeString(tmp.resolve(CONFIG_FILE), GSON.toJson(config));
            saveWeights(tmp.resolve(MODEL_FILE), model.parameters(), model.kind());
            model.saveCompanions(tmp);
            SafetensorsWriter opt = new SafetensorsWriter();
            Tensor[] mv = optimizer.moments();
            opt.addFloats("m", mv[0].toHost(), mv[0].size());
            opt.addFloats("v", mv[1].toHost(), mv[1].size());
            opt.putMetadata("step", Integer.toString(optimizer.stepCount()));
            opt.write(tmp.resolve(OPTIMIZER_FILE));
            AtomicFiles.writeString(tmp.resolve(STATE_FILE), GSON.toJson(stateJson(state)));
            if (Files.exists(dir)) {
                // a complete step-N that latest does not name: a save killed between rename and latest; replace it
                deleteTree(dir);
            }
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.writeString(runDir.resolve(LATEST), name + "\n");
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            Path kept = latestDir(runDir);
            throw new IOException("could not write the checkpoint of step " + state.step() + " in " + runDir + " ("
                    + e.getMessage() + "); " + (kept == null ? "there is no earlier checkpoint"
                    : "the previous checkpoint " + kept.getFileName() + " is intact and loadable"), e);
        }
        pruneOld(runDir, name);
        return dir;
    }

    private static final String WRITING_PREFIX = ".writing-";

    static String stepName(int step) {
        return String.format("step-%07d", step);
    }

    /**
     * Deletes what interrupted saves leave behind: temporary step folders and temporary {@code latest} files (the
     * trainer calls it when a run starts or resumes). Safe only while no other process writes checkpoints into the
     * same run, as is the case for a training run.
     */
    public static void removeLeftovers(Path runDir) throws IOException {
        if (!Files.isDirectory(runDir)) {
            return;
        }
        List<Path> leftovers;
        try (Stream<Path> s = Files.list(runDir)) {
            leftovers = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(WRITING_PREFIX) || n.startsWith("." + LATEST + ".") && n.endsWith(".tmp");
            }).toList();
        }
        for (Path p : leftovers) {
            deleteTree(p);
        }
    }

    /**
     * The newest complete checkpoint folder of a run, or null when there is none: {@code latest} must be a regular
     * file naming a {@code step-N} folder of this run (no other path) that holds its weights.
     */
    public static Path latestDir(Path runDir) {
        Path latest = runDir.resolve(LATEST);
        try {
            if (Files.isRegularFile(latest) && Files.size(latest) < 256) {
                String name = Files.readString(latest).trim();
                if (name.matches("step-[0-9]{1,10}")) {
                    Path dir = runDir.resolve(name);
                    if (Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(MODEL_FILE))) {
                        return dir;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /**
     * Restores weights, optimizer and history; returns null if the run has no checkpoint yet. The folder name, the
     * step in {@code state.json} and the optimizer's step must agree, and the checkpoint must be of the same model
     * kind; nothing is changed on disk, and on any error the model's weights are not trusted (load again).
     */
    public static TrainingState loadLatest(Path runDir, TrainableModel model, AdamW optimizer) throws IOException {
        Path dir = latestDir(runDir);
        if (dir == null) {
            if (Files.exists(runDir.resolve(LATEST))) {
                throw new IOException("checkpoint " + runDir.resolve(LATEST) + " points to a missing or incomplete folder");
            }
            return null;
        }
        TrainingState state = readState(dir.resolve(STATE_FILE));
        String kind = readKind(dir.resolve(CONFIG_FILE));
        if (!kind.equals(model.kind())) {
            throw new IOException("checkpoint " + dir + " holds a '" + kind + "' model, this run trains a '" + model.kind() + "'");
        }
        if (!dir.getFileName().toString().equals(stepName(state.step()))) {
            throw new IOException("checkpoint " + dir + " is inconsistent: its state.json says step " + state.step());
        }
        Path optFile = dir.resolve(OPTIMIZER_FILE);
        if (!Files.isRegularFile(optFile)) {
            throw new IOException("checkpoint " + dir + " has no " + OPTIMIZER_FILE + "; it cannot be resumed");
        }
        loadWeights(dir.resolve(MODEL_FILE), model.parameters());
        try (SafetensorsFile opt = SafetensorsFile.open(optFile)) {
            Tensor[] mv = optimizer.moments();
            float[] m = checkedLength(opt, "m", mv[0].size());
            float[] v = checkedLength(opt, "v", mv[1].size());
            String step = opt.metadata().get("step");
            int optimizerStep;
            try {
                optimizerStep = Integer.parseInt(step == null ? "" : step.trim());
            } catch (NumberFormatException e) {
                throw new IOException(optFile + ": optimizer step '" + step + "' is not a number");
            }
            if (optimizerStep != state.step()) {
                throw new IOException("checkpoint " + dir + " is inconsistent: state.json says step " + state.step()
                        + ", the optimizer " + optimizerStep);
            }
            model.parameters().backend().upload(m, 0, mv[0]);
            model.parameters().backend().upload(v, 0, mv[1]);
            optimizer.setStepCount(optimizerStep);
        }
        return state;
    }

    private static String readKind(Path file) throws IOException {
        try {
            JsonObject o = ConfigJson.parseObject(ConfigJson.readText(file, "checkpoint config"), file.toString());
            if (o == null || !o.has("kind") || !o.get("kind").isJsonPrimitive()) {
                throw new IOException(file + " names no model kind");
            }
            return o.get("kind").getAsString();
        } catch (JsonParseException | IllegalStateException | UnsupportedOperationException | ConfigException e) {
            throw new IOException(file + " is corrupt: " + e.getMessage(), e);
        }
    }

    private static float[] checkedLength(SafetensorsFile f, String name, int size) throws IOException {
        float[] data = f.readFloats(name);
        if (data.length != size) {
            throw new IOException("optimizer state " + name + " has " + data.length + " values, the model has " + size
                    + " parameters (checkpoint of another model?)");
        }
        return data;
    }

    public static void loadWeights(Path file, ParameterStore store) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("checkpoint weights not found: " + file);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            store.load(new SafetensorsWeights(f), false);
        }
    }

    private static JsonObject stateJson(TrainingState s) {
        JsonObject o = new JsonObject();
        o.addProperty("step", s.step());
        o.addProperty("train_flops", s.trainFlops());
        TrainOptions t = s.options();
        JsonObject opts = new JsonObject();
        opts.addProperty("batch_rows", t.batchRows());
        opts.addProperty("seq_len", t.seqLen());
        opts.addProperty("lr", t.peakLr());
        opts.addProperty("warmup", t.warmupSteps());
        opts.addProperty("lr_min_ratio", t.minLrRatio());
        opts.addProperty("weight_decay", t.weightDecay());
        opts.addProperty("clip", t.clipNorm());
        opts.addProperty("max_steps", t.maxSteps());
        opts.addProperty("seed", t.seed());
        o.add("options", opts);
        JsonArray h = new JsonArray();
        for (TrainingState.Point p : s.history()) {
            JsonArray row = new JsonArray();
            row.add(p.step());
            row.add(p.loss());
            row.add(p.lr());
            row.add(p.bytesPerSec());
            if (p.evalBitsPerByte() != null) {
                row.add(p.evalBitsPerByte());
            }
            h.add(row);
        }
        o.add("history", h);
        return o;
    }

    private static TrainingState readState(Path file) throws IOException {
        String text = ConfigJson.readText(file, "checkpoint state");
        try {
            JsonObject o = ConfigJson.parseObject(text, file.toString()); // strict: no duplicate keys, no trailing text
            if (o == null) {
                throw new IOException("checkpoint state " + file + " is empty");
            }
            List<TrainingState.Point> history = new ArrayList<>();
            for (var e : o.getAsJsonArray("history")) {
                JsonArray r = e.getAsJsonArray();
                history.add(new TrainingState.Point(r.get(0).getAsInt(), r.get(1).getAsDouble(), r.get(2).getAsDouble(),
                        r.get(3).getAsDouble(), r.size() > 4 ? r.get(4).getAsDouble() : null));
            }
            int step = o.get("step").getAsInt();
            if (step < 0) {
                throw new IOException("checkpoint state " + file + " has a negative step " + step);
            }
            JsonObject t = o.getAsJsonObject("options");
            TrainOptions options = t == null ? null : new TrainOptions(t.get("batch_rows").getAsInt(), t.get("seq_len").getAsInt(),
                    t.get("lr").getAsDouble(), t.get("warmup").getAsInt(), t.get("lr_min_ratio").getAsDouble(),
                    t.get("weight_decay").getAsDouble(), t.get("clip").getAsDouble(), t.get("max_steps").getAsInt(), 0, 0, 0, 0, 0,
                    t.get("seed").getAsLong(), file.getParent().getParent());
            // checkpoints written before FLOPs were kept have none
            double flops = o.has("train_flops") ? o.get("train_flops").getAsDouble() : 0;
            if (!(flops >= 0) || Double.isInfinite(flops)) {
                throw new IOException("checkpoint state " + file + " has train_flops " + flops);
            }
            return new TrainingState(step, options, history, flops);
        } catch (JsonParseException | NullPointerException | IllegalStateException | UnsupportedOperationException
                 | NumberFormatException | ClassCastException | IndexOutOfBoundsException | ConfigException e) {
            throw new IOException("checkpoint state " + file + " is corrupt: " + e.getMessage(), e);
        }
    }

    /**
     * The options a resume must share with the run it continues (they shape batches, the schedule and the
     * optimizer): "name: stored → given" for every difference, empty when they agree.
     */
    public static List<String> optionDifferences(TrainOptions stored, TrainOptions given) {
        List<String> d = new ArrayList<>();
        if (stored == null) {
            return d;
        }
        differ(d, "--batch", stored.batchRows(), given.batchRows());
        differ(d, "--seq-len", stored.seqLen(), given.seqLen());
        differ(d, "--lr", stored.peakLr(), given.peakLr());
        differ(d, "--warmup", stored.warmupSteps(), given.warmupSteps());
        differ(d, "--lr-min-ratio", stored.minLrRatio(), given.minLrRatio());
        differ(d, "--weight-decay", stored.weightDecay(), given.weightDecay());
        differ(d, "--clip", stored.clipNorm(), given.clipNorm());
        differ(d, "--steps", stored.maxSteps(), given.maxSteps());
        differ(d, "--seed", stored.seed(), given.seed());
        return d;
    }

    private static void differ(List<String> out, String flag, Object stored, Object given) {
        if (!stored.equals(given)) {
            out.add(flag + " " + stored + " → " + given);
        }
    }

    private static void pruneOld(Path runDir, String keep) throws IOException {
        List<Path> steps;
        try (Stream<Path> s = Files.list(runDir)) {
            steps = new ArrayList<>(s.filter(p -> p.getFileName().toString().startsWith("step-") && Files.isDirectory(p))
                    .sorted(Comparator.comparing(Path::toString)).toList());
        }
        for (int i = 0; i < steps.size() - KEEP; i++) {
            if (!steps.get(i).getFileName().toString().equals(keep)) {
                deleteTree(steps.get(i));
            }
        }
    }

    /**
     * Deletes a training run folder written by blt4j (checkpoints, {@code latest}, leftovers, loss curve, a BLT
     * run's entropy copy); refuses a folder holding anything else, so a mistyped path loses nothing.
     */
    public static void deleteRun(Path runDir) throws IOException {
        if (!Files.exists(runDir)) {
            return;
        }
        List<Path> entries;
        try (Stream<Path> s = Files.list(runDir)) {
            entries = s.toList();
        }
        for (Path p : entries) {
            String n = p.getFileName().toString();
            boolean ours = n.equals(LATEST) || n.startsWith("step-") || n.startsWith(WRITING_PREFIX)
                    || n.startsWith("." + LATEST + ".") || n.equals("loss.png") || n.equals(ModelFiles.ENTROPY_SUBDIR);
            if (!ours) {
                throw new IOException("refusing to delete " + runDir + ": it holds " + n + ", which is not part of a training run");
            }
        }
        deleteTree(runDir);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

package blt4j.train;

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
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

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

    public static Path save(Path runDir, TrainableModel model, AdamW optimizer, TrainingState state) throws IOException {
        Files.createDirectories(runDir);
        String name = String.format("step-%07d", state.step());
        Path tmp = Files.createTempDirectory(runDir, ".writing-" + name + "-");
        try {
            JsonObject config = new JsonObject();
            config.addProperty("kind", model.kind());
            config.add("model", GSON.fromJson(model.configJson(), JsonObject.class));
            AtomicFiles.writeString(tmp.resolve(CONFIG_FILE), GSON.toJson(config));
            saveWeights(tmp.resolve(MODEL_FILE), model.parameters(), model.kind());
            SafetensorsWriter opt = new SafetensorsWriter();
            Tensor[] mv = optimizer.moments();
            opt.addFloats("m", mv[0].toHost(), mv[0].size());
            opt.addFloats("v", mv[1].toHost(), mv[1].size());
            opt.putMetadata("step", Integer.toString(optimizer.stepCount()));
            opt.write(tmp.resolve(OPTIMIZER_FILE));
            AtomicFiles.writeString(tmp.resolve(STATE_FILE), GSON.toJson(stateJson(state)));
            Path dir = runDir.resolve(name);
            if (Files.exists(dir)) {
                deleteTree(dir);
            }
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            AtomicFiles.writeString(runDir.resolve(LATEST), name + "\n");
            pruneOld(runDir, name);
            return dir;
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    /** The newest complete checkpoint folder of a run, or null when there is none. */
    public static Path latestDir(Path runDir) {
        Path latest = runDir.resolve(LATEST);
        try {
            if (Files.isRegularFile(latest)) {
                Path dir = runDir.resolve(Files.readString(latest).trim());
                if (Files.isRegularFile(dir.resolve(MODEL_FILE))) {
                    return dir;
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    /** Restores weights, optimizer and history; returns null if the run has no checkpoint yet. */
    public static TrainingState loadLatest(Path runDir, TrainableModel model, AdamW optimizer) throws IOException {
        Path dir = latestDir(runDir);
        if (dir == null) {
            if (Files.exists(runDir.resolve(LATEST))) {
                throw new IOException("checkpoint " + runDir.resolve(LATEST) + " points to a missing or incomplete folder");
            }
            return null;
        }
        loadWeights(dir.resolve(MODEL_FILE), model.parameters());
        try (SafetensorsFile opt = SafetensorsFile.open(dir.resolve(OPTIMIZER_FILE))) {
            Tensor[] mv = optimizer.moments();
            model.parameters().backend().upload(checkedLength(opt, "m", mv[0].size()), 0, mv[0]);
            model.parameters().backend().upload(checkedLength(opt, "v", mv[1].size()), 0, mv[1]);
            String step = opt.metadata().get("step");
            optimizer.setStepCount(step == null ? 0 : Integer.parseInt(step));
        }
        return readState(dir.resolve(STATE_FILE));
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
        try {
            JsonObject o = GSON.fromJson(Files.readString(file), JsonObject.class);
            List<TrainingState.Point> history = new ArrayList<>();
            for (var e : o.getAsJsonArray("history")) {
                JsonArray r = e.getAsJsonArray();
                history.add(new TrainingState.Point(r.get(0).getAsInt(), r.get(1).getAsDouble(), r.get(2).getAsDouble(),
                        r.get(3).getAsDouble(), r.size() > 4 ? r.get(4).getAsDouble() : null));
            }
            return new TrainingState(o.get("step").getAsInt(), null, history);
        } catch (JsonParseException | NullPointerException | IllegalStateException e) {
            throw new IOException("checkpoint state " + file + " is corrupt: " + e.getMessage(), e);
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

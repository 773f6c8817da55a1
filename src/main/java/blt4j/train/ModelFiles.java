package blt4j.train;

import blt4j.compute.Backend;
import blt4j.io.SafetensorsFile;
import blt4j.io.SafetensorsWeights;
import blt4j.model.BltConfig;
import blt4j.model.ByteLatentTransformer;
import blt4j.model.EntropyModel;
import blt4j.model.EntropyModelConfig;
import blt4j.model.PatchingConfig;
import blt4j.patch.PatchingScheme;
import blt4j.model.ConfigException;
import blt4j.model.ConfigJson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import blt4j.nn.ParameterStore;

/**
 * Finds and loads models from what a user points at: a training run folder (uses its {@code latest} checkpoint),
 * one checkpoint folder, or the reference layout of the fixtures ({@code config.json} with {@code args},
 * {@code entropy_model} and {@code patcher_args}; {@code weights.safetensors}; {@code entropy_model.safetensors}).
 */
public final class ModelFiles {
    private ModelFiles() {}

    /** Where the entropy model of a BLT run is kept, relative to the run folder. */
    public static final String ENTROPY_SUBDIR = "entropy";

    public static EntropyModel loadEntropyModel(Path path, Backend backend) throws IOException {
        Path dir = resolve(path);
        Path reference = dir.resolve("entropy_model.safetensors");
        if (Files.isRegularFile(reference)) {
            EntropyModelConfig cfg = EntropyModelConfig.read(dir.resolve(Checkpoint.CONFIG_FILE));
            EntropyModel m = new EntropyModel(cfg, backend);
            loadInto(reference, m.parameters());
            return m;
        }
        JsonObject config = readConfig(dir);
        String kind = kind(config, dir);
        if ("blt".equals(kind) && Files.isDirectory(path.resolve(ENTROPY_SUBDIR))) {
            return loadEntropyModel(path.resolve(ENTROPY_SUBDIR), backend);
        }
        if (!"entropy".equals(kind) && !"byte-transformer".equals(kind)) {
            throw new IOException(dir + " holds a '" + kind + "' checkpoint, not a byte LM (entropy model)");
        }
        EntropyModel m = new EntropyModel(EntropyModelConfig.fromJson(config, configSource(dir)), backend, kind);
        loadInto(dir.resolve(Checkpoint.MODEL_FILE), m.parameters());
        return m;
    }

    public static ByteLatentTransformer loadBlt(Path path, Backend backend) throws IOException {
        Path dir = resolve(path);
        Path reference = dir.resolve("weights.safetensors");
        if (Files.isRegularFile(reference)) {
            ByteLatentTransformer m = new ByteLatentTransformer(BltConfig.read(dir.resolve(Checkpoint.CONFIG_FILE)), backend);
            loadInto(reference, m.parameters());
            return m;
        }
        JsonObject config = readConfig(dir);
        String kind = kind(config, dir);
        if (!"blt".equals(kind)) {
            throw new IOException(dir + " holds a '" + kind + "' checkpoint, not a BLT");
        }
        ByteLatentTransformer m = new ByteLatentTransformer(BltConfig.fromJson(config, configSource(dir)), backend);
        loadInto(dir.resolve(Checkpoint.MODEL_FILE), m.parameters());
        return m;
    }

    /** The BLT config of a checkpoint, or null when the checkpoint holds another kind of model. */
    public static BltConfig bltConfigOrNull(Path path) throws IOException {
        Path dir = resolve(path);
        if (Files.isRegularFile(dir.resolve("weights.safetensors"))) {
            return BltConfig.read(dir.resolve(Checkpoint.CONFIG_FILE));
        }
        JsonObject config = readConfig(dir);
        return "blt".equals(kind(config, dir)) ? BltConfig.fromJson(config, configSource(dir)) : null;
    }

    /**
     * The patching stage a BLT checkpoint's config asks for, with the checkpoint's entropy model loaded only when
     * the rule needs it.
     */
    public static PatchingScheme patchingScheme(Path checkpoint, PatchingConfig config, Backend backend) throws IOException {
        return PatchingScheme.of(config, config.needsEntropies() ? loadEntropyModel(checkpoint, backend) : null);
    }

    /** A run folder resolves to its latest checkpoint; anything else must be a checkpoint folder itself. */
    public static Path resolve(Path path) throws IOException {
        if (!Files.exists(path)) {
            throw new IOException("checkpoint not found: " + path);
        }
        if (!Files.isDirectory(path)) {
            throw new IOException("checkpoint must be a folder (a training run or one of its step-* folders): " + path);
        }
        if (Files.exists(path.resolve(Checkpoint.LATEST))) {
            Path latest = Checkpoint.latestDir(path);
            if (latest == null) {
                throw new IOException(path.resolve(Checkpoint.LATEST) + " points to a missing or incomplete checkpoint");
            }
            return latest;
        }
        Path config = path.resolve(Checkpoint.CONFIG_FILE);
        if (!Files.exists(config)) {
            throw new IOException(path + " is not a checkpoint: no " + Checkpoint.CONFIG_FILE + " and no " + Checkpoint.LATEST);
        }
        ConfigJson.readText(config, "checkpoint config"); // refuses a folder, FIFO, device or binary file up front
        return path;
    }

    /** A checkpoint's config.json, parsed strictly (malformed JSON and duplicate keys are a ConfigException). */
    private static JsonObject readConfig(Path dir) throws IOException {
        Path file = dir.resolve(Checkpoint.CONFIG_FILE);
        return ConfigJson.parseObject(ConfigJson.readText(file, "checkpoint config"), file.toString());
    }

    private static String configSource(Path dir) {
        return dir.resolve(Checkpoint.CONFIG_FILE).toString();
    }

    /** The checkpoint's {@code kind} ("blt", "entropy", "byte-transformer"); a training checkpoint must name one. */
    public static String kind(JsonObject config, Path dir) {
        JsonElement k = config.get("kind");
        if (k == null || !k.isJsonPrimitive() || !k.getAsJsonPrimitive().isString()) {
            throw ConfigException.field(configSource(dir), "kind", k, "a training checkpoint's config must name its kind "
                    + "(\"blt\", \"entropy\" or \"byte-transformer\")");
        }
        return k.getAsString();
    }

    /** The kind of model a checkpoint or reference-layout folder holds ("blt" for a reference BLT folder). */
    public static String kindOf(Path checkpoint) throws IOException {
        Path dir = resolve(checkpoint);
        if (Files.isRegularFile(dir.resolve("weights.safetensors"))) {
            return "blt";
        }
        if (Files.isRegularFile(dir.resolve("entropy_model.safetensors"))) {
            return "entropy";
        }
        return kind(readConfig(dir), dir);
    }

    private static void loadInto(Path file, ParameterStore store) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("weights not found: " + file);
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            store.load(new SafetensorsWeights(f), false);
        } catch (IOException e) {
            throw new IOException("cannot load " + file + ": " + e.getMessage(), e);
        }
    }
}

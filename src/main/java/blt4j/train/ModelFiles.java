package blt4j.train;

import blt4j.compute.Backend;
import blt4j.model.BltConfig;
import blt4j.model.BpeTransformer;
import blt4j.tokenizer.BpeTokenizer;
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
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import blt4j.io.FileWeights;
import blt4j.io.MappedRows;
import blt4j.nn.HashRows;
import blt4j.nn.Parameter;
import blt4j.compute.DType;
import java.util.List;
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
        ModelFolder f = ModelFolder.open(path);
        EntropyModelConfig cfg = f.entropyConfig();
        if (cfg == null || BpeTransformer.KIND.equals(f.kind())) {
            throw new IOException(f.dir() + " holds a '" + f.kind() + "' checkpoint, not a byte LM (entropy model)");
        }
        List<Parameter> declared = EntropyModel.declaredParameters(cfg);
        Path file = f.entropyWeightsFile();
        requireFile(file);
        try (ParameterStore.WeightSource source = f.entropyWeights(names(declared))) {
            EntropyModel m = new EntropyModel(cfg, backend, f.bltConfig() == null ? f.kind() : "entropy",
                    matrixDtype(source, declared));
            m.parameters().load(source, false);
            return m;
        } catch (IOException e) {
            throw new IOException("cannot load " + file + ": " + e.getMessage(), e);
        }
    }

    /** The BPE baseline of a checkpoint: the token LM and the merges saved next to its weights. */
    public static BpeTransformer loadBpeTransformer(Path path, Backend backend) throws IOException {
        ModelFolder f = ModelFolder.open(path);
        if (!BpeTransformer.KIND.equals(f.kind())) {
            throw new IOException(f.dir() + " holds a '" + f.kind() + "' checkpoint, not the BPE baseline");
        }
        BpeTokenizer bpe = BpeTokenizer.load(f.dir().resolve(BpeTransformer.MERGES_FILE));
        BpeTransformer m;
        try {
            m = new BpeTransformer(f.entropyConfig(), bpe, backend);
        } catch (ConfigException e) {
            throw new IOException(f.dir() + ": " + e.getMessage(), e);
        }
        loadInto(f.entropyWeightsFile(), () -> f.entropyWeights(names(m.parameters())), m.parameters());
        return m;
    }

    /**
     * A BLT for inference: its hash tables are read where they lie in the weight file (memory-mapped, in the file's
     * dtype), every other weight is loaded into the parameter buffer. Use {@link #loadTrainableBlt} to train it.
     */
    public static ByteLatentTransformer loadBlt(Path path, Backend backend) throws IOException {
        ModelFolder f = bltFolder(path);
        BltConfig c = f.bltConfig();
        List<Parameter> declared = ByteLatentTransformer.declaredParameters(c);
        List<String> names = names(declared);
        Set<String> tables = new LinkedHashSet<>();
        for (int i = 0; i < c.hashTables(); i++) {
            tables.add(ByteLatentTransformer.hashTableName(i));
        }
        Path file = f.bltWeightsFile();
        requireFile(file);
        ParameterStore.WeightSource source = f.bltWeights(names);
        try {
            HashRows[] rows = new HashRows[c.hashTables()];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = hashRows(source, ByteLatentTransformer.hashTableName(i), c.encoderHashByteGroupVocab, c.dimLocalEncoder);
            }
            DType matrices = matrixDtype(source, declared);
            boolean inFile = matrices == DType.BF16 && source instanceof FileWeights && ParameterStore.mapsWeights();
            ByteLatentTransformer m = ByteLatentTransformer.withHashTables(c, backend, rows, matrices, inFile);
            m.parameters().load(source, false, tables);
            return m;
        } catch (IOException e) {
            source.close();
            throw new IOException("cannot load " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            source.close();
            throw e;
        }
        // on success the source stays open: the hash tables read from its mapping
    }

    /** A BLT with every weight, hash tables included, in its parameter buffer (for training or fine-tuning). */
    public static ByteLatentTransformer loadTrainableBlt(Path path, Backend backend) throws IOException {
        ModelFolder f = bltFolder(path);
        ByteLatentTransformer m = new ByteLatentTransformer(f.bltConfig(), backend);
        loadInto(f.bltWeightsFile(), () -> f.bltWeights(names(m.parameters())), m.parameters());
        return m;
    }

    private static ModelFolder bltFolder(Path path) throws IOException {
        ModelFolder f = ModelFolder.open(path);
        if (f.bltConfig() == null) {
            throw new IOException(f.dir() + " holds a '" + f.kind() + "' checkpoint, not a BLT");
        }
        return f;
    }

    /** A hash table from a weight source: rows read from the mapping, or (a .pth) the table read into memory. */
    private static HashRows hashRows(ParameterStore.WeightSource source, String name, int rows, int dim) throws IOException {
        source.requireShape(name, rows, dim);
        if (source instanceof FileWeights fw) {
            return new MappedRows(fw.files(), fw.location(name), rows, dim);
        }
        return HashRows.of(source.read(name), rows, dim);
    }

    private static void requireFile(Path file) throws IOException {
        if (file == null || !Files.isRegularFile(file)) {
            throw new IOException("weights not found: " + file);
        }
    }

    /** The BLT config of a checkpoint, or null when the checkpoint holds another kind of model. */
    public static BltConfig bltConfigOrNull(Path path) throws IOException {
        return ModelFolder.open(path).bltConfig();
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
        if (!Files.exists(config) && Files.exists(path.resolve(ModelFolder.PARAMS_FILE))) {
            config = path.resolve(ModelFolder.PARAMS_FILE); // a consolidated facebook/blt folder
        }
        if (!Files.exists(config)) {
            throw new IOException(path + " is not a checkpoint: no " + Checkpoint.CONFIG_FILE + ", "
                    + ModelFolder.PARAMS_FILE + " or " + Checkpoint.LATEST);
        }
        ConfigJson.readText(config, "checkpoint config"); // refuses a folder, FIFO, device or binary file up front
        return path;
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

    /** The kind of model a checkpoint or released-layout folder holds ("blt", "entropy", "byte-transformer"). */
    public static String kindOf(Path checkpoint) throws IOException {
        return ModelFolder.open(checkpoint).kind();
    }

    private interface SourceOpener {
        ParameterStore.WeightSource open() throws IOException;
    }

    private static List<String> names(ParameterStore store) {
        return names(store.all());
    }

    static List<String> names(List<Parameter> params) {
        List<String> names = new ArrayList<>();
        params.forEach(p -> names.add(p.name()));
        return names;
    }

    /**
     * The matrix weights stay in the file's precision: BF16 when every Linear weight of the file is bfloat16 (the
     * released checkpoints), else F32 (F16 files are widened to fp32).
     */
    private static DType matrixDtype(ParameterStore.WeightSource source, List<Parameter> declared) throws IOException {
        boolean any = false;
        for (Parameter p : declared) {
            if (p.matrix()) {
                if (!source.contains(p.name()) || !source.isBf16(p.name())) {
                    return DType.F32;
                }
                any = true;
            }
        }
        return any ? DType.BF16 : DType.F32;
    }

    private static void loadInto(Path file, SourceOpener opener, ParameterStore store) throws IOException {
        requireFile(file);
        try (ParameterStore.WeightSource source = opener.open()) {
            store.load(source, false);
        } catch (IOException e) {
            throw new IOException("cannot load " + file + ": " + e.getMessage(), e);
        }
    }
}

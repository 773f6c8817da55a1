package blt4j.train;

import blt4j.io.FileWeights;
import blt4j.io.TensorFiles;
import blt4j.io.TorchWeights;
import blt4j.model.BltConfig;
import blt4j.model.BpeTransformer;
import blt4j.model.ConfigJson;
import blt4j.model.EntropyModelConfig;
import blt4j.model.HfConfig;
import blt4j.nn.ParameterStore;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;

/**
 * What a model folder holds and in which layout: a blt4j checkpoint, the fixtures' reference layout, a released
 * checkpoint ({@code facebook/blt-1b}: {@code config.json} with {@code args}, {@code model.safetensors}, the entropy
 * model in {@code entropy_model/}), a released entropy model ({@code facebook/blt-entropy}), a consolidated
 * {@code params.json} + {@code consolidated.pth} folder ({@code facebook/blt}), or the Hugging Face port (one config
 * and one set of weights for both models). Configs are read when the folder is opened; weights only when asked.
 */
public final class ModelFolder {

    public enum Layout {
        CHECKPOINT("blt4j checkpoint"),
        FIXTURE("reference layout (fixture: weights.safetensors + entropy_model.safetensors)"),
        RELEASED("released reference layout (facebook/blt-1b, blt-7b)"),
        RELEASED_ENTROPY("released entropy model (facebook/blt-entropy)"),
        CONSOLIDATED("consolidated PyTorch checkpoint (facebook/blt: params.json + consolidated.pth)"),
        HF("Hugging Face port (BltForCausalLM)");

        private final String description;

        Layout(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    public static final String ENTROPY_DIR = "entropy_model";
    static final String PARAMS_FILE = "params.json";
    static final String PTH_FILE = "consolidated.pth";

    private final Path dir;
    private final Layout layout;
    private final String kind;
    private final BltConfig blt;
    private final EntropyModelConfig entropy;
    private final String patchingSource;
    private final Path bltWeights;
    private final Path entropyWeights;
    private final ModelFolder entropyFolder;

    private ModelFolder(Path dir, Layout layout, String kind, BltConfig blt, EntropyModelConfig entropy,
                        String patchingSource, Path bltWeights, Path entropyWeights, ModelFolder entropyFolder) {
        this.dir = dir;
        this.layout = layout;
        this.kind = kind;
        this.blt = blt;
        this.entropy = entropy;
        this.patchingSource = patchingSource;
        this.bltWeights = bltWeights;
        this.entropyWeights = entropyWeights;
        this.entropyFolder = entropyFolder;
    }

    /** Opens a run folder (its latest checkpoint), a checkpoint folder, or a folder in any released layout. */
    public static ModelFolder open(Path path) throws IOException {
        Path dir = ModelFiles.resolve(path);
        Path configFile = dir.resolve(Checkpoint.CONFIG_FILE);
        if (!Files.exists(configFile) && Files.isRegularFile(dir.resolve(PARAMS_FILE))) {
            return consolidated(dir);
        }
        JsonObject config = read(configFile);
        String source = configFile.toString();
        if (config.has("kind")) {
            return checkpoint(path, dir, config);
        }
        if (Files.isRegularFile(dir.resolve("weights.safetensors"))) {
            return new ModelFolder(dir, Layout.FIXTURE, "blt", BltConfig.fromJson(config, source),
                    EntropyModelConfig.fromJson(config, source), config.has("patcher_args") ? source + " patcher_args" : source + " args",
                    dir.resolve("weights.safetensors"), required(dir, "entropy_model.safetensors"), null);
        }
        if (Files.isRegularFile(dir.resolve("entropy_model.safetensors")) && !config.has("args")) {
            return new ModelFolder(dir, Layout.FIXTURE, "entropy", null, EntropyModelConfig.fromJson(config, source),
                    null, null, dir.resolve("entropy_model.safetensors"), null);
        }
        if (HfConfig.isHf(config)) {
            HfConfig.Models m = HfConfig.fromJson(config, source);
            Path weights = weights(dir, "model");
            return new ModelFolder(dir, Layout.HF, "blt", m.blt(), m.entropy(), source, weights, weights, null);
        }
        JsonObject args = ConfigJson.section(config, "args", source);
        if (args == null) {
            throw new IOException(source + ": not a model config this version reads (no \"kind\", \"args\" or "
                    + "\"encoder_config\"); expected a blt4j checkpoint, a released BLT or entropy model, or a Hugging Face BLT");
        }
        if (!isBltArgs(args)) {
            return new ModelFolder(dir, Layout.RELEASED_ENTROPY, "entropy", null, EntropyModelConfig.fromJson(config, source),
                    null, null, weights(dir, "model"), null);
        }
        return released(dir, config, source);
    }

    /** A blt4j checkpoint; a BLT run keeps its entropy model in the run folder's {@code entropy/}. */
    private static ModelFolder checkpoint(Path path, Path dir, JsonObject config) throws IOException {
        String kind = ModelFiles.kind(config, dir);
        String source = dir.resolve(Checkpoint.CONFIG_FILE).toString();
        Path weights = dir.resolve(Checkpoint.MODEL_FILE);
        if ("blt".equals(kind)) {
            BltConfig blt = BltConfig.fromJson(config, source);
            Path entropyDir = path.resolve(ModelFiles.ENTROPY_SUBDIR);
            ModelFolder entropy = Files.isDirectory(entropyDir) ? open(entropyDir) : null;
            return new ModelFolder(dir, Layout.CHECKPOINT, kind, blt, entropy == null ? null : entropy.entropy, source,
                    weights, null, entropy);
        }
        if ("entropy".equals(kind) || "byte-transformer".equals(kind) || BpeTransformer.KIND.equals(kind)) {
            return new ModelFolder(dir, Layout.CHECKPOINT, kind, null, EntropyModelConfig.fromJson(config, source), null,
                    null, weights, null);
        }
        return new ModelFolder(dir, Layout.CHECKPOINT, kind, null, null, null, null, null, null);
    }

    /** {@code facebook/blt-1b}: the BLT's {@code args}; patching from train_args.json or the entropy model's params. */
    private static ModelFolder released(Path dir, JsonObject config, String source) throws IOException {
        BltConfig blt = BltConfig.fromJson(config, source);
        String patching = source + " args";
        Path trainArgs = dir.resolve("train_args.json");
        Path entropyDir = dir.resolve(ENTROPY_DIR);
        JsonObject patcherArgs = null;
        if (Files.isRegularFile(trainArgs)) {
            patcherArgs = patcherArgs(read(trainArgs), trainArgs.toString());
            patching = trainArgs + " data.patcher_args";
        }
        if (patcherArgs == null && Files.isRegularFile(entropyDir.resolve(PARAMS_FILE))) {
            patcherArgs = patcherArgs(read(entropyDir.resolve(PARAMS_FILE)), entropyDir.resolve(PARAMS_FILE).toString());
            patching = entropyDir.resolve(PARAMS_FILE) + " data.patcher_args";
        }
        if (patcherArgs != null) {
            blt = blt.withPatcherArgs(patcherArgs, patching);
        }
        ModelFolder entropy = null;
        EntropyModelConfig entropyConfig = null;
        Path entropyWeights = null;
        if (Files.isDirectory(entropyDir)) {
            entropy = open(entropyDir);
            entropyConfig = entropy.entropy;
        } else if (Files.isRegularFile(dir.resolve("entropy_model.safetensors"))) {
            entropyConfig = EntropyModelConfig.fromJson(config, source);
            entropyWeights = dir.resolve("entropy_model.safetensors");
        }
        return new ModelFolder(dir, Layout.RELEASED, "blt", blt, entropyConfig, patching, weights(dir, "model"),
                entropyWeights, entropy);
    }

    /** {@code facebook/blt}'s folders: {@code params.json} (entropy_model, or a BLT under model) + consolidated.pth. */
    private static ModelFolder consolidated(Path dir) throws IOException {
        Path paramsFile = dir.resolve(PARAMS_FILE);
        String source = paramsFile.toString();
        JsonObject params = read(paramsFile);
        // blt-entropy's model.safetensors may stand in for the .pth beside the same params.json
        Path safetensors = TensorFiles.find(dir, "model");
        Path pth = safetensors != null ? safetensors : required(dir, PTH_FILE);
        JsonObject model = ConfigJson.section(params, "model", source);
        if (model != null && isBltArgs(model)) {
            JsonObject wrapped = new JsonObject();
            wrapped.add("args", model);
            BltConfig blt = BltConfig.fromJson(wrapped, source);
            JsonObject patcherArgs = patcherArgs(params, source);
            if (patcherArgs != null) {
                blt = blt.withPatcherArgs(patcherArgs, source + " data.patcher_args");
            }
            ModelFolder entropy = Files.isDirectory(dir.resolveSibling(ENTROPY_DIR)) ? open(dir.resolveSibling(ENTROPY_DIR)) : null;
            return new ModelFolder(dir, Layout.CONSOLIDATED, "blt", blt, entropy == null ? null : entropy.entropy,
                    source + (patcherArgs != null ? " data.patcher_args" : " model"), pth, null, entropy);
        }
        return new ModelFolder(dir, Layout.CONSOLIDATED, "entropy", null, EntropyModelConfig.fromJson(params, source),
                null, null, pth, null);
    }

    private static JsonObject patcherArgs(JsonObject root, String source) {
        JsonObject data = ConfigJson.section(root, "data", source);
        return data == null ? null : ConfigJson.section(data, "patcher_args", source);
    }

    private static boolean isBltArgs(JsonObject args) {
        return args.has("dim_global") || args.has("dim_local_encoder") || args.has("n_layers_global")
                || args.has("encoder_hash_byte_group_size");
    }

    private static JsonObject read(Path file) throws IOException {
        return ConfigJson.parseObject(ConfigJson.readText(file, "model config"), file.toString());
    }

    private static Path required(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new IOException(dir + ": " + name + " is missing");
        }
        return p;
    }

    private static Path weights(Path dir, String stem) throws IOException {
        Path p = TensorFiles.find(dir, stem);
        if (p == null) {
            throw new IOException(dir + ": no weights (" + stem + ".safetensors or " + stem + TensorFiles.INDEX_SUFFIX + ")");
        }
        return p;
    }

    // ---------------------------------------------------------------- what was found

    public Path dir() {
        return dir;
    }

    public Layout layout() {
        return layout;
    }

    /** "blt", "entropy", "byte-transformer" or "bpe-transformer". */
    public String kind() {
        return kind;
    }

    /** The BLT's config, or null when the folder holds only a byte LM. */
    public BltConfig bltConfig() {
        return blt;
    }

    /** The entropy model's config (the folder's own byte LM, or the BLT's patcher), or null when there is none. */
    public EntropyModelConfig entropyConfig() {
        return entropy;
    }

    /** Where the BLT's patching settings were read. */
    public String patchingSource() {
        return patchingSource;
    }

    /** The BLT's weight file (or shard index). */
    public Path bltWeightsFile() {
        return bltWeights;
    }

    /** The entropy model's weight file, following a separate entropy folder. */
    public Path entropyWeightsFile() {
        return entropyFolder != null ? entropyFolder.entropyWeightsFile() : entropyWeights;
    }

    /** The folder the entropy model comes from when it is not this one. */
    public ModelFolder entropyFolder() {
        return entropyFolder;
    }

    /** Opens the BLT's weights under the names of this layout. */
    public ParameterStore.WeightSource bltWeights(Collection<String> parameters) throws IOException {
        if (bltWeights == null) {
            throw new IOException(dir + " holds no BLT (" + layout.description() + ", kind " + kind + ")");
        }
        if (bltWeights.getFileName().toString().endsWith(".pth")) {
            return TorchWeights.open(bltWeights);
        }
        TensorFiles files = TensorFiles.open(bltWeights);
        return layout == Layout.HF ? FileWeights.hfBlt(files, parameters, blt.encoderHashByteGroupVocab)
                : FileWeights.referenceNames(files, parameters);
    }

    /** Opens the entropy model's weights under the names of this layout. */
    public ParameterStore.WeightSource entropyWeights(Collection<String> parameters) throws IOException {
        if (entropyFolder != null) {
            return entropyFolder.entropyWeights(parameters);
        }
        if (entropyWeights == null) {
            throw new IOException(dir + " holds no entropy model weights (" + layout.description() + ")");
        }
        if (entropyWeights.getFileName().toString().endsWith(".pth")) {
            return TorchWeights.open(entropyWeights);
        }
        TensorFiles files = TensorFiles.open(entropyWeights);
        return layout == Layout.HF ? FileWeights.hfEntropy(files, parameters) : FileWeights.referenceNames(files, parameters);
    }

}

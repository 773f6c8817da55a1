package blt4j.model;

import blt4j.tokenizer.BpeTokenizer;
import blt4j.tokenizer.ByteTokenizer;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.annotations.SerializedName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import blt4j.nn.FeedForward;

/**
 * Shape of the byte-level entropy model ({@code LMTransformerArgs} in the reference; the JSON uses its field names).
 * Unset fields keep the reference defaults.
 */
public final class EntropyModelConfig {
    public int dim = 768;
    @SerializedName("n_layers") public int nLayers = 14;
    @SerializedName("n_heads") public int nHeads = 12;
    @SerializedName("n_kv_heads") public Integer nKvHeads;
    @SerializedName("max_seqlen") public int maxSeqlen = 8192;
    @SerializedName("vocab_size") public int vocabSize = 260;
    @SerializedName("multiple_of") public int multipleOf = 256;
    @SerializedName("ffn_dim_multiplier") public Double ffnDimMultiplier = 1.0;
    @SerializedName("norm_eps") public float normEps = 1e-5f;
    @SerializedName("rope_theta") public double ropeTheta = 10000.0;
    @SerializedName("sliding_window") public Integer slidingWindow = 512;
    @SerializedName("attn_bias_type") public String attnBiasType = "local_block_causal";
    @SerializedName("eos_id") public Integer eosId = ByteTokenizer.EOS;
    public Long seed = 42L;

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().create();

    /** The released entropy model's shape: 14 layers, d 768, 12 heads, FFN 2048, RoPE θ 10000, window 512. */
    public static EntropyModelConfig released() {
        return new EntropyModelConfig();
    }

    /** {@code entropy-tiny}: 2 layers, d 128, 4 heads (head dim 32), FFN 512, window 512, θ 10000 (0.59M params). */
    public static EntropyModelConfig tiny() {
        EntropyModelConfig c = new EntropyModelConfig();
        c.dim = 128;
        c.nLayers = 2;
        c.nHeads = 4;
        return c;
    }

    /**
     * The byte-transformer baseline: a plain byte LM as wide and deep as a BLT's global model, full causal
     * attention (no window), RoPE θ of the BLT.
     */
    public static EntropyModelConfig byteTransformer(BltConfig blt, int maxSeqlen) {
        EntropyModelConfig c = new EntropyModelConfig();
        c.dim = blt.dimGlobal;
        c.nLayers = blt.nLayersGlobal;
        c.nHeads = blt.nHeadsGlobal;
        c.multipleOf = blt.multipleOf;
        c.ropeTheta = blt.ropeTheta;
        c.slidingWindow = null;
        c.attnBiasType = "causal";
        c.maxSeqlen = maxSeqlen;
        return c;
    }

    /** The BPE baseline: the byte-transformer's shape over a BPE vocabulary ({@code maxSeqlen} in tokens). */
    public static EntropyModelConfig bpeTransformer(BltConfig blt, int maxSeqlen, int vocabSize) {
        EntropyModelConfig c = byteTransformer(blt, maxSeqlen);
        c.vocabSize = vocabSize;
        return c;
    }

    /** True when the model reads the byte tokenizer's 260 ids (an entropy model or the byte baseline). */
    public boolean byteVocabulary() {
        return vocabSize == ByteTokenizer.VOCAB;
    }

    public static EntropyModelConfig preset(String name) {
        return switch (name) {
            case "entropy-tiny" -> tiny();
            case "entropy-100m", "entropy-released" -> released();
            default -> throw new ConfigException("preset", null, "unknown entropy model preset '" + name
                    + "' (known: entropy-tiny, entropy-released)");
        };
    }

    public int hiddenDim() {
        return FeedForward.hiddenDim(dim, multipleOf, ffnDimMultiplier == null ? 1.0 : ffnDimMultiplier);
    }

    public int headDim() {
        return dim / nHeads;
    }

    /** Window in keys including the query itself; 0 means unlimited causal attention. */
    public int window() {
        return slidingWindow == null ? 0 : slidingWindow;
    }

    /** Checks every field and that the model fits in memory (as the model's constructor asks before building). */
    public void validate() {
        validateFields("config");
        checkMemory("config", false, 0, 0);
    }

    /** Checks every field's range; throws {@link ConfigException} naming {@code source} and the field's JSON name. */
    public void validateFields(String source) {
        BltConfig.dim(source, "dim", dim);
        BltConfig.layers(source, "n_layers", nLayers);
        BltConfig.heads(source, "n_heads", nHeads, "dim", dim, true);
        ConfigException.require(nKvHeads == null || nKvHeads == nHeads, source, "n_kv_heads", nKvHeads,
                "must be null or n_heads (" + nHeads + "): grouped-query attention is not supported");
        BltConfig.seq(source, "max_seqlen", maxSeqlen);
        ConfigException.require(vocabSize >= ByteTokenizer.VOCAB && vocabSize <= BpeTokenizer.MAX_VOCAB, source, "vocab_size",
                vocabSize, "must be " + ByteTokenizer.VOCAB + " (256 bytes + 4 special ids), or up to "
                        + BpeTokenizer.MAX_VOCAB + " for a BPE token model");
        BltConfig.ffn(source, multipleOf, ffnDimMultiplier, new String[] {"dim"}, new int[] {dim});
        BltConfig.normEps(source, "norm_eps", normEps);
        BltConfig.ropeTheta(source, "rope_theta", ropeTheta);
        ConfigException.require(slidingWindow == null || slidingWindow >= 1, source, "sliding_window", slidingWindow,
                "must be null (full causal attention) or ≥ 1");
        ConfigException.require(eosId == null || eosId >= 0 && eosId < vocabSize, source, "eos_id", eosId,
                "must be null or a token id in [0, " + (vocabSize - 1) + "]");
    }

    /** Exact parameter count from the shape, without building the model. */
    public long parameterCount() {
        long d = dim;
        long block = 4 * d * d + 3 * d * hiddenDim() + 2 * d;
        return 2L * vocabSize * d + nLayers * block + d;
    }

    /** See {@link BltConfig#checkMemory}. */
    public void checkMemory(String source, boolean training, int rows, int seqLen) {
        ModelMemory.require(source, "entropy model", parameterCount(), training, activationBytes(rows, seqLen));
    }

    /** A lower bound on the f32 activations of one training batch: per token every layer's intermediates and the logits. */
    public long activationBytes(int rows, int seqLen) {
        long perToken = (long) nLayers * (7L * dim + 3L * hiddenDim()) + 2L * vocabSize;
        return ModelMemory.activations(rows, seqLen, perToken);
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    public static EntropyModelConfig fromJson(String json) {
        return fromJson(json, "config");
    }

    public static EntropyModelConfig fromJson(String json, String source) {
        return fromJson(ConfigJson.parseObject(json, source), source);
    }

    /**
     * Binds one section of fields (our own form, a checkpoint's {@code model}, or the reference's
     * {@code entropy_model} / {@code args}); an empty section, a wrongly typed value and an out-of-range field are
     * a {@link ConfigException}. Unknown fields are ignored.
     */
    public static EntropyModelConfig fromSection(JsonObject obj, String source, String prefix) {
        if (ConfigJson.knownKeys(obj, EntropyModelConfig.class) == 0) {
            throw new ConfigException(source, prefix.isEmpty() ? null : prefix.substring(0, prefix.length() - 1),
                    (prefix.isEmpty() ? "config" : "section " + prefix.substring(0, prefix.length() - 1))
                            + " has no entropy model fields (dim, n_layers, n_heads, ...)");
        }
        EntropyModelConfig c = new EntropyModelConfig();
        ConfigJson.bind(obj, c, source, prefix, Set.of());
        c.validateFields(source);
        return c;
    }

    /**
     * Accepts our own form (the fields at top level), a training checkpoint's {@code {"kind": "entropy", "model":
     * {...}}}, or the reference layout, where the fields sit under {@code "entropy_model"} (fixture / params.json)
     * or {@code "args"} (blt-entropy config.json). A BLT reference config without an {@code entropy_model}
     * section is refused (it used to fall back to the default shape silently).
     */
    public static EntropyModelConfig fromJson(JsonObject root, String source) {
        JsonObject entropy = ConfigJson.section(root, "entropy_model", source);
        if (entropy != null) {
            return fromSection(entropy, source, "entropy_model.");
        }
        JsonObject args = ConfigJson.section(root, "args", source);
        if (args != null) {
            boolean bltArgs = root.has("patcher_args") || args.has("dim_global") || args.has("dim_local_encoder")
                    || args.has("n_layers_global") || args.has("encoder_hash_byte_group_size");
            if (bltArgs) {
                throw new ConfigException(source, "entropy_model", "a BLT reference config with no \"entropy_model\" "
                        + "section: the entropy model's shape is not given");
            }
            return fromSection(args, source, "args.");
        }
        if (root.has("patcher_args")) {
            throw new ConfigException(source, "entropy_model", "reference-layout config has no \"entropy_model\" section");
        }
        JsonObject model = ConfigJson.section(root, "model", source);
        if (model != null && root.has("kind")) {
            JsonElement kind = root.get("kind");
            boolean ok = kind.isJsonPrimitive() && kind.getAsJsonPrimitive().isString()
                    && ("entropy".equals(kind.getAsString()) || "byte-transformer".equals(kind.getAsString())
                            || "bpe-transformer".equals(kind.getAsString()));
            ConfigException.require(ok, source, "kind", kind,
                    "must be \"entropy\", \"byte-transformer\" or \"bpe-transformer\" for a plain transformer LM");
            return fromSection(model, source, "model.");
        }
        return fromSection(root, source, "");
    }

    /** Reads a config file in any form {@link #fromJson(JsonObject, String)} accepts. */
    public static EntropyModelConfig read(Path file) throws IOException {
        return fromJson(ConfigJson.readText(file, "entropy model config"), file.toString());
    }

    public Map<String, Object> summary() {
        return Map.of("dim", dim, "n_layers", nLayers, "n_heads", nHeads, "ffn", hiddenDim(), "window", window());
    }
}

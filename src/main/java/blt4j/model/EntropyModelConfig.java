package blt4j.model;

import blt4j.tokenizer.ByteTokenizer;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.annotations.SerializedName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
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

    public static EntropyModelConfig preset(String name) {
        return switch (name) {
            case "entropy-tiny" -> tiny();
            case "entropy-100m", "entropy-released" -> released();
            default -> throw new IllegalArgumentException("unknown entropy model preset '" + name
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

    public void validate() {
        if (dim <= 0 || nLayers < 0 || nHeads <= 0 || dim % nHeads != 0 || (dim / nHeads) % 2 != 0) {
            throw new IllegalArgumentException("entropy model config: dim " + dim + " must split into " + nHeads
                    + " heads of even size");
        }
        if (nKvHeads != null && nKvHeads != nHeads) {
            throw new IllegalArgumentException("entropy model config: grouped-query attention (n_kv_heads "
                    + nKvHeads + " != n_heads " + nHeads + ") is not supported");
        }
        if (vocabSize != ByteTokenizer.VOCAB) {
            throw new IllegalArgumentException("entropy model config: vocab_size must be 260, got " + vocabSize);
        }
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    public static EntropyModelConfig fromJson(String json) {
        try {
            EntropyModelConfig c = GSON.fromJson(json, EntropyModelConfig.class);
            if (c == null) {
                throw new IllegalArgumentException("entropy model config is empty");
            }
            c.validate();
            return c;
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("entropy model config is not valid JSON: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a config file: our own form (the fields at top level) or the reference layout, where the fields sit
     * under {@code "entropy_model"} (fixture / params.json) or {@code "args"} (blt-entropy config.json).
     */
    public static EntropyModelConfig read(Path file) throws IOException {
        String text = Files.readString(file);
        JsonObject obj;
        try {
            obj = GSON.fromJson(text, JsonObject.class);
        } catch (JsonParseException e) {
            throw new IOException(file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        if (obj == null) {
            throw new IOException(file + ": empty config");
        }
        for (String key : new String[] {"entropy_model", "args"}) {
            if (obj.has(key) && obj.get(key).isJsonObject()) {
                obj = obj.getAsJsonObject(key);
                break;
            }
        }
        try {
            return fromJson(obj.toString());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    public Map<String, Object> summary() {
        return Map.of("dim", dim, "n_layers", nLayers, "n_heads", nHeads, "ffn", hiddenDim(), "window", window());
    }
}

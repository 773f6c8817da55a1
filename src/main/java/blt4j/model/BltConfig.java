package blt4j.model;

import blt4j.tokenizer.ByteTokenizer;

import blt4j.nn.FeedForward;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.annotations.SerializedName;
import java.util.List;

/**
 * Shape and patching settings of a Byte Latent Transformer, with the reference's {@code ByteLatentTransformerArgs}
 * field names so a released config maps onto it unchanged. Unknown reference fields are ignored.
 */
public final class BltConfig {
    @SerializedName("vocab_size") public int vocabSize = 260;
    @SerializedName("dim_local_encoder") public int dimLocalEncoder = 1024;
    @SerializedName("dim_local_decoder") public int dimLocalDecoder = 1024;
    @SerializedName("dim_global") public int dimGlobal = 2048;
    @SerializedName("n_layers_local_encoder") public int nLayersLocalEncoder = 1;
    @SerializedName("n_layers_local_decoder") public int nLayersLocalDecoder = 9;
    @SerializedName("n_layers_global") public int nLayersGlobal = 25;
    @SerializedName("n_heads_local_encoder") public int nHeadsLocalEncoder = 16;
    @SerializedName("n_heads_local_decoder") public int nHeadsLocalDecoder = 16;
    @SerializedName("n_heads_global") public int nHeadsGlobal = 16;
    @SerializedName("n_kv_heads") public Integer nKvHeads;
    @SerializedName("n_kv_heads_global") public Integer nKvHeadsGlobal;
    @SerializedName("cross_attn_encoder") public boolean crossAttnEncoder = true;
    @SerializedName("cross_attn_decoder") public boolean crossAttnDecoder = true;
    @SerializedName("cross_attn_k") public int crossAttnK = 2;
    @SerializedName("cross_attn_nheads") public int crossAttnNheads = 16;
    @SerializedName("cross_attn_all_layers_encoder") public boolean crossAttnAllLayersEncoder = false;
    @SerializedName("cross_attn_all_layers_decoder") public boolean crossAttnAllLayersDecoder = true;
    @SerializedName("cross_attn_init_by_pooling") public boolean crossAttnInitByPooling = true;
    @SerializedName("downsampling_by_pooling") public String downsamplingByPooling = "max";
    @SerializedName("encoder_hash_byte_group_size") public List<Integer> encoderHashByteGroupSize = List.of(3, 4, 5, 6, 7, 8);
    @SerializedName("encoder_hash_byte_group_vocab") public int encoderHashByteGroupVocab = 500002;
    @SerializedName("encoder_hash_byte_group_nb_functions") public int encoderHashByteGroupNbFunctions = 1;
    @SerializedName("local_attention_window_len") public Integer localAttentionWindowLen = 512;
    @SerializedName("rope_theta") public double ropeTheta = 500000.0;
    @SerializedName("norm_eps") public float normEps = 1e-5f;
    @SerializedName("multiple_of") public int multipleOf = 256;
    @SerializedName("ffn_dim_multiplier") public Double ffnDimMultiplier = 1.0;
    @SerializedName("max_encoder_seq_length") public int maxEncoderSeqLength = 24576;
    @SerializedName("max_seqlen") public int maxSeqlen = 4096;
    @SerializedName("patching_mode") public String patchingMode = "entropy";
    @SerializedName("patch_size") public double patchSize = 4.5;
    @SerializedName("patching_threshold") public Double patchingThreshold = 1.335442066192627;
    @SerializedName("patching_threshold_add") public Double patchingThresholdAdd;
    @SerializedName("monotonicity") public boolean monotonicity = false;
    @SerializedName("max_patch_length") public Integer maxPatchLength;
    @SerializedName("eos_id") public int eosId = ByteTokenizer.EOS;
    @SerializedName("weight_tying") public boolean weightTying = false;
    @SerializedName("use_local_encoder_transformer") public boolean useLocalEncoderTransformer = true;
    public Long seed = 42L;

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().create();

    /** The released blt-1b shape (BLT-REFERENCE §13.2): 4.53B parameters with its hash tables. */
    public static BltConfig blt1b() {
        return new BltConfig();
    }

    /** {@code blt-micro}: the shape of the golden fixture (d_local 32, d_global 64, hash vocab 1009). */
    public static BltConfig micro() {
        BltConfig c = new BltConfig();
        c.dimLocalEncoder = 32;
        c.dimLocalDecoder = 32;
        c.dimGlobal = 64;
        c.nLayersLocalEncoder = 1;
        c.nLayersLocalDecoder = 2;
        c.nLayersGlobal = 2;
        c.nHeadsLocalEncoder = 2;
        c.nHeadsLocalDecoder = 2;
        c.nHeadsGlobal = 4;
        c.crossAttnNheads = 2;
        c.encoderHashByteGroupVocab = 1009;
        c.multipleOf = 16;
        c.maxEncoderSeqLength = 1024;
        c.maxSeqlen = 512;
        c.patchingThreshold = 2.87;
        return c;
    }

    /**
     * {@code blt-tiny} (ARCHITECTURE.md): d_local 128, d_global 256, encoder 1 / global 4 / decoder 2 layers,
     * 4 heads each, k = 2, hash tables 6 × 50021 rows, FFN 512 local / 768 global; 42.98M parameters, 38.42M in
     * hash tables.
     */
    public static BltConfig tiny() {
        BltConfig c = new BltConfig();
        c.dimLocalEncoder = 128;
        c.dimLocalDecoder = 128;
        c.dimGlobal = 256;
        c.nLayersLocalEncoder = 1;
        c.nLayersLocalDecoder = 2;
        c.nLayersGlobal = 4;
        c.nHeadsLocalEncoder = 4;
        c.nHeadsLocalDecoder = 4;
        c.nHeadsGlobal = 4;
        c.crossAttnNheads = 4;
        c.encoderHashByteGroupVocab = 50021;
        c.maxEncoderSeqLength = 8192;
        c.maxSeqlen = 2048;
        return c;
    }

    /**
     * {@code blt-demo}: what ./blt demo trains in a few minutes on two cores: d_local 64, d_global 128,
     * encoder 1 / global 2 / decoder 1 layers, 2/4/2 heads, k = 2, hash tables 6 × 4099 rows (2.1M parameters).
     */
    public static BltConfig demo() {
        BltConfig c = tiny();
        c.dimLocalEncoder = 64;
        c.dimLocalDecoder = 64;
        c.dimGlobal = 128;
        c.nLayersGlobal = 2;
        c.nLayersLocalDecoder = 1;
        c.nHeadsLocalEncoder = 2;
        c.nHeadsLocalDecoder = 2;
        c.crossAttnNheads = 2;
        c.encoderHashByteGroupVocab = 4099;
        c.multipleOf = 64;
        return c;
    }

    public static BltConfig preset(String name) {
        return switch (name) {
            case "blt-demo" -> demo();
            case "blt-micro" -> micro();
            case "blt-tiny" -> tiny();
            case "blt-1b" -> blt1b();
            default -> throw new IllegalArgumentException("unknown BLT preset '" + name + "' (known: blt-demo, blt-micro, blt-tiny, blt-1b)");
        };
    }

    /** The local encoder's settings, derived once from the JSON fields. */
    public record Encoder(int vocabSize, int dim, int nLayers, int nHeads, int hiddenDim, float normEps, int crossAttnK,
                          int crossAttnNheads, int[] hashGroupSizes, int hashVocab, int hashFunctions, double ropeTheta,
                          int maxSeqLength, int window) {
        public int hashTables() {
            return hashFunctions * hashGroupSizes.length;
        }
    }

    /** The latent global transformer's settings. */
    public record Global(int dim, int nLayers, int nHeads, int hiddenDim, float normEps, int inputDim, boolean inputProjection,
                         double ropeTheta, int maxPatches) {}

    /** The local decoder's settings. */
    public record Decoder(int vocabSize, int dim, int globalDim, int nLayers, int nHeads, int hiddenDim, float normEps,
                          int crossAttnK, int crossAttnNheads, boolean crossAttnAllLayers, double ropeTheta, int maxSeqLength,
                          int window) {}

    public Encoder encoder() {
        int[] sizes = encoderHashByteGroupSize.stream().mapToInt(Integer::intValue).toArray();
        return new Encoder(vocabSize, dimLocalEncoder, nLayersLocalEncoder, nHeadsLocalEncoder, hiddenLocalEncoder(), normEps,
                crossAttnK, crossAttnNheads, sizes, encoderHashByteGroupVocab, encoderHashByteGroupNbFunctions, ropeTheta,
                maxEncoderSeqLength, window());
    }

    public Global global() {
        return new Global(dimGlobal, nLayersGlobal, nHeadsGlobal, hiddenGlobal(), normEps, crossAttnK * dimLocalEncoder,
                globalInputProjection(), ropeTheta, maxSeqlen);
    }

    public Decoder decoder() {
        return new Decoder(vocabSize, dimLocalDecoder, dimGlobal, nLayersLocalDecoder, nHeadsLocalDecoder, hiddenLocalDecoder(),
                normEps, crossAttnK, crossAttnNheads, crossAttnAllLayersDecoder, ropeTheta, maxEncoderSeqLength, window());
    }

    /** How this model's inputs are patched (the reference's patcher_args, BLT-REFERENCE §4). */
    public PatchingConfig patching() {
        return new PatchingConfig(patchingMode, patchingThreshold, patchingThresholdAdd, monotonicity, maxPatchLength, patchSize);
    }

    public int hiddenLocalEncoder() {
        return FeedForward.hiddenDim(dimLocalEncoder, multipleOf, ffnMultiplier());
    }

    public int hiddenLocalDecoder() {
        return FeedForward.hiddenDim(dimLocalDecoder, multipleOf, ffnMultiplier());
    }

    public int hiddenGlobal() {
        return FeedForward.hiddenDim(dimGlobal, multipleOf, ffnMultiplier());
    }

    private double ffnMultiplier() {
        return ffnDimMultiplier == null ? 1.0 : ffnDimMultiplier;
    }

    public int window() {
        return localAttentionWindowLen == null ? 0 : localAttentionWindowLen;
    }

    /** Number of hash tables: functions × n-gram sizes. */
    public int hashTables() {
        return encoderHashByteGroupNbFunctions * encoderHashByteGroupSize.size();
    }

    /** True when the global model needs {@code token_embedding_projection} (k·d_local ≠ d_global). */
    public boolean globalInputProjection() {
        return crossAttnK * dimLocalEncoder != dimGlobal;
    }

    /** Exact parameter count from the shape (hash tables included), without building the model. */
    public long parameterCount() {
        long dl = dimLocalEncoder;
        long dd = dimLocalDecoder;
        long dg = dimGlobal;
        long k = crossAttnK;
        long enc = vocabSize * dl + nLayersLocalEncoder * block(dl, hiddenLocalEncoder());
        enc += dl * dl * k; // patch_embedding_projection
        enc += cross(dl); // one cross-attention layer (not all layers)
        long hash = (long) hashTables() * encoderHashByteGroupVocab * dl;
        long glob = nLayersGlobal * block(dg, hiddenGlobal()) + (globalInputProjection() ? k * dl * dg : 0);
        int decoderCross = crossAttnAllLayersDecoder ? nLayersLocalDecoder : 1;
        long dec = nLayersLocalDecoder * block(dd, hiddenLocalDecoder()) + decoderCross * cross(dd)
                + dg * dd * k + dd + vocabSize * dd;
        return enc + hash + glob + dec;
    }

    private static long block(long d, long hidden) {
        return 4 * d * d + 3 * d * hidden + 2 * d;
    }

    private static long cross(long d) {
        return 4 * d * d + 2 * d;
    }

    public void validate() {
        check(vocabSize == ByteTokenizer.VOCAB, "vocab_size must be 260, got " + vocabSize);
        check(dimLocalEncoder == dimLocalDecoder, "dim_local_encoder and dim_local_decoder must be equal (the decoder reads encoder states)");
        check(dimLocalEncoder % nHeadsLocalEncoder == 0 && dimLocalDecoder % nHeadsLocalDecoder == 0
                && dimGlobal % nHeadsGlobal == 0 && dimLocalEncoder % crossAttnNheads == 0, "every dim must divide by its head count");
        check(crossAttnEncoder && crossAttnDecoder, "only cross_attn_encoder=true and cross_attn_decoder=true are supported");
        check(!crossAttnAllLayersEncoder, "cross_attn_all_layers_encoder=true is not supported (released models use false)");
        check(crossAttnInitByPooling && "max".equals(downsamplingByPooling), "only max-pooled cross-attention init is supported");
        check(nKvHeads == null || nKvHeads == nHeadsLocalEncoder, "grouped-query attention (n_kv_heads) is not supported");
        check(nKvHeadsGlobal == null || nKvHeadsGlobal == nHeadsGlobal, "grouped-query attention (n_kv_heads_global) is not supported");
        check(!weightTying, "weight_tying is not supported");
        check(useLocalEncoderTransformer, "use_local_encoder_transformer=false is not supported");
        check(crossAttnK >= 1 && encoderHashByteGroupVocab > 0, "cross_attn_k and hash vocab must be positive");
        patching();
        check(encoderHashByteGroupNbFunctions >= 0 && encoderHashByteGroupNbFunctions <= HashNgram.PRIMES.length,
                "encoder_hash_byte_group_nb_functions must be 0.." + HashNgram.PRIMES.length);
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException("BLT config: " + message);
        }
    }

    /**
     * The reference layout's {@code patcher_args} (what its generation builds the patcher from) override the
     * patching fields of {@code args}: patching_mode, threshold, threshold_add, monotonicity, max_patch_length,
     * patch_size.
     */
    private void applyPatcherArgs(JsonObject p) {
        if (p.has("patching_mode") && !p.get("patching_mode").isJsonNull()) {
            patchingMode = p.get("patching_mode").getAsString();
        }
        if (p.has("threshold")) {
            patchingThreshold = p.get("threshold").isJsonNull() ? null : p.get("threshold").getAsDouble();
        }
        if (p.has("threshold_add")) {
            patchingThresholdAdd = p.get("threshold_add").isJsonNull() ? null : p.get("threshold_add").getAsDouble();
        }
        if (p.has("monotonicity") && !p.get("monotonicity").isJsonNull()) {
            monotonicity = p.get("monotonicity").getAsBoolean();
        }
        if (p.has("max_patch_length")) {
            maxPatchLength = p.get("max_patch_length").isJsonNull() ? null : p.get("max_patch_length").getAsInt();
        }
        if (p.has("patch_size") && !p.get("patch_size").isJsonNull()) {
            patchSize = p.get("patch_size").getAsDouble();
        }
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    /** Parses our form or the reference layout (fields under {@code "args"}). */
    public static BltConfig fromJson(String json) {
        try {
            JsonObject obj = GSON.fromJson(json, JsonObject.class);
            if (obj == null) {
                throw new IllegalArgumentException("BLT config is empty");
            }
            JsonObject root = obj;
            if (obj.has("args") && obj.get("args").isJsonObject()) {
                obj = obj.getAsJsonObject("args");
            }
            BltConfig c = GSON.fromJson(obj, BltConfig.class);
            if (root.has("patcher_args") && root.get("patcher_args").isJsonObject()) {
                c.applyPatcherArgs(root.getAsJsonObject("patcher_args"));
            }
            c.validate();
            return c;
        } catch (IllegalStateException | UnsupportedOperationException | NumberFormatException e) {
            throw new IllegalArgumentException("BLT config has a field of the wrong type: " + e.getMessage(), e);
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("BLT config is not valid JSON: " + e.getMessage(), e);
        }
    }
}

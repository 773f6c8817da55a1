package blt4j.model;

import blt4j.tokenizer.ByteTokenizer;

import blt4j.nn.FeedForward;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.annotations.SerializedName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

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

    /**
     * The released blt-7b shape (BLT-REFERENCE §13.2, the paper's 8B): d_local 1280 (20 heads, FFN 3584), 1 encoder and
     * 6 decoder layers, d_global 4096 (32 layers, 32 heads, FFN 11008), k = 4 with a 5120 → 4096 input projection,
     * hash tables 6 × 500002 × 1280: 10.55B parameters.
     */
    public static BltConfig blt7b() {
        BltConfig c = new BltConfig();
        c.dimLocalEncoder = 1280;
        c.dimLocalDecoder = 1280;
        c.dimGlobal = 4096;
        c.nLayersLocalDecoder = 6;
        c.nLayersGlobal = 32;
        c.nHeadsLocalEncoder = 20;
        c.nHeadsLocalDecoder = 20;
        c.nHeadsGlobal = 32;
        c.crossAttnK = 4;
        c.crossAttnNheads = 20;
        return c;
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
            case "blt-7b" -> blt7b();
            default -> throw new ConfigException("preset", null, "unknown BLT preset '" + name + "' (known: blt-demo, blt-micro, blt-tiny, blt-1b, blt-7b)");
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

    /** Parameters of the hash tables alone. */
    public long hashParameterCount() {
        return (long) hashTables() * encoderHashByteGroupVocab * dimLocalEncoder;
    }

    private static long block(long d, long hidden) {
        return 4 * d * d + 3 * d * hidden + 2 * d;
    }

    private static long cross(long d) {
        return 4 * d * d + 2 * d;
    }

    /** Largest model width (any dim) a config may ask for. */
    public static final int MAX_DIM = 1 << 16;
    /** Longest sequence (max_seqlen, max_encoder_seq_length) a config may ask for: 2^20. */
    public static final int MAX_SEQ = 1 << 20;
    /** Largest FFN width a config may imply. */
    public static final int MAX_HIDDEN = 1 << 24;
    /** Longest hashed n-gram: larger sizes only cost time (a size of 10^9 hung the hash loop). */
    public static final int MAX_HASH_GROUP = 64;
    /** Largest cross_attn_k (patch-to-k-slots expansion). */
    public static final int MAX_CROSS_K = 1024;

    /** Checks every field and that the model fits in memory (as the constructor of a model asks before building). */
    public void validate() {
        validateFields("config");
        checkMemory("config", false, 0, 0);
    }

    /**
     * {@link #validate} for a model whose hash tables stay in their file: only the other weights must fit in the heap
     * (none of the matrices either, when they too are read in place from the file).
     */
    public void validateWithTablesInFile(boolean bf16Matrices, boolean matricesInFile) {
        validateFields("config");
        if (!matricesInFile) { // mapped matrices live in the page cache, not the heap
            ModelMemory.requireInference("config", "BLT (hash tables left in their file)",
                    parameterCount() - hashParameterCount(), bf16Matrices);
        }
    }

    /**
     * Checks every field's range and the combinations blt4j supports; throws {@link ConfigException} naming
     * {@code source} and the field by its JSON name.
     */
    public void validateFields(String source) {
        ConfigException.require(vocabSize == ByteTokenizer.VOCAB, source, "vocab_size", vocabSize,
                "must be " + ByteTokenizer.VOCAB + " (256 bytes + 4 special ids)");
        dim(source, "dim_local_encoder", dimLocalEncoder);
        dim(source, "dim_local_decoder", dimLocalDecoder);
        dim(source, "dim_global", dimGlobal);
        ConfigException.require(dimLocalEncoder == dimLocalDecoder, source, "dim_local_decoder", dimLocalDecoder,
                "must equal dim_local_encoder (" + dimLocalEncoder + "): the decoder reads encoder states");
        layers(source, "n_layers_local_encoder", nLayersLocalEncoder);
        layers(source, "n_layers_local_decoder", nLayersLocalDecoder);
        layers(source, "n_layers_global", nLayersGlobal);
        heads(source, "n_heads_local_encoder", nHeadsLocalEncoder, "dim_local_encoder", dimLocalEncoder, true);
        heads(source, "n_heads_local_decoder", nHeadsLocalDecoder, "dim_local_decoder", dimLocalDecoder, true);
        heads(source, "n_heads_global", nHeadsGlobal, "dim_global", dimGlobal, true);
        ConfigException.require(nKvHeads == null || nKvHeads == nHeadsLocalEncoder, source, "n_kv_heads", nKvHeads,
                "must be null or n_heads_local_encoder (" + nHeadsLocalEncoder + "): grouped-query attention is not supported");
        ConfigException.require(nKvHeadsGlobal == null || nKvHeadsGlobal == nHeadsGlobal, source, "n_kv_heads_global",
                nKvHeadsGlobal, "must be null or n_heads_global (" + nHeadsGlobal + "): grouped-query attention is not supported");
        ConfigException.require(crossAttnEncoder, source, "cross_attn_encoder", false, "only true is supported");
        ConfigException.require(crossAttnDecoder, source, "cross_attn_decoder", false, "only true is supported");
        ConfigException.require(!crossAttnAllLayersEncoder, source, "cross_attn_all_layers_encoder", true,
                "only false is supported (released models use false)");
        ConfigException.require(crossAttnInitByPooling, source, "cross_attn_init_by_pooling", false,
                "only true (max-pooled cross-attention init) is supported");
        ConfigException.require("max".equals(downsamplingByPooling), source, "downsampling_by_pooling",
                downsamplingByPooling, "only \"max\" is supported");
        ConfigException.require(!weightTying, source, "weight_tying", true, "only false is supported");
        ConfigException.require(useLocalEncoderTransformer, source, "use_local_encoder_transformer", false,
                "only true is supported");
        ConfigException.require(crossAttnK >= 1 && crossAttnK <= MAX_CROSS_K, source, "cross_attn_k", crossAttnK,
                "must be in [1, " + MAX_CROSS_K + "]");
        heads(source, "cross_attn_nheads", crossAttnNheads, "dim_local_encoder", dimLocalEncoder, false);
        ConfigException.require(encoderHashByteGroupSize != null, source, "encoder_hash_byte_group_size", null,
                "must be a list of n-gram sizes in [1, " + MAX_HASH_GROUP + "] ([] for no hash embeddings)");
        for (Integer g : encoderHashByteGroupSize) {
            ConfigException.require(g != null && g >= 1 && g <= MAX_HASH_GROUP, source, "encoder_hash_byte_group_size",
                    encoderHashByteGroupSize, "each n-gram size must be in [1, " + MAX_HASH_GROUP + "], got " + g);
        }
        ConfigException.require(encoderHashByteGroupVocab >= 1, source, "encoder_hash_byte_group_vocab",
                encoderHashByteGroupVocab, "must be in [1, 2^31-1]");
        ConfigException.require(encoderHashByteGroupNbFunctions >= 0 && encoderHashByteGroupNbFunctions <= HashNgram.PRIMES.length,
                source, "encoder_hash_byte_group_nb_functions", encoderHashByteGroupNbFunctions,
                "must be in [0, " + HashNgram.PRIMES.length + "] (one hash prime each)");
        ConfigException.require(localAttentionWindowLen == null || localAttentionWindowLen >= 1, source,
                "local_attention_window_len", localAttentionWindowLen, "must be null (unlimited) or ≥ 1");
        ropeTheta(source, "rope_theta", ropeTheta);
        normEps(source, "norm_eps", normEps);
        ffn(source, multipleOf, ffnDimMultiplier, new String[] {"dim_local_encoder", "dim_global"},
                new int[] {dimLocalEncoder, dimGlobal});
        seq(source, "max_encoder_seq_length", maxEncoderSeqLength);
        seq(source, "max_seqlen", maxSeqlen);
        ConfigException.require(eosId >= 0 && eosId < vocabSize, source, "eos_id", eosId,
                "must be a token id in [0, " + (vocabSize - 1) + "]");
        try {
            patching();
        } catch (ConfigException e) {
            throw e.withSource(source);
        }
    }

    static void dim(String source, String name, int d) {
        ConfigException.require(d >= 1 && d <= MAX_DIM, source, name, d, "must be in [1, " + MAX_DIM + "]");
    }

    static void layers(String source, String name, int n) {
        ConfigException.require(n >= 0 && n <= 4096, source, name, n, "must be in [0, 4096]");
    }

    /** Heads ≥ 1 dividing their dim; for RoPE attention the head dim must be even (rotated in pairs). */
    static void heads(String source, String name, int h, String dimName, int dim, boolean rope) {
        String rule = "must be ≥ 1 and divide " + dimName + " (" + dim + ")" + (rope ? " into heads of even size (RoPE pairs)" : "");
        ConfigException.require(h >= 1 && dim % h == 0 && (!rope || (dim / h) % 2 == 0), source, name, h, rule);
    }

    static void seq(String source, String name, int n) {
        ConfigException.require(n >= 1 && n <= MAX_SEQ, source, name, n, "must be in [1, 2^20 = " + MAX_SEQ + "]");
    }

    static void ropeTheta(String source, String name, double theta) {
        ConfigException.require(Double.isFinite(theta) && theta > 1, source, name, theta, "must be finite and > 1");
    }

    static void normEps(String source, String name, float eps) {
        ConfigException.require(Float.isFinite(eps) && eps > 0, source, name, eps, "must be finite and > 0");
    }

    /** multiple_of ≥ 1, ffn_dim_multiplier null or finite > 0, and the FFN widths they imply in [1, 2^24]. */
    static void ffn(String source, int multipleOf, Double multiplier, String[] dimNames, int[] dims) {
        ConfigException.require(multipleOf >= 1 && multipleOf <= MAX_DIM, source, "multiple_of", multipleOf,
                "must be in [1, " + MAX_DIM + "]");
        ConfigException.require(multiplier == null || Double.isFinite(multiplier) && multiplier > 0, source,
                "ffn_dim_multiplier", multiplier, "must be null (1.0) or finite and > 0");
        double m = multiplier == null ? 1.0 : multiplier;
        for (int i = 0; i < dims.length; i++) {
            long h = (long) (m * (long) (2 * (4.0 * dims[i]) / 3.0));
            long hidden = (long) multipleOf * ((h + multipleOf - 1) / multipleOf);
            ConfigException.require(hidden >= 1 && hidden <= MAX_HIDDEN, source, "ffn_dim_multiplier", multiplier,
                    "gives an FFN width of " + hidden + " for " + dimNames[i] + " " + dims[i] + "; it must be in [1, 2^24]");
        }
    }

    /**
     * Refuses a model that cannot be built: over the one-buffer limit of 2^31-1 parameters, or one whose weights
     * (when {@code training}: weights, gradients, AdamW moments and a batch of {@code rows × seqLen} bytes'
     * activations) exceed {@link Runtime#maxMemory()}. Computed from the shape, before any allocation.
     */
    public void checkMemory(String source, boolean training, int rows, int seqLen) {
        ModelMemory.require(source, "BLT", parameterCount(), training, activationBytes(rows, seqLen));
    }

    /**
     * A lower bound on the f32 activations one training batch keeps: per byte, every local layer's attention and
     * FFN intermediates, the hash embedding sum, the logits and their gradient (the global model's per-patch
     * activations are left out).
     */
    public long activationBytes(int rows, int seqLen) {
        long perByte = (long) nLayersLocalEncoder * (7L * dimLocalEncoder + 3L * hiddenLocalEncoder())
                + (long) nLayersLocalDecoder * (7L * dimLocalDecoder + 3L * hiddenLocalDecoder())
                + dimLocalEncoder + 2L * vocabSize;
        return ModelMemory.activations(rows, seqLen, perByte);
    }

    /**
     * The reference layout's {@code patcher_args} (what its generation builds the patcher from) override the
     * patching fields of {@code args}: patching_mode, threshold, threshold_add, monotonicity, max_patch_length,
     * patch_size.
     */
    private void applyPatcherArgs(JsonObject p, String source) {
        PatcherArgs a = new PatcherArgs();
        ConfigJson.bind(p, a, source, "patcher_args.", Set.of());
        if (a.patchingMode != null) {
            patchingMode = a.patchingMode;
        }
        if (p.has("threshold")) {
            patchingThreshold = a.threshold;
        }
        if (p.has("threshold_add")) {
            patchingThresholdAdd = a.thresholdAdd;
        }
        if (a.monotonicity != null) {
            monotonicity = a.monotonicity;
        }
        if (p.has("max_patch_length")) {
            maxPatchLength = a.maxPatchLength;
        }
        if (a.patchSize != null) {
            patchSize = a.patchSize;
        }
    }

    /** A copy whose patching fields come from a reference {@code patcher_args} object (released train_args / params). */
    public BltConfig withPatcherArgs(JsonObject patcherArgs, String source) {
        BltConfig c = GSON.fromJson(toJson(), BltConfig.class);
        c.applyPatcherArgs(patcherArgs, source);
        c.validateFields(source);
        return c;
    }

    /** The reference's {@code PatcherArgs} fields blt4j reads. */
    private static final class PatcherArgs {
        @SerializedName("patching_mode") public String patchingMode;
        public Double threshold;
        @SerializedName("threshold_add") public Double thresholdAdd;
        public Boolean monotonicity;
        @SerializedName("max_patch_length") public Integer maxPatchLength;
        @SerializedName("patch_size") public Double patchSize;
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    /** Parses our form or the reference layout (fields under {@code "args"}); problems name "config". */
    public static BltConfig fromJson(String json) {
        return fromJson(json, "config");
    }

    /** {@link #fromJson(String)} with problems reported against {@code source} (a file path). */
    public static BltConfig fromJson(String json, String source) {
        return fromJson(ConfigJson.parseObject(json, source), source);
    }

    /** Reads a config file in any accepted form (see {@link #fromJson(JsonObject, String)}). */
    public static BltConfig read(Path file) throws IOException {
        return fromJson(ConfigJson.readText(file, "BLT config"), file.toString());
    }

    /**
     * Accepts our form (fields at top level, as {@link #toJson} writes), a training checkpoint's
     * {@code {"kind": "blt", "model": {...}}}, or the reference layout {@code {"args": {...}, "patcher_args": {...}}}
     * (patcher_args override the patching fields). Unset fields keep the reference defaults; unknown fields are
     * ignored; an empty or missing section, a value of the wrong JSON type and any out-of-range field are a
     * {@link ConfigException}.
     */
    public static BltConfig fromJson(JsonObject root, String source) {
        JsonObject obj = root;
        String prefix = "";
        JsonObject args = ConfigJson.section(root, "args", source);
        JsonObject model = ConfigJson.section(root, "model", source);
        if (args != null) {
            obj = args;
            prefix = "args.";
        } else if (root.has("entropy_model") || root.has("patcher_args")) {
            throw new ConfigException(source, "args", "reference-layout config has no \"args\" section (the BLT's "
                    + "ByteLatentTransformerArgs)");
        } else if (model != null && root.has("kind")) {
            JsonElement kind = root.get("kind");
            if (!(kind.isJsonPrimitive() && "blt".equals(kind.getAsString()))) {
                throw ConfigException.field(source, "kind", kind, "must be \"blt\" for a BLT config");
            }
            obj = model;
            prefix = "model.";
        }
        if (ConfigJson.knownKeys(obj, BltConfig.class) == 0) {
            throw new ConfigException(source, prefix.isEmpty() ? null : prefix.substring(0, prefix.length() - 1),
                    (prefix.isEmpty() ? "config" : "section " + prefix.substring(0, prefix.length() - 1))
                            + " has no BLT fields (dim_global, n_layers_global, ...); an empty config would silently "
                            + "mean the default blt-1b shape");
        }
        BltConfig c = new BltConfig();
        ConfigJson.bind(obj, c, source, prefix, Set.of("patch_size"));
        JsonObject patcher = ConfigJson.section(root, "patcher_args", source);
        if (patcher != null) {
            c.applyPatcherArgs(patcher, source);
        }
        c.validateFields(source);
        return c;
    }
}

package blt4j.model;

import blt4j.nn.FeedForward;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.List;

/**
 * The Hugging Face port's {@code BltConfig} ({@code config.json} with {@code encoder_config}, {@code decoder_config},
 * {@code global_config} and {@code patcher_config}) translated to and from blt4j's configs, which use the reference
 * field names. Both spellings of the older and newer port are read ({@code rms_norm_eps} or {@code norm_eps};
 * {@code rope_parameters.rope_theta} or {@code rope_theta}).
 *
 * <p>The port has no FFN rounding field: its {@code intermediate_size} values are matched against the reference's
 * rounding to a {@code multiple_of}, and a size no rounding gives is refused. The port also has no sliding window and
 * no document masks; the released weights were trained with the reference's, so the reference window (512) is used
 * unless a sub-config names {@code sliding_window}.
 */
public final class HfConfig {
    private HfConfig() {}

    /** The BLT and its entropy model, as one Hugging Face config describes them. */
    public record Models(BltConfig blt, EntropyModelConfig entropy) {}

    private static final int[] MULTIPLES = {256, 128, 64, 32, 16, 8, 4, 2, 1};
    private static final int REFERENCE_WINDOW = 512;

    /** True when {@code root} looks like the port's config (it has the four sub-configs' names). */
    public static boolean isHf(JsonObject root) {
        return root.has("encoder_config") || root.has("global_config") || root.has("patcher_config")
                || "blt".equals(string(root, "model_type"));
    }

    public static Models fromJson(JsonObject root, String source) {
        JsonObject enc = section(root, "encoder_config", source);
        JsonObject dec = section(root, "decoder_config", source);
        JsonObject glob = section(root, "global_config", source);
        JsonObject patcher = section(root, "patcher_config", source);

        JsonObject a = new JsonObject();
        copy(root, "vocab_size", a, "vocab_size");
        int dimEnc = integer(enc, "hidden_size", "encoder_config", source);
        int dimDec = integer(dec, "hidden_size", "decoder_config", source);
        int dimGlobal = integer(glob, "hidden_size", "global_config", source);
        a.addProperty("dim_local_encoder", dimEnc);
        a.addProperty("dim_local_decoder", dimDec);
        a.addProperty("dim_global", dimGlobal);
        copy(enc, "num_hidden_layers", a, "n_layers_local_encoder");
        copy(dec, "num_hidden_layers", a, "n_layers_local_decoder");
        copy(glob, "num_hidden_layers", a, "n_layers_global");
        copy(enc, "num_attention_heads", a, "n_heads_local_encoder");
        copy(dec, "num_attention_heads", a, "n_heads_local_decoder");
        copy(glob, "num_attention_heads", a, "n_heads_global");
        copy(enc, "num_key_value_heads", a, "n_kv_heads");
        copy(glob, "num_key_value_heads", a, "n_kv_heads_global");
        // the port's cross-attention uses the local model's head count (it has no separate field)
        copy(enc, "num_attention_heads", a, "cross_attn_nheads");
        copy(enc, "cross_attn_all_layers", a, "cross_attn_all_layers_encoder");
        copy(dec, "cross_attn_all_layers", a, "cross_attn_all_layers_decoder");
        copy(root, "cross_attn_k", a, "cross_attn_k");
        copy(root, "encoder_hash_byte_group_size", a, "encoder_hash_byte_group_size");
        copy(root, "encoder_hash_byte_group_vocab", a, "encoder_hash_byte_group_vocab");
        copy(root, "encoder_hash_byte_group_nb_functions", a, "encoder_hash_byte_group_nb_functions");
        copy(enc, "max_position_embeddings", a, "max_encoder_seq_length");
        copy(glob, "max_position_embeddings", a, "max_seqlen");
        if (root.has("tie_word_embeddings")) {
            copy(root, "tie_word_embeddings", a, "weight_tying");
        }
        a.add("local_attention_window_len", window(enc, dec, source));
        a.addProperty("rope_theta", same(source, "rope theta", ropeTheta(enc, "encoder_config", source, 500000.0),
                ropeTheta(dec, "decoder_config", source, 500000.0), ropeTheta(glob, "global_config", source, 500000.0)));
        a.addProperty("norm_eps", same(source, "RMSNorm epsilon", eps(enc, "encoder_config", source),
                eps(dec, "decoder_config", source), eps(glob, "global_config", source)));
        a.addProperty("multiple_of", multipleOf(source,
                new String[] {"encoder_config", "decoder_config", "global_config"}, new int[] {dimEnc, dimDec, dimGlobal},
                new Integer[] {optInt(enc, "intermediate_size", "encoder_config", source),
                    optInt(dec, "intermediate_size", "decoder_config", source),
                    optInt(glob, "intermediate_size", "global_config", source)}));
        a.addProperty("ffn_dim_multiplier", 1.0);
        for (String f : List.of("patching_mode", "patching_threshold", "patching_threshold_add", "monotonicity",
                "max_patch_length", "patch_size")) {
            copy(root, f, a, f);
        }
        JsonObject wrapped = new JsonObject();
        wrapped.add("args", a);
        BltConfig blt = BltConfig.fromJson(wrapped, source);

        JsonObject e = new JsonObject();
        int dimEntropy = integer(patcher, "hidden_size", "patcher_config", source);
        e.addProperty("dim", dimEntropy);
        copy(patcher, "num_hidden_layers", e, "n_layers");
        copy(patcher, "num_attention_heads", e, "n_heads");
        copy(patcher, "num_key_value_heads", e, "n_kv_heads");
        copy(patcher, "max_position_embeddings", e, "max_seqlen");
        copy(patcher, "vocab_size", e, "vocab_size");
        e.addProperty("norm_eps", eps(patcher, "patcher_config", source));
        e.addProperty("rope_theta", ropeTheta(patcher, "patcher_config", source, 10000.0));
        e.addProperty("sliding_window", patcher.has("sliding_window") && !patcher.get("sliding_window").isJsonNull()
                ? integer(patcher, "sliding_window", "patcher_config", source) : REFERENCE_WINDOW);
        e.addProperty("multiple_of", multipleOf(source, new String[] {"patcher_config"}, new int[] {dimEntropy},
                new Integer[] {optInt(patcher, "intermediate_size", "patcher_config", source)}));
        e.addProperty("ffn_dim_multiplier", 1.0);
        EntropyModelConfig entropy = EntropyModelConfig.fromSection(e, source, "patcher_config.");
        return new Models(blt, entropy);
    }

    /** The port's config for these models (the form {@code blt convert --to hf} writes). */
    public static JsonObject toJson(BltConfig c, EntropyModelConfig e) {
        JsonObject root = new JsonObject();
        root.addProperty("model_type", "blt");
        root.add("architectures", array("BltForCausalLM"));
        root.addProperty("vocab_size", c.vocabSize);
        root.addProperty("max_position_embeddings", c.maxSeqlen);
        root.addProperty("patch_in_forward", true);
        root.addProperty("realtime_patching", true);
        root.addProperty("patching_mode", c.patchingMode);
        root.addProperty("patch_size", c.patchSize);
        root.add("patching_threshold", c.patchingThreshold == null ? JsonNull.INSTANCE : new JsonPrimitive(c.patchingThreshold));
        root.add("patching_threshold_add", c.patchingThresholdAdd == null ? JsonNull.INSTANCE : new JsonPrimitive(c.patchingThresholdAdd));
        root.add("max_patch_length", c.maxPatchLength == null ? JsonNull.INSTANCE : new JsonPrimitive(c.maxPatchLength));
        root.addProperty("monotonicity", c.monotonicity);
        root.addProperty("cross_attn_k", c.crossAttnK);
        JsonArray sizes = new JsonArray();
        c.encoderHashByteGroupSize.forEach(sizes::add);
        root.add("encoder_hash_byte_group_size", sizes);
        root.addProperty("encoder_hash_byte_group_vocab", c.encoderHashByteGroupVocab);
        root.addProperty("encoder_hash_byte_group_nb_functions", c.encoderHashByteGroupNbFunctions);
        root.addProperty("tie_word_embeddings", c.weightTying);

        JsonObject enc = local(c, c.dimLocalEncoder, c.nLayersLocalEncoder, c.nHeadsLocalEncoder, c.hiddenLocalEncoder());
        enc.addProperty("cross_attn_all_layers", c.crossAttnAllLayersEncoder);
        JsonObject dec = local(c, c.dimLocalDecoder, c.nLayersLocalDecoder, c.nHeadsLocalDecoder, c.hiddenLocalDecoder());
        dec.addProperty("cross_attn_all_layers", c.crossAttnAllLayersDecoder);
        root.add("encoder_config", enc);
        root.add("decoder_config", dec);

        JsonObject glob = new JsonObject();
        glob.addProperty("hidden_size", c.dimGlobal);
        glob.addProperty("num_attention_heads", c.nHeadsGlobal);
        glob.add("num_key_value_heads", c.nKvHeadsGlobal == null ? JsonNull.INSTANCE : new JsonPrimitive(c.nKvHeadsGlobal));
        glob.addProperty("num_hidden_layers", c.nLayersGlobal);
        glob.addProperty("rms_norm_eps", c.normEps);
        glob.addProperty("max_position_embeddings", c.maxSeqlen);
        glob.add("rope_parameters", rope(c.ropeTheta));
        glob.addProperty("hidden_act", "silu");
        glob.addProperty("intermediate_size", c.hiddenGlobal());
        root.add("global_config", glob);

        JsonObject p = new JsonObject();
        p.addProperty("vocab_size", e.vocabSize);
        p.addProperty("hidden_size", e.dim);
        p.addProperty("num_hidden_layers", e.nLayers);
        p.addProperty("num_attention_heads", e.nHeads);
        p.add("num_key_value_heads", e.nKvHeads == null ? JsonNull.INSTANCE : new JsonPrimitive(e.nKvHeads));
        p.addProperty("max_position_embeddings", e.maxSeqlen);
        p.addProperty("rms_norm_eps", e.normEps);
        p.add("rope_parameters", rope(e.ropeTheta));
        p.addProperty("intermediate_size", e.hiddenDim());
        if (e.slidingWindow == null || e.slidingWindow != REFERENCE_WINDOW) {
            p.add("sliding_window", e.slidingWindow == null ? JsonNull.INSTANCE : new JsonPrimitive(e.slidingWindow));
        }
        root.add("patcher_config", p);
        if (c.localAttentionWindowLen == null || c.localAttentionWindowLen != REFERENCE_WINDOW) {
            JsonElement w = c.localAttentionWindowLen == null ? JsonNull.INSTANCE : new JsonPrimitive(c.localAttentionWindowLen);
            enc.add("sliding_window", w);
            dec.add("sliding_window", w);
        }
        return root;
    }

    private static JsonObject local(BltConfig c, int dim, int layers, int heads, int hidden) {
        JsonObject o = new JsonObject();
        o.addProperty("vocab_size", c.vocabSize);
        o.addProperty("cross_attn_k", c.crossAttnK);
        o.addProperty("hidden_size_global", c.dimGlobal);
        o.addProperty("hidden_size", dim);
        o.addProperty("num_attention_heads", heads);
        o.add("num_key_value_heads", c.nKvHeads == null ? JsonNull.INSTANCE : new JsonPrimitive(c.nKvHeads));
        o.addProperty("num_hidden_layers", layers);
        o.addProperty("rms_norm_eps", c.normEps);
        o.addProperty("max_position_embeddings", c.maxEncoderSeqLength);
        o.add("rope_parameters", rope(c.ropeTheta));
        o.addProperty("hidden_act", "silu");
        o.addProperty("intermediate_size", hidden);
        return o;
    }

    private static JsonObject rope(double theta) {
        JsonObject r = new JsonObject();
        r.addProperty("rope_theta", theta);
        r.addProperty("rope_type", "default");
        return r;
    }

    private static JsonArray array(String s) {
        JsonArray a = new JsonArray();
        a.add(s);
        return a;
    }

    // ---------------------------------------------------------------- reading helpers

    private static JsonObject section(JsonObject root, String key, String source) {
        JsonElement v = root.get(key);
        if (v == null || !v.isJsonObject()) {
            throw new ConfigException(source, key, "a Hugging Face BLT config needs a \"" + key + "\" object");
        }
        return v.getAsJsonObject();
    }

    private static void copy(JsonObject from, String key, JsonObject to, String as) {
        if (from.has(key)) {
            to.add(as, from.get(key));
        }
    }

    private static String string(JsonObject o, String key) {
        JsonElement v = o.get(key);
        return v != null && v.isJsonPrimitive() && v.getAsJsonPrimitive().isString() ? v.getAsString() : null;
    }

    private static int integer(JsonObject o, String key, String section, String source) {
        Integer v = optInt(o, key, section, source);
        if (v == null) {
            throw new ConfigException(source, section + "." + key, "is required");
        }
        return v;
    }

    private static Integer optInt(JsonObject o, String key, String section, String source) {
        JsonElement v = o.get(key);
        if (v == null || v.isJsonNull()) {
            return null;
        }
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
            throw ConfigException.field(source, section + "." + key, v, "must be an integer");
        }
        double d = v.getAsDouble();
        if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
            throw ConfigException.field(source, section + "." + key, v, "must be an integer");
        }
        return (int) d;
    }

    private static double number(JsonElement v, String field, String source) {
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
            throw ConfigException.field(source, field, v, "must be a number");
        }
        return v.getAsDouble();
    }

    private static double eps(JsonObject o, String section, String source) {
        JsonElement v = o.has("rms_norm_eps") ? o.get("rms_norm_eps") : o.get("norm_eps");
        String name = o.has("rms_norm_eps") ? "rms_norm_eps" : "norm_eps";
        return v == null || v.isJsonNull() ? 1e-5 : number(v, section + "." + name, source);
    }

    private static double ropeTheta(JsonObject o, String section, String source, double fallback) {
        JsonElement p = o.get("rope_parameters");
        if (p != null && p.isJsonObject() && p.getAsJsonObject().has("rope_theta")) {
            JsonObject r = p.getAsJsonObject();
            String type = string(r, "rope_type");
            if (type != null && !"default".equals(type)) {
                throw ConfigException.field(source, section + ".rope_parameters.rope_type", r.get("rope_type"),
                        "only \"default\" RoPE is supported");
            }
            return number(r.get("rope_theta"), section + ".rope_parameters.rope_theta", source);
        }
        JsonElement t = o.get("rope_theta");
        return t == null || t.isJsonNull() ? fallback : number(t, section + ".rope_theta", source);
    }

    private static JsonElement window(JsonObject enc, JsonObject dec, String source) {
        JsonElement we = enc.get("sliding_window");
        JsonElement wd = dec.get("sliding_window");
        if (we == null && wd == null) {
            return new JsonPrimitive(REFERENCE_WINDOW);
        }
        if (we == null || wd == null || !we.equals(wd)) {
            throw new ConfigException(source, "decoder_config.sliding_window",
                    "the encoder and decoder must share one sliding window (blt4j has one local_attention_window_len)");
        }
        return we;
    }

    private static double same(String source, String what, double... values) {
        for (double v : values) {
            if (v != values[0]) {
                throw new ConfigException(source, "encoder_config", "the encoder, decoder and global configs give different "
                        + what + " values; blt4j uses one for all three (" + java.util.Arrays.toString(values) + ")");
            }
        }
        return values[0];
    }

    /** The largest {@code multiple_of} whose reference rounding gives every stated FFN width. */
    private static int multipleOf(String source, String[] sections, int[] dims, Integer[] widths) {
        for (int m : MULTIPLES) {
            boolean ok = true;
            for (int i = 0; i < dims.length; i++) {
                ok &= widths[i] == null || FeedForward.hiddenDim(dims[i], m, 1.0) == widths[i];
            }
            if (ok) {
                return m;
            }
        }
        for (int i = 0; i < dims.length; i++) {
            boolean representable = widths[i] == null;
            for (int m : MULTIPLES) {
                representable |= widths[i] != null && FeedForward.hiddenDim(dims[i], m, 1.0) == widths[i];
            }
            if (!representable) {
                throw ConfigException.field(source, sections[i] + ".intermediate_size", widths[i],
                        "is not the reference FFN width for hidden_size " + dims[i] + " rounded to any multiple_of");
            }
        }
        throw new ConfigException(source, sections[0] + ".intermediate_size",
                "the FFN widths do not share one multiple_of rounding, which blt4j needs");
    }
}

package blt4j.io;

import java.util.List;
import java.util.Map;

/**
 * Tensor names of the Hugging Face port, computed from the reference names blt4j's parameters carry
 * (BLT-REFERENCE §14): the BLT under {@code model.}, its entropy model under {@code model.patcher.}, the decoder's
 * output head as {@code lm_head.weight}, and the hash tables {@code encoder_hash_tok_embedding.{i}.weight} fused into
 * one {@code model.encoder_hash_tok_embedding.weight} with table i at rows {@code i·vocab}.
 */
public final class HfNames {
    private HfNames() {}

    /** The fused hash table of the port. */
    public static final String FUSED_HASH = "model.encoder_hash_tok_embedding.weight";
    /** The prefix of the entropy model's tensors in a port checkpoint. */
    public static final String PATCHER_PREFIX = "model.patcher.";

    private static final String HASH_PREFIX = "encoder_hash_tok_embedding.";

    /** Module renames, applied in this order to every name segment they match. */
    private static final List<Map.Entry<String, String>> RENAMES = List.of(
            Map.entry(".attention.", ".self_attn."),
            Map.entry(".feed_forward.", ".mlp."),
            Map.entry(".attention_norm.", ".input_layernorm."),
            Map.entry(".ffn_norm.", ".post_attention_layernorm."),
            Map.entry(".tok_embeddings.", ".embed_tokens."),
            Map.entry(".cross_attn_norm_q.", ".q_norm."),
            Map.entry(".cross_attn_norm_kv.", ".k_norm."),
            Map.entry(".w1.", ".gate_proj."),
            Map.entry(".w2.", ".down_proj."),
            Map.entry(".w3.", ".up_proj."),
            Map.entry(".wq.", ".q_proj."),
            Map.entry(".wk.", ".k_proj."),
            Map.entry(".wv.", ".v_proj."),
            Map.entry(".wo.", ".o_proj."),
            Map.entry(".output.", ".lm_head."));

    /** The port's name of a BLT parameter (a hash table maps to the fused table: see {@link #hashTable}). */
    public static String blt(String reference) {
        if (hashTable(reference) >= 0) {
            return FUSED_HASH;
        }
        if (reference.equals("local_decoder.output.weight")) {
            return "lm_head.weight";
        }
        return "model." + rename(reference);
    }

    /** The port's name of an entropy-model parameter ({@code tok_embeddings.weight} → {@code model.patcher.embed_tokens.weight}). */
    public static String entropy(String reference) {
        return "model." + rename("patcher." + reference);
    }

    /** The table index of {@code encoder_hash_tok_embedding.{i}.weight}, or −1 for any other name. */
    public static int hashTable(String reference) {
        if (!reference.startsWith(HASH_PREFIX) || !reference.endsWith(".weight")) {
            return -1;
        }
        String mid = reference.substring(HASH_PREFIX.length(), reference.length() - ".weight".length());
        if (mid.isEmpty() || mid.length() > 6 || !mid.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Integer.parseInt(mid);
    }

    private static String rename(String name) {
        String s = "." + name;
        for (Map.Entry<String, String> r : RENAMES) {
            s = s.replace(r.getKey(), r.getValue());
        }
        return s.substring(1);
    }
}

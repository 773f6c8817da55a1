package blt4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bad config field, in every JSON form, is a ConfigException naming the source and the field. */
class ConfigValidationTest {

    /** field, bad JSON value (text) */
    static Stream<Arguments> badBltFields() {
        return Stream.of(
                Arguments.of("vocab_size", "259"),
                Arguments.of("dim_local_encoder", "0"),
                Arguments.of("dim_local_decoder", "48"),
                Arguments.of("dim_global", "-64"),
                Arguments.of("dim_global", "100000"),
                Arguments.of("n_layers_local_encoder", "-1"),
                Arguments.of("n_layers_local_decoder", "-2"),
                Arguments.of("n_layers_global", "-1"),
                Arguments.of("n_heads_local_encoder", "0"),
                Arguments.of("n_heads_local_decoder", "3"),
                Arguments.of("n_heads_global", "0"),
                Arguments.of("n_heads_global", "64"), // head dim 1: odd, RoPE rotates pairs
                Arguments.of("n_kv_heads", "1"),
                Arguments.of("n_kv_heads_global", "2"),
                Arguments.of("cross_attn_k", "0"),
                Arguments.of("cross_attn_k", "100000"),
                Arguments.of("cross_attn_nheads", "0"),
                Arguments.of("cross_attn_nheads", "3"),
                Arguments.of("cross_attn_encoder", "false"),
                Arguments.of("downsampling_by_pooling", "\"avg\""),
                Arguments.of("encoder_hash_byte_group_size", "[3, 1000000000]"),
                Arguments.of("encoder_hash_byte_group_size", "[0]"),
                Arguments.of("encoder_hash_byte_group_size", "null"),
                Arguments.of("encoder_hash_byte_group_size", "\"3,4\""),
                Arguments.of("encoder_hash_byte_group_vocab", "0"),
                Arguments.of("encoder_hash_byte_group_vocab", "3000000000"),
                Arguments.of("encoder_hash_byte_group_nb_functions", "12"),
                Arguments.of("encoder_hash_byte_group_nb_functions", "-1"),
                Arguments.of("local_attention_window_len", "0"),
                Arguments.of("rope_theta", "1"),
                Arguments.of("rope_theta", "1e400"),
                Arguments.of("norm_eps", "0"),
                Arguments.of("norm_eps", "1e39"), // infinite as a float
                Arguments.of("multiple_of", "0"),
                Arguments.of("ffn_dim_multiplier", "0"),
                Arguments.of("ffn_dim_multiplier", "-1.5"),
                Arguments.of("ffn_dim_multiplier", "1e-9"), // an FFN width of 0
                Arguments.of("ffn_dim_multiplier", "1e400"),
                Arguments.of("max_encoder_seq_length", "0"),
                Arguments.of("max_encoder_seq_length", "2000000"),
                Arguments.of("max_seqlen", "0"),
                Arguments.of("max_seqlen", "1048577"),
                Arguments.of("eos_id", "260"),
                Arguments.of("eos_id", "-1"),
                Arguments.of("eos_id", "null"),
                Arguments.of("patching_mode", "\"bpe\""),
                Arguments.of("patching_mode", "3"),
                Arguments.of("patching_threshold", "1e400"),
                Arguments.of("patching_threshold_add", "-1e400"),
                Arguments.of("max_patch_length", "0"),
                // wrong JSON types
                Arguments.of("n_heads_global", "\"4\""),
                Arguments.of("dim_global", "null"),
                Arguments.of("dim_global", "64.5"),
                Arguments.of("dim_global", "{}"),
                Arguments.of("cross_attn_decoder", "\"true\""),
                Arguments.of("monotonicity", "1"),
                Arguments.of("rope_theta", "\"big\""),
                Arguments.of("seed", "1.5"));
    }

    private static JsonObject micro() {
        return JsonParser.parseString(BltConfig.micro().toJson()).getAsJsonObject();
    }

    private static ConfigException assertRefused(String field, String source, Runnable parse) {
        ConfigException e = assertThrows(ConfigException.class, parse::run);
        assertTrue(e.getMessage().contains(field), "message does not name " + field + ": " + e.getMessage());
        assertTrue(e.getMessage().startsWith(source + ": "), "message does not name the source: " + e.getMessage());
        return e;
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("badBltFields")
    void badBltFieldInOurForm(String field, String value) {
        JsonObject o = micro();
        o.add(field, JsonParser.parseString(value));
        assertRefused(field, "runs/x/config.json", () -> BltConfig.fromJson(o.toString(), "runs/x/config.json"));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("badBltFields")
    void badBltFieldInReferenceLayout(String field, String value) {
        JsonObject args = micro();
        args.add(field, JsonParser.parseString(value));
        JsonObject root = new JsonObject();
        root.add("args", args);
        assertRefused(field, "config", () -> BltConfig.fromJson(root.toString()));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("badBltFields")
    void badBltFieldInCheckpoint(String field, String value, @TempDir Path dir) throws Exception {
        JsonObject model = micro();
        model.add(field, JsonParser.parseString(value));
        JsonObject root = new JsonObject();
        root.addProperty("kind", "blt");
        root.add("model", model);
        Path file = dir.resolve("config.json");
        Files.writeString(file, root.toString());
        assertRefused(field, file.toString(), () -> {
            try {
                BltConfig.read(file);
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void headsZeroIsNotADivisionByZero() {
        BltConfig c = BltConfig.micro();
        c.nHeadsGlobal = 0;
        ConfigException e = assertThrows(ConfigException.class, c::validate);
        assertEquals("config: n_heads_global = 0; must be ≥ 1 and divide dim_global (64) into heads of even size (RoPE pairs)",
                e.getMessage());
        assertEquals("n_heads_global", e.field());
    }

    static Stream<Arguments> badPatcherArgs() {
        return Stream.of(
                Arguments.of("threshold", "\"x\""),
                Arguments.of("threshold", "1e999"),
                Arguments.of("threshold_add", "true"),
                Arguments.of("max_patch_length", "0"),
                Arguments.of("max_patch_length", "2.5"),
                Arguments.of("monotonicity", "\"no\""),
                Arguments.of("patching_mode", "\"bpe\""));
    }

    @ParameterizedTest(name = "patcher_args.{0} = {1}")
    @MethodSource("badPatcherArgs")
    void badPatcherArgs(String field, String value) {
        JsonObject root = new JsonObject();
        root.add("args", micro());
        JsonObject p = new JsonObject();
        p.add(field, JsonParser.parseString(value));
        root.add("patcher_args", p);
        ConfigException e = assertThrows(ConfigException.class, () -> BltConfig.fromJson(root.toString()));
        assertTrue(e.getMessage().contains(field.replace("threshold", "")), e.getMessage());
    }

    @Test
    void topKPatchSizeMustBeAtLeastOne() {
        JsonObject o = micro();
        o.add("patching_threshold", null);
        o.addProperty("patch_size", 0.5);
        assertRefused("patch_size", "config", () -> BltConfig.fromJson(o.toString()));
    }

    static Stream<Arguments> badEntropyFields() {
        return Stream.of(
                Arguments.of("dim", "0"),
                Arguments.of("dim", "\"32\""),
                Arguments.of("dim", "null"),
                Arguments.of("dim", "30"), // 2 heads of 15: odd
                Arguments.of("n_layers", "-1"),
                Arguments.of("n_heads", "0"),
                Arguments.of("n_heads", "3"),
                Arguments.of("n_kv_heads", "1"),
                Arguments.of("max_seqlen", "0"),
                Arguments.of("max_seqlen", "2097152"),
                Arguments.of("vocab_size", "256"),
                Arguments.of("multiple_of", "0"),
                Arguments.of("ffn_dim_multiplier", "0"),
                Arguments.of("norm_eps", "-1e-5"),
                Arguments.of("rope_theta", "0.5"),
                Arguments.of("sliding_window", "0"),
                Arguments.of("eos_id", "300"),
                Arguments.of("attn_bias_type", "7"));
    }

    private static JsonObject entropyMicro() {
        EntropyModelConfig c = EntropyModelConfig.tiny();
        c.dim = 32;
        c.nHeads = 2;
        return JsonParser.parseString(c.toJson()).getAsJsonObject();
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("badEntropyFields")
    void badEntropyFieldInEveryForm(String field, String value, @TempDir Path dir) throws Exception {
        JsonObject fields = entropyMicro();
        fields.add(field, JsonParser.parseString(value));
        JsonObject checkpoint = new JsonObject();
        checkpoint.addProperty("kind", "entropy");
        checkpoint.add("model", fields);
        JsonObject reference = new JsonObject();
        reference.add("args", micro());
        reference.add("entropy_model", fields);
        JsonObject entropyArgs = new JsonObject();
        entropyArgs.add("args", fields);
        for (JsonObject form : new JsonObject[] {fields, checkpoint, reference, entropyArgs}) {
            Path file = dir.resolve("config.json");
            Files.writeString(file, form.toString());
            assertRefused(field, file.toString(), () -> {
                try {
                    EntropyModelConfig.read(file);
                } catch (java.io.IOException e) {
                    throw new AssertionError(e);
                }
            });
            assertRefused(field, "config", () -> EntropyModelConfig.fromJson(form.toString()));
        }
    }

    @Test
    void duplicateKeysAreRefused() {
        String json = micro().toString();
        String dupTop = json.replaceFirst("\\{", "{\"dim_global\": 128, ");
        ConfigException e = assertRefused("dim_global", "config", () -> BltConfig.fromJson(dupTop));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
        String nested = "{\"args\": " + dupTop + "}";
        assertRefused("args.dim_global", "config", () -> BltConfig.fromJson(nested));
        assertRefused("dim", "config", () -> EntropyModelConfig.fromJson("{\"dim\": 32, \"n_heads\": 2, \"dim\": 64}"));
    }

    @Test
    void emptyOrMissingSectionsAreRefused(@TempDir Path dir) throws Exception {
        for (String json : new String[] {"{}", "{\"args\": {}}", "{\"unknown\": 1}", "{\"args\": 5}", "{\"args\": null}",
                "{\"entropy_model\": {\"dim\": 32}}", "{\"kind\": \"blt\", \"model\": {}}",
                "{\"kind\": \"entropy\", \"model\": {\"dim\": 32}}", "", "   ", "[1]", "{\"dim_global\": 64", "{} {}",
                "{\"dim_global\": NaN}", "{\"dim_global\": 64,}"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> BltConfig.fromJson(json), json);
            assertNotNull(e.getMessage());
            assertTrue(e.getMessage().startsWith("config: "), e.getMessage());
        }
        for (String json : new String[] {"{}", "{\"entropy_model\": {}}", "{\"args\": {}}", "{\"entropy_model\": 3}",
                "{\"kind\": \"blt\", \"model\": {\"dim\": 32}}"}) {
            assertThrows(ConfigException.class, () -> EntropyModelConfig.fromJson(json), json);
        }
        // a BLT reference config without its entropy_model section used to fall back to the default shape
        JsonObject root = new JsonObject();
        root.add("args", micro());
        JsonObject patcher = new JsonObject();
        patcher.addProperty("threshold", 2.0);
        root.add("patcher_args", patcher);
        Path file = dir.resolve("config.json");
        Files.writeString(file, root.toString());
        ConfigException e = assertThrows(ConfigException.class, () -> EntropyModelConfig.read(file));
        assertTrue(e.getMessage().contains("entropy_model") && e.getMessage().startsWith(file.toString()), e.getMessage());
        assertEquals(2.0, BltConfig.read(file).patchingThreshold);
    }

    @Test
    void goodFormsStillParse() {
        BltConfig micro = BltConfig.micro();
        assertEquals(micro.toJson(), BltConfig.fromJson(micro.toJson()).toJson());
        JsonObject ck = new JsonObject();
        ck.addProperty("kind", "blt");
        ck.add("model", micro());
        assertEquals(micro.toJson(), BltConfig.fromJson(ck.toString()).toJson());
        // reference-optional fields: null patch_size keeps the default, null window means unlimited, extra fields ignored
        JsonObject o = micro();
        o.add("patch_size", null);
        o.add("local_attention_window_len", null);
        o.addProperty("attn_impl", "xformers");
        o.addProperty("dim_global", 64.0);
        BltConfig c = BltConfig.fromJson(o.toString());
        assertEquals(4.5, c.patchSize);
        assertEquals(0, c.window());
        assertEquals(64, c.dimGlobal);
        EntropyModelConfig e = EntropyModelConfig.fromJson(entropyMicro().toString());
        assertEquals(32, e.dim);
    }

    @Test
    void parameterCountsMatchTheBuiltModels() {
        try (var b = blt4j.TestBackends.create("cpu")) {
            EntropyModelConfig e = EntropyModelConfig.tiny();
            assertEquals(e.parameterCount(), new EntropyModel(e, b).parameters().size());
        }
    }

    @Test
    void oversizedModelsAreRefusedBeforeAllocation() {
        // blt-1b: 4.53B parameters, over the one-buffer limit; the message names the count
        ConfigException e = assertThrows(ConfigException.class, BltConfig.blt1b()::validate);
        assertTrue(e.getMessage().contains("4,5") && e.getMessage().contains("parameters") && e.getMessage().contains("2^31-1"),
                e.getMessage());
        // an empty config no longer means "the default blt-1b": it is refused as empty
        ConfigException empty = assertThrows(ConfigException.class, () -> BltConfig.fromJson("{}"));
        assertTrue(empty.getMessage().contains("no BLT fields"), empty.getMessage());
        // training needs weights, gradients, moments and activations: a huge batch cannot fit in any heap here
        BltConfig tiny = BltConfig.tiny();
        ConfigException t = assertThrows(ConfigException.class, () -> tiny.checkMemory("blt-tiny", true, 1 << 16, 1 << 20));
        assertTrue(t.getMessage().startsWith("blt-tiny: the BLT has") && t.getMessage().contains("bytes"), t.getMessage());
        EntropyModelConfig big = EntropyModelConfig.released();
        big.dim = 65536;
        big.nHeads = 512;
        assertThrows(ConfigException.class, big::validate);
        tiny.checkMemory("blt-tiny", false, 0, 0);
    }
}

package blt4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;

/**
 * The Hugging Face config translation beyond the round trip the layout tests make: the older field spellings, the
 * FFN widths matched to a multiple_of, an explicit sliding window, and the combinations blt4j cannot represent.
 */
class HfConfigTest {
    private static JsonObject hf(BltConfig c, EntropyModelConfig e) {
        return HfConfig.toJson(c, e);
    }

    @Test
    void theReleasedShapesRoundTrip() {
        for (BltConfig c : new BltConfig[] {BltConfig.blt1b(), BltConfig.blt7b(), BltConfig.micro(), BltConfig.tiny()}) {
            HfConfig.Models m = HfConfig.fromJson(hf(c, EntropyModelConfig.released()), "test");
            assertEquals(c.parameterCount(), m.blt().parameterCount());
            assertEquals(c.hiddenLocalEncoder(), m.blt().hiddenLocalEncoder());
            assertEquals(c.hiddenGlobal(), m.blt().hiddenGlobal());
            assertEquals(c.crossAttnK, m.blt().crossAttnK);
            assertEquals(c.ropeTheta, m.blt().ropeTheta);
            assertEquals(512, m.blt().window(), "the reference window, which the port omits");
            assertEquals(EntropyModelConfig.released().parameterCount(), m.entropy().parameterCount());
            assertEquals(10000.0, m.entropy().ropeTheta);
        }
    }

    @Test
    void theOlderSpellingsMeanTheSame() {
        JsonObject root = hf(BltConfig.blt1b(), EntropyModelConfig.released());
        for (String section : new String[] {"encoder_config", "decoder_config", "global_config", "patcher_config"}) {
            JsonObject s = root.getAsJsonObject(section);
            double theta = s.getAsJsonObject("rope_parameters").get("rope_theta").getAsDouble();
            s.remove("rope_parameters");
            s.addProperty("rope_theta", theta);
            s.add("norm_eps", s.remove("rms_norm_eps"));
        }
        HfConfig.Models m = HfConfig.fromJson(root, "test");
        assertEquals(500000.0, m.blt().ropeTheta);
        assertEquals(1e-5f, m.blt().normEps);
        assertEquals(10000.0, m.entropy().ropeTheta);
        assertEquals(BltConfig.blt1b().parameterCount(), m.blt().parameterCount());
    }

    @Test
    void aSlidingWindowAndPatchingFieldsAreRead() {
        BltConfig c = BltConfig.micro();
        c.localAttentionWindowLen = 64;
        c.monotonicity = true;
        c.patchingThreshold = 0.25;
        HfConfig.Models m = HfConfig.fromJson(hf(c, EntropyModelConfig.tiny()), "test");
        assertEquals(64, m.blt().window());
        assertTrue(m.blt().monotonicity);
        assertEquals(0.25, m.blt().patchingThreshold);
    }

    @Test
    void whatBlt4jCannotRepresentIsRefusedByField() {
        JsonObject widths = hf(BltConfig.blt1b(), EntropyModelConfig.released());
        widths.getAsJsonObject("global_config").addProperty("intermediate_size", 5000);
        ConfigException e = assertThrows(ConfigException.class, () -> HfConfig.fromJson(widths, "cfg.json"));
        assertTrue(e.getMessage().contains("global_config.intermediate_size"), e.getMessage());

        JsonObject eps = hf(BltConfig.blt1b(), EntropyModelConfig.released());
        eps.getAsJsonObject("decoder_config").addProperty("rms_norm_eps", 1e-6);
        e = assertThrows(ConfigException.class, () -> HfConfig.fromJson(eps, "cfg.json"));
        assertTrue(e.getMessage().contains("epsilon"), e.getMessage());

        JsonObject rope = hf(BltConfig.blt1b(), EntropyModelConfig.released());
        rope.getAsJsonObject("encoder_config").getAsJsonObject("rope_parameters").addProperty("rope_type", "yarn");
        e = assertThrows(ConfigException.class, () -> HfConfig.fromJson(rope, "cfg.json"));
        assertTrue(e.getMessage().contains("rope_type"), e.getMessage());

        JsonObject missing = hf(BltConfig.blt1b(), EntropyModelConfig.released());
        missing.remove("patcher_config");
        e = assertThrows(ConfigException.class, () -> HfConfig.fromJson(missing, "cfg.json"));
        assertTrue(e.getMessage().contains("patcher_config"), e.getMessage());
    }
}

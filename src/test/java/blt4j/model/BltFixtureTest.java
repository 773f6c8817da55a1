package blt4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import blt4j.compute.Backend;
import blt4j.io.SafetensorsFile;
import blt4j.io.SafetensorsWeights;
import blt4j.nn.AdamW;
import blt4j.nn.Parameter;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** blt-micro against the reference code's outputs: activations, logits, loss, every gradient, three AdamW steps. */
class BltFixtureTest {

    private static ByteLatentTransformer load(Backend backend) throws Exception {
        BltConfig cfg = BltConfig.fromJson(Files.readString(Fixtures.dir().resolve("config.json")));
        ByteLatentTransformer model = new ByteLatentTransformer(cfg, backend);
        try (SafetensorsFile w = SafetensorsFile.open(Fixtures.dir().resolve("weights.safetensors"))) {
            model.parameters().load(new SafetensorsWeights(w), false);
        }
        return model;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"short,reference", "long,reference", "packed,reference", "short,cpu", "long,cpu", "packed,cpu",
        "short,opencl", "long,opencl", "packed,opencl"})
    void forwardLossAndGradientsMatch(String caseName, String backendName) throws Exception {
        JsonObject exp = Fixtures.expected(caseName);
        int[] x = Fixtures.ints(exp, "x");
        int[] y = Fixtures.ints(exp, "y");
        int[] lengths = Fixtures.ints(exp, "patch_lengths");
        try (Backend backend = blt4j.TestBackends.create(backendName);
             SafetensorsFile t = SafetensorsFile.open(Fixtures.caseDir(caseName).resolve("tensors.safetensors"));
             SafetensorsFile g = SafetensorsFile.open(Fixtures.caseDir(caseName).resolve("grads.safetensors"))) {
            ByteLatentTransformer model = load(backend);
            model.forward(x, 1, x.length, new int[][] {lengths});
            ByteLatentTransformer.Activations a = model.activations();
            Fixtures.assertClose("embeds", t.readFloats("embeds"), a.embeds().toHost(), 1e-4, 1e-3);
            Fixtures.assertClose("h_encoder", t.readFloats("h_encoder"), a.encoderHidden().toHost(), 1e-4, 1e-3);
            Fixtures.assertClose("global_in", t.readFloats("global_in"), a.globalIn().toHost(), 1e-4, 1e-3);
            Fixtures.assertClose("global_out", t.readFloats("global_out"), a.globalOut().toHost(), 1e-4, 1e-3);
            Fixtures.assertClose("decoder_prenorm", t.readFloats("decoder_prenorm"), a.decoderPreNorm().toHost(), 1e-4, 1e-3);
            Fixtures.assertClose("logits", t.readFloats("logits"), a.logits().toHost(), 1e-4, 1e-3);
            double loss = model.loss(y, null);
            assertEquals(exp.get("loss").getAsDouble(), loss, 1e-4, "loss");

            model.parameters().zeroGrads();
            model.backward();
            for (Parameter p : model.parameters().all()) {
                float[] want = g.readFloats("grad." + p.name());
                float[] got = backend.toHost(p.grad());
                Fixtures.assertClose("grad " + p.name(), want, got, 1e-6 + 1e-3 * Fixtures.maxAbs(want), 0);
            }
        }
    }

    @ParameterizedTest(name = "three AdamW steps on {0}")
    @CsvSource({"reference", "cpu", "opencl"})
    void threeAdamWStepsMatch(String backendName) throws Exception {
        JsonObject exp = Fixtures.expected("short");
        JsonObject adam = exp.getAsJsonObject("adamw");
        int[] x = Fixtures.ints(exp, "x");
        int[] y = Fixtures.ints(exp, "y");
        int[][] lengths = {Fixtures.ints(exp, "patch_lengths")};
        var lossesAfter = adam.getAsJsonArray("loss_after_step");
        try (Backend backend = blt4j.TestBackends.create(backendName);
             SafetensorsFile after = SafetensorsFile.open(Fixtures.caseDir("short").resolve("weights_after_3_adamw.safetensors"))) {
            ByteLatentTransformer model = load(backend);
            AdamW opt = new AdamW(model.parameters(), 0.9f, 0.95f, 1e-8f, 0.1f);
            for (int step = 0; step < 3; step++) {
                model.forward(x, 1, x.length, lengths);
                model.loss(y, null);
                model.parameters().zeroGrads();
                model.backward();
                opt.step(1e-3f);
                model.forward(x, 1, x.length, lengths);
                assertEquals(lossesAfter.get(step).getAsDouble(), model.loss(y, null), 1e-4, "loss after step " + (step + 1));
            }
            int loose = 0;
            long total = 0;
            for (Parameter p : model.parameters().all()) {
                float[] want = after.readFloats(p.name());
                float[] got = backend.toHost(p.value());
                Fixtures.assertClose("weights after 3 steps: " + p.name(), want, got, 1e-4, 0);
                for (int i = 0; i < want.length; i++) {
                    if (Math.abs(want[i] - got[i]) > 1e-5) {
                        loose++;
                    }
                }
                total += want.length;
            }
            // the MANIFEST: all but about 1e-4 of the elements within 1e-5 (Adam amplifies fp32-noise gradients)
            assertEquals(0, Math.max(0, loose - (int) Math.ceil(2e-4 * total)), loose + " of " + total + " elements beyond 1e-5");
        }
    }
}

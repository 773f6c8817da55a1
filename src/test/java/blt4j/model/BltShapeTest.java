package blt4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.compute.Backend;
import blt4j.compute.ReferenceBackend;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** Preset shapes, parameter counts, and the analytic FLOP model against the backend's FLOP counter. */
class BltShapeTest {

    @Test
    void parameterCountsMatchTheReference() throws Exception {
        // the fixture's derived count, computed by the reference code
        JsonObject cfg = com.google.gson.JsonParser.parseString(Files.readString(Fixtures.dir().resolve("config.json"))).getAsJsonObject();
        long fixture = cfg.getAsJsonObject("derived").get("num_parameters_blt").getAsLong();
        assertEquals(fixture, BltConfig.micro().parameterCount());
        try (Backend b = new ReferenceBackend()) {
            assertEquals(fixture, new ByteLatentTransformer(BltConfig.micro(), b).parameters().size());
        }
        // blt-tiny: 42.98M, of which 38.42M hash tables (ARCHITECTURE.md)
        BltConfig tiny = BltConfig.tiny();
        assertEquals(42.98e6, tiny.parameterCount(), 0.005e6);
        assertEquals(38.42e6, (double) tiny.hashTables() * tiny.encoderHashByteGroupVocab * tiny.dimLocalEncoder, 0.005e6);
        assertEquals(512, tiny.hiddenLocalEncoder());
        assertEquals(768, tiny.hiddenGlobal());
        // released blt-1b: 4.53B with hash tables, 3.07B of them hash (BLT-REFERENCE §13.2)
        BltConfig b1 = BltConfig.blt1b();
        long hash = (long) b1.hashTables() * b1.encoderHashByteGroupVocab * b1.dimLocalEncoder;
        assertEquals(3.07e9, hash, 0.005e9);
        assertEquals(4.53e9, b1.parameterCount(), 0.005e9);
        assertEquals(2816, b1.hiddenLocalEncoder());
        assertEquals(5632, b1.hiddenGlobal());
        // released blt-7b: 6.71B non-hash + 3.84B hash = 10.55B, FFN 3584 / 11008, a 5120 -> 4096 global input projection
        BltConfig b7 = BltConfig.blt7b();
        b7.validateFields("blt-7b");
        assertEquals(3.84e9, b7.hashParameterCount(), 0.005e9);
        assertEquals(10.55e9, b7.parameterCount(), 0.01e9);
        assertEquals(6.71e9, b7.parameterCount() - b7.hashParameterCount(), 0.01e9);
        assertEquals(3584, b7.hiddenLocalEncoder());
        assertEquals(11008, b7.hiddenGlobal());
        assertTrue(b7.globalInputProjection());
        long declared = 0;
        for (blt4j.nn.Parameter p : ByteLatentTransformer.declaredParameters(b7)) {
            declared += p.size();
        }
        assertEquals(b7.parameterCount(), declared, "the declared parameters add up to the analytic count");
    }

    @Test
    void analyticFlopsAgreeWithTheCounter() throws Exception {
        JsonObject exp = Fixtures.expected("long");
        int[] x = Fixtures.ints(exp, "x");
        int[] lengths = Fixtures.ints(exp, "patch_lengths");
        try (Backend b = new ReferenceBackend()) {
            ByteLatentTransformer m = new ByteLatentTransformer(BltConfig.micro(), b).initialize(1);
            b.resetFlops();
            m.forward(x, 1, x.length, new int[][] {lengths});
            double counted = b.flops();
            double analytic = FlopModel.bltForward(BltConfig.micro(), x.length, lengths.length);
            assertTrue(Math.abs(counted / analytic - 1) < 0.05, "counted " + counted + " vs analytic " + analytic);
        }
        EntropyModelConfig ec = EntropyModelConfig.tiny();
        try (Backend b = new ReferenceBackend()) {
            EntropyModel lm = new EntropyModel(ec, b).initialize(1);
            int n = 700;
            b.resetFlops();
            lm.forward(new int[n], 1, n);
            assertTrue(Math.abs(b.flops() / FlopModel.lmForward(ec, n) - 1) < 0.05);
        }
    }
}

package blt4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import blt4j.compute.ReferenceBackend;
import blt4j.model.EntropyModel;
import blt4j.model.EntropyModelConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint's config comes back as it was saved, null fields included. */
class CheckpointConfigTest {

    @Test
    void nullFieldsSurviveACheckpoint(@TempDir Path dir) throws Exception {
        EntropyModelConfig c = TrainerTest.small();
        c.slidingWindow = null;        // full causal attention, as the byte-transformer baseline trains
        c.eosId = null;                // no document splits
        c.attnBiasType = "causal";
        try (ReferenceBackend b = new ReferenceBackend()) {
            EntropyModel m = new EntropyModel(c, b, "byte-transformer").initialize(1);
            Trainer t = new Trainer(m, TrainerTest.options(dir, 1, 1), TrainerTest.corpus(), null,
                    new PrintStream(new ByteArrayOutputStream()));
            t.run();
            EntropyModelConfig back = ModelFolder.open(dir).entropyConfig();
            assertNull(back.slidingWindow, "a null window came back as " + back.slidingWindow);
            assertEquals(0, back.window());
            assertNull(back.eosId);
            assertEquals(0, ModelFiles.loadEntropyModel(dir, b).config().window());
        }
    }
}

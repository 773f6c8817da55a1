package blt4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads files written by the Python reference implementation. */
class SafetensorsFixtureTest {
    @TempDir
    Path dir;

    @Test
    void readsReferenceWeights() throws Exception {
        Path f = SharedData.bltMicro().resolve("weights.safetensors");
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            assertEquals("pt", st.metadata().get("format"));
            TensorInfo emb = st.info("local_encoder.tok_embeddings.weight");
            assertEquals(StDtype.F32, emb.dtype());
            assertArrayEquals(new long[] {260, 32}, emb.shape());
            float[] v = st.readFloats(emb.name());
            assertEquals(260 * 32, v.length);
            boolean nonZero = false;
            for (float x : v) {
                assertTrue(Float.isFinite(x));
                nonZero |= x != 0;
            }
            assertTrue(nonZero);
            assertArrayEquals(new long[] {32, 32}, st.info("local_encoder.layers.0.attention.wq.weight").shape());

            long prevBegin = -1;
            for (TensorInfo t : st.tensors().values()) {
                assertTrue(t.begin() >= prevBegin, "ordered by offset");
                prevBegin = t.begin();
                float[] all = st.readFloats(t.name());
                assertEquals(t.numel(), all.length);
            }

            // Re-save through the writer and read back: identical tensors and metadata.
            SafetensorsWriter w = new SafetensorsWriter();
            st.metadata().forEach(w::putMetadata);
            for (TensorInfo t : st.tensors().values()) {
                w.addFloats(t.name(), st.readFloats(t.name()), t.intShape());
            }
            Path copy = dir.resolve("copy.safetensors");
            w.write(copy);
            try (SafetensorsFile back = SafetensorsFile.open(copy, 4096)) {
                assertEquals(st.metadata(), back.metadata());
                assertEquals(st.tensors().keySet(), back.tensors().keySet());
                for (TensorInfo t : st.tensors().values()) {
                    assertArrayEquals(st.readFloats(t.name()), back.readFloats(t.name()), t.name());
                }
            }
        }
    }

    @Test
    void readsReferenceActivations() throws Exception {
        Path f = SharedData.bltMicro().resolve("cases/short/tensors.safetensors");
        try (SafetensorsFile st = SafetensorsFile.open(f)) {
            TensorInfo logits = st.info("logits");
            assertEquals(2, logits.rank());
            assertEquals(260, logits.dim(1));
            assertEquals(logits.numel(), st.readFloats("logits").length);
        }
    }
}

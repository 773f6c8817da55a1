package blt4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import blt4j.SharedData;
import blt4j.TestBackends;
import blt4j.compute.Backend;
import blt4j.io.StDtype;
import blt4j.model.ByteLatentTransformer;
import blt4j.train.ModelExport;
import blt4j.train.ModelFiles;
import blt4j.train.ModelFolder;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bf16 matrix weights read in place from the mapped file, copied into one buffer, or split over many buffers (as
 * blt-7b's 6.7B must be when copied: one Java array holds at most 2^31−1) give the same logits, bit for bit.
 */
class SegmentedWeightsTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"reference", "cpu", "opencl"})
    void segmentsChangeNothing(String backendName) throws Exception {
        Path dir = tmp.resolve("bf16");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), dir,
                new ModelExport.Options(ModelExport.Target.REFERENCE, StDtype.BF16, 0));
        int[] x = {1, 76, 108, 105, 112, 36, 120, 115, 118, 112, 104, 40, 40, 36, 72};
        int[][] lengths = {{1, 3, 4, 4, 4}};
        long saved = ParameterStore.segmentElements;
        try (Backend backend = TestBackends.create(backendName)) {
            ByteLatentTransformer mapped = ModelFiles.loadBlt(dir, backend);
            assertEquals(0, mapped.parameters().lowPrecisionSegments(), "mapped weights need no buffer");
            mapped.forward(x, 1, x.length, lengths);
            float[] want = mapped.activations().logits().toHost();
            ParameterStore.mapWeights = false; // copied into bf16 buffers instead
            ByteLatentTransformer one = ModelFiles.loadBlt(dir, backend);
            assertEquals(1, one.parameters().lowPrecisionSegments());
            one.forward(x, 1, x.length, lengths);
            assertArrayEquals(want, one.activations().logits().toHost(), "copied = mapped");
            ParameterStore.segmentElements = 5000; // blt-micro's matrices: about 30 segments
            ByteLatentTransformer many = ModelFiles.loadBlt(dir, backend);
            assertTrue(many.parameters().lowPrecisionSegments() > 10, "segments: " + many.parameters().lowPrecisionSegments());
            many.forward(x, 1, x.length, lengths);
            assertArrayEquals(want, many.activations().logits().toHost(), "segmented = mapped");
        } finally {
            ParameterStore.segmentElements = saved;
            ParameterStore.mapWeights = true;
        }
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"reference", "cpu"})
    void aMappedWeightIsReadOnlyAndACorruptOneIsRefused(String backendName) throws Exception {
        Path dir = tmp.resolve("bf16");
        ModelExport.convert(ModelFolder.open(SharedData.bltMicro()), dir,
                new ModelExport.Options(ModelExport.Target.REFERENCE, StDtype.BF16, 0));
        try (Backend backend = TestBackends.create(backendName)) {
            ByteLatentTransformer m = ModelFiles.loadBlt(dir, backend);
            Parameter w = m.parameters().get("global_transformer.layers.0.attention.wq.weight");
            assertThrows(IllegalStateException.class, () -> backend.uploadBf16(new short[w.size()], 0, w.value()));
        }
        // flip one byte inside that tensor's data: its recorded checksum no longer matches
        Path file = dir.resolve("model.safetensors");
        long at;
        try (blt4j.io.SafetensorsFile f = blt4j.io.SafetensorsFile.open(file)) {
            at = f.dataStart() + f.info("global_transformer.layers.0.attention.wq.weight").begin() + 101;
        }
        byte[] bytes = java.nio.file.Files.readAllBytes(file);
        bytes[(int) at] ^= 0x10;
        java.nio.file.Files.write(file, bytes);
        try (Backend backend = TestBackends.create(backendName)) {
            java.io.IOException e = assertThrows(java.io.IOException.class, () -> ModelFiles.loadBlt(dir, backend));
            assertTrue(e.getMessage().contains("checksum") && e.getMessage().contains("attention.wq"), e.getMessage());
        }
    }
}
